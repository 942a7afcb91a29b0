"""The short-text encoder: which texts it reads, what it says about them, and how to turn it off."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from pipeline.errors import StageError
from pipeline.models import Document
from pipeline.resources import data_path
from pipeline.stages import topics as stage_module
from pipeline.stages.topics import topic_model
from pipeline.topics.encoder import ShortTextEncoder, encoder_enabled

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
    ids = model.encoder.pieces(text)
    assert ids is not None  # within the window: the encoder reads it
    assert _best(model, text) == code
    # ... and it is the encoder's answer the stage uses, not the static head's.
    assert model.head_probs(None, text) == dict(zip(model.encoder.codes, model.encoder.calibrated([ids])[0].tolist()))


def test_a_headline_the_static_model_gets_wrong_is_right_through_the_encoder(model):
    text = "Doctors warn the flu season is starting early this year"
    static = stage_module.topic_model.__wrapped__()
    static.encoder = None
    static_probs, probs = static.head_probs(None, text), model.head_probs(None, text)
    assert max(static_probs, key=static_probs.get) != HEALTH  # a bag of pieces misses it (sport)
    assert max(probs, key=probs.get) == HEALTH


def test_encoder_window_sends_long_texts_to_the_static_model(model):
    short = "The central bank raised interest rates again."
    ids = model.encoder.pieces(short)
    assert ids[0] == 0 and ids[-1] == 2 and len(ids) <= model.encoder.max_pieces + 2
    assert model.encoder.pieces(" ".join([short] * 20)) is None  # too many words
    chinese = "中央银行今天宣布再次提高利率以应对持续上涨的通货膨胀压力市场对此反应强烈股市大幅下跌" * 5
    assert len(chinese.split()) == 1 and model.encoder.pieces(chinese) is None  # one word, too many pieces


BRIEF = (
    "The central bank raised interest rates again on Thursday, the third increase this year, as inflation"
    " stayed well above its target. Economists expect one more rise before the summer, while exporters warned"
    " that a stronger currency would hurt their sales abroad. Shares in banks rose, and the yield on ten-year"
    " government bonds reached its highest level since 2011."
)


def test_a_three_sentence_brief_is_read_by_the_encoder(model):
    # 79 pieces: past the 64 the encoder was trained on, within the stage's window of 96
    # (on 186 languages the encoder never saw, a 96-piece window scored 0.690 against 0.669).
    ids = model.encoder.pieces(BRIEF)
    assert ids is not None and len(ids) > 64 + 2
    assert _best(model, BRIEF) == ECONOMY


def test_a_brief_with_a_title_gets_the_smaller_several_line_window(model):
    # The same brief under a headline is two lines, between the several-line window (64)
    # and the one-line window (96): the static model reads it, as cheaply as any article,
    # and still gets it right.
    enc = model.encoder
    body, title = BRIEF, "Central bank raises rates for the third time"
    assert enc.window(f"{title}\n{body}") == enc.max_pieces_multiline == 64 < enc.max_pieces
    one_line = enc.pieces(f"{title} {body}")
    assert one_line is not None and 64 + 2 < len(one_line) <= 96 + 2  # one line: the encoder reads it
    assert enc.pieces(f"{title}\n{body}") is None  # two lines: past 64
    assert enc.window(f"  {body}\n") == enc.max_pieces  # a trailing newline is still one line
    probs = model.head_probs(title, body)  # the stage's route: title and body as two lines
    assert max(probs, key=probs.get) == ECONOMY
    # A short item with a title stays with the encoder.
    assert enc.pieces("Rates rise again\nThe central bank raised rates.") is not None


@pytest.mark.parametrize("text", ["", "   ", "ⵜⴰⵎⴰⵣⵉⵖⵜ ⵜⴰⵏⴰⵡⴰⵢⵜ ⴰⵎⴰⵢⵏⵓ", "ߒߞߏ ߞߊ߲ ߞߎߘߊ"])
def test_texts_without_pieces_of_their_own_go_to_the_static_model(model, text):
    # An encoder reading only "passage:" or <unk> pieces would still answer confidently.
    assert model.encoder.pieces(text) is None


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
        # The int8 graph's activation scale is taken per call, so texts sharing a call
        # would change each other's scores: the encoder runs each alone.
        assert np.array_equal(row, model.encoder.raw([one])[0])


def test_no_texts_give_no_rows(model):
    assert model.encoder.raw([]).shape == (0, len(model.encoder.codes))


def test_encoder_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("NEWSFLOW_TOPIC_ENCODER", "0")
    fresh = stage_module.topic_model.__wrapped__()  # a fresh load, not the process-wide one
    assert fresh.encoder is None
    probs = fresh.head_probs(None, "Liverpool beat Chelsea 2-1 to reach the cup final")
    assert set(probs) == set(fresh.head.codes)  # the static head answers instead


def test_a_missing_runtime_leaves_the_static_model_working_and_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime -> ImportError
    fresh = stage_module.topic_model.__wrapped__()
    assert fresh.encoder is None and "E271" in fresh.encoder_error
    monkeypatch.setattr(stage_module, "topic_model", lambda: fresh)
    doc = stage_module.topics(Document(id="t1", text="Liverpool beat Chelsea 2-1 to reach the cup final"))
    assert doc.topics[0].code == SPORT
    assert any("E271" in w and "static model" in w for w in doc.warnings)


def test_encoder_files_missing_is_a_coded_error(tmp_path, model):
    with pytest.raises(StageError) as err:
        ShortTextEncoder.load(tmp_path, model.encoder.tokenizer)
    assert err.value.code == "E273" and "encoder.onnx" in str(err.value)


def _encoder_dir(tmp_path, **changes):
    """The shipped graph beside an encoder.json with ``changes`` (None deletes a key)."""
    shipped = data_path("topics")
    (tmp_path / "encoder.onnx").symlink_to(shipped / "encoder.onnx")
    meta = json.loads((shipped / "encoder.json").read_text(encoding="utf-8")) | changes
    meta = {k: v for k, v in meta.items() if v is not None}
    (tmp_path / "encoder.json").write_text(json.dumps(meta), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("changes", "named"),
    [({"max_pieces": 600}, "600"), ({"max_pieces_multiline": 128}, "128")],  # past e5's positions; wider than one line's
)
def test_a_window_e5_or_the_one_line_window_cannot_hold_is_a_coded_error(tmp_path, model, changes, named):
    with pytest.raises(StageError) as err:
        ShortTextEncoder.load(_encoder_dir(tmp_path, **changes), model.encoder.tokenizer)
    assert err.value.code == "E274" and named in str(err.value)


def test_an_encoder_json_without_a_several_line_window_uses_one_window_for_all(tmp_path, model):
    enc = ShortTextEncoder.load(_encoder_dir(tmp_path, max_pieces_multiline=None), model.encoder.tokenizer)
    assert enc.window("a title\nand a body") == enc.max_pieces == 96


@pytest.mark.parametrize(("value", "on"), [("1", True), ("Off", False), ("no", False), ("true", True)])
def test_encoder_switch_values(monkeypatch, value, on):
    monkeypatch.setenv("NEWSFLOW_TOPIC_ENCODER", value)
    assert encoder_enabled() is on


def test_a_misspelt_switch_is_an_error_not_silently_on(monkeypatch):
    monkeypatch.setenv("NEWSFLOW_TOPIC_ENCODER", "flase")
    with pytest.raises(StageError) as err:
        encoder_enabled()
    assert err.value.code == "E272" and "flase" in str(err.value)
