"""A positional file reader for Whoosh segments (what stock Whoosh does differently below).

Stock Whoosh opens a segment file by mapping it and copying every part it opens into a
``BytesIO``, or by reading through one shared file object. :class:`ReadStorage` instead hands
Whoosh :class:`PreadStructFile` views that read with ``os.pread`` at absolute offsets: the
index is held once (as page cache), opening is cheap and threads share no file position.
What Whoosh reads is byte for byte the same (tests/test_storage_read.py compares a stock
``FileStorage`` index with ours). ``search.storage.open_index(..., fast=False)``-style
callers use Whoosh's own ``FileStorage``.
"""

from __future__ import annotations

import os
from typing import Any, BinaryIO

from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile

#: Whoosh's name of the index inside a generation folder (its default).
INDEX_NAME = "MAIN"
#: Bytes read ahead by a :class:`PreadFile` when asked for less (Whoosh reads many tiny
#: varints and headers one after the other).
READ_AHEAD = 4096


class PreadFile:
    """A read-only file object over a byte range of an open file, read with ``os.pread``.

    Whoosh's default way of opening a segment maps the file and then copies every part of it
    it opens (terms, postings, stored fields) into a ``BytesIO``: a search process holds the
    whole index twice, once in anonymous memory and once as mapped pages (1 GB of memory for
    a 460 MB index of 200k documents, and opening took 0.3 s). Without mapping, Whoosh reads
    through one shared file object, whose position the parts of a segment would fight over
    between threads. This reads only what is asked for, at an absolute offset (``pread``
    moves no shared position), with a small read-ahead so that runs of tiny reads cost one
    system call.
    """

    def __init__(self, raw: BinaryIO, offset: int, length: int,
                 name: str | None = None) -> None:
        # The file object, not its descriptor: once it is closed, reading fails instead of
        # reading whatever file reuses the descriptor's number.
        self._raw = raw
        self._offset = offset
        self._length = length
        self._pos = 0
        self._chunk = (0, b"")  # (position, bytes read ahead), replaced as a whole
        self.name = name
        self.closed = False

    def pread(self, size: int, position: int) -> bytes:
        """``size`` bytes at ``position`` (fewer at the end), without moving the position."""
        size = min(size, self._length - position)
        if size <= 0:
            return b""
        start, data = self._chunk
        if start <= position and position + size <= start + len(data):
            return data[position - start:position - start + size]
        if size >= READ_AHEAD:
            return os.pread(self._raw.fileno(), size, self._offset + position)
        ahead = min(READ_AHEAD, self._length - position)
        data = os.pread(self._raw.fileno(), ahead, self._offset + position)
        self._chunk = (position, data)
        return data[:size]

    def read(self, size: int | None = -1) -> bytes:
        pos = self._pos
        if size is None or size < 0:
            size = max(0, self._length - pos)  # (past the end, as a file: nothing)
        start, data = self._chunk  # the common case first: inside the read-ahead
        if start <= pos and pos + size <= start + len(data):
            self._pos = pos + size
            return data[pos - start:pos - start + size]
        data = self.pread(size, pos)
        self._pos = pos + len(data)
        return data

    def peek(self, size: int = 0) -> bytes:
        """Some bytes from the position on, without moving it (``pickle.load`` reads ahead
        with it instead of asking for every few bytes)."""
        pos = self._pos
        start, data = self._chunk
        if not start <= pos < start + len(data):
            self.pread(1, pos)
            start, data = self._chunk
            if not start <= pos < start + len(data):
                return b""
        return data[pos - start:]

    def readline(self, size: int | None = -1) -> bytes:
        out = bytearray()
        while size is None or size < 0 or len(out) < size:
            want = READ_AHEAD if size is None or size < 0 else min(READ_AHEAD, size - len(out))
            block = self.pread(want, self._pos)
            if not block:
                break
            end = block.find(b"\n")
            if end >= 0:
                block = block[:end + 1]
            out += block
            self._pos += len(block)
            if end >= 0:
                break
        return bytes(out)

    def seek(self, where: int, whence: int = 0) -> int:
        if whence == 1:
            where += self._pos
        elif whence == 2:
            where += self._length
        elif whence != 0:
            raise ValueError(f"invalid whence {whence}")
        if where < 0:
            raise ValueError(f"negative seek position {where}")
        self._pos = where
        return where

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self.closed = True  # the descriptor belongs to the whole file's object

    def subset(self, position: int, length: int, name: str | None = None) -> PreadFile:
        return PreadFile(self._raw, self._offset + position, length, name or self.name)


class PreadStructFile(StructFile):
    """Whoosh's structured file over a :class:`PreadFile`; its parts share no position."""

    def __init__(self, fileobj: PreadFile, name: str | None = None, owner: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(fileobj, name=name, **kwargs)
        self._owner = owner  # the real file object (closed with this one), if any

    def get(self, position: int, length: int) -> bytes:
        return self.file.pread(length, position)

    def subset(self, offset: int, length: int, name: str | None = None) -> PreadStructFile:
        return PreadStructFile(self.file.subset(offset, length, name), name=name or self._name)

    def close(self) -> None:
        super().close()
        if self._owner is not None:
            self._owner.close()


class ReadStorage(FileStorage):
    """A Whoosh file storage that reads without mapping or copying (see :class:`PreadFile`).

    Opening is cheaper (nothing is copied) and a search process's memory stays small: only
    the parts of the index a query touches are read, and they stay in the page cache, not
    in the process. Writing is Whoosh's own.
    """

    supports_mmap = False

    def __init__(self, path: str, readonly: bool = False) -> None:
        super().__init__(path, supports_mmap=False, readonly=readonly)

    def open_file(self, name: str, **kwargs: Any) -> PreadStructFile:
        fh = open(self._fpath(name), "rb")  # noqa: SIM115 - closed with the returned file
        try:
            size = os.fstat(fh.fileno()).st_size
            return PreadStructFile(PreadFile(fh, 0, size, name), name=name, owner=fh,
                                   **kwargs)
        except BaseException:
            fh.close()
            raise
