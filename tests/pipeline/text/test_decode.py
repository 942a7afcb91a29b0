"""Undecodable text and mojibake repair in the clean stage."""

import pytest

from pipeline.errors import StageError
from pipeline.text.decode import check_decoded, repair_mojibake


def test_undecodable_text_fails_with_a_coded_actionable_error():
    with pytest.raises(StageError) as err:
        check_decoded("ab\ufffd\ufffd\ufffdcd")
    assert err.value.code == "E213" and "charset" in err.value.hint
    check_decoded("one stray \ufffd in a text that is otherwise long and fine. " + "word " * 100)  # tolerated


def test_mojibake_is_repaired_and_correct_text_untouched():
    arabic = "العراق والولايات المتحدة"
    assert repair_mojibake(arabic.encode("utf-8").decode("latin-1")) == arabic
    broken = "Café au lait".encode("utf-8").decode("latin-1")
    assert repair_mojibake(broken) == "Café au lait"
    assert repair_mojibake("Ça coûte déjà cher") == "Ça coûte déjà cher"
    assert repair_mojibake(arabic) == arabic
