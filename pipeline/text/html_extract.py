"""Main-content extraction from HTML with trafilatura, offline, plus an audit of what it left out.

trafilatura is given the HTML *string* only: it never downloads anything (no
``fetch_url``, no URL resolution), so links, scripts and images in the page cannot
cause network access. When trafilatura finds no main content (tiny pages, or markup
nested deeper than libxml2 parses), the visible text of the page is used instead and
the caller gets a warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from html.parser import HTMLParser

from pipeline.text.normalize import matching_form

_SKIP_TAGS = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object"}
_BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th",
    "section", "article", "header", "footer", "nav", "aside", "blockquote", "figure",
    "figcaption", "pre", "table", "dd", "dt", "main", "form", "hr",
}


@dataclass
class Extraction:
    """What came out of one HTML page."""

    text: str
    title: str | None = None
    author: str | None = None
    date: str | None = None
    sitename: str | None = None
    discarded: list[str] = field(default_factory=list)
    used_fallback: bool = False


class _VisibleText(HTMLParser):
    """Visible text of an HTML document, one block element per paragraph (stdlib, linear)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """All visible text of ``html`` (scripts, styles and <head> dropped), blocks as paragraphs."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def _quiet_trafilatura() -> None:
    # trafilatura logs every page it cannot parse at WARNING/ERROR; the stage reports
    # that itself (as a Document warning), so keep worker logs readable.
    for name in ("trafilatura", "htmldate", "courlan", "justext"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def extract(html: str, url: str | None = None) -> Extraction:
    """Main text and metadata of ``html`` via trafilatura; never fetches anything.

    Paragraphs are separated by blank lines. ``discarded`` lists the visible lines
    trafilatura left out (menus, sidebars, footers), for the audit.
    """
    import trafilatura  # imported lazily: loading it costs ~0.3 s and only HTML needs it

    _quiet_trafilatura()
    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url,  # used for metadata only; trafilatura does not download it
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            deduplicate=False,
        )
    except Exception:  # noqa: BLE001 - a parser crash on one page must not kill the worker
        doc = None
    page_text = visible_text(html)
    text = (doc.text or "") if doc is not None else ""
    used_fallback = not text.strip()
    if used_fallback:
        text = page_text
    else:
        text = text.replace("\n", "\n\n")  # trafilatura separates paragraphs with one newline
    kept = {matching_form(line) for line in text.split("\n") if line.strip()}
    discarded = []
    seen: set[str] = set()
    for line in page_text.split("\n"):
        form = matching_form(line)
        if form and form not in kept and form not in seen:
            seen.add(form)
            discarded.append(line.strip())
    return Extraction(
        text=text,
        title=getattr(doc, "title", None) or None,
        author=getattr(doc, "author", None) or None,
        date=getattr(doc, "date", None) or None,
        sitename=getattr(doc, "sitename", None) or None,
        discarded=discarded,
        used_fallback=used_fallback,
    )
