"""The IPTC taxonomy and the dataset label mapping are data, and complete."""

from __future__ import annotations

import pytest

from pipeline.errors import StageError
from pipeline.resources import data_path
from pipeline.topics.datasets import dataset_codes, label_map
from pipeline.topics.taxonomy import load_taxonomy


def test_seventeen_iptc_top_level_topics():
    tax = load_taxonomy(data_path("topics", "taxonomy.tsv"))
    assert len(tax) == 17
    assert tax["medtop:11000000"].label == "politics"
    assert tax["medtop:16000000"].label == "conflict, war and peace"
    assert tax["medtop:17000000"].label == "weather"
    assert all(t.parent == "" for t in tax.values())


def test_every_dataset_label_maps_to_a_taxonomy_code():
    codes = set(load_taxonomy(data_path("topics", "taxonomy.tsv")))
    table = label_map()
    assert set(table.values()) <= codes
    assert len(dataset_codes("sib200")) == 7  # one code per SIB label, so labels map back
    assert table[("saudinewsnet", "aleqtisadiya")] == "medtop:04000000"


def test_second_level_terms_can_be_added_as_data(tmp_path):
    path = tmp_path / "taxonomy.tsv"
    path.write_text("medtop:11000000\tpolitics\t\nmedtop:20000621\telection\tmedtop:11000000\n", encoding="utf-8")
    tax = load_taxonomy(path)
    assert tax["medtop:20000621"].parent == "medtop:11000000"


def test_malformed_taxonomy_line_is_a_coded_error(tmp_path):
    path = tmp_path / "taxonomy.tsv"
    path.write_text("politics\n", encoding="utf-8")
    with pytest.raises(StageError) as err:
        load_taxonomy(path)
    assert err.value.code == "E266"
