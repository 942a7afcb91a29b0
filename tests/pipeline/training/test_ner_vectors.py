"""Building the NER vectors file: which spelling of a word the transformer is shown."""

from collections import Counter

from pipeline.training.ner_vectors import corpus, spelling_of


def test_each_key_is_embedded_in_its_most_frequent_spelling(tmp_path):
    text = tmp_path / "news.tsv"
    text.write_text("Paris said paris .\nParis and PARIS met Paris .\nغدا في والعراق\n", encoding="utf-8")
    spellings: Counter = Counter()
    sents = corpus("en", [text], spellings)
    assert any("paris" in s for s in sents)
    # Keys are case-folded, the transformer is not: "Paris" (3 of 5) is what it should see.
    assert spelling_of(spellings, ["paris", "والعراق", "unseen"]) == ["Paris", "والعراق", "unseen"]


def test_a_tie_keeps_the_first_spelling_seen():
    spellings = Counter({("us", "US"): 2, ("us", "us"): 2})
    assert spelling_of(spellings, ["us"]) == ["US"]
