"""search.searcher: ranked, highlighted, faceted search over the seed press releases."""

from __future__ import annotations

import html
import json
import re
import threading

import pytest
from conftest import SEED_EN, SEED_SL, SEEDS

from search import searcher as searcher_module
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


def test_ranking_options(seed_index):
    with SearchIndex(seed_index, mode="and") as ix:
        # Both words in one document: only Slovenian releases mention "Poklukar" AND "Tirana".
        assert ids(ix.search("poklukar tirani")) == [SL_002]
    with SearchIndex(seed_index) as ix:
        assert len(ids(ix.search("poklukar tirani"))) > 1


# -- positional re-ranking ------------------------------------------------------------------

def test_position_factor_rewards_early_and_adjacent_words():
    factor = searcher_module._position_factor
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

    from search.execution import Matches

    rnd = random.Random(seed)
    words = [{("body_en", b"a")}, {("body_en", b"b")}, {("body_sl", b"c")}]
    terms = sorted(set().union(*words))
    top = sorted(((d, rnd.uniform(0.5, 10)) for d in range(rnd.randint(1, 100))),
                 key=lambda hit: -hit[1])
    matched = {d: {t for t in terms if rnd.random() < 0.6} for d, _ in top}
    factor = {d: rnd.uniform(1.0, searcher_module.MAX_POSITION_FACTOR) for d, _ in top}
    asked: list[int] = []

    def some(docnums):
        asked.extend(docnums)
        return {d: factor[d] for d in docnums}

    def rank(factors, shown: int, tiers: bool) -> list:
        found = Matches(total=len(top), facets={}, top=top,
                        _matched={d: set(m) for d, m in matched.items()})
        direct = words[:2] if tiers else words  # with tiers, "c" counts as translated
        return searcher_module._rerank(found, direct, tiers=tiers, factors=factors,
                                       shown=shown)[:shown]

    for shown in (1, 10, 20):
        for tiers in (False, True):
            asked.clear()
            assert (rank(some, shown, tiers)
                    == rank(lambda docnums: {d: factor[d] for d, _ in top}, shown, tiers))
            if len(top) > 3 * shown:
                assert len(asked) < len(top)  # some were left out
