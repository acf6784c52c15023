"""A JSON side file of an index generation, read again only when the file changes.

An index generation keeps a few files beside the index (the found pairs, the site maps'
translation groups) that a run may rewrite without committing anything to the index. A
searcher reads such a file once and keeps what it read until the file's ``stat`` changes
(inode, modification time, size): one ``stat`` a search, not one a hit (callers check once,
at the start of a search, and pass the value on).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")


class SideFile(Generic[T]):
    """What ``load(folder)`` made of the file ``name`` in a generation folder, kept until the
    file changes; ``empty()`` when there is no such file (the same object each time, so that
    caches keyed on the value's identity hold).

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> side = SideFile("n.txt", lambda f: (f / "n.txt").read_text(), empty=lambda: "")
    >>> side.get(folder)
    ''
    >>> _ = (folder / "n.txt").write_text("one")
    >>> side.get(folder)
    'one'
    >>> side.get(folder) is side.get(folder)
    True
    """

    def __init__(self, name: str, load: Callable[[Path], T], *, empty: Callable[[], T]) -> None:
        self._name = name
        self._load = load
        self._empty = empty
        self._signature: tuple | None = None
        self._value: T = empty()

    def get(self, folder: Path) -> T:
        """The file's value for generation ``folder``: read again if the file changed."""
        folder = Path(folder)
        try:
            st = (folder / self._name).stat()
            signature: tuple = (str(folder), st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:  # none: the same empty value each time
            signature = (str(folder),)
        if signature != self._signature:
            if len(signature) > 1:
                self._value = self._load(folder)
            elif self._signature is None or len(self._signature) > 1:
                self._value = self._empty()
            self._signature = signature
        return self._value
