"""Embedded mode: the same Celery tasks, run by an in-process worker over the memory transport."""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Iterator

from celery import Celery
from celery.contrib.testing.worker import TestWorkController, setup_app_for_worker
from celery.result import _set_task_join_will_block
from celery.worker import state

from workers import keys

WAKEUP_TASK = "newsflow.wakeup"


@contextlib.contextmanager
def embedded_worker(app: Celery, *, stages: list[str] | None = None, loglevel: str = "WARNING") -> Iterator:
    """Run a solo-pool Celery worker thread for ``app`` consuming the given stages' queues.

    It is the real Celery worker (acks, routing, chains); only the transport is in memory.
    """
    served = list(stages or keys.QUEUE_STAGES)
    queues = [keys.queue(s) for s in served]
    if app.newsflow_settings.fuse_stages:
        app.newsflow_inline_stages = frozenset(served)
    queues.append("celery")  # the default queue carries the shutdown wake-up
    setup_app_for_worker(app, loglevel, None)
    logging.getLogger("celery").setLevel(loglevel)
    worker = TestWorkController(
        app=app,
        concurrency=1,
        pool="solo",
        loglevel=loglevel,
        logfile=None,
        ready_callback=None,
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
        queues=queues,
    )
    thread = threading.Thread(target=worker.start, name="newsflow-embedded-worker", daemon=True)
    thread.start()
    worker.ensure_started()
    _set_task_join_will_block(False)
    try:
        yield worker
    finally:
        state.should_terminate = 0
        # The synchronous consumer loop blocks up to 2 s per poll and polls once more after
        # it sees the shutdown flag; two no-op messages wake both polls at once.
        for _ in range(2):
            app.signature(WAKEUP_TASK, queue="celery").apply_async()
        thread.join(60)
        state.should_terminate = None
        if thread.is_alive():
            raise RuntimeError("embedded worker did not stop within 60 s (a stage is still running)")
