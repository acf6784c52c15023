"""Where an index lives on disk: generations, the ``current`` pointer, engine metadata.

Layout of an index folder::

    index/
      current -> gen-20261122T031500-1a2b   (symlink, swapped atomically on rebuild)
      gen-20261122T031500-1a2b/             (a Whoosh index)
        engine.json                         (engine version, format, analysis options, analysers)
        sources.json                        (file -> mtime, size, document ids)
        .building                           (only while a rebuild has not been switched in)
      .writelock                            (held by the one process updating the index)

Crash safety: a rebuild is invisible until ``current`` is swapped, and an incremental update
is one Whoosh commit (an atomic rename of its table of contents). A process killed at any
moment therefore leaves the previous index readable and complete; the ``gen-*`` folder of a
killed rebuild still carries ``.building`` and is removed by the next run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from whoosh import index

from search import __version__
from search.analysis import LANGUAGES, analysis_options
from search.errors import IncompatibleIndex, IndexLocked, IndexNotFound, IndexNotWritable
from search.schema import build_schema, text_fields
from search.whoosh_ext.pread import INDEX_NAME, ReadStorage

#: Bump when the schema or any analyser changes in a way that needs a rebuild.
INDEX_FORMAT = 3  # 2: one spelling field per language; 3: address keys (urls, links)
ENGINE_FILE = "engine.json"
SOURCES_FILE = "sources.json"
CURRENT = "current"
ENV_INDEX = "SEARCH_INDEX"
#: Lock file in the index folder: one writer at a time, whatever kind of update it makes.
LOCK_FILE = ".writelock"
#: Marker in a generation that has not been switched in yet (a crash leaves it behind).
BUILDING_FILE = ".building"
#: How often (seconds) a waiting writer tries the lock again.
LOCK_POLL = 0.05


def _random_hex(digits: int) -> str:
    """Random hex digits for unique names (``uuid`` costs a search process's start 6 ms)."""
    return os.urandom((digits + 1) // 2).hex()[:digits]


def default_index_path() -> Path:
    """``$SEARCH_INDEX`` if set, else ``./index``."""
    return Path(os.environ.get(ENV_INDEX) or "index")


# -- index folder layout --------------------------------------------------------------------

class IndexLayout:
    """The generations of one index folder and the ``current`` pointer between them."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_index_path()

    def current(self) -> Path | None:
        link = self.root / CURRENT
        if link.is_symlink() or link.is_dir():
            target = link.resolve()
            if target.is_dir():
                return target
        return None

    @contextlib.contextmanager
    def writing(self, timeout: float) -> Iterator[None]:
        """Hold the folder's writer lock, waiting at most ``timeout`` seconds for it.

        Whoosh's own lock only covers one generation: without this, a rebuild could run
        beside an update (and lose it), or switch generations and delete the folder another
        rebuild is still writing. The lock is an ``flock``: the kernel drops it when its
        holder dies, even by ``kill -9``, so a crash never leaves the index locked.
        """
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise IndexNotWritable(not_writable_message(self.root, e)) from e
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not on POSIX: Whoosh's lock alone
            yield
            return
        try:
            fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise IndexNotWritable(not_writable_message(self.root, e)) from e
        try:
            deadline = time.monotonic() + max(0.0, timeout)
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise IndexLocked(locked_message(self.root, timeout)) from None
                    time.sleep(LOCK_POLL)
            _held_locks.add(fd)
            try:
                yield
            finally:
                _held_locks.discard(fd)
        finally:
            os.close(fd)  # releases the lock

    def new_generation(self) -> Path:
        """An empty generation folder, marked as unfinished until :meth:`switch`."""
        self.root.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        gen = self.root / f"gen-{stamp}-{_random_hex(6)}"
        gen.mkdir()
        (gen / BUILDING_FILE).touch()
        return gen

    def orphans(self) -> list[Path]:
        """Generations a killed rebuild left behind: unfinished and not current.

        Only meaningful while holding :meth:`writing`, when no rebuild can be in progress.
        A generation without ``engine.json`` was killed before it was even set up.
        """
        current = self.current()
        return sorted(gen for gen in self.root.glob("gen-*")
                      if gen.is_dir() and gen.resolve() != current
                      and ((gen / BUILDING_FILE).exists() or not (gen / ENGINE_FILE).exists()))

    def clean_orphans(self) -> list[Path]:
        """Delete what :meth:`orphans` finds (call while holding :meth:`writing`)."""
        found = self.orphans()
        for gen in found:
            shutil.rmtree(gen, ignore_errors=True)
        for link in self.root.glob(".current-*"):  # a switch killed before its rename
            with contextlib.suppress(OSError):
                link.unlink()
        return found

    def switch(self, gen: Path) -> None:
        """Atomically point ``current`` at ``gen``, then drop generations no longer needed."""
        previous = self.current()
        tmp = self.root / f".current-{_random_hex(8)}"
        os.symlink(gen.name, tmp)
        # Unmarked first: a crash right after leaves a finished generation that is merely
        # not in use (dropped by the next rebuild), never a marked one in use.
        with contextlib.suppress(FileNotFoundError):
            (gen / BUILDING_FILE).unlink()
        os.replace(tmp, self.root / CURRENT)
        self._fsync_dir(self.root)
        # current() is resolved (absolute) while the root may be relative: compare resolved.
        keep = {gen.resolve(), previous}
        for old in self.root.glob("gen-*"):
            # Keep the generation just replaced: open readers may still be using it.
            if old.resolve() not in keep:
                shutil.rmtree(old, ignore_errors=True)

    def discard(self, gen: Path) -> None:
        if gen.resolve() != self.current():
            shutil.rmtree(gen, ignore_errors=True)

    @staticmethod
    def _fsync_dir(path: Path) -> None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


#: Writer-lock file descriptors this process holds (see ``_after_fork_in_child``).
_held_locks: set[int] = set()
#: The pid that forked us last (set before every fork), and Linux's prctl option number.
_parent_pid = [os.getpid()]
PR_SET_PDEATHSIG = 1


def _before_fork() -> None:
    _parent_pid[0] = os.getpid()


def _after_fork_in_child() -> None:
    """Make a process forked while the writer lock is held (Whoosh's ``procs`` workers)
    unable to outlive or out-lock its parent.

    A forked child shares the parent's ``flock``, and Whoosh's workers wait on their job
    queue forever once the parent is gone: after a ``kill -9`` of the indexer they would
    hold the index locked for good. So the child drops its copy of the descriptor (closing
    it does not release the parent's lock) and, on Linux, asks to be killed with its parent.
    """
    if not _held_locks:
        return
    for fd in list(_held_locks):
        with contextlib.suppress(OSError):
            os.close(fd)
    _held_locks.clear()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):  # pragma: no cover - no usable libc
            return
        if os.getppid() != _parent_pid[0]:  # the parent died before prctl took effect
            os._exit(1)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)


def locked_message(root: Path, timeout: float) -> str:
    """What a writer that gave up waiting for the lock tells the user."""
    return (f"The index at {root} is being updated by another process; waited {timeout:g} s. "
            "Try again when it has finished.")


def not_writable_message(root: Path, error: OSError) -> str:
    """What a writer that cannot write into the index folder tells the user."""
    return (f"Cannot write to the index folder {root}: {error.strerror or error}. Nothing was "
            "changed. Make it writable, or choose another folder with --index DIR.")


def _rebuild_hint(root: Path) -> str:
    return f"Rebuild it with: search-cli index PATH... --rebuild --index {root}"


def read_engine_info(gen: Path) -> dict[str, Any]:
    try:
        return json.loads((gen / ENGINE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def open_index(root: str | Path | None = None) -> tuple[index.Index, Path]:
    """Open the current generation, refusing indexes this version cannot read."""
    layout = IndexLayout(root)
    gen = layout.current()
    if gen is None:
        if layout.root.is_dir() and any(layout.root.glob("*.toc")):
            raise IncompatibleIndex(
                f"{layout.root} holds an index from an older layout. {_rebuild_hint(layout.root)}")
        raise IndexNotFound(f"No index at {layout.root}. Build one with: "
                            f"search-cli index PATH... --index {layout.root}")
    info = read_engine_info(gen)
    if info.get("format") != INDEX_FORMAT:
        raise IncompatibleIndex(
            f"The index at {layout.root} was built by engine version "
            f"{info.get('engine_version', 'unknown')} (index format {info.get('format', '?')}); "
            f"this is version {__version__} (format {INDEX_FORMAT}). {_rebuild_hint(layout.root)}")
    try:
        return index.FileIndex(ReadStorage(str(gen)), indexname=INDEX_NAME), gen
    except index.EmptyIndexError as exc:
        raise IndexNotFound(f"The index at {layout.root} is empty or unfinished. "
                            f"{_rebuild_hint(layout.root)}") from exc
    except Exception as exc:  # unpickling an old schema fails in many ways
        raise IncompatibleIndex(f"The index at {layout.root} cannot be read by this version "
                                f"({type(exc).__name__}: {exc}). {_rebuild_hint(layout.root)}"
                                ) from exc


def create_index(gen: Path, analysis: Mapping[str, bool] | None = None) -> index.Index:
    """A new, empty index in ``gen``; ``analysis``: index-time analysis options (ablations)."""
    options = analysis_options(analysis)
    ix = index.create_in(str(gen), build_schema(options))
    info = {
        "engine": "bilingual-search",
        "engine_version": __version__,
        "format": INDEX_FORMAT,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "languages": sorted(LANGUAGES),
        "analysis": options,
        "analyzers": {name: repr(ix.schema[name].analyzer) for name, _, _ in text_fields()},
    }
    write_json(gen / ENGINE_FILE, info)
    return ix


def write_json(path: Path, data: Any) -> None:
    """Write atomically: a crash leaves the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.{_random_hex(8)}")
    text = json.dumps(data, ensure_ascii=False)  # one shot: json's C encoder (dump isn't)
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load_manifest(gen: Path) -> dict[str, dict[str, Any]]:
    try:
        return json.loads((gen / SOURCES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
