"""`newsflow bench`: per-stage, embedded and Redis throughput, latency, broker overhead and RSS.

    newsflow bench --corpus saudinewsnet --limit 300 [--redis-url redis://127.0.0.1:6379/14] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.corpora import load
from pipeline.ids import article_id
from pipeline.models import ArticleIn, Document
from pipeline.registry import STAGE_ORDER
from pipeline.runner import run_stage


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of ``values`` (q in [0, 100])."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def _words(text: str) -> int:
    return len(text.split())


def bench_stages(articles: list[ArticleIn], warm: list[ArticleIn] = ()) -> dict:
    """Each stage in-process on one core: articles/s, words/s, p50/p95/p99 ms per article.

    ``warm`` articles run first, untimed (see :func:`warm_up`).
    """
    from pipeline.resources import preload

    preload()
    warm_up(warm or articles[:2])
    per_stage = {name: [] for name in STAGE_ORDER}
    words = 0
    failed = 0
    for article in articles:
        doc = Document.from_article(article, article_id(article))
        try:
            for name in STAGE_ORDER:
                started = time.perf_counter()
                doc = run_stage(name, doc)
                per_stage[name].append((time.perf_counter() - started) * 1000)
            words += _words(doc.text)
        except Exception:  # a dead-lettered article in production; counted, not timed
            failed += 1
    out = {}
    done = len(per_stage["topics"]) or 1
    for name, ms in per_stage.items():
        total_s = sum(ms) / 1000 or 1e-9
        out[name] = {
            "articles_per_s": round(len(ms) / total_s, 1),
            "words_per_s": round(words * len(ms) / done / total_s),
            "p50_ms": round(percentile(ms, 50), 2),
            "p95_ms": round(percentile(ms, 95), 2),
            "p99_ms": round(percentile(ms, 99), 2),
        }
    total_ms = [sum(v) for v in zip(*per_stage.values())]
    total_s = sum(total_ms) / 1000 or 1e-9
    out["all_stages"] = {
        "articles_per_s": round(len(total_ms) / total_s, 1),
        "words_per_s": round(words / total_s),
        "p50_ms": round(percentile(total_ms, 50), 2),
        "p95_ms": round(percentile(total_ms, 95), 2),
        "p99_ms": round(percentile(total_ms, 99), 2),
    }
    out["failed"] = failed
    out["words"] = words
    return out


def warm_up(articles: list[ArticleIn]) -> None:
    """Run ``articles`` through every stage, untimed.

    A worker in production runs for hours, so its word caches (tokenizer pieces, NER
    features) are warm; a process measured from a cold start would report the first few
    hundred articles of its life, not its steady state. Every side of the comparison
    warms up on the same articles, which are never among the measured ones.
    """
    for article in articles:
        _run_article(article)


def _run_slice(articles: list[ArticleIn], warm: list[ArticleIn], ready, start, results) -> None:
    """Warm up on ``warm``, say so on ``ready``, wait for ``start``, run all four stages on
    ``articles``, put (finished, seconds) on ``results``."""
    from pipeline.resources import preload

    preload()
    warm_up(warm or articles[:2])
    ready.release()
    start.wait()
    started = time.perf_counter()
    done = sum(_run_article(article) for article in articles)
    results.put((done, time.perf_counter() - started))
    results.close()
    results.join_thread()
    # Skip the exit handlers inherited from the parent (its kombu/Redis connections):
    # closing those from a fork blocks on, and steals from, the parent's sockets.
    os._exit(0)


def _run_article(article: ArticleIn) -> int:
    doc = Document.from_article(article, article_id(article))
    try:
        for name in STAGE_ORDER:
            doc = run_stage(name, doc)
        return 1
    except Exception:  # counted as not done, like a dead letter
        return 0


def bench_in_process(articles: list[ArticleIn], procs: int, warm: list[ArticleIn] = ()) -> dict:
    """All stages in ``procs`` plain processes, no broker.

    This is the in-process throughput "on the same number of cores" that broker overhead
    is measured against: N processes on N cores also share caches and memory bandwidth,
    which a 1-core figure times N would ignore. Every process gets an equal share of the
    articles and they start together; the wall time is the slowest one's.
    """
    import multiprocessing

    # Spawned, not forked: this process may hold broker connections by now, and kombu's
    # after-fork hook closes those in a forked child, blocking on the parent's sockets.
    # Each child loads the models itself before it warms up.
    ctx = multiprocessing.get_context("spawn")
    ready, start, results = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    workers = [ctx.Process(target=_run_slice, args=(articles[i::procs], list(warm)[i::procs], ready, start, results))
               for i in range(procs)]
    for w in workers:
        w.start()
    for _ in workers:  # every process has finished its warm-up
        while not ready.acquire(timeout=5):
            if any(w.exitcode not in (None, 0) for w in workers):
                raise SystemExit(f"bench: an in-process worker died (exit codes {[w.exitcode for w in workers]})")
    start.set()
    outcomes = []
    while len(outcomes) < procs:
        try:
            outcomes.append(results.get(timeout=5))
        except queue.Empty:
            dead = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            if dead or all(w.exitcode is not None for w in workers) and results.empty():
                for w in workers:
                    w.kill()
                raise SystemExit(f"bench: an in-process worker died (exit codes {[w.exitcode for w in workers]})")
    for w in workers:
        w.join()
    wall = max(seconds for _done, seconds in outcomes)
    return {"procs": procs, "articles_per_s": round(len(articles) / wall, 1),
            "finished": sum(done for done, _s in outcomes)}


def bench_embedded(articles: list[ArticleIn]) -> dict:
    """End to end in this process: the Celery tasks over the memory transport and fakeredis."""
    from workers.app import create_app
    from workers.client import Client
    from workers.connection import reset_clients
    from workers.embedded import embedded_worker
    from workers.settings import Settings

    reset_clients()
    settings = Settings(broker_url=None)
    app = create_app(settings)
    client = Client(settings, app)
    docs = [_tagged(a, "emb") for a in articles]
    with embedded_worker(app):
        started = time.perf_counter()
        client.publish(docs)
        outcomes = [client.result(d.id, 600) for d in docs]
        wall = time.perf_counter() - started
    stored = [o for o in outcomes if isinstance(o, Document)]
    words = sum(_words(d.text) for d in stored)
    return {"articles_per_s": round(len(docs) / wall, 1), "words_per_s": round(words / wall),
            "stored": len(stored), "dead": len(docs) - len(stored)}


def _tagged(article: ArticleIn, tag: str) -> Document:
    doc = Document.from_article(article, f"{tag}-{article_id(article)}"[:128])
    return doc


def _rss_peak_mb(pid: int) -> dict:
    """Peak RSS (VmHWM) and current PSS of a worker process and its pool children, in MB.

    Pool children are forked after the models load, so most of their RSS is shared with
    the parent; PSS divides shared pages among the processes that map them.
    """
    def field(path, name):
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(name):
                    return round(int(line.split()[1]) / 1024, 1)
        except OSError:
            return None

    def hwm(p):
        return {"peak_rss": field(f"/proc/{p}/status", "VmHWM:"), "pss": field(f"/proc/{p}/smaps_rollup", "Pss:")}
    return {"main": hwm(pid), "children": [hwm(c) for c in _children(pid)]}


def _children(pid: int) -> list[int]:
    """Pids of a worker's pool children (read from /proc)."""
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return children


