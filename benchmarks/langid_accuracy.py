"""Language identification accuracy and speed on the LibreOffice help pages (English + Slovenian).

Calls ``detect_document_language(title, text)`` exactly as the indexer does; the ``lang`` field
of each page is used only as the ground truth. Run from the repository root::

    python benchmarks/langid_accuracy.py
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `import search` uninstalled
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import EVAL, markdown_table, write_section  # noqa: E402

from search.documents import DEFAULT_LANGUAGES, detect_document_language  # noqa: E402
from search.documents.language import FIRST_SAMPLE_CHARS, SAMPLE_CHARS, SURE  # noqa: E402

DOCS = EVAL / "libreoffice-help" / "docs.jsonl"
REPEATS = 3
SHOW_ERRORS = 10


def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main() -> None:
    docs = load(DOCS)
    detect_document_language("warm-up", "Load the model before timing.")
    per_doc: list[list[float]] = [[] for _ in docs]
    predicted: list[str] = []
    for run in range(REPEATS):
        for i, doc in enumerate(docs):
            t = time.perf_counter()
            lang = detect_document_language(doc.get("title") or "", doc.get("text") or "")
            per_doc[i].append(time.perf_counter() - t)
            if run == 0:
                predicted.append(lang)

    confusion = Counter((doc["lang"], pred) for doc, pred in zip(docs, predicted, strict=True))
    correct = sum(n for (gold, pred), n in confusion.items() if gold == pred)
    total = len(docs)
    rows = []
    for lang in DEFAULT_LANGUAGES:
        n = sum(v for (gold, _), v in confusion.items() if gold == lang)
        ok = confusion[(lang, lang)]
        rows.append([lang, n, ok, f"{100 * ok / n:.2f} %" if n else "-"])
    rows.append(["all", total, correct, f"{100 * correct / total:.2f} %"])

    # Baseline for comparison: plain py3langid (same restriction) on the raw title + text.
    from search.documents.language import _identifier

    plain = _identifier(tuple(DEFAULT_LANGUAGES))
    baseline = sum(plain.classify(f"{d.get('title') or ''}\n{d.get('text') or ''}")[0] == d["lang"]
                   for d in docs)

    langs = sorted({g for g, _ in confusion} | set(DEFAULT_LANGUAGES))
    matrix = [[f"**{gold}**", *(confusion[(gold, pred)] for pred in langs)] for gold in langs]
    errors = [doc["id"] for doc, pred in zip(docs, predicted, strict=True) if pred != doc["lang"]]
    medians = [statistics.median(times) for times in per_doc]
    median_ms = 1000 * statistics.median(medians)
    p95_ms = 1000 * statistics.quantiles(medians, n=20)[-1]
    slowest_ms = 1000 * max(medians)
    chars = statistics.median(len(d.get("title") or "") + len(d.get("text") or "") for d in docs)

    body = "\n\n".join([
        "## Language identification (`search.documents.detect_document_language`)",
        f"{total:,} LibreOffice help pages (`{DOCS.relative_to(EVAL.parent)}`), input "
        f"title + text only; `lang` is the ground truth. Identifier: py3langid restricted to "
        f"{', '.join(DEFAULT_LANGUAGES)}, on the prose of the page (code lines and identifiers "
        f"removed): its first {FIRST_SAMPLE_CHARS} characters, or {SAMPLE_CHARS} when those "
        f"give no language a probability of {SURE} or more; with the č/š/ž evidence when it "
        f"is still unsure.",
        markdown_table(["language", "pages", "correct", "accuracy"], rows),
        f"Baseline, plain py3langid on the raw title + text: {baseline}/{total} = "
        f"{100 * baseline / total:.2f} %.",
        "Confusion (rows: truth, columns: predicted):\n\n"
        + markdown_table(["truth \\ predicted", *langs], matrix),
        "Misclassified: " + (", ".join(f"`{e}`" for e in errors[:SHOW_ERRORS]) or "none")
        + (f" (and {len(errors) - SHOW_ERRORS} more)" if len(errors) > SHOW_ERRORS else ""),
        f"Time per page (median over pages of the median of {REPEATS} runs; median page "
        f"{chars:,.0f} characters): **{median_ms:.3f} ms**; 95th percentile {p95_ms:.3f} ms; "
        f"slowest {slowest_ms:.3f} ms.",
    ])
    print(body)
    write_section("langid", body, command="python benchmarks/langid_accuracy.py")
    if correct / total < 0.99:
        sys.exit(f"accuracy {correct / total:.4f} is below 0.99")


if __name__ == "__main__":
    main()
