"""MinHash near-duplicate signatures and their LSH band keys."""

import random

import pytest

from pipeline.text import neardup
from pipeline.text.neardup import band_keys, is_near_duplicate, signature, similarity

STORY = (
    "The central bank raised its main interest rate by a quarter of a percentage point on Thursday, "
    "its third increase this year, saying inflation was still well above its target. The governor told "
    "reporters that further rises could follow if prices kept climbing, but that the economy was strong "
    "enough to absorb them. Markets had expected the move, and the currency barely changed after the "
    "announcement. Economists said the decision showed the bank was more worried about inflation than "
    "about slowing growth, and most expect one more rise before the end of the year."
)


def test_signature_is_deterministic_and_fixed_length():
    assert signature(STORY) == signature(STORY)
    assert len(signature(STORY)) == neardup.NUM_HASHES * neardup.VALUE_BITS // 4
    int(signature(STORY), 16)  # hex


def test_republished_copy_with_small_edits_is_a_near_duplicate():
    edited = STORY.replace("Thursday", "Thursday morning").replace("third", "3rd")
    assert similarity(signature(STORY), signature(edited)) >= 0.8
    assert is_near_duplicate(signature(STORY), signature(edited))
    assert set(band_keys(signature(STORY))) & set(band_keys(signature(edited)))


def test_signature_ignores_spelling_variants_folded_by_the_matching_form():
    a = "أعلنت الولایات المتحدة الأمریکیة اليوم عن خطة جديدة لدعم المزارعين في المناطق المتضررة"
    b = "أعلنت الولاياتُ المتحدة الأمريكية اليوم عن خطة جديدة لدعم المزارعين في المناطق المتضررة"
    assert signature(a) == signature(b)


def test_unrelated_stories_are_not_near_duplicates():
    other = (
        "The football club confirmed on Monday that its captain would miss the rest of the season with a "
        "knee injury picked up in training, a blow to their hopes of winning the league title."
    )
    assert similarity(signature(STORY), signature(other)) < 0.2
    assert not set(band_keys(signature(STORY))) & set(band_keys(signature(other)))


def test_band_keys_are_one_per_band_and_namespaced():
    keys = band_keys(signature(STORY))
    assert len(keys) == neardup.BANDS
    assert [k.split(":")[0] for k in keys] == [f"mh{b}" for b in range(neardup.BANDS)]


def test_a_malformed_signature_is_rejected_with_a_clear_message():
    with pytest.raises(ValueError, match="MinHash signature"):
        band_keys("abc")


def test_huge_input_is_hashed_in_chunks():
    rng = random.Random(0)
    words = [f"w{rng.randrange(50_000)}" for _ in range(30_000)]
    assert len(signature(" ".join(words))) == 256


def test_old_module_name_still_exports_the_scheme():
    from pipeline.text import simhash

    assert simhash.band_keys is band_keys and simhash.signature is signature
