"""search.merging: after enough deletions, an updated index ranks as a fresh build does.

Whoosh keeps counting deleted documents in its statistics until their segment is rewritten;
the update's merge policy rewrites a segment once its deleted documents reach
MAX_DELETED_SHARE of it.
"""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

import pytest
from conftest import SEED_EN, SEED_SL, SEEDS

from search.indexer import index_paths
from search.merging import MAX_DELETED_SHARE
from search.searcher import SearchIndex
from search.storage import open_index

SEED_FILES = {"en": SEED_EN, "sl": SEED_SL}
QUERIES = {"en": ["police", "border control", "minister", "migration", "cooperation"],
           "sl": ["policija", "meja", "minister", "sodelovanje", "migracije"]}


def _sentence_files(folder: Path) -> dict[str, list[Path]]:
    """One small document per sentence of the seeds (74 in all), by language."""
    folder.mkdir()
    out: dict[str, list[Path]] = {"en": [], "sl": []}
    for lang, names in SEED_FILES.items():
        for name in names:
            text = (SEEDS / name).read_text(encoding="utf-8")
            sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 30]
            for i, sentence in enumerate(sentences):
                path = folder / f"{name[:3]}-{i:02d}.txt"
                path.write_text(sentence + "\n", encoding="utf-8")
                out[lang].append(path)
    return out


def _deleted(index_dir: Path) -> list[tuple[int, int]]:
    ix, _ = open_index(index_dir)
    return [(seg.doc_count_all(), seg.deleted_count()) for seg in ix._segments()]


def _rankings(index_dir: Path, lang: str) -> dict[str, list[tuple[str, float]]]:
    with SearchIndex(index_dir) as ix:
        return {q: [(h.id, h.score) for h in ix.search(q, per_page=10).hits]
                for q in QUERIES[lang]}


def _assert_ranks_as_fresh(docs: Path, index_dir: Path, fresh_dir: Path, lang: str) -> None:
    shutil.rmtree(fresh_dir, ignore_errors=True)
    index_paths([docs], fresh_dir)
    updated, fresh = _rankings(index_dir, lang), _rankings(fresh_dir, lang)
    assert any(updated.values())
    for query in QUERIES[lang]:
        assert [d for d, _ in updated[query]] == [d for d, _ in fresh[query]], query
        # Scores agree but for the field lengths a merge recounts from Whoosh's one-byte
        # length encoding (a fresh build sums the exact lengths).
        for (_, a), (_, b) in zip(updated[query], fresh[query], strict=True):
            assert a == pytest.approx(b, rel=0.01), query


@pytest.mark.parametrize("lang", ["en", "sl"])
def test_after_enough_deletions_the_ranking_equals_a_fresh_builds(tmp_path: Path,
                                                                   lang: str) -> None:
    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    files = _sentence_files(docs)
    index_paths([docs], index_dir)
    total = sum(len(v) for v in files.values())
    assert _deleted(index_dir) == [(total, 0)]
    # Just below the share: the deleted documents stay in the segment (no rewrite per edit).
    below = math.ceil(MAX_DELETED_SHARE * total) - 1
    victims = files[lang][::2]
    assert len(victims) > below + 1
    for path in victims[:below]:
        path.unlink()
    assert index_paths([docs], index_dir).deleted == below
    assert _deleted(index_dir) == [(total, below)]
    # One more: the share is reached, the segment rewritten without its deleted documents.
    victims[below].unlink()
    assert index_paths([docs], index_dir).deleted == 1
    assert _deleted(index_dir) == [(total - below - 1, 0)]
    _assert_ranks_as_fresh(docs, index_dir, tmp_path / "fresh", lang)


@pytest.mark.parametrize("lang", ["en", "sl"])
def test_edits_past_the_share_converge_too(seed_workspace, tmp_path: Path, lang: str) -> None:
    """The seeds' 5 documents: editing one replaces a fifth of the segment, past the share,
    so the update's ranking is a fresh build's at once (it differed: issue 17, item 16)."""
    docs, index_dir = seed_workspace
    edited = docs / SEED_FILES[lang][0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n" + " ".join(QUERIES[lang])
                      + ".\n", encoding="utf-8")
    assert index_paths([docs], index_dir).updated == 1
    assert all(deleted == 0 for _, deleted in _deleted(index_dir))
    _assert_ranks_as_fresh(docs, index_dir, tmp_path / "fresh", lang)
