"""search.spelling: bounded, bilingual spelling correction, on small made-up corpora."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from search import spelling
from search.indexer import index_paths
from search.schema import spelling_fields
from search.searcher import SearchIndex
from search.spelling import (
    MAX_CANDIDATES,
    MAX_QUERY_CANDIDATES,
    MAX_WORDS,
    SEGMENTS_FILE,
    VOCABULARY_FILE,
    Speller,
    Vocabulary,
    field_frequencies,
    pack,
    vocabulary_for_reader,
)
from search.storage import IndexLayout, open_index

#: (id, title, text) of made-up help pages; each language's documents use words the other's
#: do not, except where a test needs an English word inside a Slovenian page.
ENGLISH = [
    ("en/password", "Change your password",
     "To change the password of a document, open the file menu and choose the password "
     "dialog. A strong password has many characters. The password protects the document."),
    ("en/password-reset", "Reset a forgotten password",
     "If you forgot the password, the document cannot be opened. Keep your password in a "
     "safe place."),
    ("en/spreadsheet", "Spreadsheet options",
     "The spreadsheet options set how a spreadsheet calculates. Every spreadsheet has sheets, "
     "rows and columns."),
    ("en/conditional", "Conditional formatting",
     "Conditional formatting changes the look of a cell when a condition is met. Define the "
     "conditional format in the dialog."),
    ("en/printing", "Printing documents",
     "Printing sends the document to the printer. Choose the printer and the number of "
     "copies, then print."),
    ("en/passport", "Travel notes",
     "These notes describe trains, buses, hotels, museums, markets and the weather in many "
     "towns, and they mention near the end that a passport is needed at the border crossing."),
]
SLOVENIAN = [
    ("sl/policija", "Policija in državljani",
     "Policija je danes sporočila, da državljani lahko prijavijo nesrečo na policijski "
     "postaji. Policija sodeluje z državljani."),
    ("sl/policija-meja", "Policija na meji",
     "Policija nadzoruje mejo. Policija je prijela tihotapca, državljani pa so pomagali."),
    ("sl/kolesar", "Dolg zapis o prometu",
     "Ta dolgi zapis govori o prometu, cestah, avtomobilih in pešcih, o semaforjih in "
     "prehodih, na koncu pa omeni, da je kolesar varno prečkal cesto pri šoli."),
    ("sl/kolesnica", "Kolesnica kolesnica", "Kolesnica kolesnica kolesnica."),
    # English names inside Slovenian text: "passwrd" and "passport" reach these pages
    # through the truncated, folded Slovenian path only ("passw", "passp").
    ("sl/geslo", "Nastavitev gesla",
     "Geslo dokumenta spremenite v pogovornem oknu. Polje passwordfield v programu sprejme "
     "geslo; passwordfield je obvezno."),
    ("sl/passportfield", "Passportfield passportfield", "Passportfield passportfield "
     "passportfield."),
]


def write_corpus(folder: Path, documents: list[tuple[str, str, str, str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "docs.jsonl", "w", encoding="utf-8") as fh:
        for lang, doc_id, title, text in documents:
            fh.write(json.dumps({"id": doc_id, "lang": lang, "title": title, "text": text},
                                ensure_ascii=False) + "\n")


def corpus() -> list[tuple[str, str, str, str]]:
    return [("en", *d) for d in ENGLISH] + [("sl", *d) for d in SLOVENIAN]


@pytest.fixture(scope="module")
def help_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("spelling")
    write_corpus(root / "docs", corpus())
    report = index_paths([root / "docs"], root / "index")
    assert report.added == len(ENGLISH) + len(SLOVENIAN), report.problems
    return root / "index"


@pytest.fixture(scope="module")
def ix(help_index: Path):
    with SearchIndex(help_index) as index:
        yield index


def ids(results) -> list[str]:
    return [h.id for h in results.hits]


class Counter:
    """Wraps rapidfuzz's ``process.extract`` to count the vocabulary words compared."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.compared = 0
        self.calls = 0
        real = spelling.process.extract

        def extract(query, choices, **kwargs):
            self.compared += len(choices)
            self.calls += 1
            return real(query, choices, **kwargs)

        monkeypatch.setattr(spelling.process, "extract", extract)


