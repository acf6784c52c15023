"""TREC runs and ir-measures scores, through the same search path users get.

Used by ``search-cli run`` / ``search-cli eval`` and by the benchmarks, so the figures in
``benchmarks/RESULTS.md`` come from exactly what a user would see.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from search.documents.sources import open_regular
from search.errors import BadInputFile
from search.searcher import SearchIndex

#: The measures quoted for every task: the help tasks' headline, the English collections', recall.
MEASURES = ("RR@10", "nDCG@10", "R@100")

Run = dict[str, dict[str, float]]


#: At most this many bad lines are listed when a queries or qrels file is refused.
MAX_LISTED = 10


def _refuse(path: str | Path, problems: list[tuple[int, str]]) -> BadInputFile:
    """The error for a file with bad lines: the first few as ``file:line: problem`` (line 0:
    the file as a whole)."""
    listed = [f"{path}:{n}: {why}" if n else f"{path}: {why}" for n, why in problems[:MAX_LISTED]]
    if len(problems) > MAX_LISTED:
        listed.append(f"... and {len(problems) - MAX_LISTED} more bad lines")
    return BadInputFile("\n".join(listed))


def _numbered_lines(path: str | Path) -> Iterator[tuple[int, str | None, str | None]]:
    """(line number, text without its line end, or None and why it cannot be read) for each
    non-blank line. ``BadInputFile`` if the file cannot be opened (pipes are never waited
    on)."""
    try:
        with open_regular(path) as fh:
            for n, raw in enumerate(fh, start=1):
                if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                if not raw.strip():
                    continue
                if b"\0" in raw:
                    yield n, None, "binary data (NUL bytes)"
                    continue
                try:
                    yield n, raw.decode("utf-8").rstrip("\r\n"), None
                except UnicodeDecodeError as e:
                    yield n, None, f"not valid UTF-8 at byte {e.start}"
    except OSError as e:
        raise BadInputFile(f"{path}: cannot be read: {e.strerror or e}") from e


def read_queries(path: str | Path) -> list[dict]:
    """Queries from a JSONL file of ``{"id", "text"}`` objects (other keys are kept).

    A file with any bad line is refused as a whole (``BadInputFile`` naming each line and
    what is wrong with it): scores over the queries that happened to parse would mislead.
    """
    queries: list[dict] = []
    problems: list[tuple[int, str]] = []
    first: dict[str, int] = {}
    for n, line, why in _numbered_lines(path):
        if line is None:
            problems.append((n, str(why)))
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append((n, f"invalid JSON: {e.msg} (column {e.colno})"))
            continue
        except RecursionError:
            problems.append((n, "invalid JSON: nested too deeply"))
            continue
        qid = record.get("id") if isinstance(record, dict) else None
        if not isinstance(record, dict):
            problems.append((n, 'not a JSON object with "id" and "text"'))
        elif isinstance(qid, bool) or not isinstance(qid, (str, int)) or not str(qid).strip():
            problems.append((n, 'missing "id" (a string or a number)'))
        elif not isinstance(record.get("text"), str):
            problems.append((n, 'missing "text" (a string)'))
        elif str(qid) in first:
            problems.append((n, f"duplicate id {str(qid)!r} (first used on line "
                                f"{first[str(qid)]})"))
        else:
            first[str(qid)] = n
            queries.append({**record, "id": str(qid)})
    if not problems and not queries:
        problems.append((0, 'no queries (one JSON object per line: {"id": ..., "text": ...})'))
    if problems:
        raise _refuse(path, problems)
    return queries


def read_qrels(path: str | Path) -> list[Any]:
    """TREC relevance judgements (``qid iteration docid relevance`` per line) as ir-measures
    ``Qrel`` tuples; a file with any bad line is refused (``BadInputFile``) as a whole."""
    import ir_measures

    qrels = []
    problems: list[tuple[int, str]] = []
    for n, line, why in _numbered_lines(path):
        if line is None:
            problems.append((n, str(why)))
            continue
        fields = line.split()
        if len(fields) != 4:
            problems.append((n, "expected 4 columns (query id, iteration, document id, "
                                f"relevance), found {len(fields)}"))
            continue
        qid, iteration, docid, rel = fields
        try:
            relevance = int(rel)
        except ValueError:
            problems.append((n, f"relevance {rel[:20]!r} is not a whole number"))
            continue
        qrels.append(ir_measures.Qrel(qid, docid, relevance, iteration))
    if not problems and not qrels:
        problems.append((0, "no relevance judgements (qid 0 docid relevance per line)"))
    if problems:
        raise _refuse(path, problems)
    return qrels


def run_queries(index: SearchIndex, queries: Iterable[dict], *, lang: str | None = None,
                limit: int = 100, progress: Callable[[int, int], None] | None = None) -> Run:
    """Each query's top ``limit`` documents as typed (no pre-cleaning), ``lang`` restricting;
    ``progress(done, total)`` after each query."""
    run: Run = {}
    queries = list(queries)
    for done, q in enumerate(queries, 1):
        # A run ranks documents: a page and its translation are two (no grouping).
        results = index.search(q["text"], lang=lang, per_page=limit, snippets=False,
                               group=False)
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


def evaluate(run: Run, qrels: str | Path | Iterable[Any],
             measures: Iterable[str] = MEASURES) -> dict[str, float]:
    """Mean of each measure over all judged queries (unanswered ones count as 0).

    ``qrels``: a TREC qrels file (read by :func:`read_qrels`) or what it returned."""
    import ir_measures

    judgements = read_qrels(qrels) if isinstance(qrels, (str, Path)) else list(qrels)
    parsed = [ir_measures.parse_measure(m) for m in measures]
    scored = [ir_measures.ScoredDoc(qid, doc, score)
              for qid, docs in run.items() for doc, score in docs.items()]
    agg = ir_measures.calc_aggregate(parsed, judgements, scored)
    return {str(m): float(agg.get(m, 0.0)) for m in parsed}
