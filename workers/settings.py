"""The one typed settings object, read from ``NEWSFLOW_*`` environment variables."""

from __future__ import annotations

import functools
import re

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.errors import ConfigError

_SECRET_IN_URL = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:@/]*):(?P<password>[^@/]+)@", re.I)


def mask_url(url: str | None) -> str | None:
    """``url`` with any password replaced by ``***`` (for config output, logs and errors)."""
    if url is None:
        return None
    return _SECRET_IN_URL.sub(lambda m: f"{m['scheme']}{m['user']}:***@", url)


def mask_secrets(text: str) -> str:
    """``text`` with every password inside a URL masked."""
    return _SECRET_IN_URL.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)


class Settings(BaseSettings):
    """Every knob of newsflow. Each field is ``NEWSFLOW_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", extra="ignore")

    broker_url: str | None = Field(
        default=None,
        description="Celery broker (redis://, rediss://, amqp://). Unset = embedded mode: "
        "in-process memory transport and an in-process fakeredis store.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for the store, event streams and dead letters. Defaults to the "
        "broker URL when the broker is Redis.",
    )
    max_article_bytes: int = Field(
        default=2_000_000, gt=0, description="Largest accepted body, in UTF-8 bytes."
    )
    visibility_timeout_s: int | None = Field(
        default=None,
        gt=0,
        description="Redis broker: seconds before an unacknowledged message is redelivered. "
        "Unset = derived from the hard stage limit (3 x stage_time_limit_s, at least 300); "
        "must exceed retry_backoff_max_s + stage_time_limit_s.",
    )
    stage_soft_time_limit_s: int = Field(default=60, gt=0, description="Soft limit per stage task.")
    stage_time_limit_s: int = Field(default=120, gt=0, description="Hard limit per stage task.")
    prefetch: int = Field(
        default=2,
        ge=1,
        description="Messages each worker process reserves. With 1, a pool process waits for its "
        "parent to acknowledge, fetch and hand over the next message (4.5 ms per article measured); "
        "with 2 the next one is already reserved (2.6 ms).",
    )
    events_maxlen: int = Field(
        default=10_000, gt=0, description="Approximate MAXLEN of each event stream."
    )
    result_ttl_s: int = Field(
        default=7 * 24 * 3600, gt=0, description="How long stored Documents and checkpoints live."
    )
    dead_maxlen: int = Field(
        default=100_000, gt=0, description="Approximate MAXLEN of the dead-letter stream."
    )
    max_retries: int = Field(default=5, ge=0, description="Retries of a retryable failure.")
    max_redeliveries: int = Field(
        default=5, ge=1,
        description="A message the broker redelivers more often than this (its worker died each "
        "time it ran it: out of memory, or stuck past the hard time limit) is dead-lettered (E206) "
        "instead of taking down another worker. A message requeued because Redis or the broker was "
        "down while it failed also counts once.",
    )
    retry_backoff_s: float = Field(default=1.0, gt=0, description="First retry delay; doubles each time.")
    retry_backoff_max_s: float = Field(default=60.0, gt=0, description="Cap on a retry delay.")
    fuse_stages: bool = Field(
        default=True,
        description="Run consecutive stages served by the same worker in one task, without a "
        "broker hop (events and checkpoints stay per stage).",
    )
    inflight_lease_s: int | None = Field(
        default=None,
        gt=0,
        description="Seconds an article may go without progress before the reconciler looks "
        "for its message in the broker and re-enqueues it if it is gone. Unset = "
        "visibility_timeout_s + stage_time_limit_s.",
    )
    reconcile_interval_s: float = Field(
        default=30.0, gt=0, description="How often a worker checks the in-flight ledger for lost articles."
    )
    task_events: bool = Field(
        default=False,
        description="Workers send Celery task events (what Flower shows). Off by default: the "
        "worker's consumer process spends CPU on three events per task; newsflow's own status, "
        "console and event streams do not need them.",
    )
    skip_duplicates: bool = Field(
        default=False, description="Stop processing an article whose exact content was stored before."
    )

    @model_validator(mode="after")
    def _consistent(self) -> "Settings":
        if self.stage_soft_time_limit_s >= self.stage_time_limit_s:
            raise ConfigError(
                "NEWSFLOW_STAGE_SOFT_TIME_LIMIT_S must be below NEWSFLOW_STAGE_TIME_LIMIT_S",
                hint="lower the soft limit or raise the hard one",
            )
        if self.visibility_timeout_s is None:
            # Derived: a task that is still inside its hard limit is never redelivered.
            self.visibility_timeout_s = max(300, 3 * self.stage_time_limit_s)
        if self.visibility_timeout_s <= self.retry_backoff_max_s + self.stage_time_limit_s:
            # A retry waits out its countdown in the worker, unacknowledged, then runs: past
            # the visibility timeout Redis hands a second copy to another worker.
            raise ConfigError(
                "NEWSFLOW_VISIBILITY_TIMEOUT_S must exceed NEWSFLOW_RETRY_BACKOFF_MAX_S + "
                "NEWSFLOW_STAGE_TIME_LIMIT_S, or Redis redelivers retries that are still waiting "
                "for their countdown or running",
                hint=f"set it above {self.retry_backoff_max_s + self.stage_time_limit_s:g} or lower the backoff cap",
            )
        if self.inflight_lease_s is None:
            # Past this, a message that is still alive is queued or redelivered (kombu
            # restores unacked messages after the visibility timeout).
            self.inflight_lease_s = self.visibility_timeout_s + self.stage_time_limit_s
        if self.broker_url and self.effective_redis_url is None:
            raise ConfigError(
                f"the broker {mask_url(self.broker_url)} is not Redis, so the store needs its own Redis",
                hint="set NEWSFLOW_REDIS_URL=redis://host:6379/0",
            )
        return self

    @property
    def embedded(self) -> bool:
        """True when no broker is configured: everything runs in this process."""
        return not self.broker_url

    @property
    def effective_redis_url(self) -> str | None:
        """The Redis URL for store and events (None in embedded mode = in-process fakeredis)."""
        if self.redis_url:
            return self.redis_url
        if self.broker_url and self.broker_url.split("://")[0] in ("redis", "rediss"):
            return self.broker_url
        return None

    def masked(self) -> dict:
        """The effective settings as a dict, with URL passwords masked."""
        data = self.model_dump()
        data["redis_url"] = self.effective_redis_url
        for key in ("broker_url", "redis_url"):
            data[key] = mask_url(data[key])
        data["mode"] = "embedded" if self.embedded else "distributed"
        return data


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once from the environment)."""
    return Settings()
