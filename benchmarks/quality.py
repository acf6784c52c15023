"""Ranking quality of our engine next to peer engines, on the shared evaluation collections.

Runs every engine on every collection/task following the protocol of ``shared/eval/README.md``
(see ``evaluation.py``) and writes one table to the ``quality`` section of RESULTS.md::

    python benchmarks/quality.py                       # everything: ours + all peers
    python benchmarks/quality.py --engines peers       # the peers only
    python benchmarks/quality.py --collections cranfield,npl --engines ours,tantivy
    python benchmarks/quality.py --quick               # 200 queries per task, not written
    python benchmarks/quality.py --no-ablations        # the main table only

With our engine in the run, the same report also holds:

- **ablations** (:data:`ABLATIONS`): variants of our engine, each changing one thing against
  the default (analysis, stop list, title weight, BM25 parameters and IDF, query mode,
  per-language statistics), with their quality and query latency, on the monolingual
  ``libreoffice-help`` tasks, ``cranfield`` and ``cisi`` (at most ``--ablation-queries``
  random queries per task, the same ones for every variant);
- **typing without diacritics**: every query of ``known_item_sl`` and ``keyword_sl`` with
  č š ž ć đ replaced by c s z c d, next to the figure with diacritics.

Variants of our engine are added to ``ENGINES`` with :func:`register_ours_variant`, which
passes ``index_options`` to ``index_paths`` (e.g. ``{"analysis": {"stopwords": False}}``) and
``open_options`` to the ``SearchIndex`` constructor (e.g. ``{"title_boost": 0}``). Variants with
the same ``index_options`` share one index build per collection within a run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))  # the repository root, for `import search`

import evaluation as ev  # noqa: E402
from _results import EVAL, markdown_table, write_section  # noqa: E402
from peers import PEERS  # noqa: E402
from slices import LONG_WORDS, long_query_slices  # noqa: E402

QUICK_QUERIES = 200


#: Index folders shared by our engine's variants with the same index options (see
#: :func:`sharing_indexes`): (index options, records digest) -> (temporary folder, build s).
_SHARED: dict[tuple[str, str], tuple[str, float]] | None = None


@contextmanager
def sharing_indexes() -> Iterator[None]:
    """Within this block, variants of our engine with the same ``index_options`` build each
    collection's index once and share it; the folders are removed at the end."""
    global _SHARED
    outer = _SHARED
    if outer is None:
        _SHARED = {}
    try:
        yield
    finally:
        if outer is None:
            for folder, _ in (_SHARED or {}).values():
                shutil.rmtree(folder, ignore_errors=True)
            _SHARED = None


class OurEngine:
    """Adapter of our engine (``search`` package) to the harness's engine interface.

    ``index_options`` are passed as keyword arguments to ``index_paths`` (index-time options,
    such as ``{"analysis": {"stopwords": False}}``), ``open_options`` to the ``SearchIndex``
    constructor (ranking options: ``mode``, ``title_boost``, ``path_boosts``, ``bm25``...) and
    ``search_options`` to ``SearchIndex.search``. ``query_transform`` rewrites each query
    before it is sent (e.g. to strip diacritics).
    """

    detects_language = True  #: restricts results by the language it detected itself

    def __init__(self, name: str = "ours", index_options: dict | None = None,
                 search_options: dict | None = None, *, open_options: dict | None = None,
                 query_transform: Callable[[str], str] | None = None) -> None:
        self.name = name
        self.index_options = dict(index_options or {})
        self.open_options = dict(open_options or {})
        self.search_options = dict(search_options or {})
        self.query_transform = query_transform
        self._tmp: str | None = None  #: a private index folder (not shared), removed on close
        self._index = None

    def applies_to(self, target_lang: str | None) -> bool:
        return True

    def index(self, records: list[dict]) -> None:
        from search.searcher import SearchIndex

        self.close()
        lines = "".join(json.dumps({"id": r["id"], "title": r["title"], "text": r["text"]},
                                   ensure_ascii=False) + "\n" for r in records)
        if _SHARED is None:
            self._tmp = folder = self._build(lines, len(records))
        else:
            key = (json.dumps(self.index_options, sort_keys=True),
                   hashlib.sha256(lines.encode("utf-8")).hexdigest())
            if key not in _SHARED:
                t0 = time.perf_counter()
                built = self._build(lines, len(records))
                _SHARED[key] = (built, time.perf_counter() - t0)
            else:
                print(f"  {self.name}: sharing the index built with the same index options",
                      file=sys.stderr)
            folder = _SHARED[key][0]
        self._index = SearchIndex(Path(folder) / "index", **self.open_options)

    def _build(self, lines: str, n_records: int) -> str:
        """Index the records (as JSONL ``lines``) into a new temporary folder; returns it."""
        from search.indexer import index_paths

        folder = tempfile.mkdtemp(prefix=f"quality-{self.name}-")
        jsonl = Path(folder) / "docs.jsonl"
        jsonl.write_text(lines, encoding="utf-8")
        report = index_paths([jsonl], Path(folder) / "index", rebuild=True,
                             **self.index_options)
        if report.problems:
            print(f"  {self.name}: {len(report.problems)} indexing problem(s), first: "
                  f"{report.problems[0]}", file=sys.stderr)
        if report.indexed != n_records:
            print(f"  {self.name}: WARNING indexed {report.indexed} of {n_records} records",
                  file=sys.stderr)
        return folder

    def search(self, text: str, lang: str | None, limit: int) -> list[tuple[str, float]]:
        if self.query_transform is not None:
            text = self.query_transform(text)
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
                          search_options: dict | None = None, *,
                          open_options: dict | None = None,
                          query_transform: Callable[[str], str] | None = None) -> None:
    """Add a variant of our engine, selectable with ``--engines NAME``.

    Example: ``register_ours_variant("ours-nostop",
    index_options={"analysis": {"stopwords": False}})``.
    """
    ENGINES[name] = lambda: OurEngine(name, index_options, search_options,
                                      open_options=open_options,
                                      query_transform=query_transform)
    if name not in OURS:
        OURS.append(name)


