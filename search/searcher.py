"""The search API: ranked, highlighted, faceted results from an index.

``SearchIndex`` is safe to share between threads (the web server does): one Whoosh searcher
is reused across requests and refreshed only when a writer has committed something new.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh import query as wq
from whoosh import sorting

from search.analysis import LANGUAGES
from search.analysis.filters import WORDS
from search.completion import MAX_COMPLETIONS, Completion, CompletionSource
from search.dates import newest_first_key
from search.model import UNKNOWN, DocumentView, Hit, IndexStats, Results
from search.pairing import FoundPairs
from search.query import MAX_QUERY_CHARS, ParsedQuery, QueryParser, _scale_language
from search.query_weighting import MONOLINGUAL_WORDS, query_language, verbosity, weigh
from search.ranking import LanguageBM25F, field_language, language_doc_count
from search.schema import spelling_fields
from search.snippets import (
    Span,
    match_spans,
    page_of,
    paragraphs_html,
    query_terms,
    snippet,
    spans_matching,
)
from search.spelling import SpellCheck, Speller, check_query, vocabulary_for_reader, weak_fields
from search.stop_word_tail import stop_word_tail
from search.storage import IndexLayout, open_index, read_engine_info
from search.translation import (
    CognateIndex,
    Translation,
    Translator,
    cognates_for_reader,
    default_translator,
)
from search.whoosh_ext.execution import FACETS, Executor, Matches
from search.whoosh_ext.fixes import apply as _apply_whoosh_fixes
from search.whoosh_ext.positions import whoosh_positions

if TYPE_CHECKING:
    from search.writer import IndexWriter

_apply_whoosh_fixes()

#: Hard limits that keep any request cheap, whatever it asks for.
MAX_PER_PAGE = 100
MAX_RESULTS_WINDOW = 10_000
#: Re-ranking (word coverage, direct before translated) looks at this many top hits.
RERANK_WINDOW = 100
#: Weight of word coverage in re-ranking: score * (1 - COVERAGE + COVERAGE * covered share).
COVERAGE = 0.2
#: Where the query's words stand in a top hit's body also re-ranks it (see _position_factor):
#: a text mentions what it is about early, and a name of several words keeps them together.
#: Each weight scales one factor ``1 + weight * share``; all tuned on the development halves.
#: LEAD: how early each word first occurs (IDF-weighted mean of exp(-position / LEAD_SPAN),
#: in words, stop words not counted); LEAD_ALL: how early the body has mentioned them all
#: (exp(-last of their first positions / LEAD_SPAN)).
LEAD = 0.25
LEAD_ALL = 0.2
LEAD_SPAN = 50
#: Share of the query's neighbouring word pairs that stand side by side, in order, in the body
#: (ADJACENCY) and in the title (TITLE_ADJACENCY).
ADJACENCY = 0.1
TITLE_ADJACENCY = 0.1
#: The largest factor the four can make together (with a margin for rounding).
MAX_POSITION_FACTOR = (1 + LEAD) * (1 + LEAD_ALL) * (1 + ADJACENCY) * (1 + TITLE_ADJACENCY) \
    * (1 + 1e-9)
#: A list shorter than asked for goes on with the documents holding only the query's stop
#: words (see :mod:`search.stop_word_tail`); False for ablations.
STOP_WORD_TAIL = True
#: How often (seconds) to check whether the index changed on disk.
REFRESH_INTERVAL = 0.5

#: The cognate vocabulary (see :class:`~search.translation.CognateIndex`) is a snapshot of the
#: index's words: rebuilt after a commit only once it is this old (seconds) or the document
#: count moved by more than COGNATE_REBUILD_GROWTH; a word added since is just not translated.
COGNATE_MAX_AGE = 600.0
COGNATE_REBUILD_GROWTH = 0.1
#: A query word belongs to a language when it is this many times more frequent (per document)
#: in that language's documents than in the other's.
WORD_LANGUAGE_RATIO = 3.0
#: Score a word's translations with the IDF of all of them together (see _shared_idf).
SHARED_IDF = True

_WORD = re.compile(r"^\w+$")
log = logging.getLogger(__name__)
_STOP_WORDS = frozenset().union(*(lang.stop_words for lang in LANGUAGES.values()))
_WEAK_FIELDS = weak_fields()


class SearchIndex:
    """An open index: ``search()``, ``document()``, ``stats()``.

    ``options`` select ranking variants for experiments (``mode``: "or" or "and";
    ``title_boost``; ``path_boosts`` such as ``{"sl_stem": 0.5}``; ``bm25``: keyword
    arguments of :class:`~search.ranking.LanguageBM25F`; ``translate``: also search the
    query's words translated into the other language, default True, or a
    :class:`~search.translation.Translator`; ``translate_boost``: their weight against direct
    matches; ``foreign_boost``: the weight of the query's own words in the documents of the
    language it was translated into; ``positions``: re-rank the top hits by where the query's
    words stand in them, default True, see :data:`LEAD`; ``query_weights``: weigh the query's
    terms by how often it repeats them and, in long queries, by how selective they are, fade
    the re-ranking for long queries, and leave a long query in one language untranslated,
    default True, see :mod:`search.query_weighting`).
    """

    def __init__(self, path: str | Path | None = None, **options: Any) -> None:
        self._layout = IndexLayout(path)
        self.path = self._layout.root
        self._ix, self._gen = open_index(self.path)
        self._weighting = LanguageBM25F(**options.get("bm25", {}))
        parser_options = {k: options[k] for k in ("mode", "title_boost", "path_boosts",
                                                  "or_factor", "and_boost", "translate_boost",
                                                  "foreign_boost")
                          if k in options}
        self._parser = QueryParser(self._ix.schema, **parser_options)
        translate = options.get("translate", True)
        self._translator: Translator | None = (
            translate if isinstance(translate, Translator)
            else default_translator() if translate else None)
        self._cognates: CognateIndex | None = None
        self._cognates_for: tuple[int, float, int] = (0, 0.0, 0)  # (reader id, time, docs)
        self._cognates_building = False
        #: The background rebuild of the cognate vocabulary, if one was started.
        self._cognates_thread: threading.Thread | None = None
        self._speller: tuple[int, Speller] | None = None  # (reader id, its speller)
        self._searcher = self._ix.searcher(weighting=self._weighting)
        #: Term-at-a-time execution (same results as Whoosh's collector, faster); the
        #: ``fast=False`` option keeps Whoosh's collector, for comparison.
        self._fast = options.get("fast", True)
        self._positions = bool(options.get("positions", True)) and any(
            (LEAD, LEAD_ALL, ADJACENCY, TITLE_ADJACENCY))
        self._query_weights = bool(options.get("query_weights", True))
        self._executor: Executor | None = None
        self._lock = threading.RLock()
        self._checked = time.monotonic()
        self._completions = CompletionSource()
        self._synonyms = _synonym_expander(options.get("synonyms"), self._ix.schema, options)
        self._found_pairs = FoundPairs()  # translations found at index time (search.pairing)

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        # A cognate rebuild still running writes into the index folder: wait for it, so
        # that nothing touches the folder once the index is closed (not under the lock,
        # which the rebuild takes to publish its result).
        thread = self._cognates_thread
        if thread is not None:
            thread.join()
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

        return IndexWriter(self.path, timeout=timeout, on_commit=lambda: self.refresh(True))

    def clear_cache(self) -> None:
        """Forget the scored postings kept from earlier queries (for measurements)."""
        with self._lock:
            self._executor = None

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
                    ix, gen = open_index(self.path)
                except Exception:  # noqa: BLE001 - swapped again meanwhile: keep the old view
                    return False
                old = self._searcher
                self._ix, self._gen = ix, gen
                self._searcher = ix.searcher(weighting=self._weighting)
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
            self._searcher = fresh
            old.close()
            return True

    # -- searching --------------------------------------------------------------------------

    def parse(self, text: str) -> ParsedQuery:
        """How a query is understood (for debugging, and the CLI's ``--explain``)."""
        with self._lock:
            return self._parse(text)

    def _parse(self, text: str) -> ParsedQuery:
        translate = self._translate if self._translator is not None else None
        words = self._parser.word_terms(text) if self._query_weights else []
        home = None
        if translate is not None and len({frozenset(w) for w in words}) >= MONOLINGUAL_WORDS:
            distinct = {w.lower() for w in WORDS.findall(text[:MAX_QUERY_CHARS])} - _STOP_WORDS
            home = query_language(_word_language(self._word_rates(w)) for w in distinct)
        parsed = self._parser.parse(text, expand=self._expand_prefix,
                                    translate=None if home else translate)
        if parsed.query is not wq.NullQuery:
            if home:  # a long query in one language: its words in the other's say little
                other = "en" if home == "sl" else "sl"
                parsed.query = _scale_language(parsed.query, other, self._parser.foreign_boost)
            if self._query_weights:
                parsed.query = weigh(parsed.query, words, self._body_idf)
        return parsed

    def _body_idf(self, fieldname: str, text: str) -> float:
        """A term's IDF in its language's body field (0 when absent): titles are short and
        sparse, so the body says better how common a word is."""
        body = "body_" + fieldname[len("title_"):] if fieldname.startswith("title_") \
            else fieldname
        s = self._searcher
        if not body.startswith("body_") or body not in s.schema or \
                not s.doc_frequency(body, text):
            return 0.0
        return self._weighting.idf(s, body, text)

    def search(self, text: str, *, lang: str | None = None, year: str | None = None,
               sort: str = "relevance", page: int = 1, per_page: int = 10,
               snippets: bool = True, correct: bool = True) -> Results:
        """Search ``text`` in both languages; ``lang`` restricts to one.

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
            parsed = self._parse(text)
            expansions, synonym_terms = self._apply_synonyms(parsed)
            # A word a declared synonym explains is no misspelling: no correction then.
            spelling = None if expansions else self._check_spelling(parsed)
            if correct and spelling is not None and spelling.replace:
                results = self.search(spelling.text, lang=lang, year=year, sort=sort,
                                      page=page, per_page=per_page, snippets=snippets,
                                      correct=False)
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
                (name, value) for name, value in (("lang", _with_unknown(lang)), ("year", year))
                if value]
            words = self._parser.word_terms(text) if sort == "relevance" else []
            if synonym_terms and words:  # a synonym's match covers the word it stands for
                for word, extra in synonym_terms.items():
                    own = self._parser.word_terms(word)
                    for terms in words:
                        if own and terms == own[0]:
                            terms |= extra
            # Positions re-rank even a one-word query; coverage alone needs two words.
            positional = self._positions
            rerank = sort == "relevance" and (len(words) >= (1 if positional else 2)
                                              or (bool(parsed.translated) and lang is None))
            limit = min(page * per_page, MAX_RESULTS_WINDOW)
            if rerank:
                limit = min(max(limit, RERANK_WINDOW), MAX_RESULTS_WINDOW)
            # Re-ranking tells the documents found through translations (see _rerank).
            found = self._match(parsed.query, filters, limit,
                                set().union(*words, _translated_terms(parsed)) if rerank
                                else set(), sort)
            if sort == "relevance" and STOP_WORD_TAIL and 0 < len(found.top) < limit:
                found = self._with_stop_word_tail(found, text, filters, limit)
            results.total = found.total
            results.facets = found.facets
            terms = query_terms(parsed.query.iter_all_terms()) if snippets else {}
            start = (page - 1) * per_page
            # A verbose query's many common words say little about where they stand.
            strength = 1.0 - verbosity(words) if self._query_weights else 1.0
            factors = ((lambda docnums: self._position_factors(found, words, docnums))
                       if rerank and positional and strength > 0 else None)
            ranked = (_rerank(found, words, tiers=lang is None, factors=factors,
                              shown=start + per_page, strength=strength)
                      if rerank else found.top)
            for rank, (docnum, score) in enumerate(ranked[start:start + per_page], start + 1):
                results.hits.append(self._hit(s.stored_fields(docnum), score, rank, terms,
                                              snippets, parsed))
            if spelling is not None:
                results.suggestion = spelling.text
        results.elapsed_ms = (time.perf_counter() - started) * 1000
        return results

    def _apply_synonyms(self, parsed: ParsedQuery) -> tuple[list, dict[str, set]]:
        """Add the declared synonyms of the query's words to ``parsed.query`` (see
        :mod:`search.synonyms`); returns what fired and the terms each matched word gained."""
        if self._synonyms is None or parsed.query is wq.NullQuery:
            return [], {}
        clauses, fired, added = self._synonyms.expand(self._parser.positive_words(parsed.text))
        if clauses:
            q = parsed.query
            if isinstance(q, wq.AndNot):  # exclusions still apply to synonyms' matches
                parsed.query = wq.AndNot(wq.Or([q.a, *clauses]), q.b)
            else:
                parsed.query = wq.Or([q, *clauses])
        return fired, added

    def _match(self, q: wq.Query, filters: list[tuple[str, str]], limit: int,
                terms: set[tuple[str, bytes]], sort: str) -> Matches:
        """The query's matches: term at a time (fast) when it can, else Whoosh's collector."""
        if self._fast:
            if self._executor is None or self._executor.searcher is not self._searcher:
                self._executor = Executor(self._searcher)
            order = ("date", newest_first_key) if sort == "newest" else None
            found = self._executor.run(q, limit=limit, filters=filters, terms=terms,
                                       order=order)
            if found is not None:
                return found
        return _whoosh_match(self._searcher, q, filters, limit, terms, sort)

    def _with_stop_word_tail(self, found: Matches, text: str, filters: list[tuple[str, Any]],
                             limit: int) -> Matches:
        """``found`` (all the matches: fewer than ``limit``) followed by the documents that hold
        only the query's stop words, counted in the total and the facets."""
        stops = self._parser.stop_words(text)
        if not stops:
            return found
        floor = min(score for _, score in found.top)
        if self._executor is None or self._executor.searcher is not self._searcher:
            self._executor = Executor(self._searcher)
        top, every = stop_word_tail(self._executor, stops, filters, {d for d, _ in found.top},
                                    limit - len(found.top), floor if floor > 0 else 1.0)
        if not every:
            return found
        extra = self._executor.facets(dict.fromkeys(every, 0.0))
        facets = {}
        for name in set(found.facets) | set(extra):
            counts = dict(found.facets.get(name, {}))
            for value, n in extra.get(name, {}).items():
                counts[value] = counts.get(value, 0) + n
            facets[name] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        return replace(found, top=found.top + top, total=found.total + len(every),
                       facets=facets)

    def _position_factors(self, found: Matches, words: list[set[tuple[str, bytes]]],
                          docnums: list[int]) -> dict[int, float]:
        """The re-ranking factor of each hit in ``docnums`` from where the query's words
        stand in it.

        Positions come from the postings of the terms each hit matched, read for these hits
        only; a word's positions are those of all its terms in the field (lemma and stem
        paths count words alike, stop words left out).
        """
        s = self._searcher
        if not words or not docnums:
            return {}
        kinds = ("body_", "title_") if len(words) > 1 and TITLE_ADJACENCY else ("body_",)
        wanted: dict[tuple[str, bytes], list[int]] = {}
        direct = set().union(*words)
        for docnum in docnums:
            for term in found.matched_terms(docnum):
                if term[0].startswith(kinds) and term in direct:
                    wanted.setdefault(term, []).append(docnum)
        positions = {term: found.positions(s, term, docs) if self._fast
                     else whoosh_positions(s, term[0], term[1], docs)
                     for term, docs in wanted.items()}
        split = [([t for t in word if t[0].startswith("body_")],
                  [t for t in word if t[0].startswith("title_")]) for word in words]
        weights: dict[str | None, list[float]] = {}
        factors = {}
        for docnum in docnums:
            matched = found.matched_terms(docnum)
            # A document has its own language's fields only: any matched term tells it.
            lang = next((field_language(name) for name, _ in matched), None)
            if lang not in weights:  # each word's IDF in that language (its rarest term)
                weights[lang] = [max((self._weighting.idf(s, *t) for t in body_terms
                                      if field_language(t[0]) == lang and s.doc_frequency(*t)),
                                     default=0.0) for body_terms, _ in split]
            body, title = [], []
            for body_terms, title_terms in split:
                in_body: set[int] = set()
                in_title: set[int] = set()
                for terms, where in ((body_terms, in_body), (title_terms, in_title)):
                    for term in terms:
                        if term in matched and term in positions:
                            where.update(positions[term].get(docnum, ()))
                body.append(sorted(in_body))
                title.append(in_title)
            factors[docnum] = _position_factor(body, title, weights[lang])
        return factors

    def _hit(self, stored: dict[str, Any], score: float | None, rank: int,
             terms: dict, snippets: bool, parsed: ParsedQuery | None = None) -> Hit:
        text = stored.get("text", "")
        lang = stored["lang"]
        spans = _spans(text, lang, terms) if snippets else []
        html = snippet(text, spans) if snippets else ""
        translated = []
        if snippets and parsed and parsed.translated:
            title = stored.get("title", "")
            translated = _translated_words([(title, _spans(title, lang, terms)),
                                            (text, spans)], lang, parsed)
        return Hit(id=stored["id"], title=stored.get("title", ""), lang=stored["lang"],
                   date=stored.get("date"), score=float(score or 0.0), snippet=html, rank=rank,
                   path=stored.get("path"), url=stored.get("url"), translated_terms=translated,
                   page=page_of(stored.get("pages"), spans))

    def complete(self, text: str, *, lang: str | None = None,
                 limit: int = MAX_COMPLETIONS) -> list[Completion]:
        """Completions of what is being typed: the last word finished, or a title or title
        phrase, in both languages (``lang`` restricts), diacritics optional; bounded work
        (see :mod:`search.completion`)."""
        self.refresh()
        with self._lock:
            table = self._completions.get(self._ix, self._searcher.reader(), self._gen)
            return table.complete(text, self._searcher, lang=lang, limit=limit)

    # -- translation ------------------------------------------------------------------------

    def _translate(self, words: list[str]) -> list[Translation]:
        """Translations of the query's words, from the language(s) the query looks written in.

        A word belongs to a language when, analysed as that language, it is clearly more
        common (per document) there than in the other (help pages quote English names in
        Slovenian text, so merely occurring says little); the query's language is the one
        more of its words belong to (both on a tie). Translating only from it keeps a
        Slovenian query's Slovenian results as they were, and the other way round. Words at
        home in both languages ("red", "list", "Basic") are not translated; words in neither
        are, by the dictionary only.
        """
        translator = self._translator
        if translator is None:
            return []
        candidates: list[tuple[str, str | None, dict[str, float]]] = []
        votes = {"sl": 0, "en": 0}
        for word in dict.fromkeys(w.lower() for w in words):
            if len(word) < 2 or word.isdigit() or word in _STOP_WORDS:
                continue
            rates = self._word_rates(word)
            lang = _word_language(rates)
            if lang:
                votes[lang] += 1
            candidates.append((word, lang, rates))
        if not candidates:
            return []
        sources = [code for code, other in (("sl", "en"), ("en", "sl"))
                   if votes[code] >= votes[other]]
        cognates = self._cognate_index() if translator.cognates else None
        out: list[Translation] = []
        for word, lang, rates in candidates:
            if lang is None and any(rates.values()):
                continue  # at home in both languages ("red", "list", "Basic"): no translating
            for source in sources:
                if lang in (None, source):
                    # Cognates only of words this index knows in the source language: an
                    # unknown word (a typo) would otherwise find look-alikes.
                    known = cognates if rates[source] > 0 else None
                    out.extend(self._shared_idf(translator.translate(word, source, known)))
        return out

    def _shared_idf(self, translations: list[Translation]) -> list[Translation]:
        """Reweight one word's translations as if they were one term (Pirkola's synonyms).

        Otherwise the rarest translation, often a wrong sense ("bar" -> "gostilna"), gets the
        highest IDF and dominates; here each alternative scores with the IDF of the union
        of their documents (approximated by the sum of their document frequencies).
        """
        if not SHARED_IDF or len(translations) < 2:
            return translations
        s = self._searcher
        lang = translations[0].lang
        total = language_doc_count(s, lang)
        dfs = [s.doc_frequency(f"body_{lang}", dict(t.terms).get("", "")) for t in translations]
        union = min(total, sum(dfs))
        if not union:
            return translations
        out = []
        for t, df in zip(translations, dfs, strict=True):
            if df:
                t = replace(t, weight=t.weight * _idf(union, total) / _idf(df, total))
            out.append(t)
        return out

    def _word_rates(self, word: str) -> dict[str, float]:
        """Share of each language's documents containing ``word`` (analysed as that language)."""
        s = self._searcher
        rate = {}
        for lang in ("sl", "en"):
            name = f"body_{lang}"
            df = 0
            for token in s.schema[name].analyzer(word, mode="query"):
                df = s.doc_frequency(name, token.text)
                break
            rate[lang] = df / language_doc_count(s, lang)
        return rate

    def _cognate_index(self) -> CognateIndex:
        """The snapshot of this index's words that cognates are looked up in.

        Built on first use (a fraction of a second for thousands of documents); after
        commits it is rebuilt in a background thread once stale, the old snapshot serving
        meanwhile, so no query waits for it again.
        """
        reader = self._searcher.reader()
        if self._cognates is None:
            self._cognates = cognates_for_reader(reader, self._gen)
            self._cognates_for = (id(reader), time.monotonic(), reader.doc_count())
            return self._cognates
        reader_id, built, built_docs = self._cognates_for
        if reader_id != id(reader) and not self._cognates_building:
            docs = reader.doc_count()
            stale = (time.monotonic() - built >= COGNATE_MAX_AGE
                     or abs(docs - built_docs) > COGNATE_REBUILD_GROWTH * max(built_docs, 1))
            if stale:
                self._cognates_building = True
                self._cognates_thread = threading.Thread(
                    target=self._rebuild_cognates, name="cognate-index", daemon=True)
                self._cognates_thread.start()
        return self._cognates

    def _rebuild_cognates(self) -> None:
        try:
            ix, gen = self._ix, self._gen
            with ix.reader() as reader:  # its own reader: refresh() may close ours
                fresh = cognates_for_reader(reader, gen)
                docs = reader.doc_count()
            with self._lock:
                self._cognates = fresh
                self._cognates_for = (id(self._searcher.reader()), time.monotonic(), docs)
        except Exception:  # noqa: BLE001 - a failed rebuild keeps the old snapshot
            log.exception("Rebuilding the cognate vocabulary failed")
        finally:
            self._cognates_building = False

    def _expand_prefix(self, prefix: str) -> list[str]:
        reader = self._searcher.reader()
        found: dict[str, int] = {}
        for name in spelling_fields().values():
            seen = 0
            for term in reader.expand_prefix(name, prefix):
                word = term.decode("utf-8") if isinstance(term, bytes) else term
                if _WORD.match(word):
                    found[word] = found.get(word, 0) + reader.doc_frequency(name, word)
                    seen += 1
                if seen >= 500:
                    break
        return [w for _, w in sorted(((n, w) for w, n in found.items()), reverse=True)]

    def _check_spelling(self, parsed: ParsedQuery) -> SpellCheck | None:
        """The query's misspelt words corrected (bounded work; see :mod:`search.spelling`)."""
        return check_query(self._searcher, parsed.text, parsed.words, self._spelling)

    def _spelling(self) -> Speller:
        """The speller of the index as this searcher sees it: its vocabulary is kept in the
        generation folder (made after each commit by the indexer, else here, once)."""
        reader = self._searcher.reader()
        if self._speller is None or self._speller[0] != id(reader):
            self._speller = (id(reader), Speller(vocabulary_for_reader(reader, self._gen)))
        return self._speller[1]

    # -- documents and statistics -----------------------------------------------------------

    def document(self, doc_id: str, *, query: str | None = None) -> DocumentView | None:
        """A whole document, with the matches of ``query`` marked."""
        self.refresh()
        with self._lock:
            stored = self._searcher.document(id=doc_id)
            if stored is None:
                return None
            spans: list = []
            text = stored.get("text", "")
            if query:
                parsed = self._parse(query)
                self._apply_synonyms(parsed)
                terms = query_terms(parsed.query.iter_all_terms())
                spans = _spans(text, stored["lang"], terms)
            return DocumentView(id=stored["id"], title=stored.get("title", ""),
                                lang=stored["lang"], date=stored.get("date"), text=text,
                                html=paragraphs_html(text, spans), path=stored.get("path"),
                                url=stored.get("url"),
                                translation_id=self._translation(stored),
                                page=page_of(stored.get("pages"), spans),
                                page_count=len(stored["pages"]) if stored.get("pages") else None)

    def _translation(self, stored: dict[str, Any]) -> str | None:
        found = self._found_pairs.get(self._gen)  # declared translations win over these
        pair = stored.get("pair")
        if not pair:
            return found.get(stored.get("id", ""))
        for other in self._searcher.documents(pair=pair):
            if other.get("lang") != stored.get("lang") and other.get("id") != stored.get("id"):
                return other["id"]
        return found.get(stored.get("id", ""))

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


