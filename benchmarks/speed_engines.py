"""The engines compared by ``benchmarks/speed.py``, and the subprocess worker that measures one.

Every measurement runs in a fresh process, so peak memory and start-up costs belong to one
engine and one task only::

    python benchmarks/speed_engines.py build ENGINE CORPUS DIR PROCS
    python benchmarks/speed_engines.py query ENGINE DIR QUERIES [--budget S] [--runs N] ...
    python benchmarks/speed_engines.py first ENGINE DIR QUERY
    python benchmarks/speed_engines.py incremental FOLDER DIR CHANGES
    python benchmarks/speed_engines.py profile-index CORPUS DIR
    python benchmarks/speed_engines.py profile-query DIR QUERIES N

``build`` and ``query`` print one JSON object on stdout. Imports are lazy: ``first`` measures
the cold start of one engine (interpreter, imports, opening the index, one query with
snippets), so this module must not import anything heavy at the top.

Engines:

- ``ours``: this project (``search.indexer.index_paths``, ``search.searcher.SearchIndex``) with
  its full bilingual analysis, language detection, facets and its own snippets.
- ``whoosh-std`` / ``whoosh-stem``: plain Whoosh, ``id``/``title``/``body`` (title and body
  stored), ``StandardAnalyzer`` or the Porter2 ``StemmingAnalyzer``, BM25F defaults,
  ``MultifieldParser`` over title+body (``OrGroup`` or ``AndGroup``), snippets from
  ``hit.highlights("body")``. Both cores: ``writer(procs=2, multisegment=True)``, exactly as
  the project's indexer does.
- ``tantivy``: the Python ``tantivy`` package, default tokenizer, on-disk index, title+body
  stored, snippets from ``SnippetGenerator`` over body; both cores: ``num_threads=2``.
- ``fts5``: SQLite FTS5 ``unicode61 remove_diacritics 2`` in an on-disk database, ranked by
  ``bm25()``, snippets from ``snippet()``; single-threaded (no parallel build exists).

The peers get the query's word tokens (lower-cased runs of letters and digits, as in
``benchmarks/peers.py``) because their query syntaxes raise on characters such as ``"`` or
``:``; ``ours`` gets the query exactly as typed. "OR" joins the words with OR; "AND" requires
all of them (the project's ``mode="and"``).
"""

from __future__ import annotations

import json
import re
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ENGINES = ("ours", "whoosh-std", "whoosh-stem", "tantivy", "fts5")
CONFIGS = ("or", "or+snip", "and", "and+snip")
WORD = re.compile(r"[^\W_]+")
TANTIVY_HEAP = 128_000_000
#: Warm-up stops after this long; a pass over the query sample stops once it has measured
#: MIN_PASS_QUERIES queries and run for PASS_CAP_BUDGETS times the repetition budget.
WARMUP_CAP_S = 10.0
MIN_PASS_QUERIES = 100
PASS_CAP_BUDGETS = 2.0
#: Where query workers note how many queries each pass measured (outside the work folder,
#: which a run deletes at the end).
NOTES = ROOT / "benchmarks" / "work" / "speed-query-notes.jsonl"


def words(text: str) -> list[str]:
    """The query's word tokens, lower-cased, in order, without duplicates."""
    return list(dict.fromkeys(w.lower() for w in WORD.findall(text)))


def read_records(path: str | Path):
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


# -- engines --------------------------------------------------------------------------------

class Engine:
    name = "engine"

    def build(self, corpus: str, path: str, procs: int) -> int:
        """Index ``corpus`` (JSONL) into the empty folder ``path``; the number of documents."""
        raise NotImplementedError

    def open(self, path: str) -> None:
        raise NotImplementedError

    def search(self, text: str, mode: str, snippets: bool) -> list:
        """The top 10 as (id, title, snippet) tuples."""
        raise NotImplementedError


class Ours(Engine):
    name = "ours"

    def build(self, corpus: str, path: str, procs: int) -> int:
        from search.indexer import index_paths

        return index_paths([corpus], path, rebuild=True, procs=procs).indexed

    def open(self, path: str) -> None:
        from search.searcher import SearchIndex

        self._path = path
        self._ix = {"or": SearchIndex(path, mode="or")}

    def search(self, text: str, mode: str, snippets: bool) -> list:
        if mode not in self._ix:
            from search.searcher import SearchIndex

            self._ix[mode] = SearchIndex(self._path, mode=mode)
        res = self._ix[mode].search(text, per_page=10, snippets=snippets)
        return [(h.id, h.title, h.snippet) for h in res.hits]

    def reset(self) -> None:
        """Forget the scored postings cached from earlier queries: every pass over the sample
        starts without them (repeating the same queries would otherwise hit it every time)."""
        for ix in self._ix.values():
            ix.clear_cache()


