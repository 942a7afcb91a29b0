"""The ``newsflow`` command: process, submit, worker, get, watch, dlq, config, schema, eval, train."""

from __future__ import annotations

import collections
import importlib
import json
import os
import sys
import time
from contextlib import nullcontext

import click

from pipeline.errors import ArticleFailed, NewsflowError, WaitTimeout
from pipeline.models import ArticleIn, Document
from pipeline.registry import STAGE_ORDER, parse_stage_list, pipeline_through
from workers import keys
from workers.inputs import InputItem, StdinBuffer, dumps_line, read_items
from workers.settings import Settings, mask_secrets

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic wraps our ConfigError; show one line
        _die(f"newsflow: invalid settings: {mask_secrets(str(exc)).splitlines()[0]}", EXIT_BAD_INPUT)


def _die(message: str, code: int = EXIT_FAILED):
    click.echo(message, err=True)
    sys.exit(code)


def _stages_option(value: str | None) -> list[str] | None:
    if value is None:
        return None
    try:
        return parse_stage_list(value)
    except NewsflowError as exc:
        raise click.BadParameter(str(exc)) from None


def _validate_all(paths: list[str], settings: Settings, stdin: StdinBuffer) -> int:
    """First pass: validate every input without keeping it. Exits 2 naming each bad one."""
    errors, count = [], 0
    for item in read_items(paths, max_bytes=settings.max_article_bytes, stdin=stdin):
        if item.error:
            errors.append(f"{item.where}: {item.error}")
        else:
            count += 1
    if errors:
        for line in errors[:50]:
            click.echo(f"newsflow: {line}", err=True)
        if len(errors) > 50:
            click.echo(f"newsflow: ... and {len(errors) - 50} more bad inputs", err=True)
        _die(f"newsflow: {len(errors)} bad input(s); nothing was enqueued", EXIT_BAD_INPUT)
    if count == 0:
        _die("newsflow: no articles found in the given paths", EXIT_BAD_INPUT)
    return count


def _progress(total: int, label: str):
    if sys.stderr.isatty():
        return click.progressbar(length=total, label=label, file=sys.stderr)
    return nullcontext(None)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsflow")
def main() -> None:
    """newsflow: clean, language, entities and topics for news articles, on Celery."""


# -- process ---------------------------------------------------------------------------


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="One Document JSON per line, in input order.")
@click.option("--stages", help=f"Run the pipeline through these stages ({','.join(STAGE_ORDER)}).")
@click.option("--timeout-s", default=300.0, show_default=True, help="Max seconds to wait for one article.")
@click.option("--window", default=64, show_default=True, help="Articles in flight at once.")
def process(paths, as_json, stages, timeout_s, window):
    """Process .txt/.html/.json/.jsonl files, directories or - (stdin) and print the results.

    Embedded (no NEWSFLOW_BROKER_URL): runs the Celery tasks in-process over the memory
    transport. Distributed: submits to the broker and waits for the workers.
    """
    settings = _settings()
    run = pipeline_through(_stages_option(stages))
    stdin = StdinBuffer()
    total = _validate_all(list(paths), settings, stdin)
    from workers.app import create_app
    from workers.client import Client

    app = create_app(settings)
    client = Client(settings, app)
    if settings.embedded:
        from workers.embedded import embedded_worker

        context = embedded_worker(app)
    else:
        context = nullcontext()
        _check_broker(app)
    failed = 0
    with context, _progress(total, "processing") as bar:
        items = read_items(list(paths), max_bytes=settings.max_article_bytes, stdin=stdin)
        for item, outcome in _pipelined(client, items, run, window, timeout_s):
            if bar is not None:
                bar.update(1)
            if isinstance(outcome, Exception):
                failed += 1
                click.echo(f"newsflow: {item.where}: {outcome}", err=True)
                continue
            for doc in outcome:
                click.echo(dumps_line(doc.model_dump(mode="json")) if as_json else _summary(doc, item.where))
    if failed:
        _die(f"newsflow: {failed} of {total} article(s) failed; see `newsflow dlq list`", EXIT_FAILED)


