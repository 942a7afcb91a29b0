"""Keep a worker process alive: restart it after a crash, pass stop signals through.

Some broker failures end a Celery worker for good (for example kombu failing inside
its own reconnect while Redis restarts: "Unrecoverable error: AttributeError ...
'hostname'"). Messages are not lost then (they stay unacknowledged and come back after
the visibility timeout), but nothing consumes them until the worker runs again.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time

log = logging.getLogger("newsflow.supervisor")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


def supervise(argv: list[str], *, min_uptime_s: float = 30.0, max_backoff_s: float = 30.0) -> int:
    """Run ``argv`` as a child; restart it whenever it exits unasked; return its final exit code.

    A stop signal is forwarded to the child (SIGTERM = Celery's warm shutdown) and ends
    supervision; any other exit, whatever its code, is a crash. Restarts back off
    exponentially unless the child stayed up ``min_uptime_s``.
    """
    state = {"stopping": False, "child": None}

    def forward(signum, _frame):
        state["stopping"] = True
        child = state["child"]
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in STOP_SIGNALS}
    delay = 1.0
    try:
        while True:
            started = time.monotonic()
            state["child"] = child = subprocess.Popen(argv)
            code = child.wait()
            if state["stopping"]:
                return code
            # Without a stop signal a worker never means to exit: Celery ends with code 0
            # after an "Unrecoverable error" too (seen: a non-JSON message on a queue).
            if time.monotonic() - started >= min_uptime_s:
                delay = 1.0
            print(f"newsflow: worker exited with code {code}; restarting in {delay:.0f}s "
                  "(unacknowledged messages return after the visibility timeout)", file=sys.stderr, flush=True)
            time.sleep(delay)
            if state["stopping"]:
                return code
            delay = min(delay * 2, max_backoff_s)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
