"""Shared quality-evaluation harness over the collections in ``shared/eval`` (see its README).

It implements the evaluation PROTOCOL of ``shared/eval/README.md``:

1. every document of a collection goes into one index (both languages of the help collection
   together) with only ``id``, ``title`` and ``text``; the ids are replaced by opaque ones
   (``d000001``...), so nothing but the text tells a document's language; for the
   ``known_item_*`` tasks every title is emptied first (the title is the query);
2. each query's ``text`` is sent exactly as typed; the top 100 are kept, restricted to the
   task's target language (``*_sl`` and ``clir_en2sl``: Slovenian, ``*_en`` and
   ``clir_sl2en``: English; the English collections need no restriction);
3. runs are scored with ``ir-measures``: RR@10, nDCG@10 and R@100.

An *engine* is any object with a ``name``, ``index(records)`` and
``search(text, lang, limit) -> [(doc_id, score), ...]`` (see :class:`Engine`). An engine that
sets ``detects_language = True`` (ours) gets the target language and restricts the results
itself, from the language it detected at indexing time. Every other engine (the peers) is
searched without a language and its results are filtered afterwards by the *ground-truth*
``lang`` field of the help collection's ``docs.jsonl``: peers have no language detection, so
this gives them an advantage our engine does not get.

Nothing here learns from the evaluation data: these files are development halves.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import ir_measures
from ir_measures import RR, R, nDCG

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import EVAL  # noqa: E402

HELP = "libreoffice-help"
ENGLISH_COLLECTIONS = ("cranfield", "scifact", "npl", "cisi")
COLLECTIONS = (*ENGLISH_COLLECTIONS, HELP)
HELP_TASKS = ("keyword_sl", "keyword_en", "known_item_sl", "known_item_en",
              "clir_en2sl", "clir_sl2en")
MEASURES = (RR @ 10, nDCG @ 10, R @ 100)
LIMIT = 100  #: depth of every run (protocol: top 100)
NO_RESULT = "__no_result__"  #: placeholder doc id so that an empty result still counts as 0

#: index variants: a collection is indexed at most once per variant within a run
WITH_TITLES = "titles"
WITHOUT_TITLES = "no_titles"


@runtime_checkable
class Engine(Protocol):
    """What the harness needs from a search engine."""

    name: str

    def index(self, records: list[dict]) -> None:
        """(Re)build the engine's index from records holding only id, title and text."""

    def search(self, text: str, lang: str | None, limit: int) -> list[tuple[str, float]]:
        """Ranked (doc_id, score) pairs, best first, at most ``limit``."""


# ----------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class Task:
    """One query set with its qrels over a collection's documents."""

    collection: str
    name: str  #: the task folder's name; the collection's name for single-task collections
    folder: Path  #: holds queries.jsonl and qrels.tsv
    root: Path  #: the folder holding all collections

    @property
    def label(self) -> str:
        return self.collection if self.name == self.collection else f"{self.collection}/{self.name}"

    @property
    def target_lang(self) -> str | None:
        return target_lang(self.name)

    @property
    def known_item(self) -> bool:
        return self.name.startswith("known_item")

    @property
    def variant(self) -> str:
        return WITHOUT_TITLES if self.known_item else WITH_TITLES

    @property
    def headline(self) -> str:
        """The headline measure: RR@10 for the help tasks, nDCG@10 for the English collections."""
        return "RR@10" if self.collection == HELP else "nDCG@10"


def target_lang(task_name: str) -> str | None:
    """The language the results of a task are restricted to (None: no restriction)."""
    if task_name == "clir_en2sl" or task_name.endswith("_sl"):
        return "sl"
    if task_name == "clir_sl2en" or task_name.endswith("_en"):
        return "en"
    return None


def tasks_of(collection: str, root: Path = EVAL) -> list[Task]:
    """The tasks of a collection: its sub-folders with queries, or the collection itself."""
    base = Path(root) / collection
    if not (base / "docs.jsonl").is_file():
        raise FileNotFoundError(f"no collection at {base}")
    if (base / "queries.jsonl").is_file():
        return [Task(collection, collection, base, Path(root))]
    subs = {p.name: p for p in base.iterdir() if (p / "queries.jsonl").is_file()}
    order = [n for n in HELP_TASKS if n in subs] + sorted(n for n in subs if n not in HELP_TASKS)
    return [Task(collection, n, subs[n], Path(root)) for n in order]


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@lru_cache(maxsize=8)
def _docs(path: str) -> tuple[dict, ...]:
    return tuple(_read_jsonl(Path(path)))


def load_docs(collection: str, root: Path = EVAL) -> list[dict]:
    """All documents of a collection, as stored (including ``lang``/``pair_id`` if present)."""
    return list(_docs(str(Path(root) / collection / "docs.jsonl")))


