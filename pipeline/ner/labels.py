"""The one tag-mapping table: every dataset's tags onto newsflow's entity labels.

| dataset tag                         | newsflow label |
|-------------------------------------|----------------|
| PER, PERS, person                   | PERSON         |
| ORG, corporation, group             | ORG            |
| LOC, GPE, location                  | LOC            |
| MISC, MIS, MIS0-3, creative-work, product, NORP | MISC |
| DATE (and TIME)                     | DATE (rule-based in newsflow; never learned) |
| anything else                       | O (dropped)    |

LOC covers countries, cities and other geopolitical entities.
"""

from __future__ import annotations

LABELS = ("PERSON", "ORG", "LOC", "DATE", "MISC")
MODEL_LABELS = ("PERSON", "ORG", "LOC", "MISC")  # the taggers learn these; DATE comes from rules

TAG_MAP: dict[str, str | None] = {
    "PER": "PERSON", "PERS": "PERSON", "PERSON": "PERSON", "person": "PERSON",
    "ORG": "ORG", "corporation": "ORG", "group": "ORG",
    "LOC": "LOC", "GPE": "LOC", "location": "LOC",
    "MISC": "MISC", "MIS": "MISC", "MIS0": "MISC", "MIS1": "MISC", "MIS2": "MISC",
    "MIS3": "MISC", "MIS-1": "MISC", "MIS-2": "MISC", "MIS-3": "MISC",
    "creative-work": "MISC", "product": "MISC", "NORP": "MISC",
    "DATE": "DATE", "TIME": "DATE",
}


def map_tag(tag: str, keep: tuple[str, ...] = MODEL_LABELS) -> str:
    """A dataset BIO tag mapped onto newsflow's labels (``O`` when unmapped or not in ``keep``)."""
    if tag == "O" or "-" not in tag:
        return "O"
    prefix, _, name = tag.partition("-")
    label = TAG_MAP.get(name)
    if prefix not in ("B", "I") or label not in keep:
        return "O"
    return f"{prefix}-{label}"


def bio_tags(labels: tuple[str, ...] = MODEL_LABELS) -> list[str]:
    """The tagger's tag inventory: O then B-/I- for each label."""
    return ["O"] + [f"{p}-{label}" for label in labels for p in ("B", "I")]


def spans(tags: list[str]) -> list[tuple[int, int, str]]:
    """Entity spans ``(first, last_exclusive, label)`` from BIO tags; a stray I- opens a span."""
    out = []
    start, label = None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, name = tag.partition("-")
        if start is not None and (prefix != "I" or name != label):
            out.append((start, i, label))
            start, label = None, None
        if prefix == "B" or (prefix == "I" and start is None):
            start, label = i, name
    return out