def _synonym_expander(source: Any, schema: Any, options: dict[str, Any]) -> Any:
    """The synonyms option of :class:`SearchIndex`, ready for its schema (None if none)."""
    if not source:
        return None
    from search.query import TITLE_BOOST, field_boosts
    from search.synonyms import Synonyms

    if isinstance(source, Synonyms):
        synonyms = source  # its problems were the caller's to report
    else:
        synonyms = Synonyms.load(source)
        for problem in synonyms.problems:
            log.warning("Synonyms: %s", problem)
    boosts = field_boosts(options.get("title_boost", TITLE_BOOST), options.get("path_boosts"))
    return synonyms.expander(schema, boosts)


def _idf(df: int, total: int) -> float:
    return math.log(1.0 + (total - df + 0.5) / (df + 0.5))


def _word_language(rates: dict[str, float]) -> str | None:
    """The language a word belongs to, from the share of each language's documents holding
    it (see WORD_LANGUAGE_RATIO); None when at home in both or neither."""
    if rates["sl"] > WORD_LANGUAGE_RATIO * rates["en"]:
        return "sl"
    if rates["en"] > WORD_LANGUAGE_RATIO * rates["sl"]:
        return "en"
    return None


def _translated_words(texts: list[tuple[str, list[Span]]], lang: str,
                      parsed: ParsedQuery) -> list[str]:
    """The marked words (as written, lowercased) of each (text, spans) that matched only
    through translation."""
    wanted = {key: set(terms) for key, terms in parsed.translated.items() if key[0] == lang}
    if not wanted:
        return []
    found = (text[s:e].lower() for text, spans in texts
             for s, e in spans_matching(text, spans, lang, wanted))
    return list(dict.fromkeys(found))


