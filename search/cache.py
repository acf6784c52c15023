"""Caches between processes: data that is slow to parse or load, kept in the user's cache folder.

Two processes use them: the dictionary and cognate vocabulary of query translation
(:mod:`search.translation`, marshal files) and the language identifier's model
(:mod:`search.documents.langid_model`, numpy arrays read through memory maps). A cache is only an
optimisation: a missing, stale, unreadable or unwritable one just means the work is done again.
Every cached value is stored with a key that says what it was made from; a value whose key
differs is ignored.
"""

from __future__ import annotations

import contextlib
import logging
import marshal
import os
import shutil
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy is imported when arrays are read: queries never need it
    import numpy as np

#: Folder of the caches; "" turns caching off. Default:
#: ``$XDG_CACHE_HOME/bilingual-search`` or ``~/.cache/bilingual-search``.
ENV_CACHE = "SEARCH_CACHE_DIR"
#: Bump when the layout of cached data changes.
CACHE_FORMAT = 1
#: The file in an array folder that holds its key.
_KEY_FILE = "key.marshal"

log = logging.getLogger(__name__)


def cache_dir() -> Path | None:
    """Where parsed data is cached between processes, or None when caching is off."""
    value = os.environ.get(ENV_CACHE)
    if value is not None:
        return Path(value) if value else None
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except (RuntimeError, KeyError):  # no home folder
            return None
    return Path(base) / "bilingual-search"


def file_signature(path: Path) -> tuple[str, int, int, int]:
    """What identifies a file's version in a key: its path, size, mtime and inode."""
    st = path.stat()
    return (str(path.absolute()), st.st_size, st.st_mtime_ns, st.st_ino)


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")


def read_cache(path: Path, key: tuple) -> Any:
    """The data cached in ``path`` under ``key``, or None (absent, stale, unreadable)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()  # marshal.load() would read a file in many small pieces
        stored_key, value = marshal.loads(data)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return value if stored_key == key else None


def write_cache(path: Path, key: tuple, value: Any) -> bool:
    """Cache ``value`` (marshal-able) in ``path`` under ``key``, atomically; False if the
    folder is not writable (nothing else happens: caching is an optimisation only)."""
    tmp = _temporary(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            marshal.dump((key, value), fh)
        os.replace(tmp, path)
        return True
    except (OSError, ValueError) as exc:
        log.debug("Cannot write the cache %s: %s", path, exc)
        with contextlib.suppress(OSError):
            tmp.unlink()
        return False


def read_arrays(folder: Path, key: tuple, names: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """The arrays cached in ``folder`` under ``key``, memory-mapped read-only (a large table
    costs no time to open, and only the pages used are ever read); None if absent or stale."""
    if read_cache(folder / _KEY_FILE, key) is not True:
        return None
    import numpy as np

    try:
        return {name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
                for name in names}
    except (OSError, ValueError):
        return None


def write_arrays(folder: Path, key: tuple, arrays: Mapping[str, np.ndarray]) -> bool:
    """Cache ``arrays`` in ``folder`` under ``key``. The folder is written beside and then
    renamed into place, so a reader sees all of it or none; False if that fails."""
    import numpy as np

    tmp = _temporary(folder)
    try:
        tmp.mkdir(parents=True)
        for name, array in arrays.items():
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
        if not write_cache(tmp / _KEY_FILE, key, True):
            raise OSError(f"cannot write {tmp / _KEY_FILE}")
        if folder.exists():
            if read_cache(folder / _KEY_FILE, key) is True:  # another process was quicker
                shutil.rmtree(tmp, ignore_errors=True)
                return True
            shutil.rmtree(folder, ignore_errors=True)  # unusable: replace it
        os.replace(tmp, folder)
        return True
    except OSError as exc:  # unwritable, or another process renamed its copy in first
        log.debug("Cannot write the cache %s: %s", folder, exc)
        shutil.rmtree(tmp, ignore_errors=True)
        return False
