"""Speed and scale of the engine against peers, measured side by side in one run.

Engines (see ``benchmarks/speed_engines.py``): this project ("ours"), plain Whoosh with the
StandardAnalyzer and with the Porter2 StemmingAnalyzer, tantivy and SQLite FTS5. Corpora: the
LibreOffice help (5,120 pages, en + sl), all shared collections together (~23k documents), and
larger corpora made by replicating those with new ids (``--sizes``, default 50k and 200k).

For every corpus and engine: indexing time and docs/s (one process and both cores), index size,
peak memory of indexing and of a query process, cold start, and query latency p50/p95/p99 over a
fixed random sample of the help's keyword queries (OR and AND, with and without 10 snippets).
Then incremental re-indexing of a folder of ~23k .txt files after one file changed, and, where a
target is missed, cProfile profiles of indexing and querying.

Every measurement runs in its own subprocess. Writes the "speed" section of RESULTS.md and
``benchmarks/speed_plot.png``::

    python benchmarks/speed.py                 # the full run (~40 min on 2 cores)
    python benchmarks/speed.py --quick         # small sizes, 1 repetition, prints only
    python benchmarks/speed.py --sizes 50000   # other replicated sizes
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import hard_queries  # noqa: E402
from _results import (  # noqa: E402
    EVAL,
    git_rev,
    machine,
    markdown_table,
    search_cli,
    write_section,
)
from speed_engines import (  # noqa: E402
    CONFIGS,
    ENGINES,
    MIN_PASS_QUERIES,
    NOTES,
    PASS_CAP_BUDGETS,
    WARMUP_CAP_S,
    extra_modes,
)

WORKER = str(ROOT / "benchmarks" / "speed_engines.py")
WORK = ROOT / "benchmarks" / "work" / "speed"
PLOT = ROOT / "benchmarks" / "speed_plot.png"
RAW = ROOT / "benchmarks" / "work" / "speed-raw.pickle"
COLLECTIONS = (("help", "libreoffice-help"), ("cranfield", "cranfield"),
               ("scifact", "scifact"), ("npl", "npl"))
QUERY_SEED = 20261122
#: Indexing runs shorter than this are repeated (median of ``--reps``); longer ones run once.
REPEAT_BELOW_S = 60.0
PY = sys.executable

# Targets (2 cores).
T_P95_SMALL_MS = 50.0
T_P95_LARGE_MS = 250.0
T_DOCS_PER_S = 800.0
T_VS_WHOOSH = 1.3
T_QUERY_MB = 300.0
T_COLD_S = 0.5
T_INCREMENTAL_S = 2.0


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- corpora --------------------------------------------------------------------------------

def _records(path: Path):
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _write_jsonl(path: Path, records) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
            n += 1
    return n


def _clean(r: dict, prefix: str = "") -> dict | None:
    """Only id, title and text; records with an empty text are skipped for every engine."""
    text = r.get("text") or ""
    if not text.strip():
        return None
    return {"id": prefix + str(r["id"]), "title": r.get("title") or "", "text": text}


def prepare_corpora(sizes: list[int], with_all: bool) -> list[dict]:
    """The corpora as JSONL files under WORK: [{"name", "path", "docs", "single"}]."""
    WORK.mkdir(parents=True, exist_ok=True)
    help_path = WORK / "help.jsonl"
    help_docs = _write_jsonl(help_path, filter(None, (
        _clean(r) for r in _records(EVAL / "libreoffice-help" / "docs.jsonl"))))
    everything = []
    for short, folder in COLLECTIONS:
        everything += filter(None, (_clean(r, f"{short}/")
                                    for r in _records(EVAL / folder / "docs.jsonl")))
    corpora = [{"name": "help", "path": help_path, "docs": help_docs, "single": True}]
    if with_all:
        all_path = WORK / "all.jsonl"
        _write_jsonl(all_path, everything)
        corpora.append({"name": "all", "path": all_path, "docs": len(everything),
                        "single": True})
    for size in sizes:
        path = WORK / f"rep-{size}.jsonl"

        def replicated(size: int = size):
            for i in range(size):
                r = everything[i % len(everything)]
                yield {**r, "id": f"r{i // len(everything)}/{r['id']}"}

        _write_jsonl(path, replicated())
        corpora.append({"name": _size_name(size), "path": path, "docs": size,
                        "single": False})
    return corpora


def _size_name(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def prepare_queries(n: int) -> tuple[Path, dict]:
    pool = []
    for task in ("keyword_en", "keyword_sl"):
        pool += list(_records(EVAL / "libreoffice-help" / task / "queries.jsonl"))
    sample = random.Random(QUERY_SEED).sample(pool, n)
    path = WORK / "queries.jsonl"
    _write_jsonl(path, ({"id": q["id"], "text": q["text"]} for q in sample))
    langs = {"en": sum(q.get("lang") == "en" for q in sample),
             "sl": sum(q.get("lang") == "sl" for q in sample)}
    return path, {"n": n, "pool": len(pool), **langs, "first": sample[0]["text"]}


def write_txt_folder(corpus: Path, folder: Path, limit: int | None) -> int:
    """One .txt file per record (title line, blank line, text), 1,000 files per folder.

    The files are dated an hour back, like files that existed before: the indexer does not
    trust the (mtime, size) stamp of a file modified within 2 s of a run and re-reads it
    next time, which would make the first re-run after writing them a near-full re-read.
    """
    if folder.exists():
        shutil.rmtree(folder)
    past = time.time() - 3600
    n = 0
    for r in _records(corpus):
        if limit is not None and n >= limit:
            break
        sub = folder / r["id"].split("/", 1)[0] / f"{n // 1000:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"{n:05d}.txt"
        path.write_text(f"{r['title']}\n\n{r['text']}\n", encoding="utf-8")
        os.utime(path, (past, past))
        n += 1
    return n


def measure_incremental(corpora: list[dict], quick: bool, reps: int) -> dict:
    """A folder of small .txt files indexed once, then re-runs: unchanged, one file changed."""
    source = next((c for c in corpora if c["name"] == "all"), corpora[-1])
    folder = WORK / "txt"
    n_files = write_txt_folder(source["path"], folder, 3000 if quick else None)
    log(f"incremental: {n_files} .txt files")
    ix = WORK / "ix-incremental"
    shutil.rmtree(ix, ignore_errors=True)
    incremental, _, _ = run_worker(["incremental", str(folder), str(ix), str(max(reps, 3))])
    incremental["files"] = n_files
    log(f"  initial {incremental['initial_s']:.1f} s, unchanged "
        f"{incremental['unchanged_s']:.2f} s, one changed "
        + ", ".join(f"{r['seconds']:.2f}" for r in incremental["changed"]) + " s")
    shutil.rmtree(ix, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)
    return incremental


# -- subprocess measurements ----------------------------------------------------------------

def _tree_rss(proc) -> int:
    import psutil

    total = 0
    try:
        procs = [proc] + proc.children(recursive=True)
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_worker(args: list[str], sample_memory: bool = False) -> tuple[dict | str, float, int]:
    """Run the worker; (its JSON output or text, wall seconds, peak tree RSS in bytes)."""
    import psutil

    started = time.perf_counter()
    proc = subprocess.Popen([PY, WORKER, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    peak = 0
    if sample_memory:
        ps = psutil.Process(proc.pid)
        while proc.poll() is None:
            peak = max(peak, _tree_rss(ps))
            time.sleep(0.1)
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"worker {args[:2]} failed ({proc.returncode}):\n{err[-3000:]}")
    try:
        return json.loads(out), wall, peak
    except ValueError:
        return out, wall, peak


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def build_once(engine: str, corpus: dict, procs: int, path: Path) -> dict:
    """One build into a fresh ``path``, in a subprocess: seconds, docs, peak tree RSS."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    data, _wall, peak = run_worker(["build", engine, str(corpus["path"]), str(path),
                                    str(procs)], sample_memory=True)
    own = max(data["maxrss_self_kb"], data["maxrss_children_kb"]) * 1024
    log(f"  build {engine} {corpus['name']} procs={procs}: {data['seconds']:.1f} s, "
        f"{data['docs']} docs, peak {max(peak, own) / 2**20:.0f} MB")
    return {"seconds": data["seconds"], "docs": data["docs"], "peak": max(peak, own)}


