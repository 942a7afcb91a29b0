"""Hashed n-gram features: deterministic, bounded, insensitive to case, digits and punctuation."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from pipeline.lang.features import ngram_ids, normalise


def test_normalise_folds_case_digits_and_punctuation():
    assert normalise("Hello, WORLD 2024!") == " hello world "


def test_ids_are_in_range_and_cover_all_orders():
    ids = ngram_ids("abc", 10)
    assert ids.dtype == np.uint32 and ids.max() < 2**10
    # " abc " -> 3 letters + 4 bigrams + 3 trigrams + 2 four-grams + 1 five-gram
    assert len(ids) == 3 + 4 + 3 + 2 + 1


def test_empty_text_has_no_features():
    assert len(ngram_ids("", 12)) == 0
    assert len(ngram_ids("123 !!", 12)) == 0


def test_ids_do_not_depend_on_the_process_hash_seed():
    code = "from pipeline.lang.features import ngram_ids; print(ngram_ids('مرحبا بالعالم', 16).tolist())"
    runs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONHASHSEED": seed},
                       check=True).stdout
        for seed in ("1", "2")
    }
    assert len(runs) == 1
