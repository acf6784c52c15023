"""search.grouping and SearchIndex.search(group=...): a page and its translation as one hit.

On a real index of translation pairs (tests/grouping_corpus.py): two seed press releases
with English versions, a pair with hostile titles, and real LibreOffice help pairs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from grouping_corpus import HELP_DOCS, HOSTILE_EN_TITLE, build_index

from search import grouping, links
from search.analysis import LANGUAGES
from search.grouping import Version, fold
from search.searcher import SearchIndex

#: A query in each language about the Tirana pair (and, more weakly, the Podgorica one).
QUERIES = {"sl": "policijsko sodelovanje v Tirani", "en": "police cooperation in Tirana"}
PAIRS: dict[str, str] = {"seed/sl/tirana": "seed/en/tirana",
                         "seed/sl/podgorica": "seed/en/podgorica"}

needs_help = pytest.mark.skipif(not HELP_DOCS.exists(),
                                reason=f"{HELP_DOCS} is missing (the shared evaluation data)")


@pytest.fixture(scope="module")
def group_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("grouping"))


@pytest.fixture(scope="module")
def ix(group_index: Path) -> Iterator[SearchIndex]:
    index = SearchIndex(group_index)
    yield index
    index.close()


def other(lang: str) -> str:
    (code,) = set(LANGUAGES) - {lang}
    return code


def pair_of(hit) -> tuple[str, ...]:
    """The same for a document and its translation."""
    return tuple(sorted({hit.id, hit.translation_id or hit.id}))


def ids(results) -> list[str]:
    return [h.id for h in results.hits]


# -- the pure function ----------------------------------------------------------------------

def _versions(*rows: tuple[str, str, str | None]) -> dict[str, Version]:
    return {doc_id: Version(doc_id, lang, translation_id=tr) for doc_id, lang, tr in rows}


@pytest.mark.parametrize("prefer", [None, *LANGUAGES])
def test_fold_keeps_the_pair_in_the_place_of_its_better_version(prefer: str | None) -> None:
    versions = _versions(("x-en", "en", "x-sl"), ("y-sl", "sl", None), ("x-sl", "sl", "x-en"),
                         ("z-en", "en", None))
    ranked = [("x-en", 4.0), ("y-sl", 3.0), ("x-sl", 2.0), ("z-en", 1.0)]
    folded = fold(ranked, versions, prefer)
    shown = "x-sl" if prefer == "sl" else "x-en"
    assert [key for key, _ in folded.rows] == [shown, "y-sl", "z-en"]
    assert folded.grouped == {shown: "x-en" if shown == "x-sl" else "x-sl"}
    assert dict(folded.rows)[shown] == dict(ranked)[shown]  # its own score


def test_fold_pairs_each_document_once() -> None:
    # Two English pages name the same Slovenian one: the better-ranked gets it.
    versions = _versions(("a-en", "en", "a-sl"), ("b-en", "en", "a-sl"), ("a-sl", "sl", "b-en"))
    folded = fold([("b-en", 3.0), ("a-en", 2.0), ("a-sl", 1.0)], versions)
    assert folded.rows == [("b-en", 3.0), ("a-en", 2.0)]
    assert folded.grouped == {"b-en": "a-sl"}


def test_fold_leaves_documents_outside_the_window_alone() -> None:
    versions = _versions(("a-en", "en", "a-sl"))  # a-sl ranked, but not in the window
    ranked = [("a-en", 2.0), ("a-sl", 1.0)]
    assert fold(ranked, versions).rows == ranked


# -- the library ---------------------------------------------------------------------------

@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_a_pair_is_one_hit_the_better_ranked_version(ix: SearchIndex, lang: str) -> None:
    separate = ix.search(QUERIES[lang], group=False, per_page=100)
    grouped = ix.search(QUERIES[lang], per_page=100)
    assert separate.hits[0].id == f"seed/{lang}/tirana"  # the query's language ranks first
    assert grouped.hits[0].id == f"seed/{lang}/tirana"
    first = grouped.hits[0]
    assert first.grouped and first.translation_id == f"seed/{other(lang)}/tirana"
    assert first.translation_lang == other(lang)
    assert f"seed/{other(lang)}/tirana" not in ids(grouped)
    # Each pair once, in the order of its better version; the documents are still counted.
    assert grouped.total == separate.total and grouped.facets == separate.facets
    assert separate.total <= grouping.window(100)  # every pair among these is folded
    pairs = [pair_of(h) for h in separate.hits]
    assert [pair_of(h) for h in grouped.hits] == list(dict.fromkeys(pairs))
    assert grouped.folded == len(separate.hits) - len(grouped.hits) >= 2


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_a_preferred_language_shows_its_version_in_the_pair_place(ix: SearchIndex,
                                                                  lang: str) -> None:
    query = QUERIES[other(lang)]  # the query favours the other language's version
    best = ix.search(query, per_page=30)
    preferred = ix.search(query, group=lang, per_page=30)
    assert [pair_of(h) for h in preferred.hits] == [pair_of(h) for h in best.hits]
    assert preferred.folded == best.folded >= 2
    for mine, theirs in zip(preferred.hits, best.hits, strict=True):
        assert mine.rank == theirs.rank and mine.grouped == theirs.grouped
        if mine.grouped:  # every folded pair has both languages: the preferred one is shown
            assert mine.lang == lang and {mine.translation_lang, theirs.lang} >= {other(lang)}
    seeds = [h for h in best.hits if h.id in PAIRS or h.id in PAIRS.values()]
    assert [h.lang for h in seeds] == [other(lang)] * 2


def test_every_hit_names_its_translation_with_grouping_off(ix: SearchIndex) -> None:
    results = ix.search(QUERIES["en"], group=False)
    assert results.folded == 0 and not any(h.grouped for h in results.hits)
    by_id = {h.id: h for h in results.hits}
    for sl, en in PAIRS.items():
        assert by_id[sl].translation_id == en and by_id[en].translation_id == sl
        assert by_id[sl].translation_title == by_id[en].title


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
@pytest.mark.parametrize("typed", [False, True])
def test_nothing_is_grouped_under_a_language_filter(ix: SearchIndex, lang: str,
                                                    typed: bool) -> None:
    query = QUERIES[lang]
    results = ix.search(f"{query} lang:{lang}") if typed else ix.search(query, lang=lang)
    assert results.folded == 0 and results.hits
    assert all(h.lang == lang and not h.grouped for h in results.hits)
    tirana = next(h for h in results.hits if h.id == f"seed/{lang}/tirana")
    assert tirana.translation_id == f"seed/{other(lang)}/tirana"  # still linked


def test_the_other_title_is_passed_on_as_stored(ix: SearchIndex) -> None:
    (hit,) = ix.search("walrus", group="sl").hits
    assert hit.id == "odd/sl/walrus" and hit.translation_title == HOSTILE_EN_TITLE
    assert hit.to_dict()["translation_title"] == HOSTILE_EN_TITLE  # escaping is the page's


def test_a_correction_keeps_grouping(ix: SearchIndex) -> None:
    results = ix.search("Podgoricca")
    assert results.corrected == "Podgorica"
    assert results.folded == 1 and len(results.hits) == 1 and results.hits[0].grouped


# -- paging -----------------------------------------------------------------------------------

def _all_pages(ix: SearchIndex, query: str, per_page: int, group: bool | str):
    pages, page = [], 1
    while True:
        results = ix.search(query, page=page, per_page=per_page, group=group, snippets=False)
        if not results.hits:
            return pages, results
        pages.append(results)
        page += 1


def _check_paging(ix: SearchIndex, query: str, per_page: int, group: bool | str) -> int:
    """Pages of ``query`` are slices of one folded list; returns the folded count."""
    everything = ix.search(query, per_page=100, group=False, snippets=False)
    assert everything.total == len(everything.hits)  # all on one page: the truth
    pages, beyond = _all_pages(ix, query, per_page, group)
    shown = [h.id for p in pages for h in p.hits]
    folded = [h.translation_id for p in pages for h in p.hits if h.grouped]
    assert len(set(shown)) == len(shown), "a document shown twice"
    assert not set(folded) & set(shown), "a folded document shown on its own"
    assert sorted(shown + folded) == sorted(ids(everything)), "a document lost"
    counts = {(p.total, p.folded, p.pages) for p in pages}
    assert len(counts) == 1, counts  # the same on every page
    total, n_folded, n_pages = counts.pop()
    assert total == everything.total and n_pages == len(pages)
    assert all(len(p.hits) == per_page for p in pages[:-1])
    assert 1 <= len(pages[-1].hits) <= per_page
    assert beyond.total == total and beyond.pages == n_pages  # past the end: nothing more
    assert [h.rank for p in pages for h in p.hits] == list(range(1, len(shown) + 1))
    return n_folded


@needs_help
@pytest.mark.parametrize("per_page", [3, 7])
@pytest.mark.parametrize("group", [True, *sorted(LANGUAGES)])
def test_pages_are_slices_of_one_folded_list(ix: SearchIndex, per_page: int,
                                             group: bool | str) -> None:
    assert _check_paging(ix, "Python", per_page, group) > 5


@needs_help
def test_a_small_window_folds_less_and_pages_stay_consistent(ix: SearchIndex,
                                                             monkeypatch) -> None:
    everything = _check_paging(ix, "Python", 3, True)
    monkeypatch.setattr(grouping, "GROUP_WINDOW", 20)
    monkeypatch.setattr(grouping, "WINDOW_PAGES", 1)
    small = _check_paging(ix, "Python", 3, True)
    assert 0 < small < everything  # pairs reaching past the window stay two results
    assert small <= 20 // 2


@needs_help
def test_folding_looks_at_a_bounded_window(group_index: Path, monkeypatch) -> None:
    monkeypatch.setattr(grouping, "GROUP_WINDOW", 20)  # fewer than the matches
    monkeypatch.setattr(grouping, "WINDOW_PAGES", 1)
    looked = []
    real = links._translation_of

    def counting(declared, searcher, stored, *args):
        looked.append(stored["id"])
        return real(declared, searcher, stored, *args)

    monkeypatch.setattr(links, "_translation_of", counting)
    with SearchIndex(group_index) as fresh:
        results = fresh.search("Python", per_page=5)
        assert results.total > grouping.window(5)
        # The window and the page's hits, each document once.
        assert len(looked) == len(set(looked)) <= grouping.window(5) + 5
        again = len(looked)
        second = fresh.search("Python", per_page=5, page=2)
        # The same window: read once. Only a hit from beyond it may be new.
        assert set(looked[again:]) <= set(ids(second)) - set(looked[:again])


def test_a_translation_not_indexed_is_not_linked(group_index: Path, monkeypatch) -> None:
    # A declared link may name a page not indexed (yet): no link to a missing page.
    real = links._translation_of
    monkeypatch.setattr(links, "_translation_of", lambda declared, searcher, stored, *args:
                        "nowhere/en/walrus" if stored["id"] == "odd/sl/walrus"
                        else real(declared, searcher, stored, *args))
    with SearchIndex(group_index) as fresh:
        by_id = {h.id: h for h in fresh.search("walrus", group=False).hits}
        assert by_id["odd/sl/walrus"].translation_id is None
        assert by_id["odd/en/walrus"].translation_id == "odd/sl/walrus"


def test_a_commit_is_seen_by_grouping_at_once(tmp_path: Path) -> None:
    # What grouping read of documents is kept per index version: a new translation counts
    # from the next search, and the documents renumbered by a commit are not confused.
    path = build_index(tmp_path)
    with SearchIndex(path) as fresh:
        assert fresh.search("walrus").folded == 1
        with fresh.writer() as w:
            # (Not a translation of the English page either: no pair is found for it.)
            w.add({"id": "odd/sl/walrus", "lang": "sl", "title": "Mrož brez para",
                   "text": "Jutri bo sončno in toplo, popoldne pa bodo nevihte. Walrus."})
        results = fresh.search("walrus")
        assert results.folded == 0 and len(results.hits) == 2
        assert {h.id: h.translation_id for h in results.hits} == {
            "odd/sl/walrus": None, "odd/en/walrus": None}
        with fresh.writer() as w:
            w.add({"id": "odd/sl/mroz", "lang": "sl", "pair_id": "walrus", "title": "Mrož",
                   "text": "Mrož na pomolu. Walrus."})
        (hit,) = [h for h in fresh.search("walrus", group="en").hits if h.grouped]
        assert hit.id == "odd/en/walrus" and hit.translation_id == "odd/sl/mroz"


def test_an_index_without_translation_links_skips_folding(seed_index: Path,
                                                          ix: SearchIndex,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The seeds declare no translations and none is found among them: a search there reads
    no document for folding and looks up no link (the work a single-language site would pay
    on every query); an index of pairs still folds."""
    looked: list[str] = []
    real = links.declared_translation
    monkeypatch.setattr(links, "declared_translation",
                        lambda searcher, stored, **kw: looked.append(stored["id"])
                        or real(searcher, stored, **kw))
    with SearchIndex(seed_index) as seeds:
        assert not seeds._results.has_translations()
        results = seeds.search("policija")
        assert results.total > 1 and results.folded == 0
        assert all(h.translation_id is None for h in results.hits)
    assert looked == []
    assert ix._results.has_translations()
    assert ix.search(QUERIES["en"]).folded >= 1
