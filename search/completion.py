"""Completions for a search box: the last word finished, or a whole title or title phrase.

What people expect from site search (Algolia, Meilisearch, Typesense): type ``mej`` and be
offered ``meja`` and ``mejni prehod``; type ``sar`` without the caron and be offered
``Šaranović``. Three kinds of completion, each ranked by how often it occurs:

- ``word``: the last word typed, finished with a word of the index (the ``spell_*`` fields'
  surface vocabulary, matched without diacritics). Inflections are one completion: the
  candidates are grouped by their term in each language's main analysis (Slovenian lemmas,
  English stems), shown as the lemma when the text has it (``meja`` for ``meje, meji, mejo``)
  and counted by how many documents of that language hold any form of it.
- ``phrase``: two neighbouring words of titles (``mejni prehod``), by how many titles hold
  it (at least two: a phrase of one title is offered as that title).
- ``title``: a whole document title that starts with what was typed.

Bounded work per request, whatever the prefix: the table is sorted by folded key, the most
frequent candidates of every prefix of up to :data:`SHORT_PREFIX` characters are precomputed,
a longer prefix scans at most :data:`SCAN_LIMIT` entries, and at most :data:`CANDIDATES`
words are analysed. The table is built from each segment's vocabulary and titles (cached per
segment in the index generation's folder, so a commit reads only its new segments) and the
combined table is cached for the index's segments; the indexer builds it after each commit,
so the first visitor does not wait.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import threading
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.analysis import LANGUAGES
from search.analysis.fields import is_spelling_field
from search.analysis.filters import WORDS, fold
from search.cache import read_cache, write_cache

#: Completions per request, at most.
MAX_COMPLETIONS = 8
#: Longest input looked at (characters); anything longer is cut.
MAX_INPUT_CHARS = 100
#: Prefixes up to this long have their most frequent entries precomputed.
SHORT_PREFIX = 3
#: Candidates kept per precomputed prefix, and words analysed per request.
CANDIDATES = 32
#: Entries a longer prefix may scan.
SCAN_LIMIT = 2_000
#: Longest title offered whole (characters).
MAX_TITLE_CHARS = 120
#: Bump when the cached tables change shape.
FORMAT = 3
#: The file, in an index generation's folder, holding the combined table.
CACHE_FILE = "completions.marshal"
SEGMENT_CACHE_PREFIX = "completions-"

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Completion:
    """One completion offered for what was typed."""

    text: str  #: the whole query it completes to
    lang: str  #: the language it belongs to
    kind: str  #: "word", "phrase" or "title"

    def to_dict(self) -> dict[str, str]:
        return {"text": self.text, "lang": self.lang, "kind": self.kind}


def _key(text: str) -> str:
    """How entries are compared: lowercase, no diacritics, single spaces.

    >>> _key("  Šaranović   Đak ")
    'saranovic dak'
    """
    return fold(_SPACE.sub(" ", text.strip()).lower())


class _Table:
    """Entries sorted by key, with the most frequent entries of every short prefix."""

    def __init__(self, keys: list[str], counts: list[int],
                 tops: dict[str, list[int]] | None = None) -> None:
        self.keys = keys
        self.counts = counts
        if tops is None:
            tops = {}
            for i in sorted(range(len(keys)), key=lambda i: -counts[i]):
                key = keys[i]
                for n in range(1, min(SHORT_PREFIX, len(key)) + 1):
                    top = tops.setdefault(key[:n], [])
                    if len(top) < CANDIDATES:
                        top.append(i)
        self.tops = tops

    def best(self, prefix: str, skip: int = 0) -> list[int]:
        """Indexes of the most frequent entries starting with ``prefix``, best first (exact
        for short prefixes, among the first SCAN_LIMIT entries for longer ones)."""
        if not prefix:
            return []
        if len(prefix) <= SHORT_PREFIX and not skip:
            return list(self.tops.get(prefix, ()))
        start = bisect_left(self.keys, prefix)
        end = min(len(self.keys), start + SCAN_LIMIT)
        found = []
        for i in range(start, end):
            if not self.keys[i].startswith(prefix):
                break
            found.append(i)
        found.sort(key=lambda i: (-self.counts[i], self.keys[i]))
        return found[skip:skip + CANDIDATES]


class CompletionIndex:
    """The completion tables of one index: surface words and title texts."""

    def __init__(self, words: dict[str, int], texts: dict[tuple[str, str, str], int],
                 _tables: tuple | None = None) -> None:
        """``words``: surface word -> documents holding it; ``texts``: (text, lang, kind)
        -> how many titles hold it. (``_tables``: what :meth:`tables` gave, to load a
        cached index without sorting anything again.)"""
        if _tables is not None:
            word_rows, word_tops, text_rows, text_tops = _tables
            self._words = [tuple(r) for r in word_rows]
            self._texts = [tuple(r) for r in text_rows]
        else:
            self._words = sorted((fold(w), w, n) for w, n in words.items())
            self._texts = sorted((_key(text), text, lang, kind, n)
                                 for (text, lang, kind), n in texts.items())
            word_tops = text_tops = None
        self._word_table = _Table([k for k, _, _ in self._words], [n for *_, n in self._words],
                                  word_tops)
        self._text_table = _Table([k for k, *_ in self._texts], [e[-1] for e in self._texts],
                                  text_tops)
        self._lock = threading.Lock()
        self._case: dict[str, str | None] = {}
        self._analyzers: dict[str, Any] = {}

    def tables(self) -> tuple:
        """Everything :meth:`from_tables` needs, sorted and precomputed (marshal-able)."""
        return (self._words, self._word_table.tops, self._texts, self._text_table.tops)

    @classmethod
    def from_tables(cls, *tables: Any) -> CompletionIndex:
        return cls({}, {}, _tables=tables)

    def __len__(self) -> int:
        return len(self._words) + len(self._texts)

    def complete(self, typed: str, searcher: Any, lang: str | None = None,
                 limit: int = MAX_COMPLETIONS) -> list[Completion]:
        """Up to ``limit`` completions of ``typed`` (in ``lang`` only, when given).

        ``searcher`` (a Whoosh searcher of the same index) tells which language a word
        belongs to and how many documents hold its inflections.
        """
        limit = max(0, min(int(limit), MAX_COMPLETIONS))
        if lang is not None and lang not in LANGUAGES:
            lang = None  # "und" (unknown language) or anything else: every language
        typed = _SPACE.sub(" ", typed[:MAX_INPUT_CHARS]).lstrip()
        if not limit or not typed.strip():
            return []
        head, _, last = typed.rpartition(" ")
        words = self._complete_word(head, last, searcher, lang)
        texts = self._complete_text(typed, lang)
        # Words first (what is being typed), but leave room for titles and phrases.
        room = max(limit - min(len(texts), 3), limit // 2)
        out = words[:room]
        out += texts[:limit - len(out)]
        out += words[room:room + limit - len(out)]
        seen: set[tuple[str, str]] = set()
        unique = []
        for c in out:
            if (c.text.lower(), c.lang) not in seen:
                seen.add((c.text.lower(), c.lang))
                unique.append(c)
        return unique[:limit]

    def _complete_word(self, head: str, last: str, searcher: Any,
                       lang: str | None) -> list[Completion]:
        prefix = fold(last.lower())
        if not prefix or not WORDS.fullmatch(prefix):
            return []
        candidates = [self._words[i] for i in self._word_table.best(prefix)]
        if lang is not None and len(candidates) == CANDIDATES:
            # The most frequent words may all be the other language's: look further, once.
            candidates += [self._words[i] for i in self._word_table.best(prefix, CANDIDATES)]
        groups: dict[tuple[str, str], list] = {}  # (lang, term) -> [count, words]
        for folded, word, _n in candidates:
            if not _offerable(word):
                continue
            # A word belongs to the language where the most documents hold its inflections.
            counts = [(self._term_count(searcher, code, word), code)
                      for code in ([lang] if lang else list(LANGUAGES))]
            (term, count), code = max(counts, key=lambda c: c[0][1])
            if count:
                groups.setdefault((code, term), [count, []])[1].append((folded, word, _n))
        best: dict[str, tuple[int, str, str]] = {}
        for (code, term), (count, forms) in groups.items():
            # The lemma when the text has it, else the most frequent (then shortest) form.
            forms.sort(key=lambda f: (f[0] != term, -f[2], len(f[1]), f[1]))
            shown = forms[0][1]
            if shown not in best or count > best[shown][0]:
                best[shown] = (count, code, term)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))
        prefix_text = f"{head} " if head else ""
        out = []
        for word, (_count, code, _term) in ranked:
            cased = self._cased(word, searcher)
            if cased is not None:
                out.append(Completion(prefix_text + cased, code, "word"))
                if len(out) == MAX_COMPLETIONS:
                    break
        return out

    def _complete_text(self, typed: str, lang: str | None) -> list[Completion]:
        key = _key(typed)
        if len(key) < 2:
            return []
        out = []
        for i in self._text_table.best(key):
            _k, text, code, kind, _n = self._texts[i]
            if lang is None or code == lang:
                out.append(Completion(text, code, kind))
        return out

    def _cased(self, word: str, searcher: Any) -> str | None:
        """``word`` as the text writes it inside sentences: names keep their capitals
        (``Šaranović``, ``EU``), other words stay lowercase; None for an identifier written
        with capitals inside (``sArgs``). Looks at one document holding it (bounded: one
        stored document per word, remembered)."""
        with self._lock:
            if word in self._case:
                return self._case[word]
        cased: str | None = word
        with contextlib.suppress(Exception):  # a missing posting just keeps the lowercase
            for docnum in searcher.docs_for_query(_term_query(
                    _spelling_fields(searcher.schema), word)):
                stored = searcher.stored_fields(docnum)
                cased = _writing(word, f"{stored.get('title', '')}\n{stored.get('text', '')}")
                break
        with self._lock:
            if len(self._case) > 50_000:
                self._case.clear()
            self._case[word] = cased
        return cased


    def _term_count(self, searcher: Any, code: str, word: str) -> tuple[str, int]:
        """(term, documents of language ``code`` holding it) of ``word`` in that language's
        main analysis; ("", 0) when it has none (a stop word)."""
        language = LANGUAGES[code]
        analyzer = self._analyzers.get(code)
        if analyzer is None:
            analyzer = self._analyzers[code] = language.main.make_analyzer()
        field = language.field("body", language.main.name).name
        for token in analyzer(word, mode="query"):
            return token.text, searcher.doc_frequency(field, token.text)
        return "", 0


def _offerable(word: str) -> bool:
    """Words, not identifiers: no digits (``tabela1``, ``pica2``); see also :func:`_writing`.

    >>> [w for w in ["meja", "tabela1", "šaranović", "o'neill"] if _offerable(w)]
    ['meja', 'šaranović', "o'neill"]
    """
    return word.isalpha() or all(part.isalpha() for part in word.split("'"))


def _term_query(fields: list[str], text: str) -> Any:
    from whoosh import query

    return query.Or([query.Term(name, text) for name in fields])


def _spelling_fields(schema: Any) -> list[str]:
    """The fields of surface words (one per language, ``spell_sl``...; ``spell`` in indexes
    of engine format 1)."""
    return [name for name in schema.names() if is_spelling_field(name)]


def _writing(word: str, text: str, look: int = 20) -> str | None:
    """How ``text`` writes ``word`` where case means something: not at a sentence start;
    None for an identifier (capitals inside a lowercase word).

    >>> _writing("šaranović", "Minister Šaranović said. Šaranović left.")
    'Šaranović'
    >>> _writing("meja", "Meja je odprta. Na meji ni gneče, meja ostaja.")
    'meja'
    >>> _writing("eu", "Members of the EU met.") , _writing("sargs", "Set sArgs to 1.")
    ('EU', None)
    """
    forms: Counter[str] = Counter()
    for match in re.finditer(rf"\b{re.escape(word)}\b", text, re.IGNORECASE):
        before = text[max(0, match.start() - 3):match.start()].rstrip()
        if not before or before[-1] in ".!?:\n\"'«»„“(":
            continue  # a sentence start says nothing about case
        forms[match.group(0)] += 1
        if sum(forms.values()) >= look:
            break
    if len(forms) != 1:
        return word  # not seen inside a sentence, or written in several ways
    form = next(iter(forms))
    inner = form[1:]
    if form.isupper() or inner.islower() or not inner:
        return form  # a name (Šaranović), an acronym (EU) or a plain word
    return None  # an identifier (sArgs, tabeleOblika)


# -- building ------------------------------------------------------------------------------------


def _segment_data(leaf: Any) -> tuple[dict[str, int], list[tuple[int, str, str]]]:
    """(surface word -> documents, [(docnum, title, lang)]) of one segment."""
    words: Counter[str] = Counter()
    for name in _spelling_fields(leaf.schema):
        for term, info in leaf.iter_field(name):
            word = term.decode("utf-8") if isinstance(term, bytes) else term
            if not word.isdigit():
                words[word] += info.doc_frequency()
    titles = []
    for docnum in range(leaf.doc_count_all()):
        if leaf.is_deleted(docnum):
            continue
        stored = leaf.stored_fields(docnum)
        title = (stored.get("title") or "").strip()
        if title:
            titles.append((docnum, title, stored.get("lang", "")))
    return dict(words), titles


def _segment_id(leaf: Any) -> str | None:
    try:
        segment = leaf.segment()
        return segment.segment_id() if segment is not None else None
    except (AttributeError, NotImplementedError):
        return None


def _texts_of(titles: Iterable[tuple[str, str]]) -> Counter[tuple[str, str, str]]:
    """Title and phrase entries: ``(text, lang, kind)`` -> how many titles hold it."""
    out: Counter[tuple[str, str, str]] = Counter()
    for title, lang in titles:
        if len(title) <= MAX_TITLE_CHARS:
            out[(title, lang, "title")] += 1
        words = WORDS.findall(title)
        stop = LANGUAGES[lang].stop_words if lang in LANGUAGES else frozenset()
        for a, b in dict.fromkeys(zip(words, words[1:], strict=False)):
            if a.lower() in stop or b.lower() in stop or a.isdigit() or b.isdigit():
                continue
            phrase = f"{a} {b}"
            # Lowercase unless the title writes it as a name (capitals after the first word).
            out[(phrase if b[:1].isupper() else phrase.lower(), lang, "phrase")] += 1
    return out


def completions_for_reader(reader: Any, folder: str | Path | None = None) -> CompletionIndex:
    """The :class:`CompletionIndex` of a Whoosh reader, cached in ``folder`` (the index
    generation's folder) per segment and for the whole set of segments."""
    folder = Path(folder) if folder is not None else None
    if not reader.doc_count_all():
        return CompletionIndex({}, {})  # an empty index has no segments to read
    leaves = list(reader.leaf_readers())
    ids = [_segment_id(leaf) for leaf, _base in leaves]
    deleted = tuple(leaf.doc_count_all() - leaf.doc_count() for leaf, _base in leaves)
    cacheable = folder is not None and all(ids)
    key = ("completions", FORMAT, tuple(ids), deleted)
    if cacheable:
        found = read_cache(folder / CACHE_FILE, key)
        if found is not None:
            return CompletionIndex.from_tables(*found)
    words: Counter[str] = Counter()
    titles: list[tuple[str, str]] = []
    for (leaf, _base), seg in zip(leaves, ids, strict=True):
        data = None
        path = folder / f"{SEGMENT_CACHE_PREFIX}{seg}.marshal" if cacheable else None
        segment_key = ("segment", FORMAT, seg, leaf.doc_count())
        if path is not None:
            data = read_cache(path, segment_key)
        if data is None:
            data = _segment_data(leaf)
            if path is not None:
                write_cache(path, segment_key, data)
        seg_words, seg_titles = data
        words.update(seg_words)
        titles.extend((title, lang) for _doc, title, lang in seg_titles)
    texts = {k: n for k, n in _texts_of(titles).items() if k[2] != "phrase" or n >= 2}
    index = CompletionIndex(dict(words), texts)
    if cacheable:
        write_cache(folder / CACHE_FILE, key, index.tables())
        _remove_stale(folder, {f"{SEGMENT_CACHE_PREFIX}{seg}.marshal" for seg in ids})
    return index


def _remove_stale(folder: Path, keep: set[str]) -> None:
    """Segment caches of segments merged away since."""
    for path in folder.glob(f"{SEGMENT_CACHE_PREFIX}*.marshal"):
        if path.name not in keep:
            with contextlib.suppress(OSError):
                path.unlink()


class CompletionSource:
    """The completion table of an index as it changes: built on first use, then rebuilt in
    a background thread after a commit while the previous table keeps answering (a
    visitor typing never waits for a rebuild)."""

    def __init__(self) -> None:
        self._index: CompletionIndex | None = None
        self._built_for: int | None = None  # id() of the reader it was built from
        self._building = False
        self._lock = threading.Lock()

    def get(self, ix: Any, reader: Any, folder: str | Path | None) -> CompletionIndex:
        """The table for ``reader`` (a reader of ``ix``), or the previous one while that
        is being built."""
        with self._lock:
            index, current = self._index, self._built_for == id(reader)
            if index is not None and (current or self._building):
                return index
            if index is not None:
                self._building = True
        if index is None:
            index = completions_for_reader(reader, folder)
            with self._lock:
                self._index, self._built_for = index, id(reader)
            return index
        # In a copy of this context: languages registered for a while are still registered.
        threading.Thread(target=contextvars.copy_context().run,
                         args=(self._rebuild, ix, id(reader), folder),
                         name="completions", daemon=True).start()
        return index

    def _rebuild(self, ix: Any, reader_id: int, folder: str | Path | None) -> None:
        try:
            with ix.reader() as reader:  # its own reader: the searcher's may be closed
                index = completions_for_reader(reader, folder)
            with self._lock:
                self._index, self._built_for = index, reader_id
        except Exception:  # noqa: BLE001 - keep the previous table
            import logging

            logging.getLogger(__name__).warning("Rebuilding completions failed",
                                                exc_info=True)
        finally:
            with self._lock:
                self._building = False
