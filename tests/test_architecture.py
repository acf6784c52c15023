"""The structure ARCHITECTURE.md describes, where a test can hold it: rooms import one way,
web/ uses only the library's public names, search/ never imports web/ (but the CLI, which
starts it), modules stay small, no module keeps mutable state of its own, one command line.

Read from the source (``ast``), not by importing: an import done lazily inside a function
counts as much as one at the top.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("search", "web")

#: About 500 lines a module at most (DEVELOPERS.md).
MAX_LINES = 500
#: Modules still over the limit, each being split on another branch (issue 15): remove an
#: entry once its module is under the limit.
OVERSIZE = {
    "search.translation": "h4-languages rewrites it",
    "search.whoosh_ext.execution": "h3-whoosh-ext / h6-speed",
    "search.whoosh_ext.writers": "h3-whoosh-ext",
}

#: The rooms in the order data flows through them; a module imports only from its own room
#: or an earlier one. Modules not named here belong to the "index" room: the index and the
#: language tools it shares with searching (storage, writer, query parser, spelling,
#: translation, snippets, ranking, whoosh_ext, ...).
ROOMS = ("base", "documents", "analysis", "index", "search", "apps")
ROOM_OF = {
    "search.errors": "base", "search.model": "base", "search.dates": "base",
    "search.cache": "base", "search.progress": "base", "search.querylog": "base",
    "search.documents": "documents",
    "search.analysis": "analysis", "search.schema": "analysis",
    "search.searcher": "search", "search.understanding": "search",
    "search.results": "search", "search.grouping": "search", "search.evaluation": "search",
    "search.cli": "apps", "search.cli_progress": "apps", "web": "apps",
}

#: Module-level state that is the process's by nature, with why (see test below).
PROCESS_STATE = {
    ("search.storage", "_held_locks"): "writer locks this process holds, for fork handlers",
    ("search.storage", "_parent_pid"): "the pid that forked, for fork handlers",
    ("search.documents.language", "_identifiers"): "language identifier models, built once",
    ("search.documents.language", "_lock"): "guards building them",
}
#: Modules whose module-level state is being removed on another branch (issue 15).
PENDING_STATE = {"search.translation": "h4-languages"}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _room(module: str) -> str:
    for prefix in sorted(ROOM_OF, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return ROOM_OF[prefix]
    return "index"


def _imports(path: Path) -> list[tuple[str, list[str], bool]]:
    """Each import of our packages: (module, names imported from it, at module level)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [a.name for a in node.names]
            out.append((node.module, names, id(node) in top))
        elif isinstance(node, ast.Import):
            out.extend((a.name, [], id(node) in top) for a in node.names)
    return [(m, n, t) for m, n, t in out if m.split(".")[0] in PACKAGES]


def test_the_packages_are_found() -> None:
    assert {"search.searcher", "search.understanding", "search.results", "web.server",
            "search.cli"} <= set(MODULES)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_small(module: str) -> None:
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    if module in OVERSIZE:
        pytest.skip(f"being split: {OVERSIZE[module]}")
    assert lines <= MAX_LINES, f"{module} has {lines} lines (limit {MAX_LINES}): split it"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_rooms_import_one_way(module: str) -> None:
    if module == "search":
        return  # the package's facade re-exports from every room (lazily)
    own = ROOMS.index(_room(module))
    for imported, names, _top in _imports(MODULES[module]):
        if imported == "search":
            continue  # the facade: its names (__version__, errors) are the base's
        targets = [imported] + [f"{imported}.{n}" for n in names if f"{imported}.{n}" in MODULES]
        for target in targets:
            room = _room(target)
            assert ROOMS.index(room) <= own, (
                f"{module} ({_room(module)}) imports {target} ({room}): rooms import only "
                "from their own room or earlier ones (" + " -> ".join(ROOMS) + ")")


@pytest.mark.parametrize(("module", "banned"), [
    ("search.understanding", {"search.searcher", "search.results"}),
    ("search.results", {"search.searcher", "search.understanding"}),
])
def test_the_searcher_parts_call_nothing_back(module: str, banned: set[str]) -> None:
    """SearchIndex -> understanding, SearchIndex -> results: neither calls back or across."""
    imported = {m for m, _names, _top in _imports(MODULES[module])}
    assert not imported & banned, f"{module} imports {sorted(imported & banned)}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("web")))
def test_web_uses_only_the_public_library(module: str) -> None:
    for imported, names, _top in _imports(MODULES[module]):
        if not imported.startswith("search"):
            continue
        parts = imported.split(".")
        assert len(parts) <= 2 and "whoosh_ext" not in parts, (
            f"{module} reaches into {imported}: use what search or its modules export")
        private = [n for n in names if n.startswith("_")]
        assert not private, f"{module} imports private names {private} from {imported}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("search")))
def test_the_library_does_not_import_web(module: str) -> None:
    for imported, _names, top in _imports(MODULES[module]):
        if imported.split(".")[0] != "web":
            continue
        # The CLI starts the web app, from inside its serve command only.
        assert module == "search.cli" and not top, f"{module} imports {imported}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_level_mutable_state(module: str) -> None:
    """Mutable containers bound at module level to lower-case names (constants are upper
    case) and ``global`` statements are state shared by everything in the process."""
    if module in PENDING_STATE:
        pytest.skip(f"{PENDING_STATE[module]} removes its state")
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    mutable = (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)
    makers = {"dict", "list", "set", "defaultdict", "OrderedDict", "Counter", "Lock", "RLock",
              "local", "WeakKeyDictionary", "WeakValueDictionary"}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        call = value.func if isinstance(value, ast.Call) else None
        made = isinstance(call, ast.Name) and call.id in makers or \
            isinstance(call, ast.Attribute) and call.attr in makers
        if not (isinstance(value, mutable) or made):
            continue
        for target in targets:
            name = getattr(target, "id", "")
            if name and not name.isupper() and name != "__all__":
                assert (module, name) in PROCESS_STATE, f"{module}.{name} is module-level state"
    has_global = any(isinstance(n, ast.Global) for n in ast.walk(tree))
    assert not has_global, f"{module} uses a global statement"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_python_m_web_server_is_search_cli_serve() -> None:
    """One command line: ``python -m web.server`` has serve's options and its guard."""
    server = _run("-m", "web.server", "--help")
    cli = _run("-m", "search.cli", "serve", "--help")
    assert server.returncode == cli.returncode == 0
    assert server.stdout == cli.stdout and "--public" in server.stdout
    refused = _run("-m", "web.server", "--host", "0.0.0.0", "--port", "0")
    assert refused.returncode == 1
    assert "Refusing to listen on 0.0.0.0" in refused.stderr and "Traceback" not in refused.stderr