# -- the vocabulary ------------------------------------------------------------------------

def test_vocabulary_folds_words_and_keeps_each_languages_frequency() -> None:
    vocabulary = Vocabulary({"država": pack([0, 3]), "drzava": pack([0, 1]),
                             "password": pack([5, 1]), "x86": pack([2, 0])},
                            {"en": 10, "sl": 10})
    assert list(spelling_fields()) == ["en", "sl"]  # the order pack() assumes here
    assert "drzava" in vocabulary and "država" not in vocabulary  # keys are folded
    assert vocabulary.display("drzava") == "država"  # as most documents write it
    assert vocabulary.frequencies("drzava") == {"en": 0, "sl": 4}
    assert vocabulary.frequencies("password") == {"en": 5, "sl": 1}
    assert "x86" not in vocabulary  # only words of letters are corrected to
    assert vocabulary.rate("password") == pytest.approx(0.5)


def test_the_index_keeps_each_words_frequency_by_language(ix) -> None:
    vocabulary = ix._understanding._spelling().vocabulary
    assert vocabulary.frequencies("password") == {"en": 2, "sl": 0}
    assert vocabulary.frequencies("policija") == {"en": 0, "sl": 2}
    assert vocabulary.frequencies("drzavljani") == {"en": 0, "sl": 2}
    assert vocabulary.display("drzavljani") == "državljani"


def test_fast_term_reading_equals_whooshs(help_index: Path) -> None:
    ix, _gen = open_index(help_index)
    with ix.reader() as reader:
        for leaf, _base in reader.leaf_readers():
            for name in spelling_fields().values():
                fast = field_frequencies(leaf, name)
                assert fast and fast == field_frequencies(leaf, name, fast=False)


