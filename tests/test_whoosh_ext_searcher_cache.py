"""search.whoosh_ext.searcher_cache: values kept per Whoosh searcher are those of its view.

Stock Whoosh recomputes a language's document count (two term look-ups) every time the
ranking asks; the cache keeps it inside the searcher. The cached counts must equal the
uncached look-ups, in both languages, and a searcher opened after a commit must not see the
counts of the one before.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from search.analysis import LANGUAGES
from search.model import UNKNOWN
from search.ranking import language_doc_count
from search.storage import open_index
from search.whoosh_ext.searcher_cache import searcher_cache


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_cached_counts_are_the_searchers_own(seed_copy: Path, tmp_path: Path,
                                             lang: str) -> None:
    from search.indexer import index_paths

    index_paths([seed_copy], tmp_path / "index")
    ix, _gen = open_index(tmp_path / "index")
    with ix.searcher() as s:
        expected = s.doc_frequency("lang", lang) + s.doc_frequency("lang", UNKNOWN)
        assert expected > 0
        assert language_doc_count(s, lang) == expected
        assert searcher_cache(s, "lang_doc_counts") == {lang: expected}
        assert searcher_cache(s, "lang_doc_counts") is searcher_cache(s, "lang_doc_counts")
        assert searcher_cache(s, "other") == {}
    with ix.writer() as w:  # one more document of the language
        w.add_document(id="extra", lang=lang, text="extra")
    with ix.searcher() as s:
        assert searcher_cache(s, "lang_doc_counts") == {}  # a new searcher starts empty
        assert language_doc_count(s, lang) == expected + 1


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_cached_document_frequencies_are_the_searchers_own(seed_copy: Path, tmp_path: Path,
                                                          lang: str, monkeypatch) -> None:
    """Every cached frequency equals Whoosh's own look-up, a new searcher after a commit
    sees the new document, and the cache never grows past its cap."""
    from search.indexer import index_paths
    from search.whoosh_ext import searcher_cache as cache_module
    from search.whoosh_ext.searcher_cache import doc_frequency

    monkeypatch.setattr(cache_module, "MAX_FREQUENCIES", 50)
    index_paths([seed_copy], tmp_path / "index")
    ix, _gen = open_index(tmp_path / "index")
    field = LANGUAGES[lang].field("body", LANGUAGES[lang].main.name).name
    with ix.searcher() as s:
        terms = [t.decode("utf-8") for t in s.reader().lexicon(field)][:200]
        assert len(terms) > 100
        for term in terms + terms:  # the second round is answered from the cache
            assert doc_frequency(s, field, term) == s.doc_frequency(field, term) > 0
            assert len(searcher_cache(s, "doc_frequencies")) <= 50
        assert doc_frequency(s, field, "zzqxnotaword") == 0
        word = terms[0]
        before = doc_frequency(s, field, word)
    with ix.writer() as w:
        w.add_document(id="extra", lang=lang, **{field: word})
    with ix.searcher() as s:
        assert doc_frequency(s, field, word) == before + 1
