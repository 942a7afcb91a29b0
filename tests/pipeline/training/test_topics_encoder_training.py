"""``newsflow train topics_encoder``: which short texts it learns from, and its refusals."""

from __future__ import annotations

import sys

from pipeline.topics.datasets import Example
from pipeline.training.topics_encoder import first_sentence, main, short_texts


def test_first_sentence_ends_at_latin_or_arabic_punctuation_or_a_line_break():
    assert first_sentence("Markets fell. Oil rose.") == "Markets fell."
    assert first_sentence("هل ترتفع الأسعار؟ نعم") == "هل ترتفع الأسعار؟"
    assert first_sentence("\n\nHeadline line\nbody") == "Headline line"
    assert first_sentence("   ") == ""


def test_articles_give_title_and_first_sentence_sib_only_in_chosen_languages():
    rows = [
        Example("sib200", "sports", "medtop:15000000", "A match.", group="eng_Latn"),
        Example("sib200", "sports", "medtop:15000000", "Un match.", group="fra_Latn"),
        Example("bbc", "business", "medtop:04000000", "Shares rose. More text.", "Shares up"),
        Example("bbc", "sport", "medtop:15000000", "Same as title. Rest.", "Same as title."),
    ]
    texts = [(e.dataset, e.text) for e in short_texts(rows, {"eng_Latn"}, saudi_cap=10, seed=1)]
    assert texts == [("sib200", "A match."), ("bbc", "Shares up"), ("bbc", "Shares rose."), ("bbc", "Same as title.")]


def test_saudinewsnet_is_capped_per_label():
    rows = [Example("saudinewsnet", "aleqtisadiya", "medtop:04000000", f"خبر رقم {i}.", f"عنوان {i}") for i in range(10)]
    rows += [Example("saudinewsnet", "arreyadi", "medtop:15000000", "مباراة.", "")]
    kept = short_texts(rows, set(), saudi_cap=3, seed=1)
    assert sum(e.code == "medtop:04000000" for e in kept) == 3
    assert [e.text for e in kept if e.code == "medtop:15000000"] == ["مباراة."]


def test_refuses_bad_options_and_missing_torch_with_exit_2(monkeypatch, capsys):
    assert main(["--max-pieces", "4"]) == 2
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    assert main([]) == 2
    assert "pip install -e '.[train]'" in capsys.readouterr().err
