"""search.searcher: ranked, highlighted, faceted search over the seed press releases."""

from __future__ import annotations

import html
import json
import re
import threading

import pytest
from conftest import SEED_EN, SEED_SL, SEEDS

from search import results as results_module
from search import searcher as searcher_module
from search import understanding as understanding_module
from search.indexer import index_paths
from search.searcher import MAX_PER_PAGE, SearchIndex

EN_000, EN_001, EN_004 = SEED_EN
SL_002, SL_003 = SEED_SL
MARKED = re.compile(r"<mark>(.*?)</mark>")


def marked_words(snippet: str) -> set[str]:
    return {html.unescape(m).lower() for m in MARKED.findall(snippet)}


def ids(results) -> list[str]:
    return [h.id for h in results.hits]


# -- what the seeds are ---------------------------------------------------------------------

def test_seed_metadata_in_results(seed_search):
    results = seed_search.search("minister", per_page=10)
    by_id = {h.id: h for h in results.hits}
    assert set(by_id) == set(SEED_EN) | set(SEED_SL)
    assert {h.lang for h in by_id.values()} == {"en", "sl"}
    assert all(by_id[i].lang == "en" for i in SEED_EN)
    assert all(by_id[i].lang == "sl" for i in SEED_SL)
    # 000's first line is its headline.
    first_line = (SEEDS / EN_000).read_text(encoding="utf-8").splitlines()[0].strip()
    assert by_id[EN_000].title == first_line
    # 003 carries a "date 2024-07" marker; 001 a dateline without a year ("October 29").
    assert by_id[SL_003].date == "2024-07"
    assert by_id[EN_001].date == "--10-29"
    assert by_id[EN_000].date is None
    assert not by_id[SL_003].title.startswith("date")  # the marker is not part of the text
    for hit in results.hits:
        assert hit.path and hit.path.endswith(hit.id)
        assert hit.score > 0


def test_ranks_are_consecutive_and_scores_descending(seed_search):
    results = seed_search.search("border migration police")
    assert [h.rank for h in results.hits] == list(range(1, len(results.hits) + 1))
    scores = [h.score for h in results.hits]
    assert scores == sorted(scores, reverse=True)


# -- morphology and highlighting ------------------------------------------------------------

def test_policija_finds_the_slovenian_releases_and_marks_inflected_forms(seed_search):
    results = seed_search.search("policija")
    # Direct matches first; English releases come only through translation ("police"),
    # ranked below them and saying which translated words matched.
    assert set(ids(results)[:2]) == set(SEED_SL)
    assert results.facets["lang"]["sl"] == 2
    assert all(h.translated_terms for h in results.hits[2:])
    assert set(ids(seed_search.search("policija", lang="sl"))) == set(SEED_SL)
    snippets = {h.id: marked_words(h.snippet) for h in results.hits}
    assert "policije" in snippets[SL_002]
    assert "policijama" in snippets[SL_003]


def test_sodelovanje_marks_other_cases(seed_search):
    results = seed_search.search("sodelovanje", lang="sl")
    assert set(ids(results)) == set(SEED_SL)
    words = set().union(*(marked_words(h.snippet) for h in results.hits))
    assert {"sodelovanja", "sodelovanju"} <= words


@pytest.mark.parametrize("query", ["saranovic", "Šaranović", "SARANOVIC", "šaranovića"])
def test_name_with_or_without_diacritics_finds_003(seed_search, query):
    results = seed_search.search(query)
    assert ids(results) == [SL_003]
    assert any(w.startswith("šaranović") for w in marked_words(results.hits[0].snippet))


def test_english_inflection(seed_search):
    results = seed_search.search("crossing")
    assert set(ids(results)) >= {EN_001, EN_004}
    words = set().union(*(marked_words(h.snippet) for h in results.hits))
    assert "crossings" in words


def test_phrase_ranks_the_releases_that_discuss_border_controls_first(seed_search):
    results = seed_search.search('"border controls"')
    assert set(ids(results)[:2]) == {EN_000, EN_001}
    for hit in results.hits[:2]:
        assert "<mark>border</mark> <mark>controls</mark>" in hit.snippet


