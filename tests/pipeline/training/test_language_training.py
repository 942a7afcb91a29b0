"""`newsflow train language` end to end on a tiny folder, with a tiny model."""

from __future__ import annotations

from pathlib import Path

from pipeline.lang.model import load_model
from pipeline.training.language import main

DATA = Path(__file__).resolve().parents[2] / "fixtures" / "language" / "sib"


def train(out: Path) -> None:
    assert main(["--data", str(DATA), "--out", str(out), "--bits", "12", "--dim", "8", "--epochs", "30",
                 "--lr", "1.0", "--batch", "4", "--no-dev"]) == 0


def test_training_writes_a_loadable_model_that_learned_its_data(tmp_path):
    out = tmp_path / "lid.npz"
    train(out)
    model = load_model(out)
    assert set(model.labels) == {"arb_Arab", "arz_Arab", "eng_Latn", "pes_Arab"}
    assert model.embeddings.shape == (2**12, 8)
    english = model.labels.index("eng_Latn")
    assert int(model.logits("The minister said the talks would continue").argmax()) == english


def test_training_is_reproducible_with_the_fixed_seed(tmp_path):
    train(tmp_path / "a.npz")
    train(tmp_path / "b.npz")
    a, b = load_model(tmp_path / "a.npz"), load_model(tmp_path / "b.npz")
    assert (a.embeddings == b.embeddings).all() and (a.weights == b.weights).all()
