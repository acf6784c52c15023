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

#: Stop words of one query looked up (each costs one pass over its documents).
MAX_STOP_WORDS = 6
#: The tail's scores stay below this share of the lowest real match's score.
TAIL_SCORE = 1e-3


def spelling_fields(schema: Any) -> list[str]:
    """The fields of surface words ("spell", or one per language)."""
    return [name for name in schema.names() if name == "spell" or name.startswith("spell_")]


def stop_word_tail(executor: Any, stop_words: Iterable[str],
                   filters: list[tuple[str, Any]], exclude: set[int], need: int,
                   floor: float) -> tuple[list[tuple[int, float]], list[int]]:
    """(the ``need`` best tail documents with their scores, every tail document).

    Tail documents hold one of ``stop_words``, pass ``filters`` ((field, value or tuple of
    values), as :meth:`~search.execution.Executor.run` takes them), are not deleted and not
    in ``exclude`` (the real matches). Each scores ``floor * TAIL_SCORE`` times its share of
    the IDF of all the stop words, so it ranks after every real match (``floor``: the lowest
    real score) and among the tail, rarer stop words count more. Document sets are read
    through ``executor`` (block by block, cached), so a frequent stop word costs little.
    """
    searcher = executor.searcher
    fields = spelling_fields(searcher.schema)
    words = list(dict.fromkeys(w.lower() for w in stop_words))[:MAX_STOP_WORDS]
    if not fields or not words or need <= 0:
        return [], []
    total = max(1, searcher.doc_count())
    out = set(exclude) | executor.deleted()
    allowed = None
    for name, value in filters:
        values = (value,) if isinstance(value, str) else value
        docs = frozenset().union(*(executor.docset(name, v) for v in values))
        allowed = docs if allowed is None else allowed & docs
    weights: dict[int, float] = {}
    idfs = []
    for word in words:
        held = frozenset().union(*(executor.docset(name, word) for name in fields))
        if not held:
            continue
        idf = math.log(1.0 + (total - len(held) + 0.5) / (len(held) + 0.5))
        idfs.append(idf)
        docs = held - out
        for d in docs if allowed is None else docs & allowed:
            weights[d] = weights.get(d, 0.0) + idf
    if not weights:
        return [], []
    scale = floor * TAIL_SCORE / (sum(idfs) or 1.0)
    ranked = heapq.nsmallest(need, weights.items(), key=lambda item: (-item[1], item[0]))
    return [(d, w * scale) for d, w in ranked], list(weights)
