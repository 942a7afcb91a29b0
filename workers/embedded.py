"""Embedded mode: the same Celery tasks, run by an in-process worker over the memory transport."""

from __future__ import annotations

import contextlib
import logging
from typing import Iterator

from celery import Celery
from celery.contrib.testing.worker import start_worker

from workers import keys


@contextlib.contextmanager
def embedded_worker(app: Celery, *, stages: list[str] | None = None, loglevel: str = "WARNING") -> Iterator:
    """Run a solo-pool worker thread for ``app`` consuming the given stages' queues.

    It is the real Celery worker (acks, routing, chains); only the transport is in memory.
    """
    queues = [keys.queue(s) for s in (stages or keys.QUEUE_STAGES)]
    # The default queue is included because the testing worker's ping check uses it.
    queues.append("celery")
    logging.getLogger("celery").setLevel(loglevel)
    with start_worker(
        app,
        pool="solo",
        concurrency=1,
        perform_ping_check=False,
        loglevel=loglevel,
        queues=queues,
        shutdown_timeout=30.0,
    ) as worker:
        yield worker
