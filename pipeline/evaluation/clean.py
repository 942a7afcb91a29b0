"""Evaluate the clean stage: ``newsflow eval clean --shared ../shared``.

Sections (each runs when its input is given; ``--shared DIR`` fills in all three data paths):

* **seed**: the aggregator seed article, checked against the issue's done-when
  (story start and end, no boilerplate left, the appended article split off).
* **pages**: hand-made fixtures (``--pages DIR`` with an ``expected.json``).
* **clean articles** (SaudiNewsNet ``--saudi DIR`` of zips, BBC ``--bbc FILE.jsonl``):
  articles with no boilerplate; reports the share of text kept (target >= 99%) and
  every rule that fired, with examples, so false positives can be read.
* **synthetic aggregator text / HTML pages**: the same real articles wrapped in
  known boilerplate (credit line, attribution, tags with Persian letters, "read also" +
  a second real article, related-headline bullets; or an HTML page with navigation,
  share buttons, related links and a footer). Because the inserted lines are known,
  it reports story lines kept, boilerplate lines removed, appended articles split off,
  and exact-match rate.
* **speed**: MB/s and ms per article for each section.

Only the standard library and ``pipeline`` are used; the data is never modified.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from pipeline.errors import StageError
from pipeline.models import Document
from pipeline.stages.clean import clean
from pipeline.text.normalize import hygiene, matching_form

SEED_REL = Path("samples/aggregator-iraq-talks-ar.txt")
SAUDI_REL = Path("data/raw/ar/saudinewsnet")
BBC_REL = Path("data/topics/en/bbc-news.jsonl")
SEED_START = "أكدت المقاومة العراقية"
SEED_END = "النظر في أولوياتها العسكرية في المنطقة."
SEED_JUNK = ("الجديد برس", "المصدر:", "كلمات دلالية", "إقرأ أيضاً", "بوتين", "مقالات مشابهة", "•")


@dataclass
class Article:
    """One real article: title and paragraphs."""

    title: str
    paragraphs: list[str]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass
class Tally:
    """Counts for one section of the report."""

    name: str
    articles: int = 0
    bytes_in: int = 0
    seconds: float = 0.0
    errors: Counter = field(default_factory=Counter)
    kept_shares: list[float] = field(default_factory=list)
    story_lines: int = 0
    story_kept: int = 0
    junk_lines: int = 0
    junk_removed: int = 0
    splits_expected: int = 0
    splits_found: int = 0
    exact: int = 0
    rules: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    max_examples: int = 6

    def speed(self) -> str:
        if not self.seconds:
            return "n/a"
        mb = self.bytes_in / 1e6
        return f"{mb / self.seconds:.2f} MB/s, {1000 * self.seconds / max(self.articles, 1):.1f} ms/article ({mb:.2f} MB)"


# ------------------------------------------------------------------ data loading


def _paragraphs(text: str) -> list[str]:
    return [p for p in hygiene(text).split("\n") if p.strip()]


def load_saudi(folder: Path, sample: int, rng: random.Random) -> list[Article]:
    """``sample`` random SaudiNewsNet articles (title + content) from the zips in ``folder``."""
    rows = []
    for path in sorted(folder.glob("*.zip")):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                rows.extend(json.loads(archive.read(name)))
    rng.shuffle(rows)
    out = []
    for row in rows:
        paras = _paragraphs(row.get("content") or "")
        if paras and row.get("title"):
            out.append(Article(hygiene(row["title"]), paras))
        if len(out) >= sample:
            break
    return out


def load_bbc(path: Path, sample: int, rng: random.Random) -> list[Article]:
    """``sample`` random BBC News articles from the jsonl (title, text)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng.shuffle(rows)
    return [Article(hygiene(r["title"]), _paragraphs(r["text"])) for r in rows[:sample] if _paragraphs(r["text"])]


# ------------------------------------------------------------------ synthetic wrappers

