"""Topics stage: IPTC Media Topics, multi-label, with calibrated scores (issue #6).

Scores come from multilingual-e5-small: fine-tuned and run as an int8 graph on short
texts (headlines, one-sentence items; :mod:`pipeline.topics.encoder`), distilled into a
static multilingual embedding with a linear head for longer ones (arts, economy,
environment, health, lifestyle, politics, science, sport), fused with weighted Arabic/English/French lexicons that also cover the topics
with no training data (conflict, crime, disaster, education, human interest, labour,
religion, society, weather). See :mod:`pipeline.topics.model`.
"""

from __future__ import annotations

import logging

from pipeline.errors import StageError
from pipeline.models import Document, Topic
from pipeline.registry import register
from pipeline.resources import data_path, resource
from pipeline.topics.embedder import shipped_embedder
from pipeline.topics.encoder import ShortTextEncoder, encoder_enabled
from pipeline.topics.lexicon import extra_lexicon_dirs, load_lexicons
from pipeline.topics.model import TopicModel
from pipeline.topics.taxonomy import load_taxonomy

VERSION = "1.2.0"  # 1.2: titled briefs of 65-96 pieces go to the static model
log = logging.getLogger(__name__)
MODEL_FILES = ("vocab.npz", "table.npz", "head.npz")


@resource("topics.model")
def topic_model() -> TopicModel:
    """Load taxonomy, lexicons (shipped + ``NEWSFLOW_TOPIC_LEXICONS``) and the trained model once."""
    model_dir = data_path("topics")
    missing = [f for f in MODEL_FILES if not (model_dir / f).exists()]
    if missing:
        raise StageError(
            f"topic model files missing from {model_dir}: {', '.join(missing)}",
            hint="reinstall newsflow, or rebuild them with `newsflow train topics --data ../shared/data`",
            code="E260",
        )
    taxonomy = load_taxonomy(model_dir / "taxonomy.tsv")
    lexicons = load_lexicons([model_dir / "lexicons", *extra_lexicon_dirs()], set(taxonomy))
    # The piece table is shared with the NER taggers (one copy per process).
    model = TopicModel.load(model_dir, taxonomy, lexicons, shipped_embedder())
    if encoder_enabled():
        try:
            model.encoder = ShortTextEncoder.load(model_dir, model.embedder.tokenizer)
        except StageError as exc:
            # Full articles never needed the encoder: keep scoring every text with the
            # static model, and say so on each Document and in the worker log.
            model.encoder_error = str(exc)
            log.warning("topics: short-text encoder not loaded, the static model reads every text: %s", exc)
    return model


def _language_of(doc: Document) -> str | None:
    if doc.language is not None and doc.language.code:
        return doc.language.code
    return doc.language_hint


@register("topics", VERSION)
def topics(doc: Document) -> Document:
    """Set ``doc.topics``: every IPTC topic scoring >= 0.1 (at least the best), best first."""
    if not doc.text.strip() and not (doc.title or "").strip():
        doc.topics = []
        doc.warnings.append("topics: no text to classify, 'topics' left empty")
        return doc
    model = topic_model()
    if model.encoder_error:
        doc.warnings.append(f"topics: short-text encoder unavailable, static model used: {model.encoder_error}")
    scored = model.score(doc.text, doc.title, _language_of(doc))
    doc.topics = [Topic(code=t.code, label=t.label, score=round(t.score, 4), evidence=t.evidence) for t in scored]
    return doc
