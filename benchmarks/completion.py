"""Completion latency (``SearchIndex.complete``) beside a search's, and what the table costs.

Corpora as in ``benchmarks/speed.py``: all shared collections together (~23k documents) and
the same replicated to 200k. For each: the index is built with ``search-cli index`` (which
builds the completion table after its commit), then one process measures, interleaved, a
fixed random sample of what people type (every prefix of 1-8 characters of words of the
help's keyword queries, and of two-word queries with the second word half typed) against
``complete()`` and a fixed sample of whole queries against ``search()`` with 10 snippets.
Median over repetitions of p50 / p95 / p99 / worst; the table's size on disk against the
index's; and how long building the table takes (cold: no cached segment parts).

    python benchmarks/completion.py                   # 23k and 200k (~20 min on 2 cores)
    python benchmarks/completion.py --sizes 0         # 23k only
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _results import EVAL, git_rev, machine, markdown_table, search_cli, write_section  # noqa: E402

WORK = ROOT / "benchmarks" / "work" / "completion"
SEED = 20261202


def _records(path: Path):
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def corpora(sizes: list[int]) -> list[tuple[str, Path, int]]:
    """(name, JSONL path, documents) of the ~23k corpus and the replicated sizes."""
    WORK.mkdir(parents=True, exist_ok=True)
    everything = []
    for short, folder in (("help", "libreoffice-help"), ("cranfield", "cranfield"),
                          ("scifact", "scifact"), ("npl", "npl")):
        for r in _records(EVAL / folder / "docs.jsonl"):
            if (r.get("text") or "").strip():
                everything.append({"id": f"{short}/{r['id']}", "title": r.get("title") or "",
                                   "text": r["text"]})
    out = []
    path = WORK / "all.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for r in everything:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    out.append((f"{len(everything) // 1000}k", path, len(everything)))
    for size in sizes:
        path = WORK / f"rep-{size}.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for i in range(size):
                r = everything[i % len(everything)]
                fh.write(json.dumps({**r, "id": f"r{i // len(everything)}/{r['id']}"},
                                    ensure_ascii=False) + "\n")
        out.append((f"{size // 1000}k", path, size))
    return out


def samples(n: int) -> tuple[list[str], list[str]]:
    """(what is typed, whole queries): fixed random samples of the help's keyword queries."""
    pool = []
    for task in ("keyword_en", "keyword_sl"):
        pool += [q["text"] for q in _records(EVAL / "libreoffice-help" / task / "queries.jsonl")]
    rng = random.Random(SEED)
    queries = rng.sample(pool, n)
    typed = []
    for q in rng.sample(pool, n):
        words = q.split()
        first = words[0]
        typed.append(first[:rng.randint(1, min(8, len(first)))])
        if len(words) > 1:
            second = words[1]
            typed.append(f"{first} {second[:rng.randint(1, len(second))]}")
    return typed, queries


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50": statistics.median(ordered), "p95": at(0.95), "p99": at(0.99),
            "worst": ordered[-1]}


def measure(index: str, typed: list[str], queries: list[str], reps: int) -> dict:
    """In a fresh process: build times of the table, then interleaved latencies."""
    from search.completion import completions_for_reader
    from search.searcher import SearchIndex
    from search.storage import open_index

    ix, gen = open_index(index)
    with ix.reader() as reader:
        t = time.perf_counter()
        completions_for_reader(reader, None)
        cold = time.perf_counter() - t
        t = time.perf_counter()
        completions_for_reader(reader, gen)
        warm = time.perf_counter() - t
    out: dict = {"cold_build_s": cold, "cached_load_s": warm, "complete": [], "search": []}
    with SearchIndex(index) as s:
        s.complete("a")  # opened and warmed
        s.search("help")
        for _ in range(reps):
            c, q = [], []
            for i in range(max(len(typed), len(queries))):
                if i < len(typed):
                    t = time.perf_counter()
                    s.complete(typed[i])
                    c.append((time.perf_counter() - t) * 1000)
                if i < len(queries):
                    t = time.perf_counter()
                    s.search(queries[i], per_page=10)
                    q.append((time.perf_counter() - t) * 1000)
            out["complete"].append(c)
            out["search"].append(q)
    return out


def dir_size(path: Path, prefix: str = "") -> int:
    return sum(p.stat().st_size for p in path.rglob(f"{prefix}*") if p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[200_000],
                    help="replicated corpus sizes besides ~23k (0: none)")
    ap.add_argument("--queries", type=int, default=300, help="queries sampled")
    ap.add_argument("--reps", type=int, default=3, help="repetitions (median reported)")
    ap.add_argument("--no-write", action="store_true", help="print only, keep RESULTS.md")
    ap.add_argument("--measure", help=argparse.SUPPRESS)  # the measuring subprocess
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(*json.loads(args.measure))))
        return
    sizes = [s for s in args.sizes if s > 0]
    typed, queries = samples(args.queries)
    rows, notes = [], []
    for name, path, docs in corpora(sizes):
        index = WORK / f"index-{name}"
        if not (index / "current").exists():
            print(f"indexing {name} ({docs:,} documents)...", file=sys.stderr, flush=True)
            t = time.perf_counter()
            subprocess.run([*search_cli(), "index", str(path), "--index", str(index),
                            "--rebuild", "-q"], check=True)
            print(f"  {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
        job = json.dumps([str(index), typed, queries, args.reps])
        out = json.loads(subprocess.run([sys.executable, __file__, "--measure", job],
                                        check=True, capture_output=True, text=True).stdout)
        gen = (index / "current").resolve()
        table = dir_size(gen, "completions")
        total = dir_size(gen)
        for kind, label in (("complete", "complete()"), ("search", "search(), 10 snippets")):
            per_rep = [percentiles(run) for run in out[kind]]
            med = {k: statistics.median(p[k] for p in per_rep) for k in per_rep[0]}
            rows.append([name, label, len(out[kind][0]), f"{med['p50']:.1f}",
                         f"{med['p95']:.1f}", f"{med['p99']:.1f}", f"{med['worst']:.1f}"])
        notes.append([name, f"{table / 1e6:.1f} MB", f"{total / 1e6:.1f} MB",
                      f"{100 * table / total:.1f} %", f"{out['cold_build_s']:.2f} s",
                      f"{out['cached_load_s']:.2f} s"])
    body = "\n".join([
        f"Machine: {machine()}; commit {git_rev()}; {args.reps} repetitions, medians of "
        "each percentile. What is typed: prefixes of 1-8 characters of the first word of "
        f"{args.queries} sampled help keyword queries, and of two-word ones with the second "
        "word half typed; searches: another sample of whole queries (OR mode, 10 snippets).",
        "",
        markdown_table(["corpus", "call", "requests", "p50 ms", "p95 ms", "p99 ms",
                        "worst ms"], rows),
        "",
        "The completion table (`completions*.marshal` in the generation folder) against the "
        "whole index, and how long making it takes without and with its cache:",
        "",
        markdown_table(["corpus", "completion table", "index", "share", "build (cold)",
                        "load (cached)"], notes),
    ])
    print(body)
    if not args.no_write:
        write_section("completion", body, "python benchmarks/completion.py")


if __name__ == "__main__":
    main()
