"""``newsflow eval topics --data PATH...``: accuracy, macro-F1 and calibration of the topic stage.

Each ``--data`` path is recognised by its shape:

* a SIB-200 root (``.../sib200``) or one language folder (``.../sib200/arb_Arab``):
  the ``--split`` file (default dev; ``held-out``: the train rows ``newsflow train topics``
  holds out from training in every language, used only to fit calibration and fusion)
  of ``--langs`` (default arb_Arab eng_Latn fra_Latn; ``all`` for the 205 languages,
  ``unseen`` for those the short-text encoder was not trained on);
* ``bbc-news.jsonl``: only the seeded 10% the shipped model did not train on
  (``--all-bbc`` for every article);
* ``masakhanews.*.tsv`` (never trained on);
* a SaudiNewsNet folder of daily zips: the seeded 30% of the single-subject outlets'
  articles held out from training (``--all-saudi`` for all of them).

``--titles`` scores each article's title alone, the short-text route a headline feed takes.
``--window N`` has the short-text encoder read one-line texts of up to N pieces, and
``--multiline-window M`` texts of several lines (title and body) of up to M (default: the
shipped ``encoder.json``'s; the several-line window never exceeds the one-line one), to
choose them by measurement. ``--json`` records the windows a run used.

Predictions are the stage's own scores (model + lexicons, calibrated), mapped back to
each dataset's labels through ``pipeline/data/topics/label_map.tsv``: the prediction is
the highest-scoring IPTC code among those the dataset's labels map to. Calibration is
shown as a reliability table over (article, topic) pairs: of the pairs scored in a bin,
the fraction where the topic is the gold label.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

from pipeline.topics.datasets import Example, dataset_codes, read_bbc, read_masakhanews, read_saudinewsnet, read_sib200
from pipeline.topics.encoder import MAX_WINDOW, MIN_WINDOW
from pipeline.topics.head import expected_calibration_error, macro_f1, reliability_table, wilson_interval

DEFAULT_LANGS = ["arb_Arab", "eng_Latn", "fra_Latn"]
SIB_LANG = {"arb_Arab": "ar", "eng_Latn": "en", "fra_Latn": "fr"}
SEED = 13


def _datasets(args) -> list[tuple[str, list[Example], str | None]]:
    """(name, examples, language given to the stage) for every --data path."""
    out = []
    for path in args.data:
        if not path.exists():
            raise SystemExit(f"E267 --data {path} does not exist: pass a SIB-200 root, a .jsonl, a .tsv or a SaudiNewsNet folder")
        if path.is_dir() and (path / f"{_sib_file(args.split)}.tsv").exists():  # one SIB-200 language folder
            exs = _sib_rows(path.parent, args.split, [path.name])
            out.append((f"sib200/{path.name}", exs, SIB_LANG.get(path.name) if args.give_language else None))
        elif path.is_dir() and any(path.glob("*.zip")):
            exs = list(read_saudinewsnet(path))
            if not args.all_saudi:
                from pipeline.training.topics import saudi_parts

                exs = saudi_parts(exs, SEED)[0]
            out.append(("saudinewsnet" + ("" if args.all_saudi else "/held-out-30%"), exs, "ar" if args.give_language else None))
        elif path.is_dir():
            langs = None if args.langs in (["all"], ["unseen"]) else args.langs
            skip = set(_encoder_langs()) if args.langs == ["unseen"] else set()
            by_lang: dict[str, list[Example]] = defaultdict(list)
            for e in _sib_rows(path, args.split, langs):
                if e.group in skip:
                    continue
                by_lang[e.group].append(e)
            for lang, exs in sorted(by_lang.items()):
                out.append((f"sib200/{lang}", exs, SIB_LANG.get(lang) if args.give_language else None))
        elif path.suffix == ".jsonl":
            exs = list(read_bbc(path))
            if not args.all_bbc:
                from pipeline.training.topics import heldout_positions

                held = heldout_positions(len(exs), SEED, 2)
                exs = [e for i, e in enumerate(exs) if i in held]
            out.append(("bbc" + ("" if args.all_bbc else "/held-out-10%"), exs, "en" if args.give_language else None))
        elif path.suffix == ".tsv":
            out.append((f"masakhanews/{path.stem}", list(read_masakhanews(path)), "en" if args.give_language else None))
        else:
            raise SystemExit(f"E263 cannot tell the dataset of {path}")
    return out


def titles_only(exs: list[Example]) -> list[Example]:
    """Each titled article as its title alone (the text a headline feed would carry)."""
    return [replace(e, text=e.title, title="") for e in exs if e.title.strip()]


def evaluate(name: str, exs: list[Example], language: str | None, limit: int | None) -> dict:
    """Score ``exs`` with the stage's model; accuracy, macro-F1, top-1 over all topics, calibration pairs."""
    from pipeline.stages.topics import topic_model

    model = topic_model()
    exs = exs[:limit] if limit else exs
    gold, pred, top_any, pair_s, pair_y = [], [], [], [], []
    started = time.perf_counter()
    for e in exs:
        scored = model.score(e.text, e.title or None, language, min_score=0.0)
        full = {t.code: t.score for t in scored}
        allowed = dataset_codes(e.dataset)
        best = max(allowed, key=lambda c: full.get(c, 0.0))
        gold.append(e.code)
        pred.append(best)
        top_any.append(scored[0].code == e.code if scored else False)
        for c in allowed:
            pair_s.append(full.get(c, 0.0))
            pair_y.append(float(c == e.code))
    secs = time.perf_counter() - started
    s, y = np.array(pair_s), np.array(pair_y)
    hits = sum(g == p for g, p in zip(gold, pred))
    return {
        "dataset": name,
        "n": len(exs),
        "accuracy": hits / len(exs) if exs else float("nan"),
        "accuracy_ci95": list(wilson_interval(hits, len(exs))),
        "macro_f1": macro_f1(gold, pred),
        "top1_of_all_17": float(np.mean(top_any)) if exs else float("nan"),
        "ece": expected_calibration_error(s, y),
        "articles_per_s": len(exs) / secs if secs else float("nan"),
        "reliability": reliability_table(s, y),
    }


