"""The store against fakeredis: idempotent writes, checkpoints and duplicate lookups."""

from pipeline.models import Document, Duplicate
from workers import keys, store


def _doc(article_id="s-1", text="Some text.", **kw):
    return Document(id=article_id, text=text, **kw)


def test_save_is_idempotent_by_id(settings, store):
    doc = _doc()
    assert store_save(settings, store, doc) is True
    assert store_save(settings, store, doc) is False  # same content: no second done event
    assert len(store.xrange(keys.DONE_STREAM)) == 1
    assert store.ttl(keys.doc_key("s-1")) > 0
    assert store_get(store, "s-1") == doc


def test_a_new_version_of_a_document_is_stored_and_announced(settings, store):
    store_save(settings, store, _doc(text="v1"))
    store_save(settings, store, _doc(text="v2"))
    assert store_get(store, "s-1").text == "v2"
    assert [e[1]["id"] for e in store.xrange(keys.DONE_STREAM)] == ["s-1", "s-1"]


def test_missing_document_is_none(store):
    assert store.get(keys.doc_key("nope")) is None
    assert store_get(store, "nope") is None


def test_checkpoint_and_event_are_written_together(settings, store):
    from workers import store as st

    st.commit_stages(store, settings, [st.StageOutput("clean", "1-abc", "s-1", '{"x":1}', 1.5)])
    assert st.get_checkpoint(store, "s-1", "clean", "1-abc") == '{"x":1}'
    (entry,) = store.xrange(keys.events_stream("clean"))
    assert entry[1]["id"] == "s-1" and entry[1]["ms"] == "1.500" and entry[1]["doc"] == '{"x":1}'


def test_exact_duplicates_are_recognised(settings, store):
    a = _doc("a", duplicate=Duplicate(content_key="k1"))
    b = _doc("b", duplicate=Duplicate(content_key="k1"))
    assert st_mark(settings, store, a).seen_before is False
    dup = st_mark(settings, store, b)
    assert dup.seen_before is True and dup.near_duplicate_of == "a"
    # The first article is not a duplicate of itself when redelivered.
    assert st_mark(settings, store, a).seen_before is False


def store_save(settings, client, doc):
    return store.save_document(client, settings, doc.model_dump_json(), doc.id)


def store_get(client, article_id):
    return store.get_document(client, article_id)


def st_mark(settings, client, doc):
    return store.mark_duplicates(client, settings, doc)


def test_near_duplicates_are_confirmed_by_signature_similarity(settings, store):
    from pipeline.ids import content_key
    from pipeline.text.neardup import signature

    base = ("The foreign minister will travel to Washington next week for talks on security "
            "cooperation, the ministry said on Tuesday, adding that advisers would be reduced. ") * 4
    edited = base.replace("Tuesday", "Wednesday", 1)
    other = "Oil prices rose sharply in Asian trading after the producers' meeting ended without a deal. " * 4

    def doc(article_id, text):
        return _doc(article_id, text, duplicate=Duplicate(content_key=content_key(text), signature=signature(text)))

    assert st_mark(settings, store, doc("a", base)).near_duplicate_of is None
    near = st_mark(settings, store, doc("b", edited))
    assert near.seen_before is False and near.near_duplicate_of == "a"
    assert st_mark(settings, store, doc("c", other)).near_duplicate_of is None
