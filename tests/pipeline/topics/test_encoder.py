"""The short-text encoder: which texts it reads, what it says about them, and how to turn it off."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.stages import topics as stage_module
from pipeline.stages.topics import topic_model

SPORT, ECONOMY, HEALTH, POLITICS = "medtop:15000000", "medtop:04000000", "medtop:07000000", "medtop:11000000"


@pytest.fixture(scope="module")
def model():
    loaded = topic_model()
    assert loaded.encoder is not None, "the shipped package carries encoder.onnx"
    return loaded


def _best(model, text: str) -> str:
    probs = model.head_probs(None, text)
    return max(probs, key=probs.get)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Liverpool beat Chelsea 2-1 to reach the cup final", SPORT),
        ("ارتفعت أسعار النفط وتراجعت أسهم البنوك في البورصة", ECONOMY),
        ("Les hôpitaux manquent de vaccins contre la grippe cet hiver", HEALTH),
        ("Parliament rejected the prime minister's budget reform in a late-night vote", POLITICS),
    ],
)
def test_short_texts_get_their_topic_from_the_encoder(model, text, code):
    assert model.encoder.pieces(text) is not None  # within the window: the encoder reads it
    assert _best(model, text) == code


def test_encoder_window_sends_long_texts_to_the_static_model(model):
    short = "The central bank raised interest rates again."
    ids = model.encoder.pieces(short)
    assert ids[0] == 0 and ids[-1] == 2 and len(ids) <= model.encoder.max_pieces + 2
    assert model.encoder.pieces(" ".join([short] * 20)) is None


def test_encoder_scores_are_calibrated_probabilities_per_trained_code(model):
    ids = model.encoder.pieces("Liverpool beat Chelsea 2-1 to reach the cup final")
    raw = model.encoder.raw([ids])[0]
    cal = model.encoder.calibrated([ids])[0]
    assert raw.sum() == pytest.approx(1.0, abs=1e-5)
    assert ((cal > 0) & (cal < 1)).all()
    assert np.argsort(raw).tolist() == np.argsort(cal).tolist()  # one shared scaling: order kept
    assert model.encoder.codes == model.head.codes


def test_a_batch_scores_each_text_as_it_would_alone(model):
    texts = ["Liverpool beat Chelsea 2-1", "ارتفعت أسعار النفط في الأسواق العالمية اليوم بعد قرار أوبك"]
    ids = [model.encoder.pieces(t) for t in texts]
    together = model.encoder.raw(ids)
    for row, one in zip(together, ids):
        # Padding is masked out of attention and pooling; what remains is int8 dynamic
        # quantisation, whose activation scale is taken over the whole batch.
        assert np.allclose(row, model.encoder.raw([one])[0], atol=0.01)


def test_encoder_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("NEWSFLOW_TOPIC_ENCODER", "0")
    fresh = stage_module.topic_model.__wrapped__()  # a fresh load, not the process-wide one
    assert fresh.encoder is None
    probs = fresh.head_probs(None, "Liverpool beat Chelsea 2-1 to reach the cup final")
    assert set(probs) == set(fresh.head.codes)  # the static head answers instead