def doc_langs(collection: str, root: Path = EVAL) -> dict[str, str]:
    """Ground-truth language per document id; empty for collections without a ``lang`` field.

    Used ONLY to filter the results of peers, which have no language detection.
    """
    return {d["id"]: d["lang"] for d in load_docs(collection, root) if d.get("lang")}


def load_queries(task: Task) -> list[dict]:
    return _read_jsonl(task.folder / "queries.jsonl")


def load_qrels(task: Task) -> list:
    """The task's qrels as ``ir_measures`` Qrel tuples."""
    return list(ir_measures.read_trec_qrels(str(task.folder / "qrels.tsv")))


def protocol_records(docs: Iterable[Mapping], known_item: bool) -> list[dict]:
    """Documents as the protocol indexes them: only id/title/text; no titles for known-item."""
    return [{"id": str(d["id"]), "title": "" if known_item else (d.get("title") or ""),
             "text": d.get("text") or ""} for d in docs]


def opaque_ids(records: list[dict]) -> tuple[list[dict], dict[str, str]]:
    """Replace ids by opaque ones; returns the new records and the opaque -> original map."""
    width = max(6, len(str(len(records))))
    back: dict[str, str] = {}
    out = []
    for i, r in enumerate(records, 1):
        oid = f"d{i:0{width}d}"
        back[oid] = r["id"]
        out.append({**r, "id": oid})
    return out, back


def subsample(queries: list[dict], n: int | None, seed: int = 0) -> list[dict]:
    """A fixed random subset of ``n`` queries (in file order); all of them if n is None."""
    if n is None or n >= len(queries):
        return queries
    keep = set(random.Random(seed).sample(range(len(queries)), n))
    return [q for i, q in enumerate(queries) if i in keep]


# ----------------------------------------------------------------------------- scoring


def run_from_ranking(ranking: Iterable[tuple[str, float]]) -> dict[str, float]:
    """A run entry whose scores keep the engine's order (trec_eval breaks score ties by docid)."""
    ids = list(dict.fromkeys(doc for doc, _ in ranking))
    return {doc: float(len(ids) - i) for i, doc in enumerate(ids)}


def score(run: Mapping[str, Mapping[str, float]], qrels: Iterable,
          measures: Iterable = MEASURES) -> dict[str, float]:
    """Mean RR@10, nDCG@10 and R@100 via ``ir_measures.calc_aggregate``.

    Every query in ``qrels`` counts: one missing from ``run`` or with no results scores 0
    (plain ``calc_aggregate`` would silently skip it). Queries without qrels are ignored.
    """
    qrels = list(qrels)
    filled: dict[str, dict[str, float]] = {}
    for qid in {q.query_id for q in qrels}:
        docs = run.get(qid) or {}
        filled[qid] = dict(docs) if docs else {NO_RESULT: 0.0}
    agg = ir_measures.calc_aggregate(list(measures), qrels, filled)
    return {str(m): float(v) for m, v in agg.items()}


