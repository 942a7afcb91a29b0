"""The dead-letter stream ``newsflow:dead``: every permanent failure, with its payload."""

from __future__ import annotations

import json
import time

import redis

from pipeline.models import DeadLetter
from workers import keys, ledger
from workers.settings import Settings


def add(client: redis.Redis, settings: Settings, letter: DeadLetter) -> str:
    """Append ``letter`` to the dead-letter stream and index it by article id; returns the entry id."""
    fields = {
        k: ("" if v is None else json.dumps(v) if isinstance(v, list) else str(v))
        for k, v in letter.model_dump(mode="json").items()
    }
    entry_id = client.xadd(keys.DEAD_STREAM, fields, maxlen=settings.dead_maxlen, approximate=True)
    if letter.article_id:
        # Kept with its payload in the stream, the article has left the in-flight ledger.
        pipe = client.pipeline(transaction=True)
        pipe.set(keys.dead_index_key(letter.article_id), entry_id, ex=settings.result_ttl_s)
        ledger.settle(pipe, [letter.article_id])
        pipe.execute()
    return entry_id


def _letter(fields: dict) -> DeadLetter:
    data = dict(fields)
    data["article_id"] = data.get("article_id") or None
    data["remaining"] = json.loads(data.get("remaining") or "[]")
    return DeadLetter.model_validate(data)


def list_letters(
    client: redis.Redis, *, stage: str | None = None, count: int = 100
) -> list[tuple[str, DeadLetter]]:
    """The newest ``count`` dead letters (optionally of one stage), newest first."""
    out = []
    for entry_id, fields in client.xrevrange(keys.DEAD_STREAM, count=count if not stage else None):
        if stage and fields.get("stage") != stage:
            continue
        out.append((entry_id, _letter(fields)))
        if len(out) >= count:
            break
    return out


def get_letter(client: redis.Redis, entry_id: str) -> DeadLetter | None:
    """One dead letter by stream entry id."""
    entries = client.xrange(keys.DEAD_STREAM, min=entry_id, max=entry_id)
    return _letter(entries[0][1]) if entries else None


def letter_for_article(client: redis.Redis, article_id: str) -> tuple[str, DeadLetter] | None:
    """The latest dead letter of ``article_id``, if it has one."""
    entry_id = client.get(keys.dead_index_key(article_id))
    if not entry_id:
        return None
    letter = get_letter(client, entry_id)
    return (entry_id, letter) if letter else None


def remove(client: redis.Redis, entry_ids: list[str]) -> int:
    """Delete dead letters (after a replay); returns how many were removed."""
    return client.xdel(keys.DEAD_STREAM, *entry_ids) if entry_ids else 0


def purge_older_than(client: redis.Redis, seconds: float) -> int:
    """Drop dead letters older than ``seconds``; returns how many were dropped."""
    cutoff_ms = int((time.time() - seconds) * 1000)
    return client.xtrim(keys.DEAD_STREAM, minid=f"{cutoff_ms}-0")


def count_by_stage(client: redis.Redis) -> dict[str, int]:
    """Dead-letter counts per stage (scans the stream; for status output)."""
    counts: dict[str, int] = {}
    for _entry_id, fields in client.xrange(keys.DEAD_STREAM):
        counts[fields.get("stage", "?")] = counts.get(fields.get("stage", "?"), 0) + 1
    return counts