def test_phrase_is_stricter_than_words(seed_search):
    words = seed_search.search("border controls")
    phrase = seed_search.search('"border controls"')
    assert set(ids(phrase)) < set(ids(words))  # 004 has "border" but not the phrase
    assert EN_004 in ids(words)


def test_exclusion(seed_search):
    with_italy = set(ids(seed_search.search("border")))
    without = set(ids(seed_search.search("border -italy")))
    assert without and without < with_italy
    assert EN_001 not in without  # 001 is about talks with Italy


def test_title_search(seed_search):
    assert ids(seed_search.search("title:lithuania")) == [EN_000]
    # "smuggling" is in three bodies but in no title.
    assert ids(seed_search.search("title:smuggling")) == []
    assert len(ids(seed_search.search("smuggling"))) == 3


def test_prefix_search_expands_to_indexed_words(seed_search):
    results = seed_search.search("policij*")
    assert set(ids(results)) == set(SEED_SL)
    assert seed_search.parse("policij*").query is not None
    assert ids(seed_search.search("lithuan*")) == [EN_000]


# -- filters, facets, paging, sorting -------------------------------------------------------

def test_lang_filter_restricts(seed_search):
    everything = seed_search.search("minister")
    assert everything.facets["lang"] == {"en": len(SEED_EN), "sl": len(SEED_SL)}
    for lang, expected in (("sl", SEED_SL), ("en", SEED_EN)):
        results = seed_search.search("minister", lang=lang)
        assert set(ids(results)) == set(expected)
        assert results.facets["lang"] == {lang: len(expected)}
        assert results.lang == lang


def test_filters_typed_in_the_query(seed_search):
    results = seed_search.search("minister lang:sl")
    assert (results.lang, set(ids(results))) == ("sl", set(SEED_SL))
    results = seed_search.search("minister year:2024")
    assert (results.year, ids(results)) == ("2024", [SL_003])


def test_facets_count_by_language_and_year(seed_search):
    results = seed_search.search("minister")
    assert results.facets == {"lang": {"en": 3, "sl": 2}, "year": {"2024": 1}}
    assert results.total == 5


def test_year_filter(seed_search):
    assert ids(seed_search.search("minister", year="2024")) == [SL_003]
    assert seed_search.search("minister", year="1999").total == 0


def test_paging(seed_search):
    full = ids(seed_search.search("minister", per_page=10))
    pages = [seed_search.search("minister", per_page=1, page=p) for p in (1, 2, 3)]
    assert [ids(p) for p in pages] == [[full[0]], [full[1]], [full[2]]]
    assert pages[1].hits[0].rank == 2
    assert all(p.total == len(full) for p in pages)
    assert pages[0].pages == len(full)
    assert seed_search.search("minister", per_page=2, page=99).hits == []


@pytest.mark.parametrize("page, per_page", [(0, 10), (-3, 10), (1, 0), (1, 10_000), (10**9, 10)])
def test_silly_paging_is_clamped(seed_search, page, per_page):
    results = seed_search.search("minister", page=page, per_page=per_page)
    assert 1 <= results.per_page <= MAX_PER_PAGE
    assert results.page >= 1


def test_sort_newest_puts_the_dated_document_first(seed_search):
    relevance = ids(seed_search.search("minister"))
    newest = ids(seed_search.search("minister", sort="newest"))
    assert sorted(newest) == sorted(relevance)
    assert newest[:2] == [SL_003, EN_001]  # 2024-07 before a date without a year
    assert relevance[0] != SL_003  # so the sort did something


# -- suggestions ----------------------------------------------------------------------------

@pytest.mark.parametrize("typo, fixed", [("minstry", "ministry"), ("lithuenia", "lithuania"),
                                         ("migrnts", "migrants")])
def test_did_you_mean(seed_search, typo, fixed):
    typed = seed_search.search(typo, correct=False)
    assert typed.total == 0
    assert typed.suggestion == fixed and typed.corrected is None
    # Nothing matches the word directly: its correction is searched instead, and said so.
    results = seed_search.search(typo)
    assert results.corrected == fixed and results.suggestion is None
    assert results.total == seed_search.search(fixed).total > 0


@pytest.mark.parametrize("query", ["policija", "saranovic", "ministry", "sodelovanje"])
def test_no_suggestion_for_good_queries(seed_search, query):
    results = seed_search.search(query)
    assert results.total > 0
    assert results.suggestion is None


