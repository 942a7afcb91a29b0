"""Validation at the edge: raw producer input -> ``ArticleIn``, or one clear error line."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from pipeline.errors import ArticleTooLarge, InvalidArticle
from pipeline.models import ArticleIn


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming each bad field and its problem, e.g. ``body: field required``."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ())) or "article"
        msg = err.get("msg", "invalid")
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if err.get("type") == "extra_forbidden":
            msg = "unknown field (put producer extras in 'metadata')"
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


def decode_bytes(data: bytes, *, what: str = "input") -> str:
    """UTF-8 text of ``data`` (a BOM is dropped), or :class:`InvalidArticle` naming the bad offset."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidArticle(
            f"{what} is not valid UTF-8 (bad byte at offset {exc.start})",
            hint="re-encode the article as UTF-8 before submitting",
            code="E102",
        ) from None


def check_body_size(body: str, max_bytes: int) -> None:
    """:class:`ArticleTooLarge` when ``body`` is over ``max_bytes`` in UTF-8 (at submit and at the worker)."""
    # Cheap bound first: a UTF-8 character is at most 4 bytes.
    if len(body) * 4 > max_bytes:
        size = len(body.encode("utf-8", "surrogatepass"))
        if size > max_bytes:
            raise ArticleTooLarge(
                f"body is {size:,} bytes, over the {max_bytes:,}-byte limit",
                hint="split the article or raise NEWSFLOW_MAX_ARTICLE_BYTES",
            )


def check_size(article: ArticleIn, max_bytes: int) -> ArticleIn:
    """``article`` unchanged, or :class:`ArticleTooLarge` when its body exceeds ``max_bytes``."""
    check_body_size(article.body, max_bytes)
    return article


def parse_article(data: Any, *, max_bytes: int) -> ArticleIn:
    """Validate one article given as a dict, JSON text or JSON bytes.

    Raises :class:`InvalidArticle` (or :class:`ArticleTooLarge`) with a one-line message.
    """
    if isinstance(data, ArticleIn):
        return check_size(data, max_bytes)
    if isinstance(data, (bytes, bytearray)):
        data = decode_bytes(bytes(data))
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise InvalidArticle(
                f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
                hint="send one JSON object per article",
                code="E103",
            ) from None
    if not isinstance(data, dict):
        raise InvalidArticle(
            f"an article must be a JSON object, got {type(data).__name__}",
            hint='send {"body": "..."}',
            code="E104",
        )
    try:
        article = ArticleIn.model_validate(data)
    except ValidationError as exc:
        raise InvalidArticle(describe_validation_error(exc), hint="fix the field and resubmit") from None
    return check_size(article, max_bytes)