def _translated_terms(parsed: ParsedQuery) -> set[tuple[str, bytes]]:
    """The (field, term) pairs of the query's translations."""
    return {(f"{kind}_{lang}{'_' + path if path else ''}", term.encode("utf-8"))
            for (lang, path), terms in parsed.translated.items() for term in terms
            for kind in ("title", "body")}


def _whoosh_match(searcher: Any, q: wq.Query, filters: list[tuple[str, str]], limit: int,
                  terms: set[tuple[str, bytes]], sort: str) -> Matches:
    """:func:`Executor.run`'s result through Whoosh's own collector (any query, any sort)."""
    kwargs: dict[str, Any] = {
        "limit": limit,
        "filter": _filter_query(filters),
        "groupedby": {name: sorting.FieldFacet(name) for name in FACETS},
        "maptype": sorting.Count,
        "terms": bool(terms),
    }
    if sort == "newest":  # see newest_first_key: the ISO strings alone sort wrongly
        kwargs["sortedby"] = sorting.TranslateFacet(newest_first_key,
                                                    sorting.FieldFacet("date"))
    found = searcher.search(q, **kwargs)
    matched = {hit.docnum: set(hit.matched_terms()) for hit in found} if terms else {}
    # As the executor's: also the query's terms of ``terms`` a document holds where its query
    # did not count them (a translation is left out where the word itself matched).
    searched = {(n, t if isinstance(t, bytes) else t.encode("utf-8"))
                for n, t in q.iter_all_terms()} if matched else set()
    for name, btext in set(terms) & searched:
        for docnum in whoosh_positions(searcher, name, btext, matched):
            matched[docnum].add((name, btext))
    return Matches(total=len(found), facets={n: _facet(found.groups(n)) for n in FACETS},
                   # A sorting collector does not score ("score" is the sort key).
                   top=[(hit.docnum, (hit.score or 0.0) if sort == "relevance" else 0.0)
                        for hit in found],
                   _matched=matched)


