"""`newsflow eval language` on a tiny SIB-200-format folder."""

from __future__ import annotations

from pathlib import Path

from pipeline.evaluation.language import code_accuracy, evaluate, main
from pipeline.lang.corpus import read_split
from pipeline.lang.model import shipped_model

DATA = Path(__file__).resolve().parents[2] / "fixtures" / "language" / "sib"


def test_dialect_folders_count_as_arabic_and_report_has_the_figures(capsys):
    main(["--data", str(DATA)])
    out = capsys.readouterr().out
    assert "macro accuracy:" in out
    assert "accuracy ar:" in out and "accuracy en:" in out and "accuracy fa:" in out
    assert "20-char prefix accuracy eng_Latn" in out and "20-char prefix accuracy arb_Arab" in out
    assert "worst" in out


def test_per_language_accuracy_on_fixtures():
    result = evaluate(read_split(DATA, "dev"), shipped_model())
    assert result["per"]["eng_Latn"] == 1.0
    assert code_accuracy(result["per"], "ar") == 1.0  # arb and arz folders both expect "ar"
    assert set(result["prefix"]) == {"eng_Latn", "arb_Arab"}


def test_missing_folder_is_a_clear_error(tmp_path):
    import pytest

    from pipeline.errors import StageError

    with pytest.raises(StageError, match="--data"):
        main(["--data", str(tmp_path / "nope")])