# ----------------------------------------------------------------------------- ablations


@dataclass(frozen=True)
class Ablation:
    """A variant of our engine that changes one thing against the default."""

    name: str
    group: str  #: what is ablated (analysis, stop list, field weights...)
    change: str  #: the setting, as shown in the table
    index_options: dict = field(default_factory=dict)
    open_options: dict = field(default_factory=dict)
    needs_mode: str | None = None  #: a query mode the engine must know (``search.query.MODES``)
    needs_translation: bool = False  #: only when the engine translates queries


#: The default first. Index-time options rebuild the index; the others only reopen it.
#: "No analysis" also drops the Slovenian stem path: without morphology it would index the
#: same terms as the main path a second time.
ABLATIONS: tuple[Ablation, ...] = (
    Ablation("ours", "default",
             "lemma + folded light stem (sl), Porter2 (en); stop list; title 0.6; "
             "K1 1.2, B 0.5, title B 0.3, Lucene IDF; OR; per-language statistics; "
             "top 100 re-ranked by word coverage and positions (lead, adjacency), less so "
             "for long queries; query terms weighted by their frequency in the query and, in "
             "long queries, by their selectivity"),
    Ablation("ours-noanalysis", "analysis",
             "no analysis: words, lowercase, folded (no stop list, no lemma/stem)",
             index_options={"analysis": {"morphology": False, "stopwords": False}},
             open_options={"path_boosts": {"sl_stem": 0}}),
    Ablation("ours-lemma", "analysis", "lemma only (sl; the stem path off)",
             open_options={"path_boosts": {"sl_stem": 0}}),
    Ablation("ours-stem", "analysis", "folded light stem only (sl; the lemma path off)",
             open_options={"path_boosts": {"sl": 0}}),
    Ablation("ours-nostop", "stop list", "stop list off",
             index_options={"analysis": {"stopwords": False}}),
    Ablation("ours-title0", "field weights", "title weight 0 (body only)",
             open_options={"title_boost": 0}),
    Ablation("ours-title2", "field weights", "title weight 2",
             open_options={"title_boost": 2}),
    Ablation("ours-bm25-anserini", "BM25", "K1 0.9, B 0.4, title B 0.4 (Anserini)",
             open_options={"bm25": {"K1": 0.9, "B": 0.4, "title_B": 0.4}}),
    Ablation("ours-bm25-classic", "BM25", "K1 1.2, B 0.75, title B 0.75 (Lucene defaults)",
             open_options={"bm25": {"K1": 1.2, "B": 0.75, "title_B": 0.75}}),
    Ablation("ours-idf-whoosh", "BM25", "Whoosh IDF log(N/(n+1)) + 1",
             open_options={"bm25": {"idf": "whoosh"}}),
    Ablation("ours-and", "query mode", "AND: every word required",
             open_options={"mode": "and"}, needs_mode="and"),
    Ablation("ours-andish", "query mode", "AND-ish: OR, plus a boosted AND of the words",
             open_options={"mode": "andish"}, needs_mode="andish"),
    Ablation("ours-nopositions", "re-ranking",
             "no position re-ranking (lead, adjacency); word coverage only",
             open_options={"positions": False}),
    Ablation("ours-noqueryweights", "query weights",
             "no query-term weights (query term frequency; selectivity in long queries) and "
             "full re-ranking whatever the query's length",
             open_options={"query_weights": False}),
    Ablation("ours-global-stats", "statistics",
             "collection statistics over both languages (stock BM25F)",
             open_options={"bm25": {"per_language": False}}),
    Ablation("ours-translate", "translation",
             "query translation on (as shipped)",
             open_options={"translate": True}, needs_translation=True),
)
#: Ranking options of every ablation (unless it sets them itself): the ablation tasks are
#: monolingual, so query translation (when the engine has it) is off.
MONOLINGUAL = {"translate": False}
#: The tasks ablations run on: the monolingual help tasks and one English collection.
ABLATION_TASKS = ("keyword_sl", "keyword_en", "known_item_sl", "known_item_en", "cranfield",
                  "cisi")
