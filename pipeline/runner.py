"""Run stages in-process, recording provenance. Used by tasks, tests and benchmarks."""

from __future__ import annotations

import time

from pipeline.errors import StageError
from pipeline.ids import article_id
from pipeline.models import ArticleIn, Document, StageRun
from pipeline.registry import Stage, get_stage, pipeline_through


def run_stage(stage: Stage | str, doc: Document) -> Document:
    """Run one stage on ``doc`` and append its provenance entry.

    Stage bugs surface as their own exception types (the worker retries, then
    dead-letters them); a stage that returns something other than a Document is a
    :class:`StageError`.
    """
    if isinstance(stage, str):
        stage = get_stage(stage)
    started = time.perf_counter()
    out = stage.func(doc.model_copy(deep=True))
    if not isinstance(out, Document):
        raise StageError(
            f"stage {stage.name} returned {type(out).__name__}, not a Document",
            hint="a stage must return the Document it was given",
            code="E202",
        )
    ms = round((time.perf_counter() - started) * 1000, 3)
    status = "ok" if stage.implemented else "not_implemented"
    out.provenance.append(
        StageRun(stage=stage.name, version=stage.version, ms=ms, status=status, note=stage.note)
    )
    return out


def run_pipeline(doc: Document, stages: list[str] | None = None) -> Document:
    """Run the pipeline prefix through the last of ``stages`` (default: all) on ``doc``."""
    for name in pipeline_through(stages):
        doc = run_stage(name, doc)
    return doc


def process_article(article: ArticleIn, stages: list[str] | None = None) -> Document:
    """Turn one validated article into a Document without any broker (no split-off handling)."""
    return run_pipeline(Document.from_article(article, article_id(article)), stages)

