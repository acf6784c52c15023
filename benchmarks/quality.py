"""Ranking quality of our engine next to peer engines, on the shared evaluation collections.

Runs every engine on every collection/task following the protocol of ``shared/eval/README.md``
(see ``evaluation.py``) and writes one table to the ``quality`` section of RESULTS.md::

    python benchmarks/quality.py                       # everything: ours + all peers
    python benchmarks/quality.py --engines peers       # the peers only
    python benchmarks/quality.py --collections cranfield,npl --engines ours,tantivy
    python benchmarks/quality.py --quick               # 200 queries per task, not written

Ablation variants of our engine are added to ``ENGINES`` with :func:`register_ours_variant`,
which passes options through to index building and searching.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))  # the repository root, for `import search`

import evaluation as ev  # noqa: E402
from _results import EVAL, markdown_table, write_section  # noqa: E402
from peers import PEERS  # noqa: E402

QUICK_QUERIES = 200


class OurEngine:
    """Adapter of our engine (``search`` package) to the harness's engine interface.

    ``index_options`` are passed as keyword arguments to ``index_paths`` and
    ``search_options`` to ``SearchIndex.search``: the hook for ablation variants.
    """

    detects_language = True  #: restricts results by the language it detected itself

    def __init__(self, name: str = "ours", index_options: dict | None = None,
                 search_options: dict | None = None) -> None:
        self.name = name
        self.index_options = dict(index_options or {})
        self.search_options = dict(search_options or {})
        self._tmp: str | None = None
        self._index = None

    def applies_to(self, target_lang: str | None) -> bool:
        return True

    def index(self, records: list[dict]) -> None:
        from search.indexer import index_paths
        from search.searcher import SearchIndex

        self.close()
        self._tmp = tempfile.mkdtemp(prefix=f"quality-{self.name}-")
        jsonl = Path(self._tmp) / "docs.jsonl"
        with open(jsonl, "w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps({"id": r["id"], "title": r["title"], "text": r["text"]},
                                   ensure_ascii=False) + "\n")
        report = index_paths([jsonl], Path(self._tmp) / "index", rebuild=True,
                             **self.index_options)
        if report.problems:
            print(f"  {self.name}: {len(report.problems)} indexing problem(s), first: "
                  f"{report.problems[0]}", file=sys.stderr)
        if report.indexed != len(records):
            print(f"  {self.name}: WARNING indexed {report.indexed} of {len(records)} records",
                  file=sys.stderr)
        self._index = SearchIndex(Path(self._tmp) / "index")

    def search(self, text: str, lang: str | None, limit: int) -> list[tuple[str, float]]:
        results = self._index.search(text, lang=lang, per_page=limit, snippets=False,
                                     **self.search_options)
        return [(h.id, h.score) for h in results.hits]

    def close(self) -> None:
        if self._index is not None and hasattr(self._index, "close"):
            self._index.close()
        self._index = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


#: engine name -> factory; ours first, then the peers (see peers.py)
ENGINES: dict[str, Callable[[], object]] = {"ours": OurEngine, **PEERS}
OURS = ["ours"]  #: names of our engine and its registered variants


def register_ours_variant(name: str, index_options: dict | None = None,
                          search_options: dict | None = None) -> None:
    """Add an ablation variant of our engine, selectable with ``--engines NAME``.

    Example: ``register_ours_variant("ours-nostem", index_options={"stemming": False})``.
    """
    ENGINES[name] = lambda: OurEngine(name, index_options, search_options)
    OURS.append(name)


def ours_available() -> str | None:
    """None if our engine imports, else the error."""
    try:
        import search.indexer  # noqa: F401
        import search.searcher  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - any import failure means "not ready"
        return f"{type(exc).__name__}: {exc}"
    return None


def _applies(engine: object, target_lang: str | None) -> bool:
    check = getattr(engine, "applies_to", None)
    return True if check is None else bool(check(target_lang))


def run(engine_names: list[str], collections: list[str], max_queries: int | None,
        root: Path = EVAL, runs_dir: Path | None = None) -> tuple[list[ev.TaskResult], float]:
    """All engines on all collections; returns the task results and the wall time."""
    t0 = time.perf_counter()
    results: list[ev.TaskResult] = []

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    for name in engine_names:
        engine = ENGINES[name]()
        log(f"{name}:")
        try:
            for collection in collections:
                tasks = [t.name for t in ev.tasks_of(collection, root)
                         if _applies(engine, t.target_lang)]
                if tasks:
                    results += ev.evaluate_engine(engine, collection, tasks, root=root,
                                                  max_queries=max_queries, runs_dir=runs_dir,
                                                  log=log)
        finally:
            close = getattr(engine, "close", None)
            if close:
                close()
            ev.forget_index(engine)
    return results, time.perf_counter() - t0


def _cell(r: ev.TaskResult | None) -> str:
    return "–" if r is None else f"{r.headline:.3f} / {r.metrics['R@100']:.3f}"


def render(results: list[ev.TaskResult], engine_names: list[str], max_queries: int | None,
           seconds: float) -> str:
    """The markdown body of the quality section."""
    by = {(r.engine, r.task.label): r for r in results}
    tasks: list[ev.Task] = []
    for r in results:
        if r.task not in tasks:
            tasks.append(r.task)
    order = {c: i for i, c in enumerate(ev.COLLECTIONS)}
    tasks.sort(key=lambda t: (order.get(t.collection, 99),
                              ev.HELP_TASKS.index(t.name) if t.name in ev.HELP_TASKS else 0))
    peers = [n for n in engine_names if n not in OURS]
    ours = [n for n in engine_names if n in OURS]
    headers = ["task", "queries", "measure", *engine_names]
    if peers:
        headers.append("best peer")
    if ours and peers:
        headers += [f"{n} − best peer" for n in ours]
    rows = []
    for t in tasks:
        rs = [by.get((n, t.label)) for n in engine_names]
        n_q = max((r.n_queries for r in rs if r), default=0)
        row: list[object] = [t.label, n_q, f"{t.headline} / R@100", *(_cell(r) for r in rs)]
        peer_rs = [by[(n, t.label)] for n in peers if (n, t.label) in by]
        best = max(peer_rs, key=lambda r: r.headline, default=None)
        if peers:
            row.append("–" if best is None else f"{best.headline:.3f} ({best.engine})")
        if ours and peers:
            for n in ours:
                mine = by.get((n, t.label))
                row.append("–" if mine is None or best is None
                           else f"{mine.headline - best.headline:+.3f}")
        rows.append(row)

    lat_rows = []
    for n in engine_names:
        rs = [r for r in results if r.engine == n]
        if not rs:
            continue
        help_ms = [x for r in rs if r.task.collection == ev.HELP for x in r.latencies_ms]
        en_ms = [x for r in rs if r.task.collection != ev.HELP for x in r.latencies_ms]
        builds = {r.index_key: r.index_seconds for r in rs}

        def fmt(ms: list[float]) -> list[object]:
            if not ms:
                return ["–", "–", "–"]
            return [len(ms), f"{statistics.median(ms):.2f}", f"{ev.percentile(ms, 95):.2f}"]

        lat_rows.append([n, *fmt(help_ms), *fmt(en_ms), len(builds),
                         f"{sum(builds.values()):.1f}"])

    quick = (f"**QUICK run: at most {max_queries} random queries per task (fixed seed); "
             "not the reference figures.**\n\n" if max_queries else "")
    return (
        "## Ranking quality\n\n"
        + quick
        + "Development halves of `shared/eval` (a held-out half of every task is kept back), "
        "following the protocol of `shared/eval/README.md`: one index per collection with only "
        "id/title/text (opaque ids; titles emptied for `known_item_*`), queries sent as typed, "
        "top 100 restricted to the target language, scored with `ir-measures`. Each cell is "
        "the headline measure (RR@10 for the help tasks, nDCG@10 for the English collections) "
        "/ R@100; `–`: the engine variant is not meant for that language.\n\n"
        + markdown_table(headers, rows)
        + "\n\nPeers have no language detection: on `libreoffice-help` their results are "
        "filtered by the **ground-truth** `lang` of the documents (fetching deeper until 100 "
        "remain), which our engine does not get: it restricts with the language it detected. "
        "Peer queries are sanitised to word tokens (OR of terms); ours gets the raw text. "
        "Peers: `tantivy` default tokenizer, `tantivy-en` en_stem (title + body fields); "
        "`fts5` SQLite FTS5 unicode61 remove_diacritics 2, `fts5-porter` + porter; "
        "`bm25s-en` bm25s k1=1.5 b=0.75 English stemmer + stop words, `bm25s-sr` the Snowball "
        "Serbian stemmer (nearest South Slavic, for Slovenian), no stop words; `whoosh` plain "
        "Whoosh StandardAnalyzer, BM25F, OR group over title + body.\n\n"
        "### Query latency\n\n"
        "Per query, in-process, including the language restriction (for peers: the "
        "ground-truth filter and any deeper re-fetch); one query at a time.\n\n"
        + markdown_table(["engine", "help queries", "median ms", "p95 ms",
                          "English-collection queries", "median ms", "p95 ms", "index builds",
                          "build s total"], lat_rows)
        + f"\n\nWall time of the whole run: {seconds / 60:.1f} min."
    )


def _names(value: str, known: list[str]) -> list[str]:
    out: list[str] = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        expanded = {"all": known, "peers": list(PEERS), "ours": ["ours"]}.get(part, [part])
        for name in expanded:
            if name not in known:
                raise SystemExit(f"unknown name {name!r}; choose from {', '.join(known)}")
            if name not in out:
                out.append(name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Ranking quality (RR@10 / nDCG@10 / R@100) and query latency of our engine "
                    "and peer engines on shared/eval; writes the 'quality' section of "
                    "benchmarks/RESULTS.md.")
    parser.add_argument("--collections", default="all",
                        help=f"comma-separated, from {', '.join(ev.COLLECTIONS)} (default: all)")
    parser.add_argument("--engines", default="all",
                        help="comma-separated engine names, or 'peers', 'all' (default: all = "
                             f"ours + peers). Known: {', '.join(ENGINES)}")
    parser.add_argument("--quick", nargs="?", type=int, const=QUICK_QUERIES, default=None,
                        metavar="N", help=f"at most N random queries per task (default N: "
                        f"{QUICK_QUERIES}) for development; RESULTS.md is then not written")
    parser.add_argument("--no-write", action="store_true", help="do not write RESULTS.md")
    parser.add_argument("--runs", type=Path, default=None, metavar="DIR",
                        help="also write every TREC run to DIR")
    parser.add_argument("--eval-root", type=Path, default=EVAL,
                        help=f"folder holding the collections (default: {EVAL})")
    args = parser.parse_args(argv)

    collections = _names(args.collections, list(ev.COLLECTIONS)) if args.collections != "all" \
        else list(ev.COLLECTIONS)
    engines = _names(args.engines, list(ENGINES))
    if any(n in OURS for n in engines):
        problem = ours_available()
        if problem:
            print(f"our engine does not import ({problem}); run the peers alone with "
                  "--engines peers", file=sys.stderr)
            return 2

    results, seconds = run(engines, collections, args.quick, args.eval_root, args.runs)
    body = render(results, engines, args.quick, seconds)
    print(body)
    if args.no_write or args.quick:
        print("\n(RESULTS.md not written)", file=sys.stderr)
    else:
        command = " ".join(["python benchmarks/quality.py", *(argv if argv is not None
                                                               else sys.argv[1:])])
        write_section("quality", body, command)
        print("\nwrote the 'quality' section of benchmarks/RESULTS.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
