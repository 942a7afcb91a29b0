"""The in-flight ledger: tracked from submit, settled when stored or dead-lettered, and a
message the broker lost is found and published again."""

from __future__ import annotations

import json
import time

import pytest

from pipeline.errors import StageError
from pipeline.registry import pipeline_through
from workers import keys, ledger
from workers.client import Client, SubmitError

ARTICLE = {"body": "Iraq and the United States discussed the coalition in Baghdad on Tuesday. " * 4}


def _expire(store, article_id):
    """Pretend the article's lease ran out."""
    store.zadd(keys.INFLIGHT, {article_id: time.time() - 1})


def test_stored_article_leaves_the_ledger(client, store):
    article_id = client.submit({**ARTICLE, "id": "led-1"})
    client.wait(article_id, 30)
    assert ledger.counts(store) == {"in_flight": 0, "overdue": 0, "republished": 0}
    assert store.hlen(keys.INFLIGHT_ENTRIES) == 0


def test_dead_lettered_article_leaves_the_ledger(client, store, monkeypatch):
    from pipeline import registry

    stage = registry.get_stage("language")

    def broken(doc):
        raise StageError("cannot handle this article", hint="test", code="E299")

    monkeypatch.setitem(registry._REGISTRY, "language", registry.Stage("language", stage.version, broken))
    article_id = client.submit({**ARTICLE, "id": "led-dead"})
    assert type(client.result(article_id, 30)).__name__ == "DeadLetter"
    assert ledger.counts(store)["in_flight"] == 0


def test_submit_tracks_before_publishing_and_untracks_what_was_not_sent(app, store, monkeypatch):
    """Without a worker, a submitted article stays tracked with what it needs to be re-sent;
    a broker failure part-way leaves only the sent ones tracked."""
    client = Client(app.newsflow_settings, app)
    client.submit({**ARTICLE, "id": "led-q"}, stages=["clean", "language"])
    item = json.loads(store.hget(keys.INFLIGHT_ENTRIES, "led-q"))
    assert item["doc"]["id"] == "led-q" and item["stages"] == ["clean", "language"]
    assert store.zscore(keys.INFLIGHT, "led-q") > time.time()

    import workers.ledger as ledger_module
    from kombu.exceptions import OperationalError

    real, calls = ledger_module.publish_chain, []

    def flaky(*args, **kwargs):
        if len(calls) == 2:
            raise OperationalError("Connection refused")
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(ledger_module, "publish_chain", flaky)
    with pytest.raises(SubmitError) as err:
        client.submit_many([{**ARTICLE, "id": f"led-b{i}"} for i in range(5)])
    assert err.value.sent_ids == ["led-b0", "led-b1"]
    tracked = set(store.hkeys(keys.INFLIGHT_ENTRIES))
    assert tracked == {"led-q", "led-b0", "led-b1"}
    assert store.zcard(keys.INFLIGHT) == 3
    # The memory transport's queues outlive the app: leave nothing for the next test's worker.
    with app.connection_for_write() as conn:
        for stage in keys.QUEUE_STAGES:
            conn.default_channel.queue_purge(keys.queue(stage))


# -- on a real Redis broker ------------------------------------------------------------


@pytest.mark.redis
def test_reconcile_republishes_a_lost_message_and_leaves_queued_ones(redis_app, redis_store):
    """The message of one article vanishes from the broker (as when a worker dies between
    BRPOP and recording it unacknowledged): it is published again; a queued one is not."""
    client = Client(redis_app.newsflow_settings, redis_app)
    client.submit_many([{**ARTICLE, "id": "lost-1"}, {**ARTICLE, "id": "queued-1"}])
    queue = keys.queue("clean")
    assert redis_store.llen(queue) == 2
    # Lose the oldest message (kombu pops from the right), the way BRPOP would.
    raw = redis_store.rpop(queue)
    assert '"newsflow_id": "lost-1"' in raw
    for article_id in ("lost-1", "queued-1"):
        _expire(redis_store, article_id)

    outcome = ledger.reconcile(redis_app, redis_store, redis_store)

    assert outcome == {"overdue": 2, "waiting": 1, "republished": 1}
    assert ledger.counts(redis_store)["republished"] == 1
    assert redis_store.llen(queue) == 2  # lost-1 is back, queued-1 was not duplicated
    assert sorted(ledger.ids_in_broker(redis_store)) == ["lost-1", "queued-1"]
    # Both got a fresh lease, so the next pass does nothing.
    assert ledger.reconcile(redis_app, redis_store, redis_store) == {"overdue": 0, "waiting": 0, "republished": 0}


@pytest.mark.redis
def test_unacknowledged_messages_count_as_present(redis_app, redis_store):
    """A message a worker holds (kombu's ``unacked`` hash) is not lost."""
    Client(redis_app.newsflow_settings, redis_app).submit({**ARTICLE, "id": "held-1"})
    raw = redis_store.rpop(keys.queue("clean"))
    redis_store.hset("unacked", "tag-1", json.dumps([json.loads(raw), "newsflow", keys.queue("clean")]))
    _expire(redis_store, "held-1")
    assert ledger.reconcile(redis_app, redis_store, redis_store)["republished"] == 0


@pytest.mark.redis
def test_republished_article_is_processed_once(redis_app, redis_store, redis_worker):
    """Lost after its first stages ran: the re-sent chain reuses their checkpoints and the
    article is stored exactly once."""
    client = Client(redis_app.newsflow_settings, redis_app)
    article_id = client.submit({**ARTICLE, "id": "again-1"})
    client.wait(article_id, 30)
    # As if the store message had been lost: the ledger still holds the article.
    doc = client.prepare({**ARTICLE, "id": "again-1"}).model_dump(mode="json")
    ledger.track(redis_store, redis_app.newsflow_settings, [(doc, pipeline_through(None))])
    _expire(redis_store, article_id)
    assert ledger.reconcile(redis_app, redis_store, redis_store)["republished"] == 1
    deadline = time.monotonic() + 30
    while redis_store.zcard(keys.INFLIGHT) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert redis_store.zcard(keys.INFLIGHT) == 0
    done = [f["id"] for _e, f in redis_store.xrange(keys.DONE_STREAM)]
    assert done.count(article_id) == 1  # same output: stored once, announced once
