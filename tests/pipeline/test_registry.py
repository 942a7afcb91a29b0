"""The stage registry: order, lookup and stage lists."""

import pytest

from pipeline.errors import UnknownStage
from pipeline.registry import STAGE_ORDER, all_stages, get_stage, parse_stage_list, pipeline_through


def test_stages_run_in_the_documented_order():
    assert STAGE_ORDER == ("clean", "language", "entities", "topics")
    assert [s.name for s in all_stages()] == list(STAGE_ORDER)
    assert all(s.version for s in all_stages())


def test_unknown_stage_names_the_choices():
    with pytest.raises(UnknownStage) as err:
        get_stage("sentiment")
    assert "clean, language, entities, topics" in str(err.value)


def test_stage_lists_are_validated_and_ordered():
    assert parse_stage_list("topics,clean") == ["clean", "topics"]
    assert parse_stage_list(None) == list(STAGE_ORDER)
    with pytest.raises(UnknownStage):
        parse_stage_list(",")


def test_a_later_stage_brings_its_predecessors():
    assert pipeline_through("language") == ["clean", "language"]
    assert pipeline_through("clean") == ["clean"]
    assert pipeline_through(None) == list(STAGE_ORDER)
