"""A real Celery chain across the per-stage queues, on the memory transport."""

import json

import pytest

from pipeline.models import Document, RemovedBlock
from workers import keys
from workers import store as store_mod
from workers.flow import build_chain


def test_chain_runs_every_stage_and_stores_the_document(client, store):
    article_id = client.submit({"body": "Hello   world.\n\n\nSecond paragraph.", "id": "a-1", "title": "T"})
    doc = client.wait(article_id, 20)
    assert doc.id == "a-1" and doc.title == "T"
    assert doc.text.startswith("Hello world.")
    assert doc.stages_done() == ["clean", "language", "entities", "topics"]
    assert doc.body is None  # the raw body does not travel past clean
    # Every stage published exactly one event carrying the article id.
    for stage in ["clean", "language", "entities", "topics", "done"]:
        entries = store.xrange(keys.events_stream(stage))
        assert [e[1]["id"] for e in entries] == ["a-1"], stage
    event_doc = Document.model_validate_json(store.xrange(keys.events_stream("language"))[0][1]["doc"])
    assert event_doc.stages_done() == ["clean", "language"]


def test_each_signature_names_its_own_queue(app):
    chain = build_chain(app, {"id": "x", "body": "b"}, ["clean", "language"])
    queues = [sig.options.get("queue") for sig in chain.tasks]
    assert queues == ["newsflow.clean", "newsflow.language", "newsflow.store"]


def test_stage_prefix_stops_early_but_still_stores(client):
    article_id = client.submit({"body": "Only clean me.", "id": "p-1"}, stages=["clean"])
    assert client.wait(article_id, 20).stages_done() == ["clean"]


def test_redelivered_stage_message_changes_nothing(app, worker, store):
    """At-least-once: running the same message twice emits one event and one result."""
    task = app.tasks[keys.task_name("clean")]
    payload = Document(id="r-1", body="Redelivered  text.").model_dump(mode="json")
    first = task.apply(args=(payload,)).get()
    second = task.apply(args=(payload,)).get()
    assert first == second
    assert len(store.xrange(keys.events_stream("clean"))) == 1


def test_changed_content_under_the_same_id_is_recomputed(app, worker, store):
    task = app.tasks[keys.task_name("clean")]
    task.apply(args=(Document(id="c-1", body="Version one.").model_dump(mode="json"),))
    out = task.apply(args=(Document(id="c-1", body="Version two.").model_dump(mode="json"),)).get()
    assert out["text"] == "Version two."


def test_bad_article_goes_to_dead_letters_and_the_worker_keeps_going(client, store):
    bad = client.submit({"body": "<script>x()</script>", "content_type": "text/html", "id": "bad-1"})
    good = client.submit({"body": "Fine article.", "id": "good-1"})
    assert client.wait(good, 20).text == "Fine article."
    letter = client.result(bad, 20)
    assert letter.stage == "clean" and letter.code == "E211"
    assert "no article text after cleaning" in letter.message
    assert json.loads(letter.payload)["body"] == "<script>x()</script>"
    assert letter.remaining == ["language", "entities", "topics"]
    assert store.get(keys.doc_key(bad)) is None


def test_forged_payload_is_dead_lettered_not_crashing(app, worker, client, store):
    """A producer bypassing the client: wrong types reach the worker and are kept."""
    app.signature(keys.task_name("clean"), args=({"id": "f-1", "body": 12},), queue="newsflow.clean").apply_async()
    app.signature(keys.task_name("clean"), args=("not a dict",), queue="newsflow.clean").apply_async()
    ok = client.submit({"body": "Still alive.", "id": "alive"})
    assert client.wait(ok, 20).text == "Still alive."
    dead = store.xrange(keys.DEAD_STREAM)
    assert {e[1]["error_type"] for e in dead} >= {"ValidationError", "InvalidArticle"}


def test_unexpected_errors_are_retried_then_dead_lettered(client, store, monkeypatch):
    calls = []

    def broken(doc):
        calls.append(doc.id)
        raise RuntimeError("model file corrupt")

    from pipeline import registry

    stage = registry._REGISTRY["language"]
    monkeypatch.setitem(registry._REGISTRY, "language", stage.__class__(stage.name, stage.version, broken))
    letter = client.result(client.submit({"body": "Boom.", "id": "boom"}), 20)
    assert letter.error_type == "RuntimeError" and "model file corrupt" in letter.message
    assert letter.attempts == 3  # 1 try + max_retries=2 in the language task itself
    assert len(calls) == 4  # plus the first, inline try right after clean (stage fusing)
    assert "Traceback" in letter.traceback


