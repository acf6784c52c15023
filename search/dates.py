"""Ordering and showing the engine's (possibly partial) ISO dates.

Documents carry ISO 8601 dates as precise as their source was: ``2024-07-03``, ``2024-07``,
``2024``, or the yearless ``--10-29`` (a dateline that named no year; we never invent one).
Compared as strings these sort wrongly ("--10-29" before every year, an undated document
before or after all of them depending on the direction), so "newest first" orders by the
key below, and people see the date as they would write it, not the ISO form.
"""

from __future__ import annotations

import re

#: English month names, for :func:`readable_date` (the web UI has its own, per UI language).
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")

_DATED = re.compile(r"(\d{4})(?:-(\d\d)(?:-(\d\d))?)?")
_YEARLESS = re.compile(r"--(\d\d)-(\d\d)")

#: Sort key groups: a date with a year, a month-day without one, no date at all.
_WITH_YEAR, _NO_YEAR, _UNDATED = 0, 1, 2


def newest_first_key(iso: str | bytes | None) -> tuple[int, int, int, int]:
    """The sort key that puts ``iso`` in "newest first" order (ascending keys).

    Dates with a year come first, latest first; within a year or month a more precise date
    comes before the bare year or month (``2024-07-03``, ``2024-07``, ``2024-01-05``,
    ``2024``), since "some time in 2024" is the vaguest claim. Month-days without a year
    follow (latest in the calendar first: they cannot be placed among the years), then
    documents with no date.

    >>> sorted(["", "2023-12-31", "--10-29", "2024", "2024-07", "2024-07-03", "--02-01"],
    ...        key=newest_first_key)
    ['2024-07-03', '2024-07', '2024', '2023-12-31', '--10-29', '--02-01', '']
    """
    if isinstance(iso, bytes):
        iso = iso.decode("utf-8", "replace")
    if iso:
        m = _YEARLESS.match(iso)
        if m:
            return (_NO_YEAR, 0, -int(m[1]), -int(m[2]))
        m = _DATED.match(iso)
        if m:
            return (_WITH_YEAR, -int(m[1]), -int(m[2] or 0), -int(m[3] or 0))
    return (_UNDATED, 0, 0, 0)


def readable_date(iso: str | None) -> str:
    """``iso`` as an English reader writes it: "3 July 2024", "July 2024", "2024", "29 October".

    Anything that is not one of the engine's date forms is shown as it is, not hidden.

    >>> [readable_date(d) for d in ("2024-07-03", "2024-07", "2024", "--10-29", "soon")]
    ['3 July 2024', 'July 2024', '2024', '29 October', 'soon']
    """
    if not iso:
        return ""
    m = _YEARLESS.fullmatch(iso)
    if m and 1 <= int(m[1]) <= 12:
        return f"{int(m[2])} {MONTHS[int(m[1]) - 1]}"
    m = _DATED.fullmatch(iso)
    if not m or (m[2] and not 1 <= int(m[2]) <= 12):
        return iso
    if not m[2]:
        return m[1]
    month = MONTHS[int(m[2]) - 1]
    return f"{int(m[3])} {month} {m[1]}" if m[3] else f"{month} {m[1]}"
