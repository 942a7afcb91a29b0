"""Display-text hygiene and the matching form."""

from pipeline.text.normalize import (
    decode_entities,
    hygiene,
    matching_form,
    nfc,
    normalize_whitespace,
    strip_invisible,
)


def test_zero_width_bidi_controls_and_soft_hyphens_are_removed():
    dirty = "\u200bAl\u00adpha \u200eبيان\u200f \u202bnested\u202c \u2066iso\u2069 \ufeffend"
    assert strip_invisible(dirty) == "Alpha بيان nested iso end"


def test_zwnj_survives_inside_a_persian_word_but_not_at_its_edges():
    word = "می\u200cخواهم"
    assert strip_invisible(word) == word
    assert strip_invisible("\u200cسلام \u200c") == "سلام "


def test_html_entities_are_decoded_in_plain_text():
    assert decode_entities("AT&amp;T said &quot;yes&quot; &#1575;") == 'AT&T said "yes" ا'
    assert decode_entities("no entities here") == "no entities here"


def test_whitespace_is_normalised_and_paragraphs_kept():
    raw = "  First   line\r\nsecond\tline  \n\n\n \u00a0 \n\nNext   paragraph  \n"
    assert normalize_whitespace(raw) == "First line\nsecond line\n\nNext paragraph"


def test_nfc_composes():
    assert nfc("e\u0301") == "é"


def test_hygiene_combines_every_step():
    assert hygiene("\ufeffCaf\u0065\u0301 &amp; \u200bbar\n\n\n\nbaz ") == "Café & bar\n\nbaz"


def test_matching_form_folds_case_arabic_and_invisible_marks():
    assert matching_form("  Breaking\u200b NEWS ") == "breaking news"
    assert matching_form("إقرأ أيضاً:") == "اقرا ايضا:"
    assert matching_form("كلمات دلالیة") == matching_form("كلمات دلالية")
