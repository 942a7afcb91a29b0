"""The one error hierarchy of newsflow.

Every error carries a stable ``code`` (``E1xx`` input, ``E2xx`` stage, ``E3xx``
transport) and a message that says what to do next. The split that matters to
the workers is :class:`RetryableError` (try again later, the input is fine) versus
:class:`PermanentError` (retrying cannot help; the article goes to dead letters).
"""

from __future__ import annotations


class NewsflowError(Exception):
    """Base of every newsflow error: a code, a message and a hint."""

    code = "E000"
    retryable = False

    def __init__(self, message: str, *, hint: str = "", code: str | None = None):
        self.message = message
        self.hint = hint
        if code:
            self.code = code
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = f"[{self.code}] {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text

    def __reduce__(self):
        # Keep errors picklable/copyable with their keyword-only arguments.
        return (_rebuild, (type(self), self.message, self.hint, self.code))


def _rebuild(cls, message, hint, code):
    return cls(message, hint=hint, code=code)


class PermanentError(NewsflowError):
    """Retrying will not help: fix the input or the code, then replay."""


class RetryableError(NewsflowError):
    """A transient failure (connection, timeout): the task is retried with backoff."""

    retryable = True


class InvalidArticle(PermanentError):
    """The producer's input breaks the ArticleIn contract (E1xx)."""

    code = "E100"


class ArticleTooLarge(InvalidArticle):
    """The body is larger than ``NEWSFLOW_MAX_ARTICLE_BYTES``."""

    code = "E101"


class StageError(PermanentError):
    """A stage cannot produce a result for this document (E2xx)."""

    code = "E200"


class UnknownStage(PermanentError):
    """A stage name that is not registered."""

    code = "E201"


class StageTimeLimit(PermanentError):
    """A stage ran past the hard time limit and its worker process was ended (E205)."""

    code = "E205"


class PoisonMessage(PermanentError):
    """The broker redelivered a message more than ``NEWSFLOW_MAX_REDELIVERIES`` times (E206)."""

    code = "E206"


class StoreUnavailable(RetryableError):
    """The Redis store / event streams could not be reached (E301)."""

    code = "E301"


class BrokerUnavailable(RetryableError):
    """The Celery broker could not be reached (E302)."""

    code = "E302"


class ArticleFailed(PermanentError):
    """An article ended in the dead-letter stream instead of the store (E303)."""

    code = "E303"


class WaitTimeout(RetryableError):
    """An article did not finish within the wait timeout (E304)."""

    code = "E304"


class ConfigError(PermanentError):
    """Settings that cannot work together (E400)."""

    code = "E400"
