"""`newsflow status`: queue depths, in-flight, throughput, timings, workers, dead letters, store."""

from __future__ import annotations

import json
import time

import pytest
import redis as redis_lib
from click.testing import CliRunner

from pipeline.models import ArticleIn, DeadLetter
from workers import deadletters, events, keys, status
from workers.app import create_app
from workers.cli import main
from workers.settings import Settings


def _event(store, settings, stage, ms, article="a1"):
    events.publish(store, stage, events.event_fields(stage, "{}", article, "1", ms), settings.events_maxlen)


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert status.percentile(values, 50) == 50.0
    assert status.percentile(values, 95) == 95.0
    assert status.percentile([7.0], 95) == 7.0
    assert status.percentile([], 50) is None


def test_throughput_buckets_by_entry_time_oldest_first():
    now = 1_000_000.0
    ids = [f"{int((now - 5) * 1000)}-0", f"{int((now - 5) * 1000)}-1", f"{int((now - 25) * 1000)}-0",
           f"{int((now - 10_000) * 1000)}-0"]  # the last is outside the window
    counts = status.throughput(ids, now, bucket_s=10, buckets=3)
    assert counts == [1, 0, 2]  # buckets: [-30s,-20s), [-20s,-10s), [-10s,now]


def test_stage_figures_come_from_the_event_streams(settings, store, app):
    for ms in (10.0, 20.0, 30.0, 40.0):
        _event(store, settings, "clean", ms)
    _event(store, settings, "language", 5.0)
    store.xadd(keys.DONE_STREAM, {"id": "a1", "ms": "", "doc": "{}"})
    report = status.collect(app, ask_workers=False)
    by_stage = {s.stage: s for s in report.stages}
    assert [s.stage for s in report.stages] == list(keys.QUEUE_STAGES)
    assert by_stage["clean"].events_last_minute == 4
    assert by_stage["clean"].p50_ms == 20.0 and by_stage["clean"].p95_ms == 40.0
    assert by_stage["clean"].timing_samples == 4
    assert sum(by_stage["clean"].throughput) == 4
    assert by_stage["language"].p95_ms == 5.0
    assert by_stage["entities"].p50_ms is None and by_stage["entities"].events_last_minute == 0
    assert report.done_last_minute == 1
    assert by_stage["store"].events_last_minute == 1  # the store step announces on the done stream
    assert report.ok


def test_old_events_are_not_counted_in_the_last_minute(settings, store, app):
    old_ms = int((time.time() - 120) * 1000)
    store.xadd(keys.events_stream("clean"), {"id": "old", "ms": "3.0", "doc": "{}"}, id=f"{old_ms}-0")
    _event(store, settings, "clean", 4.0)
    clean = status.collect(app, ask_workers=False).stages[0]
    assert clean.events_last_minute == 1
    assert clean.timing_samples == 2  # timings use the last N events, whatever their age


def test_dead_letters_and_store_size(settings, store, app):
    letter = DeadLetter(article_id="x", stage="entities", error_type="StageError", code="E200",
                        message="boom", failed_at="2026-01-01T00:00:00Z", payload="{}")
    deadletters.add(store, settings, letter)
    deadletters.add(store, settings, letter)
    store.set(keys.doc_key("a"), "{}")
    store.set(keys.doc_key("b"), "{}")
    report = status.collect(app, ask_workers=False)
    assert report.dead_letters == {"entities": 2}
    assert {s.stage: s.dead_letters for s in report.stages}["entities"] == 2
    assert report.store_size == 2


def test_embedded_run_shows_worker_and_its_stages(client, app):
    article_id = client.submit(ArticleIn(body="A short article about the port of Basra."), stages=["clean"])
    client.wait(article_id)
    report = status.collect(app, inspect_timeout_s=2.0)
    assert report.mode == "embedded"
    assert report.workers and set(keys.QUEUE_STAGES) <= set(report.workers[0].stages)
    assert all(s.queue_depth == 0 for s in report.stages)  # memory transport, drained
    assert report.store_size == 1
    assert "workers: 1 alive" in status.format_text(report)


def test_bottleneck_is_the_deepest_queue():
    stages = [status.StageStatus(s, keys.queue(s), d, 0, 0, None, None, 0) for s, d in
              [("clean", 0), ("entities", 40), ("topics", 3)]]
    report = status.PipelineStatus("distributed", "redis://x", "redis://x", 0.0, stages, [], {}, 0, 0)
    assert report.bottleneck() == "entities"
    assert report.to_dict()["bottleneck"] == "entities"


def test_broker_down_is_a_clear_message_not_a_traceback(clean_env):
    clean_env.setenv("NEWSFLOW_BROKER_URL", "redis://:secret@127.0.0.1:1/0")
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 1
    assert "unreachable" in result.output and "NEWSFLOW_BROKER_URL" in result.output
    assert "secret" not in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_status_json_is_machine_readable(clean_env):
    result = CliRunner().invoke(main, ["status", "--json", "--timeout-s", "0.2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["mode"] == "embedded"
    assert [s["stage"] for s in data["stages"]] == list(keys.QUEUE_STAGES)
    assert {"queue_depth", "in_flight", "events_last_minute", "p50_ms", "p95_ms", "throughput"} <= set(data["stages"][0])


@pytest.mark.redis
def test_redis_broker_depth_in_flight_and_lua_figures(redis_settings, redis_store):
    """Against a real Redis: LLEN over kombu's priority queues, the ``unacked`` hash, Lua figures."""
    app = create_app(redis_settings)
    broker = redis_lib.Redis.from_url(redis_settings.broker_url, decode_responses=True)
    broker.rpush(keys.queue("entities"), "m1", "m2")
    broker.rpush(keys.queue("entities") + keys.KOMBU_PRIORITY_SEP + "3", "m3")
    broker.hset(keys.KOMBU_UNACKED_KEY, "tag-1", json.dumps([{"body": "..."}, "newsflow", keys.queue("topics")]))
    for ms in (1.0, 2.0, 3.0):
        _event(redis_store, redis_settings, "clean", ms)
    letter = DeadLetter(article_id="x", stage="topics", error_type="StageError", code="E200",
                        message="boom", failed_at="2026-01-01T00:00:00Z", payload="{}")
    for _ in range(1203):  # more than one Lua chunk
        deadletters.add(redis_store, redis_settings, letter)
    deadletters.add(redis_store, redis_settings, letter.model_copy(update={"stage": "clean"}))
    report = status.collect(app, inspect_timeout_s=0.5)
    by_stage = {s.stage: s for s in report.stages}
    assert report.ok, report.problems
    assert report.dead_letters == deadletters.count_by_stage(redis_store) == {"topics": 1203, "clean": 1}
    assert by_stage["entities"].queue_depth == 3
    assert by_stage["topics"].in_flight == 1 and by_stage["entities"].in_flight == 0
    assert by_stage["clean"].events_last_minute == 3 and by_stage["clean"].p95_ms == 3.0
    assert report.bottleneck() == "entities"
    assert report.workers == []  # nobody consumes in this test
