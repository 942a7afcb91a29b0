"""Marker table and structural boilerplate rules."""

import pytest

from pipeline.errors import StageError
from pipeline.text import boilerplate
from pipeline.text.boilerplate import load_rules, parse_rules, strip_boilerplate
from pipeline.text.normalize import hygiene

STORY = (
    "The regional parliament passed the water bill on Monday after a debate that lasted most of the night, "
    "and the minister said the first projects would start within weeks."
)


def rules_of(result):
    return [r.rule for r in result.removed]


def test_plain_story_is_kept_whole():
    text = hygiene(f"{STORY}\n\nShares in the water company fell 3% after the vote.\n\nSource of the dispute was the price.")
    result = strip_boilerplate(text)
    assert result.text == text and result.removed == []


def test_every_line_is_kept_or_removed_never_lost():
    text = hygiene(
        f"Wire:\n\n{STORY}\n\nSource: Wire\n\nTags: water, parliament\n\nRead also:\n\nHeadline of another story\n\n"
        + " ".join(["Another story sentence that is long enough to be real prose."] * 6)
        + "\n\nRelated\n\n- One\n- Two items here\n- Three items here"
    )
    result = strip_boilerplate(text)
    lines = [line for line in text.split("\n") if line]
    out = [line for line in result.text.split("\n") if line]
    for block in result.removed:
        out += [line for line in block.text.split("\n") if line]
    assert sorted(out) == sorted(lines)


def test_english_and_french_and_arabic_markers_fire():
    text = hygiene(
        f"{STORY}\n\nAdvertisement\n\n{STORY}\n\nPartager cet article\n\nمشاركة\n\nAll rights reserved 2024\n\nTous droits réservés"
    )
    result = strip_boilerplate(text)
    # consecutive lines removed by one rule form one block
    assert rules_of(result) == ["advertisement", "share", "copyright"]
    assert result.removed[1].text == "Partager cet article\nمشاركة"
    assert result.text == f"{STORY}\n\n{STORY}"


def test_marker_words_inside_sentences_do_not_fire():
    text = hygiene(
        "Share prices rose on Monday as investors welcomed the results.\n\n"
        "Related companies also gained, traders said, after a quiet week.\n\n"
        "شاركت الوزارة في المؤتمر الذي عقد في العاصمة أمس."
    )
    assert strip_boilerplate(text).removed == []


def test_read_also_mid_story_removes_only_the_link():
    text = hygiene(f"{STORY}\n\nRead also:\n\nA headline of another story\n\n{STORY} It continues here.")
    result = strip_boilerplate(text)
    assert rules_of(result) == ["read_also.en"]
    assert not any(b.split_off for b in result.removed)
    assert result.text.endswith("It continues here.")


def test_inline_read_also_link_is_one_removed_line():
    result = strip_boilerplate(hygiene(f"{STORY}\n\nLire aussi : Les récoltes menacées\n\n{STORY}"))
    assert rules_of(result) == ["read_also_inline"]
    assert result.removed[0].text == "Lire aussi : Les récoltes menacées"


def test_trailing_bulleted_headlines_after_the_story_end_are_removed_without_a_header():
    bullets = "• First other headline here\n• Second other headline here\n• Third other headline here"
    result = strip_boilerplate(hygiene(f"{STORY}\n\nSource: Wire\n\n{bullets}"))
    assert rules_of(result) == ["attribution", "structure.trailing_headlines"]
    assert result.text == STORY


def test_trailing_bullets_that_may_be_story_content_are_kept():
    # e.g. a list of award winners closing a BBC story: no end-of-story marker before it
    bullets = "- Best new dance production - Company A at Hall B\n- Best actor - C D\n- Best actress - E F"
    assert strip_boilerplate(hygiene(f"{STORY}\n\n{bullets}")).removed == []


def test_story_ending_in_a_bulleted_list_of_sentences_is_kept():
    text = hygiene(f"{STORY}\n\n• The tax rises by 2%.\n• The plan starts in May.\n• Farmers are exempt.")
    assert strip_boilerplate(text).removed == []


def test_credit_line_needs_a_story_after_it():
    assert rules_of(strip_boilerplate(hygiene(f"الجديد برس:\n\n{STORY}"))) == ["structure.credit_line"]
    assert strip_boilerplate("Note:").removed == []


