"""Identify the language of one piece of text: model scores -> codes, plus script evidence.

The model scores 205 ``lang_Script`` labels. Here they are checked against the
text's actual script, adjusted for Arabic-script text by the letters only some
languages use (:mod:`pipeline.lang.arabic_letters`), and folded into reported codes
(every Arabic dialect -> ``ar``). Long text is classified on a bounded sample.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from pipeline.lang.arabic_letters import arabic_letter_evidence
from pipeline.lang.codes import is_standard_variety, label_info, variety
from pipeline.lang.features import code_points
from pipeline.lang.model import LangModel, shipped_model, softmax
from pipeline.text.script import dominant_script_of_points

# Enough text to be sure of the language; more only costs time. On 820 dev documents of
# 20 sentences (~2,500 chars) the sample scores 1.000, the whole text 0.999.
SAMPLE_CHARS = 1800
# A variety (Arabic dialect, Dari) is named only when the model is this sure of it
# among the varieties of the detected language (dev: 99% precise, names 18% of them).
VARIANT_CONFIDENCE = 0.95
# Labels written in another script than the text lose this much (log scale): the
# model is never that sure, so in effect the text's script decides.
WRONG_SCRIPT_PENALTY = 12.0
# Prior log-odds per label: newsflow's traffic is mostly English and Arabic (both
# first-class), far more than 400:1 against any one of the other 200 varieties, so
# when a short text is ambiguous those are the better bets. A sentence's evidence is
# far larger, so this moves titles and snippets only. Measured on SIB-200 dev: English
# 20-char prefixes 0.85 -> 0.98; other Latin-script prefixes lose about 0.3 points; full
# sentences lose 0.001 macro. Romanised Arabic (arb_Latn) gets no boost: it would
# steal English snippets.
PRIOR = {"eng_Latn": 6.0, "Arabic:Arab": 6.0}
# The model is over-confident on snippets (on 10-char dev prefixes it says >= 0.99
# for 71% of them but is right on 86% of those). Confidences of texts shorter than
# CALIBRATE_BELOW characters come from logits divided by a temperature that grows
# from 1 (at CALIBRATE_BELOW) to 2.5 (at 10 chars), as fitted on dev prefixes.
# Only the reported numbers change, never the decision.
CALIBRATE_BELOW = 40
# Which label scripts a text script can be.
_COMPATIBLE = {"Hani": {"Hans", "Hant", "Jpan"}, "Jpan": {"Jpan"}, "Kore": {"Hang"}, "Hang": {"Hang"}}


@dataclass
class Guess:
    """One text's language: best code and the runners-up, with probabilities over codes."""

    code: str
    name: str
    script: str
    confidence: float
    label: str | None
    variant: str | None = None
    alternatives: list[tuple[str, str, float]] = field(default_factory=list)
    decided_by: str = "model"
    scores: dict[str, float] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class _Folding:
    """How a model's labels map onto reported codes and scripts (computed once per model)."""

    codes: tuple[str, ...]
    names: tuple[str, ...]
    infos: tuple
    code_of_label: np.ndarray
    label_scripts: tuple[str, ...]
    script_mask: dict[str, np.ndarray]
    prior: np.ndarray


@functools.lru_cache(maxsize=4)
def _folding(labels: tuple[str, ...]) -> _Folding:
    infos = [label_info(lb) for lb in labels]
    codes = tuple(dict.fromkeys(i.code for i in infos))
    index = {c: k for k, c in enumerate(codes)}
    scripts = tuple(i.script for i in infos)
    masks = {}
    for script in set(scripts) | set(_COMPATIBLE):
        allowed = _COMPATIBLE.get(script, {script})
        masks[script] = np.array([s not in allowed for s in scripts])
    names = tuple(next(i.name for i in infos if i.code == c) for c in codes)
    code_of_label = np.array([index[i.code] for i in infos])
    prior = np.array(
        [PRIOR.get(lb, PRIOR.get("Arabic:Arab", 0.0) if (variety(lb) and lb.endswith("_Arab") and i.code == "ar") else 0.0)
         for lb, i in zip(labels, infos)],
        dtype=np.float32,
    )
    return _Folding(codes, names, tuple(infos), code_of_label, scripts, masks, prior)