def write_trec_run(run: Mapping[str, Mapping[str, float]], path: Path | str,
                   tag: str = "run") -> None:
    """Write a run in TREC format: ``qid Q0 docid rank score tag``, best first per query."""
    with open(path, "w", encoding="utf-8") as f:
        for qid in sorted(run):
            ranked = sorted(run[qid].items(), key=lambda kv: (-kv[1], kv[0]))
            for rank, (doc, s) in enumerate(ranked, 1):
                f.write(f"{qid} Q0 {doc} {rank} {s:.6f} {tag}\n")


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    v = sorted(values)
    pos = (len(v) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


# ----------------------------------------------------------------------------- running


@dataclass
class TaskResult:
    """One engine on one task."""

    engine: str
    task: Task
    metrics: dict[str, float]
    n_queries: int
    latencies_ms: list[float] = field(default_factory=list)
    index_key: tuple = ()  #: identifies the index build the task ran on
    index_seconds: float = 0.0  #: how long that build took
    run: dict[str, dict[str, float]] = field(default_factory=dict, repr=False)

    @property
    def headline(self) -> float:
        return self.metrics[self.task.headline]


@dataclass
class _Built:
    key: tuple
    seconds: float
    back: dict[str, str]  #: opaque id -> original id
    langs: dict[str, str]  #: opaque id -> ground-truth language (help collection only)


#: which index each engine object currently holds, so a (collection, variant) is built once
_BUILT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def ensure_index(engine: Engine, collection: str, variant: str, root: Path = EVAL,
                 log: Callable[[str], None] | None = None) -> _Built:
    """Build the engine's index for (collection, variant) unless it already holds it."""
    key = (str(Path(root).resolve()), collection, variant)
    built = _BUILT.get(engine)
    if built is not None and built.key == key:
        return built
    docs = load_docs(collection, root)
    records, back = opaque_ids(protocol_records(docs, known_item=variant == WITHOUT_TITLES))
    truth = doc_langs(collection, root)
    langs = {oid: truth[orig] for oid, orig in back.items() if orig in truth}
    t0 = time.perf_counter()
    engine.index(records)
    seconds = time.perf_counter() - t0
    if log:
        log(f"  {engine.name}: indexed {collection} ({variant}, {len(records)} docs) "
            f"in {seconds:.1f} s")
    built = _Built(key, seconds, back, langs)
    _BUILT[engine] = built
    return built


def restricted_search(engine: Engine, text: str, lang: str | None, limit: int,
                      doc_lang: Mapping[str, str], n_docs: int) -> list[tuple[str, float]]:
    """Top ``limit`` results of ``engine`` in language ``lang`` (None: unrestricted).

    An engine with ``detects_language`` restricts itself; for any other the results are
    filtered by ``doc_lang`` (ground truth), fetching deeper until ``limit`` remain or the
    engine has nothing more to give.
    """
    if lang is None or getattr(engine, "detects_language", False):
        return list(engine.search(text, lang, limit))[:limit]
    k = min(limit * 3, max(n_docs, 1))
    while True:
        hits = list(engine.search(text, None, k))
        kept = [h for h in hits if doc_lang.get(h[0]) == lang]
        if len(kept) >= limit or len(hits) < k or k >= n_docs:
            return kept[:limit]
        k = n_docs


def evaluate_engine(engine: Engine, collection: str, tasks: Iterable[str] | None = None, *,
                    root: Path = EVAL, max_queries: int | None = None, limit: int = LIMIT,
                    runs_dir: Path | None = None,
                    log: Callable[[str], None] | None = None) -> list[TaskResult]:
    """Run ``engine`` on the given tasks of ``collection`` (default: all) following the protocol.

    Tasks are grouped by index variant, so the collection is indexed at most twice (with
    titles, titles emptied), and not at all if the engine already holds that index.
    ``max_queries`` subsamples each task's queries (development only). With ``runs_dir`` the
    TREC runs are written there as ``<engine>.<collection>.<task>.trec``.
    """
    all_tasks = tasks_of(collection, root)
    wanted = set(tasks) if tasks is not None else None
    chosen = [t for t in all_tasks if wanted is None or t.name in wanted]
    if wanted is not None and len(chosen) != len(wanted):
        missing = wanted - {t.name for t in chosen}
        raise ValueError(f"unknown task(s) of {collection}: {sorted(missing)}")
    held = _held_variant(engine, root, collection)
    chosen.sort(key=lambda t: t.variant != held)  # the index the engine holds first
    results = []
    for task in chosen:
        built = ensure_index(engine, collection, task.variant, root, log)
        n_docs = len(built.back)
        queries = subsample(load_queries(task), max_queries)
        qids = {q["id"] for q in queries}
        qrels = [q for q in load_qrels(task) if q.query_id in qids]
        lang = task.target_lang
        run: dict[str, dict[str, float]] = {}
        latencies: list[float] = []
        for q in queries:
            t0 = time.perf_counter()
            hits = restricted_search(engine, q["text"], lang, limit, built.langs, n_docs)
            latencies.append((time.perf_counter() - t0) * 1000)
            unknown = [d for d, _ in hits if d not in built.back]
            if unknown:
                raise ValueError(f"{engine.name} returned doc id {unknown[0]!r}, which is not "
                                 f"one of the indexed records' ids")
            run[q["id"]] = run_from_ranking((built.back[d], s) for d, s in hits)
        metrics = score(run, qrels)
        result = TaskResult(engine.name, task, metrics, len(queries), latencies, built.key,
                            built.seconds, run)
        results.append(result)
        if runs_dir is not None:
            Path(runs_dir).mkdir(parents=True, exist_ok=True)
            write_trec_run(run, Path(runs_dir) / f"{engine.name}.{collection}.{task.name}.trec",
                           engine.name)
        if log:
            log(f"  {engine.name}: {task.label}: " + ", ".join(
                f"{k} {v:.3f}" for k, v in metrics.items())
                + f" ({len(queries)} queries, median {statistics.median(latencies or [0]):.1f} ms)")
    return results


def _held_variant(engine: Engine, root: Path, collection: str) -> str:
    """The variant of ``collection`` the engine holds already (to run those tasks first)."""
    built = _BUILT.get(engine)
    if built is not None and built.key[:2] == (str(Path(root).resolve()), collection):
        return built.key[2]
    return WITH_TITLES


def forget_index(engine: Engine) -> None:
    """Drop the harness's record of the engine's index (call after closing an engine)."""
    _BUILT.pop(engine, None)
