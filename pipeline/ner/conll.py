"""Reading the NER corpora (token TAB tag, blank line between sentences) and the dev split."""

from __future__ import annotations

from pathlib import Path

from pipeline.ner.labels import map_tag

Sentence = list[tuple[str, str]]

DEV_FRACTION = 0.1


def read_conll(path: Path | str) -> list[Sentence]:
    """Sentences of (token, tag) pairs; tags are the dataset's own."""
    out: list[Sentence] = []
    current: Sentence = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if not line.strip():
                if current:
                    out.append(current)
                    current = []
                continue
            token, _, tag = line.partition("\t")
            current.append((token, tag.strip() or "O"))
    if current:
        out.append(current)
    return out


def read_mapped(path: Path | str) -> list[Sentence]:
    """:func:`read_conll` with every tag mapped onto the model's labels (``labels.map_tag``)."""
    return [[(token, map_tag(tag)) for token, tag in sent] for sent in read_conll(path)]


def split_dev(sents: list[Sentence]) -> tuple[list[Sentence], list[Sentence]]:
    """(train, dev): dev is the last 10% of the file's sentences, as issue #5 defines it."""
    cut = int(round(len(sents) * (1 - DEV_FRACTION)))
    return sents[:cut], sents[cut:]
