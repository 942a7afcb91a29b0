"""Entity mentions of one text: tagger spans with clitic-aware offsets, gazetteer matches, dates.

Offsets always index the given text and ``text[start:end] == entity.text``.
"""

from __future__ import annotations

import re
from datetime import datetime

from pipeline.models import Entity
from pipeline.ner.canonical import Gazetteer
from pipeline.ner.clitics import proclitic_splits, strip_proclitic
from pipeline.ner.dates import find_dates
from pipeline.ner.labels import spans
from pipeline.ner.model import Tagger
from pipeline.ner.normalize import name_key
from pipeline.ner.propagate import propagate
from pipeline.ner.tokenize import Token, sentences, tokenize

_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u0640]")
_ARABIC = re.compile("[\u0600-\u06ff]")
MAX_GAZETTEER_TOKENS = 5


def normalized_form(stem: str, rest: str) -> str:
    """The displayed name without diacritics/tatweel, single-spaced (letters otherwise kept)."""
    return " ".join(_MARKS.sub("", stem + rest).split())


def _entity(text: str, first: Token, last: Token, label: str, tagger: Tagger | None, gaz: Gazetteer) -> Entity:
    start, stem = first.start, first.text
    if _ARABIC.match(first.text):
        counts = tagger.encoder.count if tagger else {}
        offset, stem = strip_proclitic(first.text, gaz.known, lambda k: counts.get(k, 0))
        start += offset
    normalized = normalized_form(stem, text[first.end : last.end])
    hit = gaz.lookup(normalized, label)
    return Entity(
        text=text[start : last.end], label=label, start=start, end=last.end,
        normalized=normalized, canonical_id=hit.id if hit else None,
    )


def model_entities(text: str, tokens: list[Token], tagger: Tagger, gaz: Gazetteer) -> list[Entity]:
    """Entities the tagger finds in ``text``."""
    sents = sentences(tokens, text)
    words = [[t.text for t in s] for s in sents]
    tags = tagger.tag(words)
    if tagger.meta.get("lang") == "ar":
        # Arabic recall is the weak spot: repeat names found once (+0.5 F1 on ANERcorp dev;
        # neutral to slightly negative on English, so not used there).
        tags = propagate(words, tags, tagger.encoder.stem_key)
    out = []
    for sent, sent_tags in zip(sents, tags):
        for i, j, label in spans(sent_tags):
            out.append(_entity(text, sent[i], sent[j - 1], label, tagger, gaz))
    return out


def gazetteer_entities(text: str, tokens: list[Token], gaz: Gazetteer, taken: list[tuple[int, int]]) -> list[Entity]:
    """Curated names and country names the tagger missed (longest match, outside ``taken``)."""
    mask = bytearray(len(text))
    for s, e in taken:
        mask[s:e] = b"\x01" * (e - s)
    free = [1 not in mask[t.start : t.end] for t in tokens]
    starts = gaz.first_words()
    out = []
    i = 0
    while i < len(tokens):
        first = tokens[i]
        found = None
        # Latin names must be capitalised, so "who" never becomes the WHO.
        if free[i] and (first.text[0].isupper() or _ARABIC.match(first.text)):
            readings = [(0, first.text)] + (proclitic_splits(first.text) if _ARABIC.match(first.text) else [])
            readings = [(o, stem) for o, stem in readings if name_key(stem) in starts]
            for n in range(min(MAX_GAZETTEER_TOKENS, len(tokens) - i), 0, -1) if readings else ():
                last = tokens[i + n - 1]
                if not all(free[i : i + n]) or not last.text[-1].isalnum():
                    continue
                rest = text[first.end : last.end]
                for offset, stem in readings:
                    key = name_key(stem + rest)
                    hit = gaz.curated.get(key)
                    if hit is None:
                        place = gaz.places.get(key)
                        hit = place if place and place.id.startswith("iso3166:") else None
                    if hit and n == 1 and not _ARABIC.match(stem) and len(key) <= 4 and not stem.isupper():
                        hit = None  # short Latin names only as acronyms: "WHO", "AP", not "Who", "Ap"
                    if hit and hit.label in ("PERSON", "ORG", "LOC", "MISC") and (n > 1 or len(key) > 3 or stem.isupper()):
                        start = first.start + offset
                        found = Entity(
                            text=text[start : last.end], label=hit.label, start=start, end=last.end,
                            normalized=normalized_form(stem, rest), canonical_id=hit.id,
                        )
                        i += n - 1
                        break
                if found:
                    break
        if found:
            out.append(found)
        i += 1
    return out


def date_entities(text: str, published_at: datetime | None) -> list[Entity]:
    """DATE entities from the rules of :mod:`pipeline.ner.dates`."""
    return [
        Entity(text=text[d.start : d.end], label="DATE", start=d.start, end=d.end,
               normalized=" ".join(text[d.start : d.end].split()), value=d.value)
        for d in find_dates(text, published_at)
    ]


def _merge_names(model: list[Entity], names: list[Entity]) -> tuple[list[Entity], list[Entity] | None]:
    """Combine the tagger's spans with gazetteer names found without regard to them.

    A multi-word curated name that contains tagger spans replaces them: the tagger reads
    "محمد شياع السوداني" as the name "محمد شياع" plus the adjective "Sudanese". Names clear
    of every span are the names a scan around the spans would find, and names inside a span
    yield to it, so one gazetteer pass serves both. Returns (spans, extra names), with
    extra None when a name straddles a span's edge (only a second scan can tell then).
    """
    extra: list[Entity] = []
    straddles = False
    for name in names:
        inside = [ent for ent in model if name.start < ent.end and ent.start < name.end]
        if not inside:
            extra.append(name)
        elif all(name.start <= ent.start and ent.end <= name.end for ent in inside) and " " in name.normalized:
            model = [ent for ent in model if ent not in inside] + [name]
        elif not all(ent.start <= name.start and name.end <= ent.end for ent in inside):
            straddles = True
    return model, None if straddles else extra


def find_entities(text: str, tagger: Tagger | None, gaz: Gazetteer, published_at: datetime | None) -> list[Entity]:
    """All entities of ``text`` in order: dates win overlaps, then tagger spans, then gazetteer names."""
    dates = date_entities(text, published_at)
    taken = [(d.start, d.end) for d in dates]
    found = list(dates)
    if tagger is not None:
        tokens = tokenize(text)
        model = [ent for ent in model_entities(text, tokens, tagger, gaz) if not any(ent.start < e and s < ent.end for s, e in taken)]
        model, extra = _merge_names(model, gazetteer_entities(text, tokens, gaz, taken))
        found.extend(model)
        if extra is None:  # a name straddled a tagger span: scan again around the spans
            extra = gazetteer_entities(text, tokens, gaz, taken + [(e.start, e.end) for e in model])
        found.extend(extra)
    found.sort(key=lambda e: (e.start, e.end))
    return found
