"""Contracts: what producers may send, and what a Document carries."""

import json

import pytest
from pydantic import ValidationError

from pipeline.models import SCHEMA_VERSION, ArticleIn, Document, RemovedBlock


def test_article_needs_only_a_body():
    article = ArticleIn(body="Text")
    assert article.content_type == "text/plain"
    assert article.metadata == {}


@pytest.mark.parametrize("good", ["a", "reuters:2024/01/abc-1", "X" * 128, "a.b_c-d:e/f"])
def test_producer_ids_follow_the_rule(good):
    assert ArticleIn(body="x", id=good).id == good


@pytest.mark.parametrize("bad", ["", "X" * 129, "has space", "semi;colon", "عربي", "a\nb"])
def test_bad_ids_are_rejected_with_the_rule(bad):
    with pytest.raises(ValidationError) as err:
        ArticleIn(body="x", id=bad)
    assert "letters, digits and . _ - : /" in str(err.value)


def test_missing_body_names_the_field():
    with pytest.raises(ValidationError) as err:
        ArticleIn.model_validate({"title": "t"})
    assert err.value.errors()[0]["loc"] == ("body",)


@pytest.mark.parametrize("body, problem", [("   \n\t", "empty"), ("abc\x00def", "NUL")])
def test_unusable_bodies_are_rejected(body, problem):
    with pytest.raises(ValidationError) as err:
        ArticleIn(body=body)
    assert problem in str(err.value)


def test_unknown_fields_are_rejected_not_dropped():
    with pytest.raises(ValidationError) as err:
        ArticleIn.model_validate({"body": "x", "titel": "typo"})
    assert err.value.errors()[0]["type"] == "extra_forbidden"


def test_content_type_is_text_or_html_only():
    assert ArticleIn(body="<p>x</p>", content_type="text/html").content_type == "text/html"
    with pytest.raises(ValidationError):
        ArticleIn(body="x", content_type="application/pdf")


def test_metadata_values_must_be_strings():
    with pytest.raises(ValidationError):
        ArticleIn(body="x", metadata={"n": {"nested": 1}})


def test_document_from_article_keeps_producer_fields_and_round_trips():
    article = ArticleIn(body="b", title="T", url="https://x.test/a", source="wire",
                        published_at="2024-01-02T03:04:05Z", metadata={"desk": "world"})
    doc = Document.from_article(article, "id-1")
    doc.removed.append(RemovedBlock(text="Tags: x", reason="tag line", rule="en.tags"))
    again = Document.model_validate_json(doc.model_dump_json())
    assert again == doc
    assert again.schema_version == SCHEMA_VERSION
    assert again.metadata == {"desk": "world"} and again.title == "T" and again.body == "b"
    assert json.loads(doc.model_dump_json())["derived_from"] is None
