"""Keep a Redis-broker worker alive when a queue holds something that is not a message.

A producer that bypasses newsflow can LPUSH anything onto ``newsflow.clean``. kombu's
Redis transport decodes each popped item with ``json.loads`` inside its event loop, and
a non-JSON item (or JSON that is not a message envelope) ends the whole worker with
"Unrecoverable error" while the item itself is gone. newsflow replaces the transport
module's ``loads`` with one that turns such an item into a message for the
``newsflow.quarantine`` task, which dead-letters the raw text with a clear error. Valid
JSON passes through untouched, so every other use of ``loads`` in the transport (the
unacked-restore lists, fanout control messages) behaves as before.
"""

from __future__ import annotations

import base64
import json
import uuid

QUARANTINE_TASK = "newsflow.quarantine"
QUARANTINE_STAGE = "quarantine"  # the stage its dead letters name; they cannot be replayed
# Enough of the item to recognise it in `newsflow dlq show`; the rest is not kept.
KEEP_CHARS = 65_536

_installed = False


def quarantine_envelope(raw: str, reason: str) -> dict:
    """A Celery (protocol 2) JSON message that runs ``newsflow.quarantine(raw, reason)``."""
    task_id = str(uuid.uuid4())
    body = json.dumps([[raw[:KEEP_CHARS], reason], {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}])
    return {
        "body": base64.b64encode(body.encode("utf-8")).decode("ascii"),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {
            "lang": "py", "task": QUARANTINE_TASK, "id": task_id, "root_id": task_id, "parent_id": None,
            "group": None, "retries": 0, "eta": None, "expires": None, "timelimit": [None, None],
            "argsrepr": "(<quarantined item>,)", "kwargsrepr": "{}", "origin": "newsflow.transport",
            "ignore_result": True,
        },
        "properties": {
            "correlation_id": task_id, "delivery_mode": 2, "priority": 0, "body_encoding": "base64",
            "delivery_info": {"exchange": "", "routing_key": ""}, "delivery_tag": str(uuid.uuid4()),
        },
    }


def tolerant_loads(s, *args, **kwargs):
    """kombu's ``loads``, except that an item that is no message becomes a quarantine message."""
    from kombu.utils.json import loads

    try:
        value = loads(s, *args, **kwargs)
    except ValueError as exc:
        return quarantine_envelope(_text(s), f"not JSON ({exc})")
    if isinstance(value, list):
        return value  # kombu's own [message, exchange, routing key] records
    if not isinstance(value, dict) or not isinstance(value.get("properties"), dict) or "body" not in value:
        return quarantine_envelope(_text(s), "JSON, but not a message envelope (needs body and properties)")
    return value


def _text(s) -> str:
    return s.decode("utf-8", "replace") if isinstance(s, (bytes, bytearray)) else str(s)


def install() -> None:
    """Use :func:`tolerant_loads` in kombu's Redis transport (once per process)."""
    global _installed
    if _installed:
        return
    from kombu.transport import redis as kombu_redis

    kombu_redis.loads = tolerant_loads
    _installed = True
