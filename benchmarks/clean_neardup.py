"""Near-duplicate signatures on real articles: do edited copies match and unrelated stories not?

Run: ``flock /tmp/newsflow-cpu.lock /work/venv/bin/python benchmarks/clean_neardup.py --bbc ../shared/data/topics/en/bbc-news.jsonl``

For N articles it builds three pairs: the article with one word replaced, the article
without its last paragraph, and the article against another random article. It prints
the mean estimated Jaccard similarity, the share of pairs that become LSH candidates
(share at least one band key) and the share judged near-duplicates, plus signing speed.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

from pipeline.text.neardup import band_keys, is_near_duplicate, signature, similarity


def main(argv: list[str]) -> int:
    """Print similarity / candidate / near-duplicate rates for edited, trimmed and unrelated pairs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bbc", type=Path, required=True, help="bbc-news.jsonl (one {title, text} per line)")
    parser.add_argument("--n", type=int, default=300, help="articles to use (default 300)")
    parser.add_argument("--random-seed", type=int, default=1)
    args = parser.parse_args(argv)
    texts = [json.loads(line)["text"] for line in args.bbc.read_text(encoding="utf-8").splitlines() if line.strip()][: args.n]
    rng = random.Random(args.random_seed)
    rows: dict[str, list[tuple[float, bool, bool]]] = {"one word replaced": [], "last paragraph dropped": [], "unrelated article": []}
    signing = 0.0
    for text in texts:
        words = text.split()
        edited = list(words)
        edited[rng.randrange(len(edited))] = "XYZ"
        paras = text.split("\n\n")
        other = texts[rng.randrange(len(texts))]
        start = time.perf_counter()
        sig = signature(text)
        signing += time.perf_counter() - start
        pairs = {
            "one word replaced": " ".join(edited),
            "last paragraph dropped": "\n\n".join(paras[:-1]) if len(paras) > 2 else None,
            "unrelated article": other if other is not text else None,
        }
        for name, variant in pairs.items():
            if variant is None:
                continue
            vsig = signature(variant)
            rows[name].append((similarity(sig, vsig), bool(set(band_keys(sig)) & set(band_keys(vsig))), is_near_duplicate(sig, vsig)))
    print(f"{'pair':24} {'n':>4} {'mean sim':>9} {'candidate':>10} {'near-dup':>9}")
    for name, values in rows.items():
        sims = [v[0] for v in values]
        print(
            f"{name:24} {len(values):4d} {statistics.mean(sims):9.3f} "
            f"{sum(v[1] for v in values) / len(values):10.1%} {sum(v[2] for v in values) / len(values):9.1%}"
        )
    print(f"signing: {1000 * signing / len(texts):.2f} ms per article ({len(texts)} articles)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
