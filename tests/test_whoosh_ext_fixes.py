"""search.whoosh_ext.fixes: Whoosh's AND NOT bug, its fix, and where the fix is applied.

The fix is applied explicitly, once, where an index is opened
(:func:`search.whoosh_ext.opening.open_generation`), never as a side effect of an import.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from whoosh import fields, index
from whoosh import query as wq
from whoosh.matching.binary import AndNotMatcher

from search.whoosh_ext import fixes as whoosh_fixes

ROOT = Path(__file__).resolve().parent.parent


def test_whoosh_and_not_fix(tmp_path: Path) -> None:
    """The pinned Whoosh lets the first document of ``a ANDNOT b`` through when ``b``
    starts earlier; the fix removes it. If this fails on the *unpatched* side, Whoosh was
    fixed upstream and ``search/whoosh_ext/fixes.py`` can go."""
    schema = fields.Schema(t=fields.KEYWORD)
    ix = index.create_in(str(tmp_path), schema)
    with ix.writer() as w:
        for words in ("b", "a b", "a"):
            w.add_document(t=words)
    q = wq.AndNot(wq.Term("t", "a"), wq.Term("t", "b"))
    patched = AndNotMatcher._find_first
    try:
        AndNotMatcher._find_first = whoosh_fixes.ORIGINAL_FIND_FIRST
        with ix.searcher() as s:
            assert sorted(s.docs_for_query(q)) == [1, 2]  # the bug: doc 1 has "b"
    finally:
        AndNotMatcher._find_first = patched
    whoosh_fixes.apply()
    whoosh_fixes.apply()  # idempotent
    with ix.searcher() as s:
        assert sorted(s.docs_for_query(q)) == [2]


def test_imports_patch_nothing_until_an_index_is_opened(seed_index: Path) -> None:
    """A fresh interpreter importing the whole engine (searcher, indexer, writer, web app)
    leaves Whoosh's ``AndNotMatcher`` as Whoosh made it; opening an index fixes it, for
    Whoosh's own storage (``fast=False``) too."""
    script = textwrap.dedent("""
        import sys
        from whoosh.matching.binary import AndNotMatcher
        stock = AndNotMatcher._find_first
        import search.searcher, search.indexer, search.writer, search.completion
        import search.spelling, search.cli, web, web.engine
        from search import SearchIndex
        assert AndNotMatcher._find_first is stock, "patched at import"
        from search.whoosh_ext import fixes
        assert fixes.ORIGINAL_FIND_FIRST is stock
        from search.storage import open_index
        open_index(sys.argv[1], fast=sys.argv[2] == "fast")
        assert AndNotMatcher._find_first is not stock, "not patched by open_index"
        with SearchIndex(sys.argv[1]) as ix:
            assert ix.search("meja -policija").total >= 0
        assert AndNotMatcher._find_first is fixes._find_first
        print("ok")
    """)
    for mode in ("fast", "stock"):
        done = subprocess.run([sys.executable, "-c", script, str(seed_index), mode],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and done.stdout.strip() == "ok", (mode, done.stderr)
