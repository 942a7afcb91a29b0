"""Bytes to text, undecodable input, mojibake repair."""

import pytest

from pipeline.errors import InvalidArticle, StageError
from pipeline.text.decode import check_decoded, decode_bytes, repair_mojibake


def test_utf8_and_bom_and_declared_charset_decode():
    assert decode_bytes("العراق".encode("utf-8")) == "العراق"
    assert decode_bytes("\ufeffhello".encode("utf-8")) == "hello"
    assert decode_bytes("العراق".encode("cp1256"), charset="cp1256") == "العراق"


def test_legacy_arabic_bytes_are_detected_without_a_charset():
    text = "أعلنت وزارة الصحة عن افتتاح مستشفى جديد في مدينة البصرة بسعة مئتي سرير."
    assert decode_bytes(text.encode("cp1256")) == text


def test_undecodable_text_fails_with_a_coded_actionable_error():
    with pytest.raises(StageError) as err:
        check_decoded("ab\ufffd\ufffd\ufffdcd")
    assert err.value.code == "E213" and "charset" in err.value.hint
    check_decoded("one stray \ufffd in a text that is otherwise long and fine. " + "word " * 100)  # tolerated


def test_unknown_declared_charset_falls_back_to_utf8():
    assert decode_bytes(b"plain", charset="no-such-charset") == "plain"


def test_mojibake_is_repaired_and_correct_text_untouched():
    arabic = "العراق والولايات المتحدة"
    assert repair_mojibake(arabic.encode("utf-8").decode("latin-1")) == arabic
    broken = "Café au lait".encode("utf-8").decode("latin-1")
    assert repair_mojibake(broken) == "Café au lait"
    assert repair_mojibake("Ça coûte déjà cher") == "Ça coûte déjà cher"
    assert repair_mojibake(arabic) == arabic


def test_binary_bytes_are_rejected_with_a_coded_actionable_error():
    with pytest.raises(InvalidArticle) as err:
        decode_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert err.value.code == "E102" and "charset" in err.value.hint
