"""The boundary of search/whoosh_ext/: outside it, ``search`` uses Whoosh's public API only.

Every module of ``search/`` outside ``search/whoosh_ext/`` is parsed with :mod:`ast` and
checked for

- imports of Whoosh modules outside :data:`PUBLIC_MODULES` (``whoosh.codec``,
  ``whoosh.filedb``, ``whoosh.matching``, ``whoosh.multiproc``, ``whoosh.util``, ...), and of
  underscore names from any Whoosh module;
- access to an underscore attribute of another object (``reader._terms``, ``m._ids``,
  ``getattr(terms, "_tindex")``): allowed only on ``self``/``cls``, on a stdlib module
  (``os._exit``), or where the module itself defines that name (a class of ours reading its
  own private attribute from a classmethod, say), since the static check cannot tell a
  Whoosh object from ours by its type;
- ``obj.__dict__`` of anything but ``self`` (a cache kept inside a Whoosh object).

The public API we decided on (:data:`PUBLIC_MODULES`) is what Whoosh's documentation shows
applications using: opening and creating indexes, schemas and field formats, analysers,
queries and the query parser with its plugin interface, scoring (weighting models),
sorting and facets, searchers and readers through their public methods, and the writers'
merge policies. What replaces or repairs Whoosh's internals lives in ``search/whoosh_ext/``
and is reached through its modules' public functions.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEARCH = ROOT / "search"
ROOM = SEARCH / "whoosh_ext"

#: Whoosh modules the rest of ``search`` may import (and their submodules), with why.
PUBLIC_MODULES = {
    "whoosh.index": "open_dir/create_in, FileIndex, LockError, EmptyIndexError",
    "whoosh.fields": "schemas and field types",
    "whoosh.formats": "posting formats of a field (Positions, Existence), set in a schema",
    "whoosh.analysis": "tokenizers, filters and analysers (the documented extension point)",
    "whoosh.query": "query objects",
    "whoosh.qparser": "the query parser and its plugin interface (syntax nodes, plugins)",
    "whoosh.scoring": "weighting models (BM25F and its scorers)",
    "whoosh.sorting": "facets for sorting and grouping",
    "whoosh.searching": "the searcher and its results",
    "whoosh.reading": "readers (SegmentReader for merge policies), TermNotFound",
    "whoosh.writing": "writers and their merge policies (MERGE_SMALL)",
    "whoosh.highlight": "highlighting",
    "whoosh.collectors": "result collectors",
    "whoosh.spelling": "correctors",
}


def _modules() -> list[Path]:
    return sorted(p for p in SEARCH.rglob("*.py") if ROOM not in p.parents)


def _is_public(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in PUBLIC_MODULES)


def _defined_names(tree: ast.AST) -> set[str]:
    """Underscore names the module defines itself: functions, classes, their attributes
    (``self._x = ...``, ``obj._x = ...``), class-level assignments and keyword parameters."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return {n for n in names if n.startswith("_")}


def _stdlib_modules(tree: ast.AST) -> set[str]:
    """Local names bound to imported standard-library modules (``os``)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top in sys.stdlib_module_names:
                    out.add(alias.asname or top)
    return out


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def violations(path: Path) -> list[str]:
    """What :mod:`this module <tests.test_whoosh_ext_boundary>` forbids, found in ``path``."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    ours = _defined_names(tree)
    stdlib = _stdlib_modules(tree)
    where = path.relative_to(ROOT) if ROOT in path.parents else path.name
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "whoosh" and not _is_public(alias.name):
                    found.append(f"{where}:{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module and \
                node.module.split(".")[0] == "whoosh":
            for alias in node.names:
                # ``from whoosh import query``: the module is whoosh.query.
                module = f"whoosh.{alias.name}" if node.module == "whoosh" else node.module
                if _private(alias.name) or not _is_public(module):
                    found.append(f"{where}:{node.lineno}: from {node.module} import "
                                 f"{alias.name}")
        elif isinstance(node, ast.Attribute):
            base = node.value.id if isinstance(node.value, ast.Name) else None
            if base in ("self", "cls"):
                continue
            if node.attr == "__dict__":
                found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
            elif _private(node.attr) and node.attr not in ours and base not in stdlib:
                found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("getattr", "hasattr", "setattr", "delattr") and \
                len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and \
                isinstance(node.args[1].value, str):
            attr = node.args[1].value
            target = node.args[0]
            on_self = isinstance(target, ast.Name) and target.id in ("self", "cls")
            if not on_self and (attr == "__dict__" or _private(attr) and attr not in ours):
                found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_search_outside_whoosh_ext_uses_public_whoosh_api_only() -> None:
    modules = _modules()
    assert len(modules) > 30 and SEARCH / "searcher.py" in modules
    found = [v for path in modules for v in violations(path)]
    assert not found, "Whoosh internals outside search/whoosh_ext/:\n" + "\n".join(found)


@pytest.mark.parametrize("snippet, expected", [
    ("from whoosh.codec.whoosh3 import W3LeafMatcher\n", "from whoosh.codec.whoosh3"),
    ("from whoosh.matching.binary import AndNotMatcher\n", "from whoosh.matching"),
    ("import whoosh.filedb.filestore\n", "import whoosh.filedb"),
    ("from whoosh.reading import _Private\n", "import _Private"),
    ("from whoosh import codec\n", "from whoosh import codec"),
    ("def f(reader):\n    return reader._terms\n", "reader._terms"),
    ("def f(m):\n    return m._ids, len(m._values)\n", "m._ids"),
    ("def f(t):\n    return getattr(t, '_tindex', None)\n", "getattr(t, '_tindex', None)"),
    ("def f(s):\n    return s.__dict__.setdefault('_x', {})\n", "s.__dict__"),
])
def test_the_check_finds_whoosh_internals(tmp_path: Path, snippet: str, expected: str) -> None:
    """The check is not blind: each kind of use it forbids, in a module of its own."""
    path = tmp_path / "probe.py"
    path.write_text(snippet, encoding="utf-8")
    found = violations(path)
    assert any(expected in v for v in found), found


@pytest.mark.parametrize("snippet", [
    "from whoosh import query as wq\nfrom whoosh.qparser.plugins import Plugin\n",
    "import os\n\ndef f():\n    os._exit(1)\n",
    "class A:\n    def __init__(self):\n        self._x = 1\n\n"
    "    @classmethod\n    def make(cls):\n        a = cls.__new__(cls)\n        a._x = 2\n"
    "        return a._x\n",
    "def f(method):\n    return getattr(method, '__self__', None)\n",
])
def test_the_check_allows_public_api_and_our_own_names(tmp_path: Path, snippet: str) -> None:
    path = tmp_path / "probe.py"
    path.write_text(snippet, encoding="utf-8")
    found = violations(path)
    assert found == []


def test_the_issues_grep_shows_public_whoosh_api_only() -> None:
    """The issue's own command: every Whoosh import outside the room is of a public module."""
    out = subprocess.run(["grep", "-rn", "whoosh", "search/", "--include=*.py"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    lines = [line for line in out.splitlines() if "whoosh_ext" not in line]
    imports = [line for line in lines
               if line.split(":", 2)[2].lstrip().startswith(("from whoosh", "import whoosh"))]
    assert imports
    for line in imports:
        module = line.split(":", 2)[2].split()[1]
        assert _is_public(module) or module == "whoosh", line
