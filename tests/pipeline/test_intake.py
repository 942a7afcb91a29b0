"""Validation at the edge: one clear line per problem."""

import pytest

from pipeline.errors import ArticleTooLarge, InvalidArticle
from pipeline.intake import parse_article


def test_valid_json_bytes_become_an_article():
    article = parse_article(b'{"body": "x", "id": "a-1"}', max_bytes=100)
    assert article.id == "a-1"


@pytest.mark.parametrize(
    "raw, words",
    [
        ('{"body": "x",', "malformed JSON at line 1"),
        ("[1, 2]", "must be a JSON object, got list"),
        ('{"title": "no body"}', "body: Field required"),
        ('{"body": 42}', "body: Input should be a valid string"),
        ('{"body": "x", "extra": 1}', "extra: unknown field"),
        (b'{"body": "\xff\xfe"}', "not valid UTF-8"),
    ],
)
def test_bad_input_names_the_problem(raw, words):
    with pytest.raises(InvalidArticle) as err:
        parse_article(raw, max_bytes=1000)
    assert words in str(err.value)
    assert "\n" not in str(err.value)


def test_size_cap_counts_utf8_bytes():
    arabic = "ع" * 60  # 120 bytes in UTF-8
    parse_article({"body": arabic}, max_bytes=120)
    with pytest.raises(ArticleTooLarge) as err:
        parse_article({"body": arabic}, max_bytes=119)
    assert "120 bytes, over the 119-byte limit" in str(err.value)
    assert "NEWSFLOW_MAX_ARTICLE_BYTES" in str(err.value)
