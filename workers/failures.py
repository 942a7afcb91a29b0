"""What a task does when something goes wrong: retry transient errors, dead-letter the rest.

This is the only place that decides; tasks stay thin.
"""

from __future__ import annotations

import json
import logging
import random
import time
import traceback
from datetime import datetime, timezone

import redis
from celery import Task
from celery.exceptions import Reject, Retry, SoftTimeLimitExceeded
from kombu.exceptions import OperationalError
from pydantic import ValidationError

from pipeline.errors import NewsflowError, PermanentError, PoisonMessage, RetryableError, StageTimeLimit
from pipeline.models import DeadLetter
from workers import deadletters
from workers.connection import redis_client
from workers.flow import article_headers, remaining_stages
from workers.settings import Settings, mask_secrets
from workers.time_limits import RunningTask, already_timed_out, count_redelivery, mark_timed_out

log = logging.getLogger("newsflow.worker")

TRANSIENT = (
    RetryableError,
    redis.ConnectionError,
    redis.TimeoutError,
    OperationalError,
    ConnectionError,
    TimeoutError,
    SoftTimeLimitExceeded,
)


def is_permanent(exc: BaseException) -> bool:
    """True when retrying cannot help (bad input, a StageError)."""
    return isinstance(exc, (PermanentError, ValidationError)) and not isinstance(exc, RetryableError)


def backoff_s(settings: Settings, retries: int) -> float:
    """Exponential backoff with full jitter for the ``retries``-th retry."""
    cap = min(settings.retry_backoff_max_s, settings.retry_backoff_s * (2**retries))
    return random.uniform(cap / 2, cap)


def error_code(exc: BaseException) -> str:
    """The newsflow error code of ``exc`` (E100 for pydantic validation, E900 for a bug)."""
    if isinstance(exc, NewsflowError):
        return exc.code
    if isinstance(exc, ValidationError):
        return "E100"
    return "E900"


def error_message(exc: BaseException) -> str:
    """The message of ``exc`` without its code prefix (the code is stored separately)."""
    if isinstance(exc, NewsflowError):
        return f"{exc.message} ({exc.hint})" if exc.hint else exc.message
    return f"{exc}" or type(exc).__name__


class NewsflowTask(Task):
    """Base task: runs the work and applies the retry / dead-letter policy around it."""

    abstract = True
    ignore_result = True
    acks_late = True
    reject_on_worker_lost = True

    @property
    def settings(self) -> Settings:
        """Settings of the app this task belongs to."""
        return self.app.newsflow_settings

    @property
    def redis(self):
        """The store/events Redis client of this app."""
        return redis_client(self.settings)

    def guarded(self, stage: str, payload, work):
        """Run ``work()``; on failure retry or dead-letter. Returns work's result or None."""
        redelivered = (self.request.delivery_info or {}).get("redelivered")
        if redelivered and already_timed_out(self.redis, self.request.id):
            log.error("task %s (%s) hit its hard time limit on an earlier delivery and is in the dead "
                      "letters already; dropping the redelivered message", self.request.id, self.name)
            self.stop_chain()
            return None
        try:
            if redelivered:
                self._check_redeliveries()
            result = work()
            if result is not None:
                self.hand_on(result)
            return result
        except (Retry, Reject):
            raise
        except Exception as exc:  # the policy below decides; nothing escapes unhandled
            return self._fail(stage, payload, exc)

    def _check_redeliveries(self) -> None:
        """Raise PoisonMessage when this message came back more than ``max_redeliveries`` times.

        The broker redelivers a message whose worker died while running it. A message that
        kills its worker every time (out of memory, or stuck in C code past every time
        limit) would otherwise stall each worker in turn, forever.
        """
        settings = self.settings
        count = count_redelivery(self.redis, self.request.id, 4 * settings.visibility_timeout_s)
        if count > settings.max_redeliveries:
            raise PoisonMessage(
                f"the broker redelivered this message {count} times: its worker died each time it ran it",
                hint="look for the stage's traceback or an out-of-memory kill in the worker logs, fix the "
                "cause or raise NEWSFLOW_MAX_REDELIVERIES, then `newsflow dlq replay`",
            )

    def _fail(self, stage: str, payload, exc: Exception):
        retries = self.request.retries or 0
        if not is_permanent(exc) and retries < self.settings.max_retries:
            delay = backoff_s(self.settings, retries)
            log.warning(
                "stage %s: %s: %s; retry %d/%d in %.1fs",
                stage, type(exc).__name__, mask_secrets(str(exc)), retries + 1,
                self.settings.max_retries, delay,
            )
            try:
                raise self.retry(exc=exc, countdown=delay, max_retries=self.settings.max_retries,
                                 headers=article_headers(payload))
            except Reject as rejected:
                # Celery rejects *without* requeue when it cannot publish the retry (broker
                # down), which would drop the message. Requeue instead; if even that fails
                # the message stays unacknowledged and returns after the visibility timeout.
                raise Reject(rejected.reason, requeue=True) from exc
        letter = dead_letter(stage, payload, exc, retries + 1, self.request.chain, traceback.format_exc())
        try:
            entry = deadletters.add(self.redis, self.settings, letter)
        except Exception as store_exc:
            # The dead-letter stream is unreachable: put the message back rather than lose it.
            log.error("stage %s: cannot write dead letter (%s); requeueing", stage, store_exc)
            time.sleep(min(self.settings.retry_backoff_max_s, 5.0))
            raise Reject(store_exc, requeue=True) from exc
        log.error(
            "stage %s: article %s dead-lettered as %s: [%s] %s",
            stage, letter.article_id, entry, letter.code, letter.message,
        )
        self.stop_chain()
        return None

    def hand_on(self, result) -> None:
        """Publish ``result`` to the next task of the chain, inside the failure policy.

        Celery would publish the next step itself after the task returns, and a broker
        error at that moment fails the task after its work is done; here such an error
        is retried like any transient failure (the stage output is checkpointed, so the
        retry only re-publishes).
        """
        chain = list(self.request.chain or [])
        if not chain:
            return
        following = self.app.signature(chain.pop())
        following.apply_async(
            (result,), chain=chain or None, parent_id=self.request.id, root_id=self.request.root_id,
            headers=article_headers(result),
        )
        self.request.chain = None  # handed on: Celery must not publish it a second time

    def stop_chain(self) -> None:
        """Do not hand on: the rest of the chain is dropped for this message."""
        self.request.chain = None
        self.request.callbacks = None


