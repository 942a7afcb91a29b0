"""Chaos suite: nothing is lost when workers are killed, Redis restarts, or the store fails.

Real Redis, real worker processes, real SIGKILL. Each scenario prints one line of counts
(submitted / stored / dead / duplicates / lost); run with ``pytest -m slow -s`` to see them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis as redis_lib

from pipeline.errors import StageError
from workers import keys, ledger
from workers.app import create_app
from workers.client import Client, SubmitError
from workers.connection import reset_clients
from workers.embedded import embedded_worker
from workers.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.redis]

# Short limits so a killed worker's messages come back within seconds, not an hour.
FAST_LIMITS = {
    "NEWSFLOW_STAGE_SOFT_TIME_LIMIT_S": "8",
    "NEWSFLOW_STAGE_TIME_LIMIT_S": "10",
    "NEWSFLOW_VISIBILITY_TIMEOUT_S": "12",
    "NEWSFLOW_RETRY_BACKOFF_MAX_S": "1",
    # Lease = 12 + 10 s; the ledger is checked every 2 s.
    "NEWSFLOW_RECONCILE_INTERVAL_S": "2",
}
N = 300


def _articles(n=N, prefix="c"):
    body = "Iraq and the United States discussed the future of the coalition in Baghdad on Tuesday. " * 8
    return [{"id": f"{prefix}-{i}", "body": f"{body} Article {i}."} for i in range(n)]


def counts(client: Client, ids: list[str]) -> dict:
    """submitted / stored / dead / duplicates / lost for ``ids``."""
    r = client.redis
    pipe = r.pipeline(transaction=False)
    for article_id in ids:
        pipe.exists(keys.doc_key(article_id))
    stored = sum(pipe.execute())
    dead_ids = {f.get("article_id") for _e, f in r.xrange(keys.DEAD_STREAM)} & set(ids)
    done = [f["id"] for _e, f in r.xrange(keys.DONE_STREAM)]
    return {
        "submitted": len(ids),
        "stored": stored,
        "dead": len(dead_ids),
        "duplicates": len(done) - len(set(done)),
        "lost": len(ids) - stored - len(dead_ids - {None}),
        # Articles the broker lost and the in-flight ledger published again (workers.ledger).
        "republished": ledger.counts(r)["republished"],
    }


def whereabouts(client: Client, ids: list[str]) -> dict:
    """Where the articles that are not stored are: queued, unacknowledged, or nowhere."""
    r = client.redis
    missing = [i for i in ids if not r.exists(keys.doc_key(i))]
    queued = " ".join(r.lrange(keys.queue("clean"), 0, -1) + r.lrange(keys.queue("store"), 0, -1))
    unacked = " ".join(r.hvals("unacked"))
    return {
        "missing": missing[:10],
        "queued": [i for i in missing if f'"{i}"' in queued or i in queued][:10],
        "unacked": [i for i in missing if i in unacked][:10],
        "checkpoints": {i: sorted(k.split(":")[3] for k in r.scan_iter(match=f"newsflow:ckpt:{i}:*")) for i in missing[:5]},
        "unacked_total": r.hlen("unacked"),
        "mutex": r.get("unacked_mutex"),
    }


def report(name: str, c: dict) -> None:
    print(f"\nCHAOS {name}: " + " ".join(f"{k}={v}" for k, v in c.items()))


def wait_for(predicate, timeout_s: float, what: str, poll_s: float = 0.2):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def stored_count(client, ids):
    """How many of ``ids`` are stored; fails at once if any was dead-lettered instead."""
    c = counts(client, ids)
    assert c["dead"] == 0, f"unexpected dead letters: {c}"
    return c["stored"]


class WorkerProcess:
    """``newsflow worker`` in its own process group, so SIGKILL takes the whole pool."""

    def __init__(self, broker_url: str, *args: str, env: dict | None = None):
        self.env = {**os.environ, "NEWSFLOW_BROKER_URL": broker_url, **FAST_LIMITS, **(env or {})}
        self.args = args
        self.proc = None
        self.log = os.environ.get("CHAOS_WORKER_LOG") or f"/tmp/newsflow-chaos-{os.getpid()}-{id(self)}.log"

    def diagnose(self) -> str:
        """Exit code and log tail, for a failure message that explains itself."""
        try:
            tail = Path(self.log).read_text(errors="replace").splitlines()[-25:]
        except OSError:
            tail = []
        return f"worker exit code {self.proc.poll() if self.proc else None}; log tail:\n" + "\n".join(tail)

    def start(self, app, nodes: int = 1):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "worker", "--loglevel", "WARNING", *self.args],
            env=self.env, stdout=subprocess.DEVNULL, stderr=open(self.log, "ab"),
            start_new_session=True)

        def ready():
            replies = app.control.ping(timeout=0.5) or []
            return sum(next(iter(r)).startswith("newsflow-chaos") for r in replies) >= nodes

        wait_for(ready, 60, "worker ping")
        return self

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(60)

    def stop(self):
        try:
            self.kill(signal.SIGTERM)
        except subprocess.TimeoutExpired:
            self.kill(signal.SIGKILL)


@pytest.fixture
def chaos_settings(redis_url, clean_env):
    redis_lib.Redis.from_url(redis_url).flushdb()
    reset_clients()
    for key, value in FAST_LIMITS.items():
        clean_env.setenv(key, value)
    settings = Settings(broker_url=redis_url, retry_backoff_s=0.05, retry_backoff_max_s=0.2, max_retries=2)
    yield settings
    reset_clients()
    redis_lib.Redis.from_url(redis_url).flushdb()


def test_sigkill_worker_group_mid_run_loses_nothing(chaos_settings, redis_url):
    app = create_app(chaos_settings)
    client = Client(chaos_settings, app)
    worker = WorkerProcess(redis_url, "--concurrency", "2", "-n", "newsflow-chaos-1@%h").start(app)
    try:
        ids = client.submit_many(_articles())
        wait_for(lambda: stored_count(client, ids) >= 20, 120, "first 20 stored")
        worker.kill(signal.SIGKILL)
        at_kill = stored_count(client, ids)
        assert at_kill < N, "all articles finished before the kill; the scenario proved nothing"
        worker = WorkerProcess(redis_url, "--concurrency", "2", "-n", "newsflow-chaos-2@%h").start(app)
        try:
            wait_for(lambda: stored_count(client, ids) == N, 240, "all stored after restart")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; {counts(client, ids)}; {whereabouts(client, ids)}; "
                                 f"{worker.diagnose()}") from None
    finally:
        worker.stop()
    c = counts(client, ids)
    report(f"sigkill (in flight at kill: {N - at_kill})", c)
    assert c["stored"] == N and c["dead"] == 0 and c["lost"] == 0


def test_one_killed_solo_worker_is_restarted_and_loses_nothing(chaos_settings, redis_url):
    """`--pool solo -c 2`: two supervised single-process workers; SIGKILL one mid-run."""
    app = create_app(chaos_settings)
    client = Client(chaos_settings, app)
    worker = WorkerProcess(redis_url, "--pool", "solo", "--concurrency", "2", "-n", "newsflow-chaos-solo@%h")
    worker.start(app, nodes=2)
    try:
        ids = client.submit_many(_articles())
        wait_for(lambda: stored_count(client, ids) >= 20, 120, "first 20 stored")
        children = Path(f"/proc/{worker.proc.pid}/task/{worker.proc.pid}/children").read_text().split()
        assert len(children) == 2, f"expected two solo worker processes, found {children}"
        os.kill(int(children[0]), signal.SIGKILL)
        at_kill = stored_count(client, ids)
        assert at_kill < N, "all articles finished before the kill; the scenario proved nothing"
        try:
            wait_for(lambda: stored_count(client, ids) == N, 240, "all stored after the kill")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; {counts(client, ids)}; {worker.diagnose()}") from None
        assert "restarting" in Path(worker.log).read_text(errors="replace")
    finally:
        worker.stop()
    c = counts(client, ids)
    report(f"one solo worker killed (in flight at kill: {N - at_kill})", c)
    assert c["stored"] == N and c["dead"] == 0 and c["lost"] == 0


@pytest.fixture
def own_redis(tmp_path, binary, free_port):
    """A private redis-server with appendonly on (fsync always), restartable by the test."""
    port = free_port()
    args = [binary("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--appendonly", "yes", "--appendfsync", "always",
            "--save", "", "--dir", str(tmp_path), "--daemonize", "no"]
    procs = []

    def start():
        procs.append(subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        url = f"redis://127.0.0.1:{port}/0"
        wait_for(lambda: _pings(url), 20, "private redis up")
        assert procs[-1].poll() is None, "the private redis-server exited"
        return url

    def stop():
        try:
            redis_lib.Redis(port=port).shutdown()
        except redis_lib.ConnectionError:
            pass  # SHUTDOWN closes the connection as it exits
        procs[-1].wait(20)

    url = start()
    yield url, start, stop
    if procs[-1].poll() is None:
        stop()


def _pings(url):
    try:
        return redis_lib.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis_lib.RedisError:
        return False


def test_redis_restart_mid_run_loses_nothing(own_redis, clean_env):
    url, start, stop = own_redis
    for key, value in FAST_LIMITS.items():
        clean_env.setenv(key, value)
    _restart_scenario(url, start, stop)


def _restart_scenario(url, start, stop):
    reset_clients()
    settings = Settings(broker_url=url, retry_backoff_s=0.05, retry_backoff_max_s=0.5, max_retries=5)
    app = create_app(settings)
    client = Client(settings, app)
    worker = WorkerProcess(url, "--concurrency", "2", "-n", "newsflow-chaos-r@%h").start(app)
    try:
        ids = client.submit_many(_articles(prefix="r"))
        wait_for(lambda: stored_count(client, ids) >= 20, 120, "first 20 stored")
        stop()
        time.sleep(1.0)
        start()
        reset_clients()
        try:
            wait_for(lambda: _safe_stored(client, ids) == N, 120, "all stored after the Redis restart", poll_s=1.0)
        except AssertionError as exc:
            report("redis restart (FAILED)", counts(client, ids))
            print(whereabouts(client, ids))
            raise AssertionError(f"{exc}; {counts(client, ids)}; {whereabouts(client, ids)}") from None
    finally:
        worker.stop()
    c = counts(client, ids)
    report("redis restart", c)
    assert c["lost"] == 0 and c["stored"] + c["dead"] == N


def _safe_stored(client, ids):
    try:
        return stored_count(client, ids)
    except redis_lib.RedisError:
        return 0


def test_broker_down_at_submit_reports_what_was_sent(chaos_settings, monkeypatch):
    """A broker failure part-way: a clear error naming the ids that did go out."""
    app = create_app(chaos_settings)
    client = Client(chaos_settings, app)
    import workers.ledger as ledger_module
    from kombu.exceptions import OperationalError

    real = ledger_module.publish_chain
    sent = []

    def flaky(*args, **kwargs):
        chain = real(*args, **kwargs)
        if len(sent) == 5:
            raise OperationalError("Error 111 connecting to redis://:pw@127.0.0.1:6379. Connection refused.")
        sent.append(1)
        return chain

    monkeypatch.setattr(ledger_module, "publish_chain", flaky)
    with pytest.raises(SubmitError) as err:
        client.submit_many(_articles(20, prefix="b"))
    assert err.value.sent_ids == [f"b-{i}" for i in range(5)]
    assert "after 5 of 20" in str(err.value) and ":pw@" not in str(err.value)
    report("broker down at submit", {"submitted": 20, "sent": 5, "reported_sent": len(err.value.sent_ids)})


def test_store_down_inside_a_task_then_replay_completes(chaos_settings, monkeypatch):
    app = create_app(chaos_settings)
    client = Client(chaos_settings, app)
    from workers import store

    real_save = store.save_document
    attempts = []

    def store_down(*args, **kwargs):
        attempts.append(1)
        raise redis_lib.ConnectionError("Error 111 connecting to store. Connection refused.")

    monkeypatch.setattr(store, "save_document", store_down)
    ids = [f"s-{i}" for i in range(10)]
    with embedded_worker(app):
        client.submit_many(_articles(10, prefix="s"))
        letters = [client.result(i, 60) for i in ids]
        assert all(l.stage == "store" and l.error_type == "ConnectionError" and l.attempts == 3 for l in letters)
        assert len(attempts) == 40  # per article: 1 inline try after topics, then 1 try + 2 retries
        monkeypatch.setattr(store, "save_document", real_save)  # the store recovers
        from workers.replay import replay

        assert len(replay(app)) == 10
        docs = [client.wait(i, 60) for i in ids]
    assert all(d.stages_done() == ["clean", "language", "entities", "topics"] for d in docs)
    c = counts(client, ids)
    report("store down, then replay", c)
    assert c == {"submitted": 10, "stored": 10, "dead": 0, "duplicates": 0, "lost": 0, "republished": 0}


def test_poison_article_is_dead_lettered_and_the_rest_complete(chaos_settings, monkeypatch):
    app = create_app(chaos_settings)
    client = Client(chaos_settings, app)
    from pipeline import registry

    stage = registry.get_stage("language")

    def poisoned(doc):
        if "POISON" in doc.text:
            raise StageError("cannot handle this article", hint="test poison", code="E299")
        return stage.func(doc)

    monkeypatch.setitem(registry._REGISTRY, "language", registry.Stage("language", stage.version, poisoned))
    articles = _articles(50, prefix="p")
    articles[17]["body"] += " POISON"
    ids = [a["id"] for a in articles]
    with embedded_worker(app):
        client.submit_many(articles)
        outcomes = [client.result(i, 60) for i in ids]
    assert [type(o).__name__ for o in outcomes].count("DeadLetter") == 1
    assert outcomes[17].code == "E299" and json.loads(outcomes[17].payload)["id"] == "p-17"
    c = counts(client, ids)
    report("poison article", c)
    assert c == {"submitted": 50, "stored": 49, "dead": 1, "duplicates": 0, "lost": 0, "republished": 0}
