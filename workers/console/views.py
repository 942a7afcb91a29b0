"""The data behind each console view, as plain dicts and dataclasses (no HTML here).

Templates render these; tests check them directly. Nothing in this module writes to
Redis: the console is read-only except for replay, which goes through
:func:`workers.replay.replay`.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field

import redis

from pipeline.models import DeadLetter, Document, Entity
from workers import deadletters, keys, store
from workers.status import entry_time

# Languages written right to left (ISO 639-1 / -3) and RTL scripts (ISO 15924).
RTL_LANGUAGES = frozenset({"ar", "arb", "arz", "apc", "acm", "ary", "fa", "pes", "prs", "ur", "ps", "he", "yi",
                           "ckb", "sd", "ug", "dv", "syr", "ku-arab"})
RTL_SCRIPTS = frozenset({"Arab", "Hebr", "Thaa", "Syrc", "Nkoo", "Adlm", "Rohg", "Mand", "Samr"})

ARTICLE_SCAN = 300  # newest done events the Articles view looks through


def text_direction(doc: Document) -> str:
    """``rtl`` when the language stage found a right-to-left language or script, else ``ltr``."""
    lang = doc.language
    if lang is None:
        return "auto"  # no language decided: let the browser pick from the first strong character
    if (lang.script and lang.script in RTL_SCRIPTS) or lang.code.lower() in RTL_LANGUAGES:
        return "rtl"
    return "ltr"


@dataclass
class Segment:
    """A run of the clean text: plain, or one entity mention."""

    text: str
    start: int
    end: int
    entity: Entity | None = None


@dataclass
class Highlighted:
    """The clean text cut into segments at entity offsets, plus mentions that could not be placed."""

    segments: list[Segment]
    skipped: list[tuple[Entity, str]] = field(default_factory=list)


def highlight(text: str, entities: list[Entity]) -> Highlighted:
    """Cut ``text`` at each entity's exact ``start``/``end`` (no re-tokenising, so clitics stay outside).

    Overlapping or out-of-range mentions are skipped and reported instead of being drawn
    at a wrong place. Concatenating the segments' text gives back ``text`` exactly.
    """
    segments: list[Segment] = []
    skipped: list[tuple[Entity, str]] = []
    pos = 0
    for ent in sorted(entities, key=lambda e: (e.start, -e.end)):
        if ent.end > len(text) or ent.start >= ent.end:
            skipped.append((ent, f"offsets {ent.start}..{ent.end} outside the text ({len(text)} chars)"))
            continue
        if ent.start < pos:
            skipped.append((ent, f"overlaps the mention ending at {pos}"))
            continue
        if ent.start > pos:
            segments.append(Segment(text[pos:ent.start], pos, ent.start))
        segments.append(Segment(text[ent.start:ent.end], ent.start, ent.end, ent))
        pos = ent.end
    if pos < len(text):
        segments.append(Segment(text[pos:], pos, len(text)))
    return Highlighted(segments, skipped)


def unique_entities(doc: Document) -> list[dict]:
    """Entities for the side panel: the stage's summary when present, else mentions merged by name."""
    if doc.entity_summary:
        return [
            {"name": s.name, "label": s.label, "canonical_id": s.canonical_id, "count": s.count,
             "mentions": s.mentions}
            for s in doc.entity_summary
        ]
    merged: dict[tuple, dict] = {}
    for ent in doc.entities:
        key = (ent.canonical_id or ent.normalized or ent.text, ent.label)
        item = merged.setdefault(key, {"name": ent.normalized or ent.text, "label": ent.label,
                                       "canonical_id": ent.canonical_id, "count": 0, "mentions": []})
        item["count"] += 1
        if ent.text not in item["mentions"]:
            item["mentions"].append(ent.text)
    return sorted(merged.values(), key=lambda e: (-e["count"], e["name"]))


def article_view(client: redis.Redis, article_id: str) -> dict | None:
    """Everything the Article view shows for ``article_id``; None when it is not stored."""
    doc = store.get_document(client, article_id)
    if doc is None:
        return None
    hl = highlight(doc.text, doc.entities)
    return {
        "doc": doc,
        "dir": text_direction(doc),
        "lang": doc.language.code if doc.language else None,
        "segments": hl.segments,
        "skipped": hl.skipped,
        "entities": unique_entities(doc),
        "labels": sorted({e.label for e in doc.entities}),
        "dead": deadletters.letter_for_article(client, article_id),
    }


@dataclass
class ArticleRow:
    """One line of the Articles view."""

    id: str
    title: str | None
    language: str | None
    topics: list[str]
    entities: list[str]
    chars: int
    done_at: str
    derived_from: str | None


