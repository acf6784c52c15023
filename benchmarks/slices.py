"""Slices of a task's queries, scored from runs already made (no engine is run again).

A slice keeps the queries of a task that share a property, here their length: verbose
queries (a paragraph, a pasted abstract, several questions) behave unlike keyword queries,
and a collection's mean hides how an engine does on them. Every engine's slice comes from
the same run as its whole-task figure, so the peers are compared in the same run.
"""

from __future__ import annotations

from dataclasses import dataclass

import evaluation as ev

#: A query is long when it has more than this many words (split at white space).
LONG_WORDS = 40


def is_long(text: str, words: int = LONG_WORDS) -> bool:
    """More than ``words`` words.

    >>> is_long("one two three", 2), is_long("one two", 2)
    (True, False)
    """
    return len(text.split()) > words


@dataclass
class Slice:
    """A task's long queries, scored for each engine that ran the task."""

    task: ev.Task
    label: str  #: as shown in the table
    query_ids: frozenset[str]  #: the judged queries of the slice
    results: dict[str, ev.TaskResult]  #: engine -> the slice's figures


def long_query_slices(results: list[ev.TaskResult],
                      words: int = LONG_WORDS) -> dict[str, Slice]:
    """Task label -> the slice of its judged queries longer than ``words``, for every task
    that has such queries (among those each engine actually ran)."""
    by_task: dict[ev.Task, list[ev.TaskResult]] = {}
    for r in results:
        by_task.setdefault(r.task, []).append(r)
    out: dict[str, Slice] = {}
    for task, rs in by_task.items():
        texts = {q["id"]: q["text"] for q in ev.load_queries(task)}
        qrels = ev.load_qrels(task)
        ran = set().union(*(r.run for r in rs))
        judged = {q.query_id for q in qrels}
        # Every query sent has a run entry; one the subsample left out is not in the slice.
        ids = frozenset(qid for qid in judged
                        if qid in ran and qid in texts and is_long(texts[qid], words))
        if not ids:
            continue
        sub_qrels = [q for q in qrels if q.query_id in ids]
        scored = {}
        for r in rs:
            run = {qid: docs for qid, docs in r.run.items() if qid in ids}
            scored[r.engine] = ev.TaskResult(r.engine, task, ev.score(run, sub_qrels), len(ids),
                                             index_key=r.index_key, run=run)
        out[task.label] = Slice(task, f"{task.label}, queries over {words} words", ids, scored)
    return out
