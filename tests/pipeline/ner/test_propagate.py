"""A name tagged once in a document is tagged at its other mentions."""

from pipeline.ner.propagate import propagate


def test_untagged_repeats_get_the_label_including_behind_proclitics():
    sents = [["قال", "طالباني", "إن"], ["وأكد", "طالباني", "أن"], ["التقى", "وطالباني", "أمس"]]
    tags = [["O", "B-PERSON", "O"], ["O", "O", "O"], ["O", "O", "O"]]
    stem = {"وطالباني": "طالباني"}.get
    out = propagate(sents, tags, lambda k: stem(k, k))
    assert out == [["O", "B-PERSON", "O"], ["O", "B-PERSON", "O"], ["O", "B-PERSON", "O"]]


def test_multi_word_names_and_existing_tags_are_respected():
    sents = [["Joe", "Biden", "said"], ["Biden", "and", "Joe", "Biden"], ["the", "who", "said"]]
    tags = [["B-PERSON", "I-PERSON", "O"], ["B-ORG", "O", "O", "O"], ["O", "O", "O"]]
    out = propagate(sents, tags)
    assert out[1] == ["B-ORG", "O", "B-PERSON", "I-PERSON"]
    assert out[2] == ["O", "O", "O"]
