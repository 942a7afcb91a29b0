"""The Celery app, configured from :class:`~workers.settings.Settings`."""

from __future__ import annotations

from celery import Celery
from kombu import Exchange, Queue

from workers import keys
from workers.settings import Settings, get_settings


_EXCHANGE = Exchange("newsflow", type="direct")


def celery_config(settings: Settings) -> dict:
    """Celery configuration for ``settings`` (JSON only, late acks, one queue per stage)."""
    embedded = settings.embedded
    vt = settings.visibility_timeout_s
    transport_options: dict = {
        "visibility_timeout": vt,
        # kombu sweeps for expired unacknowledged messages only every interval x throttle
        # seconds (10 x 10 by default): a killed worker's messages would wait up to 100 s
        # beyond the visibility timeout. Sweep every few seconds instead (one ZRANGE).
        "unacked_restore_interval": max(1, min(10, vt // 4)),
        "unacked_restore_throttle": 1,
        # The sweep's mutex must not outlive a crash for longer than a visibility window.
        "unacked_mutex_expire": max(10, min(300, vt)),
    }
    if embedded:
        # The memory transport polls; a short interval keeps embedded latency low.
        transport_options["polling_interval"] = 0.01
    return {
        "broker_url": settings.broker_url or "memory://localhost/",
        "broker_transport_options": transport_options,
        "broker_connection_retry_on_startup": True,
        "result_backend": None,
        "task_ignore_result": True,
        "accept_content": ["json"],
        "task_serializer": "json",
        "result_serializer": "json",
        "event_serializer": "json",
        "result_accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "worker_prefetch_multiplier": settings.prefetch,
        "task_soft_time_limit": settings.stage_soft_time_limit_s,
        "task_time_limit": settings.stage_time_limit_s,
        "task_default_queue": "celery",
        "task_default_exchange": "newsflow",
        "task_default_routing_key": "celery",
        # One direct binding per queue: a message reaches exactly the queue it names.
        "task_queues": [
            Queue("celery", _EXCHANGE, routing_key="celery"),
            *(Queue(keys.queue(s), _EXCHANGE, routing_key=keys.queue(s)) for s in keys.QUEUE_STAGES),
        ],
        "task_routes": {keys.task_name(s): {"queue": keys.queue(s)} for s in keys.QUEUE_STAGES},
        "task_create_missing_queues": True,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": settings.task_events and not embedded,
        "task_send_sent_event": False,
        "broker_pool_limit": 10,
    }


def create_app(settings: Settings | None = None) -> Celery:
    """A Celery app for ``settings`` with the newsflow tasks registered."""
    settings = settings or get_settings()
    if (settings.broker_url or "").split("://")[0] in ("redis", "rediss"):
        from workers.transport import install

        install()  # a non-message on a queue is dead-lettered instead of ending the worker
    app = Celery("newsflow", set_as_current=False)
    app.conf.update(celery_config(settings))
    app.newsflow_settings = settings  # tasks read their settings from their app
    # Stages a worker of this app runs inline when they follow each other (set by the
    # worker command / embedded worker from the queues it consumes; None = no fusing).
    app.newsflow_inline_stages = None
    from workers.tasks import register_tasks

    register_tasks(app)
    return app


_APP: Celery | None = None


def get_app() -> Celery:
    """The process-wide app (used by ``newsflow worker`` / ``celery -A workers.app``)."""
    global _APP
    if _APP is None:
        _APP = create_app()
    return _APP


def __getattr__(name: str):
    # `celery -A workers.app worker` looks up `app` lazily, so settings are read at start.
    if name in ("app", "celery"):
        return get_app()
    raise AttributeError(name)