_AR = {
    "credit": ["الجديد برس:", "متابعات:", "وكالة سبأ:", "خاص:"],
    "attribution": ["المصدر: {site}", "المصدر: وكالات"],
    "tags": "كلمات دلالية: {words}",
    "read_also": ["إقرأ أيضاً:", "اقرأ أيضا:", "اقرأ أيضاً"],
    "related": ["مقالات مشابهة", "أخبار ذات صلة", "الأكثر قراءة"],
    "bullet": "  • {title}",
    "nav": ["الرئيسية", "محليات", "سياسة", "اقتصاد", "رياضة", "منوعات"],
    "share": "شارك الخبر",
    "footer": "جميع الحقوق محفوظة © {site} 2015",
}
_EN = {
    "credit": ["Newswire:", "Exclusive:", "City Wire:"],
    "attribution": ["Source: {site}", "Source: agencies"],
    "tags": "Tags: {words}",
    "read_also": ["Read also:", "Read more:", "Also read"],
    "related": ["Related", "More on this story", "Most read"],
    "bullet": "- {title}",
    "nav": ["Home", "News", "Business", "Sport", "Entertainment", "Technology"],
    "share": "Share this article",
    "footer": "© 2005 {site}. All rights reserved.",
}


def _persianise(text: str) -> str:
    # Aggregators often carry tags typed on Persian keyboards: ی and ک for ي and ك.
    return text.replace("ي", "ی").replace("ك", "ک")


def aggregator_text(story: Article, appended: Article, others: list[Article], lang: str, rng: random.Random) -> tuple[str, list[str], bool]:
    """Plain aggregator text around ``story``: returns (text, inserted boilerplate lines, split expected)."""
    t = _AR if lang == "ar" else _EN
    site = "example-news"
    junk: list[str] = []
    parts: list[str] = []
    if rng.random() < 0.7:
        junk.append(rng.choice(t["credit"]))
        parts.append(junk[-1])
    parts.extend(story.paragraphs)
    ended = False
    if rng.random() < 0.8:
        junk.append(rng.choice(t["attribution"]).format(site=site))
        parts.append(junk[-1])
        ended = True
    if rng.random() < 0.8:
        words = " ".join(story.title.split()[:8])
        junk.append(t["tags"].format(words=_persianise(words) if lang == "ar" else ", ".join(words.split())))
        parts.append(junk[-1])
        ended = True
    split = False
    if rng.random() < 0.7:
        junk.append(rng.choice(t["read_also"]))
        parts.append(junk[-1])
        parts.append(appended.title)
        parts.extend(appended.paragraphs)
        split = ended  # by design a read-also header only splits once the story has ended
        if not ended:
            junk.extend([appended.title, *appended.paragraphs])
    if rng.random() < 0.8:
        junk.append(rng.choice(t["related"]))
        parts.append(junk[-1])
        for other in others:
            junk.append(t["bullet"].format(title=other.title))
        parts.append("\n".join(t["bullet"].format(title=o.title) for o in others))
    return "\n\n".join(parts), junk, split


def html_page(story: Article, others: list[Article], lang: str) -> tuple[str, list[str]]:
    """A news page around ``story``: returns (html, boilerplate lines a reader would not call story)."""
    t = _AR if lang == "ar" else _EN
    site = "Example News"
    nav = "".join(f'<li><a href="https://news.example/{i}">{escape(n)}</a></li>' for i, n in enumerate(t["nav"]))
    related = "".join(f'<li><a href="https://news.example/r{i}">{escape(o.title)}</a></li>' for i, o in enumerate(others))
    body = "".join(f"<p>{escape(p)}</p>\n" for p in story.paragraphs)
    heading = t["related"][0]
    footer = t["footer"].format(site=site)
    html = (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{escape(story.title)} | {site}</title>'
        f'<meta property="og:site_name" content="{site}"><script src="https://ads.example/t.js"></script></head><body>'
        f"<header><nav><ul>{nav}</ul></nav></header><main><article><h1>{escape(story.title)}</h1>\n{body}"
        f'<div class="share"><a href="https://social.example/share">{t["share"]}</a></div></article>'
        f"<aside><h3>{escape(heading)}</h3><ul>{related}</ul></aside></main>"
        f"<footer><p>{escape(footer)}</p></footer></body></html>"
    )
    junk = [*t["nav"], t["share"], heading, *(o.title for o in others), footer]
    return html, junk


# ------------------------------------------------------------------ scoring


def _run(tally: Tally, body: str, content_type: str = "text/plain", title: str | None = None) -> Document | None:
    tally.articles += 1
    tally.bytes_in += len(body.encode("utf-8"))
    start = time.perf_counter()
    try:
        doc = clean(Document(id=f"eval-{tally.articles}", body=body, content_type=content_type, title=title))
    except StageError as exc:
        tally.errors[exc.code] += 1
        return None
    finally:
        tally.seconds += time.perf_counter() - start
    for block in doc.removed:
        tally.rules[block.rule] += 1
    return doc


