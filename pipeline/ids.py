"""Article ids: the producer's own, or a content hash so a resubmission is recognised."""

from __future__ import annotations

import hashlib

from pipeline.models import ArticleIn
from pipeline.text.normalize import matching_form


def content_key(text: str) -> str:
    """The exact duplicate key of ``text``: a hash of its normalised matching form."""
    digest = hashlib.sha256(matching_form(text).encode("utf-8")).hexdigest()
    return f"nf-{digest[:32]}"


def article_id(article: ArticleIn) -> str:
    """The producer's id when given, else the content key of title and body."""
    if article.id:
        return article.id
    return content_key(f"{article.title or ''}\n{article.body}")


def derived_id(parent_id: str, index: int) -> str:
    """Id of the ``index``-th article split out of ``parent_id`` (stable across redeliveries)."""
    suffix = f"/part{index}"
    return parent_id[: 128 - len(suffix)] + suffix