def measure_builds(engines: list[str], corpus: dict, procs: int, reps: int) -> dict:
    """Build every engine ``reps`` times, round-robin so that all engines share the same
    spells of load from other processes; a build of a minute or more is not repeated. The
    both-cores index of each engine is kept in WORK/ix-ENGINE for the query measurements."""
    runs: dict[str, list[dict]] = {e: [] for e in engines}
    for rep in range(reps):
        for engine in engines:
            if rep and runs[engine][0]["seconds"] >= REPEAT_BELOW_S:
                continue
            path = WORK / (f"ix-{engine}" if procs == 2 or engine == "fts5" else "ix-scratch")
            runs[engine].append(build_once(engine, corpus, procs, path))
    shutil.rmtree(WORK / "ix-scratch", ignore_errors=True)
    return {e: {"seconds": statistics.median(r["seconds"] for r in rs),
                "docs": rs[-1]["docs"], "peak": max(r["peak"] for r in rs),
                "runs": len(rs), "all": [r["seconds"] for r in rs]}
            for e, rs in runs.items()}


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def measure_queries(engine: str, path: Path, queries: Path, reps: int, budget: float) -> dict:
    """Latency of every configuration; one query process per mode (with and without
    snippets), as a server runs one mode. Memory and open time: the OR process's."""
    groups = [["or", "or+snip"], ["and", "and+snip"]]
    if engine == "ours":
        groups += [[m, f"{m}+snip"] for m in extra_modes()]
    out: dict = {"configs": {}}
    for group in groups:
        data, _wall, _peak = run_worker(["query", engine, str(path), str(queries),
                                         "--runs", str(reps), "--budget", str(budget),
                                         "--configs", ",".join(group)])
        if group[0] == "or":
            out["open_s"] = data["open_s"]
            out["rss"] = data["maxrss_self_kb"] * 1024
        for config, res in data["configs"].items():
            passes = res["passes"]
            out["configs"][config] = {
                f"p{q}": statistics.median(percentile(p, q) for p in passes)
                for q in (50, 95, 99)}
            out["configs"][config]["worst"] = max(max(p) for p in passes if p)
            out["configs"][config]["passes"] = len(passes)
            out["configs"][config]["mean_hits"] = res["mean_hits"]
            out["configs"][config]["queries"] = min(len(p) for p in passes)
    c = out["configs"]
    log(f"  query {engine}: " + ", ".join(f"{k} p95 {v['p95']:.1f} ms ({v['passes']}x)"
                                          for k, v in c.items())
        + f", rss {out['rss'] / 2**20:.0f} MB")
    return out


