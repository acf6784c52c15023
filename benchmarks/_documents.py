"""Real PDF, DOCX and ODT files made from plain text by real converters, for the tests and
``benchmarks/formats.py``: Debian's ``pandoc`` (DOCX, ODT), Debian's Chromium printing
through Playwright (PDF, with real embedded fonts and the Slovenian diacritics), ``qpdf``
(encrypted PDFs), msoffcrypto-tool (a password-protected DOCX) and Pillow (an image-only
PDF, as a scanner writes one).
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
#: A small Debian documentation package that ships a real (pdfTeX) PDF: the tests read it.
DEBIAN_PDF = Path("/usr/share/doc/libtasn1-doc/libtasn1.pdf")
#: Print each section on pages of its own, small enough that a seed fits on one page.
PAGE_CSS = ("@page { size: A4; margin: 14mm } body { font: 9pt/1.3 serif } "
            "section { break-after: page } h1 { font-size: 12pt }")


def text_html(sections: Sequence[str], title: str | None = None,
              headings: Sequence[str | None] | None = None, lang: str | None = None) -> str:
    """An HTML page of plain-text sections, each line a paragraph, each section printed from
    a new page; ``headings`` an ``<h1>`` over each section."""
    parts = ["<!DOCTYPE html><html" + (f' lang="{lang}"' if lang else "") + "><head>"
             '<meta charset="utf-8">']
    if title:
        parts.append(f"<title>{html.escape(title)}</title>")
    parts.append(f"<style>{PAGE_CSS}</style></head><body>")
    for i, text in enumerate(sections):
        parts.append("<section>")
        if headings and headings[i]:
            parts.append(f"<h1>{html.escape(headings[i])}</h1>")
        parts.extend(f"<p>{html.escape(line.strip())}</p>" for line in text.splitlines()
                     if line.strip())
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def pandoc(page: str, out: Path, *, title: str | None = None,
           epoch: int | None = None) -> Path:
    """Convert an HTML page to ``out`` (.docx or .odt by its extension) with pandoc; the file's
    creation date is ``epoch`` (SOURCE_DATE_EPOCH) when given."""
    env = dict(os.environ)
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = str(epoch)
    cmd = ["pandoc", "-f", "html", "-o", str(out)]
    if title:
        cmd += ["--metadata", f"title={title}"]
    subprocess.run(cmd, input=page, text=True, env=env, check=True, capture_output=True)
    return out


def print_pdfs(pages: Sequence[tuple[str, Path]]) -> None:
    """Print each (HTML page, output .pdf) with Debian's Chromium through Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page()
            for page, out in pages:
                tab.set_content(page, wait_until="load")
                tab.pdf(path=str(out), format="A4", print_background=False,
                        prefer_css_page_size=True)
        finally:
            browser.close()


def page_count(pdf: Path) -> int:
    """Pages of a PDF, as qpdf counts them."""
    done = subprocess.run(["qpdf", "--show-npages", str(pdf)], check=True, text=True,
                          capture_output=True)
    return int(done.stdout.strip())


def encrypt_pdf(src: Path, out: Path, user_password: str, owner_password: str) -> Path:
    """``src`` encrypted with AES-256 by qpdf; an empty user password opens without asking
    (only the owner's rights are restricted, as "protected" PDFs often are)."""
    subprocess.run(["qpdf", "--encrypt", user_password, owner_password, "256", "--",
                    str(src), str(out)], check=True, capture_output=True)
    return out


def encrypt_office(src: Path, out: Path, password: str) -> Path:
    """A Word file password-protected as Office does it (msoffcrypto-tool's ECMA-376 agile
    encryption: an OLE container, no longer a ZIP package)."""
    tool = Path(sys.executable).with_name("msoffcrypto-tool")
    cmd = [str(tool)] if tool.exists() else [shutil.which("msoffcrypto-tool") or
                                             "msoffcrypto-tool"]
    subprocess.run([*cmd, "-e", "-p", password, str(src), str(out)], check=True,
                   capture_output=True)
    return out


def scanned_pdf(out: Path, lines: Sequence[str]) -> Path:
    """A one-page PDF holding only a picture of ``lines`` (what a scanner without OCR makes)."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (1240, 1754), 255)  # A4 at 150 dpi
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((100, 100 + 40 * i), line, fill=0)
    image.save(out, "PDF", resolution=150)
    return out
