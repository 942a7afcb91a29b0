"""The pure-Python SentencePiece-unigram tokenizer that feeds the static topic embeddings."""

from __future__ import annotations

import numpy as np

from pipeline.topics.tokenizer import META, Tokenizer, Vocab


def _vocab() -> Vocab:
    pieces = ["<s>", "<pad>", "</s>", "<unk>", f"{META}hello", f"{META}he", "llo", f"{META}world", f"{META}wor", "ld", "o", META, "x"]
    scores = np.array([0, 0, 0, 0, -2.0, -3.0, -3.0, -2.5, -3.0, -3.0, -6.0, -4.0, -8.0], dtype=np.float32)
    # Fullwidth H folds to H, as the model's nmt_nfkc map does.
    return Vocab(pieces, scores, {0xFF28: "H"}, unk=3)


def test_viterbi_prefers_the_most_probable_segmentation():
    tok = Tokenizer(_vocab())
    pieces = [tok.vocab.pieces[i] for i in tok.encode("hello world")]
    assert pieces == [f"{META}hello", f"{META}world"]


def test_unknown_characters_become_unk_and_known_ones_still_match():
    tok = Tokenizer(_vocab())
    ids = tok.encode("hello qworld")
    assert ids[0] == 4
    assert 3 in ids  # "q" is not in the vocabulary
    assert ids[-1] == tok.vocab.pieces.index("ld") or ids[-1] == tok.vocab.pieces.index(f"{META}world")


def test_normalisation_map_is_applied_before_segmentation():
    vocab = _vocab()
    vocab.pieces[4] = f"{META}Hello"
    tok = Tokenizer(vocab)
    assert tok.encode("\uff28ello") == [4]


def test_control_pieces_never_match_text():
    tok = Tokenizer(_vocab())
    assert 0 not in tok.encode("<s> hello")


def test_vocab_round_trips_through_npz(tmp_path):
    vocab = _vocab()
    vocab.save(tmp_path / "v.npz")
    again = Vocab.load(tmp_path / "v.npz")
    assert again.pieces == vocab.pieces
    assert again.norm == vocab.norm
    assert np.allclose(again.scores, vocab.scores)
    assert Tokenizer(again).encode("hello world") == Tokenizer(vocab).encode("hello world")


def test_shipped_vocab_segments_arabic_and_english():
    from pipeline.stages.topics import topic_model

    tok = topic_model().embedder.tokenizer
    pieces = [tok.vocab.pieces[i] for i in tok.encode("The talks in Baghdad")]
    assert "".join(pieces).replace(META, " ").strip() == "The talks in Baghdad"
    ar = [tok.vocab.pieces[i] for i in tok.encode("المحادثات في بغداد")]
    assert "".join(ar).replace(META, " ").strip() == "المحادثات في بغداد"
