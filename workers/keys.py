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

# The in-flight ledger (workers.ledger): article id -> lease deadline, and id -> entry payload.
INFLIGHT = f"{PREFIX}:inflight"
INFLIGHT_ENTRIES = f"{PREFIX}:inflight:entry"
RECONCILE_LOCK = f"{PREFIX}:inflight:lock"
REPUBLISHED_TOTAL = f"{PREFIX}:inflight:republished"
# Message header naming the article a task message carries (the broker scan reads it).
ARTICLE_HEADER = "newsflow_id"


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


# kombu's Redis transport keeps a queue's messages in one list per priority step and the
# messages workers hold in one hash (its defaults; newsflow sets no key prefix).
KOMBU_PRIORITY_SEP = "\x06\x16"
KOMBU_PRIORITY_STEPS = (0, 3, 6, 9)
KOMBU_UNACKED_KEY = "unacked"


def broker_lists(queue_name: str) -> list[str]:
    """The Redis lists that hold ``queue_name``'s messages in a Redis broker."""
    return [queue_name if step == 0 else f"{queue_name}{KOMBU_PRIORITY_SEP}{step}" for step in KOMBU_PRIORITY_STEPS]


def timed_out_key(task_id: str) -> str:
    """Marks a task message whose run hit the hard time limit in a solo worker (already dead-lettered)."""
    return f"{PREFIX}:timedout:{task_id}"


def redeliveries_key(task_id: str) -> str:
    """How often the broker has redelivered the message of ``task_id``."""
    return f"{PREFIX}:redelivered:{task_id}"
