"""Soft and hard task time limits for a worker that runs tasks in its main thread (``--pool solo``).

Celery enforces ``task_soft_time_limit`` and ``task_time_limit`` only in the prefork pool,
whose parent process signals and kills its children. With one worker process per core,
the solo pool saves prefork's parent-to-child hand-off (measured on 2 cores: broker
overhead 9.0% for two solo workers against 10.9% for one prefork worker with two
children, means of 12 and 9 rounds), so newsflow enforces the same two limits itself:

* **soft** (``NEWSFLOW_STAGE_SOFT_TIME_LIMIT_S``): SIGALRM raises ``SoftTimeLimitExceeded``
  inside the task, which the failure policy retries, as in prefork;
* **hard** (``NEWSFLOW_STAGE_TIME_LIMIT_S``): the task is stuck where no Python exception
  reaches it (inside C code). A watchdog thread dead-letters the article (E205), marks the
  task message as timed out and ends the process; the supervisor starts a new one. When
  Redis redelivers the unacknowledged message, the task finds the mark and drops it,
  since it is in the dead-letter stream already (:func:`already_timed_out`);
* **backstop**: C code that never releases the GIL starves the watchdog thread too, so
  ``faulthandler`` (a C-level timer) ends the process ``BACKSTOP_GRACE_S`` after the hard
  limit, with the stuck traceback on stderr. Nothing is written then; the redelivered
  message is counted (:func:`count_redelivery`), and one redelivered more than
  ``NEWSFLOW_MAX_REDELIVERIES`` times is dead-lettered (E206) instead of stalling every
  worker in turn.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import signal
import sys
import threading
import time
from typing import Callable

from celery import signals
from celery.exceptions import SoftTimeLimitExceeded

from workers import keys

log = logging.getLogger("newsflow.worker")

EXIT_HARD_LIMIT = 70  # any code but 0 after no stop signal: the supervisor restarts the worker
# The watchdog's time to write the dead letter before faulthandler ends all: longer than
# the Redis socket timeout (30 s, workers.connection), so a slow Redis cannot leave a letter
# written but its message unmarked.
BACKSTOP_GRACE_S = 45.0


class RunningTask:
    """What the watchdog knows about the task in progress (captured in the main thread)."""

    def __init__(self, task_id: str, task, args: tuple, request):
        self.task_id = task_id
        self.task = task
        self.args = args
        self.request = request  # Celery's request context is thread-local: keep the object
        self.started = time.monotonic()


class SoloTimeLimits:
    """Arms the soft limit per task and watches for the hard one; see the module docstring.

    ``on_hard`` gets the :class:`RunningTask` that overran; ``exit`` ends the process
    (``os._exit``: a stuck main thread must not be waited for). ``backstop_grace_s`` None
    leaves faulthandler alone (tests, where it would end the test run).
    """

    def __init__(self, soft_s: float, hard_s: float, on_hard: Callable[[RunningTask], None], *,
                 exit: Callable[[int], None] = os._exit, poll_s: float = 0.5,
                 backstop_grace_s: float | None = BACKSTOP_GRACE_S):
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("solo time limits need the main thread (SIGALRM is delivered there)")
        self.soft_s, self.hard_s, self.on_hard, self.exit, self.poll_s = soft_s, hard_s, on_hard, exit, poll_s
        self.backstop_grace_s = backstop_grace_s if sys.__stderr__ is not None else None
        self._previous_alarm = None
        self._running: RunningTask | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="newsflow-time-limits", daemon=True)

    def install(self) -> "SoloTimeLimits":
        """Handle SIGALRM, hook the task start/end signals and start the watchdog."""
        self._previous_alarm = signal.signal(signal.SIGALRM, self._soft_limit)
        signals.task_prerun.connect(self._task_started, weak=False)
        signals.task_postrun.connect(self._task_ended, weak=False)
        self._watchdog.start()
        return self

    def uninstall(self) -> None:
        """Undo :meth:`install` (tests; a worker keeps its limits until it exits)."""
        signals.task_prerun.disconnect(self._task_started)
        signals.task_postrun.disconnect(self._task_ended)
        signal.setitimer(signal.ITIMER_REAL, 0)
        if self.backstop_grace_s is not None:
            faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, self._previous_alarm or signal.SIG_DFL)
        self._stop.set()
        self._watchdog.join(timeout=5)

    def _soft_limit(self, _signum, _frame):
        # An alarm that lands after the task ended (inside _task_ended, before the timer is
        # cleared) must not raise into Celery's own code.
        if self._running is not None:
            raise SoftTimeLimitExceeded(f"soft time limit ({self.soft_s:g} s) exceeded")

    def _task_started(self, task_id=None, task=None, args=(), **_):
        with self._lock:
            self._running = RunningTask(task_id, task, tuple(args or ()), task.request if task else None)
        signal.setitimer(signal.ITIMER_REAL, self.soft_s)
        if self.backstop_grace_s is not None:
            # The process's own stderr: Celery replaces sys.stderr with a proxy without a file descriptor.
            faulthandler.dump_traceback_later(self.hard_s + self.backstop_grace_s, exit=True, file=sys.__stderr__)

    def _task_ended(self, **_):
        with self._lock:
            self._running = None  # first: the alarm handler checks it
        signal.setitimer(signal.ITIMER_REAL, 0)
        if self.backstop_grace_s is not None:
            faulthandler.cancel_dump_traceback_later()

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_s):
            with self._lock:
                running = self._running
                if running is None or time.monotonic() - running.started < self.hard_s:
                    continue
                # Still holding the lock: the task cannot be marked ended (nor the next one
                # started) while its dead letter is written; the process ends right after.
                self._overran(running)
                return

    def _overran(self, running: RunningTask) -> None:
        log.critical("task %s (%s) ran past the hard time limit (%g s): dead-lettering it and "
                     "ending this worker process for the supervisor to restart",
                     running.task_id, getattr(running.task, "name", "?"), self.hard_s)
        try:
            self.on_hard(running)
        except Exception:  # the message stays unacknowledged and is redelivered: not lost
            log.exception("could not dead-letter task %s after its hard time limit", running.task_id)
        self.exit(EXIT_HARD_LIMIT)


def mark_timed_out(client, task_id: str, ttl_s: int) -> None:
    """Remember that ``task_id`` was dead-lettered at its hard limit (for its redelivery)."""
    client.set(keys.timed_out_key(task_id), "1", ex=ttl_s)


def already_timed_out(client, task_id: str | None) -> bool:
    """True when ``task_id`` hit its hard limit in a solo worker and is dead-lettered already."""
    return bool(task_id) and bool(client.exists(keys.timed_out_key(task_id)))


def count_redelivery(client, task_id: str, ttl_s: int) -> int:
    """Count one more broker redelivery of ``task_id``'s message; returns the count so far."""
    pipe = client.pipeline(transaction=True)
    pipe.incr(keys.redeliveries_key(task_id))
    pipe.expire(keys.redeliveries_key(task_id), ttl_s)
    return int(pipe.execute()[0])
