"""Load test with an index update in the middle: searches keep working while another process
commits, and the server shows the update without a restart.

8 keep-alive clients send back-to-back ``/api/search`` requests for 60 s to a real
``search-cli serve`` (waitress) subprocess on 127.0.0.1, over the 5,120-page LibreOffice help
(indexed from id/title/text) plus a small folder of documents. Halfway through, the folder
changes (one document added with a word found nowhere else, one edited, one deleted) and
``search-cli index`` runs in another process. A probe polls for the new word until the new
document is found. Reports requests, errors (must be 0), latency before / during / after the
update, and how long the commit took to become visible.

Run: ``python benchmarks/load_update.py`` (``--duration``/``--clients`` to change the load).
Writes the "load_update" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

import _results  # noqa: E402
from _results import (  # noqa: E402
    LoadClient,
    markdown_table,
    search_cli,
    stop_server,
    write_section,
)
from web_load import (  # noqa: E402
    _busy,
    _loadavg,
    load_queries,
    percentile,
    prepare_corpus,
)

REPO = Path(__file__).resolve().parents[1]
WORK = Path(__file__).resolve().parent / "work" / "load-update"
#: Hard bounds on top of the deadlines, so no loop can run away.
MAX_PROBES = 10_000


def reset_folder(folder: Path) -> None:
    """The small folder's state before the update: three short documents."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for i, (title, text) in enumerate([
            ("Library opening hours", "The library opens at nine and closes at six."),
            ("Urnik knjižnice", "Knjižnica je odprta od devetih do šestih."),
            ("Parking notice", "The car park is closed for repairs this week.")]):
        (folder / f"note-{i}.txt").write_text(f"{title}\n\n{text}\n", encoding="utf-8")


def change_folder(folder: Path, word: str) -> str:
    """The update: add a document with ``word``, edit one, delete one; returns the new id."""
    (folder / "new-notice.txt").write_text(
        f"New notice\n\nThe {word} exhibition opens in the library hall on Monday.\n",
        encoding="utf-8")
    (folder / "note-0.txt").write_text("Library opening hours\n\nThe library now opens at "
                                       "eight and closes at seven.\n", encoding="utf-8")
    (folder / "note-2.txt").unlink()
    return "new-notice.txt"


def run_index(paths: list[Path], index: Path) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run([*search_cli(), "index", *map(str, paths), "--index", str(index)],
                          capture_output=True, text=True, timeout=1800, cwd=REPO)
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"search-cli index failed:\n{proc.stderr}")
    return time.perf_counter() - started, proc.stdout.strip()


def start_server(index: Path, threads: int) -> tuple[subprocess.Popen, str, int]:
    return _results.start_server([*search_cli(), "serve", "--host", "127.0.0.1", "--port",
                                  "0", "--index", str(index), "--threads", str(threads)], REPO)


def get(conn: http.client.HTTPConnection, params: dict[str, object]) -> tuple[int, bytes]:
    conn.request("GET", "/api/search?" + urlencode(params))
    response = conn.getresponse()
    return response.status, response.read()


def probe(host: str, port: int, word: str, until: float) -> tuple[float | None, list[str]]:
    """Poll for ``word`` until a hit shows up; (monotonic time it did, the hit ids)."""
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        for _ in range(MAX_PROBES):
            if time.monotonic() >= until:
                break
            status, body = get(conn, {"q": word, "snippets": "false"})
            if status == 200:
                hits = [h["id"] for h in json.loads(body)["hits"]]
                if hits:
                    return time.monotonic(), hits
            time.sleep(0.05)
    finally:
        conn.close()
    return None, []