#: At most this many random queries per task (the same for every variant); 0: all.
ABLATION_QUERIES = 500


def engine_features() -> dict[str, object]:
    """What the installed engine supports: its query ``modes`` and ``translation``."""
    import inspect

    from search import query, searcher

    try:
        translation = '"translate"' in inspect.getsource(searcher.SearchIndex.__init__)
    except (OSError, TypeError):
        translation = False
    return {"modes": tuple(getattr(query, "MODES", ("or", "and"))), "translation": translation}


def ablation_options(a: Ablation, features: dict[str, object] | None = None) -> dict:
    """The ``SearchIndex`` options of an ablation: its own, plus :data:`MONOLINGUAL`."""
    features = engine_features() if features is None else features
    if features["translation"]:
        return {**MONOLINGUAL, **a.open_options}
    return dict(a.open_options)


def ablation_plan(features: dict[str, object] | None = None) -> list[Ablation]:
    """The ablations the installed engine supports, with their final options."""
    from dataclasses import replace

    features = engine_features() if features is None else features
    plan = []
    for a in ABLATIONS:
        if a.needs_mode and a.needs_mode not in features["modes"]:  # type: ignore[operator]
            continue
        if a.needs_translation and not features["translation"]:
            continue
        plan.append(replace(a, open_options=ablation_options(a, features)))
    return plan


def _register_ablation(a: Ablation) -> None:
    ENGINES[a.name] = lambda: OurEngine(a.name, a.index_options,
                                        open_options=ablation_options(a))
    if a.name not in OURS:
        OURS.append(a.name)


for _a in ABLATIONS[1:]:
    _register_ablation(_a)

#: č š ž ć đ (and capitals) -> c s z c d: how people type Slovenian on a plain keyboard.
STRIP_DIACRITICS = str.maketrans("čšžćđČŠŽĆĐ", "cszcdCSZCD")
DIACRITICS_TASKS = ("keyword_sl", "known_item_sl")
NO_DIACRITICS = "ours-no-diacritics"


def strip_diacritics(text: str) -> str:
    """The query as typed without diacritics.

    >>> strip_diacritics("Vstavljanje črt in šumnikov, Đakovo")
    'Vstavljanje crt in sumnikov, Dakovo'
    """
    return text.translate(STRIP_DIACRITICS)


register_ours_variant(NO_DIACRITICS, query_transform=strip_diacritics)


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
        root: Path = EVAL, runs_dir: Path | None = None,
        tasks: Collection[str] | None = None) -> tuple[list[ev.TaskResult], float]:
    """All engines on all collections (only the named ``tasks``, if given; an English
    collection's task is named after it); returns the task results and the wall time."""
    t0 = time.perf_counter()
    results: list[ev.TaskResult] = []

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    for name in engine_names:
        engine = ENGINES[name]()
        log(f"{name}:")
        try:
            for collection in collections:
                chosen = [t.name for t in ev.tasks_of(collection, root)
                          if _applies(engine, t.target_lang)
                          and (tasks is None or t.name in tasks)]
                if chosen:
                    results += ev.evaluate_engine(engine, collection, chosen, root=root,
                                                  max_queries=max_queries, runs_dir=runs_dir,
                                                  log=log)
        finally:
            close = getattr(engine, "close", None)
            if close:
                close()
            ev.forget_index(engine)
    return results, time.perf_counter() - t0


