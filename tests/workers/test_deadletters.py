"""Dead letters: kept with payload and reason, listable, replayable, purgeable."""

import json
from datetime import datetime, timezone

from pipeline.models import DeadLetter
from workers import deadletters


def _letter(article_id="a", stage="clean", **kw):
    return DeadLetter(article_id=article_id, stage=stage, error_type="StageError", code="E211",
                      message="no article text after cleaning", failed_at=datetime.now(timezone.utc),
                      payload=json.dumps({"id": article_id, "body": "x"}), remaining=["language"], **kw)


def test_letters_keep_everything_needed_to_replay(settings, store):
    entry = deadletters.add(store, settings, _letter())
    letter = deadletters.get_letter(store, entry)
    assert letter == _letter().model_copy(update={"failed_at": letter.failed_at})
    assert letter.remaining == ["language"]
    assert deadletters.letter_for_article(store, "a")[0] == entry


def test_list_filters_by_stage_newest_first(settings, store):
    deadletters.add(store, settings, _letter("a", "clean"))
    deadletters.add(store, settings, _letter("b", "topics"))
    deadletters.add(store, settings, _letter("c", "clean"))
    assert [l.article_id for _e, l in deadletters.list_letters(store)] == ["c", "b", "a"]
    assert [l.article_id for _e, l in deadletters.list_letters(store, stage="clean")] == ["c", "a"]
    assert deadletters.count_by_stage(store) == {"clean": 2, "topics": 1}


def test_purge_drops_only_old_letters(settings, store):
    deadletters.add(store, settings, _letter())
    assert deadletters.purge_older_than(store, 3600) == 0
    assert deadletters.purge_older_than(store, -1) == 1
    assert deadletters.list_letters(store) == []


def test_replay_reenters_at_the_failed_stage(app, worker, store):
    from workers.client import Client
    from workers.replay import replay

    # A document that failed in "language" with only "entities" left after it.
    payload = {"id": "rp-1", "text": "Already clean.", "body": None}
    entry = deadletters.add(store, app.newsflow_settings,
                            _letter("rp-1", "language").model_copy(update={"payload": json.dumps(payload),
                                                                           "remaining": ["entities"]}))
    assert replay(app, [entry]) == [entry]
    doc = Client(app.newsflow_settings, app).wait("rp-1", 20)
    assert doc.stages_done() == ["language", "entities"]
    assert deadletters.list_letters(store) == []
