"""Shared fixtures. Layers: settings -> store (Redis/fakeredis) -> broker app -> worker -> client.

Tests that need a real Redis use ``redis_url``: they skip when none answers locally and
fail under ``CI=true``, where a Redis must be running.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "pipeline" / "samples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of a real, empty-able Redis database for integration tests (default db 15)."""
    url = os.environ.get("NEWSFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    if not _redis_answers(url):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but no Redis answers at {url}: .ci/run must start one")
        pytest.skip(f"no Redis at {url} (set NEWSFLOW_TEST_REDIS_URL or start redis-server)")
    return url


@pytest.fixture
def clean_env(monkeypatch):
    """No NEWSFLOW_* variables from the developer's shell leak into a test."""
    for key in list(os.environ):
        if key.startswith("NEWSFLOW_"):
            monkeypatch.delenv(key)
    return monkeypatch