def run_interleaved(engines: dict[str, OurEngine], collections: list[str],
                    max_queries: int | None, root: Path = EVAL,
                    runs_dir: Path | None = None,
                    tasks: Collection[str] | None = None) -> tuple[list[ev.TaskResult], float]:
    """Like :func:`run`, but every query is sent to every engine in turn (rotating the order)
    before the next one, so that their latencies are measured under the same machine load.

    Meant for our engine's variants inside :func:`sharing_indexes`, where they hold their
    indexes side by side at no extra build cost.
    """
    t0 = time.perf_counter()
    results: list[ev.TaskResult] = []

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    try:
        for collection in collections:
            chosen = [t for t in ev.tasks_of(collection, root)
                      if tasks is None or t.name in tasks]
            for task in sorted(chosen, key=lambda t: t.variant != ev.WITH_TITLES):
                built = {n: ev.ensure_index(e, collection, task.variant, root, log)
                         for n, e in engines.items()}
                queries = ev.subsample(ev.load_queries(task), max_queries)
                runs: dict[str, dict[str, dict[str, float]]] = {n: {} for n in engines}
                latencies: dict[str, list[float]] = {n: [] for n in engines}
                names = list(engines)
                for i, q in enumerate(queries):
                    for name in names[i % len(names):] + names[:i % len(names)]:
                        b = built[name]
                        t1 = time.perf_counter()
                        hits = ev.restricted_search(engines[name], q["text"], task.target_lang,
                                                    ev.LIMIT, b.langs, len(b.back))
                        latencies[name].append((time.perf_counter() - t1) * 1000)
                        runs[name][q["id"]] = ev.run_from_ranking((b.back[d], sc)
                                                                  for d, sc in hits)
                qids = {q["id"] for q in queries}
                qrels = [q for q in ev.load_qrels(task) if q.query_id in qids]
                for name in names:
                    metrics = ev.score(runs[name], qrels)
                    results.append(ev.TaskResult(name, task, metrics, len(queries),
                                                 latencies[name], built[name].key,
                                                 built[name].seconds, runs[name]))
                    if runs_dir is not None:
                        Path(runs_dir).mkdir(parents=True, exist_ok=True)
                        ev.write_trec_run(runs[name], Path(runs_dir) /
                                          f"{name}.{collection}.{task.name}.trec", name)
                    log(f"  {name}: {task.label}: " + ", ".join(
                        f"{k} {v:.3f}" for k, v in metrics.items())
                        + f" ({len(queries)} queries, median "
                          f"{statistics.median(latencies[name] or [0]):.1f} ms)")
    finally:
        for engine in engines.values():
            engine.close()
            ev.forget_index(engine)
    return results, time.perf_counter() - t0


#: Quality targets of our engine per task label: a headline figure, or None for "at or above
#: the best peer".
TARGETS: dict[str, float | None] = {
    "cranfield": None, "scifact": None, "npl": None, "cisi": None,
    f"{ev.HELP}/keyword_sl": 0.56, f"{ev.HELP}/keyword_en": 0.63,
    f"{ev.HELP}/known_item_sl": 0.60, f"{ev.HELP}/known_item_en": 0.62,
    f"{ev.HELP}/clir_en2sl": 0.30, f"{ev.HELP}/clir_sl2en": 0.30,
}


def _cell(r: ev.TaskResult | None) -> str:
    return "–" if r is None else f"{r.headline:.3f} / {r.metrics['R@100']:.3f}"


def _ordered_tasks(results: list[ev.TaskResult]) -> list[ev.Task]:
    tasks: list[ev.Task] = []
    for r in results:
        if r.task not in tasks:
            tasks.append(r.task)
    order = {c: i for i, c in enumerate(ev.COLLECTIONS)}
    tasks.sort(key=lambda t: (order.get(t.collection, 99),
                              ev.HELP_TASKS.index(t.name) if t.name in ev.HELP_TASKS else 0))
    return tasks