def test_the_table_is_extendable_with_a_user_file(tmp_path, monkeypatch):
    extra = tmp_path / "de.toml"
    extra.write_text(
        '[[rule]]\nid = "read_also.de"\nlang = "de"\naction = "split"\nmatch = "line"\n'
        'max_words = 3\nreason = "read-also header"\npatterns = ["Lesen Sie auch"]\n'
        '[[rule]]\nid = "quelle"\naction = "drop_line"\nmatch = "label"\nends_story = true\n'
        'reason = "Quellenangabe"\npatterns = ["Quelle"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv(boilerplate.MARKERS_ENV, str(extra))
    rules = load_rules(boilerplate.marker_paths())
    article = " ".join(["Ein weiterer Artikel mit genug Worten, um echter Text zu sein."] * 6)
    text = hygiene(f"{STORY}\n\nQuelle: dpa\n\nLESEN SIE AUCH:\n\nEine andere Schlagzeile\n\n{article}")
    result = strip_boilerplate(text, rules=rules)
    assert rules_of(result) == ["quelle", "read_also.de", "read_also.de"]
    assert result.removed[-1].split_off and result.text == STORY


def test_site_rules_only_run_for_their_site():
    rules = parse_rules(
        {"rule": [{"id": "site.promo", "action": "drop_line", "match": "line", "patterns": ["Download our app"], "sites": ["example.com"]}]},
        "inline",
    )
    text = hygiene(f"{STORY}\n\nDownload our app")
    assert rules_of(strip_boilerplate(text, rules=rules, host="news.example.com")) == ["site.promo"]
    assert strip_boilerplate(text, rules=rules, host="other.org").removed == []
    assert strip_boilerplate(text, rules=rules, host=None).removed == []


def test_host_of_urls_and_sources():
    assert boilerplate.host_of("https://www.Example.com/a/b") == "example.com"
    assert boilerplate.host_of(None, "aawsat.com") == "aawsat.com"
    assert boilerplate.host_of(None, "Reuters") is None


@pytest.mark.parametrize(
    "row, message",
    [
        ({"id": "x", "action": "explode", "patterns": ["a"]}, "action must be"),
        ({"id": "x", "action": "drop_line"}, "missing or invalid"),
        ({"id": "x", "action": "drop_line", "patterns": [""]}, "empty pattern"),
    ],
)
def test_bad_rules_fail_with_a_coded_error_naming_the_rule(row, message):
    with pytest.raises(StageError, match=message) as err:
        parse_rules({"rule": [row]}, "my.toml")
    assert err.value.code == "E212" and "my.toml" in str(err.value)


def test_invalid_toml_names_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[rule]\n", encoding="utf-8")
    with pytest.raises(StageError, match="bad.toml"):
        load_rules([bad])


def test_shipped_table_loads_and_covers_three_languages():
    rules = load_rules(boilerplate.marker_paths()[:1])
    ids = {r.id for r in rules}
    assert {"read_also.ar", "read_also.en", "read_also.fr", "related.ar", "related.en", "related.fr"} <= ids


def test_short_appended_wire_item_is_still_split_off():
    text = hygiene(f"{STORY}\n\nSource: Wire\n\nRead also:\n\nOil prices close lower\n\nOil prices closed lower on Friday as traders weighed rising stocks in the United States.")
    result = strip_boilerplate(text)
    assert [r.split_off for r in result.removed] == [False, False, True]
    assert result.removed[-1].text.startswith("Oil prices close lower")


def test_read_also_followed_only_by_headline_links_is_not_an_article():
    links = "\n".join(f"Another fairly long headline about the regional economy number {i}" for i in range(6))
    result = strip_boilerplate(hygiene(f"{STORY}\n\nTags: economy\n\nRead also:\n\n{links}"))
    assert not any(r.split_off for r in result.removed)
    assert result.text == STORY


def test_copyright_lines_go_but_sentences_about_copyright_stay():
    text = hygiene(
        f"{STORY}\n\nLessons on music piracy and copyright issues are to be taught to pupils.\n\n"
        "Copyright 2024 Example Media\n\n© Example Media"
    )
    result = strip_boilerplate(text)
    assert [b.text for b in result.removed] == ["Copyright 2024 Example Media\n© Example Media"]
