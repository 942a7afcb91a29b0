"""The topic trainer's pieces: soft (teacher) targets, the teacher head and its corpus."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy")  # training-only dependency (test extra)

from pipeline.topics.distil import _conll_sentences, _sentences, fit_softmax  # noqa: E402
from pipeline.topics.features import pool_matrix  # noqa: E402
from pipeline.topics.head import softmax  # noqa: E402
from pipeline.training.topics import Trainer  # noqa: E402


def test_soft_targets_are_learned_as_distributions_not_argmax():
    # Four identical one-piece documents whose teacher says 70% / 30%: the head must end
    # near 0.7 / 0.3, which a trainer that took the argmax would drive towards 1 / 0.
    table = np.array([[1.0, 0.0]], dtype=np.float32)
    pool = pool_matrix([np.array([0])] * 4, np.array([0], dtype=np.int32), 1)
    y = np.tile(np.array([[0.7, 0.3]], dtype=np.float32), (4, 1))
    trainer = Trainer(["a", "b"], table, seed=1, lr=0.05, table_lr=0.0, l2_table=0.0)
    trainer.fit(pool, y, np.ones((4, 2), dtype=bool), np.ones(4, dtype=np.float32), epochs=400, batch=4, tune_table=False)
    p = softmax(trainer.embed(pool) @ trainer.w.T + trainer.b)[0]
    assert p[0] == pytest.approx(0.7, abs=0.03)


def test_one_hot_targets_still_train_a_classifier():
    table = np.eye(3, dtype=np.float32)
    docs = [np.array([i % 3]) for i in range(30)]
    pool = pool_matrix(docs, np.arange(3, dtype=np.int32), 3)
    y = np.eye(3, dtype=np.float32)[[i % 3 for i in range(30)]]
    trainer = Trainer(["a", "b", "c"], table, seed=1, lr=0.05, table_lr=0.0, l2_table=0.0)
    trainer.fit(pool, y, np.ones((30, 3), dtype=bool), np.ones(30, dtype=np.float32), epochs=100, batch=8, tune_table=False)
    pred = (trainer.embed(pool) @ trainer.w.T + trainer.b).argmax(axis=1)
    assert pred.tolist() == [i % 3 for i in range(30)]


def test_fit_softmax_separates_three_clusters():
    rng = np.random.default_rng(0)
    centres = np.array([[4.0, 0.0], [0.0, 4.0], [-4.0, -4.0]])
    y = np.repeat(np.arange(3), 50)
    x = centres[y] + rng.normal(size=(150, 2))
    w, b = fit_softmax(x, y, 3)
    assert ((x @ w.T + b).argmax(axis=1) == y).mean() > 0.97


def test_distillation_sentences_are_split_and_length_filtered(tmp_path):
    text = "Short one. " + "This sentence has exactly enough words to be kept here. هل هذه جملة عربية طويلة بما يكفي لتبقى هنا؟ Next"
    got = list(_sentences(text))
    assert got == ["This sentence has exactly enough words to be kept here.", "هل هذه جملة عربية طويلة بما يكفي لتبقى هنا؟"]
    conll = tmp_path / "x.conll"
    conll.write_text("Paris\tB-LOC\nis\tO\n\nOne\tO\n", encoding="utf-8")
    assert list(_conll_sentences(conll)) == ["Paris is", "One"]