def _position_factor(body: list[list[int]], title: list[set[int]],
                     weights: list[float]) -> float:
    """The re-ranking factor of one hit: ``body`` holds each query word's sorted positions in
    its body (in query order; empty when absent), ``title`` those in its title, ``weights``
    each word's IDF. See LEAD, LEAD_ALL, ADJACENCY and TITLE_ADJACENCY.

    >>> round(_position_factor([[0], [1]], [set(), set()], [1.0, 1.0]), 3)
    1.641
    >>> _position_factor([[], []], [set(), set()], [1.0, 1.0])
    1.0
    """
    factor = 1.0
    total = sum(weights)
    if total:
        early = sum(w * math.exp(-p[0] / LEAD_SPAN) for p, w in zip(body, weights, strict=True)
                    if p)
        factor *= 1.0 + LEAD * early / total
    if all(body):
        factor *= 1.0 + LEAD_ALL * math.exp(-max(p[0] for p in body) / LEAD_SPAN)
    pairs = len(body) - 1
    if pairs > 0:
        factor *= 1.0 + ADJACENCY * _side_by_side([set(p) for p in body]) / pairs
        factor *= 1.0 + TITLE_ADJACENCY * _side_by_side(title) / pairs
    return factor


def _side_by_side(positions: list[set[int]]) -> int:
    """How many neighbouring pairs of words (positions in query order) occur next to each
    other, in order, somewhere."""
    return sum(1 for a, b in zip(positions, positions[1:], strict=False)
               if not a.isdisjoint(p - 1 for p in b))


