"""Per-stage event streams (Redis Streams): publish, read and follow."""

from __future__ import annotations

import json
import time
from typing import Iterator

import redis

from workers import keys


def event_fields(stage: str, doc_json: str, article_id: str, version: str, ms: float | None,
                 at: float | None = None) -> dict:
    """The fields of one event entry. Every entry carries the article id so consumers can dedupe.

    ``at`` is when the stage finished (default: now).
    """
    return {
        "id": article_id,
        "stage": stage,
        "version": version,
        "ms": "" if ms is None else f"{ms:.3f}",
        "at": f"{time.time() if at is None else at:.3f}",
        "doc": doc_json,
    }


def publish(pipe: redis.client.Pipeline | redis.Redis, stage: str, fields: dict, maxlen: int) -> None:
    """XADD ``fields`` to the stream of ``stage``, trimmed to about ``maxlen`` entries."""
    pipe.xadd(keys.events_stream(stage), fields, maxlen=maxlen, approximate=True)


def follow(
    client: redis.Redis,
    stages: list[str],
    *,
    from_start: bool = False,
    block_ms: int = 1000,
    stop_after_idle_s: float | None = None,
) -> Iterator[tuple[str, str, dict]]:
    """Yield ``(stage, entry_id, fields)`` as events arrive on the given stages' streams.

    ``stop_after_idle_s`` ends the iteration after that long without an event
    (None = follow forever). The starting point is fixed when this is called, so events
    published before the first ``next()`` are not missed.
    """
    cursors = {keys.events_stream(s): ("0-0" if from_start else "$") for s in stages}
    if not from_start:
        # Resolve "$" to concrete ids now, so no event between two XREADs is missed.
        for stream in cursors:
            info = client.xinfo_stream(stream) if client.exists(stream) else None
            cursors[stream] = info["last-generated-id"] if info else "0-0"
    return _read(client, cursors, block_ms, stop_after_idle_s)


def _read(client, cursors: dict, block_ms: int, stop_after_idle_s: float | None):
    idle_since = time.monotonic()
    while True:
        batch = client.xread(cursors, block=block_ms, count=100)
        if not batch:
            if stop_after_idle_s is not None and time.monotonic() - idle_since >= stop_after_idle_s:
                return
            continue
        idle_since = time.monotonic()
        for stream, entries in batch:
            for entry_id, fields in entries:
                cursors[stream] = entry_id
                yield stream.rsplit(":", 1)[-1], entry_id, fields


def summarize(fields: dict) -> dict:
    """A compact view of an event (without the full document) for humans."""
    doc = json.loads(fields.get("doc") or "{}")
    lang = (doc.get("language") or {}).get("code")
    return {
        "id": fields.get("id"),
        "stage": fields.get("stage"),
        "ms": fields.get("ms"),
        "language": lang,
        "entities": len(doc.get("entities") or []),
        "topics": [t.get("label") for t in doc.get("topics") or []][:3],
        "chars": len(doc.get("text") or ""),
    }