class PlainWhoosh(Engine):
    def __init__(self, stemming: bool) -> None:
        self.stemming = stemming
        self.name = "whoosh-stem" if stemming else "whoosh-std"

    def build(self, corpus: str, path: str, procs: int) -> int:
        from whoosh import index as windex
        from whoosh.analysis import StandardAnalyzer, StemmingAnalyzer
        from whoosh.fields import ID, TEXT, Schema

        make = StemmingAnalyzer if self.stemming else StandardAnalyzer
        schema = Schema(id=ID(stored=True, unique=True),
                        title=TEXT(analyzer=make(), stored=True),
                        body=TEXT(analyzer=make(), stored=True))
        ix = windex.create_in(path, schema)
        writer = ix.writer(procs=procs, multisegment=True) if procs > 1 else ix.writer()
        n = 0
        for r in read_records(corpus):
            writer.add_document(id=r["id"], title=r["title"], body=r["text"])
            n += 1
        writer.commit()
        return n

    def open(self, path: str) -> None:
        from whoosh import index as windex
        from whoosh.qparser import AndGroup, MultifieldParser, OrGroup

        ix = windex.open_dir(path)
        self._searcher = ix.searcher()
        self._parsers = {
            "or": MultifieldParser(["title", "body"], ix.schema, group=OrGroup),
            "and": MultifieldParser(["title", "body"], ix.schema, group=AndGroup),
        }

    def search(self, text: str, mode: str, snippets: bool) -> list:
        terms = words(text)
        if not terms:
            return []
        q = self._parsers[mode].parse(" ".join(terms))
        out = []
        for hit in self._searcher.search(q, limit=10):
            out.append((hit["id"], hit["title"], hit.highlights("body") if snippets else ""))
        return out


class Tantivy(Engine):
    name = "tantivy"

    def build(self, corpus: str, path: str, procs: int) -> int:
        import tantivy

        sb = tantivy.SchemaBuilder()
        sb.add_text_field("id", stored=True, tokenizer_name="raw")
        sb.add_text_field("title", stored=True)
        sb.add_text_field("body", stored=True)
        index = tantivy.Index(sb.build(), path=path)
        writer = index.writer(heap_size=TANTIVY_HEAP, num_threads=procs)
        n = 0
        for r in read_records(corpus):
            writer.add_document(tantivy.Document(id=r["id"], title=r["title"], body=r["text"]))
            n += 1
        writer.commit()
        writer.wait_merging_threads()
        return n

    def open(self, path: str) -> None:
        import tantivy

        self._tantivy = tantivy
        self._index = tantivy.Index.open(path)
        self._schema = self._index.schema
        self._searcher = self._index.searcher()

    def search(self, text: str, mode: str, snippets: bool) -> list:
        terms = words(text)
        if not terms:
            return []
        q = self._index.parse_query(" ".join(terms), ["title", "body"],
                                    conjunction_by_default=(mode == "and"))
        s = self._searcher
        gen = (self._tantivy.SnippetGenerator.create(s, q, self._schema, "body")
               if snippets else None)
        out = []
        for _score, addr in s.search(q, 10).hits:
            doc = s.doc(addr)
            snip = gen.snippet_from_doc(doc).to_html() if gen is not None else ""
            out.append((doc["id"][0], doc["title"][0], snip))
        return out


class Fts5(Engine):
    name = "fts5"

    def build(self, corpus: str, path: str, procs: int) -> int:
        import sqlite3

        db = sqlite3.connect(str(Path(path) / "fts.db"))
        db.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, "
                   "tokenize='unicode61 remove_diacritics 2')")
        n = 0

        def rows():
            nonlocal n
            for r in read_records(corpus):
                n += 1
                yield r["id"], r["title"], r["text"]

        db.executemany("INSERT INTO docs (id, title, body) VALUES (?, ?, ?)", rows())
        db.commit()
        db.execute("INSERT INTO docs(docs) VALUES ('optimize')")
        db.commit()
        db.close()
        return n

    def open(self, path: str) -> None:
        import sqlite3

        self._db = sqlite3.connect(str(Path(path) / "fts.db"))

    def search(self, text: str, mode: str, snippets: bool) -> list:
        terms = words(text)
        if not terms:
            return []
        quoted = [f'"{t}"' for t in terms]  # word tokens hold no '"': quoting is safe
        match = " OR ".join(quoted) if mode == "or" else " ".join(quoted)
        snip = "snippet(docs, 2, '<b>', '</b>', '…', 24)" if snippets else "''"
        return self._db.execute(f"SELECT id, title, {snip} FROM docs WHERE docs MATCH ? "
                                "ORDER BY rank LIMIT 10", (match,)).fetchall()


