"""Highlighted, sentence-aware snippets and full-text highlighting.

Matches are found by running the document's own language analysers over the stored text and
comparing the resulting terms with the query's terms for that language. The analysers keep
character offsets, so the word *as written* is marked: the query ``policija`` marks
``policijama``, ``border`` marks ``borders``. All text is HTML-escaped; the only markup added
is ``<mark>``, and every fragment ends the bidirectional runs it opens.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from functools import cache, lru_cache
from html import escape

from whoosh.analysis import Analyzer

from search.analysis import LANGUAGES, AnalysisPath
from search.analysis.fields import FieldName

#: Snippet budget in characters, and how far a cropped fragment reaches around a match.
SNIPPET_CHARS = 280
WINDOW = 90
#: Fragments shorter than this are not worth showing.
MIN_FRAGMENT = 60
#: Highlighting analyses at most this much text (long documents keep working, just unmarked
#: past this point).
MAX_ANALYZED_CHARS = 200_000

_SENTENCE = re.compile(r"[^.!?\n]*(?:[.!?]+[\"'”’)]*|\n|$)")

Span = tuple[int, int]


@cache
def _analyzer(path: AnalysisPath) -> Analyzer:
    # Keyed by the path itself, not its language's code: a language registered for a while
    # (see search.analysis.register) never meets another's analyser under the same code.
    return path.make_analyzer()


def query_terms(pairs: Iterable[tuple[str, str | bytes]]) -> dict[tuple[str, str], set[str]]:
    """Group (field, term) pairs by (language, analysis path), ignoring title/body."""
    grouped: dict[tuple[str, str], set[str]] = {}
    for fieldname, text in pairs:
        name = FieldName.parse(fieldname)
        if name is None or not name.is_text or name.lang not in LANGUAGES:
            continue
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        grouped.setdefault((name.lang, name.path), set()).add(text)
    return grouped


def match_spans(text: str, lang: str, terms: dict[tuple[str, str], set[str]]) -> list[Span]:
    """Character spans of ``text`` whose analysed form is one of the query's terms.

    Words are analysed one at a time through a per-process cache: the analysers are
    context-free (a word's terms do not depend on its neighbours), so this gives the same
    answer as analysing the whole text, for a dictionary look-up per word. Only words whose
    first two letters (case and diacritics aside) start some wanted term are looked at:
    stems, truncations and lemmas share their word's beginning, except a few suppletive
    lemmas (``šel`` -> ``iti``), which then go unmarked.
    """
    if lang not in LANGUAGES:
        return []
    wanted = [(path, terms[(lang, path.name)]) for path in LANGUAGES[lang].paths
              if terms.get((lang, path.name))]
    if not wanted:
        return []
    spans = []
    known: dict[str, bool] = {}  # words repeat: decide each once per text
    for m in _candidates(frozenset(t[:2] for _, targets in wanted for t in targets)).finditer(
            text, 0, MAX_ANALYZED_CHARS):
        word = m.group()
        hit = known.get(word)
        if hit is None:
            hit = known[word] = _matches(word, wanted)
        if hit:
            spans.append(m.span())
    return spans


def spans_matching(text: str, spans: list[Span], lang: str,
                   terms: dict[tuple[str, str], set[str]]) -> list[Span]:
    """The spans (from :func:`match_spans`) whose word is one of ``terms``: which of the
    marked words came from, say, a query's translations, without scanning the text again."""
    wanted = [(path, terms[(lang, path.name)]) for path in LANGUAGES[lang].paths
              if terms.get((lang, path.name))] if lang in LANGUAGES else []
    return [(s, e) for s, e in spans if wanted and _matches(text[s:e], wanted)]


def _matches(word: str, wanted: list[tuple[AnalysisPath, set[str]]]) -> bool:
    return any(not targets.isdisjoint(_word_terms(path, word))
               for path, targets in wanted)


#: Letters that fold to each ASCII letter (see ``filters.fold``), for the candidate scan.
_FOLDS_TO = {"c": "cčć", "s": "sš", "z": "zž", "d": "dđ"}


@lru_cache(maxsize=1024)
def _candidates(heads: frozenset[str]) -> re.Pattern[str]:
    """A regex finding the words that start like some wanted term (case and diacritics aside).

    Scanning in C for these few candidates, instead of looking at every word in Python, is
    what keeps snippets cheap on long documents.
    """
    alternatives = sorted(
        "".join(f"[{re.escape(_FOLDS_TO.get(ch, ch))}]" for ch in head) for head in heads)
    return re.compile(r"(?<!\w)(?<!\w['’])(?:" + "|".join(alternatives) + r")\w*(?:['’]\w+)*",
                      re.IGNORECASE)


@lru_cache(maxsize=500_000)
def _word_terms(path: AnalysisPath, word: str) -> tuple[str, ...]:
    return tuple(t.text for t in _analyzer(path)(word, removestops=True))


#: Unicode bidirectional controls that open a run: embeddings and overrides (closed by PDF,
#: U+202C) and isolates (closed by PDI, U+2069).
_BIDI_EMBEDDINGS = frozenset("\u202a\u202b\u202d\u202e")  # LRE RLE LRO RLO
_BIDI_ISOLATES = frozenset("\u2066\u2067\u2068")  # LRI RLI FSI
PDF, PDI = "\u202c", "\u2069"
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def balance_bidi(text: str) -> str:
    """``text`` with its bidirectional controls paired: closers without an opener dropped,
    openers left open closed at the end (an override last, an isolate around it last).

    A snippet is cut out of a text, so a right-to-left override (U+202E) can lose its
    closing PDF, and would then reverse what a page shows after it (``"gpj.exe"``). Paired
    controls keep their effect inside the fragment and end with it, as the Unicode
    Bidirectional Algorithm pairs them: a PDF closes only an embedding opened after the
    last open isolate, a PDI closes the last isolate and the embeddings opened inside it.
    """
    if not _BIDI.search(text):
        return text
    out: list[str] = []
    open_runs: list[str] = []  # PDF or PDI: what each open run needs
    for ch in text:
        if ch in _BIDI_EMBEDDINGS:
            open_runs.append(PDF)
        elif ch in _BIDI_ISOLATES:
            open_runs.append(PDI)
        elif ch == PDF:
            if not open_runs or open_runs[-1] != PDF:
                continue  # nothing of its own to close: dropped
            open_runs.pop()
        elif ch == PDI:
            if PDI not in open_runs:
                continue
            while open_runs[-1] != PDI:  # embeddings inside the isolate end with it
                out.append(open_runs.pop())
            open_runs.pop()
        out.append(ch)
    out.extend(reversed(open_runs))
    return "".join(out)


def mark(text: str, spans: list[Span], start: int = 0, end: int | None = None) -> str:
    """Escape ``text[start:end]`` and wrap the spans inside it in ``<mark>``; bidirectional
    controls are balanced within the fragment (see :func:`balance_bidi`)."""
    end = len(text) if end is None else end
    out, pos = [], start
    for s, e in spans:
        if e <= start or s >= end or s < pos:
            continue
        out.append(escape(text[pos:s]))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        pos = e
    out.append(escape(text[pos:end]))
    return balance_bidi("".join(out))


def _strip(text: str, s: int, e: int) -> Span:
    """``(s, e)`` without the white space at either end."""
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def _word_boundary(text: str, pos: int, forward: bool) -> int:
    """Move ``pos`` to the nearest space so a crop never cuts a word in half."""
    if forward:
        nxt = text.find(" ", pos)
        return len(text) if nxt == -1 else nxt
    prev = text.rfind(" ", 0, pos)
    return 0 if prev == -1 else prev + 1


def snippet(text: str, spans: list[Span], budget: int = SNIPPET_CHARS) -> str:
    """Up to ``budget`` characters of the best sentences, as HTML with marks.

    Sentences are ranked by how many different words they mark (then how many marks), taken
    in document order, and cropped around their first match when too long.
    """
    if not text:
        return ""
    if not spans:
        end = _word_boundary(text, min(len(text), budget), forward=False) if len(text) > budget \
            else len(text)
        end = end if end > 0 else min(len(text), budget)
        while end > 0 and text[end - 1].isspace():  # no blank before the ellipsis
            end -= 1
        return mark(text, [], 0, end) + (" …" if end < len(text) else "")
    scored = []
    starts = [a for a, _ in spans]  # spans come sorted and disjoint
    for m in _SENTENCE.finditer(text, 0, MAX_ANALYZED_CHARS):
        i = bisect_left(starts, m.start())
        j = bisect_left(starts, m.end(), i)
        if i == j:
            continue  # a sentence without a match (most of them): nothing else to do
        s, e = _strip(text, *m.span())
        inside = spans[i:j]
        distinct = len({text[a:b].lower() for a, b in inside})
        scored.append((-distinct, -len(inside), s, e, inside))
    scored.sort()
    chosen: list[Span] = []
    used = 0
    for _d, _n, s, e, inside in scored:
        room = budget - used
        if room < MIN_FRAGMENT:
            break
        if e - s > room:
            s, e = _crop(text, s, e, inside[0], room)
        chosen.append((s, e))
        used += e - s
    chosen.sort()
    parts = [mark(text, spans, s, e) for s, e in chosen]
    html = " … ".join(parts)
    if chosen[0][0] > 0:
        html = "… " + html
    if chosen[-1][1] < len(text.rstrip()):
        html += " …"
    return html


def _crop(text: str, s: int, e: int, first: Span, room: int) -> Span:
    """A window of about ``room`` characters of sentence [s, e) around its first match."""
    lo = max(s, first[0] - min(WINDOW, room // 2))
    if lo > s:
        lo = max(s, _word_boundary(text, lo, forward=False))
    hi = min(e, lo + room)
    if hi < e:
        hi = _word_boundary(text, hi, forward=False)
    if hi <= first[1]:
        hi = min(e, first[1])
    while hi > lo and text[hi - 1].isspace():
        hi -= 1
    return lo, hi


def paragraphs_html(text: str, spans: list[Span]) -> str:
    """The whole text as escaped ``<p>`` paragraphs, matches marked (for document pages)."""
    out = []
    pos = 0
    for block in re.split(r"(\n\s*\n|\n)", text):
        start, pos = pos, pos + len(block)
        if block.strip():
            out.append(f"<p>{mark(text, spans, start, pos)}</p>")
    return "\n".join(out)


def page_of(pages: list[int] | None, spans: list[Span]) -> int | None:
    """The page (from 1) of a paged document (PDF) on which the first match stands, given
    where each page starts in the text; None for an unpaged document or without a match."""
    if not pages or not spans:
        return None
    return max(1, bisect_right(pages, spans[0][0]))
