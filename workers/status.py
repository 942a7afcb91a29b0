"""The operator's view of a running pipeline: queues, in-flight messages, throughput, workers.

Everything comes from Redis (broker queues, event streams, dead letters, the store) and
Celery's inspect/ping with a short timeout. :func:`collect` never raises for a broker or
store that is down: the report carries a clear ``problems`` line instead.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field

import redis
from celery import Celery

from workers import deadletters, keys, ledger, store
from workers.connection import redis_client
from workers.settings import Settings, mask_secrets, mask_url

WINDOW_S = 60  # "events in the last minute"
CHART_BUCKET_S = 10
CHART_BUCKETS = 30  # five minutes of throughput per stage
TIMING_SAMPLES = 200  # p50/p95 over the last N events of a stage
SCAN_CAP = 5000  # never pull more entries than this from one stream per refresh

# One round trip per stage that returns only entry ids and ``ms`` values, so a refresh
# does not ship every event's full Document to the client.
_STREAM_FIGURES_LUA = """
local since = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', ARGV[3])
local ids = {}
for i, e in ipairs(since) do ids[i] = e[1] end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', ARGV[2])
local ms = {}
for _, e in ipairs(last) do
  local f = e[2]
  for j = 1, #f, 2 do if f[j] == 'ms' then ms[#ms + 1] = f[j + 1] end end
