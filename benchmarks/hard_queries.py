"""The "hard queries" sample of ``benchmarks/speed.py``: what a public search box gets besides
keywords, measured beside the ordinary sample and beside the peers.

Generated from the help corpus's own text and vocabulary with a fixed seed (never from the
evaluation queries or qrels), plus a few fixed hostile strings:

- ``zero``: one made-up word that no indexed word starts like (zero results);
- ``unknown10``: ten made-up three-letter words;
- ``typo``: one to three frequent corpus words, one of them with one edit (a letter
  dropped, doubled, swapped or replaced) that makes it no corpus word;
- ``long40``: 40 consecutive words of a page (a pasted paragraph);
- ``long120``: a page's title and its first 120 words (a pasted title and abstract);
- ``caps``: a page's title of three or more words, in capitals (a shouted title);
- ``hostile``: fixed strings (syntax debris, a 1,500-letter word, markup, a bare operator).

Ours is measured as shipped: with its spelling corrector (``search/spelling.py``), whose
work per query is bounded, so a query with misspelt or unknown words also pays for the
correction (and, when the correction replaces the query, for a second search).

Alone, on indexes already built (each folder holds ``ix-ENGINE`` folders as the speed run
builds them), writing the ``speed-hard`` section of RESULTS.md::

    python benchmarks/hard_queries.py help=benchmarks/work/hhelp 200k=benchmarks/work/h200k
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import string
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

SEED = 20261201
KINDS = ("zero", "unknown10", "typo", "long40", "long120", "caps", "hostile")
COUNTS = {"zero": 8, "unknown10": 6, "typo": 10, "long40": 8, "long120": 4, "caps": 8}
HOSTILE = [
    "hkq zqv wxj pqf kvz jjq bbq xxv qqz wwk",
    "tihotapljenje", "xyzzyqq", "SEARCHING AND SORTING OF TABLES",
    '"unclosed phrase of words', "((((", "*", "AND OR NOT", "+ - + -",
    "q" * 1500, "<script>alert(1)</script> %00 ' OR 1=1 --", "title: lang: year:",
]
#: The configurations measured on the sample (the ones a visitor sees).
HARD_CONFIGS = ("or+snip", "and+snip")
_WORD = re.compile(r"[^\W\d_]+")
_CONSONANTS = "bcdfghjklmnpqrstvwxz"


def make(corpus: Path, seed: int = SEED) -> list[dict]:
    """The sample: [{"id", "kind", "text"}], the same for every engine and run."""
    rng = random.Random(seed)
    docs = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    freq = Counter(w.lower() for d in docs for w in _WORD.findall(d["title"] + " " + d["text"]))
    vocab = set(freq)
    stems = {w[:5] for w in vocab if len(w) >= 5}
    out: list[dict] = []

    def add(kind: str, text: str) -> None:
        out.append({"id": f"{kind}-{sum(q['kind'] == kind for q in out)}", "kind": kind,
                    "text": text})

    while sum(q["kind"] == "zero" for q in out) < COUNTS["zero"]:
        word = "".join(rng.choice(_CONSONANTS) for _ in range(rng.randint(8, 12)))
        if word[:5] not in stems and word not in vocab:
            add("zero", word)
    for _ in range(COUNTS["unknown10"]):
        words: list[str] = []
        while len(words) < 10:
            w = "".join(rng.choice(_CONSONANTS) for _ in range(3))
            if w not in vocab:
                words.append(w)
        add("unknown10", " ".join(words))
    frequent = sorted(w for w, n in freq.items() if n >= 5 and len(w) >= 6)
    while sum(q["kind"] == "typo" for q in out) < COUNTS["typo"]:
        words = rng.sample(frequent, rng.randint(1, 3))
        i = rng.randrange(len(words))
        typo = _edit(words[i], rng)
        if typo not in vocab:
            words[i] = typo
            add("typo", " ".join(words))
    texts = [d for d in docs if len(d["text"].split()) >= 200]
    for _ in range(COUNTS["long40"]):
        words = rng.choice(texts)["text"].split()
        start = rng.randrange(len(words) - 40)
        add("long40", " ".join(words[start:start + 40]))
    for _ in range(COUNTS["long120"]):
        d = rng.choice(texts)
        add("long120", d["title"] + " " + " ".join(d["text"].split()[:120]))
    titles = [d["title"] for d in docs if len(d["title"].split()) >= 3]
    for _ in range(COUNTS["caps"]):
        add("caps", rng.choice(titles).upper())
    for text in HOSTILE:
        add("hostile", text)
    return out


def _edit(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    how = rng.choice(("drop", "double", "swap", "replace"))
    if how == "drop":
        return word[:i] + word[i + 1:]
    if how == "double":
        return word[:i] + word[i] + word[i:]
    if how == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + rng.choice(string.ascii_lowercase) + word[i + 1:]


def write(path: Path, sample: list[dict]) -> None:
    path.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in sample),
                    encoding="utf-8")


def summarize(data: dict, sample: list[dict]) -> dict:
    """Per configuration: p50/p95/p99 (medians over passes), the worst query of all passes,
    and per kind the median and worst of the first pass."""
    out = {}
    for config, res in data["configs"].items():
        from speed import percentile

        passes = res["passes"]
        row = {f"p{q}": statistics.median(percentile(p, q) for p in passes)
               for q in (50, 95, 99)}
        row["worst"] = max(max(p) for p in passes if p)
        row["passes"] = len(passes)
        kinds: dict[str, list[float]] = {}
        for q, ms in zip(sample, passes[0], strict=False):
            kinds.setdefault(q["kind"], []).append(ms)
        row["kinds"] = {k: (statistics.median(v), max(v)) for k, v in kinds.items()}
        row["mean_hits"] = res["mean_hits"]
        out[config] = row
    return out


def measure(engine: str, path: Path, queries: Path, sample: list[dict], reps: int,
            budget: float, warmup: int = 5) -> dict:
    from speed import run_worker

    data, _wall, _peak = run_worker(["query", engine, str(path), str(queries), "--runs",
                                     str(reps), "--budget", str(budget), "--configs",
                                     ",".join(HARD_CONFIGS), "--warmup", str(warmup)])
    return summarize(data, sample)


def render(corpora: list[str], engines: list[str], hard: dict, sample: list[dict],
           heading: str = "Hard queries", intro: str | None = None) -> str:
    """The "Hard queries" subsection (markdown); ``intro`` replaces its description and
    leaves out the table by kind (for another sample)."""
    from _results import markdown_table

    counts = Counter(q["kind"] for q in sample)
    rows = []
    for corpus in corpora:
        ours = hard[corpus, "ours"]
        for e in engines:
            if (corpus, e) not in hard:
                continue
            h = hard[corpus, e]
            cells = []
            for config in HARD_CONFIGS:
                v = h[config]
                cell = f"{v['p50']:.1f} / {v['p95']:.1f} / {v['p99']:.1f} / {v['worst']:.1f}"
                if e != "ours":
                    cell += f" (×{ours[config]['p95'] / v['p95']:.2f})"
                cells.append(cell)
            rows.append([corpus if e == "ours" else "", e, *cells,
                         "/".join(str(h[c]["passes"]) for c in HARD_CONFIGS),
                         f"{h['or+snip']['mean_hits']:.1f}"])
    kind_rows = []
    for corpus in corpora:
        for e in engines:
            if (corpus, e) not in hard:
                continue
            kinds = hard[corpus, e]["or+snip"]["kinds"]
            kind_rows.append([corpus if e == "ours" else "", e, *(
                f"{kinds[k][0]:.1f} / {kinds[k][1]:.1f}" if k in kinds else "–"
                for k in KINDS)])
    table = markdown_table(["corpus", "engine", "OR + 10 snippets", "AND + 10 snippets",
                            "passes", "hits OR"], rows)
    title = f"### {heading} (ms: median / p95 / p99 / worst; `×` compares p95)"
    if intro is not None:
        return "\n".join([title, "", intro, "", table])
    return "\n".join([
        title,
        "",
        f"{len(sample)} queries (`benchmarks/hard_queries.py`, seed {SEED}), generated from "
        "the help corpus's text and vocabulary, never from the evaluation queries: "
        + ", ".join(f"{counts[k]} {k}" for k in KINDS) + ". Ours runs as shipped, with its "
        "spelling corrector (bounded work), so a misspelt or unknown word also pays for its "
        "correction, and a replaced query for a second search. The peers get the word "
        "tokens, as in the ordinary sample. Each engine in its own query process, 5 queries "
        "of warm-up.",
        "",
        table,
        "",
        "By kind, OR + 10 snippets, first pass (ms: median / worst):",
        "",
        markdown_table(["corpus", "engine", *KINDS], kind_rows),
    ])


def main() -> None:
    from _results import machine, write_section
    from speed import WORK, log

    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("indexes", nargs="+", help="CORPUS=FOLDER (holding ix-ENGINE folders)")
    ap.add_argument("--engines", default="ours,whoosh-std")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--budget", type=float, default=30.0)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--ordinary", action="store_true",
                    help="Also the ordinary sample (speed.py's) in the same run.")
    args = ap.parse_args()
    engines = args.engines.split(",")
    WORK.mkdir(parents=True, exist_ok=True)
    sample = make(ROOT / "benchmarks" / "work" / "speed" / "help.jsonl"
                  if (ROOT / "benchmarks" / "work" / "speed" / "help.jsonl").exists()
                  else _help_jsonl())
    queries = WORK / "hard.jsonl"
    write(queries, sample)
    hard: dict = {}
    ordinary: dict = {}
    plain = WORK / "queries.jsonl"
    if args.ordinary:
        from speed import prepare_queries

        plain, _info = prepare_queries(300)
    plain_sample = [{"kind": "ordinary", **json.loads(line)} for line in
                    plain.read_text(encoding="utf-8").splitlines()] if args.ordinary else []
    corpora = []
    for spec in args.indexes:
        corpus, folder = spec.split("=", 1)
        corpora.append(corpus)
        for e in engines:
            path = Path(folder) / f"ix-{e}"
            if path.exists():
                log(f"hard queries: {corpus} {e}")
                hard[corpus, e] = measure(e, path, queries, sample, args.reps, args.budget)
                log("  " + ", ".join(f"{c} p95 {v['p95']:.1f} worst {v['worst']:.1f} ms"
                                     for c, v in hard[corpus, e].items()))
                if args.ordinary:
                    ordinary[corpus, e] = measure(e, path, plain, plain_sample, args.reps,
                                                  args.budget, warmup=30)
                    log("  ordinary: " + ", ".join(
                        f"{c} p95 {v['p95']:.1f} worst {v['worst']:.1f} ms"
                        for c, v in ordinary[corpus, e].items()))
    text = render(corpora, engines, hard, sample)
    if ordinary:
        text += "\n\n" + render(
            corpora, engines, ordinary, plain_sample, heading="Ordinary queries, same run",
            intro=f"The ordinary sample of `benchmarks/speed.py` ({len(plain_sample)} help "
                  "keyword queries, seed 20261122), ours as shipped; "
                  "30 queries of warm-up.")
    text = ("## Hard queries alone (`benchmarks/hard_queries.py`)\n\nMeasured on indexes "
            "built earlier (" + ", ".join(args.indexes) + "), outside a full speed run, "
            f"on {machine()} shared with other developers' jobs; read the ratios.\n\n"
            + text.replace("### Hard queries", "### Latency", 1))
    if not args.no_write:
        write_section("speed-hard", text, command="python benchmarks/hard_queries.py "
                      + " ".join(args.indexes))
    print(text)


def _help_jsonl() -> Path:
    from speed import prepare_corpora

    return prepare_corpora([], False)[0]["path"]


if __name__ == "__main__":
    main()
