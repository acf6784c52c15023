"""The search API: ranked, highlighted, faceted results from an index.

``SearchIndex`` is safe to share between threads (the web server does): one Whoosh searcher
is reused across requests and refreshed only when a writer has committed something new.
It keeps the index's lifecycle and the public API; what a query means is
:mod:`search.understanding`'s job, its matches and hits :mod:`search.results`'.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh import query as wq

from search.analysis import LANGUAGES
from search.completion import MAX_COMPLETIONS, Completion, CompletionSource
from search.model import UNKNOWN, DocumentView, IndexStats, Results
from search.query import ParsedQuery
from search.query_weighting import verbosity
from search.ranking import LanguageBM25F
from search.results import RERANK_WINDOW, ResultBuilder, translated_terms, with_unknown
from search.snippets import query_terms
from search.storage import IndexLayout, open_index, read_engine_info
from search.translation import Translator
from search.understanding import QueryUnderstanding
from search.whoosh_ext.terms import SegmentTerms

if TYPE_CHECKING:
    from search.writer import IndexWriter

#: Hard limits that keep any request cheap, whatever it asks for.
MAX_PER_PAGE = 100
MAX_RESULTS_WINDOW = 10_000
#: How often (seconds) to check whether the index changed on disk.
REFRESH_INTERVAL = 0.5


class SearchIndex:
    """An open index: ``search()``, ``document()``, ``stats()``.

    ``options`` select ranking variants for experiments (``mode``: "or" or "and";
    ``title_boost``; ``path_boosts`` such as ``{"sl_stem": 0.5}``; ``bm25``: keyword
    arguments of :class:`~search.ranking.LanguageBM25F`; ``translate``: also search the
    query's words translated into the other language, default True, or a
    :class:`~search.translation.Translator`; ``translate_boost``: their weight against direct
    matches; ``foreign_boost``: the weight of the query's own words in the documents of the
    language it was translated into; ``positions``: re-rank the top hits by where the query's
    words stand in them, default True, see :data:`search.results.LEAD`; ``query_weights``:
    weigh the query's terms by how often it repeats them and, in long queries, by how
    selective they are, fade the re-ranking for long queries, and leave a long query in one
    language untranslated, default True, see :mod:`search.query_weighting`; ``fast``: False
    reads and searches with stock Whoosh only, none of :mod:`search.whoosh_ext`'s
    replacements: its file storage, parser, collector and term reading, for comparison).
    """

    def __init__(self, path: str | Path | None = None, **options: Any) -> None:
        self._layout = IndexLayout(path)
        self.path = self._layout.root
        self._fast = bool(options.get("fast", True))
        self._ix, self._gen = open_index(self.path, fast=self._fast)
        self._weighting = LanguageBM25F(**options.get("bm25", {}))
        translate = options.get("translate", True)
        translator: Translator | None = (
            translate if isinstance(translate, Translator)
            else Translator() if translate else None)  # the index's own
        self._lock = threading.RLock()
        # The spelling fields' terms of each segment, read once for the speller and the
        # completion table.
        terms = SegmentTerms(self._fast)
        #: Parsing, translation, synonyms, spelling (see :mod:`search.understanding`).
        self._understanding = QueryUnderstanding(self._ix.schema, self._weighting, translator,
                                                 self._lock, terms=terms, **options)
        #: Matching, re-ranking, hits (see :mod:`search.results`); the ``fast=False`` option
        #: keeps Whoosh's collector, for comparison.
        self._results = ResultBuilder(self._weighting, fast=self._fast,
                                      positions=options.get("positions", True))
        self._query_weights = bool(options.get("query_weights", True))
        self._checked = time.monotonic()
        self._completions = CompletionSource(terms)
        self._use(self._ix, self._gen, self._ix.searcher(weighting=self._weighting))

    def _use(self, ix: Any, gen: Any, searcher: Any) -> None:
        """Search ``searcher`` (of ``ix``, generation folder ``gen``) from now on."""
        self._ix, self._gen, self._searcher = ix, gen, searcher
        self._understanding.follow(ix, gen, searcher)
        self._results.follow(searcher, gen)

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        # A cognate rebuild still running writes into the index folder: wait for it, so
        # that nothing touches the folder once the index is closed (not under the lock,
        # which the rebuild takes to publish its result).
        self._understanding.close()
        with self._lock:
            self._searcher.close()

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def writer(self, *, timeout: float = 60.0) -> IndexWriter:
        """A writer on this index (:class:`search.writer.IndexWriter`, use it in a ``with``
        block) whose commit this index shows at once (others within REFRESH_INTERVAL)."""
        from search.writer import IndexWriter

        return IndexWriter(self.path, timeout=timeout, on_commit=lambda: self.refresh(True),
                           fast=self._fast)

    def clear_cache(self) -> None:
        """Forget the scored postings kept from earlier queries (for measurements), and what
        result grouping read of documents."""
        with self._lock:
            self._results.clear_cache()

    def refresh(self, force: bool = False) -> bool:
        """Pick up a commit or a rebuild made since; True if anything changed."""
        now = time.monotonic()
        if not force and now - self._checked < REFRESH_INTERVAL:
            return False
        with self._lock:
            self._checked = now
            gen = self._layout.current()
            if gen is not None and gen != self._gen:
                try:
                    ix, gen = open_index(self.path, fast=self._fast)
                except Exception:  # noqa: BLE001 - swapped again meanwhile: keep the old view
                    return False
                old = self._searcher
                self._use(ix, gen, ix.searcher(weighting=self._weighting))
                old.close()
                return True
            # Not Searcher.refresh(): whoosh reuses the readers of unchanged segment ids, with
            # their old deletion sets, so deleted and replaced documents would stay visible.
            try:
                if self._ix.latest_generation() == self._searcher.reader().generation():
                    return False
                fresh = self._ix.searcher(weighting=self._weighting)
            except Exception:  # noqa: BLE001 - a half-written TOC: keep the old view
                return False
            old = self._searcher
            self._use(self._ix, self._gen, fresh)
            old.close()
            return True

    # -- searching --------------------------------------------------------------------------

    def parse(self, text: str) -> ParsedQuery:
        """How a query is understood (for debugging, and the CLI's ``--explain``)."""
        with self._lock:
            return self._understanding.parse(text)


    def search(self, text: str, *, lang: str | None = None, year: str | None = None,
               sort: str = "relevance", page: int = 1, per_page: int = 10,
               snippets: bool = True, correct: bool = True,
               group: bool | str = True) -> Results:
        """Search ``text`` in both languages; ``lang`` restricts to one.

        With no language filter, a document and its translation are one hit (``group``:
        True shows the better-ranked version, a language code that language's, False turns
        folding off; see :mod:`search.grouping`); every hit names its translation.

        Misspelt words get a "did you mean" ``suggestion``; when no word of the query matches
        directly, its correction is searched instead (``corrected``), unless ``correct`` is
        False (see :mod:`search.spelling`). Never raises for what a user typed: malformed
        syntax degrades to plain words.
        """
        started = time.perf_counter()
        self.refresh()
        per_page = max(1, min(int(per_page), MAX_PER_PAGE))
        page = max(1, int(page))
        with self._lock:
            s = self._searcher
            understood = self._understanding.understand(text)
            parsed = understood.parsed
            expansions, synonym_terms = self._understanding.apply_synonyms(parsed)
            # A word a declared synonym explains is no misspelling: no correction then.
            spelling = None if expansions else self._understanding.check_spelling(parsed)
            if correct and spelling is not None and spelling.replace:
                results = self.search(spelling.text, lang=lang, year=year, sort=sort,
                                      page=page, per_page=per_page, snippets=snippets,
                                      correct=False, group=group)
                results.query, results.suggestion = text, None
                results.corrected, results.verbatim = spelling.text, spelling.verbatim
                results.elapsed_ms = (time.perf_counter() - started) * 1000
                return results
            lang = lang or parsed.lang
            year = year or parsed.year
            if parsed.browse:  # filters only ("year:2024", "*"): the documents, newest first
                sort = "newest"
            results = Results(query=text, hits=[], total=0, page=page, per_page=per_page,
                              facets={"lang": {}, "year": {}}, lang=lang, year=year,
                              sort=sort, synonyms=[e.to_dict() for e in expansions])
            if parsed.query is wq.NullQuery or (page - 1) * per_page >= MAX_RESULTS_WINDOW:
                results.elapsed_ms = (time.perf_counter() - started) * 1000
                return results
            filters: list[tuple[str, Any]] = [
                (name, value) for name, value in (("lang", with_unknown(lang)), ("year", year))
                if value]
            words = understood.words if sort == "relevance" else []
            if synonym_terms and words:  # a synonym's match covers the word it stands for
                for word, extra in synonym_terms.items():
                    own = self._understanding.word_terms(word)
                    for terms in words:
                        if own and terms == own[0]:
                            terms |= extra
            # Positions re-rank even a one-word query; coverage alone needs two words.
            positional = self._results.positional
            rerank = sort == "relevance" and (len(words) >= (1 if positional else 2)
                                              or (bool(parsed.translated) and lang is None))
            limit = min(page * per_page, MAX_RESULTS_WINDOW)
            if rerank:
                limit = min(max(limit, RERANK_WINDOW), MAX_RESULTS_WINDOW)
            start = (page - 1) * per_page
            pairs = self._results.pairs(group, lang, per_page)
            limit = pairs.limit(limit, start + per_page, MAX_RESULTS_WINDOW)
            # Re-ranking tells the documents found through translations (see _rerank).
            found = self._results.match(parsed.query, filters, limit,
                                        set().union(*words, translated_terms(parsed)) if rerank
                                        else set(), sort)
            if sort == "relevance" and 0 < len(found.top) < limit:
                found = self._results.with_stop_word_tail(
                    found, self._understanding.stop_words(text), filters, limit)
            results.total = found.total
            results.facets = found.facets
            terms = query_terms(parsed.query.iter_all_terms()) if snippets else {}
            # A verbose query's many common words say little about where they stand.
            strength = 1.0 - verbosity(words) if self._query_weights else 1.0
            ranked = (self._results.rerank(found, words, tiers=lang is None,
                                           shown=pairs.exact(start + per_page),
                                           strength=strength)
                      if rerank else found.top)
            rows, results.folded = pairs.page(found.top, ranked, start, per_page)
            for rank, (docnum, score) in enumerate(rows, start + 1):
                results.hits.append(pairs.annotate(docnum, self._results.hit(
                    s.stored_fields(docnum), score, rank, terms, snippets, parsed)))
            if spelling is not None:
                results.suggestion = spelling.text
        results.elapsed_ms = (time.perf_counter() - started) * 1000
        return results

    def complete(self, text: str, *, lang: str | None = None,
                 limit: int = MAX_COMPLETIONS) -> list[Completion]:
        """Completions of what is being typed: the last word finished, or a title or title
        phrase, in both languages (``lang`` restricts), diacritics optional; bounded work
        (see :mod:`search.completion`)."""
        self.refresh()
        with self._lock:
            table = self._completions.get(self._ix, self._searcher.reader(), self._gen)
            return table.complete(text, self._searcher, lang=lang, limit=limit)

    # -- documents and statistics -----------------------------------------------------------

    def document(self, doc_id: str, *, query: str | None = None) -> DocumentView | None:
        """A whole document, with the matches of ``query`` marked."""
        self.refresh()
        with self._lock:
            stored = self._searcher.document(id=doc_id)
            if stored is None:
                return None
            terms = None
            if query:
                parsed = self._understanding.parse(query)
                self._understanding.apply_synonyms(parsed)
                terms = query_terms(parsed.query.iter_all_terms())
            return self._results.view(stored, terms)

    def _translation(self, stored: dict[str, Any], *,
                     found: Mapping[str, str] | None = None) -> str | None:
        """``stored``'s translation (see :meth:`ResultBuilder.translation`)."""
        return self._results.translation(stored, found=found)

    def stats(self) -> IndexStats:
        self.refresh()
        with self._lock:
            s = self._searcher
            by_lang = {code: _count(s, wq.Term("lang", code)) for code in (*LANGUAGES, UNKNOWN)}
            years = [t.decode() if isinstance(t, bytes) else t for t in s.lexicon("year")]
            by_year = {y: n for y in years if (n := _count(s, wq.Term("year", y)))}
            info = read_engine_info(self._gen)
            return IndexStats(path=str(self.path), doc_count=s.doc_count(),
                              by_lang={k: v for k, v in by_lang.items() if v},
                              by_year=dict(sorted(by_year.items(), reverse=True)),
                              engine_version=info.get("engine_version", "?"),
                              analyzers=info.get("analyzers", {}))

    def __len__(self) -> int:
        with self._lock:
            return self._searcher.doc_count()


def _count(searcher: Any, q: wq.Query) -> int:
    return sum(1 for _ in searcher.docs_for_query(q))
