"""The end of a result list: documents that share only stop words with the query.

Stop words ("je", "v", "the", "of") are in no analysed field, so a question such as "Kaj je
makro in kako ga zaženem?" matches only the documents holding "makro" or "zagnati": on a
small collection fewer than the list asked for, where engines without a stop list return
the whole list (every document holds "je"). Recall at 100 then suffers whenever the relevant
document shares few words with the query. The spelling field keeps every surface word,
stop words included, so the documents holding the query's stop words can be appended after
every real match, ranked by the rarity of the stop words they hold: the top of the list is
unchanged, and the list is as long as the documents matching any query word allow.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from typing import Any

from search.analysis.fields import is_spelling_field

#: Stop words of one query looked up (each costs one pass over its documents).
MAX_STOP_WORDS = 6
#: The tail's scores stay below this share of the lowest real match's score.
TAIL_SCORE = 1e-3


def spelling_fields(schema: Any) -> list[str]:
    """The fields of surface words ("spell", or one per language)."""
    return [name for name in schema.names() if is_spelling_field(name)]


def stop_word_tail(executor: Any, stop_words: Iterable[str],
                   filters: list[tuple[str, Any]], exclude: set[int], need: int,
                   floor: float) -> tuple[list[tuple[int, float]], set[int]]:
    """(the ``need`` first tail documents with their scores, every tail document).

    Tail documents hold one of ``stop_words``, pass ``filters`` ((field, value or tuple of
    values), as :meth:`~search.whoosh_ext.execution.Executor.run` takes them), are not deleted
    and not in ``exclude`` (the real matches). Those holding the rarest of the stop words come
    first (then the next rarest, ...; in index order within each), each scoring
    ``floor * TAIL_SCORE`` times its word's share of the stop words' IDF: below every real
    match (``floor``: the lowest real score). Only set operations (in C) touch every
    document, so a stop word in most of a large index costs little; document sets are read
    through ``executor`` (block by block, cached).
    """
    searcher = executor.searcher
    fields = spelling_fields(searcher.schema)
    words = list(dict.fromkeys(w.lower() for w in stop_words))[:MAX_STOP_WORDS]
    if not fields or not words or need <= 0:
        return [], set()
    total = max(1, searcher.doc_count())
    out = set(exclude) | executor.deleted()
    allowed = None
    for name, value in filters:
        values = (value,) if isinstance(value, str) else value
        docs = frozenset().union(*(executor.docset(name, v) for v in values))
        allowed = docs if allowed is None else allowed & docs
    held = [frozenset().union(*(executor.docset(name, word) for name in fields))
            for word in words]
    entries = sorted(((len(docs), docs) for docs in held if docs), key=lambda e: e[0])
    if not entries:
        return [], set()
    idfs = [math.log(1.0 + (total - df + 0.5) / (df + 0.5)) for df, _ in entries]
    scale = floor * TAIL_SCORE / sum(idfs)
    ranked: list[tuple[int, float]] = []
    every: set[int] = set()
    for (_df, docs), idf in zip(entries, idfs, strict=True):
        group = (docs if allowed is None else docs & allowed) - out - every
        if len(ranked) < need:
            ranked.extend((d, idf * scale) for d in heapq.nsmallest(need - len(ranked), group))
        every |= group
    return ranked, every