def test_suggestion_keeps_the_good_words(seed_search):
    # Few results (one, through "lithuania"): the misspelt word is corrected, the rest kept.
    results = seed_search.search("Lithuania minstry")
    assert results.total == 1
    assert results.suggestion == "Lithuania ministry"


# -- never raises ---------------------------------------------------------------------------

@pytest.mark.parametrize("query", ['"unclosed', "(", "AND", "*", "-", "((((", "title:", '"',
                                   '-"x', "x" * 10_000, "\x00\x01", "!@#$%^&*()", "", " ",
                                   "lang:sl", "year:2024", "policij* -", "?*?"],
                         ids=lambda q: ascii(q[:24]))
def test_malformed_queries_search_without_error(seed_search, query):
    results = seed_search.search(query)
    assert results.total >= 0 and results.query == query


def test_nothing_searchable_gives_empty_results(seed_search):
    results = seed_search.search("((((")
    assert (results.total, results.hits, results.suggestion) == (0, [], None)


def test_concurrent_searches(seed_search):
    errors = []

    def work():
        try:
            for q in ("policija", "border", "saranovic", "minister"):
                assert seed_search.search(q).total > 0
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# -- documents, stats, refresh --------------------------------------------------------------

def test_document_marks_query_matches(seed_search):
    doc = seed_search.document(SL_003, query="saranovic policija")
    assert doc.id == SL_003 and doc.lang == "sl" and doc.date == "2024-07"
    words = marked_words(doc.html)
    assert "policijama" in words and any(w.startswith("šaranović") for w in words)
    assert doc.html.startswith("<p>") and doc.html.count("<p>") > 3
    assert html.unescape(re.sub(r"</?(p|mark)>", "", doc.html)).replace("\n", "") == \
        doc.text.replace("\n", "")


def test_document_without_query_is_unmarked(seed_search):
    doc = seed_search.document(EN_000)
    assert doc.title.startswith("Minister Poklukar in Vilnius")
    assert "<mark>" not in doc.html
    assert doc.translation_id is None


def test_unknown_document(seed_search):
    assert seed_search.document("no-such-id") is None


def test_stats(seed_search):
    stats = seed_search.stats()
    assert stats.doc_count == 5 == len(seed_search)
    assert stats.by_lang == {"en": 3, "sl": 2}
    assert stats.by_year == {"2024": 1}
    assert stats.engine_version == "0.1.0"
    assert set(stats.analyzers) >= {"body_en", "body_sl", "body_sl_stem"}


def test_results_to_dict_is_json_ready(seed_search):
    import json

    data = json.loads(json.dumps(seed_search.search("policija", lang="sl").to_dict()))
    assert data["total"] == 2 and len(data["hits"]) == 2
    assert set(data["hits"][0]) >= {"id", "title", "lang", "date", "score", "snippet"}


def test_refresh_picks_up_a_commit(seed_workspace, monkeypatch):
    docs, index_dir = seed_workspace
    with SearchIndex(index_dir) as ix:
        assert ix.search("quokka").total == 0
        (docs / "quokka.txt").write_text("Quokka census\n\nRangers counted the quokkas.\n",
                                         encoding="utf-8")
        report = index_paths([docs], index_dir)
        assert report.added == 1
        assert ix.refresh(force=True) is True
        assert ids(ix.search("quokka")) == ["quokka.txt"]
        assert ix.stats().doc_count == 6
        assert ix.refresh(force=True) is False  # nothing new since


def test_refresh_after_an_update_shows_each_document_once(seed_workspace):
    docs, index_dir = seed_workspace
    with SearchIndex(index_dir) as ix:
        assert ids(ix.search("saranovic")) == [SL_003]
        edited = docs / SL_003
        edited.write_text(edited.read_text(encoding="utf-8") + "\nKenguru je pobegnil.\n",
                          encoding="utf-8")
        assert index_paths([docs], index_dir).updated == 1
        assert ix.refresh(force=True)
        assert ids(ix.search("saranovic")) == [SL_003]  # the new version only
        assert ids(ix.search("kenguru")) == [SL_003]
        assert len(ix) == ix.stats().doc_count == 5


