"""Caches kept per index reader (search.understanding): a new reader gets fresh entries.

The speller and the cognate snapshot belong to the reader they were made for. They are keyed
on that reader held weakly, not on ``id(reader)``: a freed reader's ``id()`` can be reused by
the next one, which would then be served the old index's vocabulary. Each test makes every
``id()`` the same in the module, the worst case of reuse.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from search import understanding
from search.indexer import index_paths
from search.searcher import SearchIndex

#: A word in each language that only the second commit brings.
NEW_WORDS = {"en": "marimbaphonist", "sl": "marimbafonistka"}


def _index(tmp_path: Path) -> Path:
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [
        {"id": "en/1", "lang": "en", "title": "The orchestra",
         "text": "The orchestra hired a new violinist for the winter concerts."},
        {"id": "sl/1", "lang": "sl", "title": "Orkester",
         "text": "Orkester je za zimske koncerte najel novo violinistko."},
    ]), encoding="utf-8")
    report = index_paths([path], tmp_path / "index")
    assert report.indexed == 2, report.problems
    return tmp_path / "index"


@pytest.mark.parametrize("lang", sorted(NEW_WORDS))
def test_a_new_reader_gets_a_fresh_speller(tmp_path: Path, lang: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(understanding, "id", lambda obj: 1, raising=False)
    word = NEW_WORDS[lang]
    typo = word[:-3] + word[-2:]  # one letter dropped
    with SearchIndex(_index(tmp_path)) as ix:
        before = ix._understanding._spelling()
        assert before.correct(typo).fix != word
        with ix.writer() as w:
            w.add({"id": f"{lang}/2", "lang": lang, "title": word,
                   "text": f"{word} {word} {word}"})
        after = ix._understanding._spelling()
        assert after is not before
        assert after.correct(typo).fix == word


def test_a_new_reader_can_rebuild_the_cognates(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(understanding, "id", lambda obj: 1, raising=False)
    monkeypatch.setattr(understanding, "COGNATE_MAX_AGE", 0.0)  # stale as soon as built
    with SearchIndex(_index(tmp_path)) as ix:
        u = ix._understanding
        first = u._cognate_index()
        assert u._cognate_index() is first  # the same reader: kept, no rebuild
        assert u._cognates_thread is None
        with ix.writer() as w:
            w.add({"id": "en/2", "lang": "en", "title": NEW_WORDS["en"],
                   "text": NEW_WORDS["en"]})
        assert u._cognate_index() is first  # served while the new one is built
        assert u._cognates_thread is not None
        u._cognates_thread.join()
        assert u._cognate_index() is not first
