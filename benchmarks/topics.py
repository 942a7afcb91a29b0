"""Topic stage speed: articles/s on one core, model loaded once (load time reported apart).

    flock /tmp/newsflow-cpu.lock /work/venv/bin/python benchmarks/topics.py \
        --bbc ../shared/data/topics/en/bbc-news.jsonl --saudi ../shared/data/raw/ar/saudinewsnet \
        --sib ../shared/data/topics/sib200

Runs the registered stage function on Documents whose clean text and language are already
set (what the topics worker receives from the language stage), single-threaded.
``--no-language`` leaves the language out, as for an article the language stage could not
place: the stage then tries every lexicon to pick one. The first pass over the corpus warms the
tokenizer's word cache, as a long-running worker is; both passes are printed. Full
articles (BBC, SaudiNewsNet) take the static model; short texts (BBC titles alone,
SIB-200 sentences) take the e5 encoder, so they are timed apart.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# One core: keep numpy's BLAS from spreading the small matrix products over threads.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.models import Document, Language  # noqa: E402
from pipeline.topics.datasets import read_bbc, read_saudinewsnet, read_sib200  # noqa: E402


def main(argv: list[str]) -> int:
    """Print load time and articles/s (cold and warm pass) per language."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bbc", type=Path, default=Path("../shared/data/topics/en/bbc-news.jsonl"))
    ap.add_argument("--saudi", type=Path, default=Path("../shared/data/raw/ar/saudinewsnet"))
    ap.add_argument("--sib", type=Path, default=Path("../shared/data/topics/sib200"))
    ap.add_argument("--n", type=int, default=1000, help="articles per language")
    ap.add_argument("--no-language", action="store_true", help="Documents without a detected language")
    args = ap.parse_args(argv)

    from pipeline.stages.topics import topic_model, topics

    t0 = time.perf_counter()
    topic_model()
    print(f"model load: {time.perf_counter() - t0:.2f} s (once per process)")
    sib_lang = {"arb_Arab": "ar", "eng_Latn": "en", "fra_Latn": "fr"}
    corpora = {
        "en (BBC)": [(e.title, e.text, "en") for e in list(read_bbc(args.bbc))[: args.n]],
        "ar (SaudiNewsNet)": [(e.title, e.text, "ar") for e in _take(read_saudinewsnet(args.saudi, sources=None), args.n)],
        # Short texts go through the e5 encoder instead of the static table.
        "BBC titles only": [(e.title, "", "en") for e in list(read_bbc(args.bbc))[: args.n]],
        "SIB-200 ar/en/fr": [("", e.text, sib_lang[e.group]) for e in read_sib200(args.sib, "dev", list(sib_lang))],
    }
    for name, items in corpora.items():
        docs = [
            Document(
                id=f"b{i}", title=t or None, text=x,
                language=None if args.no_language else Language(code=lang, name=lang, confidence=1.0),
            )
            for i, (t, x, lang) in enumerate(items)
        ]
        chars = sum(len(d.text) + len(d.title or "") for d in docs) / max(len(docs), 1)
        for label in ("cold", "warm"):
            start = time.perf_counter()
            for d in docs:
                topics(d.model_copy())
            secs = time.perf_counter() - start
            print(f"{name:18} {label}: {len(docs) / secs:7.0f} articles/s  ({len(docs)} articles, mean {chars:.0f} chars)")
    return 0


def _take(it, n):
    out = []
    for x in it:
        out.append(x)
        if len(out) >= n:
            break
    return out


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
