"""The tagger's batching: bounded padded tokens, every sentence once, tags independent of batching."""

from __future__ import annotations

from pipeline.ner.model import BATCH, BATCH_TOKENS, length_batches
from pipeline.ner.tagger import tagger_for


def test_batches_cover_every_sentence_once_within_both_limits():
    lengths = [3] * 200 + [40] * 50 + [500, 900]
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches = length_batches(order, lengths)
    assert [i for b in batches for i in b] == order
    for b in batches:
        assert len(b) <= BATCH
        # A lone sentence longer than the budget still gets its own batch.
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= BATCH_TOKENS


def test_tags_do_not_depend_on_how_sentences_are_batched():
    long = ("قال وزير الخارجية العراقي فؤاد حسين في بغداد إن الحكومة " * 12).split()
    short = "زار الرئيس الفرنسي إيمانويل ماكرون القاهرة".split()
    tagger = tagger_for("ar")
    together = tagger.tag([short] * 70 + [long] * 3)
    assert together[0] == tagger.tag([short])[0]
    assert together[-1] == tagger.tag([long])[0]
