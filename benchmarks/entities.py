"""Entities benchmark: NER words/s on one core, full-stage docs/s, and worker RSS.

    flock /tmp/newsflow-cpu.lock /work/venv/bin/python benchmarks/entities.py \
        --ar ../shared/data/raw/ar/saudinewsnet/2015-07-21.zip --en ../shared/data/topics/en/bbc-news.jsonl

Pins BLAS to one thread (so figures are per core), loads both languages, then tags
N articles per language: "NER only" times tokenising + the tagger; "stage" times the
whole entities stage (dates, clitics, canonical ids, summary).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import zipfile  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.models import Document, Language  # noqa: E402
from pipeline.ner.canonical import gazetteer  # noqa: E402
from pipeline.ner.tagger import tagger_for  # noqa: E402
from pipeline.ner.tokenize import sentences, tokenize  # noqa: E402
from pipeline.runner import run_stage  # noqa: E402


def rss_mb() -> float:
    """Peak resident set size of this process in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def arabic_texts(path: Path, n: int) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        items = json.loads(archive.read(archive.namelist()[0]).decode("utf-8"))
    return [i["content"] for i in items if i.get("content")][:n]


def english_texts(path: Path, n: int) -> list[str]:
    return [json.loads(line)["text"] for line in path.open(encoding="utf-8")][:n]


def bench(lang: str, texts: list[str]) -> None:
    tagger = tagger_for(lang)
    words = 0
    spaced = sum(len(text.split()) for text in texts)
    started = time.perf_counter()
    for text in texts:
        tokens = tokenize(text)
        words += len(tokens)
        tagger.tag([[t.text for t in s] for s in sentences(tokens, text)])
    ner = time.perf_counter() - started
    started = time.perf_counter()
    for i, text in enumerate(texts):
        doc = Document(id=f"b{i}", text=text, language=Language(code=lang, name=lang, confidence=1.0))
        run_stage("entities", doc)
    stage = time.perf_counter() - started
    print(f"{lang}: {len(texts)} articles, {words} tokens ({spaced} whitespace-separated words)")
    print(f"{lang}: NER only    {words / ner:10,.0f} tokens/s per core ({spaced / ner:,.0f} words/s)")
    print(
        f"{lang}: full stage  {words / stage:10,.0f} tokens/s per core ({spaced / stage:,.0f} words/s,"
        f" {len(texts) / stage:,.1f} articles/s)"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ar", type=Path, required=True, help="a SaudiNewsNet .zip")
    parser.add_argument("--en", type=Path, required=True, help="bbc-news.jsonl")
    parser.add_argument("-n", type=int, default=300, help="articles per language")
    args = parser.parse_args(argv)
    base = rss_mb()
    gazetteer()
    tagger_for("ar")
    tagger_for("en")
    print(f"RSS: {base:.0f} MB at start, {rss_mb():.0f} MB with both taggers and the gazetteer loaded")
    # Warm-up so caches (token ids) start cold but code paths are loaded.
    for lang in ("ar", "en"):
        tagger_for(lang).tag([["warm", "up"]])
    bench("ar", arabic_texts(args.ar, args.n))
    bench("en", english_texts(args.en, args.n))
    print(f"RSS: peak {rss_mb():.0f} MB after tagging")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
