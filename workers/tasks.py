"""One thin Celery task per stage: decode, call the stage, publish, hand on.

Failure policy lives in :mod:`workers.failures`; storage in :mod:`workers.store`.
"""

from __future__ import annotations

import hashlib

from celery import Celery

from pipeline.errors import InvalidArticle
from pipeline.ids import article_id
from pipeline.intake import check_body_size, parse_article
from pipeline.models import Document
from pipeline.registry import STAGE_ORDER, get_stage, pipeline_through
from pipeline.runner import run_stage
from pipeline.split import split_off_documents
from workers import keys, ledger, store
from workers.failures import NewsflowTask
from workers.embedded import WAKEUP_TASK
from workers.transport import QUARANTINE_STAGE, QUARANTINE_TASK
from workers.flow import remaining_stages


def decode_document(payload, *, max_bytes: int) -> Document:
    """The Document in a task message, validated (a producer may bypass the client)."""
    if not isinstance(payload, dict):
        raise InvalidArticle(
            f"task payload must be a Document object, got {type(payload).__name__}",
            hint="submit through newsflow.client or the newsflow.ingest task",
            code="E105",
        )
    doc = Document.model_validate(payload)
    if doc.body is not None:
        check_body_size(doc.body, max_bytes)
    return doc


def input_digest(doc_json: str) -> str:
    """Short hash of a stage's input, so a changed article under the same id is recomputed."""
    return hashlib.blake2b(doc_json.encode("utf-8"), digest_size=8).hexdigest()


class FusedRun:
    """The stages one message runs inline, and their outputs not yet written to Redis.

    Outputs are committed in one transaction when the run ends: with the stored Document
    when the store step is inline too, else before the Document is handed on. A crash
    before that commits nothing, and the redelivered message recomputes the run.
    """

    def __init__(self, task: NewsflowTask):
        self.task = task
        self.pending: list[store.StageOutput] = []
        self.stored = store.NOT_READ  # digest of the stored Document, read with the first checkpoint
        self.computed = False  # once a stage computes, no later stage can have a checkpoint

    def checkpoint(self, article_id: str, stage: str, version: str) -> str | None:
        """The checkpoint of ``stage`` for this input, if a previous delivery committed it."""
        if self.computed:
            return None  # its input is new output, never committed: nothing to look up
        if self.stored is store.NOT_READ:
            cached, self.stored = store.get_checkpoint_and_stored(self.task.redis, article_id, stage, version)
            return cached
        return store.get_checkpoint(self.task.redis, article_id, stage, version)

    def add(self, output: store.StageOutput) -> None:
        """Queue one computed stage output for the run's commit."""
        self.computed = True
        self.pending.append(output)

    def commit(self) -> None:
        """Write the queued outputs and their events (one transaction)."""
        store.commit_stages(self.task.redis, self.task.settings, self.pending)
        self.pending = []

    def store(self, doc: Document, doc_json: str) -> None:
        """Store the finished Document, with the queued outputs, in one transaction."""
        store.save_document(self.task.redis, self.task.settings, doc_json, doc.id,
                            outputs=self.pending, stored=self.stored)
        self.pending = []


def _stage_body(task: NewsflowTask, run: FusedRun, stage_name: str, doc: Document, doc_json: str) -> tuple[Document, str]:
    """Run one stage on ``doc`` (``doc_json`` is its JSON); returns the output and its JSON."""
    settings = task.settings
    # Read by a solo worker's hard-limit watchdog: which stage, on which input, if it hangs.
    task.request.newsflow_running = (stage_name, doc_json)
    stage = get_stage(stage_name)
    version = f"{stage.version}-{input_digest(doc_json)}"
    cached = run.checkpoint(doc.id, stage_name, version)
    if cached is not None:
        out, out_json = Document.model_validate_json(cached), cached  # a redelivery: re-emit nothing
    else:
        out = run_stage(stage, doc)
        if stage_name == "clean":
            store.mark_duplicates(task.redis, settings, out)
            if settings.skip_duplicates and out.duplicate and out.duplicate.seen_before:
                out.warnings.append(
                    f"exact duplicate of {out.duplicate.near_duplicate_of}: later stages skipped "
                    "(NEWSFLOW_SKIP_DUPLICATES=true)"
                )
        out_json = out.model_dump_json()
        run.add(store.StageOutput(stage_name, version, out.id, out_json, out.provenance[-1].ms))
    if stage_name == "clean":
        _spawn_split_offs(task, out)
        if settings.skip_duplicates and out.duplicate and out.duplicate.seen_before:
            task.request.chain = [s for s in task.request.chain or [] if s.get("task") == keys.task_name(keys.STORE_STAGE)]
    return out, out_json


