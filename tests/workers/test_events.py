"""Event streams: trimmed, ordered, readable by consumers that come later."""

import json

from workers import events, keys


def test_streams_are_trimmed_to_about_maxlen(store):
    for i in range(500):
        events.publish(store, "clean", events.event_fields("clean", "{}", f"a{i}", "1", 1.0), maxlen=50)
    # Approximate trimming keeps at least maxlen and far fewer than everything.
    assert 50 <= store.xlen(keys.events_stream("clean")) < 500


def test_follow_from_start_sees_earlier_events_in_order(store):
    for i in range(3):
        events.publish(store, "language", events.event_fields("language", json.dumps({"text": "abc"}), f"id{i}", "1", 2.0), 100)
    seen = [(stage, fields["id"]) for stage, _e, fields in
            events.follow(store, ["language"], from_start=True, block_ms=50, stop_after_idle_s=0.1)]
    assert seen == [("language", "id0"), ("language", "id1"), ("language", "id2")]


def test_follow_live_skips_history_and_sees_new_events(store):
    events.publish(store, "done", events.event_fields("done", "{}", "old", "1", None), 100)
    stream = events.follow(store, ["done"], block_ms=50, stop_after_idle_s=0.3)
    events.publish(store, "done", events.event_fields("done", "{}", "new", "1", None), 100)
    assert [fields["id"] for _s, _e, fields in stream] == ["new"]


def test_summary_is_compact():
    doc = {"text": "abcd", "language": {"code": "ar"}, "entities": [{}, {}], "topics": [{"label": "politics"}]}
    info = events.summarize({"id": "x", "stage": "topics", "ms": "3.000", "doc": json.dumps(doc)})
    assert info == {"id": "x", "stage": "topics", "ms": "3.000", "language": "ar", "entities": 2,
                    "topics": ["politics"], "chars": 4}
