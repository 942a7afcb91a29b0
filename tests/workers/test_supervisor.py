"""The worker supervisor restarts a worker that exits unasked and stops on a stop signal."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

CHILD = """
import sys, time
path = sys.argv[1]
with open(path, "a") as f:
    f.write("start\\n")
if open(path).read().count("start") < 3:
    sys.exit(0)  # what Celery does after an "Unrecoverable error"
time.sleep(600)
"""


def test_exit_code_zero_without_a_stop_signal_is_restarted_and_sigterm_stops(tmp_path):
    starts = tmp_path / "starts"
    supervisor = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from workers.supervisor import supervise_all; "
         "sys.exit(supervise_all([sys.argv[1:]], max_backoff_s=0.2))",
         sys.executable, "-c", CHILD, str(starts)],
        stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while (not starts.exists() or starts.read_text().count("start") < 3) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert starts.read_text().count("start") == 3  # two exits with code 0, two restarts
        time.sleep(0.3)
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(20)  # SIGTERM ends supervision instead of starting a fourth child
        _, err = supervisor.communicate(timeout=5)
        assert err.count("restarting") == 2
    finally:
        if supervisor.poll() is None:
            supervisor.kill()


ONCE = """
import sys, time
path = sys.argv[1]
with open(path, "a") as f:
    f.write("start\\n")
if open(path).read().count("start") < 2:
    sys.exit(70)  # a solo worker ending itself after a hard time limit
time.sleep(600)
"""


def test_each_of_several_workers_is_restarted_on_its_own_and_sigterm_stops_all(tmp_path):
    files = [tmp_path / "a", tmp_path / "b"]
    supervisor = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from workers.supervisor import supervise_all; "
         "sys.exit(supervise_all([[sys.executable, '-c', sys.argv[1], p] for p in sys.argv[2:]], max_backoff_s=0.2))",
         ONCE, *map(str, files)],
        stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while any(not f.exists() or f.read_text().count("start") < 2 for f in files) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [f.read_text().count("start") for f in files] == [2, 2]
        supervisor.send_signal(signal.SIGTERM)
        code = supervisor.wait(20)
        _, err = supervisor.communicate(timeout=5)
        assert err.count("exited with code 70") == 2
        assert code == 128 + signal.SIGTERM  # the children were ended by the forwarded signal
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
