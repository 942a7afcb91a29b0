"""Readers for the topic datasets, each label mapped to IPTC through ``label_map.tsv``.

Every reader yields :class:`Example` rows. The layouts are those of the public
releases: SIB-200 ``<lang>/{train,dev}.tsv``, BBC News jsonl, MasakhaNEWS tsv and the
SaudiNewsNet daily zips (one JSON array each).
"""

from __future__ import annotations

import csv
import json
import sys
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from pipeline.resources import data_path

csv.field_size_limit(sys.maxsize)

SAUDI_WEAK = {"aleqtisadiya", "arreyadi", "arriyadiyah"}


@dataclass(frozen=True)
class Example:
    """One labelled text: ``label`` is the dataset's own, ``code`` its IPTC mapping."""

    dataset: str
    label: str
    code: str
    text: str
    title: str = ""
    group: str = ""  # language (SIB-200), date (SaudiNewsNet): what held-out splits key on


@lru_cache(maxsize=1)
def label_map() -> dict[tuple[str, str], str]:
    """(dataset, label) -> IPTC code, from the documented table."""
    table: dict[tuple[str, str], str] = {}
    for line in data_path("topics", "label_map.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        dataset, label, code = line.split("\t")[:3]
        table[(dataset, label)] = code
    return table


def dataset_codes(dataset: str) -> list[str]:
    """The IPTC codes a dataset's labels map to (its closed label set), sorted."""
    return sorted({code for (ds, _), code in label_map().items() if ds == dataset})


def _mapped(dataset: str, label: str) -> str:
    try:
        return label_map()[(dataset, label)]
    except KeyError:
        raise SystemExit(
            f"E262 label {label!r} of {dataset} has no IPTC mapping: add a row to pipeline/data/topics/label_map.tsv"
        ) from None


def read_sib200(root: Path, split: str, languages: list[str] | None = None) -> Iterator[Example]:
    """SIB-200 sentences of ``split`` (train/dev) for ``languages`` (default: every folder)."""
    dirs = sorted(p for p in root.iterdir() if p.is_dir())
    if languages:
        dirs = [d for d in dirs if d.name in set(languages)]
    for lang_dir in dirs:
        path = lang_dir / f"{split}.tsv"
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                yield Example("sib200", row["category"], _mapped("sib200", row["category"]), row["text"], group=lang_dir.name)


def read_bbc(path: Path) -> Iterator[Example]:
    """BBC News 2004-05 full articles (jsonl: label, title, text)."""
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                yield Example("bbc", row["label"], _mapped("bbc", row["label"]), row["text"], row.get("title", ""))


def read_masakhanews(path: Path) -> Iterator[Example]:
    """MasakhaNEWS tsv (category, headline, text, url)."""
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            yield Example(
                "masakhanews", row["category"], _mapped("masakhanews", row["category"]), row["text"], row.get("headline", "")
            )


def read_saudinewsnet(root: Path, sources: set[str] | None = SAUDI_WEAK) -> Iterator[Example]:
    """SaudiNewsNet articles (default: the single-subject outlets, weak labels; None: every outlet).

    ``group`` is the day. Articles of outlets without a label mapping get label = outlet, code ''.
    """
    for zpath in sorted(root.glob("*.zip")):
        with zipfile.ZipFile(zpath) as z:
            for name in z.namelist():
                for art in json.loads(z.read(name)):
                    src = art.get("source", "")
                    if (sources is None or src in sources) and art.get("content"):
                        code = _mapped("saudinewsnet", src) if src in SAUDI_WEAK else ""
                        yield Example("saudinewsnet", src, code, art["content"], art.get("title") or "", zpath.stem)


def read_any(path: Path, split: str = "dev") -> Iterator[Example]:
    """Pick the reader from the path: a SIB-200 root, a SaudiNewsNet folder, BBC jsonl or MasakhaNEWS tsv."""
    if path.is_dir():
        if any(path.glob("*.zip")):
            return read_saudinewsnet(path)
        return read_sib200(path, split)
    if path.suffix == ".jsonl":
        return read_bbc(path)
    if path.suffix == ".tsv":
        return read_masakhanews(path)
    raise SystemExit(f"E263 cannot tell the dataset of {path}: give a SIB-200 root, a SaudiNewsNet folder, a .jsonl or a .tsv")
