"""Finding the input files under the paths a user asks to index."""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from search.model import Problem, Source

#: File name extensions we can read (lower case), by reader.
TEXT_EXTENSIONS = frozenset({".txt"})
HTML_EXTENSIONS = frozenset({".html", ".htm", ".xhtml"})
JSONL_EXTENSIONS = frozenset({".jsonl"})
PDF_EXTENSIONS = frozenset({".pdf"})
DOCX_EXTENSIONS = frozenset({".docx"})
ODT_EXTENSIONS = frozenset({".odt"})
SUPPORTED_EXTENSIONS = (TEXT_EXTENSIONS | HTML_EXTENSIONS | JSONL_EXTENSIONS | PDF_EXTENSIONS
                        | DOCX_EXTENSIONS | ODT_EXTENSIONS)


#: Site maps (``sitemap.xml``, ``sitemap-pages.xml``...): read for the translations they
#: declare (``xhtml:link`` alternates), not indexed as documents.
SITEMAP_NAME = re.compile(r"sitemap[\w.-]*\.xml", re.IGNORECASE)


def is_sitemap(path: str | Path) -> bool:
    """Whether a file is named as a site map (whatever folder it is in)."""
    return SITEMAP_NAME.fullmatch(os.path.basename(os.fspath(path))) is not None


def is_supported(path: str | Path) -> bool:
    """Whether a file name has an extension we read, or is a site map's."""
    return (os.path.splitext(os.fspath(path))[1].lower() in SUPPORTED_EXTENSIONS
            or is_sitemap(path))


def _reason(e: OSError) -> str:
    return e.strerror or str(e)


#: What a file that is neither a regular file nor a folder is, by ``stat`` test.
_SPECIAL_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
                  (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _kind(mode: int) -> str:
    return next((name for test, name in _SPECIAL_KINDS if test(mode)), "a special file")


def not_a_file(path: str | Path) -> str | None:
    """Why ``path`` cannot be read as a file, for a path that is neither a regular file nor
    a folder ("a named pipe (FIFO)", "a symbolic link loop", ...); None if it is one of
    those, or does not exist at all."""
    try:
        st = os.stat(path)
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "a symbolic link loop (too many levels of symbolic links)"
        if os.path.islink(path):
            return f"a broken symbolic link (to {os.readlink(path)}, which does not exist)"
        return None if e.errno == errno.ENOENT else f"unreadable: {_reason(e)}"
    if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
        return None
    return f"not a regular file: {_kind(st.st_mode)}"


def open_regular(path: str | Path) -> BinaryIO:
    """Open a file for reading in binary mode, refusing anything but a regular file.

    Opened without blocking: a named pipe put where a file was found would otherwise wait
    for a writer forever (``open`` of a FIFO blocks), and with it the whole indexing run.
    Raises ``OSError`` (with the reason as ``strerror``) for what is not a regular file.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, f"not a regular file: {_kind(mode)}", str(path))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _source(path: Path, root: Path, key: str, resolved: bool = False) -> Source | Problem:
    """``resolved``: ``path`` is known to be its own real path (saves a system call per
    folder level: the walk of a large tree is most of an incremental run)."""
    try:
        st = path.stat()
        real = path if resolved else path.resolve()
    except OSError as e:
        return Problem(str(path), f"unreadable: {_reason(e)}")
    return Source(path=real, root=root, key=key, mtime_ns=st.st_mtime_ns, size=st.st_size)


def _walk(root: Path) -> Iterator[Source | Problem]:
    """Supported files under ``root`` (hidden ones skipped), sorted by key; unlistable folders,
    broken links, link loops and special files (pipes, sockets, devices) with a supported
    name as problems. Symlinked folders are not followed (no cycles)."""
    found: list[tuple[str, Source | Problem]] = []
    prefix = len(os.path.join(str(root), ""))  # strings, not Paths: this loop sees every file
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as entries:
                entries = list(entries)
        except OSError as e:
            found.append((folder.relative_to(root).as_posix(),
                          Problem(str(folder), f"cannot list folder: {_reason(e)}")))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = entry.is_file()
            except OSError:
                is_dir = is_file = False
            if is_dir:
                stack.append(Path(entry.path))
            elif is_supported(entry.name):
                path = Path(entry.path)
                key = entry.path[prefix:].replace(os.sep, "/")
                if is_file:
                    # ``root`` is resolved and symlinked folders are not entered: a file
                    # that is no link is its own real path.
                    real = not entry.is_symlink()
                    found.append((key, _source(path, root, key, resolved=real)))
                else:
                    # Not a regular file (nor a folder): say what it is, never open it.
                    why = not_a_file(path)
                    if why is not None:
                        found.append((key, Problem(str(path), why)))
    found.sort(key=lambda item: item[0])
    for _, item in found:
        yield item


def find_sources(paths: Iterable[str | Path]) -> Iterator[Source | Problem]:
    """A :class:`Source` per supported file under ``paths`` (files or folders, recursive),
    sorted by key within each argument; a :class:`Problem` for a path we cannot use.

    A file reachable through several arguments is yielded once (the first time).
    """
    seen: set[Path] = set()
    for arg in paths:
        given = Path(arg).expanduser()
        try:
            absolute = Path(os.path.abspath(given))
            if not absolute.exists():
                why = not_a_file(absolute) if os.path.lexists(absolute) else None
                yield Problem(str(arg), why or "not found: no such file or folder")
                continue
            if absolute.is_dir():
                items: Iterable[Source | Problem] = _walk(absolute.resolve())
            elif absolute.is_file():
                if not is_supported(absolute):
                    suffix = absolute.suffix or "(no extension)"
                    yield Problem(str(arg), f"unsupported file type {suffix}; supported: "
                                            + ", ".join(sorted(SUPPORTED_EXTENSIONS)))
                    continue
                items = [_source(absolute, absolute.parent.resolve(), absolute.name)]
            else:
                yield Problem(str(arg), not_a_file(absolute) or "not a regular file or folder")
                continue
        except OSError as e:
            yield Problem(str(arg), f"unreadable: {_reason(e)}")
            continue
        for item in items:
            if isinstance(item, Source):
                if item.path in seen:
                    continue
                seen.add(item.path)
            yield item