TOPOLOGIES = ("all", "split")


def worker_specs(topology: str, procs: int) -> list[tuple[str | None, int]]:
    """(stages, processes) per worker: ``all`` = one all-stages worker with ``procs``
    processes; ``split`` = a dedicated entities worker beside a worker for the rest."""
    if topology == "all":
        return [(None, procs)]
    if topology == "split":
        if procs < 2:
            raise SystemExit("bench: --topology split needs at least 2 processes (1 entities + 1 rest)")
        rest = procs // 2
        return [("clean,language,topics,store", rest), ("entities", procs - rest)]
    raise SystemExit(f"bench: unknown topology {topology!r}; choose from {', '.join(TOPOLOGIES)}")


def bench_redis(articles: list[ArticleIn], redis_url: str, procs: int, saturation_only: bool = False,
                pool: str = "prefork", topology: str = "all", warm: list[ArticleIn] = (),
                baseline=None, repeat: int = 1) -> dict:
    """End to end through Redis with ``procs`` worker processes: saturation and half-rate latency.

    The saturation run is repeated ``repeat`` times. With ``baseline`` (a function giving
    the in-process articles/s on the same cores), each round first measures it, so both
    sides of every overhead figure are measured minutes apart at most, not a whole bench
    apart: the speed of a shared machine drifts by more than the overhead being measured.
    """
    import redis as redis_lib

    from workers.app import create_app
    from workers.client import Client
    from workers.connection import reset_clients
    from workers.settings import Settings

    redis_lib.Redis.from_url(redis_url).flushdb()
    reset_clients()
    settings = Settings(broker_url=redis_url)
    app = create_app(settings)
    client = Client(settings, app)
    env = {**os.environ, "NEWSFLOW_BROKER_URL": redis_url}
    # A prefork worker is one consumer process feeding `count` children; with the solo
    # pool every process consumes for itself, so `count` separate workers are started.
    launches = worker_specs(topology, procs)
    if pool == "solo":
        launches = [(stages, 1) for stages, count in launches for _ in range(count)]
    workers = []
    try:
        rounds, sat_lat = [], []
        for r in range(repeat):
            # Fresh workers every round, warmed up like the baseline's processes: workers
            # that had run the measured articles in an earlier round would be measured
            # with word caches warm on exactly those articles.
            _stop_workers(workers)
            base = baseline() if baseline else None
            workers = _start_workers(app, launches, env, topology, pool)
            warm_docs = [_tagged(a, f"warm{procs}-{r}") for a in (warm or articles[: max(2, procs * 2)])]
            since = _stream_ends(client)
            client.publish(warm_docs)
            _await_finished(client, [d.id for d in warm_docs], since, 900)
            # Saturation: everything at once.
            docs = [_tagged(a, f"sat{procs}-{r}") for a in articles]
            since = _stream_ends(client)
            started = time.time()
            client.publish(docs)  # offered all at once, over one connection
            sent_at = {d.id: started for d in docs}
            done_at, dead_at = _await_finished(client, [d.id for d in docs], since, 900)
            outcomes = [client.result(d.id, 900) for d in docs]  # read after the clock stops
            stored = [o for o in outcomes if isinstance(o, Document)]
            # The end is the last finished article's server time, not when this client noticed it.
            wall = max([*done_at.values(), *dead_at.values()]) - started
            sat_lat += [(done_at[i] - sent_at[i]) * 1000 for i in sent_at if i in done_at]
            aps = len(docs) / wall
            rounds.append({"articles_per_s": round(aps, 1), "words_per_s": round(sum(_words(d.text) for d in stored) / wall),
                           "stored": len(stored), "dead": len(docs) - len(stored),
                           **({"in_process_articles_per_s": base, "broker_overhead": round(1 - aps / base, 4)}
                              if base else {})})
        median = statistics.median_low
        result = {
            "procs": procs,
            "topology": topology,
            "rounds": rounds,
            "articles_per_s": median([x["articles_per_s"] for x in rounds]),
            "words_per_s": median([x["words_per_s"] for x in rounds]),
            "stored": min(x["stored"] for x in rounds),
            "dead": max(x["dead"] for x in rounds),
            "saturation_p50_ms": round(percentile(sat_lat, 50), 1),
            "saturation_p95_ms": round(percentile(sat_lat, 95), 1),
        }
        if baseline:
            result["in_process_articles_per_s"] = median([x["in_process_articles_per_s"] for x in rounds])
            result["broker_overhead"] = median([x["broker_overhead"] for x in rounds])
        if not saturation_only:
            rate = max(0.5, result["articles_per_s"] / 2)
            docs = [_tagged(a, f"half{procs}") for a in articles]
            sent_at = {}
            since = _stream_ends(client)
            t0 = time.time()
            for n, d in enumerate(docs):
                delay = t0 + n / rate - time.time()
                if delay > 0:
                    time.sleep(delay)
                sent_at[d.id] = time.time()
                client.publish([d])
            done_at, _dead_at = _await_finished(client, [d.id for d in docs], since, 900)
            half = [(done_at[i] - sent_at[i]) * 1000 for i in sent_at if i in done_at]
            result.update({
                "half_rate_articles_per_s": round(rate, 1),
                "half_rate_p50_ms": round(percentile(half, 50), 1),
                "half_rate_p95_ms": round(percentile(half, 95), 1),
                "half_rate_p99_ms": round(percentile(half, 99), 1),
            })
        result["rss_peak_mb"] = _rss_peak_mb(workers[0].pid)
        result["pool"] = pool
        result["workers"] = [{"stages": stages or "all", "processes": count, "cpu_s": _cpu_s(w.pid),
                              "rss_peak_mb": _rss_peak_mb(w.pid)}
                             for (stages, count), w in zip(launches, workers)]
        return result
    finally:
        _stop_workers(workers)
        redis_lib.Redis.from_url(redis_url).flushdb()


