"""End to end: the console served by uvicorn over an embedded run, driven by headless Chromium.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them). Skips
locally when they are missing; fails under ``CI=true``.

The seed article (pipeline/samples/aggregator-ar.txt) goes through the real clean stage
on an embedded worker. Language, entities and topics are then set from a fixture with
entities at known offsets (two right after a clitic), so this test checks the console,
not the state of those models.

Set ``NEWSFLOW_UPDATE_SCREENSHOTS=1`` to refresh docs/console-article.png from this run.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from pipeline.models import ArticleIn, Entity, Language, Topic
from workers import store as store_mod
from workers.app import create_app
from workers.client import Client
from workers.connection import redis_client, reset_clients
from workers.console.web import create_console
from workers.embedded import embedded_worker
from workers.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "pipeline" / "samples" / "aggregator-ar.txt"
SCREENSHOT = ROOT / "docs" / "console-article.png"
# Read at import: the served fixture hides NEWSFLOW_* variables from the run it starts.
UPDATE_SCREENSHOTS = os.environ.get("NEWSFLOW_UPDATE_SCREENSHOTS") == "1"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,1000", "--lang=en-US",
]

# (mention, label, what precedes it in the clean text, canonical id)
SEED_ENTITIES = [
    ("وزارة الخارجية العراقية", "ORG", "أعلنت ", None),
    ("فؤاد حسين", "PERSON", "الخارجية ", "wikidata:Q5511837"),
    ("واشنطن", "LOC", "إلى ", "geonames:4140963"),
    ("الولايات المتحدة", "LOC", "مع ", "iso3166:US"),
    ("بغداد", "LOC", " ب", "geonames:98182"),  # ببغداد: the preposition is not the city
    ("عام 2008", "DATE", "الموقعة ", None),
    ("محمد شياع السوداني", "PERSON", "برئاسة ", "wikidata:Q1984297"),
    ("واشنطن", "LOC", "مع ", "geonames:4140963"),  # second mention: the و is part of the name
    ("طهران", "LOC", " و", "geonames:112931"),  # وطهران: the conjunction is not the city
    ("الأمم المتحدة", "ORG", "رحبت ", "wikidata:Q1065"),
    ("العراق", "LOC", "في ", "iso3166:IQ"),
    ("سوريا", "LOC", " و", "iso3166:SY"),  # وسوريا
]

SCRIPT_BODY = (
    "Breaking news from London today, where markets moved sharply.\n\n"
    '<script>window.__pwned = 1; document.title = "pwned";</script>\n\n'
    "The market closed higher on Monday after a volatile session in the City of London."
)


def _tools(unavailable) -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        chromium = None
    if not (chromium and driver):
        unavailable("the browser test needs chromium, chromium-driver "
                    "(apt-get install chromium chromium-driver) and selenium")
    return chromium, driver


def _annotate_seed(doc):
    """Language, topics and entities at exact offsets (found after the given left context)."""
    entities = []
    for mention, label, before, canonical in SEED_ENTITIES:
        found = doc.text.find(before + mention)
        if found < 0:
            pytest.fail(f"the cleaned seed no longer contains {before + mention!r}: update SEED_ENTITIES")
        start = found + len(before)
        entities.append(Entity(text=mention, label=label, start=start, end=start + len(mention),
                               canonical_id=canonical))
    if doc.language is None:
        doc.language = Language(code="ar", name="Arabic", confidence=0.99, script="Arab", reliable=True,
                                decided_by="test fixture")
    doc.entities = sorted(entities, key=lambda e: e.start)
    doc.topics = doc.topics or [Topic(code="11000000", label="politics", score=0.93),
                                Topic(code="16000000", label="conflict, war and peace", score=0.41)]
    return doc


@pytest.fixture(scope="module")
def served(tmp_path_factory, free_port):
    """An embedded run (worker + fakeredis) with the seed and a <script> article, served over HTTP."""
    import uvicorn

    saved_env = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("NEWSFLOW_")}
    reset_clients()
    settings = Settings()
    app = create_app(settings)
    with embedded_worker(app):
        client = Client(settings, app)
        seed_id = client.submit(ArticleIn(body=SEED.read_text(encoding="utf-8"), source="aggregator-ar"),
                                stages=["clean"])
        seed = _annotate_seed(client.wait(seed_id, timeout_s=60))
        store_mod.save_document(redis_client(settings), settings, seed.model_dump_json(), seed.id)
        script_id = client.submit(
            ArticleIn(id="script-1", title='<script>document.title="pwned-title"</script>', body=SCRIPT_BODY),
            stages=["clean"],
        )
        script_doc = client.wait(script_id, timeout_s=60)
        assert "<script>" in script_doc.text, "the clean stage no longer keeps the tag as text; adapt the test"

        server = uvicorn.Server(uvicorn.Config(create_console(app, inspect_timeout_s=0.2), host="127.0.0.1",
                                               port=free_port(), log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "uvicorn did not start"
        base = f"http://127.0.0.1:{server.config.port}"
        try:
            yield {"base": base, "seed": seed, "script": script_doc}
        finally:
            server.should_exit = True
            thread.join(10)
    reset_clients()
    os.environ.update(saved_env)


@pytest.fixture(scope="module")
def browser(tmp_path_factory, unavailable):
    """Headless Debian Chromium through chromedriver (nothing is downloaded)."""
    chromium, chromedriver = _tools(unavailable)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


# Offset of each mark inside #text, measured by the browser on the rendered DOM.
MARKS_JS = """
const c = document.getElementById('text');
return Array.from(c.querySelectorAll('mark')).map(m => {
  const r = document.createRange(); r.setStart(c, 0); r.setEndBefore(m);
  return {offset: r.toString().length, text: m.textContent, start: +m.dataset.start,
          end: +m.dataset.end, label: m.dataset.label};
});
"""

FIRST_CHAR_JS = """
const c = document.getElementById('text');
const node = document.createTreeWalker(c, NodeFilter.SHOW_TEXT).nextNode();
const r = document.createRange(); r.setStart(node, 0); r.setEnd(node, 1);
const ch = r.getBoundingClientRect(), box = c.getBoundingClientRect();
return {charLeft: ch.left, charRight: ch.right, boxLeft: box.left, boxRight: box.right};
"""


def test_article_view_renders_right_to_left(served, browser):
    seed = served["seed"]
    browser.get(f"{served['base']}/articles/{seed.id}")
    text = browser.find_element("id", "text")
    assert text.get_attribute("dir") == "rtl" and text.get_attribute("lang") == "ar"
    assert browser.execute_script("return getComputedStyle(document.getElementById('text')).direction") == "rtl"
    geometry = browser.execute_script(FIRST_CHAR_JS)
    # The first character of an RTL paragraph sits at the right edge of the box.
    assert geometry["boxRight"] - geometry["charRight"] < 40
    assert geometry["charLeft"] - geometry["boxLeft"] > (geometry["boxRight"] - geometry["boxLeft"]) / 2
    if UPDATE_SCREENSHOTS:
        SCREENSHOT.parent.mkdir(exist_ok=True)
        browser.save_screenshot(str(SCREENSHOT))


def test_entity_marks_sit_on_the_right_words(served, browser):
    seed = served["seed"]
    browser.get(f"{served['base']}/articles/{seed.id}")
    assert browser.find_element("id", "text").get_property("textContent") == seed.text
    marks = browser.execute_script(MARKS_JS)
    assert len(marks) == len(seed.entities)
    for mark, entity in zip(marks, seed.entities):
        assert mark["text"] == seed.text[entity.start:entity.end] == entity.text
        assert mark["offset"] == entity.start == mark["start"]
        assert mark["end"] == entity.end and mark["label"] == entity.label
    by_text = {m["text"]: m for m in marks}
    # After the clitic: the ب of ببغداد and the و of وطهران stay outside the mark.
    assert seed.text[by_text["بغداد"]["offset"] - 1] == "ب"
    assert seed.text[by_text["طهران"]["offset"] - 1] == "و"


def test_script_in_an_article_is_shown_as_text_and_does_not_run(served, browser):
    browser.get(f"{served['base']}/articles/script-1")
    assert browser.execute_script("return window.__pwned === undefined")
    assert browser.title.startswith('<script>document.title="pwned-title"</script>')  # shown, not run
    assert browser.execute_script("return document.getElementsByTagName('script').length") == 0
    shown = browser.find_element("id", "text").text
    assert '<script>window.__pwned = 1; document.title = "pwned";</script>' in shown
    assert '<script>document.title="pwned-title"</script>' in browser.find_element("tag name", "h1").text
    browser.get(f"{served['base']}/articles")
    assert browser.execute_script("return window.__pwned === undefined")
    assert browser.title == "Articles · newsflow"


def test_pipeline_view_loads_in_the_browser(served, browser):
    browser.get(served["base"] + "/")
    rows = browser.find_elements("css selector", "#stages tr[data-stage]")
    assert [r.get_attribute("data-stage") for r in rows] == ["clean", "language", "entities", "topics", "store"]
    assert len(browser.find_elements("css selector", "svg.chart")) == 5
