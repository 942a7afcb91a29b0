"""Property tests: random Unicode, HTML and bytes never crash intake or a stage.

The only allowed failures are the typed ones: InvalidArticle at the edge, a permanent
StageError inside a stage.
"""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import InvalidArticle, PermanentError
from pipeline.intake import parse_article
from pipeline.models import Document
from pipeline.registry import STAGE_ORDER
from pipeline.runner import run_stage

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

tags = st.sampled_from(["p", "div", "script", "style", "a", "b", "span", "article", "h1", "li"])
html = st.recursive(
    st.text(max_size=40),
    lambda inner: st.builds(lambda t, body: f"<{t}>{body}</{t}>", tags, inner)
    | st.builds(lambda a, b: a + b, inner, inner),
    max_leaves=20,
)
text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from(list("ابتثجحخ یک \u200f\u200b\u0640")),
    max_size=300,
)


@SETTINGS
@given(st.one_of(st.binary(max_size=300), text, st.dictionaries(st.sampled_from(["body", "id", "title", "x"]),
                                                                 st.one_of(text, st.integers(), st.none()))))
def test_intake_accepts_or_names_the_problem(raw):
    try:
        parse_article(raw, max_bytes=10_000)
    except InvalidArticle as exc:
        assert str(exc).startswith("[E1")


@SETTINGS
@given(body=st.one_of(text, html), html_input=st.booleans())
def test_every_stage_returns_a_document_or_a_stage_error(body, html_input):
    doc = Document(id="prop-1", body=body or " ", content_type="text/html" if html_input else "text/plain")
    for name in STAGE_ORDER:
        try:
            doc = run_stage(name, doc)
        except PermanentError:
            return
        assert isinstance(doc, Document)
        for entity in doc.entities:
            assert doc.text[entity.start:entity.end] == entity.text
        for topic in doc.topics:
            assert 0.0 <= topic.score <= 1.0


@SETTINGS
@given(st.text(alphabet=string.printable, min_size=1, max_size=200))
def test_ascii_documents_flow_through(body):
    doc = Document(id="prop-2", body=body)
    try:
        doc = run_stage("clean", doc)
    except PermanentError as exc:
        assert exc.code.startswith("E2")  # e.g. E211: nothing left after cleaning
        return
    assert doc.text and doc.text == doc.text.strip()
