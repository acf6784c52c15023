"""The fast indexing path writes exactly what Whoosh's own path writes.

``search.whoosh_ext.fast_analysis`` (analysis without a token stream), ``search.indexer``'s writers
(postings grouped by term, written a block at a time) and ``iter_source`` (documents streamed
while a JSONL file is read) only change how fast an index is built: terms, frequencies,
positions, weights, lengths and stored fields must be the same, and a one-process build must
even give the same segment files, byte for byte.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path

import pytest
from conftest import SEEDS
from whoosh import index as windex
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import SegmentWriter

from search.analysis import ANALYSIS_OPTIONS, analysis_options
from search.documents import find_sources, iter_source, read_source
from search.documents import language as language_module
from search.model import Document, Problem
from search.schema import build_schema, document_fields
from search.whoosh_ext.fast_analysis import compile_chain, field_indexer
from search.whoosh_ext.writers import FastMpWriter, FastSegmentWriter

WORDS = ["The", "the", "and", "in", "je", "policija", "Policija", "mejo", "mejah", "Šaranović",
         "saranovicu", "Črna", "gora", "crossings", "crossed", "border's", "O’Neill", "2024",
         "12345678", "x", "ć", "đak", "Straße", "ﬁsh", "c\u030cas", "ÆØ", "a" * 70, "in", "pri",
         "ki", "to", "is", "of", "meja-2024", "under_score", "İstanbul", "ΟΔΟΣ", "naïve",
         "sodelovanja", "varovala", "ministrom", "don't", "it's", "v", "z", "s"]


def random_texts(n: int, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    seps = [" ", " ", " ", ", ", ". ", "\n", "\n\n", " - ", "'", "’", "(", ") "]
    texts = ["", " ", "in", "the and of", "Policija je varovala mejo in Šaranovića"]
    for _ in range(n):
        k = rnd.randint(0, 40)
        texts.append("".join(rnd.choice(WORDS) + rnd.choice(seps) for _ in range(k)))
    return texts


OPTION_SETS = [dict(zip(ANALYSIS_OPTIONS, values, strict=True))
               for values in ((True, True), (False, True), (True, False), (False, False))]


@pytest.mark.parametrize("options", OPTION_SETS)
def test_field_indexers_give_whooshs_items(options):
    schema = build_schema(analysis_options(options))
    fast = {name: field_indexer(schema[name]) for name in schema.names()}
    text_fields = [n for n in schema.names() if n.startswith(("title_", "body_")) or n == "spell"]
    assert all(fast[n] is not None for n in text_fields)
    for text in random_texts(300):
        memo: dict = {}
        for name in text_fields:
            expected = sorted(schema[name].index(text))
            assert sorted(fast[name](text, memo)) == expected, (name, text)


def test_unknown_analysers_are_left_to_whoosh():
    from whoosh.analysis import StandardAnalyzer, StemmingAnalyzer
    from whoosh.fields import ID, KEYWORD, TEXT

    assert compile_chain(StandardAnalyzer()) is None
    assert field_indexer(TEXT(analyzer=StemmingAnalyzer())) is None
    assert field_indexer(ID()) is None
    assert field_indexer(KEYWORD()) is None


def test_positions_follow_the_stop_filters_renumbering():
    schema = build_schema()
    [(term, freq, weight, value)] = [item for item in field_indexer(schema["body_en"])(
        "the and of crossings", {})]
    assert (term, freq, weight) == (b"cross", 1, 1.0)
    assert schema["body_en"].format.decode_positions(value) == [3]
    items = dict((t, v) for t, _, _, v in field_indexer(schema["body_en"])(
        "the crossing of the border and the crossings", {}))
    assert schema["body_en"].format.decode_positions(items[b"cross"]) == [1, 3]
    assert field_indexer(schema["body_en"])("the and of", {}) == []


# -- whole indexes ----------------------------------------------------------------------------

def _documents(n: int = 120) -> list[Document]:
    docs = []
    for source in find_sources([SEEDS]):
        docs.extend(read_source(source).documents)
    rnd = random.Random(3)
    for i, text in enumerate(random_texts(n)):
        lang = rnd.choice(["en", "sl"])
        title = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(0, 5)))
        docs.append(Document(id=f"d{i}", title=title, text=text, lang=lang,
                             date="2024-05-01" if i % 3 else None, path=f"/x/{i}.txt"))
    return docs


def _build(folder: Path, make_writer, docs: list[Document], options=None) -> Path:
    folder.mkdir(parents=True)
    ix = windex.create_in(str(folder), build_schema(options))
    writer = make_writer(ix)
    for doc in docs:
        writer.add_document(**document_fields(doc))
    writer.commit()
    return folder


def _segment_files(folder: Path) -> dict[str, bytes]:
    [seg] = folder.glob("*.seg")
    segid = seg.name[len("MAIN_"):-len(".seg")]
    compound = CompoundStorage(FileStorage(str(folder)).open_file(seg.name), use_mmap=False)
    return {name.replace(segid, "SEG"): compound.open_file(name).read()
            for name in compound.list()}


def _content(folder: Path) -> dict:
    """Everything a search can see, keyed by document id (docnums may differ)."""
    ix = windex.open_dir(str(folder))
    with ix.reader() as reader:
        ids = {docnum: fields["id"] for docnum, fields in reader.iter_docs()}
        out: dict = {"stored": {ids[d]: f for d, f in reader.iter_docs()}}
        for fieldname, btext in reader.all_terms():
            info = reader.term_info(fieldname, btext)
            matcher = reader.postings(fieldname, btext)
            postings = []
            while matcher.is_active():
                postings.append((ids[matcher.id()], matcher.weight(), matcher.value()))
                matcher.next()
            out[(fieldname, btext)] = (info.weight(), info.doc_frequency(), info.min_length(),
                                       info.max_length(), info.max_weight(), sorted(postings))
        for fieldname in ix.schema.scorable_names():
            out[("length", fieldname)] = (reader.field_length(fieldname), {
                ids[d]: reader.doc_field_length(d, fieldname) for d in ids})
    return out


@pytest.mark.parametrize("limitmb", [128, 1])  # 1: the pool spills sorted runs to disk
def test_one_process_build_is_byte_identical(tmp_path, limitmb):
    docs = _documents()
    stock = _build(tmp_path / "stock", lambda ix: SegmentWriter(ix, limitmb=limitmb), docs)
    fast = _build(tmp_path / "fast", lambda ix: FastSegmentWriter(ix, limitmb=limitmb), docs)
    assert _segment_files(fast) == _segment_files(stock)


def test_multi_block_posting_lists_are_byte_identical(tmp_path):
    # Terms in more than one 128-posting block: written a whole term at a time, with block
    # statistics folded per block (search.indexer._TermWriter).
    docs = _documents(700)
    stock = _build(tmp_path / "stock", SegmentWriter, docs)
    fast = _build(tmp_path / "fast", FastSegmentWriter, docs)
    with windex.open_dir(str(fast)).reader() as reader:
        assert max(reader.doc_frequency(f, t) for f, t in reader.all_terms()) > 3 * 128
    assert _segment_files(fast) == _segment_files(stock)


@pytest.mark.parametrize("options", OPTION_SETS[1:])
def test_ablation_builds_are_byte_identical(tmp_path, options):
    docs = _documents(40)
    stock = _build(tmp_path / "stock", SegmentWriter, docs, options)
    fast = _build(tmp_path / "fast", FastSegmentWriter, docs, options)
    assert _segment_files(fast) == _segment_files(stock)


def test_parallel_build_has_the_same_content(tmp_path):
    docs = _documents(300)
    stock = _build(tmp_path / "stock", SegmentWriter, docs)
    fast = _build(tmp_path / "fast", lambda ix: FastMpWriter(
        ix, procs=2, multisegment=True, batchsize=20), docs)
    assert len(windex.open_dir(str(fast)).reader().leaf_readers()) == 2
    assert _content(fast) == _content(stock)


def test_updates_and_merges_have_the_same_content(tmp_path):
    """Incremental updates go through update_document and segment merges (add_reader)."""
    docs = _documents(60)
    folders = []
    for name, cls in (("stock", SegmentWriter), ("fast", FastSegmentWriter)):
        folder = tmp_path / name
        _build(folder, cls, docs[:30])
        for batch in (docs[30:45], docs[45:]):
            ix = windex.open_dir(str(folder))
            writer = cls(ix)
            for doc in batch:
                writer.update_document(**document_fields(doc))
            writer.delete_by_term("id", docs[3].id)
            writer.commit(optimize=True)
        folders.append(folder)
    assert _content(folders[1]) == _content(folders[0])


# -- reading ----------------------------------------------------------------------------------

def test_iter_source_yields_what_read_source_returns(tmp_path):
    path = tmp_path / "docs.jsonl"
    lines = [json.dumps({"id": "a", "title": "Meja", "text": "Policija je varovala mejo."}),
             "{broken", json.dumps({"id": "a", "text": "duplicate"}), "",
             json.dumps({"text": "The crossings of the border.", "lang": "en"}),
             json.dumps({"title": "", "text": "  "}), json.dumps([1, 2])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    for file in (path, empty, SEEDS / "000_eec3f92ade572638.txt"):
        [source] = list(find_sources([file]))
        result = read_source(source)
        items = list(iter_source(source))
        assert [x for x in items if isinstance(x, Document)] == result.documents
        assert [x for x in items if isinstance(x, Problem)] == result.problems


def test_identifier_pattern_matches_the_plain_one():
    plain = re.compile(r"\S*\w[._/\\:@]\w\S*")
    rnd = random.Random(11)
    alphabet = "ab_.:/\\@ \n\t1(){}Ž\u00a0-"
    samples = ["see www.example.com/x?y=1 or a_b.c and mail me@x.si", "a.b", ". a", "x:"]
    samples += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 24)))
                for _ in range(20000)]
    for text in samples:
        assert language_module._IDENTIFIER.sub(" ", text) == plain.sub(" ", text), text


def test_index_paths_builds_the_same_index_in_parallel(tmp_path):
    """index_paths with both cores (streamed reading, FastMpWriter) vs one process."""
    corpus = tmp_path / "docs.jsonl"
    with open(corpus, "w", encoding="utf-8") as f:
        for doc in _documents(400):
            f.write(json.dumps({"id": doc.id, "title": doc.title, "text": doc.text}) + "\n")
    from search.indexer import index_paths
    from search.storage import IndexLayout

    one = index_paths([corpus], tmp_path / "one", procs=1)
    two = index_paths([corpus], tmp_path / "two", procs=2)
    assert one.added == two.added > 300
    assert _content(IndexLayout(tmp_path / "two").current()) == _content(
        IndexLayout(tmp_path / "one").current())
    shutil.rmtree(tmp_path / "one")
