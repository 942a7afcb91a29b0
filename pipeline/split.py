"""Articles split out of another one (an appended "read also" article) become Documents of their own."""

from __future__ import annotations

from pipeline.models import Document
from pipeline.text.boilerplate import is_headline

# A first line this short that does not end as a sentence is the appended article's headline.
_TITLE_MAX_WORDS = 30


def split_off_documents(parent: Document) -> list[Document]:
    """One new Document per removed block that cleaning marked ``split_off``.

    Each child has its own id (``RemovedBlock.split_id``), ``derived_from`` set to the
    parent and the parent's source metadata; it has not been cleaned yet. When the
    block starts with a headline line, that line becomes the child's ``title`` and the
    rest its body.
    """
    children = []
    for block in parent.removed:
        if not block.split_off or not block.split_id:
            continue
        title, body = split_title(block.text)
        children.append(
            Document(
                id=block.split_id,
                derived_from=parent.id,
                title=title,
                source=parent.source,
                published_at=parent.published_at,
                language_hint=parent.language_hint,
                metadata=dict(parent.metadata),
                content_type="text/plain",
                body=body,
            )
        )
    return children


def split_title(text: str) -> tuple[str | None, str]:
    """``(title, body)`` of an appended article: its first line when that is a headline.

    The body is never empty: a block that is a single line stays whole, with no title.
    """
    first, _, rest = text.strip().partition("\n")
    first = first.strip()
    if rest.strip() and is_headline(first, _TITLE_MAX_WORDS):
        return first, rest.strip()
    return None, text