end
return {ids, ms}
"""


# Dead letters per stage counted inside Redis, in chunks, so payloads never cross the wire.
_DEAD_COUNTS_LUA = """
local counts, cursor = {}, '-'
while true do
  local batch = redis.call('XRANGE', KEYS[1], cursor, '+', 'COUNT', 1000)
  if #batch == 0 then break end
  for _, e in ipairs(batch) do
    local f, stage = e[2], '?'
    for j = 1, #f, 2 do if f[j] == 'stage' then stage = f[j + 1] end end
    counts[stage] = (counts[stage] or 0) + 1
  end
  if #batch < 1000 then break end
  cursor = '(' .. batch[#batch][1]
end
local out = {}
for k, v in pairs(counts) do out[#out + 1] = k; out[#out + 1] = v end
return out
"""


def dead_letter_counts(client: redis.Redis) -> dict[str, int]:
    """Dead letters per stage (server-side count on Redis; a plain scan on fakeredis)."""
    try:
        flat = client.eval(_DEAD_COUNTS_LUA, 1, keys.DEAD_STREAM)
    except redis.exceptions.ResponseError as exc:
        if "unknown command" not in str(exc).lower():
            raise
        return deadletters.count_by_stage(client)
    return {flat[i]: int(flat[i + 1]) for i in range(0, len(flat), 2)}


class _SameServerDown(Exception):
    # The broker's Redis is the store's Redis and it is down: one message is enough.
    pass


@dataclass
class StageStatus:
    """Figures of one stage (or the ``store`` step)."""

    stage: str
    queue: str
    queue_depth: int | None  # None = unknown for this broker
    in_flight: int | None  # reserved by a worker, not yet acknowledged
    events_last_minute: int | None  # None = store unreachable
    p50_ms: float | None
    p95_ms: float | None
    timing_samples: int
    throughput: list[int] = field(default_factory=list)  # events per CHART_BUCKET_S, oldest first
    dead_letters: int = 0


@dataclass
class WorkerStatus:
    """One live worker and the stages it consumes."""

    name: str
    stages: list[str]
    queues: list[str]


@dataclass
class PipelineStatus:
    """Everything ``newsflow status`` and the console's Pipeline view show."""

    mode: str
    broker: str | None
    redis: str | None
    at: float
    stages: list[StageStatus]
    workers: list[WorkerStatus] | None  # None = could not ask (broker down or no control)
    dead_letters: dict[str, int]
    store_size: int | None
    done_last_minute: int
    problems: list[str] = field(default_factory=list)
    # The in-flight ledger: submitted and not yet stored or dead-lettered; overdue = lease
    # ran out; republished = ever re-sent after the broker lost them (workers.ledger).
    ledger: dict[str, int] | None = None

    @property
    def ok(self) -> bool:
        """True when broker and store both answered."""
        return not self.problems

    def bottleneck(self) -> str | None:
        """The stage with the deepest queue (ties: the slowest p95), if any queue is non-empty."""
        known = [s for s in self.stages if s.queue_depth]
        if not known:
            return None
        return max(known, key=lambda s: (s.queue_depth, s.p95_ms or 0.0)).stage

    def to_dict(self) -> dict:
        """JSON-ready form (``newsflow status --json`` and ``/api/status``)."""
        data = asdict(self)
        data["ok"] = self.ok
        data["bottleneck"] = self.bottleneck()
        return data


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile ``q`` (0-100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def entry_time(entry_id: str) -> float:
    """Seconds since the epoch encoded in a stream entry id (``<ms>-<seq>``)."""
    return int(entry_id.split("-", 1)[0]) / 1000.0


def throughput(entry_ids: list[str], now: float, *, bucket_s: int = CHART_BUCKET_S, buckets: int = CHART_BUCKETS) -> list[int]:
    """Counts of ``entry_ids`` per ``bucket_s`` over the last ``buckets`` buckets, oldest first."""
    counts = [0] * buckets
    start = now - bucket_s * buckets
    for entry_id in entry_ids:
        t = entry_time(entry_id)
        if t < start or t > now + 1:
            continue
        counts[min(buckets - 1, int((t - start) // bucket_s))] += 1
    return counts


def stream_figures(client: redis.Redis, stage: str, now: float) -> tuple[list[str], list[float]]:
    """Entry ids of the chart window and the last ``TIMING_SAMPLES`` ``ms`` values of ``stage``."""
    stream = keys.events_stream(stage)
    since = f"{int((now - CHART_BUCKET_S * CHART_BUCKETS) * 1000)}-0"
    try:
        ids, raw_ms = client.eval(_STREAM_FIGURES_LUA, 1, stream, since, TIMING_SAMPLES, SCAN_CAP)
    except redis.exceptions.ResponseError as exc:
        if "unknown command" not in str(exc).lower() and "lua" not in str(exc).lower():
            raise
        ids, raw_ms = _stream_figures_plain(client, stream, since)
    except (ImportError, NotImplementedError):  # fakeredis without its Lua engine
        ids, raw_ms = _stream_figures_plain(client, stream, since)
    ms = []
    for value in raw_ms:
        try:
            ms.append(float(value))
        except (TypeError, ValueError):  # the store's "done" events carry no timing
            continue
    return list(ids), ms


def _stream_figures_plain(client: redis.Redis, stream: str, since: str) -> tuple[list[str], list[str]]:
    ids = [eid for eid, _ in client.xrange(stream, min=since, max="+", count=SCAN_CAP)]
    ms = [f.get("ms", "") for _, f in client.xrevrange(stream, count=TIMING_SAMPLES)]
    return ids, ms


def broker_queue_figures(settings: Settings, stages: list[str]) -> tuple[dict, dict, str | None]:
    """``(depth, in_flight, problem)`` per stage from the broker; unknown figures are None."""
    url = settings.broker_url
    depth: dict[str, int | None] = {s: None for s in stages}
    flight: dict[str, int | None] = {s: None for s in stages}
    if url and url.split("://")[0] in ("redis", "rediss"):
        try:
            broker = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=2, socket_timeout=5)
            pipe = broker.pipeline(transaction=False)
            for stage in stages:
                for name in keys.broker_lists(keys.queue(stage)):
                    pipe.llen(name)
            lengths = pipe.execute()
            per = len(keys.KOMBU_PRIORITY_STEPS)
            for i, stage in enumerate(stages):
                depth[stage] = sum(lengths[i * per:(i + 1) * per])
            flight.update(_unacked_by_stage(broker, stages))
        except redis.exceptions.RedisError as exc:
            return depth, flight, (
                f"broker {mask_url(url)} unreachable: {mask_secrets(str(exc))} "
                "(start Redis or fix NEWSFLOW_BROKER_URL)"
            )
    return depth, flight, None


def _unacked_by_stage(broker: redis.Redis, stages: list[str]) -> dict[str, int]:
    """Reserved messages per stage, from the routing key kombu records with each one."""
    counts = {s: 0 for s in stages}
    by_queue = {keys.queue(s): s for s in stages}
    for _tag, raw in broker.hscan_iter(keys.KOMBU_UNACKED_KEY, count=500):
        try:
            _message, _exchange, routing_key = json.loads(raw)
        except (ValueError, TypeError):
            continue
        stage = by_queue.get(routing_key)
        if stage:
            counts[stage] += 1
    return counts


def memory_queue_depths(app: Celery, stages: list[str]) -> dict[str, int | None]:
    """Queue depths of the in-process memory transport (embedded mode, same process only)."""
    out: dict[str, int | None] = {}
    with app.connection_for_read() as conn:
        channel = conn.default_channel
        for stage in stages:
            try:
                _name, count, _consumers = channel.queue_declare(queue=keys.queue(stage), passive=True)
                out[stage] = int(count)
            except Exception:  # a queue nobody declared yet holds nothing
                out[stage] = 0
    return out


def workers_alive(app: Celery, timeout_s: float = 1.0) -> list[WorkerStatus]:
    """Workers that answer ``active_queues`` within ``timeout_s``, with the stages they serve."""
    replies = app.control.inspect(timeout=timeout_s).active_queues() or {}
    stage_of = {keys.queue(s): s for s in keys.QUEUE_STAGES}
    out = []
    for name, queues in sorted(replies.items()):
        names = sorted(q.get("name", "") for q in queues or [])
        out.append(WorkerStatus(name=name, stages=[stage_of[q] for q in names if q in stage_of], queues=names))
    return out


def collect(app: Celery, *, inspect_timeout_s: float = 1.0, ask_workers: bool = True) -> PipelineStatus:
    """Gather the pipeline status for ``app``'s settings. Never raises for a down broker/store."""
    settings: Settings = app.newsflow_settings
    stages = list(keys.QUEUE_STAGES)
    now = time.time()
    problems: list[str] = []
    depth, flight, broker_problem = broker_queue_figures(settings, stages)
    if broker_problem:
        problems.append(broker_problem)
    elif settings.embedded:
        depth = memory_queue_depths(app, stages)
    result = PipelineStatus(
        mode="embedded" if settings.embedded else "distributed",
        broker=mask_url(settings.broker_url) or "memory:// (in-process)",
        redis=mask_url(settings.effective_redis_url) or "fakeredis (in-process)",
        at=now,
        stages=[],
        workers=None,
        dead_letters={},
        store_size=None,
        done_last_minute=0,
        problems=problems,
    )
    client = redis_client(settings)
    try:
        if broker_problem and settings.effective_redis_url == settings.broker_url:
            raise _SameServerDown()
        dead = dead_letter_counts(client)
        for stage in stages:
            # The store step announces on the ``done`` stream, not a ``store`` one.
            ids, ms = stream_figures(client, "done" if stage == keys.STORE_STAGE else stage, now)
            result.stages.append(
                StageStatus(
                    stage=stage,
                    queue=keys.queue(stage),
                    queue_depth=depth[stage],
                    in_flight=flight[stage],
                    events_last_minute=sum(1 for e in ids if entry_time(e) >= now - WINDOW_S),
                    p50_ms=percentile(ms, 50),
                    p95_ms=percentile(ms, 95),
                    timing_samples=len(ms),
                    throughput=throughput(ids, now),
                    dead_letters=dead.get(stage, 0),
                )
            )
        done_ids, _ = stream_figures(client, "done", now)
        result.done_last_minute = sum(1 for e in done_ids if entry_time(e) >= now - WINDOW_S)
        result.dead_letters = dead
        result.store_size = store.store_size(client)
        result.ledger = ledger.counts(client, now)
    except (redis.exceptions.RedisError, _SameServerDown) as exc:
        if not isinstance(exc, _SameServerDown):
            problems.append(
                f"store {result.redis} unreachable: {mask_secrets(str(exc))} "
                "(start Redis or fix NEWSFLOW_REDIS_URL / NEWSFLOW_BROKER_URL)"
            )
        result.stages = [
            StageStatus(s, keys.queue(s), depth[s], flight[s], None, None, None, 0, [0] * CHART_BUCKETS)
            for s in stages
        ]
    if ask_workers and not broker_problem:
        try:
            result.workers = workers_alive(app, inspect_timeout_s)
        except Exception as exc:  # control needs a broadcast-capable broker; report, never crash
            problems.append(f"could not ask workers: {mask_secrets(str(exc))}")
    return result


def format_text(status: PipelineStatus) -> str:
    """The human-readable report of ``newsflow status``."""
    lines = [f"newsflow {status.mode}: broker {status.broker}, store {status.redis}"]
    for problem in status.problems:
        lines.append(f"!! {problem}")

    def num(v, fmt="{:d}"):
        return "?" if v is None else fmt.format(v)

    lines.append("")
    lines.append(f"{'stage':<10}{'queued':>8}{'in flight':>11}{'ev/min':>8}{'p50 ms':>10}{'p95 ms':>10}{'dead':>6}")
    for s in status.stages:
        lines.append(
            f"{s.stage:<10}{num(s.queue_depth):>8}{num(s.in_flight):>11}{num(s.events_last_minute):>8}"
            f"{num(s.p50_ms, '{:.1f}'):>10}{num(s.p95_ms, '{:.1f}'):>10}{s.dead_letters:>6}"
        )
    lines.append("")
    lines.append(f"done in the last minute: {status.done_last_minute}")
    bottleneck = status.bottleneck()
    if bottleneck:
        lines.append(f"bottleneck: {bottleneck} (deepest queue)")
    other_dead = {k: v for k, v in status.dead_letters.items() if k not in keys.QUEUE_STAGES}
    total_dead = sum(status.dead_letters.values())
    lines.append(
        f"dead letters: {total_dead}"
        + (f" (also {', '.join(f'{k}: {v}' for k, v in sorted(other_dead.items()))})" if other_dead else "")
    )
    lines.append(f"store: {num(status.store_size)} document(s)")
    if status.ledger is not None:
        lines.append(
            f"in flight: {status.ledger['in_flight']} article(s), {status.ledger['overdue']} overdue; "
            f"re-sent after a broker loss: {status.ledger['republished']}"
        )
    if status.workers is None:
        lines.append("workers: unknown (could not ask)")
    elif not status.workers:
        lines.append("workers: none answered" + (" (embedded mode: workers run inside `newsflow process`)" if status.mode == "embedded" else ""))
    else:
        lines.append(f"workers: {len(status.workers)} alive")
        for w in status.workers:
            lines.append(f"  {w.name}: {', '.join(w.stages) or '(no newsflow stage)'}")
    return "\n".join(lines)
