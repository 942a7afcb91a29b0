"""ISO 15924 script of text."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.text.script import char_script, dominant_script, dominant_script_of_points


@pytest.mark.parametrize(
    "text, script",
    [
        ("Hello world", "Latn"), ("مرحبا بالعالم", "Arab"), ("Привет мир", "Cyrl"),
        ("नमस्ते दुनिया", "Deva"), ("你好世界", "Hani"), ("こんにちは世界", "Jpan"),
        ("안녕하세요 세계", "Kore"), ("שלום עולם", "Hebr"), ("Γειά σου κόσμε", "Grek"),
        ("ሰላም ለዓለም", "Ethi"), ("ⵜⴰⵎⴰⵣⵉⵖⵜ", "Tfng"),
    ],
)
def test_dominant_script(text, script):
    assert dominant_script(text) == script
    assert dominant_script_of_points(np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)) == script


def test_majority_wins_in_mixed_text():
    assert dominant_script("قال الرئيس Biden في بيان رسمي اليوم") == "Arab"


def test_no_letters_no_script():
    assert dominant_script("123 !? —") is None
    assert char_script("7") is None