def test_search_refreshes_by_itself(seed_workspace, monkeypatch):
    monkeypatch.setattr(searcher_module, "REFRESH_INTERVAL", 0.0)
    docs, index_dir = seed_workspace
    with SearchIndex(index_dir) as ix:
        assert ix.search("saranovic").total == 1
        (docs / SL_003).unlink()
        index_paths([docs], index_dir)
        assert ix.search("saranovic").total == 0


def test_refresh_follows_a_rebuild(seed_workspace):
    docs, index_dir = seed_workspace
    with SearchIndex(index_dir) as ix:
        (docs / SL_002).unlink()
        index_paths([docs], index_dir, rebuild=True)
        assert ix.refresh(force=True) is True
        assert ids(ix.search("policija", lang="sl")) == [SL_003]


def test_close_waits_for_the_background_cognate_rebuild(seed_workspace, monkeypatch):
    """A commit that grows the index makes the next search rebuild the cognate vocabulary
    in a thread, which writes into the index folder: after ``close`` it must be done (it
    once outlived the test and broke the next test's restore of the folder)."""
    docs, index_dir = seed_workspace
    started, release, done = threading.Event(), threading.Event(), threading.Event()
    build = understanding_module.cognates_for_reader

    def held_back(reader, folder=None, pair=None):
        if threading.current_thread().name == "cognate-index":
            started.set()
            release.wait(30)
            try:
                return build(reader, folder, pair)
            finally:
                done.set()
        return build(reader, folder, pair)

    monkeypatch.setattr(understanding_module, "cognates_for_reader", held_back)
    ix = SearchIndex(index_dir)
    try:
        assert ix.search("policija", lang="sl").total == 2  # builds the first vocabulary
        (docs / "quokka.txt").write_text("Quokka census\n\nRangers counted the quokkas.\n",
                                         encoding="utf-8")
        assert index_paths([docs], index_dir).added == 1
        assert ix.refresh(force=True)
        assert ids(ix.search("quokka")) == ["quokka.txt"]
        assert started.wait(30), "no background rebuild was started"
    finally:
        threading.Timer(0.2, release.set).start()  # close() must wait for it
        ix.close()
    assert done.is_set()
    assert not [t for t in threading.enumerate() if t.name == "cognate-index"]


# -- an index without documents -------------------------------------------------------------

@pytest.fixture()
def empty_index(tmp_path):
    """An index built from an empty folder."""
    (tmp_path / "empty").mkdir()
    index_paths([tmp_path / "empty"], tmp_path / "index")
    return tmp_path / "index"


@pytest.mark.parametrize("query, lang", [("meja", "sl"), ("border", "en")])
@pytest.mark.parametrize("fast", [True, False])
def test_an_index_without_documents_answers_everything(empty_index, query, lang, fast):
    with SearchIndex(empty_index, fast=fast) as ix:
        for text in (query, f'"{query} control"', f"{query[:3]}*", f"-{query} +x",
                     f"title:{query} year:2024", query + "x"):
            for kwargs in ({}, {"lang": lang}, {"sort": "newest"}, {"page": 3}):
                results = ix.search(text, **kwargs)
                assert results.total == 0 and results.hits == [], (text, kwargs)
                assert results.suggestion is None
        assert ix.document("x", query=query) is None
        stats = ix.stats()
        assert (stats.doc_count, stats.by_lang, stats.by_year) == (0, {}, {})
        assert len(ix) == 0


@pytest.mark.parametrize("lang, query", [("sl", "saranovic"), ("en", "border")])
def test_an_index_whose_documents_were_all_deleted_answers(seed_workspace, lang, query):
    docs, index_dir = seed_workspace
    with SearchIndex(index_dir) as ix:
        assert ix.search(query, lang=lang).total >= 1
        for path in docs.iterdir():
            path.unlink()
        assert index_paths([docs], index_dir).deleted == 5
        assert ix.refresh(force=True)
        assert ix.search(query, lang=lang).total == 0
        assert ix.search(query).hits == []
        assert ix.stats().doc_count == 0


def test_ranking_options(seed_index):
    with SearchIndex(seed_index, mode="and") as ix:
        # Both words in one document: only Slovenian releases mention "Poklukar" AND "Tirana".
        assert ids(ix.search("poklukar tirani")) == [SL_002]
    with SearchIndex(seed_index) as ix:
        assert len(ids(ix.search("poklukar tirani"))) > 1