def test_ingest_task_validates_and_starts_the_chain(app, client, store):
    app.signature(keys.task_name("ingest"), args=({"body": "From a Go producer.", "id": "go-1"},),
                  queue="newsflow.clean").apply_async()
    assert client.wait("go-1", 20).text == "From a Go producer."
    app.signature(keys.task_name("ingest"), args=({"title": "no body", "id": "go-2"},),
                  queue="newsflow.clean").apply_async()
    letter = client.result("go-2", 20)
    assert letter.stage == "ingest" and "body: Field required" in letter.message


def test_split_off_articles_run_the_whole_pipeline(client, monkeypatch):
    from pipeline import registry

    stage = registry._REGISTRY["clean"]

    def clean_and_split(doc):
        doc = stage.func(doc)
        if doc.derived_from is None and not doc.derived_ids:
            doc.removed.append(RemovedBlock(text="Second story.", reason="appended article",
                                            rule="test.split", split_off=True, split_id=f"{doc.id}/part1"))
            doc.derived_ids.append(f"{doc.id}/part1")
        return doc

    monkeypatch.setitem(registry._REGISTRY, "clean", stage.__class__("clean", stage.version, clean_and_split))
    parent = client.wait(client.submit({"body": "Main story.", "id": "parent"}), 20)
    child = client.wait("parent/part1", 20)
    assert parent.derived_ids == ["parent/part1"]
    assert child.derived_from == "parent" and child.text == "Second story."
    assert child.stages_done() == ["clean", "language", "entities", "topics"]


def test_fused_stages_still_publish_every_event_and_checkpoint(client, store, app):
    """Stages a worker runs inline (no broker hop) keep their per-stage events."""
    assert app.newsflow_inline_stages  # the embedded worker serves every stage
    client.wait(client.submit({"body": "Fused run.", "id": "fz-1"}), 20)
    for stage in ["clean", "language", "entities", "topics", "done"]:
        assert [e[1]["id"] for e in store.xrange(keys.events_stream(stage))] == ["fz-1"], stage
    assert len(list(store.scan_iter(match="newsflow:ckpt:fz-1:*"))) == 5


def test_without_fusing_every_stage_is_its_own_message(clean_env, store):
    from workers.app import create_app
    from workers.client import Client
    from workers.embedded import embedded_worker
    from workers.settings import Settings

    settings = Settings(fuse_stages=False)
    app = create_app(settings)
    with embedded_worker(app):
        doc = Client(settings, app).wait(Client(settings, app).submit({"body": "Hop by hop.", "id": "h-1"}), 20)
    assert app.newsflow_inline_stages is None
    assert doc.stages_done() == ["clean", "language", "entities", "topics"]


def test_an_inline_failure_commits_the_stages_before_it(client, store, monkeypatch):
    """A fused run writes its outputs at the end; a stage failing inline must not lose them."""
    from pipeline import registry

    stage = registry._REGISTRY["entities"]
    calls = []

    def flaky(doc):
        calls.append(doc.id)
        if len(calls) == 1:
            raise RuntimeError("transient model hiccup")
        return stage.func(doc)

    monkeypatch.setitem(registry._REGISTRY, "entities", stage.__class__(stage.name, stage.version, flaky))
    doc = client.wait(client.submit({"body": "Fails once inline.", "id": "fl-1"}), 20)
    assert doc.stages_done() == ["clean", "language", "entities", "topics"]
    assert len(calls) == 2  # the inline try, then the entities task from its own queue
    for name in ["clean", "language", "entities", "topics", "done"]:
        assert [e[1]["id"] for e in store.xrange(keys.events_stream(name))] == ["fl-1"], name


def test_a_failed_store_transaction_writes_no_stage_output(settings, store, monkeypatch):
    """Stage outputs that ride in the store's transaction are all-or-nothing with it."""
    from workers import events

    def broken_publish(pipe, stage, fields, maxlen):
        if stage == "done":
            raise ConnectionError("store went away")
        pipe.xadd(keys.events_stream(stage), fields, maxlen=maxlen, approximate=True)

    monkeypatch.setattr(events, "publish", broken_publish)
    out = store_mod.StageOutput("topics", "1-x", "tx-1", '{"id":"tx-1"}', 1.0)
    with pytest.raises(ConnectionError):
        store_mod.save_document(store, settings, '{"id":"tx-1"}', "tx-1", outputs=[out])
    assert store.xrange(keys.events_stream("topics")) == []
    assert store_mod.get_checkpoint(store, "tx-1", "topics", "1-x") is None