def _pipelined(client, items, run, window, timeout_s):
    """Submit with at most ``window`` in flight; yield ``(item, [docs] | error)`` in input order."""
    pending: collections.deque[tuple[InputItem, str]] = collections.deque()

    def finish(item: InputItem, article_id: str):
        try:
            return item, _collect(client, article_id, timeout_s)
        except (ArticleFailed, WaitTimeout) as exc:
            return item, exc

    for item in items:
        article_id = client.publish([client.prepare(item.article)], stages=run)[0]
        pending.append((item, article_id))
        if len(pending) >= window:
            yield finish(*pending.popleft())
    while pending:
        yield finish(*pending.popleft())


def _collect(client, article_id: str, timeout_s: float) -> list[Document]:
    """The stored Document and, after it, every article split out of it (recursively)."""
    doc = client.wait(article_id, timeout_s)
    out = [doc]
    for child_id in doc.derived_ids:
        try:
            out.extend(_collect(client, child_id, timeout_s))
        except ArticleFailed as exc:
            click.echo(f"newsflow: split-off {child_id}: {exc}", err=True)
    return out


def _summary(doc: Document, where: str) -> str:
    lang = doc.language
    lines = [f"● {doc.id}  ({where}{', split from ' + doc.derived_from if doc.derived_from else ''})"]
    if doc.title:
        lines.append(f"  title:    {doc.title}")
    paragraphs = doc.text.count("\n\n") + 1 if doc.text else 0
    lines.append(
        f"  text:     {len(doc.text):,} chars, {paragraphs} paragraph(s); removed {len(doc.removed)} block(s)"
        + (f", split off {len(doc.derived_ids)}" if doc.derived_ids else "")
    )
    lines.append(f"  language: {lang.code} ({lang.name}, {lang.confidence:.2f})" if lang else "  language: -")
    if doc.entities:
        shown = ", ".join(f"{e.text} [{e.label}]" for e in doc.entities[:12])
        more = f" … +{len(doc.entities) - 12}" if len(doc.entities) > 12 else ""
        lines.append(f"  entities: {shown}{more}")
    else:
        lines.append("  entities: -")
    lines.append(
        "  topics:   " + (", ".join(f"{t.label} {t.score:.2f}" for t in doc.topics[:4]) if doc.topics else "-")
    )
    if doc.duplicate and (doc.duplicate.seen_before or doc.duplicate.near_duplicate_of):
        lines.append(f"  duplicate of: {doc.duplicate.near_duplicate_of}")
    skipped = [p.stage for p in doc.provenance if p.status != "ok"]
    if skipped:
        lines.append(f"  not yet implemented: {', '.join(skipped)} (fields left empty)")
    for block in doc.removed[:6]:
        snippet = " ".join(block.text.split())[:70]
        lines.append(f"  removed:  [{block.rule}] {snippet}")
    lead = " ".join(doc.text.split())[:160]
    lines.append(f"  lead:     {lead}{'…' if len(doc.text) > 160 else ''}")
    return "\n".join(lines)


def _check_broker(app) -> None:
    from workers.settings import mask_url

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=5)
    except Exception as exc:
        _die(
            f"newsflow: broker {mask_url(app.conf.broker_url)} unreachable: {mask_secrets(str(exc))} "
            "(start it or fix NEWSFLOW_BROKER_URL); nothing was enqueued",
            EXIT_FAILED,
        )


# -- submit / get / worker / watch -----------------------------------------------------------


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--stages", help="Run the pipeline through these stages.")
@click.option("--chunk", default=500, show_default=True, help="Articles published per connection batch.")
def submit(paths, stages, chunk):
    """Validate and enqueue articles (needs NEWSFLOW_BROKER_URL); prints one id per line."""
    settings = _settings()
    if settings.embedded:
        _die(
            "newsflow: submit needs a broker: set NEWSFLOW_BROKER_URL=redis://localhost:6379/0 "
            "(or use `newsflow process` to run embedded)",
            EXIT_BAD_INPUT,
        )
    run = pipeline_through(_stages_option(stages))
    stdin = StdinBuffer()
    total = _validate_all(list(paths), settings, stdin)
    from workers.app import create_app
    from workers.client import Client, SubmitError

    app = create_app(settings)
    client = Client(settings, app)
    _check_broker(app)
    sent: list[str] = []
    batch = []
    try:
        with _progress(total, "submitting") as bar:
            for item in read_items(list(paths), max_bytes=settings.max_article_bytes, stdin=stdin):
                batch.append(client.prepare(item.article))
                if len(batch) >= chunk:
                    sent += _publish_batch(client, batch, run, bar)
                    batch = []
            if batch:
                sent += _publish_batch(client, batch, run, bar)
    except SubmitError as exc:
        for article_id in sent + exc.sent_ids:
            click.echo(article_id)
        _die(f"newsflow: {exc}; {len(sent) + len(exc.sent_ids)} of {total} were sent (ids above)", EXIT_FAILED)
    for article_id in sent:
        click.echo(article_id)


