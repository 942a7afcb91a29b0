"""``newsflow status`` and ``newsflow console`` (registered on the main CLI group)."""

from __future__ import annotations

import ipaddress
import json
import sys
from contextlib import nullcontext

import click

LOOPBACK_NAMES = {"localhost", "ip6-localhost"}


def _settings():
    from workers.cli import _settings as cli_settings

    return cli_settings()


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of the table.")
@click.option("--timeout-s", default=1.0, show_default=True, help="How long to wait for workers to answer.")
def status(as_json, timeout_s):
    """Queues, in-flight messages, throughput, stage timings, workers, dead letters, store size.

    Exits 1 when the broker or the store cannot be reached (the reason is printed).
    """
    from workers import status as status_mod
    from workers.app import create_app

    settings = _settings()
    report = status_mod.collect(create_app(settings), inspect_timeout_s=timeout_s)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(status_mod.format_text(report))
        if settings.embedded:
            click.echo(
                "note: embedded mode has no shared store; this shows only this process. "
                "Set NEWSFLOW_BROKER_URL to see a distributed pipeline.",
                err=True,
            )
    sys.exit(0 if report.ok else 1)


@click.command()
@click.argument("paths", nargs=-1)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--token", envvar="NEWSFLOW_CONSOLE_TOKEN", default=None,
              help="Require this token (env NEWSFLOW_CONSOLE_TOKEN); mandatory off loopback.")
@click.option("--refresh-s", default=5, show_default=True, help="Pipeline view auto-refresh interval.")
@click.option("--stages", help="Embedded PATHS only: run the pipeline through these stages.")
def console(paths, host, port, token, refresh_s, stages):
    """Serve the operator console (Pipeline, Articles, Article, Dead letters) over HTTP.

    Distributed: reads the shared Redis. Embedded (no NEWSFLOW_BROKER_URL): give PATHS to
    process them in this process first; an embedded worker keeps running so replays work.
    """
    import uvicorn

    from workers.app import create_app
    from workers.console.web import create_console

    token = token or None
    if not is_loopback(host) and not token:
        raise click.UsageError(
            f"binding {host} exposes the console beyond this machine: set NEWSFLOW_CONSOLE_TOKEN "
            "or pass --token (or bind 127.0.0.1)"
        )
    settings = _settings()
    app = create_app(settings)
    if paths and not settings.embedded:
        raise click.UsageError("PATHS are for embedded mode; with a broker use `newsflow submit PATHS`")
    context = nullcontext()
    if settings.embedded:
        from workers.embedded import embedded_worker

        context = embedded_worker(app)
    with context:
        if paths:
            _process_embedded(app, settings, list(paths), stages)
        where = f"http://{host if ':' not in host else f'[{host}]'}:{port}/"
        click.echo(f"newsflow console on {where}" + (" (token required)" if token else ""), err=True)
        uvicorn.run(create_console(app, token=token, refresh_s=refresh_s), host=host, port=port,
                    log_level="warning", access_log=False)


def _process_embedded(app, settings, paths: list[str], stages: str | None) -> None:
    from pipeline.errors import NewsflowError
    from pipeline.registry import parse_stage_list, pipeline_through
    from workers.client import Client
    from workers.inputs import StdinBuffer, read_items

    run = pipeline_through(parse_stage_list(stages) if stages else None)
    client = Client(settings, app)
    ok = failed = 0
    for item in read_items(paths, max_bytes=settings.max_article_bytes, stdin=StdinBuffer()):
        if item.error:
            click.echo(f"newsflow: {item.where}: {item.error}", err=True)
            failed += 1
            continue
        article_id = client.publish([client.prepare(item.article)], stages=run)[0]
        try:
            client.wait(article_id, timeout_s=300)
            ok += 1
        except NewsflowError as exc:  # failures stay visible under Dead letters
            click.echo(f"newsflow: {item.where}: {exc}", err=True)
            failed += 1
    click.echo(f"processed {ok} article(s), {failed} failed", err=True)
