"""Text that was decoded wrongly upstream: undecodable characters and UTF-8 mojibake.

Bytes are decoded at the edge (``pipeline.intake.decode_bytes``: strict UTF-8, E102).
Text can still arrive damaged from a producer that decoded with the wrong charset;
the clean stage repairs UTF-8 read as cp1252/latin-1 and refuses text that is mostly
U+FFFD replacement characters, so garbage never flows on silently.
"""

from __future__ import annotations

from pipeline.errors import StageError

REPLACEMENT = "\ufffd"
# More than this share of U+FFFD means the producer decoded with the wrong charset.
MAX_REPLACEMENT_SHARE = 0.01


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 read as cp1252/latin-1 ("Ø§Ù„Ø¹Ø±Ø§Ù‚" -> "العراق") when that is what happened.

    The text is left unchanged unless re-encoding it gives valid UTF-8 with fewer
    suspicious characters, so correct Latin text with accents is never touched.
    """
    if not any(ch in text for ch in "ÃØÙÐÑâ"):
        return text
    for legacy in ("cp1252", "latin-1"):
        try:
            fixed = text.encode(legacy).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if _suspicious(fixed) < _suspicious(text):
            return fixed
    return text


def _suspicious(text: str) -> int:
    return sum(text.count(ch) for ch in "ÃØÙÐÑâ")


def check_decoded(text: str) -> None:
    """Raise a permanent :class:`StageError` (E213) when ``text`` is mostly undecodable bytes."""
    bad = text.count(REPLACEMENT)
    if bad and bad > MAX_REPLACEMENT_SHARE * max(len(text), 1):
        raise StageError(
            f"body holds {bad} undecodable characters (U+FFFD) out of {len(text)}",
            hint="the producer decoded the bytes with the wrong charset; decode them correctly and resubmit",
            code="E213",
        )
