"""The console's view data and pages, against the embedded fakeredis store."""

from __future__ import annotations

import html
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from pipeline.models import DeadLetter, Document, Duplicate, Entity, Language, RemovedBlock, StageRun, Topic
from workers import deadletters, keys, store as store_mod
from workers.app import create_app
from workers.cli import main
from workers.console import views
from workers.console.web import TOKEN_COOKIE, create_console
from workers.settings import Settings

# Clitics glued to names: the ب of ببغداد and the و of وطهران are not part of the entity,
# while the و of واشنطن is.
AR_TEXT = (
    "أعلن وزير الخارجية فؤاد حسين في مؤتمر صحفي ببغداد أن العلاقة مع واشنطن وطهران متوازنة.\n\n"
    "ورحبت الأمم المتحدة بالخطوة."
)


def _span(text: str, word: str, prefix: str = "") -> tuple[int, int]:
    start = text.index(prefix + word) + len(prefix)
    return start, start + len(word)


def _entity(text: str, word: str, label: str, prefix: str = "", canonical: str | None = None) -> Entity:
    start, end = _span(text, word, prefix)
    return Entity(text=word, label=label, start=start, end=end, canonical_id=canonical)


def arabic_doc(article_id: str = "ar-1") -> Document:
    """A finished Arabic Document with entities at known offsets, two of them after clitics."""
    t = AR_TEXT
    return Document(
        id=article_id,
        title="العراق وواشنطن",
        text=t,
        language=Language(code="ar", name="Arabic", confidence=0.98, script="Arab", reliable=True),
        entities=[
            _entity(t, "فؤاد حسين", "PERSON"),
            _entity(t, "بغداد", "LOC", prefix=" ب", canonical="geonames:98182"),
            _entity(t, "واشنطن", "LOC", canonical="geonames:4140963"),
            _entity(t, "طهران", "LOC", prefix=" و", canonical="geonames:112931"),
            _entity(t, "الأمم المتحدة", "ORG", canonical="wikidata:Q1065"),
        ],
        topics=[Topic(code="11000000", label="politics", score=0.91)],
        removed=[RemovedBlock(text="إقرأ أيضاً:", reason="read-also header", rule="read_also.ar")],
        duplicate=Duplicate(content_key="k1", seen_before=True, near_duplicate_of="ar-0"),
        provenance=[StageRun(stage="clean", version="1.0.0", ms=2.5)],
    )


def english_doc(article_id: str = "en-1", body_text: str = "Reuters reported from London on Monday.") -> Document:
    return Document(
        id=article_id,
        title="Markets",
        text=body_text,
        language=Language(code="en", name="English", confidence=0.99, script="Latn"),
        entities=[_entity(body_text, "London", "LOC")] if "London" in body_text else [],
        topics=[Topic(code="04000000", label="economy, business and finance", score=0.7)],
    )


def save(store, settings, doc: Document) -> None:
    store_mod.save_document(store, settings, doc.model_dump_json(), doc.id)


@pytest.fixture
def console(app):
    return TestClient(create_console(app, inspect_timeout_s=0.2))


