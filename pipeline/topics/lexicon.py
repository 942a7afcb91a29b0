"""Weighted multilingual topic lexicons, matched EMM-style on folded words.

A lexicon file (``pipeline/data/topics/lexicons/<lang>.tsv``, and any ``*.tsv`` in the
directory named by ``NEWSFLOW_TOPIC_LEXICONS``) has one term per line:
``IPTC code <TAB> weight <TAB> term``. A term is a word or phrase; a trailing ``*``
matches any ending. Text and terms go through the same folding (:func:`fold_words`),
so users write terms the natural way (``الحرب``, ``élection``) and they still match
``والحرب`` or ``ELECTION``.
"""

from __future__ import annotations

import math
import os
import re
import sys
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pipeline.errors import StageError

_WORD = re.compile(r"\w+")
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_AR_MAP = str.maketrans({"ى": "ي", "ة": "ه", "ی": "ي", "ک": "ك", "ـ": None, "ٱ": "ا"})
# Proclitics, longest first; stripped only when at least 3 letters remain, so the same
# light stem comes out of a term and of any prefixed form of it in the text.
_PROCLITICS = ("وبال", "وكال", "فبال", "وال", "بال", "كال", "فال", "ولل", "لل", "ال", "و", "ف", "ب", "ل", "ك")
_MIN_STEM = 3


@lru_cache(maxsize=1 << 16)
def _fold_word(word: str) -> str:
    # Cached: news vocabulary is Zipfian and this ran once per word of every article
    # (a fifth of the topic stage's time on Arabic news).
    if _ARABIC.search(word):
        word = word.translate(_AR_MAP)
        for p in _PROCLITICS:
            if word.startswith(p) and len(word) - len(p) >= _MIN_STEM:
                return word[len(p) :]
    return word


@lru_cache(maxsize=1)
def _nonspacing_marks() -> dict[int, None]:
    """str.translate table deleting every combining mark (category Mn): one C-level pass per
    text instead of a Python call per character."""
    return {cp: None for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)) == "Mn"}


def fold_words(text: str) -> list[str]:
    """Matching form of ``text`` as words: no diacritics or case, Arabic letters and clitics folded."""
    plain = unicodedata.normalize("NFKD", text).translate(_nonspacing_marks()).casefold()
    return [_fold_word(w) for w in _WORD.findall(plain.replace("_", " "))]


@dataclass(frozen=True)
class Term:
    """One lexicon entry, folded."""

    code: str
    weight: float
    words: tuple[str, ...]
    wildcard: bool
    source: str  # the term as written, for evidence


# Words whose one-word hits a lexicon remembers (6 MB per lexicon when full, measured on
# Arabic news): news vocabulary is Zipfian, and trying every stem of every word was the
# largest cost of the Arabic topic stage.
_WORD_CACHE_LIMIT = 50_000


@dataclass
class Lexicon:
    """All terms: one-word terms by their folded word (exact) or stem (wildcard, prefix),
    phrases by their first folded word."""

    exact: dict[str, list[Term]] = field(default_factory=lambda: defaultdict(list))
    prefix: dict[str, list[Term]] = field(default_factory=lambda: defaultdict(list))
    phrases: dict[str, list[Term]] = field(default_factory=lambda: defaultdict(list))
    languages: set[str] = field(default_factory=set)
    weights: dict[tuple[str, str], float] = field(default_factory=dict)
    size: int = 0
    _seen: dict[tuple, str] = field(default_factory=dict, repr=False)
    _word_hits: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict, repr=False, compare=False)

    def add(self, term: Term) -> None:
        """Index one term; a term that folds like one already listed for the code is merged.

        (``محادثات`` and ``المحادثات`` fold alike: counting both would double the evidence.)
        """
        folded = (term.code, term.words, term.wildcard)
        if folded in self._seen:
            first = self._seen[folded]
            self.weights[(term.code, first)] = max(self.weights[(term.code, first)], term.weight)
            return
        self._seen[folded] = term.source
        self.weights[(term.code, term.source)] = term.weight
        if len(term.words) > 1:
            self.phrases[term.words[0]].append(term)
        elif term.wildcard:
            self.prefix[term.words[0]].append(term)
        else:
            self.exact[term.words[0]].append(term)
        self._word_hits.clear()
        self.size += 1

    def match(self, words: list[str]) -> dict[str, dict[str, int]]:
        """code -> {term as written: count} for every term found in ``words``."""
        hits: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        cache, phrases = self._word_hits, self.phrases
        for i, w in enumerate(words):
            found = cache.get(w)
            if found is None:
                found = self._single_word_hits(w)
                if len(cache) < _WORD_CACHE_LIMIT:
                    cache[w] = found
            for code, source in found:
                hits[code][source] += 1
            for term in phrases.get(w, ()):
                if _phrase_at(words, i, term):
                    hits[term.code][term.source] += 1
        return hits

    def _single_word_hits(self, w: str) -> tuple[tuple[str, str], ...]:
        """(code, term) of every one-word term ``w`` matches: exactly, or a wildcard stem of it."""
        found = [(t.code, t.source) for t in self.exact.get(w, ())]
        for cut in range(_MIN_STEM, len(w) + 1):
            found += [(t.code, t.source) for t in self.prefix.get(w[:cut], ())]
        return tuple(found)


