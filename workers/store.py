"""The result store: finished Documents, per-stage checkpoints and duplicate indexes, in Redis."""

from __future__ import annotations

import hashlib

import redis

from pipeline.models import Document, Duplicate
from workers import events, keys
from workers.settings import Settings


def get_checkpoint(client: redis.Redis, article_id: str, stage: str, version: str) -> str | None:
    """The JSON output ``stage`` already produced for ``article_id``, if any (a redelivery)."""
    return client.get(keys.checkpoint_key(article_id, stage, version))


def commit_stage(
    client: redis.Redis,
    settings: Settings,
    *,
    stage: str,
    version: str,
    article_id: str,
    doc_json: str,
    ms: float | None,
) -> None:
    """Record ``stage``'s output and publish its event in one transaction.

    Both or neither happen, so a crash never leaves an event without a checkpoint
    (which would re-emit it on redelivery) or the reverse.
    """
    pipe = client.pipeline(transaction=True)
    pipe.set(keys.checkpoint_key(article_id, stage, version), doc_json, ex=settings.result_ttl_s)
    events.publish(
        pipe,
        stage,
        events.event_fields(stage, doc_json, article_id, version, ms),
        settings.events_maxlen,
    )
    pipe.execute()


def save_document(client: redis.Redis, settings: Settings, doc_json: str, article_id: str) -> bool:
    """Store the finished Document and announce it on ``newsflow:events:done``.

    Idempotent by id: the document key is overwritten with the same content, and the
    done event is emitted once per stored version. Returns False when it was already stored.
    """
    marker = keys.checkpoint_key(article_id, keys.STORE_STAGE, "1")
    digest = hashlib.blake2b(doc_json.encode("utf-8"), digest_size=16).hexdigest()
    if client.get(marker) == digest:
        return False
    pipe = client.pipeline(transaction=True)
    pipe.set(keys.doc_key(article_id), doc_json, ex=settings.result_ttl_s)
    pipe.set(marker, digest, ex=settings.result_ttl_s)
    pipe.delete(keys.dead_index_key(article_id))
    events.publish(
        pipe,
        "done",
        events.event_fields("done", doc_json, article_id, "1", None),
        settings.events_maxlen,
    )
    pipe.execute()
    return True


def get_document(client: redis.Redis, article_id: str) -> Document | None:
    """The stored Document of ``article_id``, or None when there is none (yet)."""
    raw = client.get(keys.doc_key(article_id))
    return None if raw is None else Document.model_validate_json(raw)


def store_size(client: redis.Redis) -> int:
    """How many Documents the store holds (SCAN; for status output, not hot paths)."""
    return sum(1 for _ in client.scan_iter(match=keys.doc_key("*"), count=1000))


def mark_duplicates(client: redis.Redis, settings: Settings, doc: Document) -> Duplicate | None:
    """Fill ``seen_before`` / ``near_duplicate_of`` from the store's indexes and index ``doc``.

    Needs ``doc.duplicate`` from the clean stage; returns it updated (or None).
    """
    dup = doc.duplicate
    if dup is None:
        return None
    exact = keys.content_key_index(dup.content_key)
    first = client.set(exact, doc.id, nx=True, ex=settings.result_ttl_s, get=True)
    dup.seen_before = first is not None and first != doc.id
    if dup.seen_before:
        dup.near_duplicate_of = first
    bands = _band_keys(dup.signature)
    if bands:
        pipe = client.pipeline(transaction=False)
        for band in bands:
            pipe.smembers(keys.band_index(band))
        candidates: dict[str, int] = {}
        for members in pipe.execute():
            for member in members:
                if member != doc.id:
                    candidates[member] = candidates.get(member, 0) + 1
        if candidates and not dup.near_duplicate_of:
            dup.near_duplicate_of = max(sorted(candidates), key=candidates.__getitem__)
        pipe = client.pipeline(transaction=False)
        for band in bands:
            pipe.sadd(keys.band_index(band), doc.id)
            pipe.expire(keys.band_index(band), settings.result_ttl_s)
        pipe.execute()
    return dup


def _band_keys(signature: str | None) -> list[str]:
    # The near-duplicate banding belongs to the clean stage's signature scheme.
    if not signature:
        return []
    try:
        from pipeline.text.simhash import band_keys
    except ImportError:  # signature scheme not available: exact duplicates only
        return []
    return list(band_keys(signature))
