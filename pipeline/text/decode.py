"""Bytes to text: decode producer input, detect undecodable text, repair UTF-8 mojibake.

Producers should send Unicode strings; the CLI and the client read files as bytes and
call :func:`decode_bytes`. The clean stage calls :func:`check_decoded` so text that was
decoded wrongly upstream fails with a clear error instead of flowing on as garbage.
"""

from __future__ import annotations

import codecs

from pipeline.errors import InvalidArticle, StageError

REPLACEMENT = "\ufffd"
# More than this share of U+FFFD means the producer decoded with the wrong charset.
MAX_REPLACEMENT_SHARE = 0.01

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Legacy charsets that Arabic and Western news sites still serve.
_FALLBACKS = ("cp1256", "iso-8859-6", "cp1252")


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode article bytes: BOM, then the declared ``charset``, then UTF-8, then detection.

    Raises :class:`InvalidArticle` (E102) when no charset decodes the bytes cleanly.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data.decode(name)
    if b"\x00" in data:
        raise InvalidArticle(
            "article bytes contain NUL bytes: this is binary data (or UTF-16 without a BOM), not text",
            hint="send the article as UTF-8 text, or name its charset (e.g. --charset utf-16)",
            code="E102",
        )
    tried = []
    for name in ([charset] if charset else []) + ["utf-8"]:
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError):
            tried.append(name)
    try:
        from charset_normalizer import from_bytes  # shipped with trafilatura

        best = from_bytes(data).best()
        if best is not None and best.encoding and _looks_textual(str(best)):
            return str(best)
    except ImportError:
        pass
    for name in _FALLBACKS:
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            tried.append(name)
            continue
        if _looks_textual(text):
            return text
        tried.append(name)
    raise InvalidArticle(
        f"article bytes are not valid text in any of {', '.join(tried)}",
        hint="send UTF-8, or name the charset (e.g. --charset cp1256)",
        code="E102",
    )


def _looks_textual(text: str) -> bool:
    """At most 1% control characters (other than whitespace): a legacy decode that is real text."""
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\n\r\f") + sum(1 for ch in text if "\x7f" <= ch < "\xa0")
    return controls <= 0.01 * max(len(text), 1)


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
