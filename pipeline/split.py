"""Articles split out of another one (an appended "read also" article) become Documents of their own."""

from __future__ import annotations

from pipeline.models import Document


def split_off_documents(parent: Document) -> list[Document]:
    """One new Document per removed block that cleaning marked ``split_off``.

    Each child has its own id (``RemovedBlock.split_id``), ``derived_from`` set to the
    parent and the parent's source metadata; it has not been cleaned yet.
    """
    children = []
    for block in parent.removed:
        if not block.split_off or not block.split_id:
            continue
        children.append(
            Document(
                id=block.split_id,
                derived_from=parent.id,
                source=parent.source,
                published_at=parent.published_at,
                language_hint=parent.language_hint,
                metadata=dict(parent.metadata),
                content_type="text/plain",
                body=block.text,
            )
        )
    return children
