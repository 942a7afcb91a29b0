"""The numpy tagger: shipped models load, tag, stay small, and match the torch network."""

import numpy as np
import pytest

from pipeline.ner.tagger import tagger_for
from pipeline.resources import data_path
from pipeline.topics.embedder import shipped_embedder


def test_shipped_models_tag_names():
    assert tagger_for("en").tag([["Joe", "Biden", "visited", "Baghdad", "."]]) == [
        ["B-PERSON", "I-PERSON", "O", "B-LOC", "O"]
    ]
    [tags] = tagger_for("ar").tag([["زار", "الرئيس", "جورج", "بوش", "بغداد", "."]])
    assert tags[2:5] == ["B-PERSON", "I-PERSON", "B-LOC"]


def test_empty_sentences_get_empty_tags():
    assert tagger_for("en").tag([[], ["Paris"]])[0] == []


def test_model_files_fit_the_25_mb_limit():
    for path in data_path("entities").iterdir():
        assert path.stat().st_size <= 25 * 1024 * 1024, path.name


@pytest.mark.parametrize("with_pieces,piece_proj,teacher_proj", [(False, 0, 0), (True, 0, 0), (True, 4, 0), (False, 0, 3)])
def test_numpy_inference_matches_the_torch_network(tmp_path, with_pieces, piece_proj, teacher_proj):
    torch = pytest.importorskip("torch")
    from pipeline.ner.labels import bio_tags
    from pipeline.ner.model import Tagger
    from pipeline.training.ner import build_encoder, export, make_model

    torch.manual_seed(0)
    train = [[("Joe", "B-PERSON"), ("Biden", "I-PERSON"), ("والعراق", "B-LOC"), ("2024", "O")]] * 3
    vectors = {
        "words": np.array(["joe", "biden", "العراق", "0000"]),
        "counts": np.array([5, 4, 9, 2]),
        "vectors": np.random.default_rng(0).normal(size=(4, 8)).astype(np.float32),
        "teacher": np.random.default_rng(1).normal(size=(4, 5)).astype(np.float32),
    }
    pieces = shipped_embedder() if with_pieces else None
    enc, table, teacher = build_encoder("en", train, vectors, extend=True, pieces=pieces)
    model = make_model(
        torch, len(enc.chars) + 2, table, len(bio_tags()), 6, char_filters=5, pieces_dim=pieces.dim if pieces else 0,
        piece_proj=piece_proj, teacher=teacher, teacher_proj=teacher_proj,
    )
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.5)
    model.eval()
    export(model, enc, bio_tags(), "en", tmp_path / "m.npz", {"pieces": pieces.fingerprint()} if pieces else {})
    tagger = Tagger.load(tmp_path / "m.npz")
    sents = [["Joe", "Biden", "والعراق", "x"], ["Biden"], ["a", "Joe", "2024", "b", "c", "والعراق"]]
    x = enc.encode(sents)
    with torch.no_grad():
        args = [torch.from_numpy(x[k]) for k in ("words", "stems", "shapes", "lex", "stats", "chars", "lengths")]
        em = model.emissions(*args, torch.from_numpy(x["pieces"]) if pieces else None)
    # Viterbi over the torch emissions must give the numpy tagger's paths.
    paths = tagger._viterbi(em.numpy(), x["lengths"])
    assert [[tagger.tags[i] for i in p] for p in paths] == tagger.tag(sents)


def test_piece_vectors_give_unseen_words_a_vector():
    from pipeline.ner.features import Encoder

    enc = Encoder(["paris"], [3], list("abc"), pieces=shipped_embedder())
    x = enc.encode([["Paris", "Zanzibarville", "والعراق"], ["x"]])["pieces"]
    assert x.shape == (2, 3, shipped_embedder().dim)
    assert np.allclose(np.linalg.norm(x[0], axis=1), 1.0, atol=1e-4)  # every word, known or not
    assert not x[1, 1:].any()  # padding stays zero


def test_a_model_refuses_a_different_piece_table(tmp_path):
    from pipeline.errors import StageError
    from pipeline.ner.model import Tagger

    with np.load(data_path("entities", "ner-en.npz")) as z:
        arrays = dict(z)
    arrays["meta"] = np.array('{"lang": "en", "pieces": 1}')
    with pytest.raises(StageError, match="another topics piece table"):
        Tagger(arrays)
