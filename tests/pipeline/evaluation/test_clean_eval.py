"""The clean evaluation command on fixtures and tiny synthetic corpora (no shared data needed)."""

import random
from pathlib import Path

from pipeline.evaluation import clean as ev

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

STORIES = [
    ev.Article(
        f"Headline number {i} about the council",
        [
            f"Story {i} begins with a full sentence about the council and the budget for the year ahead.",
            f"The second paragraph of story {i} adds quotes from officials and residents who attended.",
            f"A third paragraph of story {i} explains what happens next and when the council meets again.",
        ],
    )
    for i in range(8)
]


def test_fixture_pages_all_pass(capsys):
    assert ev.main(["--pages", str(FIXTURES / "clean")]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and out.count("PASS") == 5


def test_synthetic_aggregator_keeps_story_and_removes_inserted_lines():
    tally = ev.eval_aggregator("t", STORIES, "en", random.Random(1), limit=8, examples=3)
    assert tally.story_kept == tally.story_lines
    assert tally.junk_removed / tally.junk_lines > 0.8
    assert tally.splits_found == tally.splits_expected


def test_synthetic_html_pages_score_story_and_boilerplate():
    tally = ev.eval_html("t", STORIES, "ar", random.Random(2), limit=3, examples=3)
    assert tally.articles == 3 and tally.story_lines == 9
    assert any("html.trafilatura" == rule for rule in tally.rules)


def test_clean_articles_report_the_kept_share():
    tally = ev.eval_clean_articles("t", STORIES, examples=2)
    assert tally.kept_shares == [1.0] * len(STORIES)
    assert any("100.00%" in line for line in ev.format_tally(tally))


def test_missing_path_is_exit_code_2(tmp_path, capsys):
    assert ev.main(["--bbc", str(tmp_path / "nope.jsonl")]) == 2
    assert "does not exist" in capsys.readouterr().err
