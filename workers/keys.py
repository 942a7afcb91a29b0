"""Every Redis key, stream and queue name newsflow uses, in one place."""

from __future__ import annotations

from pipeline.registry import STAGE_ORDER

PREFIX = "newsflow"
STORE_STAGE = "store"
QUEUE_STAGES: tuple[str, ...] = (*STAGE_ORDER, STORE_STAGE)


def queue(stage: str) -> str:
    """Celery queue of ``stage``: ``newsflow.<stage>``."""
    return f"{PREFIX}.{stage}"


def task_name(stage: str) -> str:
    """Celery task name of ``stage``: ``newsflow.<stage>`` (documented for foreign producers)."""
    return f"{PREFIX}.{stage}"


def events_stream(stage: str) -> str:
    """Event stream of ``stage``; ``done`` is the store's stream."""
    return f"{PREFIX}:events:{stage}"


DONE_STREAM = events_stream("done")
DEAD_STREAM = f"{PREFIX}:dead"


def doc_key(article_id: str) -> str:
    """Where the finished Document of ``article_id`` is stored (JSON)."""
    return f"{PREFIX}:doc:{article_id}"


def checkpoint_key(article_id: str, stage: str, version: str) -> str:
    """Output of ``stage`` at ``version`` for ``article_id``: makes redeliveries idempotent."""
    return f"{PREFIX}:ckpt:{article_id}:{stage}:{version}"


def dead_index_key(article_id: str) -> str:
    """Latest dead-letter entry id of ``article_id`` (so ``wait`` can report the failure)."""
    return f"{PREFIX}:deadidx:{article_id}"


def content_key_index(content_key: str) -> str:
    """First article id seen with this exact content key."""
    return f"{PREFIX}:dup:exact:{content_key}"


def band_index(band: str) -> str:
    """Article ids sharing one near-duplicate LSH band."""
    return f"{PREFIX}:dup:band:{band}"


def signature_key(article_id: str) -> str:
    """The near-duplicate signature of ``article_id``, to confirm LSH candidates."""
    return f"{PREFIX}:dup:sig:{article_id}"
