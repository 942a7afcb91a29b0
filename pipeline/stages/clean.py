"""Clean stage: raw body (text or HTML) -> the story text, an audit of what was removed, duplicate keys.

Steps, in order:

1. HTML: main content and metadata via trafilatura (never fetches; see
   :mod:`pipeline.text.html_extract`). Lines outside the main content are audited.
2. Hygiene: HTML entities, UTF-8 mojibake, NFC, zero-width/bidi controls and soft
   hyphens removed, whitespace normalised with paragraphs kept.
3. Boilerplate: the marker table and structural rules of
   :mod:`pipeline.text.boilerplate`. Appended "read also" articles are split off:
   each becomes a ``RemovedBlock(split_off=True)`` whose ``split_id`` is also listed in
   ``doc.derived_ids``; the worker turns each into a Document of its own
   (:func:`pipeline.split.split_off_documents`).
4. Duplicate keys: ``content_key`` (exact, on the matching form) and a MinHash
   signature for near-duplicate lookup through ``neardup.band_keys``.

``Document.text`` is what later stages analyse; entity offsets refer to it.
"""

from __future__ import annotations

from datetime import datetime, timezone

from pipeline.errors import StageError
from pipeline.ids import content_key, derived_id
from pipeline.models import Document, Duplicate, RemovedBlock
from pipeline.registry import register
from pipeline.text import boilerplate
from pipeline.text.decode import check_decoded, repair_mojibake
from pipeline.text.html_extract import extract
from pipeline.text.normalize import hygiene, matching_form
from pipeline.text.neardup import signature

VERSION = "1.0.0"

# Longest line that can still be a repeated headline at the top of the text.
_TITLE_MAX_CHARS = 300


@register("clean", VERSION)
def clean(doc: Document) -> Document:
    """Turn ``doc.body`` into ``doc.text``, record every removal, split off appended articles.

    Raises a permanent :class:`StageError`: E210 without a body, E211 when nothing is
    left after cleaning (the article goes to dead letters rather than becoming an
    empty record), E213 for undecodable input.
    """
    if doc.body is None:
        if doc.text:
            return doc  # already cleaned (e.g. a replayed document)
        raise StageError("document has no body to clean", hint="submit the article with a body", code="E210")

    check_decoded(doc.body)
    raw = repair_mojibake(doc.body)
    removed: list[RemovedBlock] = []
    titles = [doc.title]
    if doc.content_type == "text/html":
        raw, page_title = _from_html(doc, raw, removed)
        titles.append(page_title)

    text = hygiene(raw)
    text = _drop_repeated_title(text, titles, removed)
    result = boilerplate.strip_boilerplate(text, host=boilerplate.host_of(doc.url, doc.source))

    splits = 0
    for block in result.removed:
        if block.split_off:
            splits += 1
            child_id = derived_id(doc.id, splits)
            removed.append(RemovedBlock(text=block.text, reason=block.reason, rule=block.rule, split_off=True, split_id=child_id))
            if child_id not in doc.derived_ids:
                doc.derived_ids.append(child_id)
        else:
            removed.append(RemovedBlock(text=block.text, reason=block.reason, rule=block.rule))

    if not result.text:
        raise StageError(
            "no article text after cleaning",
            hint="the body held only markup or boilerplate; check the producer's extraction "
            f"({len(removed)} blocks were removed, see the payload)",
            code="E211",
        )
    doc.text = result.text
    doc.removed = removed
    doc.duplicate = Duplicate(content_key=content_key(doc.text), signature=signature(doc.text))
    doc.body = None  # the raw input is not needed downstream; keep messages small
    return doc


def _from_html(doc: Document, html: str, removed: list[RemovedBlock]) -> tuple[str, str | None]:
    """Main content and title of an HTML body; fills title/date/author/site the producer left empty."""
    page = extract(html, url=doc.url)
    if page.used_fallback:
        doc.warnings.append("clean: trafilatura found no main content; used all visible text of the page")
    if page.discarded:
        removed.append(
            RemovedBlock(
                text="\n".join(page.discarded),
                reason="outside the main content (navigation, sidebars, footer)",
                rule="html.trafilatura",
            )
        )
    if not doc.title and page.title:
        doc.title = hygiene(page.title)
    if doc.published_at is None and page.date:
        doc.published_at = _parse_date(page.date)
    if page.author and "author" not in doc.metadata:
        doc.metadata["author"] = hygiene(page.author)
    if page.sitename and "sitename" not in doc.metadata:
        doc.metadata["sitename"] = hygiene(page.sitename)
    return page.text, page.title


def _parse_date(value: str) -> datetime | None:
    """trafilatura's ISO date (``YYYY-MM-DD``, sometimes with a time) as an aware datetime."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _drop_repeated_title(text: str, titles: list[str | None], removed: list[RemovedBlock]) -> str:
    """Remove a first line that only repeats the title (extractors keep the <h1>)."""
    forms = {matching_form(t) for t in titles if t}
    if not forms:
        return text
    first, _, rest = text.partition("\n")
    if len(first) <= _TITLE_MAX_CHARS and rest.strip() and matching_form(first) in forms:
        removed.append(RemovedBlock(text=first, reason="headline repeated at the top of the text", rule="structure.title_line"))
        return rest.lstrip("\n")
    return text