def _score_lines(tally: Tally, doc: Document | None, story: list[str], junk: list[str]) -> None:
    out_form = matching_form(doc.text) if doc else ""
    out_lines = {matching_form(line) for line in (doc.text.split("\n") if doc else [])}
    lost = [p for p in story if matching_form(p) not in out_form]
    left = [j for j in junk if matching_form(j) in out_lines]
    tally.story_lines += len(story)
    tally.story_kept += len(story) - len(lost)
    tally.junk_lines += len(junk)
    tally.junk_removed += len(junk) - len(left)
    for kind, lines in (("story line lost", lost), ("boilerplate left", left)):
        for line in lines[:1]:
            if len(tally.examples) < tally.max_examples:
                tally.examples.append(f"{kind}: {line[:110]!r}")
    if doc and matching_form(doc.text) == matching_form("\n".join(story)):
        tally.exact += 1


def eval_clean_articles(name: str, articles: list[Article], examples: int) -> Tally:
    """Articles without boilerplate: the share of text kept and every rule that fired."""
    tally = Tally(name)
    for art in articles:
        doc = _run(tally, art.text)
        before = len(matching_form(art.text))
        after = len(matching_form(doc.text)) if doc else 0
        tally.kept_shares.append(after / before if before else 1.0)
        if doc and doc.removed and len(tally.examples) < examples:
            for block in doc.removed[:2]:
                tally.examples.append(f"[{block.rule}] {block.text[:110]!r}")
    return tally


def eval_aggregator(name: str, articles: list[Article], lang: str, rng: random.Random, limit: int, examples: int) -> Tally:
    """Real articles wrapped in known aggregator boilerplate."""
    tally = Tally(name, max_examples=examples)
    for i, story in enumerate(articles[:limit]):
        appended = articles[(i + 1) % len(articles)]
        others = rng.sample(articles, k=rng.randint(3, 6))
        text, junk, split = aggregator_text(story, appended, others, lang, rng)
        doc = _run(tally, text)
        _score_lines(tally, doc, story.paragraphs, junk)
        if split:
            tally.splits_expected += 1
            blocks = [b for b in (doc.removed if doc else []) if b.split_off]
            if len(blocks) == 1 and matching_form(blocks[0].text) == matching_form("\n".join([appended.title, *appended.paragraphs])):
                tally.splits_found += 1
    return tally


def eval_html(name: str, articles: list[Article], lang: str, rng: random.Random, limit: int, examples: int) -> Tally:
    """Real articles inside a news-page template."""
    tally = Tally(name, max_examples=examples)
    for story in articles[:limit]:
        others = rng.sample(articles, k=rng.randint(3, 6))
        html, junk = html_page(story, others, lang)
        doc = _run(tally, html, "text/html")
        _score_lines(tally, doc, story.paragraphs, junk)
    return tally


def eval_seed(path: Path) -> list[str]:
    """The done-when checks on the seed article, as report lines."""
    doc = clean(Document(id="seed", body=path.read_text(encoding="utf-8")))
    checks = {
        f"text starts with {SEED_START!r}": doc.text.startswith(SEED_START),
        "text ends with the last story sentence": doc.text.endswith(SEED_END),
        "no credit/source/tags/read-also/related text left": not any(j in doc.text for j in SEED_JUNK),
        "appended (Putin) article split off": [b.text.split("\n")[0][:6] for b in doc.removed if b.split_off] == ["بوتين:"],
    }
    lines = [f"  {'PASS' if ok else 'FAIL'}  {what}" for what, ok in checks.items()]
    lines.append(f"  story: {len(doc.text.split(chr(10)))} lines, {len(doc.text)} chars; derived ids: {doc.derived_ids}")
    for block in doc.removed:
        first = block.text.split("\n")[0]
        lines.append(f"  removed [{block.rule}] {block.reason}{' -> ' + block.split_id if block.split_id else ''}: {first[:60]!r}")
    return lines


def eval_pages(folder: Path) -> list[str]:
    """Fixture pages against ``expected.json``: start, end, absent strings, splits, title."""
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    lines = []
    for name, exp in expected.items():
        path = folder / name
        content_type = "text/html" if path.suffix == ".html" else "text/plain"
        doc = clean(Document(id="page", body=path.read_text(encoding="utf-8"), content_type=content_type))
        fails = []
        if not doc.text.startswith(exp["starts"]):
            fails.append("start")
        if not doc.text.endswith(exp["ends"]):
            fails.append("end")
        fails += [f"left {a!r}" for a in exp.get("absent", []) if a in doc.text]
        if len(doc.derived_ids) != exp.get("splits", 0):
            fails.append(f"splits {len(doc.derived_ids)} != {exp.get('splits', 0)}")
        if "title" in exp and doc.title != exp["title"]:
            fails.append("title")
        lines.append(f"  {'PASS' if not fails else 'FAIL'}  {name}: {len(doc.removed)} blocks removed {', '.join(fails)}")
    return lines