def print_report(results: list[dict]) -> None:
    """Per-dataset table, then the pooled reliability table."""
    print(f"{'dataset':34} {'n':>6} {'acc':>6} {'95% CI':>13} {'macroF1':>8} {'top1/17':>8} {'ECE':>6} {'art/s':>7}")
    for r in results:
        lo, hi = r["accuracy_ci95"]
        print(
            f"{r['dataset']:34} {r['n']:6d} {r['accuracy']:6.3f} {f'{lo:.3f}-{hi:.3f}':>13} {r['macro_f1']:8.3f}"
            f" {r['top1_of_all_17']:8.3f} {r['ece']:6.3f} {r['articles_per_s']:7.0f}"
        )
    if len(results) > 1 and all(r["dataset"].startswith("sib200/") for r in results[:2]):
        sib = [r["accuracy"] for r in results if r["dataset"].startswith("sib200/")]
        print(f"SIB-200 mean accuracy over {len(sib)} languages: {np.mean(sib):.3f} (min {np.min(sib):.3f})")
    print("\nreliability (all datasets pooled; pairs = article x topic its dataset can express)")
    print(f"{'score bin':>12} {'pairs':>7} {'mean score':>11} {'observed':>9}")
    bins: dict[tuple, list] = defaultdict(lambda: [0, 0.0, 0.0])
    for r in results:
        for lo, hi, n, obs, mean in r["reliability"]:
            if n:
                b = bins[(lo, hi)]
                b[0] += n
                b[1] += n * mean
                b[2] += n * obs
    for (lo, hi), (n, sm, so) in sorted(bins.items()):
        print(f"{lo:5.1f}-{hi:<5.1f} {n:8d} {sm / n:11.3f} {so / n:9.3f}")


