"""The producer API: validation before enqueue, ids, waiting."""

import pytest

from pipeline.errors import ArticleFailed, InvalidArticle, WaitTimeout
from pipeline.ids import article_id
from pipeline.models import ArticleIn
from workers import keys
from workers.client import Client


def _queued(app) -> int:
    with app.connection() as conn:
        return sum(conn.default_channel.queue_declare(keys.queue(s), passive=True).message_count
                   for s in keys.QUEUE_STAGES)


def test_invalid_batch_enqueues_nothing(app, store):
    client = Client(app.newsflow_settings, app)  # no worker: count what is queued
    with pytest.raises(InvalidArticle) as err:
        client.submit_many([{"body": "ok"}, {"body": ""}, {"body": "ok too"}])
    assert "article #2" in str(err.value) and "body is empty" in str(err.value)
    assert _queued(app) == 0


def test_oversized_article_is_rejected_at_submit(clean_env, store):
    from workers.app import create_app
    from workers.settings import Settings

    settings = Settings(max_article_bytes=100)
    client = Client(settings, create_app(settings))
    with pytest.raises(InvalidArticle) as err:
        client.submit({"body": "x" * 101})
    assert "over the 100-byte limit" in str(err.value)


def test_ids_are_the_producers_or_a_content_hash(client):
    assert client.submit({"body": "Text one.", "id": "mine-1"}) == "mine-1"
    first = client.submit({"body": "Same  text."})
    again = client.submit({"body": "Same text. "})  # whitespace differences: same article
    assert first == again == article_id(ArticleIn(body="Same text."))
    assert client.wait(first, 20).id == first


def test_wait_times_out_with_advice(app, store):
    client = Client(app.newsflow_settings, app)
    client.submit({"body": "No worker runs.", "id": "t-1"})
    with pytest.raises(WaitTimeout) as err:
        client.wait("t-1", timeout_s=0.2)
    assert "newsflow worker" in str(err.value)


def test_wait_reports_a_dead_letter(client):
    with pytest.raises(ArticleFailed) as err:
        client.wait(client.submit({"body": "<style>x</style>", "content_type": "text/html", "id": "d-1"}), 20)
    assert "newsflow dlq show" in str(err.value) and "clean" in str(err.value)