# -- positional re-ranking ------------------------------------------------------------------

def test_position_factor_rewards_early_and_adjacent_words():
    factor = results_module._position_factor
    none = [set(), set()]
    assert factor([[], []], none, [1.0, 1.0]) == 1.0  # the words are not in the body at all
    early_together = factor([[0], [1]], none, [1.0, 1.0])
    late_apart = factor([[400], [900]], none, [1.0, 1.0])
    assert late_apart < 1.01 < early_together
    assert early_together == pytest.approx(1.641, abs=1e-3)  # 1.2475 * 1.196 * 1.1
    # Side by side in order counts; the reverse order does not.
    assert factor([[300], [301]], none, [1.0, 1.0]) > factor([[301], [300]], none, [1.0, 1.0])
    # In the title as well.
    assert factor([[300], [301]], [{0}, {1}], [1.0, 1.0]) > factor([[300], [301]], none,
                                                                   [1.0, 1.0])
    # The early word weighs by its IDF: early rare word > early common word.
    assert factor([[0], [500]], none, [3.0, 1.0]) > factor([[500], [0]], none, [3.0, 1.0])


def test_positions_rerank_a_document_about_the_query_first(tmp_path):
    filler = " ".join(f"filler{i}" for i in range(120))
    # The same title, the same words as often, the same length: only where they stand differs.
    docs = [
        {"id": "late", "title": "Notes", "text": f"Other things come first. {filler} "
                                            "You can also insert a picture and a chart."},
        {"id": "lead", "title": "Notes", "text": f"Insert a picture and a chart here. {filler} "
                                            "Other things come last."},
    ]
    jsonl = tmp_path / "docs.jsonl"
    jsonl.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    index_paths([jsonl], tmp_path / "index", rebuild=True)
    with SearchIndex(tmp_path / "index") as ix:
        for query in ("insert picture", "picture"):
            hits = ix.search(query, lang="en", snippets=False).hits
            assert [h.id for h in hits] == ["lead", "late"], query
            assert hits[0].score > hits[1].score
    with SearchIndex(tmp_path / "index", positions=False) as ix:  # BM25 alone cannot tell
        hits = ix.search("insert picture", lang="en", snippets=False).hits
        assert hits[0].score == pytest.approx(hits[1].score)


@pytest.mark.parametrize("seed", range(20))
def test_position_factors_are_computed_only_where_they_can_change_the_page(seed):
    # The hits whose factor cannot bring them onto the page keep factor 1: the page (its
    # hits, order and scores) must be what computing every factor gives.
    import random

    from search.whoosh_ext.execution import Matches

    rnd = random.Random(seed)
    words = [{("body_en", b"a")}, {("body_en", b"b")}, {("body_sl", b"c")}]
    terms = sorted(set().union(*words))
    top = sorted(((d, rnd.uniform(0.5, 10)) for d in range(rnd.randint(1, 100))),
                 key=lambda hit: -hit[1])
    matched = {d: {t for t in terms if rnd.random() < 0.6} for d, _ in top}
    factor = {d: rnd.uniform(1.0, results_module.MAX_POSITION_FACTOR) for d, _ in top}
    asked: list[int] = []

    def some(docnums):
        asked.extend(docnums)
        return {d: factor[d] for d in docnums}

    def rank(factors, shown: int, tiers: bool) -> list:
        found = Matches(total=len(top), facets={}, top=top,
                        _matched={d: set(m) for d, m in matched.items()})
        direct = words[:2] if tiers else words  # with tiers, "c" counts as translated
        return results_module._rerank(found, direct, tiers=tiers, factors=factors,
                                      shown=shown)[:shown]

    for shown in (1, 10, 20):
        for tiers in (False, True):
            asked.clear()
            assert (rank(some, shown, tiers)
                    == rank(lambda docnums: {d: factor[d] for d, _ in top}, shown, tiers))
            if len(top) > 3 * shown:
                assert len(asked) < len(top)  # some were left out


# -- documents led by a name in the other language, and of unknown language ----------------