def _sib_file(split: str) -> str:
    return "train" if split == "held-out" else split


def _sib_rows(root: Path, split: str, langs: list[str] | None) -> list[Example]:
    """SIB-200 rows of ``split``; ``held-out`` keeps the train rows ``newsflow train topics``
    holds out (the same positions in every language)."""
    rows = list(read_sib200(root, _sib_file(split), langs))
    if split != "held-out":
        return rows
    from pipeline.training.topics import split_sib_rows

    return split_sib_rows(rows, SEED)[1]


def _encoder_langs() -> list[str]:
    """The SIB-200 languages the shipped short-text encoder was trained on."""
    from pipeline.resources import data_path

    return json.loads(data_path("topics", "encoder.json").read_text(encoding="utf-8"))["langs"]


def main(argv: list[str] | None = None) -> int:
    """Evaluate the topic stage on each --data path; print the report (and --json)."""
    ap = argparse.ArgumentParser(prog="newsflow eval topics", description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, nargs="+", required=True)
    ap.add_argument(
        "--split", default="dev",
        help="SIB-200 split: dev, train (what the models learnt from) or held-out (train rows held out from"
        " training, used only to fit calibration and fusion)",
    )
    ap.add_argument(
        "--langs", nargs="+", default=DEFAULT_LANGS,
        help="SIB-200 languages, 'all', or 'unseen' (those the short-text encoder was not trained on)",
    )
    ap.add_argument("--all-bbc", action="store_true", help="every BBC article, including those trained on")
    ap.add_argument("--all-saudi", action="store_true", help="every SaudiNewsNet article, including those trained on")
    ap.add_argument(
        "--give-language",
        action="store_true",
        help="pass the dataset's language to the stage (default: None, as when the language stage is absent)",
    )
    ap.add_argument(
        "--titles", action="store_true",
        help="score each article's title alone (headlines: the short-text encoder's route); SIB-200 is left as it is",
    )
    ap.add_argument("--limit", type=int, default=None, help="at most N articles per dataset")
    ap.add_argument(
        "--window", type=int, default=None,
        help=f"the short-text encoder reads one-line texts of up to N pieces ({MIN_WINDOW}-{MAX_WINDOW})",
    )
    ap.add_argument(
        "--multiline-window", type=int, default=None,
        help="... and texts of several lines (title and body) of up to N pieces (at most the one-line window)",
    )
    ap.add_argument("--json", type=Path, default=None, help="also write the results as JSON here")
    args = ap.parse_args(argv)
    if len(args.langs) > 1 and {"all", "unseen"} & set(args.langs):
        print("error: --langs all and --langs unseen stand alone (or name the languages instead)", file=sys.stderr)
        return 2
    windows: dict[str, int] = {}
    if args.window is not None or args.multiline_window is not None:
        from pipeline.stages.topics import topic_model

        encoder = topic_model().encoder
        given = [w for w in (args.window, args.multiline_window) if w is not None]
        if encoder is None or not all(MIN_WINDOW <= w <= MAX_WINDOW for w in given):
            print("error: --window and --multiline-window need the short-text encoder (NEWSFLOW_TOPIC_ENCODER on)"
                  f" and {MIN_WINDOW} <= N <= {MAX_WINDOW}", file=sys.stderr)
            return 2
        if args.window is not None:
            encoder.max_pieces = args.window
        if args.multiline_window is not None:
            encoder.max_pieces_multiline = args.multiline_window
        windows = {"window": encoder.window("one line"), "multiline_window": encoder.window("two\nlines")}
    datasets = _datasets(args)
    if args.titles:
        datasets = [(name, exs, lang) if name.startswith("sib200/") else (f"{name}/titles", titles_only(exs), lang)
                    for name, exs, lang in datasets]
    results = [evaluate(name, exs, lang, args.limit) | windows for name, exs, lang in datasets]
    print_report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
