"""The topic model: static embeddings + linear head + lexicons, fused into calibrated scores.

For a topic the head was trained on (arts, economy, environment, health, lifestyle,
politics, science, sport), the score is ``sigmoid(a * logit(head) + b * log1p(E) + c)``
where ``E`` is the lexicon evidence. For a topic with no training data (conflict,
crime, disaster, education, human interest, labour, religion, society, weather) it is
``sigmoid(b' * log1p(E) + c')``. Both fusions are fitted on held-out labelled articles;
the lexicon-only one is fitted on the labelled topics and transferred, since the
lexicons of every topic are written to the same weighting scheme, with its intercept
shifted from the calibration data's base rate to a prior of 3% per untrained topic
(a topic such as weather is far rarer than one of 5-7 dataset labels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.topics.embedder import StaticEmbedder
from pipeline.topics.encoder import ShortTextEncoder
from pipeline.topics.head import TopicHead
from pipeline.topics.lexicon import Lexicon, evidence_strength, fold_words
from pipeline.topics.taxonomy import TopicTerm

MIN_SCORE = 0.1
MAX_EVIDENCE_TERMS = 5
# The head is a softmax, so a clear second topic (economy in a story about a football
# club's profits) gets a tiny head probability; the floor lets lexicon evidence lift it.
LOGIT_FLOOR = -4.0


@dataclass(frozen=True)
class Fusion:
    """Fitted fusion weights (see module docstring).

    ``per_code`` optionally overrides (a, b, c) for a trained code: lexicons are not
    equally reliable for every topic (English "government" is in most UK news).
    """

    a_model: float = 1.0
    b_lex: float = 0.0
    c: float = 0.0
    b_lex_only: float = 1.0
    c_lex_only: float = -3.0
    per_code: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    def as_array(self) -> np.ndarray:
        """The five shared weights, for storage in head.npz."""
        return np.array([self.a_model, self.b_lex, self.c, self.b_lex_only, self.c_lex_only], dtype=np.float64)

    def params(self, code: str) -> tuple[float, float, float]:
        """(a, b, c) of the model+lexicon fusion for ``code``."""
        return self.per_code.get(code, (self.a_model, self.b_lex, self.c))


@dataclass(frozen=True)
class ScoredTopic:
    """A topic with its calibrated score and the lexicon terms that matched."""

    code: str
    label: str
    score: float
    evidence: list[str] = field(default_factory=list)


def floored_logit(p: np.ndarray) -> np.ndarray:
    """logit(p), softly floored at LOGIT_FLOOR (the fusion's model feature).

    A smooth maximum, log(e^logit + e^floor), not a hard one: under a hard floor every
    topic the head finds unlikely tied at the floor, and a short sentence the head was
    unsure about went to whichever tied topic came first in the taxonomy.
    """
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.logaddexp(np.log(p / (1 - p)), LOGIT_FLOOR)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z > -60 else 0.0


@dataclass
class TopicModel:
    """Everything the stage needs, loaded once per process."""

    taxonomy: dict[str, TopicTerm]
    embedder: StaticEmbedder
    head: TopicHead
    lexicons: dict[str, Lexicon]  # language code -> lexicon
    fusion: Fusion
    # Reads texts within its window (encoder.window) in place of the static head (None: off).
    encoder: ShortTextEncoder | None = None
    encoder_error: str | None = None  # why the encoder is not loaded although it is enabled

    @classmethod
    def load(
        cls, model_dir: Path, taxonomy: dict[str, TopicTerm], lexicons: dict[str, Lexicon],
        embedder: StaticEmbedder | None = None,
    ) -> "TopicModel":
        """Load vocab.npz, table.npz (unless ``embedder`` is given, already loaded) and head.npz from ``model_dir``."""
        embedder = embedder or StaticEmbedder.load(model_dir)
        with np.load(model_dir / "head.npz") as z:
            head = TopicHead([str(c) for c in z["codes"]], z["weight"], z["bias"], z["cal_a"], z["cal_b"])
            fusion = Fusion(*[float(v) for v in z["fusion"]]) if "fusion" in z else Fusion()
            if "fusion_per_code" in z:
                per = {str(c): tuple(float(v) for v in row) for c, row in zip(z["codes"], z["fusion_per_code"])}
                fusion = Fusion(*[float(v) for v in z["fusion"]], per_code=per)
        return cls(taxonomy, embedder, head, lexicons, fusion)

    def lexicon_evidence(self, words: list[str], language: str | None) -> tuple[dict[str, float], dict[str, list[str]]]:
        """(code -> evidence strength, code -> matched terms, most frequent first) for ``words``."""
        lexicon = self._pick_lexicon(words, language)
        if lexicon is None:
            return {}, {}
        hits = lexicon.match(words)
        strength = {code: evidence_strength(code, terms, lexicon, len(words)) for code, terms in hits.items()}
        terms = {code: [t for t, _ in sorted(ts.items(), key=lambda kv: (-kv[1], kv[0]))] for code, ts in hits.items()}
        return strength, terms

    def _pick_lexicon(self, words: list[str], language: str | None) -> Lexicon | None:
        if not self.lexicons:
            return None
        if language:
            base = language.split("-")[0].lower()
            if base in self.lexicons:
                return self.lexicons[base]
        # Language unknown (or no lexicon for it): use the lexicon whose terms match most,
        # so French "but" (goal) is not read into an English sentence.
        best, best_hits = None, 0
        for lex in self.lexicons.values():
            n = sum(sum(t.values()) for t in lex.match(words).values())
            if n > best_hits:
                best, best_hits = lex, n
        return best

    def head_probs(self, title: str | None, text: str) -> dict[str, float]:
        """Calibrated head probability per trained code ({} when no piece of the text is known).

        A short text (title and body within the encoder's window) is scored by the
        fine-tuned e5 encoder, anything longer by the static table and head.
        """
        body = f"{title}\n{text}" if title else text
        if self.encoder is not None:
            ids = self.encoder.pieces(body)
            if ids is not None:
                return dict(zip(self.encoder.codes, self.encoder.calibrated([ids])[0].tolist()))
        x = self.embedder.embed(body)
        if not x.any():
            return {}
        probs = self.head.calibrated(x)
        return dict(zip(self.head.codes, probs.tolist()))

    def score(
        self, text: str, title: str | None = None, language: str | None = None, min_score: float = MIN_SCORE
    ) -> list[ScoredTopic]:
        """Every taxonomy topic scoring at least ``min_score`` (always the best one), best first."""
        body = f"{title}\n{text}" if title else text
        words = fold_words(body)
        if not words:
            return []
        model = self.head_probs(title, text)
        strength, terms = self.lexicon_evidence(words, language)
        f = self.fusion
        out: list[ScoredTopic] = []
        for code, term in self.taxonomy.items():
            e = math.log1p(strength.get(code, 0.0))
            if code in model:
                a, b, c = f.params(code)
                z = a * float(floored_logit(np.array(model[code]))) + b * e + c
            else:
                z = f.b_lex_only * e + f.c_lex_only
            out.append(ScoredTopic(code, term.label, _sigmoid(z), terms.get(code, [])[:MAX_EVIDENCE_TERMS]))
        out.sort(key=lambda t: -t.score)
        return [t for i, t in enumerate(out) if i == 0 or t.score >= min_score]