def _row(entry_id: str, doc: dict) -> ArticleRow:
    at = datetime.datetime.fromtimestamp(entry_time(entry_id), datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return ArticleRow(
        id=doc.get("id", "?"),
        title=doc.get("title"),
        language=(doc.get("language") or {}).get("code"),
        topics=[t.get("label", "") for t in doc.get("topics") or []],
        entities=sorted({e.get("normalized") or e.get("text", "") for e in doc.get("entities") or []}),
        chars=len(doc.get("text") or ""),
        done_at=at,
        derived_from=doc.get("derived_from"),
    )


def _matches(doc: dict, language: str | None, topic: str | None, entity: str | None, q: str | None) -> bool:
    if language and ((doc.get("language") or {}).get("code") or "").lower() != language.lower():
        return False
    if topic:
        t = topic.lower()
        if not any(t == (x.get("code") or "").lower() or t in (x.get("label") or "").lower()
                   for x in doc.get("topics") or []):
            return False
    if entity:
        e = entity.casefold()
        fields = [v for ent in doc.get("entities") or []
                  for v in (ent.get("text"), ent.get("normalized"), ent.get("canonical_id")) if v]
        if not any(e in v.casefold() for v in fields):
            return False
    if q and q.lower() not in (doc.get("id") or "").lower():
        return False
    return True


def articles_view(
    client: redis.Redis,
    *,
    language: str | None = None,
    topic: str | None = None,
    entity: str | None = None,
    q: str | None = None,
    limit: int = 50,
) -> dict:
    """The latest done articles (newest first, one row per id), filtered; plus the filter choices."""
    rows: list[ArticleRow] = []
    seen: set[str] = set()
    languages: set[str] = set()
    topics: set[str] = set()
    scanned = 0
    for entry_id, fields in client.xrevrange(keys.DONE_STREAM, count=ARTICLE_SCAN):
        scanned += 1
        art_id = fields.get("id")
        if not art_id or art_id in seen:
            continue  # a re-stored article: its newest version wins
        seen.add(art_id)
        try:
            doc = json.loads(fields.get("doc") or "{}")
        except ValueError:
            continue
        if (doc.get("language") or {}).get("code"):
            languages.add(doc["language"]["code"])
        topics.update(t.get("label", "") for t in doc.get("topics") or [])
        if len(rows) < limit and _matches(doc, language, topic, entity, q):
            rows.append(_row(entry_id, doc))
    exact = bool(q) and client.exists(keys.doc_key(q.strip())) == 1
    return {
        "rows": rows,
        "scanned": scanned,
        "languages": sorted(languages),
        "topics": sorted(t for t in topics if t),
        "filters": {"language": language or "", "topic": topic or "", "entity": entity or "", "q": q or ""},
        "exact_id": q.strip() if exact else None,
    }


def pretty_payload(letter: DeadLetter) -> str:
    """The dead letter's payload, indented when it is JSON (shown escaped, never interpreted)."""
    try:
        return json.dumps(json.loads(letter.payload), ensure_ascii=False, indent=2)
    except ValueError:
        return letter.payload


def dead_letters_view(client: redis.Redis, *, stage: str | None = None, count: int = 100) -> dict:
    """The newest dead letters (optionally one stage's) with counts per stage."""
    letters = deadletters.list_letters(client, stage=stage or None, count=count)
    return {
        "letters": letters,
        "counts": deadletters.count_by_stage(client),
        "stage": stage or "",
    }


def dead_letter_view(client: redis.Redis, entry_id: str) -> dict | None:
    """One dead letter with its payload pretty-printed; None when it is gone."""
    letter = deadletters.get_letter(client, entry_id)
    if letter is None:
        return None
    return {"entry_id": entry_id, "letter": letter, "payload": pretty_payload(letter)}


def chart_bars(counts: list[int], *, width: int = 150, height: int = 28) -> dict:
    """Bar geometry for an inline SVG throughput chart (one bar per bucket, scaled to the max)."""
    peak = max(counts) if counts else 0
    n = max(1, len(counts))
    step = width / n
    bars = []
    for i, c in enumerate(counts):
        h = 0.0 if peak == 0 else max(1.0, round(c / peak * (height - 2), 1)) if c else 0.0
        bars.append({"x": round(i * step, 1), "y": round(height - h, 1), "w": round(max(1.0, step - 1), 1),
                     "h": h, "count": c})
    return {"bars": bars, "width": width, "height": height, "peak": peak, "total": sum(counts)}
