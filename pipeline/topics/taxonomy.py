"""The topic taxonomy as data: IPTC Media Topics codes and labels from ``taxonomy.tsv``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import StageError


@dataclass(frozen=True)
class TopicTerm:
    """One taxonomy entry: ``medtop:`` code, English label, parent code ('' at the top level)."""

    code: str
    label: str
    parent: str = ""


def load_taxonomy(path: Path) -> dict[str, TopicTerm]:
    """code -> :class:`TopicTerm`, in file order; malformed lines are a coded error."""
    terms: dict[str, TopicTerm] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0].startswith("medtop:"):
            raise StageError(
                f"taxonomy {path}:{n} is not 'medtop:CODE<TAB>label[<TAB>parent]'",
                hint="fix the line; codes look like medtop:11000000",
                code="E266",
            )
        code, label = parts[0].strip(), parts[1].strip()
        parent = parts[2].strip() if len(parts) > 2 else ""
        terms[code] = TopicTerm(code, label, parent)
    return terms
