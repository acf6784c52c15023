"""Load test of the real web server: 8 concurrent clients on /api/search for 30 seconds.

Corpus: the 5,120-page LibreOffice help (English + Slovenian), indexed from its id, title
and text only (so language detection is exercised as for any user's files). Queries: the
help's own keyword queries in both languages, shuffled together. The server is the real
``python -m web.server`` (waitress) subprocess; all traffic stays on 127.0.0.1.

Run: ``python benchmarks/web_load.py`` (``--duration``/``--clients`` to change the load).
Writes the "web_load" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

import _results  # noqa: E402
from _results import (  # noqa: E402
    EVAL,
    LoadClient,
    markdown_table,
    stop_server,
    write_section,
)

REPO = Path(__file__).resolve().parents[1]
WORK = Path(__file__).resolve().parent / "work"
HELP = EVAL / "libreoffice-help"
GOAL_P95_MS = 100.0


def prepare_corpus() -> Path:
    """Write the help's records with only id/title/text; keep the file if unchanged."""
    WORK.mkdir(parents=True, exist_ok=True)
    out = WORK / "web-load-docs.jsonl"
    lines = []
    with open(HELP / "docs.jsonl", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rec = json.loads(line)
                lines.append(json.dumps({"id": rec["id"], "title": rec.get("title", ""),
                                         "text": rec["text"]}, ensure_ascii=False))
    data = ("\n".join(lines) + "\n").encode("utf-8")
    if not out.exists() or hashlib.sha256(out.read_bytes()).digest() != \
            hashlib.sha256(data).digest():
        out.write_bytes(data)  # a new mtime makes index_paths re-read it
    return out


def build_index(corpus: Path, rebuild: bool) -> tuple[Path, int, float]:
    """Index the corpus (incrementally: an unchanged corpus costs nothing)."""
    from search.indexer import index_paths
    from search.searcher import SearchIndex

    index = WORK / "web-load-index"
    started = time.perf_counter()
    report = index_paths([corpus], index, rebuild=rebuild)
    seconds = time.perf_counter() - started
    with SearchIndex(index) as idx:
        count = idx.stats().doc_count
    print(f"Index: {count} documents ({report.indexed} (re)indexed in {seconds:.1f} s)",
          flush=True)
    return index, count, seconds


def load_queries(seed: int = 42) -> list[str]:
    queries: list[str] = []
    for name in ("keyword_en", "keyword_sl"):
        with open(HELP / name / "queries.jsonl", encoding="utf-8") as f:
            queries += [json.loads(line)["text"] for line in f if line.strip()]
    random.Random(seed).shuffle(queries)
    return queries


def start_server(index: Path, threads: int, workers: int) -> tuple[subprocess.Popen, str, int]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}
    return _results.start_server([sys.executable, "-m", "web.server", "--host", "127.0.0.1",
                                  "--port", "0", "--index", str(index), "--threads",
                                  str(threads), "--workers", str(workers)], REPO, env)


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def _busy(loadavg: str) -> bool:
    try:
        return float(loadavg.split()[0]) > 1.0
    except (ValueError, IndexError):
        return False


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def run_load(host: str, port: int, queries: list[str], clients: int, duration: float,
             offset: int = 0) -> dict:
    deadline = time.monotonic() + duration
    workers = [LoadClient(host, port, queries, offset + i, clients, deadline)
               for i in range(clients)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join(duration + 30)
    wall = time.perf_counter() - started
    latencies = [ms for w in workers for _sent, ms, _engine in w.samples]
    engine = [e for w in workers for _sent, _ms, e in w.samples]
    errors: dict[str, int] = {}
    for w in workers:
        for k, v in w.errors.items():
            errors[k] = errors.get(k, 0) + v
    return {"requests": len(latencies) + sum(errors.values()), "ok": len(latencies),
            "errors": errors, "seconds": wall, "rps": len(latencies) / wall,
            "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
            "p99": percentile(latencies, 99), "max": max(latencies, default=float("nan")),
            "mean": statistics.fmean(latencies) if latencies else float("nan"),
            "engine_p50": percentile(engine, 50), "engine_p95": percentile(engine, 95)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load (≤ 300)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (≤ 64)")
    parser.add_argument("--threads", type=int, default=8, help="server worker threads")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="server process counts to measure, one run each")
    parser.add_argument("--baseline", type=float, default=10.0,
                        help="seconds of a single-client run first (0: skip)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds, not measured")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per configuration, each on a fresh server (the goal is "
                             "judged on their median p95)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the index first")
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args(argv)
    duration = min(max(args.duration, 1.0), 300.0)
    clients = min(max(args.clients, 1), 64)

    corpus = prepare_corpus()
    index, doc_count, _ = build_index(corpus, args.rebuild)
    queries = load_queries()
    rows, verdicts, total_errors = [], [], 0
    load_before = _loadavg()
    repeat = min(max(args.repeat, 1), 10)
    runs = [(w, clients, duration) for w in args.workers for _ in range(repeat)]
    if args.baseline > 0:  # one client alone: the cost of a request without queueing
        runs.insert(0, (args.workers[0], 1, min(args.baseline, 60.0)))
    p95s: dict[int, list[float]] = {}
    for workers, n_clients, seconds in runs:
        proc, host, port = start_server(index, args.threads, workers)
        try:
            print(f"Server ({workers} worker process(es)) on http://{host}:{port}/ ; "
                  f"warming up {args.warmup:.0f} s ...", flush=True)
            run_load(host, port, queries, n_clients, min(args.warmup, 30.0),
                     offset=len(queries) // 2)
            print(f"Measuring: {n_clients} client(s) for {seconds:.0f} s ...", flush=True)
            r = run_load(host, port, queries, n_clients, seconds)
        finally:
            stop_server(proc)
        errors = sum(r["errors"].values())
        total_errors += errors
        if n_clients == clients:
            p95s.setdefault(workers, []).append(r["p95"])
        print(f"{r['ok']} ok, {errors} errors {r['errors'] or ''}; {r['rps']:.1f} req/s; "
              f"p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, p99 {r['p99']:.1f} ms, "
              f"max {r['max']:.1f} ms; engine p50 {r['engine_p50']:.1f} ms, "
              f"p95 {r['engine_p95']:.1f} ms.", flush=True)
        rows.append([workers, n_clients, f"{r['seconds']:.1f}", r["requests"], errors,
                     f"{r['rps']:.1f}"] + [f"{r[k]:.1f}" for k in (
                         "p50", "p95", "p99", "max", "engine_p50", "engine_p95")])
    load_after = _loadavg()
    for workers, values in p95s.items():
        median = statistics.median(values)
        verdict = "met" if median <= GOAL_P95_MS and total_errors == 0 else "not met"
        verdicts.append(f"{workers} server process(es): median p95 {median:.0f} ms of "
                        f"{len(values)} runs, {verdict}")
    print("; ".join(verdicts), flush=True)
    if not args.no_write:
        table = markdown_table(
            ["server processes", "clients", "seconds", "requests", "errors", "req/s",
             "p50 ms", "p95 ms", "p99 ms", "max ms", "engine p50 ms", "engine p95 ms"], rows)
        body = (f"## Web server under load (`/api/search`)\n\n"
                f"{clients} keep-alive clients sending back-to-back requests for "
                f"{duration:.0f} s (after a {args.warmup:.0f} s warm-up) to the real waitress "
                f"server (`python -m web.server`, {args.threads} threads per process) on "
                f"127.0.0.1, over the {doc_count:,}-page LibreOffice help indexed from "
                f"id/title/text; {len(queries):,} keyword queries from `keyword_en` and "
                f"`keyword_sl`, shuffled together, snippets on. Each configuration runs "
                f"{repeat} times, each on a fresh server (so its caches start empty). "
                f"Latency is client-side "
                f"(request sent to body read); \"engine\" is the `elapsed_ms` the engine "
                f"reports for the request (it includes waiting for the index's lock). "
                f"Clients and server share the machine's cores; load average before/after: "
                f"{load_before} / {load_after}"
                + (" (other jobs were running: figures are pessimistic)"
                   if _busy(load_before) else "") + f".\n\n{table}\n\n"
                f"Goal p95 ≤ {GOAL_P95_MS:.0f} ms with zero errors: **"
                + "; ".join(verdicts) + "**.")
        write_section("web_load", body, "python benchmarks/web_load.py")
    return 0 if total_errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
