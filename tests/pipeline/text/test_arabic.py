"""Arabic folding used by the matching form (keys, gazetteers, hashing)."""

from pipeline.text.arabic import digits_to_ascii, fold_arabic
from pipeline.text.normalize import matching_form


def test_persian_yeh_and_keheh_fold_to_arabic_letters():
    # The seed's tag line writes العراقیة / الأمریکیة with Persian ی (U+06CC) and ک (U+06A9).
    assert fold_arabic("العراقیة") == "العراقية"
    assert fold_arabic("الأمریکیة") == "الامريكية"
    # ی must become Arabic yeh (U+064A), not alef maqsura (U+0649) as camel-tools does.
    assert "\u0649" not in fold_arabic("فی")
    assert fold_arabic("فی") == "في"


def test_alef_forms_and_alef_maqsura_unify():
    assert fold_arabic("أحمد إبراهيم آمال ٱلله") == "احمد ابراهيم امال الله"
    assert fold_arabic("مصطفى على") == "مصطفي علي"


def test_tatweel_and_diacritics_are_removed():
    assert fold_arabic("العـــراق") == "العراق"
    assert fold_arabic("مُحَمَّدٌ") == "محمد"
    assert fold_arabic("أيضاً") == "ايضا"
    assert fold_arabic("الرَّحْمٰن") == "الرحمن"  # dagger alef


def test_arabic_indic_and_persian_digits_become_ascii():
    assert fold_arabic("٢٠٢٤") == "2024"
    assert fold_arabic("۱۴۰۳") == "1403"
    assert digits_to_ascii("عام ١٩٨٧") == "عام 1987"


def test_latin_text_passes_through():
    assert fold_arabic("Reuters, 2024: café") == "Reuters, 2024: café"


def test_spelling_variants_share_one_matching_form():
    variants = ["الولایات المتحدة الأمریکیة", "الولايات المتحدة الامريكية", "الولاياتُ المتّحدةُ الأمريكيّة", "الولايات  المتحـدة الأمريكية"]
    assert len({matching_form(v) for v in variants}) == 1


def test_matching_form_does_not_change_the_display_text():
    text = "كلمات دلالية: العراقیة"
    matching_form(text)
    assert "ی" in text  # str is immutable, but make the contract explicit: display keeps ی
