"""The in-flight ledger: every submitted article, from submit until it is stored or dead-lettered.

Why it exists: kombu's Redis transport takes a message off its queue (BRPOP) and records
it as unacknowledged in a second command. A worker killed between the two, or a Redis
restart that drops the BRPOP reply, loses the message: the chaos suite measured 1 lost
article in 300. Celery cannot close that window, so newsflow keeps its own account.

* :func:`track` writes an entry (the Document and its stages) before the message is sent;
* every stage commit renews the entry's lease (in the same transaction as the checkpoint);
* :func:`settle` removes it when the Document is stored or dead-lettered;
* :class:`Reconciler` (a thread in each ``newsflow worker``) looks at entries whose lease
  ran out. Those whose message is still in the broker (queued or unacknowledged; every
  task message names its article in the ``newsflow_id`` header) wait in a backlog and get
  a new lease; the others are lost and are published again. Their stages' checkpoints make
  the replay cheap and keep the output identical.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from typing import Iterable

import redis
from celery import Celery

from workers import keys
from workers.flow import publish_chain
from workers.settings import Settings, mask_secrets

log = logging.getLogger("newsflow.ledger")

# Collects the article ids named in every message that is queued or unacknowledged.
# Server-side so that message bodies never cross the network; it runs only when leases
# have run out, which is rare (a crash, or a backlog older than the lease).
_SCAN_BROKER = """
local found = {}
local pattern = '"' .. ARGV[1] .. '":%s*"([^"]*)"'
local function take(item)
  local id = string.match(item, pattern)
  if id then found[#found + 1] = id end
end
for i = 1, #KEYS - 1 do
  local n = redis.call('LLEN', KEYS[i])
  local start = 0
  while start < n do
    for _, item in ipairs(redis.call('LRANGE', KEYS[i], start, start + 499)) do take(item) end
    start = start + 500
  end
end
for _, item in ipairs(redis.call('HVALS', KEYS[#KEYS])) do take(item) end
return found
"""


def entry(doc: dict, stages: list[str]) -> str:
    """The ledger entry that lets the reconciler publish ``doc`` again through ``stages``."""
    return json.dumps({"doc": doc, "stages": stages}, ensure_ascii=False)


def track(client: redis.Redis, settings: Settings, items: Iterable[tuple[dict, list[str]]]) -> None:
    """Record (Document dict, stages) pairs as in flight, in one round trip."""
    deadline = time.time() + settings.inflight_lease_s
    pipe = client.pipeline(transaction=False)
    count = 0
    for doc, stages in items:
        pipe.hset(keys.INFLIGHT_ENTRIES, doc["id"], entry(doc, stages))
        pipe.zadd(keys.INFLIGHT, {doc["id"]: deadline})
        count += 1
    if count:
        pipe.execute()


def publish_tracked(app: Celery, store: redis.Redis, items: list[tuple[dict, list[str]]], *,
                    sent: list[str] | None = None, **options) -> None:
    """Track (Document dict, stages) pairs, then publish each one's chain.

    Every way an article enters the pipeline goes through here, so none is sent untracked.
    Ids that went out are appended to ``sent``; if publishing fails part-way, the rest
    leave the ledger again before the error propagates.
    """
    sent = [] if sent is None else sent
    track(store, app.newsflow_settings, items)
    try:
        for doc, stages in items:
            publish_chain(app, doc, stages, **options)
            sent.append(doc["id"])
    except Exception:
        pipe = store.pipeline(transaction=False)
        settle(pipe, [doc["id"] for doc, _stages in items[len(sent):]])
        pipe.execute()
        raise


def renew(pipe, settings: Settings, article_id: str) -> None:
    """Give a tracked article a fresh lease (queued on ``pipe``; untracked ids stay untracked)."""
    pipe.zadd(keys.INFLIGHT, {article_id: time.time() + settings.inflight_lease_s}, xx=True)


def settle(pipe, article_ids: Iterable[str]) -> None:
    """The articles are stored or dead-lettered: drop them from the ledger (queued on ``pipe``)."""
    ids = list(article_ids)
    if ids:
        pipe.zrem(keys.INFLIGHT, *ids)
        pipe.hdel(keys.INFLIGHT_ENTRIES, *ids)


def counts(client: redis.Redis, now: float | None = None) -> dict:
    """``in_flight``, ``overdue`` (lease run out) and ``republished`` (ever re-sent) counts."""
    now = time.time() if now is None else now
    pipe = client.pipeline(transaction=False)
    pipe.zcard(keys.INFLIGHT)
    pipe.zcount(keys.INFLIGHT, "-inf", now)
    pipe.get(keys.REPUBLISHED_TOTAL)
    in_flight, overdue, republished = pipe.execute()
    return {"in_flight": in_flight, "overdue": overdue, "republished": int(republished or 0)}


def broker_queue_keys() -> list[str]:
    """Every Redis list kombu may keep a newsflow queue's messages in."""
    return [k for s in (*keys.QUEUE_STAGES, "ingest") for k in keys.broker_lists(keys.queue(s))]


def ids_in_broker(broker: redis.Redis) -> set[str]:
    """Article ids of all messages queued or unacknowledged in a Redis broker."""
    lists = broker_queue_keys()
    found = broker.eval(_SCAN_BROKER, len(lists) + 1, *lists, keys.KOMBU_UNACKED_KEY, keys.ARTICLE_HEADER)
    return {x.decode() if isinstance(x, bytes) else x for x in found}


def reconcile(app: Celery, store: redis.Redis, broker: redis.Redis | None, *, batch: int = 1000) -> dict:
    """One pass: re-publish overdue articles whose message the broker no longer holds.

    ``broker`` is the Redis broker's client, or None for brokers that do not lose
    acknowledged-late messages (AMQP): their overdue entries are only counted. Returns
    ``{"overdue": n, "waiting": n, "republished": n}``.
    """
    settings: Settings = app.newsflow_settings
    now = time.time()
    overdue = store.zrangebyscore(keys.INFLIGHT, "-inf", now, start=0, num=batch)
    result = {"overdue": len(overdue), "waiting": 0, "republished": 0}
    if not overdue or broker is None:
        return result
    present = ids_in_broker(broker)
    waiting = [i for i in overdue if i in present]
    missing = [i for i in overdue if i not in present]
    pipe = store.pipeline(transaction=False)
    for article_id in waiting:
        renew(pipe, settings, article_id)
    pipe.execute()
    result["waiting"] = len(waiting)
    raw_entries = store.hmget(keys.INFLIGHT_ENTRIES, missing) if missing else []
    for article_id, raw in zip(missing, raw_entries):
        if raw is None:  # settled between the two reads
            continue
        item = json.loads(raw)
        # Lease first: if publishing fails, the next pass tries again.
        pipe = store.pipeline(transaction=False)
        renew(pipe, settings, article_id)
        pipe.incr(keys.REPUBLISHED_TOTAL)
        pipe.execute()
        publish_chain(app, item["doc"], item["stages"])
        result["republished"] += 1
        log.warning("article %s was lost by the broker (no queued or unacknowledged message after its "
                    "lease); published it again", article_id)
    return result


class Reconciler(threading.Thread):
    """Background thread of a worker: runs :func:`reconcile` every ``reconcile_interval_s``.

    A lock in Redis lets one worker of a fleet reconcile per interval. The thread uses its
    own connections, so a forking pool never shares them.
    """

    def __init__(self, app: Celery):
        super().__init__(name="newsflow-reconciler", daemon=True)
        self.app = app
        self.settings: Settings = app.newsflow_settings
        self.stopped = threading.Event()
        self.owner = f"{socket.gethostname()}:{id(self)}"

    def _clients(self) -> tuple[redis.Redis, redis.Redis | None]:
        store = redis.Redis.from_url(self.settings.effective_redis_url, decode_responses=True,
                                     socket_connect_timeout=5, socket_timeout=60)
        url = self.settings.broker_url or ""
        broker = None
        if url.split("://")[0] in ("redis", "rediss"):
            broker = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=60)
        return store, broker

    def run(self) -> None:
        """Reconcile until :meth:`stop`; errors are logged and the next interval tries again."""
        store, broker = self._clients()
        interval = self.settings.reconcile_interval_s
        while not self.stopped.wait(interval):
            try:
                if not store.set(keys.RECONCILE_LOCK, self.owner, nx=True, px=max(1, int(interval * 900))):
                    continue  # another worker reconciles this interval
                outcome = reconcile(self.app, store, broker)
                if outcome["republished"]:
                    log.warning("reconciler: %s", outcome)
            except Exception as exc:  # a broker or store outage must not kill the thread
                log.warning("reconciler: %s: %s (retrying in %.0fs)", type(exc).__name__,
                            mask_secrets(str(exc)), interval)

    def stop(self) -> None:
        """Ask the thread to finish after its current pass."""
        self.stopped.set()
