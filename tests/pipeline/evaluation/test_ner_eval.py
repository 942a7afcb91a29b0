"""Entity-level exact-match scoring."""

from pipeline.evaluation.ner import main, score_spans


def test_exact_match_counts_only_identical_spans_and_labels():
    gold = [["B-PERSON", "I-PERSON", "O", "B-LOC"]]
    pred = [["B-PERSON", "O", "O", "B-LOC"]]
    report = score_spans(gold, pred)
    assert report["LOC"]["f1"] == 1.0
    assert report["PERSON"]["f1"] == 0.0
    assert report["ALL"]["p"] == 0.5 and report["ALL"]["r"] == 0.5


def test_eval_command_scores_a_conll_file(tmp_path, capsys):
    path = tmp_path / "tiny.conll"
    path.write_text("Joe\tB-PER\nBiden\tI-PER\nvisited\tO\nIraq\tB-LOC\n.\tO\n\n", encoding="utf-8")
    assert main(["--lang", "en", "--data", str(path)]) == 0
    out = capsys.readouterr().out
    assert "ALL" in out and "LOC" in out


def test_eval_command_reports_a_missing_file(tmp_path):
    assert main(["--lang", "en", "--data", str(tmp_path / "nope.conll")]) == 2
