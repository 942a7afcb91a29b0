"""Keep worker processes alive: restart one after a crash, pass stop signals through.

Some broker failures end a Celery worker for good (for example kombu failing inside
its own reconnect while Redis restarts: "Unrecoverable error: AttributeError ...
'hostname'"). Messages are not lost then (they stay unacknowledged and come back after
the visibility timeout), but nothing consumes them until the worker runs again.
A solo-pool worker also ends itself when a task passes its hard time limit
(:mod:`workers.time_limits`) and relies on this restart.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time

log = logging.getLogger("newsflow.supervisor")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


def supervise_all(argvs: list[list[str]], *, min_uptime_s: float = 30.0, max_backoff_s: float = 30.0,
                  poll_s: float = 0.2) -> int:
    """Run every argv as a child; restart each whenever it exits unasked; return the first non-zero final code.

    A stop signal is forwarded to every child (SIGTERM = Celery's warm shutdown) and ends
    supervision; any other exit, whatever its code, is a crash. A child's restarts back
    off exponentially unless it stayed up ``min_uptime_s``.
    """
    n = len(argvs)
    children: list[subprocess.Popen | None] = [None] * n
    started, delay, restart_at = [0.0] * n, [1.0] * n, [None] * n
    state = {"stopping": None}  # the stop signal, once one arrived
    told: set[int] = set()  # pids the stop signal was forwarded to

    def forward(signum, _frame):
        state["stopping"] = signum
        for child in children:
            if child is not None and child.poll() is None:
                told.add(child.pid)
                child.send_signal(signum)

    def start(i: int) -> None:
        if state["stopping"] is None:
            started[i] = time.monotonic()
            children[i] = subprocess.Popen(argvs[i])

    previous = {sig: signal.signal(sig, forward) for sig in STOP_SIGNALS}
    try:
        for i in range(n):
            start(i)
        while state["stopping"] is None:
            now = time.monotonic()
            for i, child in enumerate(children):
                if restart_at[i] is not None:
                    if now >= restart_at[i]:
                        restart_at[i] = None
                        start(i)
                    continue
                code = child.poll()
                if code is None or state["stopping"] is not None:
                    continue
                # Without a stop signal a worker never means to exit: Celery ends with code 0
                # after an "Unrecoverable error" too (seen: a non-JSON message on a queue).
                if now - started[i] >= min_uptime_s:
                    delay[i] = 1.0
                print(f"newsflow: worker exited with code {code}; restarting in {delay[i]:.0f}s "
                      "(unacknowledged messages return after the visibility timeout)", file=sys.stderr, flush=True)
                restart_at[i] = now + delay[i]
                delay[i] = min(delay[i] * 2, max_backoff_s)
            time.sleep(poll_s)
        # A child started while the signal was being forwarded never got it.
        for child in children:
            if child is not None and child.pid not in told and child.poll() is None:
                child.send_signal(state["stopping"])
        # A child waiting for its restart has already reported its crash: it ends cleanly.
        codes = [_exit_status(child.wait()) for i, child in enumerate(children)
                 if child is not None and restart_at[i] is None]
        return next((code for code in codes if code), 0)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _exit_status(returncode: int) -> int:
    """A child's return code as a shell would report it (killed by signal N: 128 + N)."""
    return 128 - returncode if returncode < 0 else returncode