def measure_cold(cmd: list[str], reps: int) -> float:
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       cwd=ROOT)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def compile_bytecode() -> None:
    """Compile the project's modules once, as any installed package is: with
    ``PYTHONDONTWRITEBYTECODE`` set (as here), every cold start would compile them again."""
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "search"), str(ROOT / "web")],
                   check=True, stdout=subprocess.DEVNULL)


# -- formatting -----------------------------------------------------------------------------

def ratio_cell(value: float | None, ours: float | None, fmt: str = "{:.1f}",
               is_ours: bool = False) -> str:
    """``value (×r)`` where r = ours ÷ this peer's value; ours alone for our own row."""
    if value is None:
        return "–"
    text = fmt.format(value)
    if is_ours or ours is None or not value:
        return text
    return f"{text} (×{ours / value:.2f})"


def status(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def mb(n: float) -> float:
    return n / 2**20


def _passes(configs: dict, names, n_queries: int) -> str:
    """Passes per configuration, and how many queries a capped pass measured."""
    text = "/".join(str(configs[k]["passes"]) for k in names)
    short = [configs[k].get("queries", n_queries) for k in names]
    if min(short) < n_queries:
        text += f" (first {min(short)}–{max(short)} q)" if min(short) != max(short) \
            else f" (first {min(short)} q)"
    return text


def _rate(b: dict) -> float:
    return b["docs"] / b["seconds"]


class CpuAccount:
    """CPU time used by other processes during the run (they distort every figure)."""

    def __init__(self) -> None:
        import psutil

        self._start = psutil.cpu_times()
        self._wall = time.perf_counter()
        self._ours = self._own()

    @staticmethod
    def _own() -> float:
        import resource

        total = 0.0
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            r = resource.getrusage(who)
            total += r.ru_utime + r.ru_stime
        return total

    def others(self) -> tuple[float, float]:
        """(CPU seconds used by other processes, their mean share of one core)."""
        import psutil

        end = psutil.cpu_times()
        idle = lambda t: t.idle + getattr(t, "iowait", 0.0)  # noqa: E731
        busy = (sum(end) - idle(end)) - (sum(self._start) - idle(self._start))
        # guest time is also counted in user time
        busy -= getattr(end, "guest", 0.0) - getattr(self._start, "guest", 0.0)
        busy -= getattr(end, "guest_nice", 0.0) - getattr(self._start, "guest_nice", 0.0)
        other = max(0.0, busy - (self._own() - self._ours))
        return other, other / max(1e-9, time.perf_counter() - self._wall)


# -- main -----------------------------------------------------------------------------------

def measure(args: argparse.Namespace, sizes: list[int], engines: list[str], reps: int,
            n_queries: int, cold_reps: int, with_all: bool, quick: bool) -> dict:
    """Every measurement of the run; plain data (pickled, so a report can be re-rendered)."""
    t_start = time.perf_counter()
    cpu = CpuAccount()
    NOTES.unlink(missing_ok=True)

    log("preparing corpora")
    corpora = prepare_corpora(sizes, with_all)
    queries, qinfo = prepare_queries(n_queries)
    hard_sample = hard_queries.make(corpora[0]["path"])
    hard_path = WORK / "hard.jsonl"
    hard_queries.write(hard_path, hard_sample)
    cold_query = qinfo["first"]
    compile_bytecode()
    base_cold = measure_cold([PY, "-c", "pass"], cold_reps)

    build: dict = {}    # (corpus, engine, procs) -> build result
    size: dict = {}     # (corpus, engine) -> bytes
    lat: dict = {}      # (corpus, engine) -> query result
    hard: dict = {}     # (corpus, engine) -> hard-query result
    cold: dict = {}     # (corpus, engine) -> seconds
    cli_cold: dict = {}  # corpus -> seconds of `search-cli query`
    profile_query = None
    for corpus in corpora:
        log(f"corpus {corpus['name']} ({corpus['docs']} docs)")
        # fts5 is single-threaded: its one-thread build stands for both columns.
        for procs in ([1, 2] if corpus["single"] else [2]):
            chosen = [e for e in engines if e != "fts5" or procs == 1 or not corpus["single"]]
            if procs == 2 and "ours" in chosen:  # what finding translations costs
                chosen = [*chosen, "ours-nopair"]
            for engine, result in measure_builds(chosen, corpus, procs, reps).items():
                build[corpus["name"], engine, procs] = result
            shutil.rmtree(WORK / "ix-ours-nopair", ignore_errors=True)
        if "fts5" in engines:
            b = build.get((corpus["name"], "fts5", 1)) or build[corpus["name"], "fts5", 2]
            build[corpus["name"], "fts5", 1] = build[corpus["name"], "fts5", 2] = b
        for engine in engines:
            path = WORK / f"ix-{engine}"
            size[corpus["name"], engine] = dir_size(path)
            lat[corpus["name"], engine] = measure_queries(engine, path, queries, reps,
                                                          args.query_budget)
            hard[corpus["name"], engine] = hard_queries.measure(
                engine, path, hard_path, hard_sample, reps, args.query_budget)
            cold[corpus["name"], engine] = measure_cold(
                [PY, WORKER, "first", engine, str(path), cold_query], cold_reps)
            if engine == "ours":
                cli_cold[corpus["name"]] = measure_cold(
                    [*search_cli(), "query", cold_query, "--index", str(path)], cold_reps)
                log(f"  cold start: search-cli {cli_cold[corpus['name']]:.2f} s")
                if (corpus["name"] == ("all" if with_all else corpora[-1]["name"])
                        and not args.no_profile):
                    log("  profiling 100 queries with snippets")
                    profile_query, _, _ = run_worker(["profile-query", str(path), str(queries),
                                                      str(min(100, n_queries))])
            shutil.rmtree(path, ignore_errors=True)

    incremental = None if args.no_incremental else measure_incremental(corpora, quick, reps)

    profile_index = None
    if not args.no_profile:
        log("profiling indexing of the help corpus (one process)")
        ix = WORK / "ix-profile"
        shutil.rmtree(ix, ignore_errors=True)
        profile_index, _, _ = run_worker(["profile-index", str(corpora[0]["path"]), str(ix)])
        shutil.rmtree(ix, ignore_errors=True)
    other_cpu, other_share = cpu.others()
    return {"corpora": corpora, "qinfo": qinfo, "base_cold": base_cold, "build": build,
            "size": size, "lat": lat, "cold": cold, "cli_cold": cli_cold,
            "hard": hard, "hard_sample": hard_sample,
            "profile_query": profile_query, "profile_index": profile_index,
            "incremental": incremental, "minutes": (time.perf_counter() - t_start) / 60,
            "other_cpu": other_cpu, "other_share": other_share,
            "settings": {"sizes": sizes, "engines": engines, "reps": reps,
                         "n_queries": n_queries, "cold_reps": cold_reps, "with_all": with_all,
                         "quick": quick, "query_budget": args.query_budget,
                         "sizes_arg": args.sizes}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--quick", action="store_true",
                    help="Development run: small sizes, 1 repetition, no RESULTS.md update.")
    ap.add_argument("--sizes", default=None,
                    help="Comma-separated replicated corpus sizes (default 50000,200000; "
                         "quick: 10000).")
    ap.add_argument("--engines", default=",".join(ENGINES),
                    help=f"Comma-separated subset of {', '.join(ENGINES)}.")
    ap.add_argument("--queries", type=int, default=None, help="Query sample size (300).")
    ap.add_argument("--reps", type=int, default=None,
                    help="Repetitions of short measurements (3; quick: 1).")
    ap.add_argument("--query-budget", type=float, default=30.0,
                    help="Seconds after which a query configuration is not repeated.")
    ap.add_argument("--no-all", action="store_true", help="Skip the ~23k all-collections corpus.")
    ap.add_argument("--no-incremental", action="store_true")
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--write", action="store_true", help="Write RESULTS.md even with --quick.")
    ap.add_argument("--no-write", action="store_true", help="Only print the section.")
    ap.add_argument("--keep", action="store_true", help="Keep benchmarks/work/speed.")
    ap.add_argument("--from-raw", action="store_true",
                    help="Re-render the report from the last run's saved measurements.")
    ap.add_argument("--redo-incremental", action="store_true",
                    help="Re-measure only the incremental test into the saved run, re-render.")
    args = ap.parse_args()

    quick = args.quick
    sizes = ([int(s) for s in args.sizes.split(",") if s.strip()] if args.sizes is not None
             else ([10000] if quick else [50000, 200000]))
    engines = [e for e in args.engines.split(",") if e]
    if "ours" not in engines:
        ap.error("the engines must include 'ours' (every figure is a ratio to it)")
    reps = args.reps or (1 if quick else 3)
    n_queries = args.queries or (60 if quick else 300)
    cold_reps = 2 if quick else 5
    with_all = not args.no_all and not quick
    if args.from_raw or args.redo_incremental:
        state = pickle.loads(RAW.read_bytes())
        if args.redo_incremental:
            WORK.mkdir(parents=True, exist_ok=True)
            corpora = prepare_corpora([], True)
            state["incremental"] = measure_incremental(corpora, state["settings"]["quick"],
                                                       state["settings"]["reps"])
            state.setdefault("redone", []).append(
                f"Incremental re-indexing re-measured "
                f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} at commit "
                f"{git_rev()}; every other figure is from the run at commit "
                f"{state.get('commit', 'unknown')}.")
            RAW.write_bytes(pickle.dumps(state))
    else:
        state = measure(args, sizes, engines, reps, n_queries, cold_reps, with_all, quick)
        state["commit"] = git_rev()
        RAW.write_bytes(pickle.dumps(state))
    corpora, qinfo, base_cold = state["corpora"], state["qinfo"], state["base_cold"]
    build, size, lat, cold = state["build"], state["size"], state["lat"], state["cold"]
    cli_cold, incremental = state["cli_cold"], state["incremental"]
    profile_query, profile_index = state["profile_query"], state["profile_index"]
    minutes, other_cpu, other_share = state["minutes"], state["other_cpu"], state["other_share"]
    cold_query = qinfo["first"]
    settings = state["settings"]
    sizes, engines, reps = settings["sizes"], settings["engines"], settings["reps"]
    n_queries, cold_reps, with_all = (settings["n_queries"], settings["cold_reps"],
                                      settings["with_all"])
    quick, args.query_budget, args.sizes = (settings["quick"], settings["query_budget"],
                                            settings["sizes_arg"])
    write = (args.write or not quick) and not args.no_write

    # -- targets ----------------------------------------------------------------------------
    names = [c["name"] for c in corpora]
    small = "all" if "all" in names else None
    large = "200k" if "200k" in names else None
    targets = []

    def lat_row(corpus: str | None, limit: float) -> None:
        if corpus is None:
            return
        ours = lat[corpus, "ours"]["configs"]["or+snip"]["p95"]
        and_ours = lat[corpus, "ours"]["configs"]["and+snip"]["p95"]
        peers = ", ".join(f"{e} {lat[corpus, e]['configs']['or+snip']['p95']:.1f}"
                          for e in engines if e != "ours")
        docs = next(c["docs"] for c in corpora if c["name"] == corpus)
        targets.append([f"search, 10 snippets, p95 <= {limit:.0f} ms at {docs:,} docs",
                        f"{ours:.1f} ms OR ({and_ours:.1f} AND)", f"OR: {peers} ms",
                        status(ours <= limit)])

    lat_row(small, T_P95_SMALL_MS)
    lat_row(large, T_P95_LARGE_MS)
    ob = build["help", "ours", 2]
    rate = ob["docs"] / ob["seconds"]
    targets.append([f"indexing help, both cores, >= {T_DOCS_PER_S:.0f} docs/s",
                    f"{rate:.0f} docs/s ({ob['seconds']:.1f} s)",
                    ", ".join(f"{e} {_rate(build['help', e, 2]):.0f}"
                              for e in engines if e != "ours") + " docs/s",
                    status(rate >= T_DOCS_PER_S)])
    if "whoosh-std" in engines:
        ws = build["help", "whoosh-std", 2]["seconds"]
        ws1 = build["help", "whoosh-std", 1]["seconds"]
        r = ob["seconds"] / ws
        targets.append([f"indexing help, both cores, <= {T_VS_WHOOSH}x plain Whoosh "
                        "StandardAnalyzer", f"{r:.2f}x ({ob['seconds']:.1f} s vs {ws:.1f} s)",
                        f"whoosh-std 1 process: {ws1:.1f} s", status(r <= T_VS_WHOOSH)])
    nopair = build.get(("help", "ours-nopair", 2))
    if "whoosh-std" in engines and nopair:
        r = nopair["seconds"] / build["help", "whoosh-std", 2]["seconds"]
        targets.append([f"indexing help, both cores, without finding translations "
                        f"(`--no-find-translations`), <= {T_VS_WHOOSH}x plain Whoosh",
                        f"{r:.2f}x ({nopair['seconds']:.1f} s)",
                        f"finding them adds {ob['seconds'] - nopair['seconds']:.1f} s "
                        f"({ob['seconds'] / nopair['seconds']:.2f}x)", status(r <= T_VS_WHOOSH)])
    if large and "whoosh-std" in engines:  # issue 12: at 200k, at or below plain Whoosh
        for config, label in (("or+snip", "OR"), ("and+snip", "AND")):
            o = lat[large, "ours"]["configs"][config]["p95"]
            w = lat[large, "whoosh-std"]["configs"][config]["p95"]
            targets.append([f"search {label}, 10 snippets, p95 at {large} <= plain Whoosh's "
                            "in the same run", f"{o:.1f} ms (×{o / w:.2f})",
                            f"whoosh-std {w:.1f} ms", status(o <= w)])
    spreads = []  # (p99 / p95, where) of ours, every configuration of both samples
    for (cn, e), data in lat.items():
        if e == "ours":
            spreads += [(v["p99"] / v["p95"], f"{cn} {c}") for c, v in data["configs"].items()
                        if v.get("p95")]
    for (cn, e), data in state.get("hard", {}).items():
        if e == "ours":
            spreads += [(v["p99"] / v["p95"], f"{cn} {c} (hard)") for c, v in data.items()
                        if v.get("p95")]
    if spreads:
        worst = max(spreads)
        targets.append(["p99 <= 2x p95 in every mode and corpus (ordinary and hard samples)",
                        f"worst {worst[0]:.2f}x ({worst[1]})",
                        f"{len(spreads)} configurations", status(worst[0] <= 2.0)])
    mem_corpus = large or names[-1]
    qrss = mb(lat[mem_corpus, "ours"]["rss"])
    targets.append([f"query process memory <= {T_QUERY_MB:.0f} MB at {mem_corpus}",
                    f"{qrss:.0f} MB",
                    ", ".join(f"{e} {mb(lat[mem_corpus, e]['rss']):.0f}" for e in engines
                              if e != "ours") + " MB",
                    status(qrss <= T_QUERY_MB) if large else status(qrss <= T_QUERY_MB)
                    + " (not at 200k)"])
    for corpus in dict.fromkeys(filter(None, (small, large, names[-1]))):
        c = cli_cold[corpus]
        targets.append([f"cold start `search-cli query` <= {T_COLD_S} s at {corpus}",
                        f"{c:.2f} s", f"`python -c pass` {base_cold:.2f} s; peers' first "
                        "query: " + ", ".join(f"{e} {cold[corpus, e]:.2f}" for e in engines
                                              if e != "ours") + " s",
                        status(c <= T_COLD_S)])
    if incremental:
        inc = statistics.median(r["seconds"] for r in incremental["changed"])
        targets.append([f"incremental, one file changed of {incremental['files']:,} <= "
                        f"{T_INCREMENTAL_S:.0f} s", f"{inc:.2f} s",
                        f"nothing changed: {incremental['unchanged_s']:.2f} s",
                        status(inc <= T_INCREMENTAL_S)])
    missed = any("missed" in row[-1] for row in targets)

    # -- tables -----------------------------------------------------------------------------
    index_rows = []
    for corpus in corpora:
        cn = corpus["name"]
        o1 = build.get((cn, "ours", 1))
        o2 = build[cn, "ours", 2]
        for e in [*engines[:1], *(["ours-nopair"] if (cn, "ours-nopair", 2) in build else []),
                  *engines[1:]]:
            me = e == "ours"
            b1, b2 = build.get((cn, e, 1)), build[cn, e, 2]
            index_rows.append([
                cn if me else "", e, f"{b2['docs']:,}",
                ratio_cell(b1 and b1["seconds"], o1 and o1["seconds"], is_ours=me),
                ratio_cell(b1 and b1["docs"] / b1["seconds"], o1 and o1["docs"] / o1["seconds"],
                           "{:,.0f}", me),
                ratio_cell(b2["seconds"], o2["seconds"], is_ours=me)
                + ("†" if e == "fts5" else ""),
                ratio_cell(b2["docs"] / b2["seconds"], o2["docs"] / o2["seconds"], "{:,.0f}", me),
                ratio_cell(mb(size[cn, e]), mb(size[cn, "ours"]), is_ours=me)
                if (cn, e) in size else "–",
                ratio_cell(mb(b2["peak"]), mb(o2["peak"]), "{:.0f}", me),
                f"{b1['runs'] if b1 and e != 'fts5' else '–'} / {b2['runs']}",
            ])
    lat_rows = []
    for corpus in corpora:
        cn = corpus["name"]
        oc = lat[cn, "ours"]["configs"]
        for e in engines:
            c = lat[cn, e]["configs"]
            me = e == "ours"
            cells = []
            for config in CONFIGS:
                v = c[config]
                cell = f"{v['p50']:.1f} / {v['p95']:.1f} / {v['p99']:.1f}"
                if "worst" in v:
                    cell += f" / {v['worst']:.1f}"
                if not me:
                    cell += f" (×{oc[config]['p95'] / v['p95']:.1f})"
                cells.append(cell)
            lat_rows.append([cn if me else "", e, *cells, _passes(c, CONFIGS, n_queries),
                             f"{c['or']['mean_hits']:.1f} / {c['and']['mean_hits']:.1f}"])
    andish_rows = []
    for corpus in corpora:
        oc = lat[corpus["name"], "ours"]["configs"]
        if "andish" in oc:
            andish_rows.append([corpus["name"], *(
                f"{oc[k]['p50']:.1f} / {oc[k]['p95']:.1f} / {oc[k]['p99']:.1f} "
                f"(p95 ×{oc[k]['p95'] / oc[k.replace('andish', 'or')]['p95']:.2f} of OR)"
                for k in ("andish", "andish+snip")), f"{oc['andish']['mean_hits']:.1f}",
                _passes(oc, ("andish", "andish+snip"), n_queries)])
    mem_rows = []
    for corpus in corpora:
        cn = corpus["name"]
        for e in engines:
            me = e == "ours"
            mem_rows.append([
                cn if me else "", e,
                ratio_cell(mb(lat[cn, e]["rss"]), mb(lat[cn, "ours"]["rss"]), "{:.0f}", me),
                ratio_cell(cold[cn, e], cold[cn, "ours"], "{:.2f}", me),
                f"{cli_cold[cn]:.2f}" if me else "",
                ratio_cell(lat[cn, e]["open_s"] * 1000, lat[cn, "ours"]["open_s"] * 1000,
                           "{:.0f}", me),
            ])

    if write:
        plot(corpora, engines, build, lat)
    all_docs = next((c["docs"] for c in corpora if c["name"] == "all"), None)
    reps_text = (f"Short measurements are medians of {reps} runs: indexing runs under "
                 f"{REPEAT_BELOW_S:.0f} s are repeated {reps} times, longer ones run once "
                 "(the runs column says which); a query configuration is repeated up to "
                 f"{reps} passes over the sample while its passes took under "
                 f"{args.query_budget:.0f} s in total.")
    body = [
        "## Speed and scale (`benchmarks/speed.py`)",
        "",
        f"All engines measured side by side in one run ({minutes:.0f} min) on {machine()}. "
        "Each build, query session and cold start runs in its own subprocess. "
        f"Other processes on the machine used {other_cpu:.0f} CPU-seconds meanwhile "
        f"({other_share:.0%} of one core on average), which slows every engine alike "
        "in expectation but adds noise.",
        "",
        "**Corpora.** `help`: the LibreOffice help (`eval/libreoffice-help/docs.jsonl`, "
        f"{corpora[0]['docs']:,} pages with a non-empty text of 5,120; id, title and text "
        "only, no `lang`)."
        + (f" `all`: help + cranfield + scifact + npl together ({all_docs:,} documents, ids "
           "prefixed by collection)." if all_docs else "")
        + (" " + ", ".join(f"`{_size_name(s)}`" for s in sizes)
           + ": `all` **replicated** with new ids (copy k has ids `rK/...`) up to that many "
             "documents; the texts repeat, so vocabulary and postings grow less than in a real "
             "collection of that size." if sizes else ""),
        "",
        f"**Queries.** A fixed random sample (seed {QUERY_SEED}) of {qinfo['n']} of the "
        f"{qinfo['pool']:,} help keyword queries (`keyword_en` + `keyword_sl`: {qinfo['en']} "
        f"English, {qinfo['sl']} Slovenian), the same for every engine; top 10 with ids and "
        "titles, with or without 10 snippets. Ours gets the text as typed (`mode=\"or\"` / "
        "`\"and\"`; it also counts the language and year facets of every query); the peers "
        "get its word tokens joined by OR, or all required (AND). Latency is measured in a "
        f"warm query process (30 queries, at most {WARMUP_CAP_S:.0f} s, of warm-up per "
        "configuration) over indexes built with both cores (two Whoosh segments for ours and "
        "plain Whoosh). A pass that has run for more than "
        f"{PASS_CAP_BUDGETS * args.query_budget:.0f} s stops once it has measured "
        f"{MIN_PASS_QUERIES} queries (the first ones of the random sample; the passes column "
        "says where this happened). Ours keeps the scored postings of recent terms between "
        "queries (up to 2M postings, see `search/whoosh_ext/execution.py`); that cache is emptied "
        "before "
        "every pass, so repeating the sample does not hit it more than a stream of distinct "
        "queries would.",
        "",
        "**Reading the tables.** `(×r)` after a peer's figure is **ours ÷ that peer** in the "
        "same run: r > 1 means ours is slower, bigger or hungrier by that factor. "
        + reps_text,
        "",
        "### Targets",
        "",
        markdown_table(["target", "ours", "peers, same run", "status"], targets),
        "",
        "### Indexing",
        "",
        "Time from reading the JSONL to the committed index (ours includes language "
        "detection, cleaning, two Slovenian and one English analysis path per field, the "
        "spelling field and content hashes). Both cores: ours and plain Whoosh with "
        "`procs=2, multisegment=True`, tantivy with 2 threads. † FTS5 is single-threaded: "
        "its one-thread build stands in both columns. Peak memory: summed RSS of the process "
        "tree (sampled every 0.1 s) of the both-cores build. "
        + ("Larger corpora are built with both cores only." if sizes else ""),
        "",
        markdown_table(["corpus", "engine", "docs", "1 process s", "docs/s", "both cores s",
                        "docs/s", "index MB", "peak MB", "runs 1p / 2c"], index_rows),
        "",
        "### Query latency (ms: p50 / p95 / p99 / worst; `×` compares p95)",
        "",
        markdown_table(["corpus", "engine", "OR", "OR + 10 snippets", "AND",
                        "AND + 10 snippets", "passes", "hits OR / AND"], lat_rows),
        "",
        "Ours does more per query than the peers: it counts language and year facets over "
        "all matches, and for a query with fewer than 3 results (frequent in AND mode) it "
        "looks for a \"did you mean\" correction in the spelling field. `passes`: passes over "
        "the sample per configuration; `hits`: mean results returned per query.",
        *(["", hard_queries.render(names, engines, state["hard"], state["hard_sample"])]
          if state.get("hard") else []),
        *(["", "Ours in its AND-ish mode (`mode=\"andish\"`: OR, plus a boosted AND of the "
            "content words), same queries, its own process:", "",
            markdown_table(["corpus", "AND-ish", "AND-ish + 10 snippets", "hits", "passes"],
                           andish_rows)]
          if andish_rows else []),
        "",
        "### Memory and cold start",
        "",
        "Query process: peak RSS (`VmHWM`, includes the index pages it mapped) of the "
        "process that ran the OR latency passes (with and without snippets; each mode runs in "
        "its own process, as a server runs one mode). Cold start: median wall time of "
        f"{cold_reps} fresh processes that import the engine, open the index and run one query "
        f"with snippets ({cold_query!r}); the page cache is warm. `python -c pass` takes "
        f"{base_cold:.2f} s. Open: opening the index inside a running process. The project's "
        "modules are byte-compiled first, as an installed package's are. Ours: the first query "
        "process after a build also writes the index's cross-language vocabulary cache "
        "(`cognates.marshal`); that first run is one of the five, so the median is a start "
        "with the cache in place.",
        "",
        markdown_table(["corpus", "engine", "query process MB", "cold start s",
                        "`search-cli query` s", "open ms"], mem_rows),
    ]
    if incremental:
        ch = incremental["changed"]
        body += [
            "",
            "### Incremental re-indexing",
            "",
            f"{incremental['files']:,} small .txt files written from the `all` corpus (title "
            "line, blank line, text; 1,000 per folder; dated an hour back, as files that "
            "existed before), indexed once with "
            f"`index_paths([folder], index)` ({incremental['initial_s']:.1f} s, "
            f"{incremental['initial_docs']:,} documents); then the same call with nothing "
            f"changed ({incremental['unchanged_s']:.2f} s) and, {len(ch)} times, after "
            "appending a line to one file: "
            + ", ".join(f"{r['seconds']:.2f} s ({r['updated']} updated)" for r in ch)
            + f"; median **{statistics.median(r['seconds'] for r in ch):.2f} s**.",
        ]
    notes = state.get("notes", []) + state.get("redone", [])
    if notes:
        body += ["", "### Notes on this run", ""] + [f"- {n}" for n in notes]
    body += ["", "### Growth", "",
             f"![latency and indexing time against corpus size]({PLOT.name})", "",
             "Left: p95 latency, OR with 10 snippets. Right: indexing time with both cores."]
    if missed and (profile_index or profile_query):
        body += ["", "### Profiles (targets missed)", "",
                 "cProfile, one process; `cum` includes callees, `own` does not."]
        if profile_index:
            body += ["", "Indexing the help corpus (`index_paths`, procs=1):", "", "```",
                     profile_index.strip(), "```"]
        if profile_query:
            body += ["", f"{min(100, n_queries)} queries with 10 snippets (OR) on the "
                         f"{'all' if with_all else names[-1]} index:", "", "```",
                     profile_query.strip(), "```"]
    text = "\n".join(body)
    command = "python benchmarks/speed.py" + (" --quick" if quick else "") + (
        f" --sizes {args.sizes}" if args.sizes is not None else "")
    if write:
        write_section("speed", text, command=command)
        log(f"wrote the speed section of RESULTS.md and {PLOT.name}")
    print(text)
    if not args.keep:
        shutil.rmtree(WORK, ignore_errors=True)
    log(f"done in {minutes:.1f} min")


def plot(corpora: list[dict], engines: list[str], build: dict, lat: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    xs = [c["docs"] for c in corpora]
    for e in engines:
        style = {"linewidth": 2.5, "color": "black"} if e == "ours" else {"alpha": 0.8}
        ax1.plot(xs, [lat[c["name"], e]["configs"]["or+snip"]["p95"] for c in corpora],
                 marker="o", label=e, **style)
        ax2.plot(xs, [build[c["name"], e, 2]["seconds"] for c in corpora], marker="o",
                 label=e, **style)
    ax1.axhline(T_P95_SMALL_MS, color="grey", linestyle=":", linewidth=1)
    ax1.axhline(T_P95_LARGE_MS, color="grey", linestyle="--", linewidth=1)
    for ax, title, unit in ((ax1, "p95 latency, OR + 10 snippets", "ms"),
                            (ax2, "indexing time, both cores", "s")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("documents")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    ax1.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
