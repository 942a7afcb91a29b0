"""Aggregator boilerplate: find credit, attribution, tag, share, read-also and related lines.

The marker table is data (``pipeline/data/clean/markers.toml``, extendable through
``NEWSFLOW_CLEAN_MARKERS``); this module adds the structural rules that no single
marker captures:

* ``structure.credit_line``: a short first line ending in ":" ("الجديد برس:");
* ``structure.trailing_headlines``: a trailing block of 3 or more bulleted,
  headline-like lines, once the story has ended (an attribution, tag or copyright line
  or a read-also header came before it). Without that signal a trailing bullet list
  is kept: stories end with lists too (award winners, key points);
* appended articles: after a "read also" header, once the story has ended, the text
  up to the next header is a whole second article, returned with ``split_off=True``.

Every pass is linear in the number of lines: each line is folded once and each
pattern is a literal prefix/substring test (no user regex, so nothing can backtrack).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.errors import StageError
from pipeline.resources import data_path, resource
from pipeline.text.normalize import matching_form

MARKERS_ENV = "NEWSFLOW_CLEAN_MARKERS"
ACTIONS = ("drop_line", "section", "split")
MATCHES = ("line", "label", "contains")

BULLETS = "•·▪◦►▶●○■□➢➤»‣⁃-–—*>"
_LABEL_SEPARATORS = ":|-–—：،"
_TERMINAL = ".!?؟…。"
_CLOSERS = "\"'”’»)]）」』›"
HEAD_LINES = 3
MIN_TRAILING_BULLETS = 3
HEADLINE_MAX_WORDS = 25
UNBULLETED_ITEM_MAX_WORDS = 20  # an unbulleted line under a "Related" header is a link if this short
# An appended article has real prose: this many words in all, or one sentence-ending
# paragraph this long (short wire items are articles too; a links list has neither).
ARTICLE_MIN_WORDS = 40
ARTICLE_MIN_PARAGRAPH_WORDS = 12


@dataclass(frozen=True)
class Rule:
    """One row of the marker table (see the comments at the top of markers.toml)."""

    id: str
    action: str
    match: str
    patterns: tuple[str, ...]
    reason: str
    max_words: int = 8
    where: str = "any"
    ends_story: bool = False
    sites: tuple[str, ...] = ()
    lang: str = ""

    def applies_to(self, host: str | None) -> bool:
        """True when the rule runs for an article from ``host`` (site rules only on their site)."""
        if not self.sites:
            return True
        return bool(host) and any(host == s or host.endswith("." + s) for s in self.sites)


@dataclass
class Removal:
    """A block the boilerplate pass took out: its text, why, which rule, and whether it is an article."""

    text: str
    reason: str
    rule: str
    split_off: bool = False


@dataclass
class Result:
    """The story text that remains and the removals, in document order."""

    text: str
    removed: list[Removal] = field(default_factory=list)


def parse_rules(data: dict, origin: str) -> list[Rule]:
    """Rules from a parsed TOML table ``{"rule": [...]}``; errors name the file and the rule."""
    rules = []
    for n, row in enumerate(data.get("rule", []), start=1):
        where = f"{origin} rule #{n} ({row.get('id', 'no id')})"
        try:
            rule = Rule(
                id=str(row["id"]),
                action=row["action"],
                match=row.get("match", "line"),
                patterns=tuple(matching_form(p) for p in row["patterns"]),
                reason=str(row.get("reason", row["id"])),
                max_words=int(row.get("max_words", 8)),
                where=row.get("where", "any"),
                ends_story=bool(row.get("ends_story", False)),
                sites=tuple(s.lower() for s in row.get("sites", ())),
                lang=str(row.get("lang", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StageError(
                f"{where}: missing or invalid field {exc}",
                hint="every rule needs id, action, patterns; see pipeline/data/clean/markers.toml",
                code="E212",
            ) from None
        if rule.action not in ACTIONS or rule.match not in MATCHES or rule.where not in ("any", "head"):
            raise StageError(
                f"{where}: action must be one of {ACTIONS}, match one of {MATCHES}, where any|head",
                hint="fix the rule in the marker file",
                code="E212",
            )
        if not all(rule.patterns):
            raise StageError(f"{where}: empty pattern", hint="remove the empty string", code="E212")
        rules.append(rule)
    return rules


def load_rules(paths: list[Path]) -> list[Rule]:
    """Rules from marker TOML files, in order."""
    rules: list[Rule] = []
    for path in paths:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise StageError(
                f"cannot read marker file {path}: {exc.strerror}",
                hint=f"fix or unset {MARKERS_ENV}",
                code="E212",
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise StageError(f"marker file {path} is not valid TOML: {exc}", hint="fix its syntax", code="E212") from None
        rules.extend(parse_rules(data, str(path)))
    return rules


def marker_paths() -> list[Path]:
    """The shipped marker table followed by the files listed in ``NEWSFLOW_CLEAN_MARKERS``."""
    extra = [Path(p) for p in os.environ.get(MARKERS_ENV, "").split(os.pathsep) if p.strip()]
    return [data_path("clean", "markers.toml"), *extra]


@resource("clean.markers")
def default_rules() -> list[Rule]:
    """The marker rules for this process (shipped table plus user files), loaded once."""
    return load_rules(marker_paths())


def host_of(url: str | None, source: str | None = None) -> str | None:
    """Lower-case host of ``url`` (or of ``source`` when it looks like a host), without ``www.``."""
    for candidate in (url, source):
        if not candidate:
            continue
        host = urlsplit(candidate if "//" in candidate else "//" + candidate).hostname
        if host and "." in host:
            return host.removeprefix("www.")
    return None


# ------------------------------------------------------------------ line predicates


def _strip_bullet(form: str) -> str:
    """The line without leading bullet characters and spaces."""
    return form.lstrip(BULLETS + " \t")


def is_bulleted(line: str) -> bool:
    """True when the line starts with a bullet character ("•", "-", "*", ...)."""
    stripped = line.lstrip()
    return bool(stripped) and stripped[0] in BULLETS


def word_count(line: str) -> int:
    """Whitespace-separated words in ``line``."""
    return len(line.split())


def ends_sentence(line: str) -> bool:
    """True when the line ends with sentence punctuation (quotes and brackets skipped)."""
    core = line.rstrip().rstrip(_CLOSERS).rstrip()
    return bool(core) and core[-1] in _TERMINAL


def is_headline(line: str, max_words: int = HEADLINE_MAX_WORDS) -> bool:
    """A headline-like line: 1 to ``max_words`` words, not ending in a full stop.

    Headlines end in "?", "!" or an ellipsis often enough ("هل لديك استعداد...؟"), so
    only a final "." counts as the end of a sentence here.
    """
    core = line.rstrip().rstrip(_CLOSERS).rstrip()
    if not core or not 1 <= word_count(core) <= max_words:
        return False
    return core[-1] not in ".。" or core.endswith("..")


def _is_article(body: list[str]) -> bool:
    """True when the lines after a read-also header hold prose, not just headline links."""
    prose = [b for b in body if b and not is_headline(_strip_bullet(b))]
    if not prose:
        return False
    return sum(word_count(b) for b in body) >= ARTICLE_MIN_WORDS or max(word_count(b) for b in prose) >= ARTICLE_MIN_PARAGRAPH_WORDS


def _list_item(line: str) -> bool:
    """A line of a links list: a bulleted headline, or a shorter unbulleted one."""
    if is_bulleted(line):
        return is_headline(_strip_bullet(line))
    return is_headline(line, UNBULLETED_ITEM_MAX_WORDS)


def _matches(rule: Rule, form: str) -> bool:
    """Does the folded, bullet-stripped line ``form`` match ``rule``?"""
    if len(form) > rule.max_words * 40:  # cheap guard before counting words on huge lines
        return False
    if word_count(form) > rule.max_words:
        return False
    for pat in rule.patterns:
        if rule.match == "contains":
            if pat in form:
                return True
            continue
        if not form.startswith(pat):
            continue
        rest = form[len(pat) :]
        if not rest or rest.strip(_LABEL_SEPARATORS + " ") == "":
            return True  # the line is the marker itself (optionally with ":")
        if rest[0].isalnum():
            continue  # "shares fell" is not "share"
        if rule.match == "line":
            return True
        if rest.lstrip()[:1] in tuple(_LABEL_SEPARATORS):  # label: "Source: Reuters"
            return True
    return False


def _is_bare_header(form: str, rule: Rule) -> bool:
    """True when the line is only the marker (plus punctuation), not "marker: headline"."""
    bare = form.rstrip(_LABEL_SEPARATORS + " ")
    return bare in rule.patterns


# ------------------------------------------------------------------ the pass


def _trailing_bullets_start(lines: list[str]) -> int:
    """Index where a trailing block of bulleted headline lines starts (``len(lines)`` if none)."""
    start = len(lines)
    bullets = 0
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        if not line:
            continue
        if is_bulleted(line) and is_headline(_strip_bullet(line)) and word_count(line) >= 3:
            bullets += 1
            start = i
            continue
        break
    return start if bullets >= MIN_TRAILING_BULLETS else len(lines)


def _credit_line(lines: list[str]) -> int | None:
    """Index of a leading credit line ("الجديد برس:") when the story follows it."""
    for i, line in enumerate(lines):
        if not line:
            continue
        short = word_count(line) <= 4 and len(line) <= 40
        if short and line.rstrip().endswith((":", "：")) and any(lines[i + 1 :]):
            return i
        return None
    return None


def _join(lines: list[str]) -> str:
    return "\n".join(lines).strip("\n")


def strip_boilerplate(text: str, rules: list[Rule] | None = None, host: str | None = None) -> Result:
    """Split ``text`` (hygienic, one paragraph per line or block) into story and removals.

    ``rules`` defaults to the marker table; ``host`` enables site-specific rules.
    Nothing is dropped: every line is either kept or inside exactly one removal.
    """
    rules = [r for r in (default_rules() if rules is None else rules) if r.applies_to(host)]
    lines = text.split("\n")
    forms = [_strip_bullet(matching_form(line)) for line in lines]
    removed: list[Removal] = []
    kept: list[str] = []

    trailing = _trailing_bullets_start(lines)
    credit = _credit_line(lines)
    headers = [r for r in rules if r.action in ("section", "split")]
    droppers = [r for r in rules if r.action == "drop_line"]

    memo: dict[int, Rule | None] = {}

    def header_at(j: int) -> Rule | None:
        # Memoised: segment scans look ahead, and every line must be tested only once.
        if j not in memo:
            form = forms[j]
            memo[j] = next((rule for rule in headers if form and _matches(rule, form)), None)
        return memo[j]

    last_merge_at = -1  # len(kept) when the last removal was recorded
    merged: dict[int, list[str]] = {}  # index in ``removed`` -> texts of the lines merged into it

    def remove(block: Removal) -> None:
        # Consecutive removals by the same rule (nothing kept in between) form one block:
        # the audit stays readable and hostile input cannot create millions of blocks.
        nonlocal last_merge_at
        prev = removed[-1] if removed else None
        no_story_between = all(not k for k in kept[last_merge_at:]) if last_merge_at >= 0 else False
        if prev and no_story_between and not prev.split_off and (prev.rule, prev.reason) == (block.rule, block.reason):
            merged.setdefault(len(removed) - 1, [prev.text]).append(block.text)  # joined once at the end
        else:
            removed.append(block)
        last_merge_at = len(kept)

    story_ended = False
    nonblank_seen = 0
    i = 0
    n = len(lines)
    while i < n:
        line, form = lines[i], forms[i]
        if not line:
            kept.append(line)
            i += 1
            continue
        nonblank_seen += 1
        if i == credit:
            removed.append(Removal(line, "source credit line", "structure.credit_line"))
            i += 1
            continue
        if i >= trailing and story_ended:
            removed.append(Removal(_join(lines[i:]), "trailing related-headlines list", "structure.trailing_headlines"))
            break
        header = header_at(i)
        if header is not None and _is_bare_header(form, header):
            j = i + 1
            if header.action == "split" and story_ended:
                # Everything up to the next header (or trailing list) is appended text.
                while j < min(n, trailing) and header_at(j) is None:
                    j += 1
                body = lines[i + 1 : j]
                if _is_article(body):
                    removed.append(Removal(line, header.reason, header.id))
                    removed.append(Removal(_join(body), "appended article after a read-also header", header.id, split_off=True))
                    i = j
                    continue
                j = i + 1  # not an article: treat like a links list below
            # A links list: the header and the headline-like lines under it.
            while j < n and (not lines[j] or _list_item(lines[j])) and header_at(j) is None:
                j += 1
            reason = header.reason if header.action == "section" else "read-also links"
            remove(Removal(_join(lines[i:j]), reason, header.id))
            i = j
            continue
        rule = next(
            (r for r in droppers if (r.where == "any" or nonblank_seen <= HEAD_LINES) and _matches(r, form)),
            None,
        )
        if rule is None and header is not None:
            rule = header  # "Related: some headline" on one line
        if rule is not None:
            remove(Removal(line, rule.reason, rule.id))
            story_ended = story_ended or rule.ends_story
            i += 1
            continue
        kept.append(line)
        i += 1

    for index, parts in merged.items():
        removed[index].text = "\n".join(parts)
    return Result(text=_tidy("\n".join(kept)), removed=[r for r in removed if r.text.strip()])


def _tidy(text: str) -> str:
    """Collapse the blank lines left where blocks were removed."""
    out: list[str] = []
    for line in text.split("\n"):
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    return "\n".join(out).strip("\n")
