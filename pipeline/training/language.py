"""Train the language-identification model on SIB-200 train and write ``langid.npz``.

    newsflow train language [--data DIR] [--out FILE] [--epochs N] ...

The model is fastText-style (hashed char 1..5-grams -> mean embedding -> softmax),
trained here with plain minibatch SGD and a linearly decaying learning rate, in
numpy + scipy.sparse (no torch needed). Every sentence is also shown as a short
random snippet so the model learns the title case (20-40 characters). The seed is
fixed, so the same data gives the same file.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from pipeline.lang.corpus import DEFAULT_SIB200, read_split
from pipeline.lang.features import ngram_ids
from pipeline.lang.model import MODEL_FILE, LangModel, softmax
from pipeline.resources import data_path


def snippet(text: str, rng: np.random.Generator) -> str:
    """A short piece of ``text``: a prefix half the time, else a window starting at a word."""
    size = int(rng.integers(12, 48))
    if len(text) <= size:
        return text
    if rng.random() < 0.5:
        return text[:size]
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == " " and i + 1 < len(text) - size]
    start = starts[int(rng.integers(len(starts)))]
    return text[start : start + size]


def build_examples(
    data: dict[str, list[str]], labels: list[str], bits: int, snippets: int, rng: np.random.Generator
) -> tuple[list[np.ndarray], np.ndarray]:
    """Feature ids and label index of every sentence plus ``snippets`` short pieces of each."""
    feats: list[np.ndarray] = []
    ys: list[int] = []
    for y, label in enumerate(labels):
        for text in data[label]:
            feats.append(ngram_ids(text, bits))
            ys.append(y)
            for _ in range(snippets):
                feats.append(ngram_ids(snippet(text, rng), bits))
                ys.append(y)
    keep = [i for i, f in enumerate(feats) if len(f)]
    return [feats[i] for i in keep], np.array([ys[i] for i in keep], dtype=np.int64)


def fit(
    feats: list[np.ndarray],
    ys: np.ndarray,
    n_labels: int,
    *,
    bits: int,
    dim: int,
    epochs: int,
    lr: float,
    batch: int,
    rng: np.random.Generator,
    log=print,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minibatch SGD on softmax cross-entropy; returns (embeddings, weights, bias)."""
    from scipy.sparse import csr_matrix  # training-only dependency

    emb = rng.uniform(-1.0 / dim, 1.0 / dim, size=(2**bits, dim)).astype(np.float32)
    weights = np.zeros((dim, n_labels), dtype=np.float32)
    bias = np.zeros(n_labels, dtype=np.float32)
    lens_all = np.array([len(f) for f in feats], dtype=np.int64)
    total = epochs * len(feats)
    seen = 0
    for epoch in range(epochs):
        order = rng.permutation(len(feats))
        loss_sum, started = 0.0, time.time()
        for start in range(0, len(order), batch):
            rows = order[start : start + batch]
            n = len(rows)
            rate = lr * max(0.0, 1.0 - seen / total)
            seen += n
            lens = lens_all[rows]
            cat = np.concatenate([feats[i] for i in rows])
            uniq, inv = np.unique(cat, return_inverse=True)
            sent = np.repeat(np.arange(n), lens)
            # mix[s, u] = share of sentence s's n-grams that hit bucket u
            mix = csr_matrix(((1.0 / lens)[sent].astype(np.float32), (sent, inv)), shape=(n, len(uniq)))
            hidden = mix @ emb[uniq]
            scores = hidden @ weights + bias
            scores -= scores.max(axis=1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=1, keepdims=True)
            target = ys[rows]
            loss_sum -= float(np.log(probs[np.arange(n), target] + 1e-12).sum())
            grad = probs
            grad[np.arange(n), target] -= 1.0
            grad_hidden = grad @ weights.T
            weights -= rate * (hidden.T @ grad)
            bias -= rate * grad.sum(axis=0)
            emb[uniq] -= rate * (mix.T @ grad_hidden)
        log(f"epoch {epoch + 1}/{epochs}: loss {loss_sum / len(order):.4f} ({time.time() - started:.0f}s)")
    return emb, weights, bias


def dev_accuracy(model: LangModel, dev: dict[str, list[str]]) -> tuple[float, dict[str, float]]:
    """Raw label accuracy on ``dev`` (macro over labels) and per label; a training-time check."""
    index = {label: i for i, label in enumerate(model.labels)}
    per = {}
    for label, texts in dev.items():
        if label not in index:
            continue
        hits = sum(int(np.argmax(model.logits(t)) == index[label]) for t in texts)
        per[label] = hits / max(1, len(texts))
    return float(np.mean(list(per.values()))), per


def main(argv: list[str] | None = None) -> int:
    """Train on SIB-200 train, report dev accuracy, write the model file."""
    parser = argparse.ArgumentParser(prog="newsflow train language", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_SIB200, help="SIB-200 folder (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=data_path("language", MODEL_FILE), help="model file to write")
    parser.add_argument("--bits", type=int, default=17, help="log2 of the number of hash buckets")
    parser.add_argument("--dim", type=int, default=64, help="embedding size")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=2.0)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--snippets", type=int, default=4, help="short snippets added per sentence")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--no-dev", action="store_true", help="skip the dev-split check")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    train = read_split(args.data, "train")
    labels = sorted(train)
    started = time.time()
    feats, ys = build_examples(train, labels, args.bits, args.snippets, rng)
    print(f"{len(labels)} labels, {len(feats)} examples, features in {time.time() - started:.0f}s")
    emb, weights, bias = fit(
        feats, ys, len(labels), bits=args.bits, dim=args.dim, epochs=args.epochs,
        lr=args.lr, batch=args.batch, rng=rng,
    )
    meta = {
        "data": "SIB-200 (Flores-200) train split, CC BY-SA 4.0",
        "labels": len(labels),
        "examples": len(feats),
        "bits": args.bits, "dim": args.dim, "epochs": args.epochs, "lr": args.lr,
        "batch": args.batch, "snippets": args.snippets, "seed": args.seed,
    }
    model = LangModel(tuple(labels), emb.astype(np.float16), weights, bias, args.bits, meta)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    size_mb = args.out.stat().st_size / 1e6
    print(f"wrote {args.out} ({size_mb:.1f} MB) in {time.time() - started:.0f}s")
    if size_mb > 25:
        print("warning: model file is over the 25 MB limit; lower --bits or --dim", file=sys.stderr)
    if not args.no_dev:
        dev = read_split(args.data, "dev")
        macro, per = dev_accuracy(model, dev)
        worst = sorted(per.items(), key=lambda kv: kv[1])[:15]
        print(f"dev raw label macro accuracy {macro:.4f}; worst: " + ", ".join(f"{k} {v:.2f}" for k, v in worst))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
