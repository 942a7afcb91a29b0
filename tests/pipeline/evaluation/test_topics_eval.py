"""``newsflow eval topics``: the --titles view (headlines through the short-text route)."""

from __future__ import annotations

import json

import pytest

from pipeline.evaluation.topics import main, titles_only
from pipeline.topics.datasets import Example


def test_titles_only_keeps_titled_articles_as_their_title_alone():
    exs = [
        Example("bbc", "sport", "medtop:15000000", "Long body about the match.", "Liverpool win the cup"),
        Example("bbc", "business", "medtop:04000000", "Body without a title.", ""),
    ]
    assert [(e.text, e.title, e.code) for e in titles_only(exs)] == [("Liverpool win the cup", "", "medtop:15000000")]


def test_eval_titles_scores_headlines_of_a_bbc_style_file(tmp_path, capsys):
    rows = [
        ("sport", "Liverpool beat Chelsea to reach the cup final", "The match ended 2-1."),
        ("business", "Oil prices and bank shares fall on the stock market", "Markets were down."),
        ("politics", "Parliament rejects the prime minister's budget reform", "The vote was late."),
        ("tech", "New smartphone chip doubles battery life, engineers say", "The chip is small."),
    ]
    data = tmp_path / "bbc-like.jsonl"
    data.write_text("\n".join(json.dumps({"label": lab, "title": t, "text": x}) for lab, t, x in rows), encoding="utf-8")
    out = tmp_path / "r.json"
    assert main(["--data", str(data), "--all-bbc", "--titles", "--json", str(out)]) == 0
    (result,) = json.loads(out.read_text(encoding="utf-8"))
    assert result["dataset"] == "bbc/titles" and result["n"] == 4
    assert result["accuracy"] == 1.0  # four unmistakable headlines, each read alone
    lo, hi = result["accuracy_ci95"]
    assert 0.4 < lo < 1.0 and hi == 1.0  # four items prove little: the interval says so


def _sib_root(tmp_path, langs: list[str], n: int = 20):
    """A SIB-200-shaped root: ``n`` numbered train rows per language, the same in each."""
    for lang in langs:
        folder = tmp_path / "sib200" / lang
        folder.mkdir(parents=True)
        lines = ["index_id\tcategory\ttext"] + [f"{i}\tsports\tThe team won match number {i} at home." for i in range(n)]
        (folder / "train.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path / "sib200"


def test_held_out_split_scores_only_the_rows_topic_training_holds_out(tmp_path):
    from pipeline.evaluation.topics import _sib_rows
    from pipeline.training.topics import heldout_positions

    root = _sib_root(tmp_path, ["eng_Latn", "xho_Latn", "zul_Latn"])
    held = heldout_positions(20, 13, 1)  # the positions newsflow train topics calibrates on
    assert len(held) == 2
    rows = _sib_rows(root, "held-out", None)
    assert sorted((e.group, e.text) for e in rows) == sorted(
        (lang, f"The team won match number {i} at home.") for lang in ("eng_Latn", "xho_Latn", "zul_Latn") for i in held
    )
    out = tmp_path / "r.json"
    assert main(["--data", str(root), "--split", "held-out", "--langs", "xho_Latn", "zul_Latn", "--json", str(out)]) == 0
    results = json.loads(out.read_text(encoding="utf-8"))
    assert [(r["dataset"], r["n"]) for r in results] == [("sib200/xho_Latn", 2), ("sib200/zul_Latn", 2)]


def test_unseen_languages_leave_out_those_the_encoder_trained_on(tmp_path):
    root = _sib_root(tmp_path, ["eng_Latn", "xho_Latn"])
    out = tmp_path / "r.json"
    assert main(["--data", str(root), "--split", "train", "--langs", "unseen", "--limit", "3", "--json", str(out)]) == 0
    assert [r["dataset"] for r in json.loads(out.read_text(encoding="utf-8"))] == ["sib200/xho_Latn"]


def test_window_sets_how_many_pieces_the_encoder_reads(tmp_path, monkeypatch, capsys):
    from pipeline.stages.topics import topic_model

    encoder = topic_model().encoder
    if encoder is None:
        pytest.skip("the short-text encoder is off (NEWSFLOW_TOPIC_ENCODER=0)")
    monkeypatch.setattr(encoder, "max_pieces", encoder.max_pieces)  # restored after the test
    monkeypatch.setattr(encoder, "max_pieces_multiline", encoder.max_pieces_multiline)
    root = _sib_root(tmp_path, ["xho_Latn"], n=3)
    out = tmp_path / "r.json"

    def windows(*args: str) -> tuple[int, int]:
        assert main(["--data", str(root), "--split", "train", "--langs", "all", *args, "--json", str(out)]) == 0
        result = json.loads(out.read_text(encoding="utf-8"))[0]  # runs at other windows stay apart
        return result["window"], result["multiline_window"]

    assert windows("--window", "40") == (40, 40)  # several lines never get more than one line
    assert windows("--window", "128") == (128, 64)  # the shipped several-line window stays
    assert windows("--window", "96", "--multiline-window", "96") == (96, 96)  # one window for all, as before
    for bad in ("4", "600"):
        for option in ("--window", "--multiline-window"):
            assert main(["--data", str(root), option, bad]) == 2
            assert "--window" in capsys.readouterr().err


def test_all_and_unseen_stand_alone(tmp_path, capsys):
    root = _sib_root(tmp_path, ["xho_Latn"], n=3)
    assert main(["--data", str(root), "--langs", "unseen", "eng_Latn"]) == 2
    assert "stand alone" in capsys.readouterr().err
