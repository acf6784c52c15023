"""Peer engines for the quality benchmark, each behind the harness's engine interface.

Every peer indexes the protocol's records (id, title, text) in RAM or a temporary folder and
answers ``search(text, lang, limit)``. Peers have no language detection: they ignore ``lang``
and the harness filters their results by the ground-truth language of the documents.

Queries are sanitised to plain word tokens (runs of letters and digits, lower-cased) joined as
an OR of terms, because the peers' query syntaxes (tantivy, FTS5, Whoosh) would raise on, or
reinterpret, characters such as ``"``, ``:``, ``(``, ``-`` or the words AND/OR/NOT.

- ``tantivy``: default tokenizer; ``tantivy-en``: ``en_stem`` tokenizer (English targets);
  title and body fields, BM25 (k1=1.2, b=0.75) summed over fields.
- ``fts5``: SQLite FTS5 ``unicode61 remove_diacritics 2``; ``fts5-porter``: the same with the
  porter stemmer (English targets); ranked by ``bm25()``.
- ``bm25s-en``: bm25s (k1=1.5, b=0.75) with PyStemmer's English stemmer and English stop words
  (English targets); ``bm25s-sr``: the Snowball *Serbian* stemmer, the nearest South Slavic
  one available (there is no Slovenian Snowball stemmer), no stop words (Slovenian targets).
- ``whoosh``: plain Whoosh, title+body ``TEXT(StandardAnalyzer())``, BM25F defaults,
  ``MultifieldParser(["title", "body"], group=OrGroup)``.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import tempfile
from collections.abc import Callable

WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The query's word tokens, lower-cased, in order, without duplicates."""
    return list(dict.fromkeys(w.lower() for w in WORD.findall(text)))


class Peer:
    """Base of the peer engines: no language detection, applicable to some target languages."""

    name = "peer"
    detects_language = False
    #: target languages of the tasks the peer is meant for (English collections count as "en");
    #: None: every task
    targets: frozenset[str] | None = None

    def applies_to(self, target_lang: str | None) -> bool:
        """Whether the peer runs on a task with this target language (None: English collection)."""
        return self.targets is None or (target_lang or "en") in self.targets

    def close(self) -> None:
        """Release the index."""


class TantivyPeer(Peer):
    """tantivy (RAM index), title + body with the given tokenizer."""

    def __init__(self, tokenizer: str = "default", name: str | None = None,
                 targets: frozenset[str] | None = None) -> None:
        self.tokenizer = tokenizer
        self.name = name or ("tantivy" if tokenizer == "default" else f"tantivy-{tokenizer}")
        self.targets = targets
        self._index = None
        self._searcher = None

    def index(self, records: list[dict]) -> None:
        import tantivy

        sb = tantivy.SchemaBuilder()
        sb.add_text_field("id", stored=True, tokenizer_name="raw")
        sb.add_text_field("title", tokenizer_name=self.tokenizer)
        sb.add_text_field("body", tokenizer_name=self.tokenizer)
        index = tantivy.Index(sb.build())  # no path: in RAM
        writer = index.writer(heap_size=200_000_000, num_threads=1)
        for r in records:
            writer.add_document(tantivy.Document(id=r["id"], title=r["title"], body=r["text"]))
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        self._index = index
        self._searcher = index.searcher()

    def search(self, text: str, lang: str | None, limit: int) -> list[tuple[str, float]]:
        terms = words(text)
        if not terms or self._index is None:
            return []
        query = self._index.parse_query(" ".join(terms), ["title", "body"])
        searcher = self._searcher
        hits = searcher.search(query, limit, count=False).hits
        return [(searcher.doc(addr)["id"][0], float(s)) for s, addr in hits]

    def close(self) -> None:
        self._index = self._searcher = None


class Fts5Peer(Peer):
    """SQLite FTS5 (in-memory database), title + body columns, ranked by bm25()."""

    def __init__(self, tokenize: str = "unicode61 remove_diacritics 2", name: str | None = None,
                 targets: frozenset[str] | None = None) -> None:
        self.tokenize = tokenize
        self.name = name or "fts5"
        self.targets = targets
        self._db: sqlite3.Connection | None = None

    def index(self, records: list[dict]) -> None:
        self.close()
        db = sqlite3.connect(":memory:")
        tok = self.tokenize.replace("'", "''")
        db.execute(f"CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, "
                   f"tokenize='{tok}')")
        db.executemany("INSERT INTO docs (id, title, body) VALUES (?, ?, ?)",
                       ((r["id"], r["title"], r["text"]) for r in records))
        db.commit()
        db.execute("INSERT INTO docs(docs) VALUES ('optimize')")
        self._db = db

    def search(self, text: str, lang: str | None, limit: int) -> list[tuple[str, float]]:
        terms = words(text)
        if not terms or self._db is None:
            return []
        match = " OR ".join(f'"{t}"' for t in terms)  # tokens hold no '"': quoting is safe
        rows = self._db.execute("SELECT id, rank FROM docs WHERE docs MATCH ? ORDER BY rank "
                                "LIMIT ?", (match, limit)).fetchall()
        return [(doc, -float(rank)) for doc, rank in rows]  # bm25(): lower is better

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _english_stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def _serbian_stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("serbian")


