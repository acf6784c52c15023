"""search.whoosh_ext.terms: a field's terms and document frequencies read from the term
index give exactly Whoosh's ``iter_field``, and one per-segment reader serves both the
spelling vocabulary and the completion table."""

from __future__ import annotations

from pathlib import Path

import pytest

import search.whoosh_ext.terms as terms_module
from search.analysis import LANGUAGES
from search.analysis.fields import is_spelling_field
from search.completion import completions_for_reader
from search.indexer import index_paths
from search.schema import spelling_fields
from search.spelling import vocabulary_for_reader
from search.storage import open_index
from search.whoosh_ext.terms import SegmentTerms, field_frequencies, segment_id

DOCUMENTS = {
    "sl": ["Policija je na meji prijela tihotapca. Državljani so pomagali policiji.",
           "Nadzor na notranjih mejah ostaja; meja s Hrvaško je odprta za državljane."],
    "en": ["The police arrested a smuggler at the border. Citizens helped the police.",
           "Border checks stay in place; the border with Croatia is open to citizens."],
}


def _write(folder: Path, name: str, lang: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.txt").write_text(f"{name.title()}\n\n{text}", encoding="utf-8")


@pytest.fixture(scope="module")
def two_segments(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of both languages in two segments (an update after the first build)."""
    root = tmp_path_factory.mktemp("terms")
    for lang, texts in DOCUMENTS.items():
        _write(root / "docs", f"{lang}-first", lang, texts[0])
    index_paths([root / "docs"], root / "index")
    for lang, texts in DOCUMENTS.items():
        _write(root / "docs", f"{lang}-second", lang, texts[1])
    index_paths([root / "docs"], root / "index")
    return root / "index"


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_term_index_reading_equals_whooshs_iter_field(two_segments: Path, lang: str) -> None:
    ix, _gen = open_index(two_segments)
    name = spelling_fields()[lang]
    with ix.reader() as reader:
        leaves = [leaf for leaf, _base in reader.leaf_readers()]
        assert len(leaves) == 2
        for leaf in leaves:
            fast = field_frequencies(leaf, name)
            assert fast == field_frequencies(leaf, name, fast=False)
            assert fast and all(df >= 1 for df in fast.values())
        words = {w for leaf in leaves for w in field_frequencies(leaf, name)}
        expected = {"policija", "meja"} if lang == "sl" else {"police", "border"}
        assert expected <= words
        assert field_frequencies(leaves[0], "no_such_field") == {}


def test_one_read_per_segment_serves_vocabulary_and_completions(
        two_segments: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[tuple[str | None, str]] = []
    real = terms_module.field_frequencies

    def counting(leaf, name, fast=True):  # noqa: ANN001, ANN202
        reads.append((segment_id(leaf), name))
        return real(leaf, name, fast)

    monkeypatch.setattr(terms_module, "field_frequencies", counting)
    ix, _gen = open_index(two_segments)
    shared = SegmentTerms()
    with ix.reader() as reader:
        vocabulary = vocabulary_for_reader(reader, None, shared)  # no folder: nothing cached
        table = completions_for_reader(reader, None, shared)
        segments = [segment_id(leaf) for leaf, _base in reader.leaf_readers()]
    assert vocabulary.frequencies("policija")["sl"] == 1
    assert vocabulary.frequencies("border")["en"] == 2
    words = {(word, n) for _key, word, n in table.tables()[0]}
    assert ("border", 2) in words and ("policija", 1) in words
    fields = list(spelling_fields().values())
    # Each segment's each spelling field, read once for both.
    assert sorted(reads) == sorted((sid, name) for sid in segments for name in fields)


def test_kept_tables_are_bounded_and_follow_the_segments(two_segments: Path) -> None:
    ix, _gen = open_index(two_segments)
    name = spelling_fields()["en"]
    with ix.reader() as reader:
        first, second = (leaf for leaf, _base in reader.leaf_readers())
        nothing_kept = SegmentTerms(max_kept=0)
        assert nothing_kept.frequencies(first, name) == field_frequencies(first, name)
        assert nothing_kept.frequencies(first, name) is not nothing_kept.frequencies(first, name)
        kept = SegmentTerms()
        table = kept.frequencies(first, name)
        assert kept.frequencies(first, name) is table  # read once
        kept.retain([segment_id(second)])  # the first merged away
        assert kept.frequencies(first, name) is not table
        assert kept.frequencies(first, name) == table


def test_an_update_reads_its_new_segment_once(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """After a commit the indexer makes the spelling vocabulary and the completion table:
    the new segment's spelling fields are read once for both, the old segment not at all
    (its tables are kept with the generation)."""
    for lang, texts in DOCUMENTS.items():
        _write(tmp_path / "docs", f"{lang}-first", lang, texts[0])
    index_paths([tmp_path / "docs"], tmp_path / "index")
    reads: list[tuple[str | None, str]] = []
    real = terms_module.field_frequencies
    monkeypatch.setattr(terms_module, "field_frequencies",
                        lambda leaf, name, fast=True: reads.append((segment_id(leaf), name))
                        or real(leaf, name, fast))
    from whoosh.reading import SegmentReader

    stock = SegmentReader.iter_field
    # (The postings columns read the text fields' terms: not the spelling fields'.)
    monkeypatch.setattr(SegmentReader, "iter_field",
                        lambda self, name, *a, **k: (is_spelling_field(name)
                                                     and reads.append(("iter_field", name)))
                        or stock(self, name, *a, **k))
    _write(tmp_path / "docs", "sl-second", "sl", DOCUMENTS["sl"][1])
    index_paths([tmp_path / "docs"], tmp_path / "index")
    ix, _gen = open_index(tmp_path / "index")
    with ix.reader() as reader:
        segments = [segment_id(leaf) for leaf, _base in reader.leaf_readers()]
    assert len(segments) == 2
    fields = list(spelling_fields().values())
    assert sorted(reads) == sorted((segments[-1], name) for name in fields), reads
