"""Titles and dates "as a reader would give them", taken from the start of a text.

Plain text has no markup, so the title is the first line when that line is a headline, and
otherwise the first sentence (without any dateline), shortened. The date is taken only from
the start of a text (a dateline such as "LJUBLJANA, 29. oktober 2024 -" or a "date 2024-07"
marker): dates deep inside the body are about events, not about the document.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

#: A first line up to this long (one sentence, no final period, not continued) is a headline.
HEADLINE_MAX_CHARS = 150
#: Titles made from a sentence are shortened to about this many characters.
TITLE_MAX_CHARS = 100
#: Datelines are looked for only this far into a text.
DATELINE_WINDOW = 200

_MONTHS: dict[str, int] = {}
for _n, _names in enumerate((
    "january jan januar januarja", "february feb februar februarja",
    "march mar marec marca", "april apr aprila", "may maj maja",
    "june jun junij junija", "july jul julij julija", "august aug avgust avg avgusta",
    "september sep sept septembra", "october oct oktober okt oktobra",
    "november nov novembra", "december dec decembra",
), start=1):
    for _name in _names.split():
        _MONTHS[_name] = _n
_MONTH = r"(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"

_DAY = r"(?P<day>0?[1-9]|[12]\d|3[01])"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
# Date forms, each a regex with named groups year/mon(th name)/month(number)/day.
_DATE_FORMS = [
    # ISO: 2024-10-29, 2024-10, 2024
    r"(?P<year>(?:19|20)\d\d)(?:-(?P<month>0[1-9]|1[0-2])(?:-(?P<day>0[1-9]|[12]\d|3[01]))?)?"
    r"(?![\d-])",
    # Slovenian numeric: 29. 10. 2024 / 29.10.2024
    _DAY + r"\.\s?(?P<month>0?[1-9]|1[0-2])\.\s?" + _YEAR + r"\b",
    # 29 October 2024 / 29. oktober 2024 / 29. oktobra / 29 Oct
    _DAY + r"\.?\s+" + _MONTH + r"(?:,?\s+" + _YEAR + r")?\b",
    # October 29, 2024 / October 29
    _MONTH + r"\s+" + _DAY + r"(?:st|nd|rd|th)?(?:,?\s+" + _YEAR + r")?\b(?!\.\d)",
    # October 2024 / oktober 2024
    _MONTH + r"\s+" + _YEAR + r"\b",
]
_DATE_RES = [re.compile(form, re.I) for form in _DATE_FORMS]

# "date 2024-07", "Date: 29 October 2024", "Datum: 29. 10. 2024", "Published: ..."
_MARKER = re.compile(
    r"(?P<label>dated|date|datum|published|objavljeno)\b\s*[:=]?\s*", re.I)
# A place before a dateline: "SLOVENIA, ", "Ljubljana, ", "BRUSSELS (STA), ", "Nova Gorica, "
_PLACE = re.compile(r"(?P<place>[A-ZČŠŽ][\w'’.-]*(?:\s+[A-ZČŠŽ][\w'’.-]*){0,3}"
                    r"(?:\s*\([A-Z]{2,6}\))?),\s+")
# What may separate a dateline from the text after it.
_AFTER_DATE = re.compile(r"\s*(?:\([A-Z]{2,6}\)\s*)?(?:[-–—:|]+|\n|$)\s*")

_WS = re.compile(r"\s*")
_SENTENCE_END = re.compile(r"[.!?…](?:[\"'”’»)]*)(?=\s+[\"'“„‘«(]*[A-ZČŠŽĆĐ0-9])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:mr|mrs|ms|dr|prof|st|no|vs|etc|inc|ltd|jr|sr|npr|tj|itd|ipd|oz|mag|ga|g|"
    r"dipl|ing|tel|št|str|jan|feb|mar|apr|jun|jul|avg|aug|sep|sept|okt|oct|nov|dec)"
    r"|\b[A-ZČŠŽ]|\d)[.]$", re.I)


def iso_date(year: str | int | None, month: int | None, day: int | None) -> str | None:
    """ISO 8601 text for a (possibly partial) date; None if it is not a real date.
    Without a year a month-day is written ``--MM-DD``: we never invent a year."""
    if month is not None and not 1 <= month <= 12:
        return None
    if year is None:
        if month is None or day is None:
            return None
        if day > (29 if month == 2 else calendar.monthrange(2001, month)[1]):
            return None
        return f"--{month:02d}-{day:02d}"
    y = int(year)
    if month is None:
        return f"{y:04d}"
    if day is None:
        return f"{y:04d}-{month:02d}"
    if not 1 <= day <= calendar.monthrange(y, month)[1]:
        return None
    return f"{y:04d}-{month:02d}-{day:02d}"


def parse_iso_date(value: object) -> str | None:
    """A given date kept as its ISO prefix (YYYY, YYYY-MM, YYYY-MM-DD or --MM-DD), else None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    m = re.match(r"--(\d\d)-(\d\d)(?!\d)", value)
    if m:
        return iso_date(None, int(m[1]), int(m[2]))
    m = re.match(r"(\d{4})(?:-(\d\d)(?:-(\d\d))?)?(?![\d])", value)
    if not m or (m.end() < len(value) and value[m.end()] not in "T -+Z"):
        return None
    return iso_date(m[1], int(m[2]) if m[2] else None, int(m[3]) if m[3] else None)


