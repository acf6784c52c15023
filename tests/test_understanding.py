"""search.understanding: a query's words are analysed once, and their rates looked up once.

The query used to bounce searcher -> parser -> searcher -> translation: its words' terms were
made twice (for weighing, then for re-ranking) and each word's rate in each language looked up
twice (for the query's home language, then for its translation). These tests count the work.
"""

from __future__ import annotations

from collections import Counter

import pytest

from search.query import QueryParser
from search.query_weighting import MONOLINGUAL_WORDS
from search.searcher import SearchIndex
from search.understanding import QueryUnderstanding, Understood

SLOVENIAN = ("policija minister meja migracije ministrstvo notranje zadeve sodelovanje "
             "varnost država partner odnosi").split()
ENGLISH = ("police minister border migration ministry interior affairs cooperation "
           "security country partner relations").split()
#: Long enough for the home-language check, mixed, so it is translated as well.
MIXED = " ".join(w for pair in zip(SLOVENIAN, ENGLISH, strict=True) for w in pair)


def test_the_mixed_query_takes_both_paths() -> None:
    assert len(set(MIXED.split())) >= MONOLINGUAL_WORDS


@pytest.fixture()
def counted(seed_index, monkeypatch):
    """A fresh index whose word analyses (for word rates) and word-term passes are counted."""
    analysed: Counter = Counter()
    passes: list[str] = []
    token = QueryUnderstanding._query_token
    word_terms = QueryParser.word_terms

    def counting_token(self, searcher, name, word):
        if (name, word) not in self._tokens:
            analysed[(name, word)] += 1
        return token(self, searcher, name, word)

    def counting_terms(self, text):
        passes.append(text)
        return word_terms(self, text)

    monkeypatch.setattr(QueryUnderstanding, "_query_token", counting_token)
    monkeypatch.setattr(QueryParser, "word_terms", counting_terms)
    ix = SearchIndex(seed_index)
    yield ix, analysed, passes
    ix.close()


def test_a_query_is_analysed_once(counted) -> None:
    ix, analysed, passes = counted
    rates = []
    original = ix._understanding._word_rates

    def spy(word, known=None):
        rates.append((word, known is not None and word in known))
        return original(word, known)

    ix._understanding._word_rates = spy
    results = ix.search(MIXED)
    assert results.total > 0 and results.hits
    assert passes == [MIXED]  # the word terms once, for weighing and for re-ranking
    assert analysed and max(analysed.values()) == 1
    looked_up = Counter(word for word, cached in rates if not cached)
    assert looked_up and max(looked_up.values()) == 1  # each word's rates once
    assert any(cached for _, cached in rates)  # the translation used the home check's


def test_analyses_are_kept_across_queries(counted) -> None:
    ix, analysed, _passes = counted
    first = ix.search(MIXED)
    done = sum(analysed.values())
    again = ix.search(MIXED)
    assert sum(analysed.values()) == done
    assert [h.id for h in again.hits] == [h.id for h in first.hits]
    assert [h.score for h in again.hits] == pytest.approx([h.score for h in first.hits])


@pytest.mark.parametrize("text", ["policija", "police border", MIXED, '"meja" -policija'])
def test_understand_is_parse(seed_search, text: str) -> None:
    understanding = seed_search._understanding
    understood = understanding.understand(text)
    assert isinstance(understood, Understood)
    assert str(understood.parsed.query) == str(seed_search.parse(text).query)
    assert understood.words == understanding.word_terms(text)
