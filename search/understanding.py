"""Query understanding: what a query asks for, before anything is matched.

:class:`QueryUnderstanding` parses a query (:mod:`search.query`), translates its words into
the other language (:mod:`search.translation`, with the cognate vocabulary and its
background rebuild), adds declared synonyms (:mod:`search.synonyms`), expands prefixes and
checks the spelling (:mod:`search.spelling`). :class:`~search.searcher.SearchIndex` owns
one and tells it which searcher to read (:meth:`QueryUnderstanding.follow`); it calls
nothing back.
"""

from __future__ import annotations

import contextvars
import logging
import math
import re
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from whoosh import query as wq

from search.analysis import LANGUAGES
from search.analysis.fields import FieldName
from search.analysis.filters import WORDS
from search.cognates import CognateIndex, cognates_for_reader
from search.query import MAX_QUERY_CHARS, ParsedQuery, QueryParser, _scale_language, stop_words
from search.query_weighting import MONOLINGUAL_WORDS, query_language, weigh
from search.ranking import LanguageBM25F, language_doc_count
from search.schema import spelling_fields
from search.spelling import SpellCheck, Speller, check_query, vocabulary_for_reader
from search.translation import Translation, Translator
from search.whoosh_ext.searcher_cache import doc_frequency
from search.whoosh_ext.terms import SegmentTerms

#: The cognate vocabulary (see :class:`~search.cognates.CognateIndex`) is a snapshot of the
#: index's words: rebuilt after a commit only once it is this old (seconds) or the document
#: count moved by more than COGNATE_REBUILD_GROWTH; a word added since is just not translated.
COGNATE_MAX_AGE = 600.0
COGNATE_REBUILD_GROWTH = 0.1
#: A query word belongs to a language when it is this many times more frequent (per document)
#: in that language's documents than in the other's.
WORD_LANGUAGE_RATIO = 3.0
#: How many words' analysed forms the word rates remember (analysis is costly; see _word_rates).
TOKEN_CACHE = 50_000
#: Score a word's translations with the IDF of all of them together (see _shared_idf).
SHARED_IDF = True

_WORD = re.compile(r"^\w+$")
log = logging.getLogger(__name__)


@dataclass
class Understood:
    """A query as understood: the parsed query, and the index terms of each of its content
    words (repeats included), analysed once and used again for re-ranking."""

    parsed: ParsedQuery
    words: list[set[tuple[str, bytes]]]


