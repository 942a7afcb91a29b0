"""Building the Celery chain that carries one Document through the stage queues."""

from __future__ import annotations

from celery import Celery, chain
from celery.canvas import Signature

from workers import keys


def stage_signature(app: Celery, stage: str, *args) -> Signature:
    """A signature for ``stage`` with its queue set explicitly.

    Chains can lose routing otherwise (Celery issues #5219, #7738), so every step names
    its own queue.
    """
    return app.signature(keys.task_name(stage), args=args, queue=keys.queue(stage))


def build_chain(app: Celery, doc: dict, stages: list[str]) -> chain:
    """``stages[0](doc) -> stages[1] -> ... -> store`` as one chain."""
    if not stages:
        return chain(stage_signature(app, keys.STORE_STAGE, doc))
    first, *rest = stages
    steps = [stage_signature(app, first, doc)]
    steps += [stage_signature(app, name) for name in rest]
    steps.append(stage_signature(app, keys.STORE_STAGE))
    return chain(*steps)


def article_headers(doc: dict) -> dict:
    """Message headers naming the article a task message carries (the ledger's broker scan)."""
    return {keys.ARTICLE_HEADER: doc.get("id")} if isinstance(doc, dict) and doc.get("id") else {}


def publish_chain(app: Celery, doc: dict, stages: list[str], **options) -> None:
    """Publish :func:`build_chain` for ``doc``, its messages naming the article in a header."""
    build_chain(app, doc, stages).apply_async(headers=article_headers(doc), **options)


def remaining_stages(request_chain: list | None) -> list[str]:
    """Stage names still to run after the current task, read from ``task.request.chain``."""
    names = []
    for sig in reversed(request_chain or []):
        task = sig.get("task", "") if isinstance(sig, dict) else getattr(sig, "task", "")
        stage = task.rsplit(".", 1)[-1]
        if stage != keys.STORE_STAGE:
            names.append(stage)
    return names
