"""Merge entity mentions into the unique entities of a document, with salience.

Mentions merge by canonical id when one is known, else by label and folded name; a
one-word PERSON mention (بوتين, "Putin") joins the longer PERSON name it ends
(فلاديمير بوتين) when the document has exactly one such name.

Salience in [0, 1]: 0.4 if the entity is named in the title, 0.3 if it is mentioned
in the lead (first 400 characters), plus up to 0.3 for frequency (5+ mentions = 0.3).
"""

from __future__ import annotations

from pipeline.models import Entity, EntitySummary
from pipeline.ner.canonical import Gazetteer
from pipeline.ner.normalize import name_key

LEAD_CHARS = 400


PROCLITICS = "وفبلك"


def _word_char(c: str) -> bool:
    return c.isalnum() or c == "_"  # what ``\w`` matches in a str pattern


def _in(name: str, title: str) -> bool:
    """``name`` occurs in ``title`` as whole words (up to two Arabic proclitics allowed before it).

    Plain string search: a regex per entity name filled re's cache and cost ~3% of a
    worker's time in recompiling.
    """
    if not name:
        return False
    i = title.find(name)
    while i >= 0:
        end = i + len(name)
        if end == len(title) or not _word_char(title[end]):
            for m in range(3):  # m proclitic letters glued in front
                p = i - m
                if p < 0 or (m and title[p] not in PROCLITICS):
                    break
                if p == 0 or not _word_char(title[p - 1]):
                    return True
        i = title.find(name, i + 1)
    return False


def _group_key(ent: Entity) -> str:
    return ent.canonical_id or f"{ent.label}:{name_key(ent.normalized or ent.text)}"


def summarize(entities: list[Entity], title: str | None, gaz: Gazetteer, lang: str | None) -> list[EntitySummary]:
    """Unique entities of a document, most salient first."""
    groups: dict[str, list[Entity]] = {}
    for ent in entities:
        if ent.label == "DATE":
            continue
        groups.setdefault(_group_key(ent), []).append(ent)
    # Surname-only PERSON mentions join the single fuller name that ends with them.
    persons = {k: name_key(v[0].normalized or v[0].text) for k, v in groups.items() if v[0].label == "PERSON"}
    for key, name in list(persons.items()):
        if " " in name or key not in groups:
            continue
        fuller = [k for k, n in persons.items() if k != key and k in groups and n.endswith(" " + name)]
        if len(fuller) == 1:
            groups[fuller[0]].extend(groups.pop(key))
    title_key = name_key(title or "")
    out = []
    for key, mentions in groups.items():
        mentions.sort(key=lambda e: e.start)
        first = mentions[0]
        canonical_id = next((m.canonical_id for m in mentions if m.canonical_id), None)
        hit = gaz.lookup(first.normalized or first.text, first.label) if canonical_id else None
        longest = max((m.normalized or m.text for m in mentions), key=len)
        if hit:
            name = hit.name_ar if lang == "ar" and hit.name_ar else hit.name_en
        else:
            name = longest
        forms = sorted({m.normalized or m.text for m in mentions})
        names = forms + ([hit.name_en, hit.name_ar] if hit else [])
        in_title = bool(title_key) and any(_in(name_key(n), title_key) for n in names if n)
        salience = 0.4 * in_title + 0.3 * (first.start < LEAD_CHARS) + 0.3 * min(1.0, len(mentions) / 5)
        out.append(
            EntitySummary(
                name=name, label=first.label, canonical_id=canonical_id, count=len(mentions),
                first_offset=first.start, salience=round(salience, 3), mentions=forms,
            )
        )
    out.sort(key=lambda s: (-s.salience, s.first_offset))
    return out
