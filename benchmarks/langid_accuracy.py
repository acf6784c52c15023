"""Language identification accuracy and speed: the help pages, and mixed texts made from the seeds.

Calls ``detect_document_language(title, text, unknown="und")`` exactly as the indexer does;
the ``lang`` field of each page is used only as the ground truth. Beside it, in the same run,
the previous rule (the start of title + text decides; never "unknown"), so that accuracy and
speed are compared on the same machine at the same moment. Test sets:

* the 5,120 LibreOffice help pages (English and Slovenian);
* mixed texts made from the seeds' sentences: an English name or title in front of a
  Slovenian sentence and the reverse, in the title and the text, the text alone, or the title
  alone (names written here, not taken from any evaluation collection);
* short English records made of a name and a number ("INVRS (Algorithm 66)"), which no
  identifier can place with confidence: "und" (unknown) is the right answer, or English.

Run from the repository root::

    python benchmarks/langid_accuracy.py
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `import search` uninstalled
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import EVAL, markdown_table, write_section  # noqa: E402

from search.documents import DEFAULT_LANGUAGES, detect_document_language  # noqa: E402
from search.documents import language as lid  # noqa: E402
from search.model import UNKNOWN  # noqa: E402

DOCS = EVAL / "libreoffice-help" / "docs.jsonl"
SEEDS = Path(__file__).resolve().parents[1] / "seeds"
#: The seeds' languages (the file names carry no language).
SEED_LANGS = {"000": "en", "001": "en", "002": "sl", "003": "sl", "004": "en"}
REPEATS = 5
SHOW_ERRORS = 10
EN_NAMES = ["The Elder Scrolls Online", "Lex Luthor (Smallville)", "Grand Theft Auto V",
            "The Lord of the Rings: The Two Towers", "World Health Organization",
            "Manchester United Football Club", "The Rolling Stones", "Star Wars: The Clone Wars",
            "Harry Potter and the Philosopher's Stone", "Pink Floyd – The Wall",
            "Microsoft Windows Server 2019", "The New York Times"]
SL_NAMES = ["Brata Blues", "Ministrstvo za notranje zadeve", "Zakon o tujcih",
            "Triglavski narodni park", "Državni zbor Republike Slovenije", "Ljubljanski grad",
            "Slovenska tiskovna agencija", "Prešernova družba", "Kranjska klobasa",
            "Cankarjev dom", "Policijska uprava Koper", "Slovenske železnice"]
SHORT_NAMES = ["INVRS", "QUADI", "Bessel Function", "Matrix Inversion", "Gamma Function",
               "Rational Interpolation", "Complex Exponential", "Exponential Integral",
               "Romberg Integration", "Least Squares Fit", "Crout with Pivoting", "Tree Sort"]
LANGS = (*DEFAULT_LANGUAGES, UNKNOWN)
#: The short layout keeps this much of each sentence (cut at a word).
CLAUSE_CHARS = 80


def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def previous_rule(title: str, text: str) -> str:
    """The detector before whole-text sampling (up to commit 76b59b3): the first 150, then
    500, characters of prose of title + text, always answering a language."""
    # Its entry steps as they were: normalise the languages and the (absent) declaration.
    langs = tuple(dict.fromkeys(lid.normalize_language(x) or x for x in DEFAULT_LANGUAGES))
    lid.normalize_language(None)
    head = text[:lid.SCAN_CHARS] if text else ""
    whole = f"{title}\n{head}" if title else head
    ident = lid._identifier(langs)
    first = lid.prose_sample(whole, lid.FIRST_SAMPLE_CHARS)
    if len(first) - first.count(" ") >= lid.SHORT_LETTERS:
        lang, prob = ident.classify(first)
        if prob >= lid.SURE:
            return lang
    sample = lid.prose_sample(whole)
    letters = len(sample) - sample.count(" ")
    if letters == 0:
        raw = whole[:lid.SAMPLE_CHARS]
        if not lid._LETTER.search(raw):
            return langs[0]
        sample = raw
    lang, prob = ident.classify(sample)
    if prob >= lid.CONFIDENT and letters >= lid.SHORT_LETTERS:
        return lang
    return lid._marker_language(sample, langs) or lang


def ours(title: str, text: str) -> str:
    return detect_document_language(title, text, unknown=UNKNOWN)


DETECTORS: dict[str, Callable[[str, str], str]] = {"ours": ours, "previous": previous_rule}


def seed_sentences() -> list[tuple[str, str]]:
    """(language, sentence) of every seed sentence of 40-400 characters."""
    out = []
    for path in sorted(SEEDS.iterdir()):
        text = path.read_text(encoding="utf-8")
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            sentence = " ".join(sentence.split())
            if 40 < len(sentence) < 400:
                out.append((SEED_LANGS[path.name[:3]], sentence))
    return out


def mixed_texts() -> list[tuple[str, str, str, str]]:
    """(truth, layout, title, text): a name in the other language in front of each sentence."""
    out = []
    for i, (lang, sentence) in enumerate(seed_sentences()):
        names = EN_NAMES if lang == "sl" else SL_NAMES
        name = names[i % len(names)]
        out.append((lang, "name in title and text", name, f"{name} {sentence}"))
        out.append((lang, "name leading the text", "", f"{name} {sentence}"))
        out.append((lang, "name as the title", name, sentence))
        clause = sentence[:sentence.rfind(" ", 0, CLAUSE_CHARS)] if len(sentence) > CLAUSE_CHARS \
            else sentence
        out.append((lang, f"name in title and text, {CLAUSE_CHARS} characters of text", name,
                    f"{name} {clause}"))
    return out


def short_records() -> list[tuple[str, str, str, str]]:
    return [("en", "name and number", f"{name} (Algorithm {13 * i + 5})", text)
            for i, name in enumerate(SHORT_NAMES)
            for text in ("", f"{name} (Algorithm {13 * i + 5})")]


def confusion_table(items: list[tuple[str, str]]) -> str:
    """``items``: (truth, predicted)."""
    counts = Counter(items)
    rows = [[f"**{gold}**", *(counts[(gold, pred)] for pred in LANGS)]
            for gold in DEFAULT_LANGUAGES if any(g == gold for g, _ in items)]
    return markdown_table(["truth \\ predicted", *LANGS], rows)


def main() -> None:
    docs = load(DOCS)
    for detect in DETECTORS.values():
        detect("warm-up", "Load the model before timing.")
    # Timing: each page by each detector in turn, the order alternating between runs, so
    # both see the same machine load.
    per_doc: dict[str, list[list[float]]] = {name: [[] for _ in docs] for name in DETECTORS}
    predicted: dict[str, list[str]] = {name: [] for name in DETECTORS}
    names = list(DETECTORS)
    for run in range(REPEATS):
        order = names if run % 2 == 0 else names[::-1]
        for i, doc in enumerate(docs):
            title, text = doc.get("title") or "", doc.get("text") or ""
            for name in order:
                t = time.perf_counter()
                lang = DETECTORS[name](title, text)
                per_doc[name][i].append(time.perf_counter() - t)
                if run == 0:
                    predicted[name].append(lang)

    total = len(docs)
    accuracy_rows = []
    for name in DETECTORS:
        pairs = [(doc["lang"], pred) for doc, pred in zip(docs, predicted[name], strict=True)]
        correct = sum(g == p for g, p in pairs)
        unknown = sum(p == UNKNOWN for _, p in pairs)
        wrong = total - correct - unknown
        medians = [statistics.median(times) for times in per_doc[name]]
        accuracy_rows.append([name, correct, unknown, wrong, f"{100 * correct / total:.2f} %",
                              f"{1000 * statistics.median(medians):.3f}",
                              f"{1000 * statistics.quantiles(medians, n=20)[-1]:.3f}",
                              f"{1000 * statistics.quantiles(medians, n=100)[-1]:.3f}",
                              f"{1000 * max(medians):.3f}", f"{1000 * sum(medians):.0f}"])
    ratio = (sum(statistics.median(t) for t in per_doc["ours"])
             / sum(statistics.median(t) for t in per_doc["previous"]))
    errors = [doc["id"] for doc, pred in zip(docs, predicted["ours"], strict=True)
              if pred not in (doc["lang"], UNKNOWN)]
    unknowns = [doc["id"] for doc, pred in zip(docs, predicted["ours"], strict=True)
                if pred == UNKNOWN]

    made = mixed_texts() + short_records()
    made_rows = []
    tables = []
    for layout in dict.fromkeys(item[1] for item in made):
        subset = [item for item in made if item[1] == layout]
        row = [layout, len(subset)]
        for name, detect in DETECTORS.items():
            preds = [(gold, detect(title, text)) for gold, _, title, text in subset]
            row.append(f"{sum(g == p for g, p in preds)} / {sum(p == UNKNOWN for _, p in preds)}"
                       f" / {sum(p not in (g, UNKNOWN) for g, p in preds)}")
            if name == "ours" or layout != "name and number":
                tables.append((layout, name, preds))
        made_rows.append(row)
    mixed_all = {name: [(gold, DETECTORS[name](title, text)) for gold, _, title, text in made
                        if _ != "name and number"] for name in DETECTORS}

    chars = statistics.median(len(d.get("title") or "") + len(d.get("text") or "") for d in docs)
    body = "\n\n".join([
        "## Language identification (`search.documents.detect_document_language`)",
        f"Ours: py3langid restricted to {', '.join(DEFAULT_LANGUAGES)}, on the prose of the "
        f"document (code lines and identifiers removed), sampled in {lid.SPREAD_PIECES} "
        f"pieces spread over the whole body: {lid.FIRST_SAMPLE_CHARS} characters, or "
        f"{lid.SAMPLE_CHARS} when those give no language a probability of {lid.SURE}; the "
        f"title counts only when the body cannot tell; a declared language, then the č/š/ž "
        f"evidence, when the identifier is unsure (< {lid.CONFIDENT}) or the text is very "
        f"short (< {lid.SHORT_LETTERS} letters); otherwise `{UNKNOWN}` (unknown: indexed as "
        f"both languages, found under either filter). `previous`: the rule before, measured "
        f"in the same run: the start of title + text decides, and it always names a "
        f"language.",
        f"### {total:,} LibreOffice help pages (`{DOCS.relative_to(EVAL.parent)}`)\n\n"
        f"Input title + text only; `lang` is the ground truth. Time per page: median over "
        f"pages of the median of {REPEATS} runs, the two detectors alternating page by page "
        f"(median page {chars:,.0f} characters).\n\n"
        + markdown_table(["detector", "correct", f"{UNKNOWN}", "wrong", "accuracy",
                          "median ms", "p95 ms", "p99 ms", "slowest ms", "total ms"],
                         accuracy_rows)
        + f"\n\nOurs takes **{ratio:.2f}x** the previous rule's total time.",
        "Confusion, ours (rows: truth, columns: predicted):\n\n"
        + confusion_table([(d["lang"], p) for d, p in zip(docs, predicted["ours"],
                                                           strict=True)])
        + "\n\nConfusion, previous rule:\n\n"
        + confusion_table([(d["lang"], p) for d, p in zip(docs, predicted["previous"],
                                                           strict=True)]),
        "Wrong (ours): " + (", ".join(f"`{e}`" for e in errors[:SHOW_ERRORS]) or "none")
        + f". Unknown (ours, {len(unknowns)}): "
        + (", ".join(f"`{e}`" for e in unknowns[:SHOW_ERRORS]) or "none")
        + (f" (and {len(unknowns) - SHOW_ERRORS} more)" if len(unknowns) > SHOW_ERRORS else "")
        + ": pages of a title and a screenshot or a code listing.",
        f"### Mixed texts made from the seeds ({len(made)})\n\n"
        "Each seed sentence of 40-400 characters, with a name in the other language (written "
        f"in this script) in front of it, in four layouts (the last keeps only the first "
        f"{CLAUSE_CHARS} characters of the sentence); and English records of a name and a "
        "number. Cells: correct / unknown / wrong.\n\n"
        + markdown_table(["layout", "texts", "ours", "previous"], made_rows),
        "Confusion on the mixed texts (all four layouts), ours:\n\n"
        + confusion_table(mixed_all["ours"])
        + "\n\nprevious rule:\n\n" + confusion_table(mixed_all["previous"])
        + "\n\nName-and-number records, ours:\n\n"
        + confusion_table(next(p for layout, name, p in tables
                               if layout == "name and number" and name == "ours")),
    ])
    print(body)
    write_section("langid", body, command="python benchmarks/langid_accuracy.py")
    correct = accuracy_rows[0][1]
    if correct / total < 0.99:
        sys.exit(f"accuracy {correct / total:.4f} is below 0.99")


if __name__ == "__main__":
    main()