class _Marks(HTMLParser):
    """Collects each <mark data-start data-end>'s text, and the text of #text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.marks: list[dict] = []
        self._in_mark = None
        self._in_text = False
        self.text = ""
        self.article_attrs: dict = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "article" and attrs.get("id") == "text":
            self._in_text = True
            self.article_attrs = attrs
        if tag == "mark" and self._in_text:
            self._in_mark = {**attrs, "inner": ""}

    def handle_endtag(self, tag):
        if tag == "mark" and self._in_mark is not None:
            self.marks.append(self._in_mark)
            self._in_mark = None
        if tag == "article":
            self._in_text = False

    def handle_data(self, data):
        if self._in_mark is not None:
            self._in_mark["inner"] += data
        if self._in_text:
            self.text += data


# -- view data --------------------------------------------------------------------------------


def test_highlight_cuts_exactly_at_entity_offsets_and_keeps_clitics_outside():
    doc = arabic_doc()
    hl = views.highlight(doc.text, doc.entities)
    assert "".join(s.text for s in hl.segments) == doc.text
    marked = [s for s in hl.segments if s.entity]
    assert [s.text for s in marked] == ["فؤاد حسين", "بغداد", "واشنطن", "طهران", "الأمم المتحدة"]
    for seg in marked:
        assert seg.text == doc.text[seg.entity.start:seg.entity.end]
    before = {s.entity.text: hl.segments[hl.segments.index(s) - 1].text for s in marked}
    assert before["بغداد"].endswith(" ب")  # the preposition stays unmarked
    assert before["طهران"].endswith(" و")  # so does the conjunction
    assert not hl.skipped


def test_highlight_skips_overlapping_and_out_of_range_mentions():
    text = "Barack Obama visited Paris."
    ents = [
        Entity(text="Barack Obama", label="PERSON", start=0, end=12),
        Entity(text="Obama", label="PERSON", start=7, end=12),
        Entity(text="Paris", label="LOC", start=21, end=26),
        Entity(text="ghost", label="MISC", start=40, end=45),
    ]
    hl = views.highlight(text, ents)
    assert [s.text for s in hl.segments if s.entity] == ["Barack Obama", "Paris"]
    assert "".join(s.text for s in hl.segments) == text
    assert sorted(e.text for e, _ in hl.skipped) == ["Obama", "ghost"]


def test_text_direction_follows_the_language_stage():
    assert views.text_direction(arabic_doc()) == "rtl"
    assert views.text_direction(english_doc()) == "ltr"
    fa = english_doc().model_copy(update={"language": Language(code="fa", name="Persian", confidence=0.9)})
    assert views.text_direction(fa) == "rtl"
    assert views.text_direction(Document(id="x", text="?")) == "auto"


def test_article_view_data(store, settings):
    save(store, settings, arabic_doc())
    v = views.article_view(store, "ar-1")
    assert v["dir"] == "rtl" and v["lang"] == "ar"
    assert {e["canonical_id"] for e in v["entities"]} >= {"geonames:98182", "wikidata:Q1065"}
    assert v["labels"] == ["LOC", "ORG", "PERSON"]
    assert views.article_view(store, "missing") is None


def test_articles_view_filters_by_language_topic_entity_and_id(store, settings):
    save(store, settings, arabic_doc("ar-1"))
    save(store, settings, english_doc("en-1"))
    save(store, settings, english_doc("en-2", "Nothing about places."))
    assert [r.id for r in views.articles_view(store)["rows"]] == ["en-2", "en-1", "ar-1"]
    assert [r.id for r in views.articles_view(store, language="ar")["rows"]] == ["ar-1"]
    assert [r.id for r in views.articles_view(store, topic="politics")["rows"]] == ["ar-1"]
    assert [r.id for r in views.articles_view(store, entity="london")["rows"]] == ["en-1"]
    assert [r.id for r in views.articles_view(store, entity="wikidata:Q1065")["rows"]] == ["ar-1"]
    assert [r.id for r in views.articles_view(store, q="en-")["rows"]] == ["en-2", "en-1"]
    listing = views.articles_view(store, q="en-1")
    assert listing["exact_id"] == "en-1"
    assert listing["languages"] == ["ar", "en"]


def test_articles_view_shows_the_newest_version_once(store, settings):
    save(store, settings, english_doc("en-1"))
    newer = english_doc("en-1").model_copy(update={"title": "Markets (updated)"})
    save(store, settings, newer)
    rows = views.articles_view(store)["rows"]
    assert [(r.id, r.title) for r in rows] == [("en-1", "Markets (updated)")]


def test_chart_bars_scale_to_the_peak():
    chart = views.chart_bars([0, 2, 4], width=30, height=22)
    assert [b["h"] for b in chart["bars"]] == [0.0, 10.0, 20.0]
    assert chart["peak"] == 4 and chart["total"] == 6
    assert all(b["h"] == 0 for b in views.chart_bars([0, 0])["bars"])


# -- pages ----------------------------------------------------------------------------------


def test_article_page_is_rtl_and_marks_sit_on_the_entity_offsets(console, store, settings):
    doc = arabic_doc()
    save(store, settings, doc)
    page = console.get("/articles/ar-1")
    assert page.status_code == 200
    parser = _Marks()
    parser.feed(page.text)
    assert parser.article_attrs["dir"] == "rtl" and parser.article_attrs["lang"] == "ar"
    assert parser.text == doc.text  # the rendered text is the clean text, character for character
    assert len(parser.marks) == len(doc.entities)
    for mark in parser.marks:
        start, end = int(mark["data-start"]), int(mark["data-end"])
        assert mark["inner"] == doc.text[start:end]
    for needle in ("Arabic", "0.98", "politics", "0.91", "geonames:98182", "read_also.ar", "/articles/ar-0", "clean"):
        assert needle in page.text


def test_untrusted_text_is_escaped_everywhere(console, store, settings):
    evil = "<script>document.title='pwned'</script><img src=x onerror=alert(1)>"
    doc = english_doc("evil-1", f"Before {evil} after, in London.")
    doc.title = evil
    doc.entities.append(Entity(text=evil, label="MISC", start=7, end=7 + len(evil), canonical_id=evil))
    doc.topics.append(Topic(code="x", label=evil, score=0.5))
    doc.removed.append(RemovedBlock(text=evil, reason=evil, rule=evil))
    save(store, settings, doc)
    for url in ("/articles/evil-1", "/articles", "/articles?entity=%3Cscript"):
        page = console.get(url)
        assert page.status_code == 200
        assert "<script" not in page.text and "<img" not in page.text
    page = console.get("/articles/evil-1")
    assert html.escape("<script>document.title=", quote=False) in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none' forbids scripts
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_id_search_opens_the_article(console, store, settings):
    save(store, settings, english_doc("en-1"))
    reply = console.get("/articles?q=en-1", follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == "/articles/en-1"
    assert console.get("/articles/nope").status_code == 404


def test_ids_with_slashes_open(console, store, settings):
    save(store, settings, english_doc("parent/part1"))
    assert console.get("/articles/parent/part1").status_code == 200


def test_pipeline_page_shows_stages_charts_and_refreshes(console, store, settings):
    save(store, settings, english_doc())
    page = console.get("/")
    assert page.status_code == 200
    assert 'http-equiv="refresh"' in page.text
    for stage in keys.QUEUE_STAGES:
        assert f'data-stage="{stage}"' in page.text
    assert page.text.count("<svg") == len(keys.QUEUE_STAGES)
    data = console.get("/api/status").json()
    assert data["store_size"] == 1 and data["ok"] is True


def _letter(doc: Document) -> DeadLetter:
    return DeadLetter(article_id=doc.id, stage="clean", error_type="StageError", code="E200",
                      message="<b>bad</b> input", failed_at="2026-01-01T00:00:00Z",
                      payload=doc.model_dump_json(), remaining=[])


def test_dead_letters_list_detail_and_replay_through_workers_replay(client, app, store, settings, monkeypatch):
    from workers import replay as replay_mod

    doc = Document(id="dl-1", body="Ministers met in Cairo on Sunday to discuss water.")
    entry = deadletters.add(store, settings, _letter(doc))
    console = TestClient(create_console(app, inspect_timeout_s=0.2))
    listing = console.get("/dead-letters")
    assert entry in listing.text and "&lt;b&gt;bad&lt;/b&gt;" in listing.text
    detail = console.get(f"/dead-letters/{entry}")
    assert "Ministers met in Cairo" in detail.text and "E200" in detail.text
    calls = []
    real = replay_mod.replay
    monkeypatch.setattr(replay_mod, "replay", lambda a, ids=None: calls.append(ids) or real(a, ids))
    reply = console.post(f"/dead-letters/{entry}/replay", follow_redirects=False)
    assert reply.status_code == 303 and calls == [[entry]]
    stored = client.wait("dl-1", timeout_s=30)  # re-entered at clean and reached the store
    assert "Cairo" in stored.text
    assert deadletters.get_letter(store, entry) is None
    assert console.post(f"/dead-letters/{entry}/replay").status_code == 404


def test_cross_site_post_is_refused(console, store, settings):
    entry = deadletters.add(store, settings, _letter(Document(id="dl-2", body="x y z")))
    reply = console.post(f"/dead-letters/{entry}/replay", headers={"origin": "http://evil.example"})
    assert reply.status_code == 403
    assert deadletters.get_letter(store, entry) is not None


def test_token_protects_every_route(app):
    console = TestClient(create_console(app, token="s3cret", inspect_timeout_s=0.2))
    assert console.get("/").status_code == 401
    assert console.get("/articles", params={"token": "wrong"}).status_code == 401
    assert console.get("/", headers={"authorization": "Bearer s3cret"}).status_code == 200
    reply = console.get("/articles?token=s3cret&language=ar", follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == "/articles?language=ar"
    assert TOKEN_COOKIE in reply.headers["set-cookie"] and "httponly" in reply.headers["set-cookie"].lower()
    assert console.get("/articles").status_code == 200  # the cookie now carries the token


def test_store_down_is_a_clear_page_not_a_traceback(clean_env):
    app = create_app(Settings(broker_url="redis://:pw@127.0.0.1:1/0"))
    console = TestClient(create_console(app, inspect_timeout_s=0.2), raise_server_exceptions=True)
    page = console.get("/")
    assert page.status_code == 503 and "unreachable" in page.text and "pw@" not in page.text
    page = console.get("/articles")
    assert page.status_code == 503 and "Store unavailable" in page.text
    assert console.get("/api/status").json()["ok"] is False


def test_console_refuses_to_bind_beyond_loopback_without_a_token(clean_env):
    result = CliRunner().invoke(main, ["console", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "NEWSFLOW_CONSOLE_TOKEN" in result.output


def test_console_and_status_are_registered_commands():
    assert {"status", "console"} <= set(main.commands)


@pytest.mark.redis
def test_console_on_a_live_redis_run(redis_client_api, redis_app, redis_store, redis_settings):
    """Distributed: a worker on the Redis broker stores an article; the console shows it and the worker."""
    article_id = redis_client_api.submit({"body": "Talks in Amman ended on Tuesday.", "id": "live-1"},
                                         stages=["clean"])
    redis_client_api.wait(article_id, timeout_s=30)
    save(redis_store, redis_settings, arabic_doc("live-ar"))
    console = TestClient(create_console(redis_app, inspect_timeout_s=2.0))
    listing = console.get("/articles")
    assert "live-1" in listing.text and "live-ar" in listing.text
    page = console.get("/articles/live-ar")
    assert 'dir="rtl"' in page.text and 'lang="ar"' in page.text
    data = console.get("/api/status").json()
    assert data["ok"] is True and data["mode"] == "distributed"
    assert data["workers"] and "clean" in data["workers"][0]["stages"]
    assert {s["stage"]: s["queue_depth"] for s in data["stages"]}["clean"] == 0
