"""Tokens keep exact offsets and follow the training corpora's conventions."""

from pipeline.ner.clitics import proclitic_splits
from pipeline.ner.tokenize import sentences, tokenize


def test_tokens_carry_offsets_into_the_text():
    text = 'قال "بوتين"، في U.S. Britain\'s'
    for tok in tokenize(text):
        assert text[tok.start : tok.end] == tok.text
    assert [t.text for t in tokenize(text)] == ["قال", '"', "بوتين", '"', "،", "في", "U.S.", "Britain", "'s"]


def test_sentences_split_at_full_stops_and_lines():
    text = "One two. Three\nFour"
    assert [[t.text for t in s] for s in sentences(tokenize(text), text)] == [["One", "two", "."], ["Three"], ["Four"]]


def test_lam_lam_split_restores_the_article():
    assert (1, "العراق") in proclitic_splits("للعراق")
    assert (2, "العراق") in proclitic_splits("وللعراق")
