"""Where a term stands in a few documents: the positions the re-ranking of the top hits needs.

Re-ranking reads the positions of every query term in each of the top hits (about a hundred);
for a long query that is a thousand terms. Whoosh's matcher finds each document with
``skip_to``, which steps through a block's postings one Python call at a time, and a block's
data is unpickled again for each term the executor has just read. Here a block is skipped by
its header alone (its last document number) when it holds none of the wanted documents, and
the wanted ones are found by bisection; the blocks the executor has already unpickled while
scoring are reused as they are (:func:`positions_from_blocks`).

:func:`whoosh_positions` is the reference (Whoosh's own matcher, used with ``fast=False``);
``tests/test_whoosh_ext_positions.py`` checks that both give the same positions.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from itertools import accumulate
from typing import Any

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import ListMatcher
from whoosh.reading import TermNotFound

__all__ = ["block_positions", "positions_at", "positions_from_blocks", "segment_positions",
           "whoosh_positions"]

#: One block of one term's postings: (docnum offset of its segment, sorted local document
#: numbers, the encoded values of those postings).
Block = tuple[int, Sequence[int], Sequence[Any]]


def _segments(searcher: Any) -> list[tuple[Any, int]]:
    subs = searcher.subsearchers if not searcher.is_atomic() else [(searcher, 0)]
    return [(sub.reader(), offset) for sub, offset in subs]


def whoosh_positions(searcher: Any, fieldname: str, btext: bytes,
                     docnums: Iterable[int]) -> dict[int, list[int]]:
    """The positions of one term in each of ``docnums`` that holds it, through Whoosh's
    matcher (``skip_to`` and ``value_as``): the reference for :func:`block_positions`."""
    fieldobj = searcher.schema[fieldname]
    wanted = sorted(docnums)
    out: dict[int, list[int]] = {}
    for reader, offset in _segments(searcher):
        end = offset + reader.doc_count_all()
        local = [d - offset for d in wanted if offset <= d < end]
        if not local:
            continue
        try:
            m = reader._terms.matcher(fieldname, btext, fieldobj.format, scorer=None)
        except TermNotFound:
            continue
        for docnum in local:
            if not m.is_active():
                break
            if m.id() < docnum:
                m.skip_to(docnum)
            if m.is_active() and m.id() == docnum:
                out[docnum + offset] = m.value_as("positions")
    return out


def block_positions(searcher: Any, fieldname: str, btext: bytes,
                    docnums: Iterable[int]) -> dict[int, list[int]]:
    """As :func:`whoosh_positions`, reading only the blocks that hold a wanted document."""
    fmt = searcher.schema[fieldname].format
    wanted = sorted(docnums)
    out: dict[int, list[int]] = {}
    for reader, offset in _segments(searcher):
        end = offset + reader.doc_count_all()
        local = [d - offset for d in wanted if offset <= d < end]
        if local:
            segment_positions(searcher, reader, offset, fieldname, btext, fmt, local, out)
    return out


def segment_positions(searcher: Any, reader: Any, offset: int, fieldname: str, btext: bytes,
                      fmt: Any, local: list[int], out: dict[int, list[int]]) -> None:
    """:func:`block_positions` in one segment (``local``: its sorted local docnums)."""
    try:
        m = reader._terms.matcher(fieldname, btext, fmt, scorer=None)
    except TermNotFound:
        return
    if isinstance(m, ListMatcher):
        _decode(fmt, ((offset, m._ids, m._values),), local, out, local=True)
    elif isinstance(m, W3LeafMatcher):
        _decode(fmt, _wanted_blocks(m, local, offset), local, out, local=True)
    else:  # another codec: Whoosh's matcher knows how to read it
        out.update(whoosh_positions(searcher, fieldname, btext, [d + offset for d in local]))


def positions_at(reader: Any, key: tuple[str, bytes], info: Any, fmt: Any,
                 blocks: dict[int, list[int]], offset: int, out: dict[int, list[int]]) -> None:
    """The positions of a term in documents of one segment whose blocks are known
    ({offset of the block in the postings file: [local docnum, ...]}, from the segment's
    columns, see :mod:`search.whoosh_ext.columnar`): each block is read directly, none
    passed over."""
    terms = reader._terms
    m = terms._codec.postings_reader(terms._postfile, info, fmt, term=key, scorer=None)
    decode = fmt.decoder("positions")
    for position, docs in blocks.items():
        m._goto(position)
        m._read_data()
        ids, values = _block_data(m)
        for docnum in docs:
            j = bisect_left(ids, docnum)
            if j < len(ids) and ids[j] == docnum:
                out[docnum + offset] = decode(values[j])


def positions_from_blocks(fmt: Any, blocks: Iterable[Block],
                          docnums: Iterable[int]) -> dict[int, list[int]]:
    """The positions of a term in each of ``docnums`` from blocks already read (see
    :data:`Block`), in docnum order."""
    wanted = sorted(docnums)
    out: dict[int, list[int]] = {}
    _decode(fmt, blocks, wanted, out, local=False)
    return out


def _block_data(m: W3LeafMatcher) -> tuple[Any, Any]:
    """The docnums and the encoded values (positions) of the block a W3 matcher has read."""
    ids = m._data[0] if m._byteids else tuple(accumulate(m._data[0]))
    values = m._data[2]
    if m._fixedsize is not None and m._fixedsize >= 0:  # not a positions format
        m._ids = ids
        m._read_values()
        values = m._values
    return ids, values


def _wanted_blocks(m: W3LeafMatcher, local: list[int], offset: int):
    """The blocks of a W3 matcher that may hold one of ``local`` (sorted local docnums);
    the others are passed over by their header (no unpickling of their data)."""
    i = 0
    while m.is_active() and i < len(local):
        if m._maxid < local[i]:
            m._next_block()
            continue
        if m._data is None:
            m._read_data()
        ids, values = _block_data(m)
        yield offset, ids, values
        while i < len(local) and local[i] <= m._maxid:
            i += 1
        m._next_block()


def _decode(fmt: Any, blocks: Iterable[Block], wanted: list[int], out: dict[int, list[int]],
            local: bool) -> None:
    """Decode into ``out`` (by global docnum) the positions of the ``wanted`` documents found
    in ``blocks``; ``wanted`` holds the segment's local docnums if ``local``, else global
    ones."""
    decode = fmt.decoder("positions")
    for offset, ids, values in blocks:
        if not len(ids):
            continue
        base = 0 if local else offset
        lo = bisect_left(wanted, ids[0] + base)
        hi = bisect_left(wanted, ids[-1] + base + 1)
        for docnum in wanted[lo:hi]:
            j = bisect_left(ids, docnum - base)
            if j < len(ids) and ids[j] == docnum - base:
                out[docnum - base + offset] = decode(values[j])
