"""The Redis connection behind the store, the event streams and dead letters.

Distributed mode talks to a real Redis. Embedded mode talks to one in-process
fakeredis server, so both modes run the same code.
"""

from __future__ import annotations

import threading

import redis

from workers.settings import Settings

_EMBEDDED_SERVER = None
_CLIENTS: dict[str, redis.Redis] = {}
_LOCK = threading.Lock()


def embedded_server():
    """The process-wide fakeredis server used in embedded mode."""
    global _EMBEDDED_SERVER
    with _LOCK:
        if _EMBEDDED_SERVER is None:
            import fakeredis

            _EMBEDDED_SERVER = fakeredis.FakeServer()
        return _EMBEDDED_SERVER


def redis_client(settings: Settings) -> redis.Redis:
    """A (cached) Redis client for ``settings``; fakeredis when embedded."""
    url = settings.effective_redis_url
    key = url or "embedded"
    with _LOCK:
        client = _CLIENTS.get(key)
    if client is not None:
        return client
    if url is None:
        import fakeredis

        client = fakeredis.FakeRedis(server=embedded_server(), decode_responses=True)
    else:
        client = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=5,
            socket_timeout=30,
            health_check_interval=30,
            retry_on_timeout=False,
        )
    with _LOCK:
        _CLIENTS.setdefault(key, client)
        return _CLIENTS[key]


def reset_clients() -> None:
    """Forget cached clients and the embedded server (tests, and after fork)."""
    global _EMBEDDED_SERVER
    with _LOCK:
        for client in _CLIENTS.values():
            try:
                client.close()
            except Exception:  # closing a dead connection must not mask the reset
                pass
        _CLIENTS.clear()
        _EMBEDDED_SERVER = None
