"""The producer API: submit, submit_many, get and wait."""

from __future__ import annotations

import time
from typing import Iterable

from celery import Celery
from kombu.exceptions import OperationalError

from pipeline.errors import ArticleFailed, BrokerUnavailable, InvalidArticle, WaitTimeout
from pipeline.ids import article_id
from pipeline.intake import parse_article
from pipeline.models import ArticleIn, DeadLetter, Document
from pipeline.registry import pipeline_through
from workers import deadletters, keys, ledger, store
from workers.app import create_app
from workers.connection import redis_client
from workers.settings import Settings, get_settings, mask_secrets


class SubmitError(BrokerUnavailable):
    """Publishing failed part-way; ``sent_ids`` lists the articles that did reach the broker."""

    def __init__(self, message: str, *, sent_ids: list[str], hint: str = ""):
        super().__init__(message, hint=hint)
        self.sent_ids = sent_ids


class Client:
    """Submit articles and read results. Validation always happens before anything is enqueued."""

    def __init__(self, settings: Settings | None = None, app: Celery | None = None):
        self.settings = settings or (app.newsflow_settings if app is not None else get_settings())
        self.app = app or create_app(self.settings)

    @property
    def redis(self):
        """The store/events Redis client."""
        return redis_client(self.settings)

    # -- producing ---------------------------------------------------------------------

    def validate(self, article: ArticleIn | dict | str | bytes) -> ArticleIn:
        """``article`` as a validated ArticleIn, or :class:`InvalidArticle` with one clear line."""
        return parse_article(article, max_bytes=self.settings.max_article_bytes)

    def prepare(self, article: ArticleIn | dict | str | bytes) -> Document:
        """Validate ``article`` and wrap it in the Document that enters the first stage."""
        parsed = self.validate(article)
        return Document.from_article(parsed, article_id(parsed))

    def submit(self, article: ArticleIn | dict | str | bytes, *, stages: list[str] | None = None) -> str:
        """Validate and enqueue one article; returns its id."""
        return self.submit_many([article], stages=stages)[0]

    def submit_many(
        self, articles: Iterable[ArticleIn | dict | str | bytes], *, stages: list[str] | None = None
    ) -> list[str]:
        """Validate every article, then publish them over one connection; returns their ids.

        Nothing is published when any article is invalid (:class:`InvalidArticle` names
        its position). A broker failure part-way raises :class:`SubmitError` with the ids
        that were sent.
        """
        docs = []
        for index, article in enumerate(articles):
            try:
                docs.append(self.prepare(article))
            except InvalidArticle as exc:
                raise InvalidArticle(f"article #{index + 1}: {exc.message}", hint=exc.hint, code=exc.code) from None
        return self.publish(docs, stages=stages)

    def publish(self, docs: list[Document], *, stages: list[str] | None = None) -> list[str]:
        """Publish already-prepared Documents (pipelined on one producer connection).

        Each article enters the in-flight ledger first (:mod:`workers.ledger`), so one
        that the broker loses later is published again; the ones a broker failure kept
        from going out leave the ledger again.
        """
        run = pipeline_through(stages)
        sent: list[str] = []
        if not docs:
            return sent
        items = [(doc.model_dump(mode="json"), run) for doc in docs]
        # A resubmission must not be reported failed by an older dead letter.
        self.redis.delete(*(keys.dead_index_key(d.id) for d in docs))
        try:
            with self.app.producer_or_acquire() as producer:
                ledger.publish_tracked(self.app, self.redis, items, sent=sent, producer=producer)
        except (OperationalError, ConnectionError, OSError) as exc:
            raise SubmitError(
                f"broker unreachable after {len(sent)} of {len(docs)} articles: {mask_secrets(str(exc))}",
                sent_ids=sent,
                hint="check NEWSFLOW_BROKER_URL and that the broker is up, then resubmit the rest",
            ) from None
        return sent

    # -- reading -----------------------------------------------------------------------

    def get(self, article_id: str) -> Document | None:
        """The stored Document, or None when it is not (yet) stored."""
        return store.get_document(self.redis, article_id)

    def dead_letter(self, article_id: str) -> tuple[str, DeadLetter] | None:
        """The latest dead letter of ``article_id``, if it failed."""
        return deadletters.letter_for_article(self.redis, article_id)

    def wait(self, article_id: str, timeout_s: float = 30.0, *, poll_s: float = 0.02) -> Document:
        """Block until ``article_id`` is stored and return it.

        Raises :class:`ArticleFailed` when it went to dead letters and
        :class:`WaitTimeout` after ``timeout_s``.
        """
        deadline = time.monotonic() + timeout_s
        delay = poll_s
        while True:
            doc = self.get(article_id)
            if doc is not None:
                return doc
            failed = self.dead_letter(article_id)
            if failed is not None:
                entry, letter = failed
                raise ArticleFailed(
                    f"article {article_id} failed in stage {letter.stage}: [{letter.code}] {letter.message}",
                    hint=f"inspect with `newsflow dlq show {entry}`, fix, then `newsflow dlq replay {entry}`",
                )
            if time.monotonic() >= deadline:
                raise WaitTimeout(
                    f"article {article_id} not finished after {timeout_s:g}s",
                    hint="check that workers run (`newsflow worker`) and consume every stage queue",
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def result(self, article_id: str, timeout_s: float = 30.0) -> Document | DeadLetter:
        """Like :meth:`wait`, but return the DeadLetter instead of raising when it failed."""
        try:
            return self.wait(article_id, timeout_s)
        except ArticleFailed:
            failed = self.dead_letter(article_id)
            assert failed is not None
            return failed[1]

