"""Salience's title test: a name counts when it stands in the title as whole words."""

from __future__ import annotations

import re

from hypothesis import given, settings, strategies as st

from pipeline.ner.summary import _in


def _reference(name: str, title: str) -> bool:
    return re.search(rf"(?<!\w)(?:[وفبلك]{{0,2}}){re.escape(name)}(?!\w)", title) is not None


def test_whole_words_and_proclitics():
    assert _in("العراق", "قمة في العراق اليوم")
    assert _in("العراق", "زيارة للعراق والعراق")  # وال... clitic pair before the name
    assert _in("العراق", "وبالعراق")  # two proclitics, then the name
    assert not _in("العراق", "العراقي يفوز")  # longer word
    assert not _in("iran", "tiran talks")
    assert _in("iran", "talks with iran.")
    assert not _in("", "anything")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abوفبلكالعراق _.-", max_size=8), st.text(alphabet="abوفبلكالعراق _.-x", max_size=30))
def test_matches_the_regex_definition(name, title):
    if name:
        assert _in(name, title) == _reference(name, title)
