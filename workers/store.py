"""The result store: finished Documents, per-stage checkpoints and duplicate indexes, in Redis."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

import redis

from pipeline.models import Document, Duplicate
from pipeline.text.neardup import NEAR_SIMILARITY, band_keys, similarity
from workers import events, keys, ledger
from workers.settings import Settings


def get_checkpoint(client: redis.Redis, article_id: str, stage: str, version: str) -> str | None:
    """The JSON output ``stage`` already produced for ``article_id``, if any (a redelivery)."""
    return client.get(keys.checkpoint_key(article_id, stage, version))


def get_checkpoint_and_stored(client: redis.Redis, article_id: str, stage: str, version: str) -> tuple[str | None, str | None]:
    """:func:`get_checkpoint` and the digest of the stored Document (see :func:`save_document`), in one round trip."""
    pipe = client.pipeline(transaction=False)
    pipe.get(keys.checkpoint_key(article_id, stage, version))
    pipe.get(_stored_marker(article_id))
    checkpoint, stored = pipe.execute()
    return checkpoint, stored


@dataclass(frozen=True)
class StageOutput:
    """One stage's output, to be checkpointed and announced (see :func:`commit_stages`)."""

    stage: str
    version: str
    article_id: str
    doc_json: str
    ms: float | None
    at: float = field(default_factory=time.time)

    def event(self) -> dict:
        """The fields of this output's event entry."""
        return events.event_fields(self.stage, self.doc_json, self.article_id, self.version, self.ms, at=self.at)


def _queue_outputs(pipe, settings: Settings, outputs: list[StageOutput]) -> None:
    for out in outputs:
        pipe.set(keys.checkpoint_key(out.article_id, out.stage, out.version), out.doc_json, ex=settings.result_ttl_s)
        events.publish(pipe, out.stage, out.event(), settings.events_maxlen)


def commit_stages(client: redis.Redis, settings: Settings, outputs: list[StageOutput]) -> None:
    """Record the stages' outputs and publish their events in one transaction.

    All or nothing, so a crash never leaves an event without a checkpoint (which would
    re-emit it on redelivery) or the reverse. The articles' in-flight leases are renewed
    in the same round trip: they made progress.
    """
    if not outputs:
        return
    pipe = client.pipeline(transaction=True)
    _queue_outputs(pipe, settings, outputs)
    for article_id in dict.fromkeys(out.article_id for out in outputs):
        ledger.renew(pipe, settings, article_id)
    pipe.execute()


#: ``stored`` argument of :func:`save_document` when the stored digest was not read yet.
NOT_READ = object()


def _stored_marker(article_id: str) -> str:
    return keys.checkpoint_key(article_id, keys.STORE_STAGE, "1")


def save_document(
    client: redis.Redis,
    settings: Settings,
    doc_json: str,
    article_id: str,
    *,
    outputs: list[StageOutput] = (),
    stored=NOT_READ,
) -> bool:
    """Store the finished Document and announce it on ``newsflow:events:done``.

    Idempotent by id: the document key is overwritten with the same content, and the
    done event is emitted once per stored version. Returns False when it was already stored.
    Either way the article leaves the in-flight ledger.

    ``outputs`` (stage outputs not yet committed) are written in the same transaction, and
    ``stored`` is the stored digest already read by :func:`get_checkpoint_and_stored`: a
    worker that runs every stage of an article inline needs two round trips, not eight.
    """
    marker = _stored_marker(article_id)
    digest = hashlib.blake2b(doc_json.encode("utf-8"), digest_size=16).hexdigest()
    if stored is NOT_READ:
        stored = client.get(marker)
    pipe = client.pipeline(transaction=True)
    _queue_outputs(pipe, settings, list(outputs))
    ledger.settle(pipe, [article_id])
    if stored == digest:
        pipe.execute()
        return False
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

    Exact duplicates share the content key. Near-duplicate candidates share an LSH band of
    the MinHash signature and are confirmed by signature similarity, so a shared band
    alone never makes a duplicate. Needs ``doc.duplicate`` from the clean stage.
    """
    dup = doc.duplicate
    if dup is None:
        return None
    ttl = settings.result_ttl_s
    bands = list(band_keys(dup.signature)) if dup.signature else []
    # One round trip: claim the content key, read the bands' members, then index this
    # article (after the reads, so it never finds itself; a redelivery is subtracted below).
    pipe = client.pipeline(transaction=False)
    pipe.set(keys.content_key_index(dup.content_key), doc.id, nx=True, ex=ttl, get=True)
    for band in bands:
        pipe.smembers(keys.band_index(band))
    if bands:
        pipe.set(keys.signature_key(doc.id), dup.signature, ex=ttl)
    for band in bands:
        pipe.sadd(keys.band_index(band), doc.id)
        pipe.expire(keys.band_index(band), ttl)
    replies = pipe.execute()
    first, members = replies[0], replies[1 : 1 + len(bands)]
    dup.seen_before = first is not None and first != doc.id
    if dup.seen_before:
        dup.near_duplicate_of = first
    candidates = sorted({m for band_members in members for m in band_members} - {doc.id})
    if candidates and not dup.near_duplicate_of:
        signatures = client.mget([keys.signature_key(c) for c in candidates])
        scored = [(similarity(dup.signature, sig), c) for c, sig in zip(candidates, signatures) if sig]
        best = max(scored, default=(0.0, None))
        if best[0] >= NEAR_SIMILARITY:
            dup.near_duplicate_of = best[1]
    return dup
