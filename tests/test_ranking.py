"""search.ranking: BM25F whose length and IDF statistics count only the field's language."""

from __future__ import annotations

from math import log

import pytest
from whoosh import index

from search.model import Document
from search.ranking import LanguageBM25F, field_language
from search.schema import build_schema, document_fields

#: Many short English documents, few long Slovenian ones: the case where collection-wide
#: statistics go wrong for both languages.
EN_DOCS = 12
SL_DOCS = 2
EN_WORDS = 3
SL_WORDS = 60


def _documents() -> list[Document]:
    docs = []
    for i in range(EN_DOCS):
        # "border" in a third of the English documents.
        words = ["border" if i % 3 == 0 else "harbour", "patrol", f"unit{i}"]
        assert len(words) == EN_WORDS
        docs.append(Document(id=f"en{i}", title=f"Report {i}", text=" ".join(words), lang="en"))
    filler = [f"beseda{j}" for j in range(SL_WORDS - 1)]
    for i in range(SL_DOCS):
        docs.append(Document(id=f"sl{i}", title=f"Poročilo {i}",
                             text=" ".join(["meja", *filler]), lang="sl"))
    return docs


@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory):
    path = tmp_path_factory.mktemp("ranking")
    ix = index.create_in(str(path), build_schema())
    with ix.writer() as writer:
        for doc in _documents():
            writer.add_document(**document_fields(doc))
    return ix


@pytest.fixture()
def searcher(tiny_index):
    with tiny_index.searcher() as s:
        yield s


@pytest.mark.parametrize("name, lang", [("body_sl_stem", "sl"), ("title_en", "en"),
                                        ("body_sl", "sl"), ("id", None), ("spell", None)])
def test_field_language(name, lang):
    assert field_language(name) == lang


@pytest.mark.parametrize("field, term, docs_of_lang, words_per_doc", [
    ("body_en", "border", EN_DOCS, EN_WORDS),
    ("body_sl", "meja", SL_DOCS, SL_WORDS),
    ("body_sl_stem", "meja", SL_DOCS, SL_WORDS),
])
def test_average_length_counts_only_the_fields_language(searcher, field, term, docs_of_lang,
                                                        words_per_doc):
    total_length = searcher.field_length(field)
    assert total_length == docs_of_lang * words_per_doc  # the fixture is what we think it is
    scorer = LanguageBM25F().scorer(searcher, field, term)
    assert scorer.avgfl == pytest.approx(total_length / docs_of_lang)
    assert scorer.avgfl == pytest.approx(words_per_doc)


@pytest.mark.parametrize("field, term", [("body_en", "border"), ("body_sl", "meja")])
def test_without_per_language_the_average_is_over_the_whole_collection(searcher, field, term):
    scorer = LanguageBM25F(per_language=False).scorer(searcher, field, term)
    assert scorer.avgfl == pytest.approx(searcher.field_length(field) / (EN_DOCS + SL_DOCS))
    per_language = LanguageBM25F().scorer(searcher, field, term)
    assert scorer.avgfl < per_language.avgfl


@pytest.mark.parametrize("field, term, n, docs_of_lang", [
    ("body_en", "border", EN_DOCS // 3, EN_DOCS),
    ("body_sl", "meja", SL_DOCS, SL_DOCS),
])
def test_idf_counts_only_the_fields_language(searcher, field, term, n, docs_of_lang):
    assert searcher.doc_frequency(field, term) == n
    idf = LanguageBM25F().idf(searcher, field, term)
    assert idf == pytest.approx(log(1 + (docs_of_lang - n + 0.5) / (n + 0.5)))
    whole = LanguageBM25F(per_language=False).idf(searcher, field, term)
    assert whole == pytest.approx(log(1 + (EN_DOCS + SL_DOCS - n + 0.5) / (n + 0.5)))
    assert whole > idf


def test_idf_is_never_negative(searcher):
    # "patrol" is in every English document.
    assert LanguageBM25F().idf(searcher, "body_en", "patrol") > 0


def test_titles_are_less_length_normalised_than_bodies(searcher):
    weighting = LanguageBM25F(B=0.75, title_B=0.3)
    assert weighting.scorer(searcher, "title_en", "report").B == pytest.approx(0.3)
    assert weighting.scorer(searcher, "body_en", "border").B == pytest.approx(0.75)


def test_scores_follow_term_frequency_and_length(tiny_index):
    from whoosh import query as wq

    with tiny_index.searcher(weighting=LanguageBM25F()) as s:
        hits = s.search(wq.Term("body_en", "border"), limit=None)
        assert {h["id"] for h in hits} == {f"en{i}" for i in range(0, EN_DOCS, 3)}
        # Equal length, equal frequency: equal scores.
        assert len({round(h.score, 6) for h in hits}) == 1
        assert hits[0].score > 0
