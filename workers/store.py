"""The result store: finished Documents, per-stage checkpoints and duplicate indexes, in Redis."""

from __future__ import annotations

import hashlib

import redis

from pipeline.models import Document, Duplicate
from pipeline.text.neardup import NEAR_SIMILARITY, band_keys, similarity
from workers import events, keys, ledger
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
    (which would re-emit it on redelivery) or the reverse. The article's in-flight lease
    is renewed in the same round trip: it made progress.
    """
    pipe = client.pipeline(transaction=True)
    pipe.set(keys.checkpoint_key(article_id, stage, version), doc_json, ex=settings.result_ttl_s)
    ledger.renew(pipe, settings, article_id)
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
    Either way the article leaves the in-flight ledger.
    """
    marker = keys.checkpoint_key(article_id, keys.STORE_STAGE, "1")
    digest = hashlib.blake2b(doc_json.encode("utf-8"), digest_size=16).hexdigest()
    if client.get(marker) == digest:
        pipe = client.pipeline(transaction=False)
        ledger.settle(pipe, [article_id])
        pipe.execute()
        return False
    pipe = client.pipeline(transaction=True)
    pipe.set(keys.doc_key(article_id), doc_json, ex=settings.result_ttl_s)
    ledger.settle(pipe, [article_id])
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

    Exact duplicates share the content key. Near-duplicate candidates share an LSH band of
    the MinHash signature and are confirmed by signature similarity, so a shared band
    alone never makes a duplicate. Needs ``doc.duplicate`` from the clean stage.
    """
    dup = doc.duplicate
    if dup is None:
        return None
    ttl = settings.result_ttl_s
    first = client.set(keys.content_key_index(dup.content_key), doc.id, nx=True, ex=ttl, get=True)
    dup.seen_before = first is not None and first != doc.id
    if dup.seen_before:
        dup.near_duplicate_of = first
    if not dup.signature:
        return dup
    bands = list(band_keys(dup.signature))
    pipe = client.pipeline(transaction=False)
    for band in bands:
        pipe.smembers(keys.band_index(band))
    candidates = sorted({m for members in pipe.execute() for m in members} - {doc.id})
    if candidates and not dup.near_duplicate_of:
        signatures = client.mget([keys.signature_key(c) for c in candidates])
        scored = [(similarity(dup.signature, sig), c) for c, sig in zip(candidates, signatures) if sig]
        best = max(scored, default=(0.0, None))
        if best[0] >= NEAR_SIMILARITY:
            dup.near_duplicate_of = best[1]
    pipe = client.pipeline(transaction=False)
    pipe.set(keys.signature_key(doc.id), dup.signature, ex=ttl)
    for band in bands:
        pipe.sadd(keys.band_index(band), doc.id)
        pipe.expire(keys.band_index(band), ttl)
    pipe.execute()
    return dup
