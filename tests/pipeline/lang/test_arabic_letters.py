"""Script-specific letters as evidence between Arabic-script languages."""

from __future__ import annotations

import numpy as np

from pipeline.lang.arabic_letters import arabic_letter_evidence, distinctive_letters

LABELS = ("arb_Arab", "arz_Arab", "pes_Arab", "urd_Arab", "eng_Latn")


def points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def test_persian_keyboard_yeh_and_keheh_are_no_evidence_against_arabic():
    evidence = arabic_letter_evidence(points("العراقیة الأمریکیة فی"), LABELS)
    assert evidence[0] == 0 and evidence[1] == 0


def test_urdu_letters_count_against_arabic_and_persian_not_urdu():
    evidence = dict(zip(LABELS, arabic_letter_evidence(points("کے ہے میں ٹیم"), LABELS)))
    assert evidence["urd_Arab"] == 0
    assert evidence["arb_Arab"] < 0 and evidence["pes_Arab"] < 0


def test_taa_marbuta_counts_against_persian():
    evidence = dict(zip(LABELS, arabic_letter_evidence(points("الحكومة"), LABELS)))
    assert evidence["pes_Arab"] < 0 and evidence["arb_Arab"] == 0


def test_evidence_is_capped():
    evidence = arabic_letter_evidence(points("گ" * 50 + "پ" * 50 + "ژ" * 50 + "چ" * 50), LABELS)
    assert evidence.min() >= -9.0


def test_non_arabic_labels_are_left_to_the_script_check():
    assert arabic_letter_evidence(points("پپپ"), LABELS)[-1] == 0


def test_distinctive_letters_lists_what_it_found():
    assert distinctive_letters("پاکستان ے") == {"پ": 1, "ے": 1}
