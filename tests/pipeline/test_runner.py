"""Running stages in-process: provenance and honest placeholders."""

import pytest

from pipeline.errors import PermanentError, StageError
from pipeline.models import ArticleIn, Document
from pipeline.registry import get_stage
from pipeline.runner import process_article, run_stage


def test_every_stage_leaves_provenance():
    doc = process_article(ArticleIn(body="Some   text.\n\n\n\nMore.", id="a"))
    assert [p.stage for p in doc.provenance] == ["clean", "language", "entities", "topics"]
    for run in doc.provenance:
        assert run.ms >= 0
        assert run.version == get_stage(run.stage).version
        # A stage without a model must say so and compute nothing.
        if run.status == "not_implemented":
            assert run.note


def test_stages_not_implemented_invent_nothing():
    doc = process_article(ArticleIn(body="Washington and Baghdad held talks.", id="a"))
    runs = {p.stage: p for p in doc.provenance}
    if runs["entities"].status == "not_implemented":
        assert doc.entities == []
    if runs["topics"].status == "not_implemented":
        assert doc.topics == []
    if runs["language"].status == "not_implemented":
        assert doc.language is None


def test_prefix_runs_only_the_named_stages():
    doc = process_article(ArticleIn(body="Text.", id="a"), ["clean"])
    assert doc.stages_done() == ["clean"]
    assert doc.text == "Text." and doc.body is None


def test_empty_after_cleaning_is_a_permanent_stage_error():
    doc = Document(id="a", body="<script>only()</script>", content_type="text/html")
    with pytest.raises(StageError) as err:
        run_stage("clean", doc)
    assert isinstance(err.value, PermanentError)
    assert "no article text after cleaning" in str(err.value)


def test_run_stage_does_not_mutate_its_input():
    doc = Document(id="a", body="x  y")
    run_stage("clean", doc)
    assert doc.body == "x  y" and doc.provenance == []
