"""What spelling correction costs: ours (``search/spelling.py``) beside Whoosh's own corrector,
on the LibreOffice help, writing the ``spelling`` section of RESULTS.md.

The queries are the ``zero``, ``unknown10`` and ``typo`` kinds of the hard-query sample
(``benchmarks/hard_queries.py``: made from the corpus's own text with a fixed seed, never
from the evaluation queries) plus the ten unknown three-letter words of issue 12. Each query
is searched in fresh processes (``--processes``, default 3), so "first" is a search with
nothing cached and "again" the same search repeated in the same process; ours is timed with
correction on and off (``correct=False``), which isolates what correcting adds. Whoosh's
corrector (``searcher.corrector(field).suggest(word, limit=1, maxdist=2)`` over the same
index's spelling fields, as the engine used before) is timed on the same words, once a
process (it takes seconds a query). Also: the time to remake the vocabulary after a commit
that added one document, from the per-segment tables, against remaking it from nothing.

    python benchmarks/spelling.py            # builds the help index under benchmarks/work
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _results import EVAL, markdown_table, write_section  # noqa: E402

WORK = ROOT / "benchmarks" / "work" / "spelling"
KINDS = ("zero", "unknown10", "typo")
ISSUE_QUERY = "hkq zqv wxj pqf kvz jjq bbq xxv qqz wwk"


def corpus() -> Path:
    """The help, id/title/text only (the evaluation protocol: no ``lang``, no ``pair_id``)."""
    out = WORK / "help.jsonl"
    if not out.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        with (EVAL / "libreoffice-help" / "docs.jsonl").open(encoding="utf-8") as f, \
                out.open("w", encoding="utf-8") as g:
            for line in f:
                d = json.loads(line)
                g.write(json.dumps({k: d[k] for k in ("id", "title", "text")},
                                   ensure_ascii=False) + "\n")
    return out


def sample(path: Path) -> list[dict]:
    from hard_queries import make

    queries = [q for q in make(path) if q["kind"] in KINDS]
    return queries + [{"id": "issue-12", "kind": "unknown10", "text": ISSUE_QUERY}]


def worker(index: str, queries: list[dict], whoosh: bool) -> dict:
    """One process: every query first with correction, again, and without correction."""
    from search import SearchIndex

    out: dict = {}
    with SearchIndex(index) as ix:
        ix.search("warm up the index", correct=False, snippets=False)
        for q in queries:
            row = {}
            for name, correct in (("first", True), ("again", True), ("off", False)):
                t = time.perf_counter()
                res = ix.search(q["text"], correct=correct, snippets=False)
                row[name] = (time.perf_counter() - t) * 1000
            row["suggestion"] = res_text(ix.search(q["text"], snippets=False))
            del res
            out[q["id"]] = row
    if whoosh:
        from whoosh import index as windex

        gen = Path(index).resolve()
        gen = gen / "current" if (gen / "current").exists() else gen
        wix = windex.open_dir(str(gen.resolve()))
        fields = [n for n in wix.schema.names() if n.startswith("spell_")]
        with wix.searcher() as s:
            correctors = [s.corrector(f) for f in fields]
            for q in queries:
                t = time.perf_counter()
                for word in q["text"].lower().split():
                    for c in correctors:
                        c.suggest(word, limit=1, maxdist=2)
                out[q["id"]]["whoosh"] = (time.perf_counter() - t) * 1000
    return out


def res_text(results) -> str:
    return (results.corrected or results.suggestion or "") if results else ""


def vocabulary_times(index: Path, reps: int) -> dict[str, float]:
    """Seconds to remake the vocabulary: after a one-document commit (the per-segment tables
    of the old segments are reused) and from nothing (the tables removed first)."""
    from search import SearchIndex
    from search.spelling import SEGMENTS_FILE, VOCABULARY_FILE, save_vocabulary
    from search.storage import open_index

    copy = WORK / "vocab-index"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(index, copy, symlinks=True)
    with SearchIndex(copy) as six, six.writer() as w:
        w.add({"id": "spelling-bench", "title": "Benchmark", "text": "Prepišite besedilo."})
    incremental, full = [], []
    for _ in range(reps):
        ix, gen = open_index(copy)
        (gen / VOCABULARY_FILE).unlink(missing_ok=True)
        t = time.perf_counter()
        save_vocabulary(ix, gen)
        incremental.append(time.perf_counter() - t)
        (gen / VOCABULARY_FILE).unlink(missing_ok=True)
        (gen / SEGMENTS_FILE).unlink(missing_ok=True)
        t = time.perf_counter()
        save_vocabulary(ix, gen)
        full.append(time.perf_counter() - t)
        ix.close()
    return {"incremental": statistics.median(incremental), "full": statistics.median(full)}


def render(queries: list[dict], runs: list[dict], vocab: dict[str, float], docs: int) -> str:
    def med(qid: str, key: str) -> float | None:
        vals = [r[qid][key] for r in runs if key in r[qid]]
        return statistics.median(vals) if vals else None

    rows, by_kind = [], {}
    for kind in KINDS:
        ids = [q["id"] for q in queries if q["kind"] == kind]
        cells = {k: [med(i, k) for i in ids] for k in ("first", "again", "off", "whoosh")}
        by_kind[kind] = cells
        row: list[object] = [kind, len(ids)]
        for k in ("first", "again", "off", "whoosh"):
            vals = [v for v in cells[k] if v is not None]
            row.append(f"{statistics.median(vals):.1f} / {max(vals):.1f}" if vals else "–")
        rows.append(row)
    issue = {k: med("issue-12", k) for k in ("first", "again", "off", "whoosh")}
    examples = [[q["kind"], f"`{q['text'][:60]}`", f"`{runs[0][q['id']]['suggestion'] or '–'}`"]
                for q in queries if q["kind"] == "typo"][:6]
    return "\n".join([
        "## Spelling correction (`benchmarks/spelling.py`)",
        "",
        f"The LibreOffice help ({docs:,} documents, id/title/text only), searched in "
        f"{len(runs)} fresh processes; ms, median / worst over the queries of each kind of the "
        "median over processes. `first`: the first search of the query in its process "
        "(nothing cached), correction on; `again`: the same search repeated (corrections "
        "cached); `off`: `correct=False`, the same search without correcting, so `first` − "
        "`off` is what correcting costs; `whoosh`: Whoosh's corrector (`suggest(word, "
        "limit=1, maxdist=2)` on every spelling field) for the same words, the engine's "
        "suggester before `search/spelling.py`. Snippets off.",
        "",
        markdown_table(["kind", "queries", "ours first", "ours again", "ours off",
                        "whoosh corrector"], rows),
        "",
        f"The issue's ten unknown three-letter words (`{ISSUE_QUERY}`): ours "
        f"{issue['first']:.1f} ms first, {issue['again']:.1f} ms again "
        f"({issue['off']:.1f} ms without correcting); Whoosh's corrector "
        + (f"{issue['whoosh'] / 1000:.1f} s." if issue["whoosh"] else "not run."),
        "",
        "Corrections of the typo queries (what the page offers or searches instead):",
        "",
        markdown_table(["kind", "query", "correction"], examples),
        "",
        f"Remaking the vocabulary after a commit that added one document: "
        f"{vocab['incremental']:.2f} s from the per-segment tables, {vocab['full']:.2f} s "
        "from nothing (medians).",
    ])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--processes", type=int, default=3, help="fresh query processes")
    ap.add_argument("--no-whoosh", action="store_true", help="skip Whoosh's corrector")
    ap.add_argument("--no-write", action="store_true", help="print, do not write RESULTS.md")
    ap.add_argument("--worker", nargs=2, metavar=("INDEX", "QUERIES"), help=argparse.SUPPRESS)
    ap.add_argument("--whoosh", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        queries = json.loads(Path(args.worker[1]).read_text(encoding="utf-8"))
        print(json.dumps(worker(args.worker[0], queries, args.whoosh)))
        return
    from search import index_paths

    path = corpus()
    index = WORK / "index"
    if not (index / "current").exists():
        index_paths([path], index)
    queries = sample(path)
    qfile = WORK / "queries.json"
    qfile.write_text(json.dumps(queries, ensure_ascii=False), encoding="utf-8")
    runs = []
    for i in range(args.processes):
        cmd = [sys.executable, __file__, "--worker", str(index), str(qfile)]
        if i == 0 and not args.no_whoosh:
            cmd.append("--whoosh")
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    docs = sum(1 for _ in path.open(encoding="utf-8"))
    text = render(queries, runs, vocabulary_times(index, 3), docs)
    if not args.no_write:
        write_section("spelling", text, command="python benchmarks/spelling.py")
    print(text)


if __name__ == "__main__":
    main()
