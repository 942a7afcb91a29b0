"""``newsflow eval topics``: the --titles view (headlines through the short-text route)."""

from __future__ import annotations

import json

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