class Bm25sPeer(Peer):
    """bm25s over title + text as one field (it has no fields), with a stemmer and stop words."""

    def __init__(self, stemmer: Callable[[], object] | None = None,
                 stopwords: str | list[str] | None = None, name: str = "bm25s",
                 targets: frozenset[str] | None = None, k1: float = 1.5,
                 b: float = 0.75) -> None:
        self.name = name
        self.targets = targets
        self.k1 = k1
        self.b = b
        self._stemmer = stemmer() if stemmer else None
        self._stopwords = stopwords or []
        self._retriever = None
        self._ids: list[str] = []

    def _tokenize(self, texts: list[str], return_ids: bool):
        import bm25s

        return bm25s.tokenize(texts, stopwords=self._stopwords, stemmer=self._stemmer,
                              return_ids=return_ids, show_progress=False)

    def index(self, records: list[dict]) -> None:
        import bm25s

        self._ids = [r["id"] for r in records]
        corpus = [f"{r['title']}\n{r['text']}" for r in records]
        retriever = bm25s.BM25(k1=self.k1, b=self.b)
        retriever.index(self._tokenize(corpus, return_ids=True), show_progress=False)
        self._retriever = retriever

    def search(self, text: str, lang: str | None, limit: int) -> list[tuple[str, float]]:
        import numpy as np

        if self._retriever is None:
            return []
        vocab = self._retriever.vocab_dict
        tokens = [t for t in self._tokenize([text], return_ids=False)[0] if t in vocab]
        if not tokens:
            return []
        scores = self._retriever.get_scores(tokens)
        k = min(limit, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self._ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def close(self) -> None:
        self._retriever = None


class WhooshPeer(Peer):
    """Plain Whoosh: title + body TEXT(StandardAnalyzer()), BM25F defaults, OR of terms."""

    def __init__(self, name: str = "whoosh", targets: frozenset[str] | None = None) -> None:
        self.name = name
        self.targets = targets
        self._dir: str | None = None
        self._ix = None
        self._searcher = None
        self._parser = None

    def index(self, records: list[dict]) -> None:
        from whoosh import index as windex
        from whoosh.analysis import StandardAnalyzer
        from whoosh.fields import ID, TEXT, Schema
        from whoosh.qparser import MultifieldParser, OrGroup

        self.close()
        schema = Schema(id=ID(stored=True, unique=True), title=TEXT(analyzer=StandardAnalyzer()),
                        body=TEXT(analyzer=StandardAnalyzer()))
        self._dir = tempfile.mkdtemp(prefix="whoosh-peer-")
        ix = windex.create_in(self._dir, schema)
        writer = ix.writer(limitmb=256)
        for r in records:
            writer.add_document(id=r["id"], title=r["title"], body=r["text"])
        writer.commit()
        self._ix = ix
        self._searcher = ix.searcher()
        self._parser = MultifieldParser(["title", "body"], schema, group=OrGroup)

    def search(self, text: str, lang: str | None, limit: int) -> list[tuple[str, float]]:
        terms = words(text)
        if not terms or self._searcher is None:
            return []
        query = self._parser.parse(" ".join(terms))
        return [(hit["id"], float(hit.score)) for hit in self._searcher.search(query, limit=limit)]

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
        if self._ix is not None:
            self._ix.close()
        self._ix = self._searcher = self._parser = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


EN = frozenset({"en"})
SL = frozenset({"sl"})

#: peer name -> factory; every run creates fresh instances
PEERS: dict[str, Callable[[], Peer]] = {
    "tantivy": lambda: TantivyPeer("default"),
    "tantivy-en": lambda: TantivyPeer("en_stem", name="tantivy-en", targets=EN),
    "fts5": lambda: Fts5Peer("unicode61 remove_diacritics 2"),
    "fts5-porter": lambda: Fts5Peer("porter unicode61 remove_diacritics 2", name="fts5-porter",
                                    targets=EN),
    "bm25s-en": lambda: Bm25sPeer(_english_stemmer, "en", name="bm25s-en", targets=EN),
    "bm25s-sr": lambda: Bm25sPeer(_serbian_stemmer, None, name="bm25s-sr", targets=SL),
    "whoosh": lambda: WhooshPeer(),
}