def _publish_batch(client, batch, run, bar) -> list[str]:
    ids = client.publish(batch, stages=run)
    if bar is not None:
        bar.update(len(ids))
    return ids


@main.command()
@click.argument("article_id")
def get(article_id):
    """Print the stored Document of ARTICLE_ID as JSON."""
    settings = _settings()
    from workers.client import Client

    client = Client(settings)
    doc = client.get(article_id)
    if doc is None:
        failed = client.dead_letter(article_id)
        if failed:
            entry, letter = failed
            _die(f"newsflow: {article_id} failed in {letter.stage}: [{letter.code}] {letter.message} "
                 f"(see `newsflow dlq show {entry}`)")
        _die(f"newsflow: no stored document {article_id} (not submitted, still in flight, or expired)")
    click.echo(json.dumps(doc.model_dump(mode="json"), ensure_ascii=False, indent=2))


@main.command()
@click.option("--stages", help="Serve only these stages' queues (e.g. 'entities'); default: all + store.")
@click.option("--concurrency", "-c", type=int, default=None,
              help="Worker processes (default: CPU count); with --pool solo, that many supervised solo workers.")
@click.option("--pool", default="prefork", show_default=True, type=click.Choice(["prefork", "solo", "threads"]))
@click.option("--loglevel", "-l", default="INFO", show_default=True)
@click.option("--hostname", "-n", default=None, help="Node name (default: newsflow-<stages>@%h).")
@click.option("--supervise/--no-supervise", default=True, show_default=True,
              help="Restart the worker if it crashes (e.g. on a broker restart).")
def worker(stages, concurrency, pool, loglevel, hostname, supervise):
    """Run a Celery worker that consumes the given stages' queues."""
    settings = _settings()
    if settings.embedded:
        _die("newsflow: worker needs NEWSFLOW_BROKER_URL (e.g. redis://localhost:6379/0)", EXIT_BAD_INPUT)
    names = list(keys.QUEUE_STAGES) if not stages else _worker_stages(stages)
    # Parallelism is one process per core; multi-threaded BLAS inside each process would
    # oversubscribe the cores (measured: 2 processes ran barely faster than 1). Set before
    # numpy loads, here and in the supervised child.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    node = hostname or f"newsflow-{'-'.join(names) if stages else 'all'}@%h"
    if pool == "solo" and not supervise and (concurrency or 1) > 1:
        _die("newsflow: --pool solo --no-supervise runs one process; drop --concurrency, or let the "
             "supervisor start one solo process per core", EXIT_BAD_INPUT)
    if supervise:
        from workers.supervisor import supervise_all

        child = [sys.executable, "-m", "workers.cli", "worker", "--no-supervise", "--pool", pool,
                 "--loglevel", loglevel, *(["--stages", stages] if stages else [])]
        if pool == "solo":
            # One solo process per core, each its own Celery node: no parent-to-child hand-off
            # (see README, Performance), at the price of one copy of the models per process.
            count = concurrency or os.cpu_count() or 1
            nodes = [node] if count == 1 else [_numbered(node, i + 1) for i in range(count)]
            children = [[*child, "--hostname", n] for n in nodes]
        else:
            children = [[*child, "--hostname", node, *(["--concurrency", str(concurrency)] if concurrency else [])]]
        sys.exit(supervise_all(children))
    from pipeline.resources import preload
    from workers.app import get_app

    # Models load once, before the pool forks, so every child shares them.
    loaded, failed = preload([n for n in names if n in STAGE_ORDER])
    for name, error in failed.items():
        click.echo(f"newsflow: WARNING cannot load {name}: {error}; its stage will dead-letter articles "
                   "until the model is fixed (`newsflow dlq replay --all` afterwards)", err=True)
    click.echo(f"newsflow: preloaded {', '.join(loaded) or 'no models'}; "
               f"queues {', '.join(keys.queue(n) for n in names)}", err=True)
    argv = ["worker", "-Q", ",".join(keys.queue(n) for n in names), "--pool", pool, "--loglevel", loglevel,
            "-n", node]
    if concurrency:
        argv += ["--concurrency", str(concurrency)]
    app = get_app()
    if settings.fuse_stages:
        app.newsflow_inline_stages = frozenset(names)
    from workers.ledger import Reconciler

    # In the parent process only: a forking pool's children never start it.
    Reconciler(app).start()
    if pool == "solo":
        # Celery enforces time limits in prefork only; a solo worker gets newsflow's own.
        from workers.failures import dead_letter_hard_limit
        from workers.time_limits import SoloTimeLimits

        SoloTimeLimits(settings.stage_soft_time_limit_s, settings.stage_time_limit_s,
                       lambda running: dead_letter_hard_limit(running.task, running)).install()
    app.worker_main(argv)


