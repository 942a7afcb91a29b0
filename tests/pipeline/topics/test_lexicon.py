"""Weighted topic lexicons: folding, wildcards, phrases, user extension, coded errors."""

from __future__ import annotations

import pytest

from pipeline.errors import StageError
from pipeline.resources import data_path
from pipeline.topics.lexicon import fold_words, load_lexicons
from pipeline.topics.taxonomy import load_taxonomy

CODES = set(load_taxonomy(data_path("topics", "taxonomy.tsv")))
WAR = "medtop:16000000"
POLITICS = "medtop:11000000"


def test_arabic_folding_strips_diacritics_clitics_and_letter_variants():
    # والحَرْب / بالحرب / الحرب / حرب all fold to one stem; Persian ی and ک fold to Arabic.
    assert fold_words("والحَرْب بالحرب الحرب حرب") == ["حرب"] * 4
    assert fold_words("الخارجیة") == fold_words("الخارجية")
    assert fold_words("أمريكا إيران") == ["امريكا", "ايران"]


def test_latin_folding_drops_case_and_accents():
    assert fold_words("Élection GUERRE d'Iran") == ["election", "guerre", "d", "iran"]


def _lex(tmp_path, lines: str, name: str = "xx"):
    (tmp_path / f"{name}.tsv").write_text(lines, encoding="utf-8")
    return load_lexicons([tmp_path], CODES)[name]


def test_wildcard_phrase_and_count(tmp_path):
    lex = _lex(tmp_path, f"{WAR}\t2\tairstrike*\n{POLITICS}\t2\tprime minister\n# comment\n")
    hits = lex.match(fold_words("Airstrikes hit. The Prime Minister condemned the airstrike."))
    assert hits[WAR]["airstrike*"] == 2
    assert hits[POLITICS]["prime minister"] == 1


def test_a_word_that_is_a_term_and_starts_a_phrase_counts_for_both_every_time(tmp_path):
    # The second sentence repeats the words: a remembered word must still count its phrase.
    lex = _lex(tmp_path, f"{POLITICS}\t1\tminister\n{POLITICS}\t2\tminister of defence\n{WAR}\t1\tdefen*\n")
    hits = lex.match(fold_words("The minister of defence spoke. The minister of defence left; the minister stayed."))
    assert hits[POLITICS] == {"minister": 3, "minister of defence": 2}
    assert hits[WAR] == {"defen*": 2}


def test_a_term_added_after_matching_is_found(tmp_path):
    from pipeline.topics.lexicon import Term

    lex = _lex(tmp_path, f"{WAR}\t2\tairstrike*\n")
    assert POLITICS not in lex.match(fold_words("The senate voted"))
    lex.add(Term(POLITICS, 2.0, ("senate",), False, "senate"))
    assert lex.match(fold_words("The senate voted"))[POLITICS] == {"senate": 1}


def test_terms_that_fold_alike_are_counted_once(tmp_path):
    lex = _lex(tmp_path, f"{POLITICS}\t2\tمحادثات\n{POLITICS}\t3\tالمحادثات\n")
    hits = lex.match(fold_words("بدأت المحادثات"))
    assert sum(hits[POLITICS].values()) == 1
    assert lex.weights[(POLITICS, "محادثات")] == 3


def test_unknown_code_names_file_and_line(tmp_path):
    with pytest.raises(StageError) as err:
        _lex(tmp_path, "medtop:99999999\t1\tfoo\n")
    assert err.value.code == "E265" and "xx.tsv:1" in err.value.message


def test_malformed_line_is_a_coded_error(tmp_path):
    with pytest.raises(StageError) as err:
        _lex(tmp_path, f"{WAR} 2 war\n")
    assert err.value.code == "E264"


def test_shipped_lexicons_cover_every_topic_in_ar_en_fr():
    lexicons = load_lexicons([data_path("topics", "lexicons")], CODES)
    for lang in ("ar", "en", "fr"):
        covered = {code for code, _ in lexicons[lang].weights}
        assert covered == CODES, (lang, CODES - covered)