def format_tally(t: Tally) -> list[str]:
    """Report lines of one section."""
    lines = [f"{t.name}: {t.articles} articles, {t.speed()}"]
    if t.errors:
        lines.append(f"  errors: {dict(t.errors)}")
    if t.kept_shares:
        shares = sorted(t.kept_shares)
        ok = sum(1 for s in shares if s >= 0.99)
        lines.append(
            f"  text kept: mean {100 * sum(shares) / len(shares):.2f}%, min {100 * shares[0]:.1f}%, "
            f">=99% kept in {ok}/{len(shares)} articles ({100 * ok / len(shares):.1f}%)"
        )
        touched = sum(1 for s in shares if s < 1.0)
        lines.append(f"  articles with anything removed: {touched}")
    if t.story_lines:
        lines.append(f"  story lines kept: {t.story_kept}/{t.story_lines} ({100 * t.story_kept / t.story_lines:.2f}%)")
        lines.append(f"  boilerplate lines removed: {t.junk_removed}/{t.junk_lines} ({100 * t.junk_removed / max(t.junk_lines, 1):.2f}%)")
        lines.append(f"  output exactly the story: {t.exact}/{t.articles} ({100 * t.exact / max(t.articles, 1):.1f}%)")
    if t.splits_expected:
        lines.append(f"  appended articles split off whole: {t.splits_found}/{t.splits_expected}")
    if t.rules:
        lines.append(f"  rules fired: {dict(t.rules.most_common())}")
    lines += [f"  e.g. {e}" for e in t.examples]
    return lines


def main(argv: list[str]) -> int:
    """Run the sections whose inputs are given and print the report; exit 1 if a check fails."""
    parser = argparse.ArgumentParser(prog="newsflow eval clean", description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, help="the shared folder: sets --seed, --saudi and --bbc")
    parser.add_argument("--seed", type=Path, help="the aggregator seed article (.txt)")
    parser.add_argument("--pages", type=Path, help="folder of fixture pages with expected.json")
    parser.add_argument("--saudi", type=Path, help="folder of SaudiNewsNet zips")
    parser.add_argument("--bbc", type=Path, help="bbc-news.jsonl")
    parser.add_argument("--sample", type=int, default=1000, help="clean articles per corpus (default 1000)")
    parser.add_argument("--synthetic", type=int, default=300, help="synthetic aggregator/HTML articles per corpus")
    parser.add_argument("--examples", type=int, default=6, help="removals to print from clean corpora")
    parser.add_argument("--random-seed", type=int, default=13)
    args = parser.parse_args(argv)
    if args.shared:
        args.seed = args.seed or args.shared / SEED_REL
        args.saudi = args.saudi or args.shared / SAUDI_REL
        args.bbc = args.bbc or args.shared / BBC_REL
    for flag in ("seed", "pages", "saudi", "bbc"):
        path = getattr(args, flag)
        if path is not None and not path.exists():
            print(f"error: --{flag} {path} does not exist", file=sys.stderr)
            return 2
    if not any((args.seed, args.pages, args.saudi, args.bbc)):
        parser.error("give --shared DIR or at least one of --seed, --pages, --saudi, --bbc")

    rng = random.Random(args.random_seed)
    report: list[str] = []
    if args.seed:
        report += ["seed article:", *eval_seed(args.seed)]
    if args.pages:
        report += ["fixture pages:", *eval_pages(args.pages)]
    corpora = []
    if args.saudi:
        corpora.append(("SaudiNewsNet", "ar", load_saudi(args.saudi, args.sample, rng)))
    if args.bbc:
        corpora.append(("BBC News", "en", load_bbc(args.bbc, args.sample, rng)))
    for name, lang, articles in corpora:
        report += format_tally(eval_clean_articles(f"{name} as published (no boilerplate)", articles, args.examples))
        report += format_tally(eval_aggregator(f"{name} in synthetic aggregator text", articles, lang, rng, args.synthetic, args.examples))
        report += format_tally(eval_html(f"{name} in a synthetic HTML page", articles, lang, rng, args.synthetic, args.examples))
    print("\n".join(report))
    return 1 if any("FAIL" in line for line in report) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