def _numbered(node: str, i: int) -> str:
    """``name@host`` -> ``name-i@host``: Celery nodes of one machine need distinct names."""
    name, at, host = node.partition("@")
    return f"{name}-{i}{at}{host}"


def _worker_stages(spec: str) -> list[str]:
    names = [n.strip() for n in spec.split(",") if n.strip()]
    bad = [n for n in names if n not in keys.QUEUE_STAGES]
    if bad or not names:
        raise click.BadParameter(f"unknown stage(s) {', '.join(bad) or '(none)'}: choose from {', '.join(keys.QUEUE_STAGES)}")
    return [n for n in keys.QUEUE_STAGES if n in names]


@main.command()
@click.option("--stage", "stage", help="Stages to follow (comma list of stages and 'done'); default all.")
@click.option("--from-start", is_flag=True, help="Replay the streams from their oldest kept event.")
@click.option("--json", "as_json", is_flag=True, help="Print each event's summary as JSON.")
@click.option("--count", type=int, default=None, help="Exit after this many events.")
@click.option("--idle-exit-s", type=float, default=None, help="Exit after this many seconds without events.")
def watch(stage, from_start, as_json, count, idle_exit_s):
    """Follow the per-stage event streams live (newsflow:events:<stage>)."""
    settings = _settings()
    from workers import events
    from workers.connection import redis_client

    streams = [*STAGE_ORDER, "done"] if not stage else [s.strip() for s in stage.split(",") if s.strip()]
    bad = [s for s in streams if s not in (*STAGE_ORDER, "done")]
    if bad:
        raise click.BadParameter(f"unknown stage(s) {', '.join(bad)}: choose from {', '.join((*STAGE_ORDER, 'done'))}")
    seen = 0
    try:
        for name, entry_id, fields in events.follow(
            redis_client(settings), streams, from_start=from_start, stop_after_idle_s=idle_exit_s
        ):
            info = events.summarize(fields)
            if as_json:
                click.echo(dumps_line({"stream": name, "entry": entry_id, **info}))
            else:
                when = time.strftime("%H:%M:%S", time.localtime(float(fields.get("at") or 0)))
                extra = f"{info['ms']}ms" if info["ms"] else ""
                click.echo(f"{when} {name:<8} {info['id']:<40} {extra:>10} lang={info['language'] or '-'} "
                           f"ents={info['entities']} chars={info['chars']}")
            seen += 1
            if count and seen >= count:
                return
    except KeyboardInterrupt:
        return


# -- dead letters ------------------------------------------------------------------------


@main.group()
def dlq():
    """Inspect, replay and purge dead letters (newsflow:dead)."""