def _rerank(found: Matches, words: list[set[tuple[str, bytes]]], tiers: bool,
            factors: Callable[[list[int]], dict[int, float]] | None = None,
            shown: int = RERANK_WINDOW, strength: float = 1.0) -> list[tuple[int, float]]:
    """Order the top hits by how many of the query's words they cover, by ``factors`` (the
    position factors of the hits whose docnums it is given), and (``tiers``) direct matches
    before documents found only through translations. The order is exact for the first
    ``shown`` hits. ``strength`` (0 to 1) scales coverage and position factors down, for
    verbose queries (see :func:`search.query_weighting.verbosity`).

    BM25 alone ranks a document repeating one query word above one holding every word;
    a mild coverage factor (measured: small gains on every help task) corrects that. With
    no language filter, people expect the documents in their own words first, so those
    found only through a translation come after every direct match. A document matching
    the query's words only through the truncated, folded Slovenian path (``passwrd`` ->
    ``passw`` in a Slovenian page's ``passwordfield``) comes after every document matching
    one of them itself (as written, stemmed or lemmatized) or through a translation. Scores
    stay in rank order: a later tier's are scaled below the earlier ones'.
    """
    direct = set().union(*words) if words else set()
    strong = {term for term in direct if term[0] not in _WEAK_FIELDS}
    rows = []
    for order, (docnum, score) in enumerate(found.top):
        matched = found.matched_terms(docnum)
        covered = sum(1 for w in words if not w.isdisjoint(matched)) / len(words) if words \
            else 1.0
        if not direct or matched & strong:
            tier = 0
        elif not matched & direct or matched - direct:
            tier = 1 if tiers else 0  # through translations (and perhaps the truncated path)
        else:
            tier = 2  # through the truncated path only
        weight = COVERAGE * strength
        rows.append((tier, score * (1.0 - weight + weight * covered), order, docnum))
    extra = factors(_may_reach(rows, shown, MAX_POSITION_FACTOR ** strength)) if factors \
        else {}
    scored = []
    for tier, score, order, docnum in rows:
        score *= extra.get(docnum, 1.0) ** strength
        scored.append((tier, -score, order, docnum, score))
    scored.sort(key=lambda row: row[:3])
    out: list[tuple[int, float]] = []
    last_tier, scale = 0, 1.0
    for tier, _s, _o, docnum, score in scored:
        if tier != last_tier:  # the tier's best: scaled below the previous one's worst
            last_tier, floor = tier, out[-1][1] if out else 0.0
            scale = floor / score * (1 - 1e-9) if out and score >= floor > 0 else 1.0
        out.append((docnum, score * scale))
    return out