def test_vocabulary_is_made_at_index_time_and_kept_with_the_generation(
        help_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gen = IndexLayout(help_index).current()
    assert (gen / VOCABULARY_FILE).is_file() and (gen / SEGMENTS_FILE).is_file()

    def never(*args, **kwargs):
        raise AssertionError("the vocabulary was made again instead of read")

    monkeypatch.setattr(spelling, "segment_counts", never)
    with SearchIndex(help_index) as index:
        assert index.search("passwrd").corrected == "password"


def test_a_commit_reads_only_its_new_segments(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    write_corpus(tmp_path / "docs", corpus())
    index_paths([tmp_path / "docs"], tmp_path / "index")
    read = []
    real = spelling.segment_counts
    monkeypatch.setattr(spelling, "segment_counts",
                        lambda leaf, fast=True: read.append(leaf.segment().segment_id())
                        or real(leaf, fast))
    write_corpus(tmp_path / "more", [("sl", "sl/kolo", "Kolo", "Kolesarska steza ob reki.")])
    index_paths([tmp_path / "docs", tmp_path / "more"], tmp_path / "index")
    ix, gen = open_index(tmp_path / "index")
    with ix.reader() as reader:
        segments = [leaf.segment().segment_id() for leaf, _ in reader.leaf_readers()]
        assert len(segments) == 2 and len(read) == 1 and read[0] in segments
        kept = vocabulary_for_reader(reader, gen)  # from the cache
        fresh = vocabulary_for_reader(reader)  # from the index, nothing cached
    assert kept.frequencies("kolesarska") == {"en": 0, "sl": 1}
    assert kept.tables() == fresh.tables()


# -- correcting words ----------------------------------------------------------------------

@pytest.mark.parametrize("typo, fixed", [("passwrd", "password"), ("pasword", "password"),
                                         ("policjia", "policija"), ("plicija", "policija"),
                                         ("drzavljnai", "državljani"),
                                         ("drzavlajni", "državljani")])
def test_a_typo_becomes_the_closest_word(ix, typo: str, fixed: str) -> None:
    assert ix._understanding._spelling().correct(typo).fix == fixed


@pytest.mark.parametrize("typo", ["olicija", "oplicija", "xpolicija", "bolicija"],
                         ids=["first-left-out", "first-two-swapped", "extra-first",
                              "first-substituted"])
def test_a_typo_in_the_first_letter_is_corrected(ix, typo: str) -> None:
    assert ix._understanding._spelling().correct(typo).fix == "policija"


def test_closer_beats_more_frequent() -> None:
    speller = Speller(Vocabulary({"password": pack([1, 0]), "passed": pack([500, 0])},
                                 {"en": 1000, "sl": 10}))
    assert speller.correct("passwrd").fix == "password"  # 1 edit; "passed" is 2


@pytest.mark.parametrize("docs, expected", [({"en": 1000, "sl": 10}, "kava"),
                                            ({"en": 200, "sl": 1000}, "java")])
def test_equally_close_words_rank_by_frequency_in_their_own_language(docs, expected) -> None:
    # "java" is in 100 English documents, "kava" in 5 Slovenian ones: what counts is the
    # share of their own language's documents.
    speller = Speller(Vocabulary({"java": pack([100, 0]), "kava": pack([0, 5])}, docs))
    assert speller.correct("zava").fix == expected


def test_short_words_are_never_corrected(ix) -> None:
    speller = ix._understanding._spelling()
    assert speller.correct("pqf").fix is None
    assert speller.correct("pqf").examined == 0


def test_corrections_are_cached_in_a_bounded_cache() -> None:
    words = {f"word{chr(97 + i)}{chr(97 + j)}": pack([1, 0]) for i in range(5) for j in range(5)}
    speller = Speller(Vocabulary(words, {"en": 100, "sl": 100}), cache_size=3)
    first = speller.correct("wordaaa")
    assert first.fix == "wordaa" and first.examined > 0
    assert speller.correct("wordaaa") == spelling.Correction("wordaaa", "wordaa", 0, 1)
    for typo in ("wordbbb", "wordccc", "wordddd"):
        speller.correct(typo)
    assert speller.correct("wordddd").examined == 0  # still cached
    assert speller.correct("wordaaa").examined > 0  # the oldest was dropped


# -- bounded work ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def crowded() -> Vocabulary:
    """The worst case for a query word "aa......": every word has its length and its first
    two letters, so all of them fall into the buckets it looks at (more than MAX_CANDIDATES)."""
    rng = random.Random(7)
    words = {"aa" + "".join(rng.choice("abcdefgh") for _ in range(6)): pack([1, 0])
             for _ in range(3 * MAX_CANDIDATES)}
    return Vocabulary(words, {"en": 1000, "sl": 1000})


def test_correcting_one_word_examines_a_bounded_number_of_words(crowded, monkeypatch) -> None:
    speller = Speller(crowded)
    counter = Counter(monkeypatch)
    found = speller.correct("aazzzzzz")
    assert found.examined == counter.compared == MAX_CANDIDATES


def test_hostile_queries_examine_a_bounded_number_of_words(crowded, monkeypatch) -> None:
    rng = random.Random(11)
    speller = Speller(crowded)
    counter = Counter(monkeypatch)
    many_unknown = ["aa" + "".join(rng.choice("xyz") for _ in range(6)) for _ in range(200)]
    found = speller.correct_all(many_unknown)
    assert len(found) == MAX_WORDS
    assert counter.compared == sum(c.examined for c in found) == MAX_QUERY_CANDIDATES
    assert all(c.examined <= MAX_CANDIDATES for c in found)

    counter.compared = 0
    assert [c.examined for c in speller.correct_all(["a" * 10_000, "aa" * 5_000])] == [0, 0]
    unicode_words = ["".join(chr(rng.randrange(0x20, 0x2FFFF)) for _ in range(rng.randrange(
        1, 60))) for _ in range(300)]
    found = speller.correct_all(unicode_words)
    assert counter.compared == sum(c.examined for c in found) <= MAX_QUERY_CANDIDATES


def test_a_hostile_search_checks_and_corrects_a_bounded_number_of_words(
        ix, monkeypatch: pytest.MonkeyPatch) -> None:
    checked = []
    strength = spelling.word_strength
    monkeypatch.setattr(spelling, "word_strength",
                        lambda searcher, word, vocabulary=None:
                        checked.append(word) or strength(searcher, word, vocabulary))
    counter = Counter(monkeypatch)
    results = ix.search(" ".join(f"qwertyuiop{chr(97 + i % 26)}{i}x" for i in range(200)))
    assert results.total == 0 and results.corrected is None
    assert 0 < len(checked) <= MAX_WORDS
    assert counter.compared <= MAX_QUERY_CANDIDATES
    checked.clear()
    ix.search("x" * 10_000)
    assert len(checked) == 1 and counter.compared <= MAX_QUERY_CANDIDATES


# -- searching: "did you mean" and "showing results for" ------------------------------------

@pytest.mark.parametrize("typo, fixed, lang", [
    ("passwrd", "password", "en"), ("spredsheet", "spreadsheet", "en"),
    ("conditonal", "conditional", "en"),
    ("policjia", "policija", "sl"), ("drzavljnai", "državljani", "sl")])
def test_a_query_matching_nothing_directly_is_searched_corrected(ix, typo, fixed, lang):
    results = ix.search(typo)
    assert results.corrected == fixed and results.suggestion is None
    assert results.query == typo and results.verbatim == f'"{typo}"'
    assert results.hits and results.hits[0].lang == lang
    assert ids(results) == ids(ix.search(fixed))


def test_a_typo_reaching_pages_through_the_weak_path_still_gets_its_correction(ix) -> None:
    # "passwrd" matches a Slovenian page through "passw" ("passwordfield"): results, but poor.
    typed = ix.search("passwrd", correct=False)
    assert ids(typed) == ["sl/geslo"]
    assert typed.suggestion == "password" and typed.corrected is None
    corrected = ix.search("passwrd")
    assert ids(corrected)[:2] == ["en/password", "en/password-reset"]


def test_quoted_words_are_searched_as_typed(ix) -> None:
    verbatim = ix.search("passwrd").verbatim
    results = ix.search(verbatim)
    assert results.corrected is None and results.suggestion is None
    assert ids(results) == ["sl/geslo"]


@pytest.mark.parametrize("query, suggestion", [
    ("password chnage", "password change"),
    ("Policija drzavljnai", "Policija državljani"),
    ("PASSWRD -printer", "PASSWORD -printer")])
def test_a_query_with_a_direct_match_gets_a_suggestion_only(ix, query, suggestion) -> None:
    results = ix.search(query)
    assert results.corrected is None
    assert results.suggestion == suggestion


@pytest.mark.parametrize("query", ["password", "spreadsheet", "policija", "državljani",
                                   "drzavljani", "Policija državljani", "polic*",
                                   "tihotapca", "passport"])
def test_no_correction_for_words_the_index_knows(ix, query) -> None:
    results = ix.search(query)
    assert results.total > 0
    assert (results.suggestion, results.corrected) == (None, None)


def test_words_nothing_is_close_to_stay_as_typed(ix) -> None:
    results = ix.search("xyzzyqq")
    assert (results.total, results.suggestion, results.corrected) == (0, None, None)


def test_capitals_are_kept_in_the_correction(ix) -> None:
    assert ix.search("Passwrd").corrected == "Password"


def test_filters_and_paging_apply_to_the_corrected_query(ix) -> None:
    results = ix.search("policjia lang:sl", per_page=1, page=2)
    assert results.corrected == "policija lang:sl" and results.lang == "sl"
    assert results.total == 2 and results.page == 2 and len(results.hits) == 1


@pytest.mark.parametrize("query, lang, direct, weak", [
    ("kolesar", None, "sl/kolesar", "sl/kolesnica"),
    ("kolesar", "sl", "sl/kolesar", "sl/kolesnica"),
    ("passport", None, "en/passport", "sl/passportfield")])
def test_a_match_only_through_the_truncated_path_never_outranks_the_word_itself(
        ix, query, lang, direct, weak) -> None:
    results = ix.search(query, lang=lang)
    assert ids(results).index(direct) < ids(results).index(weak)
    scores = [h.score for h in results.hits]
    assert scores == sorted(scores, reverse=True)
    # ... although BM25 alone ranks the page repeating the look-alike word first.
    s = ix._searcher
    bm25 = [s.stored_fields(hit.docnum)["id"] for hit in s.search(ix.parse(query).query)]
    assert bm25.index(weak) < bm25.index(direct)
