"""``newsflow train ner`` refuses contradictory options before it loads torch or any data."""

import sys

import pytest

from pipeline.training.ner import main


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--lang", "ar", "--silver", "yes"], "silver data exists for English only"),
        (["--lang", "en", "--silver", "no", "--gold-epochs", "2"], "--gold-epochs follows training on silver"),
        (["--lang", "en", "--gold-epochs", "-1"], "--gold-epochs -1 is negative"),
        # a tuning run leaves silver out by default, so gold-only epochs have nothing to follow
        (["--lang", "en", "--train-part", "0.9", "--gold-epochs", "2"], "--gold-epochs follows training on silver"),
        (["--lang", "en", "--silver", "no", "--soft", "1"], "--soft 1.0 needs silver data"),
        (["--lang", "en", "--soft", "-0.5"], "--soft -0.5 needs silver data and a weight of 0 or more"),
    ],
)
def test_contradictory_options_exit_2_with_a_message(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.setitem(sys.modules, "torch", None)  # importing torch would now fail: refuse first
    assert main(argv + ["--data", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