MIXED_DOCS = [
    {"id": "sl-luthor", "title": "Lex Luthor (Smallville)",
     "text": "Lex Luthor (Smallville) is the version of Lex Luthor in the television series "
             "Smallville. Lik je upodobil Michael Rosenbaum; v seriji je sin bogatega "
             "industrialca Lionela Luthorja, ki mu oče ne zaupa."},
    {"id": "en-triglav", "title": "Triglavski narodni park",
     "text": "Triglavski narodni park je edini narodni park v Sloveniji. The park covers the "
             "Julian Alps around Mount Triglav; it was founded in 1924 and is one of the "
             "oldest in Europe."},
    {"id": "und-invrs", "title": "INVRS (Algorithm 66)", "text": "INVRS (Algorithm 66)"},
    {"id": "sl-serija", "title": "Televizijska serija",
     "text": "Televizijska serija o mladem Supermanu je imela deset sezon. Serija je bila "
             "posneta v Kanadi, v njej pa je nastopil tudi Lex Luthor."},
    {"id": "en-alps", "title": "The Julian Alps",
     "text": "The Julian Alps are a mountain range in Slovenia and Italy. The park around "
             "Triglav protects most of them, and the algorithm of the seasons rules them."},
]


@pytest.fixture(scope="module")
def mixed_search(tmp_path_factory):
    root = tmp_path_factory.mktemp("mixed")
    (root / "docs.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n"
                                             for d in MIXED_DOCS), encoding="utf-8")
    index_paths([root / "docs.jsonl"], root / "index")  # no "lang": detected
    with SearchIndex(root / "index") as ix:
        yield ix


@pytest.mark.parametrize("lang, query, doc", [("sl", "Luthor", "sl-luthor"),
                                              ("en", "Triglav park", "en-triglav")])
def test_a_text_led_by_a_name_in_the_other_language_is_found_under_its_language(
        mixed_search, lang, query, doc):
    hits = mixed_search.search(query, lang=lang).hits
    assert doc in [h.id for h in hits]
    assert next(h for h in hits if h.id == doc).lang == lang
    other = "en" if lang == "sl" else "sl"
    assert doc not in ids(mixed_search.search(query, lang=other))


@pytest.mark.parametrize("lang", ["sl", "en"])
def test_a_document_of_unknown_language_is_found_under_either_language(mixed_search, lang):
    results = mixed_search.search("INVRS", lang=lang)
    assert ids(results) == ["und-invrs"] and results.hits[0].lang == "und"
    assert "<mark>INVRS</mark>" in results.hits[0].snippet
    assert results.facets["lang"] == {"und": 1}
    assert ids(mixed_search.search(f"INVRS lang:{lang}")) == ["und-invrs"]
    # Analysed as both languages: a Slovenian and an English inflection find it.
    assert "und-invrs" in ids(mixed_search.search("algorithms" if lang == "en" else "algoritm*",
                                                  lang=lang))


def test_unknown_language_is_a_facet_and_a_filter_of_its_own(mixed_search):
    results = mixed_search.search("*")
    assert results.facets["lang"]["und"] == 1 and sum(results.facets["lang"].values()) == 5
    assert ids(mixed_search.search("*", lang="und")) == ["und-invrs"]
    assert ids(mixed_search.search("lang:und")) == ["und-invrs"]
    assert mixed_search.stats().by_lang == {"en": 2, "sl": 2, "und": 1}
    assert results.to_dict()["facets"]["lang"]["und"] == 1


def test_documents_of_unknown_language_count_in_each_languages_statistics(mixed_search):
    from search.ranking import language_doc_count

    s = mixed_search._searcher
    assert language_doc_count(s, "sl") == language_doc_count(s, "en") == 3


# -- full result lists ------------------------------------------------------------------------

#: Documents per language that share one query word (policija / police), each with other words.
SHARED = 75