def _start_workers(app, launches: list[tuple[str | None, int]], env: dict, topology: str, pool: str) -> list:
    """Start one ``newsflow worker`` per launch and wait until all answer a ping."""
    nodes, workers = [], []
    for n, (stages, count) in enumerate(launches):
        node = f"newsflow-bench-{topology}-{n}"
        nodes.append(node)
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "worker", "--no-supervise", "--concurrency", str(count),
             "--pool", pool, "--loglevel", "WARNING", "-n", f"{node}@%h", *(["--stages", stages] if stages else [])],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
    deadline = time.monotonic() + 120
    while True:
        up = {next(iter(r)).split("@")[0] for r in (app.control.ping(timeout=0.5) or [])}
        if all(node in up for node in nodes):
            return workers
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            _stop_workers(workers)
            raise SystemExit("bench: workers did not start")


def _stop_workers(workers: list) -> None:
    """Stop the workers' process groups (TERM, then KILL after 60 s)."""
    for worker in workers:
        try:
            os.killpg(worker.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for worker in workers:
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


def _cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) used so far by a worker and its pool children."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        for p in [pid, *_children(pid)]:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    except (OSError, IndexError, ValueError):
        return None
    return round(total, 1)


def _stream_ends(client) -> dict[str, str]:
    """XREAD cursors at the current end of the done and dead-letter streams."""
    from workers import keys

    ends = {}
    for stream in (keys.DONE_STREAM, keys.DEAD_STREAM):
        last = client.redis.xrevrange(stream, count=1)
        ends[stream] = last[0][0] if last else "0-0"
    return ends