class OursWithoutPairing(Ours):
    """Ours built with ``find_translations=False`` (``search-cli index
    --no-find-translations``): what finding translations costs at index time. Builds only."""

    name = "ours-nopair"

    def build(self, corpus: str, path: str, procs: int) -> int:
        from search.indexer import index_paths

        return index_paths([corpus], path, rebuild=True, procs=procs,
                           find_translations=False).indexed


def make_engine(name: str) -> Engine:
    return {"ours": Ours, "ours-nopair": OursWithoutPairing,
            "whoosh-std": lambda: PlainWhoosh(False),
            "whoosh-stem": lambda: PlainWhoosh(True), "tantivy": Tantivy,
            "fts5": Fts5}[name]()


# -- worker commands ------------------------------------------------------------------------

def _peak_rss_kb() -> int:
    """This process's own peak RSS: ``VmHWM``, which starts afresh at ``exec``, where
    ``ru_maxrss`` keeps the RSS the benchmark's parent had when it forked this worker (so
    every small engine used to show the parent's size)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _maxrss_kb() -> dict:
    return {"maxrss_self_kb": _peak_rss_kb(),
            "maxrss_children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}


def cmd_build(engine: str, corpus: str, path: str, procs: int) -> dict:
    eng = make_engine(engine)
    started = time.perf_counter()
    docs = eng.build(corpus, path, procs)
    seconds = time.perf_counter() - started
    return {"docs": docs, "seconds": seconds, **_maxrss_kb()}


def cmd_query(engine: str, path: str, queries: str, budget: float, runs: int,
              warmup: int, configs: list[str]) -> dict:
    texts = [q["text"] for q in read_records(queries)]
    eng = make_engine(engine)
    started = time.perf_counter()
    eng.open(path)
    out: dict = {"open_s": time.perf_counter() - started, "configs": {}}
    for config in configs:
        mode, snip = config.split("+")[0], config.endswith("+snip")
        t_warm = time.perf_counter()
        for text in texts[:warmup]:
            eng.search(text, mode, snip)
            if time.perf_counter() - t_warm > WARMUP_CAP_S:
                break
        passes, hits, spent = [], 0, 0.0
        while len(passes) < runs and (not passes or spent < budget):
            if hasattr(eng, "reset"):
                eng.reset()
            lat = []
            t_pass = time.perf_counter()
            for text in texts:
                t0 = time.perf_counter()
                found = eng.search(text, mode, snip)
                lat.append((time.perf_counter() - t0) * 1000)
                hits += len(found)
                # A very slow engine: the first MIN_PASS_QUERIES of the (random) sample only.
                if (len(lat) >= MIN_PASS_QUERIES
                        and time.perf_counter() - t_pass > PASS_CAP_BUDGETS * budget):
                    break
            spent += time.perf_counter() - t_pass
            passes.append(lat)
        out["configs"][config] = {"passes": passes,
                                  "mean_hits": hits / sum(len(p) for p in passes),
                                  "queries": [len(p) for p in passes]}
        with open(NOTES, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"engine": engine, "path": path, "config": config,
                                 "queries": [len(p) for p in passes], "of": len(texts),
                                 "time": time.time()}) + "\n")
    out.update(_maxrss_kb())
    return out


def extra_modes() -> tuple[str, ...]:
    """Query modes of ours beyond "or" and "and" (the peers have no equivalent)."""
    try:
        from search.query import MODES
    except ImportError:
        return ()
    return tuple(m for m in MODES if m not in ("or", "and"))


def cmd_first(engine: str, path: str, query: str) -> None:
    eng = make_engine(engine)
    eng.open(path)
    found = eng.search(query, "or", True)
    print(len(found))


def cmd_incremental(folder: str, path: str, changes: int) -> dict:
    """Index a folder of .txt files, then time re-runs: nothing changed, one file changed."""
    from search.indexer import index_paths

    started = time.perf_counter()
    first = index_paths([folder], path)
    out: dict = {"initial_s": time.perf_counter() - started, "initial_docs": first.indexed,
                 "problems": len(first.problems)}
    started = time.perf_counter()
    same = index_paths([folder], path)
    out["unchanged_s"] = time.perf_counter() - started
    out["unchanged_indexed"] = same.indexed
    files = sorted(Path(folder).rglob("*.txt"))
    runs = []
    for i in range(changes):
        target = files[(i * 7919) % len(files)]
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(f"\nEdited once more, revision {i + 1}.\n")
        started = time.perf_counter()
        rep = index_paths([folder], path)
        runs.append({"seconds": time.perf_counter() - started, "updated": rep.updated,
                     "added": rep.added, "deleted": rep.deleted})
    out["changed"] = runs
    out.update(_maxrss_kb())
    return out


def cmd_profile_index(corpus: str, path: str) -> str:
    import cProfile

    from search.indexer import index_paths

    prof = cProfile.Profile()
    prof.enable()
    index_paths([corpus], path, rebuild=True, procs=1)
    prof.disable()
    return _profile_text(prof)


def cmd_profile_query(path: str, queries: str, n: int) -> str:
    import cProfile

    from search.searcher import SearchIndex

    texts = [q["text"] for q in read_records(queries)][:n]
    ix = SearchIndex(path, mode="or")
    for text in texts[:10]:
        ix.search(text, per_page=10, snippets=True)
    prof = cProfile.Profile()
    prof.enable()
    for text in texts:
        ix.search(text, per_page=10, snippets=True)
    prof.disable()
    return _profile_text(prof)


def _profile_text(prof) -> str:
    """Top 15 by cumulative time and top 15 by own time, paths shortened."""
    import pstats

    stats = pstats.Stats(prof)
    total = stats.total_tt
    def where(func: tuple) -> str:
        file, line, name = func
        if file == "~":
            return name
        p = Path(file)
        parts = p.parts
        for anchor in ("site-packages", "lib"):
            if anchor in parts:
                i = len(parts) - 1 - parts[::-1].index(anchor)
                return f"{'/'.join(parts[i + 1:])}:{line}({name})"
        try:
            return f"{p.relative_to(ROOT)}:{line}({name})"
        except ValueError:
            return f"{p.name}:{line}({name})"

    rows = []
    for func, (_cc, nc, tt, ct, _callers) in stats.stats.items():
        rows.append((where(func), nc, tt, ct))
    lines = [f"total {total:.2f} s (under cProfile)", "",
             "top 15 by cumulative time:", "",
             f"{'cum s':>8} {'own s':>8} {'calls':>10}  function"]
    for name, nc, tt, ct in sorted(rows, key=lambda r: -r[3])[:15]:
        lines.append(f"{ct:8.2f} {tt:8.2f} {nc:10d}  {name}")
    lines += ["", "top 15 by own time:", "",
              f"{'own s':>8} {'cum s':>8} {'calls':>10}  function"]
    for name, nc, tt, ct in sorted(rows, key=lambda r: -r[2])[:15]:
        lines.append(f"{tt:8.2f} {ct:8.2f} {nc:10d}  {name}")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("engine", choices=(*ENGINES, "ours-nopair"))
    b.add_argument("corpus")
    b.add_argument("path")
    b.add_argument("procs", type=int)
    q = sub.add_parser("query")
    q.add_argument("engine", choices=ENGINES)
    q.add_argument("path")
    q.add_argument("queries")
    q.add_argument("--budget", type=float, default=45.0,
                   help="Stop repeating a configuration after this many seconds.")
    q.add_argument("--runs", type=int, default=3)
    q.add_argument("--warmup", type=int, default=30)
    q.add_argument("--configs", default=",".join(CONFIGS))
    f = sub.add_parser("first")
    f.add_argument("engine", choices=ENGINES)
    f.add_argument("path")
    f.add_argument("query")
    inc = sub.add_parser("incremental")
    inc.add_argument("folder")
    inc.add_argument("path")
    inc.add_argument("changes", type=int)
    pi = sub.add_parser("profile-index")
    pi.add_argument("corpus")
    pi.add_argument("path")
    pq = sub.add_parser("profile-query")
    pq.add_argument("path")
    pq.add_argument("queries")
    pq.add_argument("n", type=int)
    a = ap.parse_args(argv)
    if a.cmd == "build":
        print(json.dumps(cmd_build(a.engine, a.corpus, a.path, a.procs)))
    elif a.cmd == "query":
        print(json.dumps(cmd_query(a.engine, a.path, a.queries, a.budget, a.runs, a.warmup,
                                   a.configs.split(","))))
    elif a.cmd == "first":
        cmd_first(a.engine, a.path, a.query)
    elif a.cmd == "incremental":
        print(json.dumps(cmd_incremental(a.folder, a.path, a.changes)))
    elif a.cmd == "profile-index":
        print(cmd_profile_index(a.corpus, a.path))
    elif a.cmd == "profile-query":
        print(cmd_profile_query(a.path, a.queries, a.n))


if __name__ == "__main__":
    main(sys.argv[1:])