def _table(headers: list[str], rows: list[list[object]], left: int = 1) -> str:
    """A markdown table whose first ``left`` columns (text) are left-aligned."""
    lines = markdown_table(headers, rows).split("\n")
    lines[1] = "|" + "|".join("---" if i < left else "---:" for i in range(len(headers))) + "|"
    return "\n".join(lines)


def _ms(values: list[float]) -> list[object]:
    """Count, median and p95 of latencies in ms."""
    if not values:
        return ["–", "–", "–"]
    return [len(values), f"{statistics.median(values):.2f}", f"{ev.percentile(values, 95):.2f}"]


def render(results: list[ev.TaskResult], engine_names: list[str], max_queries: int | None,
           seconds: float) -> str:
    """The markdown body of the quality section's main table and latency table."""
    by = {(r.engine, r.task.label): r for r in results}
    tasks = _ordered_tasks(results)
    peers = [n for n in engine_names if n not in OURS]
    ours = [n for n in engine_names if n in OURS]
    headers = ["task", "queries", "measure", *engine_names]
    if peers:
        headers.append("best peer")
    if ours and peers:
        headers += [f"{n} − best peer" for n in ours]
    if "ours" in ours:
        headers += ["target", "ours meets it"]
    slices = long_query_slices(results)
    # Each task, then (if it has any) the slice of its long queries, from the same runs.
    entries: list[tuple[str, ev.Task, dict[str, ev.TaskResult], bool]] = []
    for t in tasks:
        entries.append((t.label, t, {n: by[(n, t.label)] for n in engine_names
                                     if (n, t.label) in by}, False))
        if t.label in slices:
            sl = slices[t.label]
            entries.append((sl.label, t, sl.results, True))
    rows = []
    for label, t, mine_by, is_slice in entries:
        rs = [mine_by.get(n) for n in engine_names]
        n_q = max((r.n_queries for r in rs if r), default=0)
        row: list[object] = [label, n_q, f"{t.headline} / R@100", *(_cell(r) for r in rs)]
        peer_rs = [mine_by[n] for n in peers if n in mine_by]
        best = max(peer_rs, key=lambda r: r.headline, default=None)
        if peers:
            row.append("–" if best is None else f"{best.headline:.3f} ({best.engine})")
        if ours and peers:
            for n in ours:
                mine = mine_by.get(n)
                row.append("–" if mine is None or best is None
                           else f"{mine.headline - best.headline:+.3f}")
        if "ours" in ours:
            row += (["–", "–"] if is_slice
                    else _target_cells(t.label, mine_by.get("ours"), best))
        rows.append(row)

    lat_rows = []
    for n in engine_names:
        rs = [r for r in results if r.engine == n]
        if not rs:
            continue
        help_ms = [x for r in rs if r.task.collection == ev.HELP for x in r.latencies_ms]
        en_ms = [x for r in rs if r.task.collection != ev.HELP for x in r.latencies_ms]
        builds = {r.index_key: r.index_seconds for r in rs}
        lat_rows.append([n, *_ms(help_ms), *_ms(en_ms), len(builds),
                         f"{sum(builds.values()):.1f}"])

    quick = (f"**QUICK run: at most {max_queries} random queries per task (fixed seed); "
             "not the reference figures.**\n\n" if max_queries else "")
    targets = ("`target`: what our engine must reach on the task's headline measure (`≥ best "
               "peer`: at or above the best peer, compared at three decimals). "
               if "ours" in ours else "")
    return (
        "## Ranking quality\n\n"
        + quick
        + "Development halves of `shared/eval` (a held-out half of every task is kept back), "
        "following the protocol of `shared/eval/README.md`: one index per collection with only "
        "id/title/text (opaque ids; titles emptied for `known_item_*`), queries sent as typed, "
        "top 100 restricted to the target language, scored with `ir-measures`. Each cell is "
        "the headline measure (RR@10 for the help tasks, nDCG@10 for the English collections) "
        "/ R@100; `–`: the engine variant is not meant for that language. A row `…, queries over "
        f"{LONG_WORDS} words` scores only the task's judged queries of more than {LONG_WORDS} "
        "words (split at white space), from the same runs (a paragraph, several questions, or "
        "a paper's title and abstract pasted in; it has no target of its own). "
        + targets + "\n\n"
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
        + f"\n\nWall time of the main table: {seconds / 60:.1f} min."
    )