def _may_reach(rows: list[tuple[int, float, int, int]], shown: int, most: float) -> list[int]:
    """The docnums of the hits (``(tier, score, order, docnum)``) that could be among the first
    ``shown`` once each score is multiplied by a factor from 1 to ``most``.

    A hit is out of reach when ``shown`` others certainly rank above it: every hit of a better
    tier, and those of its tier whose score beats its own even multiplied by ``most``. Its
    factor cannot change what is shown, so it is not computed (reading positions is the
    costly part of re-ranking).

    >>> _may_reach([(0, 10.0, 0, 7), (0, 9.0, 1, 8), (0, 2.0, 2, 9), (1, 50.0, 3, 5)], 2, 1.5)
    [7, 8]
    >>> _may_reach([(0, 10.0, 0, 7), (0, 9.0, 1, 8), (0, 2.0, 2, 9)], 3, 1.5)
    [7, 8, 9]
    """
    ahead: dict[int, int] = {}  # tier -> hits in better tiers
    scores: dict[int, list[float]] = {}  # tier -> its scores, ascending
    for tier, score, _order, _docnum in rows:
        scores.setdefault(tier, []).append(score)
    before = 0
    for tier in sorted(scores):
        scores[tier].sort()
        ahead[tier] = before
        before += len(scores[tier])
    keep = []
    for tier, score, _order, docnum in rows:
        ranked = scores[tier]
        beaten_by = len(ranked) - bisect_right(ranked, score * most)
        if ahead[tier] + beaten_by < shown:
            keep.append(docnum)
    return keep


