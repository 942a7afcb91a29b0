"""Reader for SIB-200 / Flores-format folders: ``<lang>_<Script>/{train,dev}.tsv``.

Each folder name is a language variety label such as ``arb_Arab``; each TSV has a
header ``index_id  category  text``. Training and evaluation both read through here.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import StageError

# Where the shared data lives relative to the repository (never shipped, never committed).
DEFAULT_SIB200 = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "topics" / "sib200"


def read_split(root: Path, split: str) -> dict[str, list[str]]:
    """Sentences of ``split`` (``train``/``dev``) per folder label, for every folder that has it."""
    root = Path(root)
    if not root.is_dir():
        raise StageError(
            f"data folder {root} does not exist",
            hint="pass --data pointing at a folder of <lang>_<Script>/ sub-folders (SIB-200 layout)",
            code="E210",
        )
    out: dict[str, list[str]] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        path = folder / f"{split}.tsv"
        if not path.is_file():
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        texts = []
        for line in lines[1:]:
            fields = line.split("\t", 2)
            if len(fields) == 3 and fields[2].strip():
                texts.append(fields[2].strip())
        out[folder.name] = texts
    if not out:
        raise StageError(
            f"no {split}.tsv files under {root}",
            hint=f"expected {root}/<lang>_<Script>/{split}.tsv with columns index_id, category, text",
            code="E211",
        )
    return out
