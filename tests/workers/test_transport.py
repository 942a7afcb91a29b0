"""A non-message on a Redis queue is dead-lettered; the worker lives on."""

from __future__ import annotations

import json
import time

import pytest

from workers import deadletters, keys
from workers.replay import replay, replay_letter
from workers.transport import QUARANTINE_TASK, tolerant_loads
from pipeline.errors import InvalidArticle


def test_valid_json_passes_through_untouched():
    envelope = {"body": "e30=", "properties": {"delivery_tag": "t"}, "headers": {}}
    assert tolerant_loads(json.dumps(envelope)) == envelope
    assert tolerant_loads('[{"body": "x"}, "ex", "rk"]') == [{"body": "x"}, "ex", "rk"]  # kombu's unacked records


@pytest.mark.parametrize("raw, reason", [
    ("not json at all", "not JSON"),
    (b"\xff\xfe\x00binary", "not JSON"),
    ('{"id": "x", "body": "an ArticleIn, not a message"}', "not a message envelope"),
    ("42", "not a message envelope"),
])
def test_a_non_message_becomes_a_quarantine_message(raw, reason):
    message = tolerant_loads(raw)
    assert message["headers"]["task"] == QUARANTINE_TASK
    import base64

    (args, _kwargs, _embed) = json.loads(base64.b64decode(message["body"]))
    assert reason in args[1]
    assert args[0].startswith(raw.decode("utf-8", "replace")[:5] if isinstance(raw, bytes) else raw[:5])


@pytest.mark.redis
def test_garbage_on_a_queue_is_dead_lettered_and_the_worker_goes_on(redis_client_api, redis_store, redis_app):
    redis_store.lpush(keys.queue("clean"), "not json at all")
    redis_store.lpush(keys.queue("entities"), '{"id": "x", "body": "raw ArticleIn"}')
    doc = redis_client_api.wait(redis_client_api.submit({"id": "after-garbage", "body": "Still working."}), 30)
    assert doc.text == "Still working."
    deadline = time.monotonic() + 30
    while redis_store.xlen(keys.DEAD_STREAM) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    letters = [letter for _e, letter in deadletters.list_letters(redis_store)]
    assert sorted(json.loads(l.payload) for l in letters) == ['not json at all', '{"id": "x", "body": "raw ArticleIn"}']
    assert {(l.stage, l.code) for l in letters} == {("quarantine", "E108")}
    assert replay(redis_app) == []  # nothing to replay; they stay listed
    with pytest.raises(InvalidArticle, match="nothing to replay"):
        replay_letter(redis_app, letters[0])
