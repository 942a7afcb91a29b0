"""Language stage: which language the article is in, how sure we are, and foreign paragraphs.

Fills ``Document.language`` from the clean text (see :mod:`pipeline.lang.detector`):
ISO code and English name, confidence and a ``reliable`` flag, ISO 15924 script, the
top three alternatives, an Arabic dialect (or Dari) as ``variant`` when confident,
and ``segments``: paragraphs in another language than the document (an English
quote inside an Arabic article), as character offsets into ``doc.text``.

Short text (titles, one-liners) is where detectors fail, so when the body alone is
not reliable the title is read with it, and the producer's ``language_hint`` is
weighed in as prior evidence; ``decided_by`` says which of them decided.
"""

from __future__ import annotations

import re

from pipeline.lang.codes import name_of, normalise_hint
from pipeline.lang.detector import Guess, identify, writes_in
from pipeline.models import Document, Language
from pipeline.registry import register

VERSION = "1.0.0"

# Below this confidence, or with fewer letters than this, the body alone is not trusted.
RELIABLE_CONFIDENCE = 0.90
RELIABLE_LETTERS = 25
# How strongly a producer's hint counts: a likelihood ratio (odds x20 for the hinted code).
HINT_WEIGHT = 20.0
# A hint is only followed when the text gives it at least this probability; otherwise
# the text plainly says something else and the hint is reported as a warning.
HINT_MIN_SUPPORT = 0.02
# For text shorter than RELIABLE_LETTERS, a hint in the text's script is given at
# least this probability before the hint is weighed in.
SHORT_TEXT_SUPPORT = 0.05
# A paragraph becomes a segment only when it is this long and this surely foreign.
SEGMENT_MIN_LETTERS = 40
SEGMENT_CONFIDENCE = 0.90
# Long articles: only this many paragraphs are checked for segments.
MAX_PARAGRAPHS = 300

_PARAGRAPH = re.compile(r"[^\n]+")


@register("language", VERSION)
def language(doc: Document) -> Document:
    """Detect the document language (with alternatives, variant and foreign segments)."""
    text = doc.text or ""
    hint = normalise_hint(doc.language_hint)
    guess = identify(text) if text.strip() else None
    decided_by = "model"

    if guess is None or not _reliable(guess, text):
        guess, decided_by = _short_text(guess, text, doc.title, hint)
    if guess is None:
        doc.language = Language(code="und", name="Undetermined", confidence=0.0, decided_by="none")
        doc.warnings.append("language: no letters in the text, title or hint; language undetermined")
        return doc

    if hint and guess.code != hint and decided_by != "hint":
        doc.warnings.append(
            f"language: producer hint {doc.language_hint!r} disagrees with the text, "
            f"which reads as {guess.code} ({guess.confidence:.2f}); the text was followed"
        )
    doc.language = Language(
        code=guess.code,
        name=guess.name,
        confidence=round(guess.confidence, 4),
        script=guess.script,
        reliable=guess.confidence >= RELIABLE_CONFIDENCE and _letters(text) >= RELIABLE_LETTERS,
        alternatives=[{"code": c, "name": n, "confidence": round(p, 4)} for c, n, p in guess.alternatives],
        variant=guess.variant,
        segments=foreign_segments(text, guess.code),
        decided_by=decided_by,
    )
    return doc


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text[:RELIABLE_LETTERS * 4])


def _reliable(guess: Guess, text: str) -> bool:
    return guess.code != "und" and guess.confidence >= RELIABLE_CONFIDENCE and _letters(text) >= RELIABLE_LETTERS


def _short_text(guess: Guess | None, text: str, title: str | None, hint: str | None) -> tuple[Guess | None, str]:
    """Resolve an unreliable body with the title and the producer's hint."""
    decided_by = "model"
    if title and title.strip() and title.strip() not in text[: len(title) + 10]:
        both = identify(f"{title}\n{text}")
        if both is not None and (guess is None or both.confidence >= guess.confidence or both.code != "und"):
            guess, decided_by = both, "title+body"
    if hint:
        return _with_hint(guess, hint, decided_by, short=_letters(f"{title or ''} {text}") < RELIABLE_LETTERS)
    return guess, decided_by


def _with_hint(guess: Guess | None, hint: str, decided_by: str, short: bool) -> tuple[Guess | None, str]:
    """Bayes with the hint as prior evidence: the hinted code's odds are multiplied by HINT_WEIGHT."""
    if guess is None or guess.code == "und":
        # Nothing to read (digits, symbols): the producer's word is all we have.
        return Guess(hint, name_of(hint), guess.script if guess else "Zyyy", 0.5, None, decided_by="hint"), "hint"
    support = guess.scores.get(hint, 0.0)
    if short and writes_in(hint, guess.script):
        # A name or two ("Real Madrid") says almost nothing about the language; the
        # model's numbers on it are noise, so a plausible hint gets the benefit of the doubt.
        support = max(support, SHORT_TEXT_SUPPORT)
    if support < HINT_MIN_SUPPORT:
        return guess, decided_by
    odds = HINT_WEIGHT * support / max(1e-9, 1.0 - support)
    confidence = odds / (1.0 + odds)
    if guess.code == hint:
        guess.confidence = max(guess.confidence, confidence)
        return guess, f"{decided_by}+hint"
    alternatives = [(hint, name_of(hint), confidence)] + [a for a in guess.alternatives if a[0] != hint][:2]
    decided = Guess(
        code=hint, name=name_of(hint), script=guess.script, confidence=confidence, label=None,
        alternatives=alternatives, decided_by="hint", scores=guess.scores,
    )
    return decided, "hint"


def foreign_segments(text: str, doc_code: str) -> list[dict]:
    """Paragraphs of ``text`` confidently in another language than ``doc_code`` (merged when adjacent)."""
    segments: list[dict] = []
    if "\n" not in text.strip():
        # One paragraph is the document itself: nothing can be foreign to it.
        return segments
    for n, match in enumerate(_PARAGRAPH.finditer(text)):
        if n >= MAX_PARAGRAPHS:
            break
        para = match.group()
        if _letters_all(para[: SEGMENT_MIN_LETTERS * 4]) < SEGMENT_MIN_LETTERS:
            continue
        guess = identify(para)
        if guess is None or guess.code in (doc_code, "und") or guess.confidence < SEGMENT_CONFIDENCE:
            continue
        start = match.start() + (len(para) - len(para.lstrip()))
        end = match.end() - (len(para) - len(para.rstrip()))
        last = segments[-1] if segments else None
        if last and last["code"] == guess.code and not text[last["end"] : start].strip():
            last["end"] = end
            last["confidence"] = round(min(last["confidence"], guess.confidence), 4)
        else:
            segments.append({"start": start, "end": end, "code": guess.code, "confidence": round(guess.confidence, 4)})
    return segments


def _letters_all(text: str) -> int:
    return sum(ch.isalpha() for ch in text)
