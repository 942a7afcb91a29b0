"""The same flows against a real Redis broker and store (skipped locally without one, required in CI)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from pipeline.models import Document
from workers import keys
from workers.client import Client
from workers.flow import build_chain

pytestmark = pytest.mark.redis


def test_chain_through_redis_stores_and_publishes(redis_client_api, redis_store):
    ids = redis_client_api.submit_many([{"id": f"r-{i}", "body": f"Redis article {i}."} for i in range(10)])
    docs = [redis_client_api.wait(i, 30) for i in ids]
    assert [d.text for d in docs] == [f"Redis article {i}." for i in range(10)]
    for stage in ["clean", "language", "entities", "topics", "done"]:
        assert redis_store.xlen(keys.events_stream(stage)) == 10, stage
    assert redis_store.ttl(keys.doc_key("r-0")) > 0


def test_bad_article_is_dead_lettered_on_redis(redis_client_api, redis_store):
    letter = redis_client_api.result(
        redis_client_api.submit({"id": "bad", "body": "<script>1</script>", "content_type": "text/html"}), 30)
    assert letter.stage == "clean" and letter.code == "E211"
    assert redis_store.xlen(keys.DEAD_STREAM) == 1


def _spawn_worker(redis_url, *args):
    env = {**os.environ, "NEWSFLOW_BROKER_URL": redis_url}
    return subprocess.Popen([sys.executable, "-m", "workers.cli", "worker", "--loglevel", "WARNING", *args],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def _wait_ready(app, name_prefix, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=0.5) or []
        if any(next(iter(r)).startswith(name_prefix) for r in replies):
            return
    raise AssertionError(f"worker {name_prefix} did not answer ping within {timeout_s}s")


def _stop(proc):
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def _queue_len(store, stage):
    return store.llen(keys.queue(stage))


def test_entities_worker_consumes_only_its_queue(redis_app, redis_store, redis_url):
    proc = _spawn_worker(redis_url, "--stages", "entities", "--pool", "solo", "-n", "newsflow-entities-test@%h")
    try:
        _wait_ready(redis_app, "newsflow-entities-test")
        for i in range(5):
            doc = Document(id=f"q-{i}", text=f"Text {i}.").model_dump(mode="json")
            build_chain(redis_app, doc, ["clean"]).apply_async()
            build_chain(redis_app, doc, ["entities"]).apply_async()
        # Wait explicitly until every entities message is processed and handed on (the
        # queue empties when messages are reserved, which with prefetch is before they
        # have run), then look at the others.
        deadline = time.monotonic() + 60
        while (_queue_len(redis_store, "entities") or _queue_len(redis_store, "store") < 5) \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _queue_len(redis_store, "entities") == 0
        assert _queue_len(redis_store, "clean") == 5
        assert _queue_len(redis_store, "store") == 5  # handed on, but not consumed by this worker
        assert redis_store.xlen(keys.events_stream("entities")) == 5
        assert redis_store.xlen(keys.events_stream("clean")) == 0
    finally:
        _stop(proc)


def test_cli_submit_200_with_a_worker_process(redis_app, redis_store, redis_url, tmp_path):
    batch = tmp_path / "batch.jsonl"
    batch.write_text("".join(json.dumps({"id": f"b-{i}", "body": f"Batch article number {i}."}) + "\n"
                             for i in range(200)), encoding="utf-8")
    env = {**os.environ, "NEWSFLOW_BROKER_URL": redis_url}
    watcher = subprocess.Popen([sys.executable, "-m", "workers.cli", "watch", "--stage", "done", "--json",
                                "--count", "200", "--idle-exit-s", "60"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc = _spawn_worker(redis_url, "--concurrency", "2", "-n", "newsflow-all-test@%h")
    try:
        time.sleep(1.0)  # let the watcher subscribe before events flow
        out = subprocess.run([sys.executable, "-m", "workers.cli", "submit", str(batch)],
                             env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == [f"b-{i}" for i in range(200)]
        watched, _ = watcher.communicate(timeout=120)
        assert sorted(json.loads(l)["id"] for l in watched.splitlines()) == sorted(f"b-{i}" for i in range(200))
    finally:
        _stop(proc)
        if watcher.poll() is None:
            watcher.kill()
    client = Client(redis_app.newsflow_settings, redis_app)
    assert all(client.get(f"b-{i}") is not None for i in range(200))
    for stage in ["clean", "language", "entities", "topics", "done"]:
        assert redis_store.xlen(keys.events_stream(stage)) == 200, stage
    got = subprocess.run([sys.executable, "-m", "workers.cli", "get", "b-7"], env=env, capture_output=True, text=True)
    assert json.loads(got.stdout)["text"] == "Batch article number 7."


def test_foreign_producer_raw_protocol_message(redis_client_api, redis_store):
    """A producer without Celery: LPUSH a protocol-2 JSON envelope, as documented in README."""
    import base64
    import uuid

    task_id = str(uuid.uuid4())
    body = json.dumps([[{"id": "go-7", "body": "Sent by a Go service."}], {}, {"callbacks": None, "errbacks": None,
                                                                                "chain": None, "chord": None}])
    envelope = {
        "body": base64.b64encode(body.encode()).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {"lang": "py", "task": "newsflow.ingest", "id": task_id, "root_id": task_id,
                    "parent_id": None, "group": None, "retries": 0, "eta": None, "expires": None},
        "properties": {"correlation_id": task_id, "delivery_mode": 2, "priority": 0, "body_encoding": "base64",
                       "delivery_tag": str(uuid.uuid4()),
                       "delivery_info": {"exchange": "newsflow", "routing_key": "newsflow.clean"}},
    }
    redis_store.lpush("newsflow.clean", json.dumps(envelope))
    assert redis_client_api.wait("go-7", 30).text == "Sent by a Go service."