def _target_cells(label: str, mine: ev.TaskResult | None,
                  best: ev.TaskResult | None) -> list[object]:
    if label not in TARGETS:
        return ["–", "–"]
    goal = TARGETS[label]
    if goal is None:
        text = "≥ best peer"
        goal = None if best is None else round(best.headline, 3)
    else:
        text = f"≥ {goal:.2f}"
    if mine is None or goal is None:
        return [text, "–"]
    return [text, "yes" if round(mine.headline, 3) >= goal else "**no**"]


def render_ablations(results: list[ev.TaskResult], plan: list[Ablation],
                     max_queries: int | None, seconds: float, translation: bool = False) -> str:
    """The ablation table: every variant's headline figures, Δ against the default, latency."""
    by = {(r.engine, r.task.label): r for r in results}
    tasks = _ordered_tasks(results)
    help_tasks = [t for t in tasks if t.collection == ev.HELP]
    default = plan[0].name
    headers = ["variant", "ablated", "setting",
               *(f"{t.name if t.collection == ev.HELP else t.label} {t.headline}"
                 for t in tasks)]
    if help_tasks:
        headers.append("help mean RR@10")
    headers += ["queries", "median ms", "p95 ms"]

    def cell(value: float | None, base: float | None, is_default: bool) -> str:
        if value is None:
            return "–"
        if is_default or base is None:
            return f"**{value:.3f}**" if is_default else f"{value:.3f}"
        delta = round(value - base, 3) + 0.0  # + 0.0: no "-0.000"
        return f"{value:.3f} ({delta:+.3f})"

    def help_mean(name: str) -> float | None:
        rs = [by.get((name, t.label)) for t in help_tasks]
        if not rs or any(r is None for r in rs):
            return None
        return statistics.fmean(r.headline for r in rs if r is not None)

    rows = []
    for a in plan:
        rs = [r for r in results if r.engine == a.name]
        if not rs:
            continue
        is_default = a.name == default
        change = a.change
        if is_default and translation:
            change += "; query translation off (these tasks are monolingual)"
        row: list[object] = [f"`{a.name}`" + (" (default)" if is_default else ""),
                             a.group, change]
        for t in tasks:
            mine, base = by.get((a.name, t.label)), by.get((default, t.label))
            row.append(cell(mine.headline if mine else None,
                            base.headline if base else None, is_default))
        if help_tasks:
            row.append(cell(help_mean(a.name), help_mean(default), is_default))
        row += _ms([x for r in rs for x in r.latencies_ms])
        rows.append(row)
    n_tasks = {t.label: max(r.n_queries for r in results if r.task == t) for t in tasks}
    sizes = ", ".join(f"{label} {n}" for label, n in n_tasks.items())
    return (
        "### Ablations\n\n"
        "Each variant of our engine changes one thing against the **default** (first row, "
        "bold), on the monolingual `libreoffice-help` tasks (RR@10), `cranfield` and `cisi` "
        "(nDCG@10; `cisi`'s queries are mostly long); "
        "in brackets the difference to the default. "
        + (f"At most {max_queries} random queries per task (fixed seed, the same for every "
           "variant, so the default's figures differ slightly from the main table's): "
           if max_queries else "All queries: ")
        + f"{sizes}. "
        + ("Query translation is off (`translate=False`) in every variant, these tasks being "
           "monolingual, except in `ours-translate`. " if translation else "")
        + "Analysis and stop-list variants are separate index builds (their analysers are "
        "stored in the index and also parse the queries); the others reopen the default "
        "index with other ranking options (`SearchIndex(path, **options)`). `help mean`: the "
        "mean of the four help tasks. Latency: median and p95 over all of the variant's "
        "queries, in-process, one query at a time; the variants take turns query by query "
        "(rotating the order), so all of them are timed under the same machine load.\n\n"
        + _table(headers, rows, left=3)
        + f"\n\nWall time of the ablations: {seconds / 60:.1f} min."
    )


