"""TREC runs and ir-measures scores, through the same search path users get.

Used by ``search-cli run`` / ``search-cli eval`` and by the benchmarks, so the figures in
``benchmarks/RESULTS.md`` come from exactly what a user would see.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from search.searcher import SearchIndex

#: The measures quoted for every task: the help tasks' headline, the English collections', recall.
MEASURES = ("RR@10", "nDCG@10", "R@100")

Run = dict[str, dict[str, float]]


def read_queries(path: str | Path) -> list[dict]:
    """Queries from a JSONL file of ``{"id", "text"}`` objects (other keys are kept)."""
    queries = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                record = json.loads(line)
                queries.append({**record, "id": str(record["id"])})
    return queries


def run_queries(index: SearchIndex, queries: Iterable[dict], *, lang: str | None = None,
                limit: int = 100, progress: Callable[[int, int], None] | None = None) -> Run:
    """Each query's top ``limit`` documents as typed (no pre-cleaning), ``lang`` restricting;
    ``progress(done, total)`` after each query."""
    run: Run = {}
    queries = list(queries)
    for done, q in enumerate(queries, 1):
        results = index.search(q["text"], lang=lang, per_page=limit, snippets=False)
        run[q["id"]] = {h.id: h.score for h in results.hits}
        if progress:
            progress(done, len(queries))
    return run


def write_trec_run(run: Run, out: IO[str], tag: str = "bilingual-search") -> None:
    """``qid Q0 docid rank score tag`` lines, ranks from 1."""
    for qid, docs in run.items():
        ranked = sorted(docs.items(), key=lambda kv: (-kv[1], kv[0]))
        for rank, (docid, score) in enumerate(ranked, 1):
            out.write(f"{qid} Q0 {docid} {rank} {score:.6f} {tag}\n")


def evaluate(run: Run, qrels_path: str | Path,
             measures: Iterable[str] = MEASURES) -> dict[str, float]:
    """Mean of each measure over all judged queries (unanswered ones count as 0)."""
    import ir_measures

    qrels = list(ir_measures.read_trec_qrels(str(qrels_path)))
    parsed = [ir_measures.parse_measure(m) for m in measures]
    scored = [ir_measures.ScoredDoc(qid, doc, score)
              for qid, docs in run.items() for doc, score in docs.items()]
    agg = ir_measures.calc_aggregate(parsed, qrels, scored)
    return {str(m): float(agg.get(m, 0.0)) for m in parsed}
