"""Shared fixtures. Layers: settings -> store (Redis/fakeredis) -> broker app -> worker -> client.

Tests that need a real Redis use ``redis_url``: they skip when none answers locally and
fail under ``CI=true``, where a Redis must be running.
"""

from __future__ import annotations

import os
import shutil
import socket
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


def _skip_or_fail(reason: str):
    # .ci/run provides every service and binary, so under CI a missing one is a failure.
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def unavailable():
    """Call with a reason when something a test needs is missing: skip locally, fail under CI=true."""
    return _skip_or_fail


@pytest.fixture(scope="session")
def binary(unavailable):
    """Find an executable by name, or skip (locally) / fail (CI) naming it."""

    def find(name: str) -> str:
        return shutil.which(name) or unavailable(f"{name} is not installed")

    return find


@pytest.fixture(scope="session")
def free_port():
    """Returns a function giving a free local TCP port (so no other server answers in its place)."""
    return _free_port


@pytest.fixture(scope="session")
def redis_url(unavailable) -> str:
    """URL of a real, empty-able Redis database for integration tests (default db 15)."""
    url = os.environ.get("NEWSFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    if not _redis_answers(url):
        unavailable(f"no Redis answers at {url} (set NEWSFLOW_TEST_REDIS_URL or start redis-server)")
    return url


@pytest.fixture
def clean_env(monkeypatch):
    """No NEWSFLOW_* variables from the developer's shell leak into a test."""
    for key in list(os.environ):
        if key.startswith("NEWSFLOW_"):
            monkeypatch.delenv(key)
    return monkeypatch