def _await_finished(client, ids: list[str], since: dict[str, str],
                    timeout_s: float) -> tuple[dict[str, float], dict[str, float]]:
    """Block until every article in ``ids`` is stored or dead-lettered.

    Returns the server times of their first done events and of their dead letters. Reads
    the two streams from ``since`` (:func:`_stream_ends`, taken before publishing) with
    blocking XREADs, so the measuring client uses almost no CPU while the workers run
    (polling each result competed with them for the same cores). Raises SystemExit after
    ``timeout_s``.
    """
    from workers import keys

    waiting = set(ids)
    finished: dict[str, dict[str, float]] = {keys.DONE_STREAM: {}, keys.DEAD_STREAM: {}}
    cursors = dict(since)
    deadline = time.monotonic() + timeout_s
    while waiting:
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: {len(waiting)} articles unfinished after {timeout_s:g}s")
        for stream, entries in client.redis.xread(cursors, block=1000, count=1000) or []:
            for entry_id, fields in entries:
                cursors[stream] = entry_id
                article = fields.get("id") or fields.get("article_id")
                if article in waiting:
                    waiting.discard(article)
                    finished[stream][article] = int(entry_id.split("-")[0]) / 1000
    return finished[keys.DONE_STREAM], finished[keys.DEAD_STREAM]


