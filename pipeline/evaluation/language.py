"""Evaluate language identification on SIB-200-format folders.

    newsflow eval language --data DIR [--split dev] [--worst 15]

For every ``<lang>_<Script>`` folder: the share of its sentences whose detected
code is the folder's code (Arabic dialect folders count as ``ar``). Prints the
per-language accuracy, the macro accuracy over folders, the worst languages with
what they were confused with, and accuracy on the first 20 characters of each
English and Arabic sentence (the title case).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from pipeline.lang.codes import expected_code
from pipeline.lang.corpus import DEFAULT_SIB200, read_split
from pipeline.lang.detector import identify
from pipeline.lang.model import load_model, shipped_model

PREFIX_FOLDERS = ("eng_Latn", "arb_Arab")
HEADLINE_CODES = ("ar", "en", "fa", "ur")


def predict(text: str, model) -> str:
    """Detected code of ``text`` (``'?'`` when nothing is detected)."""
    guess = identify(text, model)
    return guess.code if guess else "?"


def evaluate(data: dict[str, list[str]], model, prefix: int = 20) -> dict:
    """Accuracy per folder, confusions per folder, and prefix accuracy for eng/arb."""
    per: dict[str, float] = {}
    confusions: dict[str, Counter] = {}
    sentences = 0
    started = time.perf_counter()
    for folder, texts in data.items():
        want = expected_code(folder)
        got = Counter(predict(t, model) for t in texts)
        sentences += len(texts)
        per[folder] = got[want] / max(1, len(texts))
        del got[want]
        confusions[folder] = got
    seconds = time.perf_counter() - started
    prefixes = {}
    for folder in PREFIX_FOLDERS:
        if folder in data:
            want = expected_code(folder)
            texts = data[folder]
            prefixes[folder] = sum(predict(t[:prefix], model) == want for t in texts) / max(1, len(texts))
    return {"per": per, "confusions": confusions, "prefix": prefixes, "sentences": sentences, "seconds": seconds}


def long_documents(data: dict[str, list[str]], model, size: int = 20) -> tuple[float, float, int]:
    """Accuracy on documents of ``size`` sentences (one per line): bounded sample vs whole text."""
    import pipeline.lang.detector as detector

    docs = [
        ("\n".join(texts[i : i + size]), expected_code(folder))
        for folder, texts in data.items()
        for i in range(0, len(texts) - size + 1, size)
    ]
    sampled = sum(predict(text, model) == want for text, want in docs)
    limit = detector.SAMPLE_CHARS
    try:
        detector.SAMPLE_CHARS = 10**9  # whole text, for comparison only
        whole = sum(predict(text, model) == want for text, want in docs)
    finally:
        detector.SAMPLE_CHARS = limit
    n = max(1, len(docs))
    return sampled / n, whole / n, len(docs)


def code_accuracy(per: dict[str, float], code: str) -> float | None:
    """Mean accuracy over the folders whose expected code is ``code`` (e.g. all Arabic ones)."""
    values = [acc for folder, acc in per.items() if expected_code(folder) == code]
    return sum(values) / len(values) if values else None


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation and print the report; exit 1 when a 'done when' target is missed."""
    parser = argparse.ArgumentParser(prog="newsflow eval language", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_SIB200, help="SIB-200-format folder (default: %(default)s)")
    parser.add_argument("--split", default="dev", help="which TSV to read in each folder (default: dev)")
    parser.add_argument("--model", type=Path, default=None, help="model .npz (default: the shipped one)")
    parser.add_argument("--worst", type=int, default=15, help="how many worst languages to list")
    parser.add_argument("--all", action="store_true", help="print every language, not only the summary")
    args = parser.parse_args(argv)

    model = load_model(args.model) if args.model else shipped_model()
    data = read_split(args.data, args.split)
    result = evaluate(data, model)
    per = result["per"]
    macro = sum(per.values()) / len(per)

    if args.all:
        for folder in sorted(per):
            print(f"{folder:10s} {expected_code(folder):4s} {per[folder]:.3f}")
    print(f"folders: {len(per)}  sentences: {result['sentences']}  split: {args.split}")
    print(f"macro accuracy: {macro:.4f}")
    for code in HEADLINE_CODES:
        acc = code_accuracy(per, code)
        if acc is not None:
            print(f"accuracy {code}: {acc:.4f}")
    for folder, acc in result["prefix"].items():
        print(f"20-char prefix accuracy {folder}: {acc:.4f}")
    print(f"worst {args.worst} languages (accuracy; confused with):")
    for folder, acc in sorted(per.items(), key=lambda kv: kv[1])[: args.worst]:
        wrong = ", ".join(f"{code} x{n}" for code, n in result["confusions"][folder].most_common(4))
        print(f"  {folder:10s} {acc:.3f}  {wrong}")
    unrecognised = [f for f, acc in per.items() if acc == 0.0]
    print(f"languages never recognised: {len(unrecognised)} {' '.join(unrecognised)}")
    sampled, whole, n_docs = long_documents(data, model)
    print(f"long documents (20 sentences, ~2,500 chars; {n_docs}): bounded sample {sampled:.4f}, whole text {whole:.4f}")
    rate = result["sentences"] / result["seconds"]
    print(f"speed: {rate:,.0f} sentences/s (single process, includes script checks)")

    targets_met = (
        macro >= 0.97
        and not unrecognised
        and all((code_accuracy(per, c) or 0) >= 0.99 for c in HEADLINE_CODES if code_accuracy(per, c) is not None)
        and all(v >= 0.95 for v in result["prefix"].values())
    )
    print("targets: " + ("met" if targets_met else "NOT met"))
    return 0 if targets_met else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