@pytest.fixture(scope="module")
def shared_word_index(tmp_path_factory):
    root = tmp_path_factory.mktemp("shared-word")
    rows = []
    for i in range(SHARED):
        rows.append({"id": f"sl-{i:03d}", "lang": "sl", "title": f"Poročilo {i}",
                     "text": f"Policija je v kraju številka {i} obravnavala prometno nesrečo. "
                             + "Voznik je bil poškodovan. " * (i % 7)})
        rows.append({"id": f"en-{i:03d}", "lang": "en", "title": f"Report {i}",
                     "text": f"The police handled a road accident in town number {i}. "
                             + "The driver was hurt. " * (i % 7)})
    for i in range(20):  # documents sharing only stop words with the questions below
        rows.append({"id": f"sl-x{i}", "lang": "sl", "title": "Vreme",
                     "text": "Jutri bo sončno in toplo, popoldne pa bodo mogoče nevihte."
                             + " Je pa res, da bo veter." * (i % 2)})
        rows.append({"id": f"en-x{i}", "lang": "en", "title": "Weather",
                     "text": "Tomorrow will be sunny and warm, with storms in afternoons."
                             + " The wind will drop." * (i % 2)})
    (root / "docs.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                             for r in rows), encoding="utf-8")
    # (The reports translate each other: no pairs found, so that none is folded.)
    index_paths([root / "docs.jsonl"], root / "index", find_translations=False)
    return root / "index"


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("lang, question", [
    ("sl", "Kdo je včeraj poklical policijo zaradi nesreče na avtocesti?"),
    ("en", "Who called the police yesterday about the crash on the motorway?"),
])
def test_a_result_list_is_as_long_as_the_matching_documents_allow(shared_word_index, fast,
                                                                  lang, question,
                                                                  monkeypatch):
    # Every document of the language holds one word of the question (policija / police): a
    # list of 100 asked for holds them all, whatever pruning or re-ranking does.
    with SearchIndex(shared_word_index, fast=fast) as ix:
        monkeypatch.setattr(results_module, "STOP_WORD_TAIL", False)  # content words only
        results = ix.search(question, lang=lang, per_page=100, snippets=False)
        assert results.total == SHARED and len(results.hits) == SHARED
        assert {h.id[:3] for h in results.hits} == {f"{lang}-"}
        # Without the filter, both languages' documents (the other through translation).
        both = ix.search(question, per_page=100, snippets=False)
        assert len(both.hits) == 100 and both.total == 2 * SHARED
        assert all(h.id.startswith(f"{lang}-") for h in both.hits[:SHARED])  # own words first
        # Paging goes on to the end of the list, with no document twice.
        pages = [ix.search(question, lang=lang, page=p, per_page=30, snippets=False).hits
                 for p in (1, 2, 3)]
        assert [len(p) for p in pages] == [30, 30, SHARED - 60]
        assert len({h.id for p in pages for h in p}) == SHARED


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("lang, question, stop", [
    ("sl", "Kdo je včeraj poklical policijo zaradi nesreče?", "je"),
    ("en", "Who called the police yesterday about the crash?", "the"),
])
def test_documents_sharing_only_stop_words_end_a_short_list(shared_word_index, fast, lang,
                                                             question, stop, monkeypatch):
    # Ten of the twenty weather reports hold the question's stop word, and nothing else of
    # it: they end the list (engines without a stop list return them too), after every real
    # match, whose order does not change.
    with SearchIndex(shared_word_index, fast=fast) as ix:
        results = ix.search(question, lang=lang, per_page=100, snippets=False)
        got = ids(results)
        assert len(got) == results.total == SHARED + 10
        assert all(i.startswith(f"{lang}-") and "x" not in i for i in got[:SHARED])
        assert {i for i in got[SHARED:]} == {f"{lang}-x{i}" for i in range(1, 20, 2)}
        assert results.facets["lang"] == {lang: SHARED + 10}
        assert max(h.score for h in results.hits[SHARED:]) < min(
            h.score for h in results.hits[:SHARED])
        paged = ix.search(question, lang=lang, page=2, per_page=50, snippets=False)
        assert ids(paged) == got[50:]
        monkeypatch.setattr(results_module, "STOP_WORD_TAIL", False)
        assert ids(ix.search(question, lang=lang, per_page=100, snippets=False)) == got[:SHARED]
        # A stop word in a phrase, or with nothing else matched, brings no tail.
        monkeypatch.setattr(results_module, "STOP_WORD_TAIL", True)
        for text in (f'policija police "{stop} xyzzy"', f"xyzzyq {stop}"):
            found = ids(ix.search(text, lang=lang, per_page=100, snippets=False))
            assert not any("x" in i[3:] for i in found), text