class QueryUnderstanding:
    """Parsing, translation, synonyms, prefix expansion and spelling of one index's queries.

    ``options`` are :class:`~search.searcher.SearchIndex`'s (the parser's, ``synonyms``,
    ``query_weights``, ``fast``); ``translator`` is None for no translation. ``lock`` is the
    index's: the background rebuild of the cognate vocabulary publishes its result under it.
    ``terms``: the per-segment term reader the speller's vocabulary is made with.
    """

    def __init__(self, schema: Any, weighting: LanguageBM25F, translator: Translator | None,
                 lock: threading.RLock, terms: SegmentTerms | None = None,
                 **options: Any) -> None:
        self._weighting = weighting
        self._terms = terms
        parser_options = {k: options[k] for k in ("mode", "title_boost", "path_boosts",
                                                  "or_factor", "and_boost", "translate_boost",
                                                  "foreign_boost", "fast")
                          if k in options}
        self._parser = QueryParser(schema, **parser_options)
        self._translator = translator
        #: The two languages translated between (None: no translation).
        self._pair = translator.pair if translator is not None else None
        self._stop_words = stop_words()
        self._cognates: CognateIndex | None = None
        #: (the reader it was built for, held weakly; when; its documents)
        self._cognates_for: tuple[Callable[[], Any], float, int] = (lambda: None, 0.0, 0)
        self._cognates_building = False
        #: The background rebuild of the cognate vocabulary, if one was started.
        self._cognates_thread: threading.Thread | None = None
        #: (the reader, held weakly: a freed reader's id() may be reused; its speller)
        self._speller: tuple[Callable[[], Any], Speller] | None = None
        #: (field, word) -> the word's first query term in that field (None: none).
        self._tokens: dict[tuple[str, str], str | None] = {}
        self._query_weights = bool(options.get("query_weights", True))
        self._lock = lock
        self._synonyms = _synonym_expander(options.get("synonyms"), schema, options)
        self._ix: Any = None
        self._gen: Any = None
        self._searcher: Any = None

    def follow(self, ix: Any, gen: Any, searcher: Any) -> None:
        """Read the index through ``searcher`` from now on (``ix`` and its generation folder
        ``gen`` are where the cognate and spelling vocabularies are kept)."""
        if ix is not self._ix:  # a rebuilt index may analyse differently
            self._tokens.clear()
        self._ix, self._gen, self._searcher = ix, gen, searcher

    def close(self) -> None:
        """Wait for a cognate rebuild still running (it writes into the index folder)."""
        thread = self._cognates_thread
        if thread is not None:
            thread.join()

    def word_terms(self, text: str) -> list[set[tuple[str, bytes]]]:
        """The terms of each of the query's words (see :meth:`QueryParser.word_terms`)."""
        return self._parser.word_terms(text)

    def stop_words(self, text: str) -> list[str]:
        """The query's stop words (see :meth:`QueryParser.stop_words`)."""
        return self._parser.stop_words(text)

    def parse(self, text: str) -> ParsedQuery:
        """The query as understood: parsed, translated, its terms weighed (see
        :meth:`QueryParser.parse`)."""
        return self.understand(text).parsed

    def understand(self, text: str) -> Understood:
        """:meth:`parse`, with the terms of the query's words (each analysed once; their
        rates in each language, for its home language and its translation, looked up once)."""
        rates: dict[str, dict[str, float]] = {}  # this query's words' rates (_word_rates)
        pair = self._pair
        translate = partial(self._translate, rates=rates) if pair is not None else None
        terms = self._parser.word_terms(text)
        words = terms if self._query_weights else []
        home = None
        if translate is not None and len({frozenset(w) for w in words}) >= MONOLINGUAL_WORDS:
            distinct = {w.lower() for w in WORDS.findall(text[:MAX_QUERY_CHARS])} - \
                self._stop_words
            home = query_language(_word_language(self._word_rates(w, rates)) for w in distinct)
        parsed = self._parser.parse(text, expand=self._expand_prefix,
                                    translate=None if home else translate)
        if parsed.query is not wq.NullQuery:
            other = pair.other(home) if home and pair is not None else None
            if other:  # a long query in one language: its words in the other's say little
                parsed.query = _scale_language(parsed.query, other, self._parser.foreign_boost)
            if self._query_weights:
                parsed.query = weigh(parsed.query, words, self._body_idf)
        return Understood(parsed, [set(t) for t in terms])

    def _body_idf(self, fieldname: str, text: str) -> float:
        """A term's IDF in its language's body field (0 when absent): titles are short and
        sparse, so the body says better how common a word is."""
        name = FieldName.parse(fieldname)
        if name is None or not name.is_text:
            return 0.0
        body = name.as_kind("body").name
        s = self._searcher
        if body not in s.schema or not doc_frequency(s, body, text):
            return 0.0
        return self._weighting.idf(s, body, text)
    def apply_synonyms(self, parsed: ParsedQuery) -> tuple[list, dict[str, set]]:
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

    # -- translation ------------------------------------------------------------------------

    def _translate(self, words: list[str],
                   rates: dict[str, dict[str, float]] | None = None) -> list[Translation]:
        """Translations of the query's words, from the language(s) the query looks written in.

        A word belongs to a language when, analysed as that language, it is clearly more
        common (per document) there than in the other (help pages quote English names in
        Slovenian text, so merely occurring says little); the query's language is the one
        more of its words belong to (both on a tie). Translating only from it keeps a
        Slovenian query's Slovenian results as they were, and the other way round. Words at
        home in both languages ("red", "list", "Basic") are not translated; words in neither
        are, by the dictionary only.
        """
        translator, pair = self._translator, self._pair
        if translator is None or pair is None:
            return []
        candidates: list[tuple[str, str | None, dict[str, float]]] = []
        votes = dict.fromkeys(pair.codes, 0)
        for word in dict.fromkeys(w.lower() for w in words):
            if len(word) < 2 or word.isdigit() or word in self._stop_words:
                continue
            word_rates = self._word_rates(word, rates)
            lang = _word_language(word_rates)
            if lang:
                votes[lang] += 1
            candidates.append((word, lang, word_rates))
        if not candidates:
            return []
        sources = [code for code in pair.codes if votes[code] >= votes[pair.other(code)]]
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
        main = LANGUAGES[lang].main.name
        body = LANGUAGES[lang].field("body", main).name
        dfs = [doc_frequency(s, body, dict(t.terms).get(main, "")) for t in translations]
        union = min(total, sum(dfs))
        if not union:
            return translations
        out = []
        for t, df in zip(translations, dfs, strict=True):
            if df:
                t = replace(t, weight=t.weight * _idf(union, total) / _idf(df, total))
            out.append(t)
        return out

    def _word_rates(self, word: str,
                    known: dict[str, dict[str, float]] | None = None) -> dict[str, float]:
        """Share of each translated language's documents containing ``word`` (analysed as
        that language, in its main body field); ``known``: the rates already looked up for
        this query, and where to keep these."""
        if known is not None and word in known:
            return known[word]
        s = self._searcher
        rate = {}
        for lang in self._pair.codes if self._pair is not None else ():
            language = LANGUAGES[lang]
            name = language.field("body", language.main.name).name
            token = self._query_token(s, name, word)
            df = doc_frequency(s, name, token) if token is not None else 0
            rate[lang] = df / language_doc_count(s, lang)
        if known is not None:
            known[word] = rate
        return rate

    def _query_token(self, searcher: Any, name: str, word: str) -> str | None:
        """``word``'s first query term in field ``name`` (analysis only: cached for good)."""
        key = (name, word)
        if key not in self._tokens:
            if len(self._tokens) >= TOKEN_CACHE:
                self._tokens.clear()
            self._tokens[key] = next(
                (t.text for t in searcher.schema[name].analyzer(word, mode="query")), None)
        return self._tokens[key]

    def _cognate_index(self) -> CognateIndex:
        """The snapshot of this index's words that cognates are looked up in.

        Built on first use (a fraction of a second for thousands of documents); after
        commits it is rebuilt in a background thread once stale, the old snapshot serving
        meanwhile, so no query waits for it again.
        """
        reader = self._searcher.reader()
        if self._cognates is None:
            self._cognates = cognates_for_reader(reader, self._gen, self._pair)
            self._cognates_for = (weakref.ref(reader), time.monotonic(), reader.doc_count())
            return self._cognates
        built_for, built, built_docs = self._cognates_for
        if built_for() is not reader and not self._cognates_building:
            docs = reader.doc_count()
            stale = (time.monotonic() - built >= COGNATE_MAX_AGE
                     or abs(docs - built_docs) > COGNATE_REBUILD_GROWTH * max(built_docs, 1))
            if stale:
                self._cognates_building = True
                # In a copy of this context: registered languages stay registered there.
                self._cognates_thread = threading.Thread(
                    target=contextvars.copy_context().run, args=(self._rebuild_cognates,),
                    name="cognate-index", daemon=True)
                self._cognates_thread.start()
        return self._cognates

    def _rebuild_cognates(self) -> None:
        try:
            ix, gen = self._ix, self._gen
            with ix.reader() as reader:  # its own reader: refresh() may close ours
                fresh = cognates_for_reader(reader, gen, self._pair)
                docs = reader.doc_count()
            with self._lock:
                self._cognates = fresh
                self._cognates_for = (weakref.ref(self._searcher.reader()), time.monotonic(),
                                      docs)
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

    def check_spelling(self, parsed: ParsedQuery) -> SpellCheck | None:
        """The query's misspelt words corrected (bounded work; see :mod:`search.spelling`)."""
        return check_query(self._searcher, parsed.text, parsed.words, self._spelling)

    def _spelling(self) -> Speller:
        """The speller of the index as this searcher sees it: its vocabulary is kept in the
        generation folder (made after each commit by the indexer, else here, once)."""
        reader = self._searcher.reader()
        if self._speller is None or self._speller[0]() is not reader:
            self._speller = (weakref.ref(reader),
                             Speller(vocabulary_for_reader(reader, self._gen, self._terms)))
        return self._speller[1]


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
    it (see WORD_LANGUAGE_RATIO); None when at home in both or neither.

    >>> _word_language({"sl": 0.04, "en": 0.01}), _word_language({"sl": 0.02, "en": 0.01})
    ('sl', None)
    """
    for lang, rate in rates.items():
        others = [r for other, r in rates.items() if other != lang]
        if others and rate > WORD_LANGUAGE_RATIO * max(others):
            return lang
    return None
