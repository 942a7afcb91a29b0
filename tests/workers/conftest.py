"""Layered worker fixtures: settings -> store -> app -> worker -> client, embedded or on Redis."""

from __future__ import annotations

import pytest
import redis as redis_lib

from workers.app import create_app
from workers.client import Client
from workers.connection import redis_client, reset_clients
from workers.embedded import embedded_worker
from workers.settings import Settings


@pytest.fixture
def settings(clean_env) -> Settings:
    """Embedded settings (memory broker, in-process fakeredis) with fast retries."""
    reset_clients()
    yield Settings(retry_backoff_s=0.01, retry_backoff_max_s=0.05, max_retries=2)
    reset_clients()


@pytest.fixture
def store(settings):
    """The Redis client behind store/events/dead letters (fakeredis here)."""
    return redis_client(settings)


@pytest.fixture
def app(settings, store):
    """A Celery app bound to ``settings``."""
    return create_app(settings)


@pytest.fixture
def worker(app):
    """A real Celery worker (solo pool, in a thread) consuming every newsflow queue."""
    with embedded_worker(app) as w:
        yield w


@pytest.fixture
def client(app, worker) -> Client:
    """The producer API, with a worker running."""
    return Client(app.newsflow_settings, app)


@pytest.fixture
def redis_settings(redis_url, clean_env) -> Settings:
    """Distributed settings on a real, flushed Redis (broker and store)."""
    redis_lib.Redis.from_url(redis_url).flushdb()
    reset_clients()
    yield Settings(broker_url=redis_url, retry_backoff_s=0.01, retry_backoff_max_s=0.05, max_retries=2)
    reset_clients()
    redis_lib.Redis.from_url(redis_url).flushdb()


@pytest.fixture
def redis_store(redis_settings):
    """The real Redis client behind store/events/dead letters."""
    return redis_client(redis_settings)


@pytest.fixture
def redis_app(redis_settings, redis_store):
    """A Celery app on the real Redis broker."""
    return create_app(redis_settings)


@pytest.fixture
def redis_worker(redis_app):
    """A real worker thread consuming every newsflow queue from the Redis broker."""
    with embedded_worker(redis_app) as w:
        yield w


@pytest.fixture
def redis_client_api(redis_app, redis_worker) -> Client:
    """The producer API against Redis, with a worker running."""
    return Client(redis_app.newsflow_settings, redis_app)