def window(samples: list[tuple[float, float, float]], start: float, end: float
           ) -> list[float]:
    return [ms for t, ms, _engine in samples if start <= t < end]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (≤ 300)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (≤ 64)")
    parser.add_argument("--threads", type=int, default=8, help="server worker threads")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds, not measured")
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args(argv)
    duration = min(max(args.duration, 10.0), 300.0)
    clients = min(max(args.clients, 1), 64)

    WORK.mkdir(parents=True, exist_ok=True)
    corpus = prepare_corpus()
    folder, index = WORK / "small", WORK / "index"
    reset_folder(folder)
    seconds, summary = run_index([corpus, folder], index)
    print(f"Base index ready in {seconds:.1f} s: {summary}", flush=True)
    queries = load_queries()
    # Consonants only: no stemmer, lemmatizer or truncated path can relate it to a real word.
    word = "".join(random.SystemRandom().choice("bcdfghjklmnpqrstvwxz") for _ in range(12))

    load_before = _loadavg()
    proc, host, port = start_server(index, args.threads)
    try:
        print(f"Server on http://{host}:{port}/ ; warming up {args.warmup:.0f} s ...",
              flush=True)
        warm = time.monotonic() + min(args.warmup, 30.0)
        warmers = [LoadClient(host, port, queries, len(queries) // 2 + i, clients, warm)
                   for i in range(clients)]
        for w in warmers:
            w.start()
        for w in warmers:
            w.join(60)
        before_probe = probe(host, port, word, time.monotonic() + 0.5)[1]

        print(f"Measuring: {clients} clients for {duration:.0f} s, update at "
              f"{duration / 2:.0f} s ...", flush=True)
        t_start = time.monotonic()
        deadline = t_start + duration
        workers = [LoadClient(host, port, queries, i, clients, deadline) for i in range(clients)]
        for w in workers:
            w.start()
        time.sleep(duration / 2)
        t_update = time.monotonic()
        new_id = change_folder(folder, word)
        index_seconds, index_summary = run_index([corpus, folder], index)
        t_commit = time.monotonic()
        visible_at, hits = probe(host, port, word, deadline)
        for w in workers:
            w.join(duration + 60)
        t_end = time.monotonic()
    finally:
        stop_server(proc)

    load_after = _loadavg()
    samples = sorted(s for w in workers for s in w.samples)
    errors: dict[str, int] = {}
    for w in workers:
        for k, v in w.errors.items():
            errors[k] = errors.get(k, 0) + v
    n_errors = sum(errors.values())
    visible_after = (visible_at - t_commit) if visible_at is not None else None
    phases = [("before the update", t_start, t_update),
              ("while `search-cli index` ran", t_update, t_commit),
              ("after the commit", t_commit, t_end)]
    rows = []
    for name, a, b in phases:
        lat = window(samples, a, b)
        rows.append([name, f"{b - a:.1f}", len(lat), f"{len(lat) / max(b - a, 1e-9):.1f}",
                     f"{percentile(lat, 50):.1f}", f"{percentile(lat, 95):.1f}",
                     f"{max(lat, default=float('nan')):.1f}"])
    all_lat = [ms for _, ms, _engine in samples]
    rows.append(["whole run", f"{t_end - t_start:.1f}", len(all_lat),
                 f"{len(all_lat) / (t_end - t_start):.1f}", f"{percentile(all_lat, 50):.1f}",
                 f"{percentile(all_lat, 95):.1f}", f"{max(all_lat, default=float('nan')):.1f}"])
    proof = (f"before the update `{word}` found {before_probe or 'nothing'}; after the commit "
             + (f"it found {hits}, {visible_after:.2f} s later (the server checks every 0.5 s)"
                if visible_after is not None else "it was **never found**"))
    print(f"{len(all_lat) + n_errors} requests, {n_errors} errors {errors or ''}; "
          f"update took {index_seconds:.1f} s ({index_summary}); {proof}.", flush=True)
    for row in rows:
        print("  " + " | ".join(map(str, row)), flush=True)
    ok = n_errors == 0 and hits == [new_id] and not before_probe
    if not args.no_write:
        table = markdown_table(["phase", "seconds", "requests", "req/s", "p50 ms", "p95 ms",
                                "max ms"], rows)
        body = (f"## Searching while the index is updated (`/api/search`)\n\n"
                f"{clients} keep-alive clients sending back-to-back requests for "
                f"{duration:.0f} s to a real `search-cli serve` ({args.threads} threads) on "
                f"127.0.0.1, over the LibreOffice help (id/title/text) plus a small folder. "
                f"Halfway, the folder changed (one document added, one edited, one deleted) "
                f"and `search-cli index` updated the index in another process in "
                f"{index_seconds:.1f} s (process start included). Both processes and the "
                f"clients share the machine's cores; load average before/after: "
                f"{load_before} / {load_after}"
                + (" (other jobs were running: latencies are pessimistic)"
                   if _busy(load_before) else "") + f".\n\n{table}\n\n"
                f"Requests: {len(all_lat) + n_errors:,}; errors: **{n_errors}**"
                + (f" ({errors})" if errors else "") + f". Visibility: {proof}. "
                f"Result: **{'passed' if ok else 'FAILED'}**.")
        write_section("load_update", body, "python benchmarks/load_update.py")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
