"""Canonical ids: Arabic and English names of one entity share one id."""

from pipeline.ner.canonical import gazetteer


def _id(text, label):
    hit = gazetteer().lookup(text, label)
    return hit.id if hit else None


def test_washington_shares_one_id_across_languages():
    assert _id("واشنطن", "LOC") == _id("Washington", "LOC") == "geonames:4140963"


def test_pentagon_shares_one_id_across_languages():
    assert _id("البنتاغون", "ORG") == _id("the Pentagon", "ORG") == _id("البنتاجون", "ORG") == "wikidata:Q11208"


def test_countries_get_iso_codes_with_diacritics_and_shadda_stripped():
    assert _id("العراق", "LOC") == _id("Iraq", "LOC") == "iso3166:IQ"
    assert _id("سُورِيَّا", "LOC") == "iso3166:SY"
    assert _id("الولايات المتحدة الأمريكية", "LOC") == "iso3166:US"


def test_cities_get_geonames_ids():
    assert _id("بغداد", "LOC") == _id("Baghdad", "LOC") == "geonames:98182"


def test_people_from_the_curated_table():
    assert _id("بوتين", "PERSON") == _id("Vladimir Putin", "PERSON") == "wikidata:Q7747"


def test_unknown_names_have_no_id():
    assert _id("Zzyzx Qwerty", "PERSON") is None