def _filter_query(filters: list[tuple[str, Any]]) -> wq.Query | None:
    """The Whoosh query of ``filters`` ((field, value or tuple of values), all required)."""
    if not filters:
        return None
    return wq.And([wq.Term(n, v) if isinstance(v, str) else wq.Or([wq.Term(n, x) for x in v])
                   for n, v in filters])


def _with_unknown(lang: str | None) -> str | tuple[str, ...] | None:
    """The ``lang`` values a language filter admits: a language's own documents and those of
    unknown language (indexed as every language); ``UNKNOWN`` alone admits only those."""
    return (lang, UNKNOWN) if lang in LANGUAGES else lang


def _spans(text: str, lang: str, terms: dict) -> list[Span]:
    """The query's matches in a document's text, as analysed in its language (in every
    language for a document of unknown language)."""
    if lang in LANGUAGES:
        return match_spans(text, lang, terms)
    found = {span for code in LANGUAGES for span in match_spans(text, code, terms)}
    merged: list[Span] = []
    for start, end in sorted(found):  # overlapping matches (a lemma and a stem) become one
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _count(searcher: Any, q: wq.Query) -> int:
    return sum(1 for _ in searcher.docs_for_query(q))


def _facet(groups: dict[Any, int]) -> dict[str, int]:
    pairs = [(str(k.decode() if isinstance(k, bytes) else k), v) for k, v in groups.items() if k]
    return dict(sorted(pairs, key=lambda kv: (-kv[1], kv[0])))
