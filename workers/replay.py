"""Replaying dead letters: re-enter the pipeline at the stage that failed."""

from __future__ import annotations

import json

from celery import Celery

from pipeline.errors import InvalidArticle
from pipeline.models import DeadLetter
from workers import deadletters, keys, ledger
from workers.connection import redis_client
from workers.flow import publish_chain, stage_signature
from workers.transport import QUARANTINE_STAGE


def replay_letter(app: Celery, letter: DeadLetter) -> None:
    """Publish ``letter``'s original payload to its failed stage, followed by the stages it still had."""
    if letter.stage == QUARANTINE_STAGE:
        raise InvalidArticle(
            "this dead letter is an item that was not a newsflow message; there is nothing to replay",
            hint="fix the producer that wrote it, resubmit the article, then `newsflow dlq purge`",
            code="E109",
        )
    try:
        payload = json.loads(letter.payload)
    except json.JSONDecodeError:
        raise InvalidArticle(
            "dead letter payload is not JSON and cannot be replayed",
            hint="inspect it with `newsflow dlq show`, fix the producer and resubmit",
            code="E106",
        ) from None
    if letter.stage == "ingest":
        # The ingest task tracks the article once it has validated it.
        stage_signature(app, "ingest", payload).apply_async()
        return
    stages = [] if letter.stage == keys.STORE_STAGE else [letter.stage, *letter.remaining]
    if isinstance(payload, dict) and payload.get("id"):
        ledger.publish_tracked(app, redis_client(app.newsflow_settings), [(payload, stages)])
    else:  # no id to track it by; the stage will dead-letter it again with the reason
        publish_chain(app, payload, stages)


def replay(app: Celery, entry_ids: list[str] | None = None) -> list[str]:
    """Replay the given dead letters (all when ``entry_ids`` is None); returns the replayed ids.

    Each entry is removed from the stream once its replay is published; if it fails
    again it comes back as a new entry.
    """
    client = redis_client(app.newsflow_settings)
    if entry_ids is None:
        # Quarantined items have nothing to replay; they stay listed until purged.
        entries = [(eid, letter) for eid, letter in deadletters.list_letters(client, count=10**9)
                   if letter.stage != QUARANTINE_STAGE][::-1]
    else:
        entries = []
        for eid in entry_ids:
            letter = deadletters.get_letter(client, eid)
            if letter is None:
                raise InvalidArticle(f"no dead letter {eid}", hint="list them with `newsflow dlq list`", code="E107")
            entries.append((eid, letter))
    done = []
    for eid, letter in entries:
        if letter.article_id:
            client.delete(keys.dead_index_key(letter.article_id))
        replay_letter(app, letter)
        deadletters.remove(client, [eid])
        done.append(eid)
    return done