def _phrase_at(words: list[str], i: int, term: Term) -> bool:
    k = len(term.words)
    if i + k > len(words):
        return False
    for j in range(1, k):
        want, got = term.words[j], words[i + j]
        last = j == k - 1
        if not (got == want or (last and term.wildcard and got.startswith(want))):
            return False
    return True


def parse_line(line: str, where: str) -> Term | None:
    """A :class:`Term` from one lexicon line (None for blanks and comments)."""
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    parts = line.rstrip("\n").split("\t")
    if len(parts) != 3:
        raise StageError(
            f"lexicon line {where} has {len(parts)} tab-separated fields",
            hint="write: IPTC code <TAB> weight <TAB> term",
            code="E264",
        )
    code, weight, raw = (p.strip() for p in parts)
    try:
        w = float(weight)
    except ValueError:
        raise StageError(f"lexicon line {where}: weight {weight!r} is not a number", hint="use 1, 2 or 3", code="E264") from None
    wildcard = raw.endswith("*")
    words = tuple(fold_words(raw.rstrip("*")))
    if not words:
        return None
    return Term(code, w, words, wildcard, raw)


def load_lexicons(dirs: list[Path], known_codes: set[str]) -> dict[str, Lexicon]:
    """Language (file stem) -> lexicon, from every ``*.tsv`` in ``dirs``.

    Files with the same name in several folders extend one language's lexicon. Unknown
    codes and malformed lines are errors naming the file and line.
    """
    by_lang: dict[str, Lexicon] = {}
    for d in dirs:
        for path in sorted(d.glob("*.tsv")):
            lex = by_lang.setdefault(path.stem, Lexicon())
            lex.languages.add(path.stem)
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                term = parse_line(line, f"{path}:{n}")
                if term is None:
                    continue
                if term.code not in known_codes:
                    raise StageError(
                        f"lexicon {path}:{n} uses unknown topic code {term.code!r}",
                        hint="use a code listed in pipeline/data/topics/taxonomy.tsv",
                        code="E265",
                    )
                lex.add(term)
    return by_lang


def extra_lexicon_dirs() -> list[Path]:
    """User lexicon folders from ``NEWSFLOW_TOPIC_LEXICONS`` (os.pathsep-separated)."""
    value = os.environ.get("NEWSFLOW_TOPIC_LEXICONS", "")
    return [Path(p) for p in value.split(os.pathsep) if p.strip()]


def evidence_strength(code: str, terms: dict[str, int], lexicon: Lexicon, n_words: int) -> float:
    """Lexicon evidence for one topic: weights with diminishing returns per repeat, per length.

    Each distinct term counts ``weight * (1 + ln(count))``; the sum is divided by
    ``sqrt(1 + words / 250)`` so a long article needs proportionally more mentions.
    """
    total = sum(lexicon.weights[(code, t)] * (1.0 + math.log(c)) for t, c in terms.items())
    return total / math.sqrt(1.0 + n_words / 250.0)
