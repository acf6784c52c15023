"""Reading PDF, DOCX and ODT files against plain text: pages per second and peak memory.

One text (help pages of ``../shared/eval/libreoffice-help``, English and Slovenian, until
the PDF has at least ``--pages`` pages) is written four ways: ``.txt``, ``.pdf`` (printed by
Debian's Chromium), ``.docx`` and ``.odt`` (pandoc). Each file is then read by the engine's
reader (``read_source``) in a fresh process, ``--repeat`` times, and indexed once with
``search-cli index``; the figures are the medians, per PDF page of the same text, with the
peak RSS of the reading process.

    python benchmarks/formats.py              # writes its section of RESULTS.md
    python benchmarks/formats.py --pages 100 --repeat 1 --no-write   # a quick look
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _documents as mk  # noqa: E402
from _results import EVAL, markdown_table, search_cli, write_section  # noqa: E402

FORMATS = ("txt", "pdf", "docx", "odt")

# Run in a fresh process: read one file, print seconds, characters and peak RSS (MB). The
# language model is loaded first (by a one-line text), as it is once per indexing run.
_READ = """
import json, resource, sys, time
from pathlib import Path
from search.documents import detect_document_language, find_sources, read_source
detect_document_language("warm-up", "The language model is loaded once per run.")
(source,) = find_sources([sys.argv[1]])
start = time.perf_counter()
result = read_source(source)
seconds = time.perf_counter() - start
doc = result.documents[0]
print(json.dumps({"seconds": seconds, "chars": len(doc.text),
                  "pages": len(doc.pages or ()), "lang": doc.lang,
                  "problems": [str(p) for p in result.problems],
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
# The peer: pypdf's text extraction of the same PDF, page by page (text only, no cleaning).
_PYPDF = """
import json, resource, sys, time
import pypdf
start = time.perf_counter()
reader = pypdf.PdfReader(sys.argv[1])
chars = sum(len(page.extract_text() or "") for page in reader.pages)
print(json.dumps({"seconds": time.perf_counter() - start, "chars": chars, "problems": [],
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
_BASELINE = """
import resource
from search.documents import detect_document_language
detect_document_language("warm-up", "The language model is loaded once per run.")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def _sections(min_pages: int) -> list[str]:
    """Help pages, alternately English and Slovenian, about ``min_pages`` A4 pages of text."""
    docs: dict[str, list[str]] = {"en": [], "sl": []}
    with open(EVAL / "libreoffice-help" / "docs.jsonl", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            docs[d["lang"]].append(f"{d['title']}\n{d['text']}")
    out: list[str] = []
    chars = 0
    for en, sl in zip(docs["en"], docs["sl"], strict=False):
        for text in (en, sl):
            out.append(text)
            chars += len(text)
        if chars > min_pages * 2600:  # ~3,000 characters a printed page, with some spare
            break
    return out


def make_files(folder: Path, min_pages: int) -> dict[str, Path]:
    sections = _sections(min_pages)
    paths = {ext: folder / f"help.{ext}" for ext in FORMATS}
    paths["txt"].write_text("\n\n".join(sections), encoding="utf-8")
    # Not a page per section: the text flows over the pages as a long report's does.
    page = mk.text_html(["\n".join(sections)]).replace(
        "body { font: 9pt/1.3 serif }", "body { font: 10pt/1.3 serif }")
    mk.print_pdfs([(page, paths["pdf"])])
    for ext in ("docx", "odt"):
        mk.pandoc(page, paths[ext])
    return paths


def read_once(path: Path, script: str = _READ) -> dict:
    done = subprocess.run([sys.executable, "-c", script, str(path)], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def index_once(path: Path, index: Path) -> float:
    start = time.perf_counter()
    subprocess.run([*search_cli(), "index", str(path), "--index", str(index), "--rebuild",
                    "-q"], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=500, help="at least this many PDF pages")
    ap.add_argument("--repeat", type=int, default=3, help="reads of each file (median)")
    ap.add_argument("--no-write", action="store_true", help="print, do not touch RESULTS.md")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="formats-bench-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        paths = make_files(folder, args.pages)
        made = time.perf_counter() - start
        pages = mk.page_count(paths["pdf"])
        baseline = float(subprocess.run([sys.executable, "-c", _BASELINE], check=True,
                                        capture_output=True, text=True).stdout)
        rows = []
        figures: dict[str, dict] = {}
        for _ in range(args.repeat):  # formats interleaved: the machine's load hits all
            for ext in (*FORMATS, "pypdf"):
                run = (read_once(paths["pdf"], _PYPDF) if ext == "pypdf"
                       else read_once(paths[ext]))
                fig = figures.setdefault(ext, {**run, "seconds": [], "rss": []})
                fig["seconds"].append(run["seconds"])
                fig["rss"].append(run["rss_mb"])
        for ext in FORMATS:
            figures[ext]["index"] = index_once(paths[ext], folder / f"index-{ext}")
        txt = statistics.median(figures["txt"]["seconds"])
        for ext in (*FORMATS, "pypdf"):
            fig = figures[ext]
            secs = statistics.median(fig["seconds"])
            peer = ext == "pypdf"
            rows.append([
                "`.pdf`, pypdf (peer: text only)" if peer else f"`.{ext}`",
                f"{paths['pdf' if peer else ext].stat().st_size / 1e6:.1f} MB",
                f"{fig['chars']:,}", f"{secs:.2f} s (worst {max(fig['seconds']):.2f})",
                f"{pages / secs:,.0f}", f"{secs / txt:,.1f}x",
                f"{max(fig['rss']):.0f} MB (+{max(fig['rss']) - baseline:.0f})",
                "-" if peer else f"{fig['index']:.1f} s",
                "-" if peer else f"{pages / fig['index']:,.1f}"])
            if fig["problems"]:
                rows[-1][2] += " (" + "; ".join(fig["problems"]) + ")"
    body = (
        "## Reading PDF, DOCX and ODT (`benchmarks/formats.py`)\n\n"
        f"One text, {figures['txt']['chars']:,} characters of LibreOffice help pages in English "
        f"and Slovenian, as a {pages}-page PDF (printed by Chromium), a DOCX and an ODT "
        "(pandoc) and plain text. *Read* is `read_source` alone (text, title, date, language), "
        f"median of {args.repeat} runs each in a fresh process, the formats interleaved; "
        "*pages/s* counts the PDF's pages for every format (the same text); *peak RSS* is the "
        f"reading process's, imports and language model included (+ over the {baseline:.0f} MB "
        "of a process that only loads the engine's readers and the language model, not the "
        "format libraries). The engine reads PDFs with pypdfium2; the pypdf "
        "row extracts the same PDF's text with pypdf, the library first suggested, for "
        "comparison. *Index* is `search-cli index FILE --rebuild` (start-up, "
        "reading, analysis, commit).\n\n"
        + markdown_table(["file", "size", "characters read", "read", "pages/s", "vs .txt",
                          "peak RSS", "index", "pages/s indexed"], rows)
        + f"\n\n(Making the files took {made:.0f} s.)\n")
    if args.no_write:
        print(body)
    else:
        write_section("formats", body, "python benchmarks/formats.py")
        print(body)


if __name__ == "__main__":
    main()
