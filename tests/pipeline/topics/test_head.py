"""Topic-head metrics that `newsflow eval topics` reports."""

from __future__ import annotations

import math

import pytest

from pipeline.topics.head import macro_f1, wilson_interval


def test_wilson_interval_brackets_the_accuracy_and_narrows_with_more_items():
    lo, hi = wilson_interval(83, 99)  # SIB-200 Arabic dev, 0.838
    assert (lo, hi) == pytest.approx((0.7535, 0.8980), abs=1e-4)
    # Two sentences of 99 (0.838 against 0.859) lie well inside the noise of one run.
    assert lo < 0.76 and hi > 0.89
    lo_big, hi_big = wilson_interval(8380, 9900)
    assert hi_big - lo_big < (hi - lo) / 5


def test_wilson_interval_is_exactly_0_or_1_at_the_edges():
    for n in range(1, 300):
        assert wilson_interval(0, n)[0] == 0.0 and 0.0 < wilson_interval(0, n)[1] < 1.0
        assert wilson_interval(n, n)[1] == 1.0 and 0.0 < wilson_interval(n, n)[0] < 1.0
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_wilson_interval_of_nothing_is_undefined():
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_macro_f1_weighs_each_gold_label_equally():
    gold = ["a"] * 9 + ["b"]
    pred = ["a"] * 10
    # a: F1 = 18/19; b: never predicted, F1 = 0.
    assert abs(macro_f1(gold, pred) - (18 / 19) / 2) < 1e-9
