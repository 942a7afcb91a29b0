"""Entities stage. Its model has not landed yet (issue #5): it leaves `entities` empty."""

from __future__ import annotations

from pipeline.models import Document
from pipeline.registry import register

VERSION = "0.0.0"


@register(
    "entities",
    VERSION,
    implemented=False,
    note="no entities model yet: 'entities' left empty rather than guessed",
)
def entities(doc: Document) -> Document:
    """Pass the document through unchanged; provenance records that nothing was computed."""
    return doc
