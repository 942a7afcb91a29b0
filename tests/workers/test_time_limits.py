"""Time limits of a solo worker: the soft one raises in the task, the hard one dead-letters and exits."""

import subprocess
import sys
import threading
import time

import pytest
from celery import signals
from celery.exceptions import SoftTimeLimitExceeded

from pipeline.models import Document
from workers import deadletters
from workers.failures import dead_letter_hard_limit
from workers.time_limits import EXIT_HARD_LIMIT, SoloTimeLimits, already_timed_out


def _payload(article_id="art-1"):
    return Document(id=article_id, body="Body text of an article that never finishes.").model_dump(mode="json")


@pytest.fixture
def limits():
    """Builds installed SoloTimeLimits and uninstalls them after the test."""
    made = []

    def make(soft_s, hard_s, on_hard=lambda running: None, exit=lambda code: None, poll_s=0.05):
        # No faulthandler backstop here: it would end the test run (tested in a subprocess below).
        made.append(SoloTimeLimits(soft_s, hard_s, on_hard, exit=exit, poll_s=poll_s,
                                   backstop_grace_s=None).install())
        return made[-1]

    yield make
    for tl in made:
        tl.uninstall()


def _start(task, task_id, payload):
    signals.task_prerun.send(sender=task, task_id=task_id, task=task, args=(payload,), kwargs={})


def _end(task, task_id):
    signals.task_postrun.send(sender=task, task_id=task_id, task=task, args=(), kwargs={}, retval=None)


def test_soft_limit_raises_inside_the_running_task(app, limits):
    task = app.tasks["newsflow.entities"]
    limits(soft_s=0.2, hard_s=60)
    _start(task, "t-soft", _payload())
    with pytest.raises(SoftTimeLimitExceeded, match="soft time limit"):
        time.sleep(30)  # a stage that runs on; the limit interrupts it
    _end(task, "t-soft")


def test_soft_limit_is_disarmed_when_the_task_ends(app, limits):
    task = app.tasks["newsflow.entities"]
    limits(soft_s=0.2, hard_s=60)
    _start(task, "t-quick", _payload())
    _end(task, "t-quick")
    time.sleep(0.5)  # past the soft limit: nothing may fire between tasks


def test_hard_limit_dead_letters_the_article_and_ends_the_process(app, store, limits):
    task = app.tasks["newsflow.entities"]
    exited = threading.Event()
    codes = []
    limits(soft_s=60, hard_s=0.2, on_hard=lambda running: dead_letter_hard_limit(running.task, running),
           exit=lambda code: (codes.append(code), exited.set()))
    _start(task, "t-stuck", _payload("art-stuck"))
    assert exited.wait(10), "the watchdog never acted on the overrun"
    _end(task, "t-stuck")
    assert codes == [EXIT_HARD_LIMIT]
    entry, letter = deadletters.letter_for_article(store, "art-stuck")
    assert (letter.stage, letter.code, letter.error_type) == ("entities", "E205", "StageTimeLimit")
    assert "NEWSFLOW_STAGE_TIME_LIMIT_S" in letter.message
    assert '"art-stuck"' in letter.payload  # kept whole, so it can be replayed
    assert already_timed_out(store, "t-stuck")


def test_the_redelivery_of_a_timed_out_message_is_dropped_not_rerun(app, store, limits):
    task = app.tasks["newsflow.entities"]
    limits(soft_s=60, hard_s=0.1, on_hard=lambda running: dead_letter_hard_limit(running.task, running))
    _start(task, "t-poison", _payload("art-poison"))
    deadline = time.monotonic() + 10
    while not already_timed_out(store, "t-poison") and time.monotonic() < deadline:
        time.sleep(0.05)
    _end(task, "t-poison")
    ran = []
    task.push_request(id="t-poison", delivery_info={"redelivered": True})
    try:
        assert task.guarded("entities", _payload("art-poison"), lambda: ran.append(1)) is None
    finally:
        task.pop_request()
    assert ran == []
    assert len(deadletters.list_letters(store)) == 1  # not dead-lettered a second time


def test_other_redelivered_messages_still_run(app, store):
    task = app.tasks["newsflow.entities"]
    task.push_request(id="t-crashed-worker", delivery_info={"redelivered": True})
    try:
        assert task.guarded("entities", _payload(), lambda: "ran") == "ran"
    finally:
        task.pop_request()


def test_limits_refuse_a_thread_that_signals_cannot_reach():
    errors = []

    def build():
        try:
            SoloTimeLimits(1, 2, lambda running: None)
        except RuntimeError as exc:
            errors.append(exc)

    t = threading.Thread(target=build)
    t.start()
    t.join()
    assert errors and "main thread" in str(errors[0])


def test_a_stage_run_inline_is_named_with_its_own_input(app, store, limits):
    """With stage fusing, the clean message may hang in topics: replay must re-enter at topics."""
    task = app.tasks["newsflow.clean"]
    cleaned = Document(id="art-fused", body="raw", text="Cleaned text.")
    exited = threading.Event()
    limits(soft_s=60, hard_s=0.2, on_hard=lambda running: dead_letter_hard_limit(running.task, running),
           exit=lambda code: exited.set())
    task.push_request(id="t-fused", chain=[{"task": "newsflow.store"}, {"task": "newsflow.topics"}])
    try:
        task.request.newsflow_running = ("topics", cleaned.model_dump_json())
        _start(task, "t-fused", _payload("art-fused"))
        assert exited.wait(10)
        _end(task, "t-fused")
    finally:
        task.pop_request()
    _entry, letter = deadletters.letter_for_article(store, "art-fused")
    assert letter.stage == "topics"
    assert Document.model_validate_json(letter.payload).text == "Cleaned text."
    assert letter.remaining == []


BACKSTOP = """
import threading, time
from celery import signals
from workers.time_limits import SoloTimeLimits

class Task:
    name = "newsflow.entities"
    request = None

stuck = threading.Event()
# The watchdog itself cannot act (as when C code holds the GIL): faulthandler must end the process.
SoloTimeLimits(60, 0.2, lambda running: stuck.wait(), exit=lambda code: None, poll_s=0.05,
               backstop_grace_s=0.5).install()
signals.task_prerun.send(sender=Task, task_id="t-gil", task=Task(), args=(), kwargs={})
time.sleep(60)
print("not ended")
"""


def test_faulthandler_ends_the_process_when_even_the_watchdog_is_stuck():
    done = subprocess.run([sys.executable, "-c", BACKSTOP], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "not ended" not in done.stdout
    assert "Timeout" in done.stderr  # faulthandler's dump of the stuck threads


def test_a_message_redelivered_too_often_is_dead_lettered_as_poison(app, store):
    task = app.tasks["newsflow.entities"]
    ran = []
    for _ in range(app.newsflow_settings.max_redeliveries + 1):
        task.push_request(id="t-oom", delivery_info={"redelivered": True})
        try:
            task.guarded("entities", _payload("art-oom"), lambda: ran.append(1))
        finally:
            task.pop_request()
    assert len(ran) == app.newsflow_settings.max_redeliveries  # the last delivery did not run
    _entry, letter = deadletters.letter_for_article(store, "art-oom")
    assert (letter.code, letter.error_type) == ("E206", "PoisonMessage")
    assert "NEWSFLOW_MAX_REDELIVERIES" in letter.message
