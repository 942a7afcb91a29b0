"""Evaluate NER: ``newsflow eval ner --lang ar --data FILE.conll``.

Entity-level exact match (label and token span must both agree), P/R/F1 per label
and overall, in the CoNLL way. Gold tags are mapped with :mod:`pipeline.ner.labels`.
Give ``--dev`` to score only the last 10% of the file (the dev split of issue #5).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from pipeline.ner.labels import map_tag, spans


CORE = ("PERSON", "ORG", "LOC")  # issue #5 compares models on these three


def score_spans(
    gold: list[list[str]], pred: list[list[str]], overall: tuple[str, ...] | None = None
) -> dict[str, dict[str, float]]:
    """Per-label and overall (``ALL``, over ``overall`` labels or all) P/R/F1 and support of exact span matches."""
    tp, n_gold, n_pred = Counter(), Counter(), Counter()
    for g, p in zip(gold, pred):
        gs, ps = set(spans(g)), set(spans(p))
        for s in gs:
            n_gold[s[2]] += 1
        for s in ps:
            n_pred[s[2]] += 1
        for s in gs & ps:
            tp[s[2]] += 1
    report = {}
    labels = sorted(set(n_gold) | set(n_pred))
    keep = set(overall) if overall else set(labels)
    for label in labels + ["ALL"]:
        t = sum(v for k, v in tp.items() if k in keep) if label == "ALL" else tp[label]
        ng = sum(v for k, v in n_gold.items() if k in keep) if label == "ALL" else n_gold[label]
        np_ = sum(v for k, v in n_pred.items() if k in keep) if label == "ALL" else n_pred[label]
        p = t / np_ if np_ else 0.0
        r = t / ng if ng else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        report[label] = {"p": p, "r": r, "f1": f, "support": ng}
    return report


def format_report(report: dict[str, dict[str, float]]) -> str:
    """A small fixed-width table of the report."""
    lines = [f"{'label':<8} {'P':>6} {'R':>6} {'F1':>6} {'gold':>6}"]
    for label, row in report.items():
        lines.append(f"{label:<8} {row['p']:6.3f} {row['r']:6.3f} {row['f1']:6.3f} {row['support']:6d}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Tag FILE.conll with the shipped model for --lang and print P/R/F1 per label."""
    parser = argparse.ArgumentParser(prog="newsflow eval ner")
    parser.add_argument("--lang", choices=["ar", "en"], required=True)
    parser.add_argument("--data", type=Path, required=True, help="a token TAB tag file")
    parser.add_argument("--dev", action="store_true", help="score only the last 10%% of the file")
    parser.add_argument("--model", type=Path, default=None, help="an exported .npz (default: the shipped one)")
    parser.add_argument("--labels", default="PERSON,ORG,LOC,MISC", help="labels to score")
    parser.add_argument(
        "--propagate", type=int, default=0, metavar="N",
        help="apply the stage's document-level name propagation, taking every N sentences as one document",
    )
    args = parser.parse_args(argv)
    from pipeline.ner.conll import read_conll, split_dev
    from pipeline.ner.model import Tagger
    from pipeline.ner.tagger import tagger_for

    if not args.data.exists():
        print(f"error: {args.data} does not exist (give a token TAB tag file)", file=sys.stderr)
        return 2
    keep = tuple(args.labels.split(","))
    sents = read_conll(args.data)
    if args.dev:
        sents = split_dev(sents)[1]
    tagger = Tagger.load(args.model) if args.model else tagger_for(args.lang)
    gold = [[map_tag(t, keep) for _, t in s] for s in sents]
    started = time.perf_counter()
    words = [[w for w, _ in s] for s in sents]
    pred = tagger.tag(words)
    seconds = time.perf_counter() - started
    if args.propagate:
        from pipeline.ner.propagate import propagate

        n = args.propagate
        pred = [t for k in range(0, len(words), n) for t in propagate(words[k : k + n], pred[k : k + n], tagger.encoder.stem_key)]
    pred = [[t if t == "O" or t[2:] in keep else "O" for t in p] for p in pred]
    print(f"{args.data}: {len(sents)} sentences, {sum(map(len, sents))} tokens ({sum(map(len, sents)) / seconds:,.0f} tokens/s)")
    print(format_report(score_spans(gold, pred)))
    core = score_spans(gold, pred, CORE)["ALL"]
    print(f"PER/ORG/LOC (as issue #5 reports): P {core['p']:.3f} R {core['r']:.3f} F1 {core['f1']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