def dead_letter(stage: str, payload, exc: BaseException, attempts: int, chain, trace: str = "") -> DeadLetter:
    """The dead-letter record of ``payload`` failing in ``stage`` with ``exc``."""
    return DeadLetter(
        article_id=_article_id(payload),
        stage=stage,
        error_type=type(exc).__name__,
        code=error_code(exc),
        message=mask_secrets(error_message(exc)),
        traceback=mask_secrets(trace),
        attempts=attempts,
        failed_at=datetime.now(timezone.utc),
        payload=_payload_text(payload),
        remaining=remaining_stages(chain),
    )


def dead_letter_hard_limit(task: NewsflowTask, running: RunningTask) -> str:
    """Dead-letter the task a solo worker's watchdog found past its hard limit (E205); returns the entry.

    Called from the watchdog thread, so the request comes from ``running``, captured when
    the task started. The task message is marked, so its redelivery is dropped.
    """
    settings = task.settings
    request = running.request
    stage = task.name.rsplit(".", 1)[-1]
    payload = running.args[0] if running.args else None
    inline = getattr(request, "newsflow_running", None)
    if inline and inline[0] != stage:
        # A later stage run inline by this message (stage fusing): name it, with its own
        # input, so a replay re-enters where the article stopped.
        stage, payload = inline[0], json.loads(inline[1])
    chain = [s for s in (getattr(request, "chain", None) or [])
             if not (isinstance(s, dict) and s.get("task", "").rsplit(".", 1)[-1] == stage)]
    exc = StageTimeLimit(
        f"stage {stage} ran past the hard time limit of {settings.stage_time_limit_s} s; "
        "its worker process was ended and restarted",
        hint="if the article is valid, raise NEWSFLOW_STAGE_TIME_LIMIT_S, then `newsflow dlq replay`",
    )
    letter = dead_letter(stage, payload, exc, (getattr(request, "retries", 0) or 0) + 1, chain)
    client = task.redis
    entry = deadletters.add(client, settings, letter)
    mark_timed_out(client, running.task_id, 2 * settings.visibility_timeout_s)
    log.error("stage %s: article %s dead-lettered as %s: [%s] %s",
              stage, letter.article_id, entry, letter.code, letter.message)
    return entry


def _article_id(payload) -> str | None:
    if isinstance(payload, dict):
        value = payload.get("id")
        return value if isinstance(value, str) and value else None
    return None


def _payload_text(payload) -> str:
    try:
        return json.dumps(payload, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(payload)
