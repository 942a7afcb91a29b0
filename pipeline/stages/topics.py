"""Topics stage. Its model has not landed yet (issue #6): it leaves `topics` empty."""

from __future__ import annotations

from pipeline.models import Document
from pipeline.registry import register

VERSION = "0.0.0"


@register(
    "topics",
    VERSION,
    implemented=False,
    note="no topics model yet: 'topics' left empty rather than guessed",
)
def topics(doc: Document) -> Document:
    """Pass the document through unchanged; provenance records that nothing was computed."""
    return doc
