"""A third language is one file: Italian, defined in a temporary module and registered.

The module below is all there is to Italian: Whoosh's Snowball stemmer for Italian
(``StemFilter(lang="it")``, from ``whoosh.lang.snowball``), a short stop list, and a
:class:`~search.analysis.Language`. Registered with :func:`search.analysis.register`, it is
indexed beside English and Slovenian documents, searched (an inflected Italian word finds
another form of it), highlighted and filtered (``lang:it``, facet counts), and nothing of it
is left once the ``with`` block ends.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from search import SearchIndex, index_paths
from search.analysis import LANGUAGES, register
from search.analysis.fields import FieldName
from search.schema import build_schema

ITALIAN_MODULE = '''
"""Italian: Unicode words, lowercase, diacritics folded, stop words, Snowball stems."""

from whoosh.analysis import LowercaseFilter, StemFilter, StopFilter

from search.analysis import AnalysisPath, Language
from search.analysis.filters import FoldFilter, UnicodeWordTokenizer

STOP_WORDS = frozenset("""
il lo la i gli le un una uno di a da in con su per tra fra e o ma che del della dei delle
al alla ai alle nel nella è sono ha hanno
""".split())


def analyzer(stopwords=True, morphology=True):
    chain = UnicodeWordTokenizer() | LowercaseFilter() | FoldFilter()
    if stopwords:
        chain = chain | StopFilter(stoplist=STOP_WORDS, minsize=1)
    if morphology:
        chain = chain | StemFilter(lang="it")
    return chain


LANGUAGE = Language(
    code="it",
    name="Italiano",
    paths=(AnalysisPath("", analyzer, 1.0),),
    stop_words=STOP_WORDS,
    display_names={"sl": "italijanščina", "en": "Italian"},
)
'''

DOCUMENTS = [
    {"id": "it-confine", "lang": "it", "title": "Controlli al confine",
     "text": "La polizia ha rafforzato i controlli al confine con la Slovenia. I cittadini "
             "possono attraversare il valico con un documento di identità valido, mentre "
             "gli altri viaggiatori devono mostrare il passaporto agli agenti."},
    {"id": "it-museo", "lang": "it", "title": "Il nuovo museo della città",
     "text": "Il museo apre le sue porte ai visitatori durante il fine settimana, con mostre "
             "dedicate alla storia della regione e alle tradizioni delle valli alpine."},
    {"id": "en-border", "lang": "en", "title": "Border controls",
     "text": "The police strengthened controls at the border with Croatia. Citizens may "
             "cross with a valid identity card; other travellers must show a passport."},
    {"id": "sl-meja", "lang": "sl", "title": "Nadzor na meji",
     "text": "Policija je okrepila nadzor na meji s Hrvaško. Državljani lahko mejo prečkajo "
             "z veljavno osebno izkaznico, drugi potniki pa morajo pokazati potni list."},
]


@pytest.fixture
def italian(tmp_path: Path) -> ModuleType:
    """The Italian module, written to a temporary file and imported from there."""
    path = tmp_path / "italian_language.py"
    path.write_text(ITALIAN_MODULE, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("italian_language", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert "italian_language" not in sys.modules  # nothing global: only this test has it
    return module


@pytest.fixture(params=[1, 2], ids=["one-process", "two-processes"])
def trilingual(request: pytest.FixtureRequest, tmp_path: Path, italian: ModuleType):
    """An index of Italian, English and Slovenian documents, built by one process or by
    Whoosh's worker processes, and searched with Italian registered (the registration lasts
    for the test)."""
    source = tmp_path / "docs.jsonl"
    source.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in DOCUMENTS),
                      encoding="utf-8")
    with register(italian.LANGUAGE):
        report = index_paths([source], tmp_path / "index", procs=request.param,
                             find_translations=False)  # en-border and sl-meja translate
        assert not report.problems, report.problems
        with SearchIndex(tmp_path / "index") as ix:
            yield ix


def test_registration_adds_italian_fields_and_ends_with_the_block(italian: ModuleType) -> None:
    assert "it" not in LANGUAGES
    with register(italian.LANGUAGE):
        assert list(LANGUAGES) == ["en", "sl", "it"]
        schema = build_schema()
        assert {"title_it", "body_it", "spell_it"} <= set(schema.names())
        assert FieldName.parse("body_it") == FieldName("body", "it")
    assert "it" not in LANGUAGES
    assert not any(name.endswith("_it") for name in build_schema().names())


def test_documents_keep_their_italian_language(trilingual: SearchIndex) -> None:
    langs = {hit.id: hit.lang for hit in trilingual.search("*", per_page=10).hits}
    assert langs == {"it-confine": "it", "it-museo": "it", "en-border": "en", "sl-meja": "sl"}


@pytest.mark.parametrize(("query", "typed", "indexed"), [
    ("cittadino", "cittadino", "cittadini"),  # singular finds the plural
    ("confini", "confini", "confine"),        # plural finds the singular
])
def test_an_inflected_italian_word_finds_and_marks_another_form(
        trilingual: SearchIndex, query: str, typed: str, indexed: str) -> None:
    results = trilingual.search(query, correct=False)
    assert results.hits, query
    first = results.hits[0]
    assert first.id == "it-confine"
    assert typed not in first.snippet.lower()  # the word itself is not in the text...
    assert f"<mark>{indexed}</mark>" in first.snippet.lower()  # ...its other form is marked
    assert all(hit.lang == "it" for hit in results.hits)


def test_lang_filter_and_facets_count_italian(trilingual: SearchIndex) -> None:
    every = trilingual.search("*", per_page=10)
    assert every.facets["lang"].get("it") == 2
    assert every.facets["lang"].get("en") == 1 and every.facets["lang"].get("sl") == 1
    filtered = trilingual.search("lang:it *", per_page=10)
    assert {hit.id for hit in filtered.hits} == {"it-confine", "it-museo"}
    assert {hit.id for hit in trilingual.search("museo", lang="it").hits} == {"it-museo"}
    assert trilingual.search("museo", lang="en").hits == []


def test_english_and_slovenian_still_search_beside_italian(trilingual: SearchIndex) -> None:
    assert trilingual.search("meji", lang="sl").hits[0].id == "sl-meja"
    assert "<mark>mejo</mark>" in trilingual.search("meja", lang="sl").hits[0].snippet
    assert trilingual.search("borders", lang="en").hits[0].id == "en-border"


def test_the_italian_document_page_marks_the_match(trilingual: SearchIndex) -> None:
    doc = trilingual.document("it-museo", query="musei")
    assert doc is not None
    assert "<mark>museo</mark>" in doc.html.lower()


def test_italian_words_are_completed_and_corrected(trilingual: SearchIndex) -> None:
    assert "museo" in {c.text.lower() for c in trilingual.complete("muse", lang="it")}
    results = trilingual.search("pasaporto")  # one letter short: Italian's own vocabulary
    assert results.corrected == "passaporto"
    assert results.hits[0].id == "it-confine"


def test_a_stats_report_counts_italian(trilingual: SearchIndex) -> None:
    stats = trilingual.stats()
    assert stats.by_lang.get("it") == 2
    assert {"title_it", "body_it"} <= set(stats.analyzers)


def test_the_writer_takes_italian_documents(trilingual: SearchIndex) -> None:
    with trilingual.writer() as w:
        w.add({"id": "it-treno", "lang": "it", "title": "Orari dei treni",
               "text": "I treni regionali partono ogni ora dalla stazione centrale."})
    assert trilingual.search("treno", lang="it").hits[0].id == "it-treno"