def writes_in(code: str, script: str, model: LangModel | None = None) -> bool:
    """Whether the model knows language ``code`` written in ``script`` (is a hint plausible?)."""
    model = model or shipped_model()
    fold = _folding(model.labels)
    allowed = ~fold.script_mask.get(script, np.ones(len(model.labels), dtype=bool))
    return any(fold.infos[i].code == code for i in np.flatnonzero(allowed))


def sample(text: str, limit: int | None = None) -> str:
    """A bounded sample of ``text``: start, middle and end slices, about ``limit`` chars in all."""
    limit = limit or SAMPLE_CHARS
    if len(text) <= limit:
        return text
    # Three spread pieces, so neither a foreign preamble nor a foreign tail decides alone.
    piece = limit // 3
    mid = len(text) // 2
    return " ".join((text[:piece], text[mid - piece // 2 : mid + piece // 2], text[-piece:]))


def identify(text: str, model: LangModel | None = None) -> Guess | None:
    """The language of ``text``, or None when it has no letters at all."""
    model = model or shipped_model()
    fold = _folding(model.labels)
    points = code_points(sample(text))
    script = dominant_script_of_points(points)
    if script is None:
        return None
    if script not in fold.script_mask or fold.script_mask[script].all():
        # A script no label is written in (Syriac, Thaana, ...): say so rather than guess.
        return Guess("und", "Undetermined", script, 0.0, None, decided_by="script")
    raw = model.logits_of_points(points)
    evidence = fold.prior - WRONG_SCRIPT_PENALTY * fold.script_mask[script]
    if script == "Arab":
        evidence = evidence + arabic_letter_evidence(points, model.labels)
    probs = softmax(raw + evidence)
    by_code = np.bincount(fold.code_of_label, weights=probs, minlength=len(fold.codes))
    ranked = np.argsort(-by_code)[:8].tolist()
    if len(points) < CALIBRATE_BELOW:
        temperature = 1.0 + 1.5 * (CALIBRATE_BELOW - len(points)) / (CALIBRATE_BELOW - 10)
        calibrated = softmax(raw / min(temperature, 2.5) + evidence)
        by_code = np.bincount(fold.code_of_label, weights=calibrated, minlength=len(fold.codes))
    best_label = int(np.argmax(probs))
    if fold.code_of_label[best_label] != ranked[0]:
        # Several labels of one code (Arabic dialects) can outweigh a single top label.
        best_label = int(np.argmax(np.where(fold.code_of_label == ranked[0], probs, -1.0)))
    info = fold.infos[best_label]
    label = model.labels[best_label]
    variant = _variant(probs, fold.code_of_label == ranked[0], best_label, label)
    scores = {fold.codes[k]: float(by_code[k]) for k in ranked}
    return Guess(
        code=info.code,
        name=info.name,
        script=_report_script(info.script, script),
        confidence=min(1.0, scores[info.code]),
        label=label,
        variant=variant,
        alternatives=[(fold.codes[k], fold.names[k], scores[fold.codes[k]]) for k in ranked[:3]],
        scores=scores,
    )


def _variant(probs: np.ndarray, same_code: np.ndarray, index: int, label: str) -> str | None:
    found = variety(label)
    # The standard form (MSA, Iranian Persian) is the unmarked case: only a
    # confident non-standard variety is worth reporting.
    if found is None or is_standard_variety(found):
        return None
    total = float(probs[same_code].sum())
    return found if total > 0 and float(probs[index]) / total >= VARIANT_CONFIDENCE else None


def _report_script(label_script: str, text_script: str) -> str:
    # The label knows Simplified vs Traditional Han and Japanese/Korean mixes; the
    # text knows everything else (e.g. Arabic written in Latin letters stays Latn).
    if label_script in {"Hans", "Hant", "Jpan"}:
        return label_script
    if label_script == "Hang":
        return "Kore"
    return text_script
