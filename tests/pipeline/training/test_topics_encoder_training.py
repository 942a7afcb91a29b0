"""``newsflow train topics_encoder``: which short texts it learns from, and its refusals."""

from __future__ import annotations

import sys

import pytest

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
    assert main(["--smooth", "1"]) == 2
    assert main(["--window", "32"]) == 2  # the stage would cut texts shorter than training did
    assert main(["--window", "600"]) == 2  # past e5's 512 positions
    assert main(["--multiline-window", "100"]) == 2  # wider than the one-line window (96)
    assert main(["--multiline-window", "4"]) == 2
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    assert main([]) == 2
    assert "pip install -e '.[train]'" in capsys.readouterr().err


def test_linear_probe_fits_separable_states_under_each_datasets_code_mask():
    torch = pytest.importorskip("torch")
    from pipeline.training.topics_encoder import fit_probe

    torch.manual_seed(0)
    # Three codes; rows 20-59 come from a dataset that has codes 1 and 2 only. Code 2's rows
    # look like code 0's, so only a head fitted under the mask gets both right (fitted
    # without it, 0.85 of rows).
    feats = torch.randn(60, 8) * 0.1
    y = torch.tensor([0] * 20 + [1] * 20 + [2] * 20)
    feats[y == 0, 0] += 3
    feats[y == 1, 1] += 3
    feats[y == 2, 0] += 3
    allowed = torch.ones(60, 3, dtype=torch.bool)
    allowed[20:, 0] = False
    head = torch.nn.Linear(8, 3)
    fit_probe(torch, head, feats, y, allowed, log=lambda msg: None)
    with torch.no_grad():
        pred = head(feats).masked_fill(~allowed, -1e9).argmax(1)
    assert torch.equal(pred, y)


def test_smoothing_spreads_mass_over_the_texts_own_dataset_codes_only():
    torch = pytest.importorskip("torch")
    from pipeline.training.topics_encoder import smoothed_targets

    y = torch.tensor([0, 2])
    allowed = torch.tensor([[True, True, False, False], [False, True, True, True]])
    t = smoothed_targets(torch, y, allowed, 0.1)
    assert torch.allclose(t.sum(1), torch.ones(2))
    assert torch.all(t[~allowed] == 0)  # a masked code's log-probability is -1e9: it must carry no weight
    assert torch.allclose(t[0], torch.tensor([0.95, 0.05, 0.0, 0.0]))
    assert torch.allclose(t[1, 2], torch.tensor(0.9 + 0.1 / 3))
