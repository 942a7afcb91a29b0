"""Language stage. Its model has not landed yet (issue #4): it leaves `language` empty."""

from __future__ import annotations

from pipeline.models import Document
from pipeline.registry import register

VERSION = "0.0.0"


@register(
    "language",
    VERSION,
    implemented=False,
    note="no language model yet: 'language' left empty rather than guessed",
)
def language(doc: Document) -> Document:
    """Pass the document through unchanged; provenance records that nothing was computed."""
    return doc