def render_diacritics(plain: list[ev.TaskResult], stripped: list[ev.TaskResult],
                      max_queries: int | None) -> str:
    """Typing without diacritics: RR@10 of the stripped queries next to the originals."""
    by = {r.task.label: r for r in plain}
    rows = []
    for s in stripped:
        r = by.get(s.task.label)
        if r is None:
            continue
        queries = ev.subsample(ev.load_queries(s.task), max_queries)
        changed = {q["id"] for q in queries if strip_diacritics(q["text"]) != q["text"]}
        qrels = [q for q in ev.load_qrels(s.task) if q.query_id in changed]
        sub = (ev.score({k: v for k, v in r.run.items() if k in changed}, qrels),
               ev.score({k: v for k, v in s.run.items() if k in changed}, qrels))
        diff = s.headline - r.headline
        rows.append([s.task.label, s.n_queries, len(changed), f"{r.headline:.3f}",
                     f"{s.headline:.3f}", f"{diff:+.3f}",
                     "yes" if abs(round(diff, 3)) <= 0.01 else "**no**",
                     f"{sub[0]['RR@10']:.3f} → {sub[1]['RR@10']:.3f}" if changed else "–"])
    return (
        "### Typing without diacritics\n\n"
        "Every query of the task with č š ž ć đ (and capitals) replaced by c s z c d "
        "(`str.translate`), against the same index; the target is an RR@10 within 0.01 of "
        "the figure with diacritics. The last column scores only the queries that contain "
        "a diacritic.\n\n"
        + markdown_table(["task", "queries", "with diacritics", "RR@10 as typed",
                          "RR@10 without diacritics", "difference", "within 0.01",
                          "RR@10 of the changed queries"], rows)
    )


def _names(value: str, known: list[str]) -> list[str]:
    out: list[str] = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        expanded = {"all": ["ours", *PEERS], "peers": list(PEERS), "ours": ["ours"],
                    "variants": OURS[1:]}.get(part, [part])
        for name in expanded:
            if name not in known:
                raise SystemExit(f"unknown name {name!r}; choose from {', '.join(known)}")
            if name not in out:
                out.append(name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Ranking quality (RR@10 / nDCG@10 / R@100) and query latency of our engine "
                    "and peer engines on shared/eval, with ablations of our engine and a "
                    "typing-without-diacritics check; writes the 'quality' section of "
                    "benchmarks/RESULTS.md.")
    parser.add_argument("--collections", default="all",
                        help=f"comma-separated, from {', '.join(ev.COLLECTIONS)} (default: all)")
    parser.add_argument("--engines", default="all",
                        help="comma-separated engine names, or 'peers', 'variants' (our "
                             "engine's ablation variants), 'all' (default: all = ours + "
                             f"peers). Known: {', '.join(ENGINES)}")
    parser.add_argument("--quick", nargs="?", type=int, const=QUICK_QUERIES, default=None,
                        metavar="N", help=f"at most N random queries per task (default N: "
                        f"{QUICK_QUERIES}) for development; RESULTS.md is then not written")
    parser.add_argument("--no-ablations", action="store_true",
                        help="skip the ablations of our engine (run when 'ours' is included)")
    parser.add_argument("--ablation-queries", type=int, default=ABLATION_QUERIES, metavar="N",
                        help="at most N random queries per task for the ablations, the same "
                             f"for every variant; 0: all (default: {ABLATION_QUERIES})")
    parser.add_argument("--no-diacritics", action="store_true",
                        help="skip the typing-without-diacritics check (run when 'ours' and "
                             f"{ev.HELP} are included)")
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

    started = time.perf_counter()
    with sharing_indexes():
        results, seconds = run(engines, collections, args.quick, args.eval_root, args.runs)
        body = render(results, engines, args.quick, seconds)
        if "ours" in engines and not args.no_ablations:
            limit = [n for n in (args.quick, args.ablation_queries) if n]
            where = [c for c in collections if c == ev.HELP or c in ABLATION_TASKS]
            if where:
                features = engine_features()
                plan = ablation_plan(features)
                variants = {a.name: OurEngine(a.name, a.index_options,
                                              open_options=a.open_options) for a in plan}
                n = min(limit) if limit else None
                ablated, secs = run_interleaved(variants, where, n, args.eval_root, args.runs,
                                                tasks=ABLATION_TASKS)
                body += "\n\n" + render_ablations(ablated, plan, n, secs,
                                                    bool(features["translation"]))
        if "ours" in engines and ev.HELP in collections and not args.no_diacritics:
            stripped, _ = run([NO_DIACRITICS], [ev.HELP], args.quick, args.eval_root,
                              args.runs, tasks=DIACRITICS_TASKS)
            plain = [r for r in results if r.engine == "ours"]
            body += "\n\n" + render_diacritics(plain, stripped, args.quick)
    body += f"\n\nWall time of the whole run: {(time.perf_counter() - started) / 60:.1f} min."
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