def render(report: dict) -> str:
    """The report as a plain-text table."""
    lines = [f"corpus: {report['corpus']} ({report['articles']} articles, {report['stages']['words']:,} words; "
             f"every process warmed up on {report.get('warmup', 0)} other articles first)", ""]
    lines.append(f"{'in-process (1 core)':<22}{'art/s':>9}{'words/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for name in [*STAGE_ORDER, "all_stages"]:
        row = report["stages"][name]
        lines.append(f"{name:<22}{row['articles_per_s']:>9}{row['words_per_s']:>10}{row['p50_ms']:>9}"
                     f"{row['p95_ms']:>9}{row['p99_ms']:>9}")
    emb = report.get("embedded")
    if emb:
        lines += ["", f"embedded end to end: {emb['articles_per_s']} art/s, {emb['words_per_s']} words/s "
                      f"(stored {emb['stored']}, dead {emb['dead']})"]
    for run in report.get("redis", []):
        lines += ["", f"Redis, {run['procs']} worker process(es), topology {run['topology']}, pool {run.get('pool')}: "
                      f"{run['articles_per_s']} art/s, "
                      f"{run['words_per_s']} words/s ({run['words_per_s'] // run['procs']} per core), "
                      f"broker overhead {run['broker_overhead']:.1%} "
                      f"(in-process on {run['procs']} core(s): {run['in_process_articles_per_s']} art/s)",
                  "  workers: " + "; ".join(
                      f"{w['stages']} x{w['processes']}: cpu {w['cpu_s']} s, peak RSS main "
                      f"{w['rss_peak_mb']['main']['peak_rss']} MB" for w in run["workers"]),
                  f"  saturation latency p50 {run['saturation_p50_ms']} ms, p95 {run['saturation_p95_ms']} ms"]
        if len(run.get("rounds", [])) > 1:
            lines.append("  rounds (in-process -> Redis art/s, overhead): " + "; ".join(
                f"{x.get('in_process_articles_per_s')} -> {x['articles_per_s']}, {x.get('broker_overhead', float('nan')):.1%}"
                for x in run["rounds"]))
        if "half_rate_p95_ms" in run:
            lines.append(f"  at {run['half_rate_articles_per_s']} art/s (half saturation): p50 "
                         f"{run['half_rate_p50_ms']} ms, p95 {run['half_rate_p95_ms']} ms, p99 {run['half_rate_p99_ms']} ms")
        mem = run["rss_peak_mb"]
        pool = ", ".join(f"{c['peak_rss']}/{c['pss']}" for c in mem["children"])
        lines.append(f"  memory MB (peak RSS/PSS): main {mem['main']['peak_rss']}/{mem['main']['pss']}, "
                     f"pool {pool}; stored {run['stored']}, dead {run['dead']}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Run the benchmark and print a table (or JSON)."""
    parser = argparse.ArgumentParser(prog="newsflow bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="saudinewsnet", help="seed | saudinewsnet | bbc | PATH.jsonl")
    parser.add_argument("--limit", type=int, default=300, help="articles to use")
    parser.add_argument("--redis-url", default=None,
                        help="run end to end through this Redis (it is FLUSHED); e.g. redis://127.0.0.1:6379/14")
    parser.add_argument("--procs", default="1,2", help="worker process counts for the Redis runs")
    parser.add_argument("--pool", default="prefork", choices=["prefork", "solo", "threads"],
                        help="worker pool for the Redis runs")
    parser.add_argument("--topology", default="all", choices=TOPOLOGIES,
                        help="all = N all-stages processes; split = a dedicated entities worker beside one for the rest")
    parser.add_argument("--warmup", type=int, default=300,
                        help="articles (after the measured ones in the corpus) every process runs, untimed, "
                        "before measuring, so figures are a long-running worker's (0 = cold start)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="saturation rounds per process count, each right after its own in-process "
                        "baseline; figures are the median round")
    parser.add_argument("--skip-embedded", action="store_true")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    pool = load(args.corpus, args.limit + args.warmup)
    articles, warm = pool[: args.limit], pool[args.limit :]
    counts = [int(p) for p in args.procs.split(",")]
    report = {"corpus": args.corpus, "articles": len(articles), "warmup": len(warm)}
    if args.redis_url:
        runs = []
        for procs in counts:
            runs.append(bench_redis(
                articles, args.redis_url, procs, pool=args.pool, topology=args.topology, warm=warm,
                baseline=lambda procs=procs: bench_in_process(articles, procs, warm)["articles_per_s"],
                repeat=args.repeat))
        report["redis"] = runs
    # Last, once every worker has stopped, so nothing else runs on the cores. (The in-process
    # baselines are spawned, so the word caches these passes warm in this process never
    # reach them.)
    report["stages"] = bench_stages(articles, warm)
    if not args.skip_embedded:
        report["embedded"] = bench_embedded(articles)
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
