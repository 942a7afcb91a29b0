"""Arabic proclitics (و ف ب ك ل and the article) in front of names.

Written Arabic attaches conjunctions and prepositions to the next word: "والعراق",
"بالعراق", "للعراق" all contain the name العراق. The model tags whole tokens; this
module finds where the name itself starts so entity offsets cover the name's own
letters, and gives the name's normalised form. In "للعراق" the article's alef is not
written (ل + ال + عراق), so the span starts after the first lam and the normalised
form restores ال.
"""

from __future__ import annotations

from typing import Callable

CONJUNCTIONS = ("و", "ف")
PREPOSITIONS = ("ب", "ك", "ل")


def proclitic_splits(token: str) -> list[tuple[int, str]]:
    """Every plausible (offset, stem) split of ``token``, longest proclitic first.

    ``stem`` is the name as it is written on its own (with ال restored after لل);
    ``offset`` is where the name's letters start inside ``token``.
    """
    out: list[tuple[int, str]] = []
    heads = [0]
    if len(token) > 3 and token[0] in CONJUNCTIONS:
        heads.append(1)
    for head in list(heads):
        rest = token[head:]
        if len(rest) > 3 and rest[0] in PREPOSITIONS:
            if rest[0] == "ل" and rest[1] == "ل":
                # ل + ال + X is written لل + X: the name starts at the second lam.
                out.append((head + 1, "ا" + rest[1:]))
            else:
                out.append((head + 1, rest[1:]))
    if 1 in heads:
        out.append((1, token[1:]))
    out.sort(key=lambda split: -split[0])
    return out


def strip_proclitic(
    token: str, known: Callable[[str], bool], freq: Callable[[str], int]
) -> tuple[int, str]:
    """Where the name in ``token`` starts, and the name: ``(offset, stem)``.

    A split is taken when the stem is a known name, when it starts with the article
    (a proclitic in front of ال is unambiguous), or when the stem alone is more frequent
    in news text than the whole token (وليد stays whole, ومحمد splits).
    ``known`` and ``freq`` take the folded key of a word.
    """
    from pipeline.ner.normalize import fold_arabic

    whole = fold_arabic(token)
    if known(whole):
        return 0, token
    whole_freq = freq(whole)
    for offset, stem in proclitic_splits(token):
        key = fold_arabic(stem)
        if len(key) < 2:
            continue
        if known(key) or (key.startswith("ال") and len(key) > 3) or freq(key) > 2 * whole_freq + 2:
            return offset, stem
    return 0, token