@dlq.command("list")
@click.option("--stage", default=None, help="Only this stage's failures.")
@click.option("--count", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def dlq_list(stage, count, as_json):
    """List the newest dead letters."""
    from workers import deadletters
    from workers.connection import redis_client

    for entry_id, letter in deadletters.list_letters(redis_client(_settings()), stage=stage, count=count):
        if as_json:
            click.echo(dumps_line({"entry": entry_id, **letter.model_dump(mode="json", exclude={"payload", "traceback"})}))
        else:
            click.echo(f"{entry_id}  {letter.stage:<9} {letter.article_id or '-':<40} [{letter.code}] {letter.message[:100]}")


@dlq.command("show")
@click.argument("entry_id")
def dlq_show(entry_id):
    """Show one dead letter: error, traceback and the original payload."""
    from workers import deadletters
    from workers.connection import redis_client

    letter = deadletters.get_letter(redis_client(_settings()), entry_id)
    if letter is None:
        _die(f"newsflow: no dead letter {entry_id} (list them with `newsflow dlq list`)")
    click.echo(json.dumps(letter.model_dump(mode="json"), ensure_ascii=False, indent=2))


@dlq.command("replay")
@click.argument("entry_ids", nargs=-1)
@click.option("--all", "replay_all", is_flag=True, help="Replay every dead letter.")
def dlq_replay(entry_ids, replay_all):
    """Re-enter dead letters at the stage that failed."""
    if not entry_ids and not replay_all:
        raise click.UsageError("name dead-letter ids or pass --all")
    settings = _settings()
    from workers.app import create_app
    from workers.replay import replay

    try:
        done = replay(create_app(settings), None if replay_all else list(entry_ids))
    except NewsflowError as exc:
        _die(f"newsflow: {exc}")
    click.echo(f"replayed {len(done)} dead letter(s)")
    if settings.embedded and done:
        click.echo("note: embedded mode has no running worker; replays run where a worker consumes", err=True)


@dlq.command("purge")
@click.option("--older-than", "older_than", required=True, help="Age such as 30s, 15m, 12h, 7d.")
def dlq_purge(older_than):
    """Drop dead letters older than the given age."""
    from workers import deadletters
    from workers.connection import redis_client

    seconds = _parse_age(older_than)
    removed = deadletters.purge_older_than(redis_client(_settings()), seconds)
    click.echo(f"purged {removed} dead letter(s) older than {older_than}")


def _parse_age(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    try:
        return float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)
    except (ValueError, IndexError):
        raise click.BadParameter(f"{text!r} is not an age: use e.g. 30s, 15m, 12h, 7d") from None


# -- introspection -----------------------------------------------------------------------


@main.command()
def config():
    """Print the effective settings (passwords masked)."""
    for key, value in _settings().masked().items():
        click.echo(f"{key} = {value}")


@main.command()
def schema():
    """Print the JSON Schema of ArticleIn and Document."""
    click.echo(json.dumps({"ArticleIn": ArticleIn.model_json_schema(), "Document": Document.model_json_schema()},
                          ensure_ascii=False, indent=2))


_PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


@main.command(context_settings=_PASS_THROUGH)
@click.argument("name", required=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def eval(ctx, name, args):  # noqa: A001  (the command is `newsflow eval`)
    """Evaluate a component: `newsflow eval NAME --help` (clean, language, ner, topics)."""
    sys.exit(_run_tool(ctx, "pipeline.evaluation", name, list(args)))


@main.command(context_settings=_PASS_THROUGH)
@click.argument("name", required=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def train(ctx, name, args):
    """Train a model from data: `newsflow train NAME --help` (language, ner, topics)."""
    sys.exit(_run_tool(ctx, "pipeline.training", name, list(args)))


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench(args):
    """Benchmark stages, embedded and Redis runs: `newsflow bench --help`."""
    from benchmarks.pipeline_bench import main as bench_main

    sys.exit(bench_main(list(args)))


def _run_tool(ctx, package: str, name: str | None, args: list[str]) -> int:
    # NAME's own options (--help included) belong to the tool, so only a bare
    # `newsflow eval [--help]` shows this command's help.
    if name in (None, "--help", "-h"):
        click.echo(ctx.get_help())
        return 0
    if not name.isidentifier():
        _die(f"newsflow: unknown tool {name!r}", EXIT_BAD_INPUT)
    try:
        module = importlib.import_module(f"{package}.{name}")
    except ModuleNotFoundError:
        _die(f"newsflow: no {package.rsplit('.', 1)[-1]} tool named {name!r}", EXIT_BAD_INPUT)
    return int(module.main(args) or 0)


from workers.console.commands import console, status  # noqa: E402
main.add_command(status)
main.add_command(console)


if __name__ == "__main__":
    main()
