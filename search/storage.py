"""Where an index lives on disk: generations, the ``current`` pointer, engine metadata.

Layout of an index folder::

    index/
      current -> gen-20261122T031500-1a2b   (symlink, swapped atomically on rebuild)
      gen-20261122T031500-1a2b/             (a Whoosh index)
        engine.json                         (engine version, format, analysis options, analysers)
        sources.json                        (file -> mtime, size, document ids)
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from whoosh import index

from search import __version__
from search.analysis import LANGUAGES, analysis_options
from search.errors import IncompatibleIndex, IndexNotFound
from search.schema import build_schema, text_fields

#: Bump when the schema or any analyser changes in a way that needs a rebuild.
INDEX_FORMAT = 1
ENGINE_FILE = "engine.json"
SOURCES_FILE = "sources.json"
CURRENT = "current"
ENV_INDEX = "SEARCH_INDEX"


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

    def new_generation(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        gen = self.root / f"gen-{stamp}-{uuid.uuid4().hex[:6]}"
        gen.mkdir()
        return gen

    def switch(self, gen: Path) -> None:
        """Atomically point ``current`` at ``gen``, then drop generations no longer needed."""
        previous = self.current()
        tmp = self.root / f".current-{uuid.uuid4().hex[:8]}"
        os.symlink(gen.name, tmp)
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
        return index.open_dir(str(gen)), gen
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
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load_manifest(gen: Path) -> dict[str, dict[str, Any]]:
    try:
        return json.loads((gen / SOURCES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
