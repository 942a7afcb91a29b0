"""Canonical names and ids for entity mentions, and the per-document entity summary.

Ids: ``iso3166:XX`` for countries, ``geonames:N`` for cities, ``wikidata:Q...`` for
the curated organisations, people and regions of ``data/entities/curated.tsv``. The
curated table wins over the generated place gazetteer ``data/entities/places.tsv``.
Arabic and English names of the same entity map to the same id (واشنطن and
Washington, البنتاغون and the Pentagon), because both spellings are keys of one row.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.ner.normalize import name_key
from pipeline.resources import data_path, resource


MAJOR_CITY = 100_000


@dataclass(frozen=True, slots=True)
class Canonical:
    """A known entity: its id (may be empty), English and Arabic canonical names, label."""

    id: str | None
    name_en: str
    name_ar: str
    label: str | None  # None: any label (places are LOC or ORG-like GPEs in the corpora)
    kind: str = ""  # places: "country", "city" (100,000+ people) or "town"


class Gazetteer:
    """Name key -> :class:`Canonical`, from the curated table and the places table."""

    def __init__(self, curated: dict[str, Canonical], places: dict[str, Canonical]):
        self.curated = curated
        self.places = places
        self._first_words: frozenset[str] | None = None

    def lookup(self, text: str, label: str) -> Canonical | None:
        """The canonical entity for a mention ``text`` tagged ``label``, or None."""
        key = name_key(text)
        for candidate in _variants(key, label):
            hit = self.curated.get(candidate)
            if hit and (hit.label is None or hit.label == label or {hit.label, label} <= {"LOC", "ORG"}):
                return hit
            if label in ("LOC", "ORG", "MISC") or label is None:
                hit = self.places.get(candidate)
                if hit and (label == "LOC" or hit.id.startswith("iso3166:")):
                    return hit
        return None

    def first_words(self) -> frozenset[str]:
        """First words of every curated and country name (cheap pre-check for name spotting)."""
        if self._first_words is None:
            keys = list(self.curated) + [k for k, v in self.places.items() if v.id.startswith("iso3166:")]
            self._first_words = frozenset(k.split(" ")[0] for k in keys)
        return self._first_words

    def known(self, key: str) -> bool:
        """True when folded ``key`` is a curated or place name (used to keep names whole)."""
        return key in self.curated or key in self.places


def _variants(key: str, label: str | None = None) -> list[str]:
    out = [key]
    if key.startswith("the "):
        out.append(key[4:])
    if label == "PERSON":
        # A title or first name the table lacks: "الرئيس بوتين", "President Putin" -> "بوتين", "putin".
        words = key.split()
        out.extend(" ".join(words[i:]) for i in range(1, len(words)))
    return out


def _read_curated() -> dict[str, Canonical]:
    table: dict[str, Canonical] = {}
    with data_path("entities", "curated.tsv").open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#") or not line.strip():
                continue
            cols = (line.rstrip("\n").split("\t") + [""] * 5)[:5]
            cid, label, en, ar, aliases = cols
            entry = Canonical(cid or None, en, ar, label or None)
            for name in [en, ar, *aliases.split("|")]:
                key = name_key(name)
                if key:
                    table.setdefault(key, entry)
    return table


def _read_places() -> dict[str, Canonical]:
    table: dict[str, Canonical] = {}
    entries: dict[str, Canonical] = {}
    with data_path("entities", "places.tsv").open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            key, cid, en, ar, kind, population = line.rstrip("\n").split("\t")
            if kind == "city" and int(population or 0) < MAJOR_CITY:
                kind = "town"
            # Share one object per id: 130k keys point at far fewer places.
            entry = entries.get(cid) or entries.setdefault(cid, Canonical(cid, en, ar, "LOC", kind))
            table[key] = entry
    return table


@resource("entities.gazetteer")
def gazetteer() -> Gazetteer:
    """The process-wide gazetteer (loaded once)."""
    return Gazetteer(_read_curated(), _read_places())