def _decode(task: NewsflowTask, payload) -> tuple[Document, str]:
    doc = decode_document(payload, max_bytes=task.settings.max_article_bytes)
    return doc, doc.model_dump_json()


def _store_body(task: NewsflowTask, doc: Document, doc_json: str) -> None:
    store.save_document(task.redis, task.settings, doc_json, doc.id)


def _run_with_following(task: NewsflowTask, stage_name: str, payload) -> dict | None:
    """Run ``stage_name``, then every following chain step this worker also serves.

    A broker hop costs milliseconds; when the next stage's queue is one this worker
    consumes anyway, running it here gives the same result, events and checkpoints
    without the hop, and the run's Redis writes go in one transaction. A step that fails
    inline is handed on through its queue instead, so its own task applies the retry /
    dead-letter policy and names the right stage.
    """
    # Decoded once; fused stages pass the Document and its JSON along (the JSON is also
    # the next stage's checkpoint input), so nothing is re-parsed or re-serialised.
    run = FusedRun(task)
    out, out_json = _stage_body(task, run, stage_name, *_decode(task, payload))
    inline = getattr(task.app, "newsflow_inline_stages", None) or ()
    chain = task.request.chain
    while chain and isinstance(chain[-1], dict):
        following = chain[-1].get("task", "")
        name = following.rsplit(".", 1)[-1]
        if name not in inline or following != keys.task_name(name):
            break
        try:
            if name == keys.STORE_STAGE:
                run.store(out, out_json)
                chain.pop()
                return None  # stored: nothing left to hand on
            out_next = _stage_body(task, run, name, out, out_json)
        except Exception:  # the queued task for this step will handle it properly
            break
        chain.pop()
        out, out_json = out_next
    run.commit()  # before handing on: the next stage's events must follow these
    return out.model_dump(mode="json")


def _spawn_split_offs(task: NewsflowTask, parent: Document) -> None:
    # Children follow the parent's own remaining stages; their ids are stable, so a
    # redelivered clean spawns the same children and their checkpoints dedupe the work.
    stages = ["clean", *remaining_stages(task.request.chain)]
    children = [(child.model_dump(mode="json"), stages) for child in split_off_documents(parent)]
    ledger.publish_tracked(task.app, task.redis, children)


def register_tasks(app: Celery) -> None:
    """Register the stage tasks, ``newsflow.store`` and ``newsflow.ingest`` on ``app``."""
    for stage_name in STAGE_ORDER:
        _register_stage(app, stage_name)

    @app.task(name=keys.task_name(keys.STORE_STAGE), bind=True, base=NewsflowTask, shared=False)
    def store_document(self, payload) -> None:
        """Write the finished Document to ``newsflow:doc:<id>`` and XADD ``newsflow:events:done``."""
        self.guarded(keys.STORE_STAGE, payload, lambda: _store_body(self, *_decode(self, payload)))

    @app.task(name=keys.task_name("ingest"), bind=True, base=NewsflowTask, shared=False)
    def ingest(self, article, stages=None) -> None:
        """Entry point for producers in other languages: validate an ArticleIn dict, start its chain."""

        def work():
            parsed = parse_article(article, max_bytes=self.settings.max_article_bytes)
            doc = Document.from_article(parsed, article_id(parsed)).model_dump(mode="json")
            ledger.publish_tracked(self.app, self.redis, [(doc, pipeline_through(stages))])

        self.guarded("ingest", article, work)


    @app.task(name=QUARANTINE_TASK, bind=True, base=NewsflowTask, shared=False)
    def quarantine(self, raw, reason) -> None:
        """Dead-letter an item found on a queue that is not a newsflow message (see workers.transport)."""

        def work():
            raise InvalidArticle(
                f"an item on a newsflow queue is not a Celery JSON message: {reason}",
                hint="publish through newsflow.client, `newsflow submit` or the newsflow.ingest task",
                code="E108",
            )

        self.guarded(QUARANTINE_STAGE, raw, work)

    @app.task(name=WAKEUP_TASK, shared=False, ignore_result=True)
    def wakeup() -> None:
        """No-op that wakes an embedded worker's consumer loop so it can stop promptly."""


def _register_stage(app: Celery, stage_name: str) -> None:
    @app.task(name=keys.task_name(stage_name), bind=True, base=NewsflowTask, shared=False)
    def stage_task(self, payload):
        return self.guarded(stage_name, payload, lambda: _run_with_following(self, stage_name, payload))

    stage_task.__doc__ = f"Run the {stage_name} stage on one Document and hand it on."