def _date_at(text: str, pos: int) -> tuple[str, int] | None:
    """A date written exactly at ``pos``: (ISO date, end offset), or None."""
    for rx in _DATE_RES:
        m = rx.match(text, pos)
        if not m:
            continue
        groups = m.groupdict()
        month = groups.get("month")
        mon = groups.get("mon")
        month_no = int(month) if month else _MONTHS.get(mon.lower().rstrip(".")) if mon else None
        day = int(groups["day"]) if groups.get("day") else None
        iso = iso_date(groups.get("year"), month_no, day)
        if iso:
            return iso, m.end()
    return None


@dataclass(frozen=True)
class Dateline:
    """A date stated at the start of a text, and where it is written."""

    date: str  #: ISO 8601, possibly partial
    start: int  #: offset of the dateline (its label or place, if any)
    end: int  #: offset just after it and its separator: the text proper starts here
    marker: bool  #: an explicit "date ..." label, i.e. metadata rather than prose


def find_dateline(text: str) -> Dateline | None:
    """The date stated at the start of ``text``, if any.

    A date counts only at the start of one of the lines in the first ``DATELINE_WINDOW``
    characters, optionally after a label ("date", "Datum:") or a place ("SLOVENIA, "), and
    followed by a separator (" - ", ":"), the end of the line, or (after a label) anything.
    """
    window = text[:DATELINE_WINDOW]
    starts = [0] + [m.end() for m in re.finditer(r"\n", window)]
    for start in starts:
        pos = start
        while pos < len(window) and window[pos] in " \t":
            pos += 1
        label = _MARKER.match(window, pos)
        if label:
            found = _date_at(text, label.end())
            if found:
                after = _AFTER_DATE.match(text, found[1]) or _WS.match(text, found[1])
                return Dateline(found[0], pos, after.end(), True)
        place = _PLACE.match(window, pos)
        for at in ((pos, place.end()) if place else (pos,)):
            found = _date_at(text, at)
            if not found:
                continue
            after = _AFTER_DATE.match(text, found[1])
            if after:
                return Dateline(found[0], pos, after.end(), False)
    return None


def strip_date_marker(text: str) -> tuple[str, str | None]:
    """``text`` without a leading "date 2024-07" marker, and the date the text states.

    Only a labelled marker is removed: a dateline such as "SLOVENIA, October 29 -" is part of
    the prose and stays in the text (the title skips it).
    """
    line = find_dateline(text)
    if line is None:
        return text, None
    if line.marker and not text[: line.start].strip():
        text = text[line.end:].lstrip()
    return text, line.date


def shorten(text: str, limit: int = TITLE_MAX_CHARS) -> str:
    """``text`` cut at a word boundary to about ``limit`` characters, with "…" if cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit + 1)
    head = text[: cut if cut > limit // 2 else limit]
    return head.rstrip(" ,;:–—-([{\"'“„‘") + "…"


def first_sentence(paragraph: str) -> str:
    """The first sentence of a paragraph (abbreviations, initials and the dots of numeric
    dates such as "29. 10. 2024" do not end one)."""
    for m in _SENTENCE_END.finditer(paragraph):
        if m.group(0)[0] == ".":
            before = paragraph[: m.start() + 1]
            if _ABBREVIATION.search(before):
                continue
            rest = paragraph[m.end():].lstrip()
            if before[-2:-1].isdigit() and rest[:1].isdigit():
                continue
        return paragraph[: m.end()]
    return paragraph


def _is_headline(line: str, following: str) -> bool:
    """A first line is a headline when it is short, a single sentence without a closing
    period, and not cut off mid-sentence by a hard line wrap (next line in lower case)."""
    if not line or len(line) > HEADLINE_MAX_CHARS or line.endswith("."):
        return False
    if following[:1].islower():
        return False
    return first_sentence(line) == line


def title_from_text(text: str) -> str:
    """A title for a text without one: its headline, else its first sentence shortened;
    a leading dateline or date marker is never part of it."""
    text = text.strip()
    line = find_dateline(text)
    if line is not None and not text[: line.start].strip():
        text = text[line.end:].strip() or text
    lines = text.split("\n", 2)
    first = lines[0].strip()
    following = lines[1].strip() if len(lines) > 1 else ""
    if _is_headline(first, following):
        return shorten(first, HEADLINE_MAX_CHARS)
    paragraph = " ".join(text.split("\n\n", 1)[0].split())
    sentence = first_sentence(paragraph).strip()
    if len(sentence) <= TITLE_MAX_CHARS:
        return sentence[:-1] if sentence.endswith(".") and not sentence.endswith("..") \
            else sentence
    return shorten(sentence)
