"""Clean stage: raw body (text or HTML) -> normalised story text."""

from __future__ import annotations

from html.parser import HTMLParser

from pipeline.errors import StageError
from pipeline.models import Document
from pipeline.registry import register
from pipeline.text.normalize import nfc, normalize_whitespace

VERSION = "0.1.0"

_SKIP_TAGS = {"script", "style", "noscript", "template", "head"}
_BLOCK_TAGS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article"}


class _TextExtractor(HTMLParser):
    """Visible text of an HTML document, with block elements as line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag in _SKIP_TAGS and self._skip:
            self._skip -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Visible text of ``html`` (scripts and styles dropped); never fetches anything."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


@register("clean", VERSION)
def clean(doc: Document) -> Document:
    """Turn ``doc.body`` into ``doc.text``: HTML to text, NFC, whitespace with paragraphs kept.

    Raises a permanent :class:`StageError` when nothing is left, so the article goes to
    dead letters rather than becoming an empty record.
    """
    if doc.body is None:
        if doc.text:
            return doc  # already cleaned (e.g. a replayed document)
        raise StageError("document has no body to clean", hint="submit the article with a body", code="E210")
    raw = html_to_text(doc.body) if doc.content_type == "text/html" else doc.body
    doc.text = normalize_whitespace(nfc(raw))
    if not doc.text:
        raise StageError(
            "no article text after cleaning",
            hint="the body held only markup or boilerplate; check the producer's extraction",
            code="E211",
        )
    doc.body = None  # the raw input is not needed downstream; keep messages small
    return doc
