"""Scoring a document against its candidates at once, on integer arrays.

:func:`search.pair_evidence.compare` looks up each translatable word of one profile in the
other's words, one pair of documents at a time: in a pairing pass over a whole site that is
millions of set look-ups. Here each profile's words become a sorted array of integer term
ids (:class:`TermIds`, one numbering per pass) and its translations a flat array of target
ids, so that a document's candidates are looked up all together, with a handful of numpy
calls. The sums are taken in the same order as :func:`~search.pair_evidence.compare` takes
them, so the scores are the same to the last bit (tests/test_pairing.py checks it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from search.pair_evidence import Profile, Score, score_with_words

#: Candidate number in the high bits of a look-up key, term id in the low ones.
_SHIFT = 32


class TermIds:
    """Terms (of either language: the same spelling is the same term) numbered from 0."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def of(self, terms: list[str]) -> np.ndarray:
        ids = self._ids
        get = ids.get
        out = [get(t) for t in terms]
        for i, n in enumerate(out):
            if n is None:
                out[i] = ids.setdefault(terms[i], len(ids))
        return np.array(out, dtype=np.int64)


@dataclass(frozen=True)
class ProfileArrays:
    """A profile's words and translations as term ids."""

    words: np.ndarray  #: sorted ids of the profile's words
    weights: np.ndarray  #: weight of each translatable word, in the profile's order
    targets: np.ndarray  #: the translations' ids, word after word
    starts: np.ndarray  #: where each translatable word's targets start in ``targets``


def profile_arrays(prof: Profile, ids: TermIds) -> ProfileArrays:
    words = np.sort(ids.of(list(prof.words)))
    weights = np.array([prof.words[t] for t in prof.translations], dtype=np.float64)
    groups = prof.translations.values()
    starts = np.zeros(len(groups), dtype=np.int64)
    if len(groups) > 1:
        starts[1:] = np.cumsum(np.fromiter(map(len, groups), dtype=np.int64))[:-1]
    targets = ids.of([t for g in groups for t in g])
    return ProfileArrays(words, weights, targets, starts)


def _matched(found: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per row, the weight of the words found translated, summed left to right as
    ``compare`` sums them (a word not found adds an exact 0.0)."""
    if not found.shape[1]:
        return np.zeros(found.shape[0])
    return np.cumsum(np.where(found, weights, 0.0), axis=1)[:, -1]


def _contains(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    if not len(sorted_keys):
        return np.zeros(len(keys), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[pos] == keys


def compare_many(a: Profile, aa: ProfileArrays,
                 candidates: list[tuple[Profile, ProfileArrays]]) -> list[Score]:
    """:func:`search.pair_evidence.compare` of ``a`` with each candidate, the same scores."""
    if not candidates:
        return []
    k = len(candidates)
    shifts = np.arange(k, dtype=np.int64) << _SHIFT
    # a's translations looked for in every candidate's words, in one search
    words = np.concatenate([shifts[j] + c.words for j, (_, c) in enumerate(candidates)])
    keys = (shifts[:, None] + aa.targets[None, :]).ravel()
    hits_a = _contains(words, keys).reshape(k, len(aa.targets))
    # every candidate's translations looked for in a's words, in one search
    sizes = [len(c.weights) for _, c in candidates]
    hits_b = _contains(aa.words, np.concatenate([c.targets for _, c in candidates]))
    offsets = np.cumsum([0] + [len(c.targets) for _, c in candidates])
    starts = np.concatenate([c.starts + offsets[j] for j, (_, c) in enumerate(candidates)])
    found_b = np.logical_or.reduceat(hits_b, starts) if len(starts) else hits_b[:0]
    # ... laid out one candidate a row, padded with words not found (they add nothing)
    rows = np.repeat(np.arange(k), sizes)
    cols = np.arange(len(rows)) - np.repeat(np.cumsum([0] + sizes[:-1]), sizes)
    found = np.zeros((k, max(sizes)), dtype=bool)
    weights = np.zeros((k, max(sizes)))
    found[rows, cols] = found_b
    weights[rows, cols] = np.concatenate([c.weights for _, c in candidates])
    mb = _matched(found, weights).tolist()
    if len(aa.targets):
        ma = _matched(np.logical_or.reduceat(hits_a, aa.starts, axis=1), aa.weights).tolist()
    else:
        ma = [0.0] * k
    return [score_with_words(a, b, ma[j], a.translatable, mb[j], b.translatable)
            for j, (b, _) in enumerate(candidates)]
