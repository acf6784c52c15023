"""Translations nobody marked are found at index time (search/pairing.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from search import SearchIndex, index_paths, open_writer
from search.pair_evidence import MAX_CHARS
from search.pairing import (
    FOUND_PAIRS_FILE,
    PairingLimits,
    load_found_pairs,
    update_found_pairs,
)
from search.storage import open_index
from search.translation import load_dictionary

FIXTURES = Path(__file__).parent / "fixtures" / "pairing"
SEEDS = Path(__file__).resolve().parents[1] / ".." / "shared" / "seeds"
PAIR = {"en": "library.en.txt", "sl": "library.sl.txt"}
OTHER = {"en": "sl", "sl": "en"}

pytestmark = pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is missing")
#: The tests that expect a link need the dictionary (without it only cognates translate).
needs_dictionary = pytest.mark.skipif(load_dictionary() is None,
                                      reason="Debian's dict-freedict-slv-eng is not installed")


def _folder(tmp_path: Path, *names: str) -> Path:
    """A folder with the seeds (real press releases that translate nothing here) and the
    named fixture files."""
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    for seed in SEEDS.glob("*.txt"):
        shutil.copy(seed, docs / seed.name)
    for name in names:
        shutil.copy(FIXTURES / name, docs / name)
    return docs


def _pairs(index: Path) -> dict[str, str]:
    _ix, gen = open_index(index)
    return load_found_pairs(gen)


@needs_dictionary
def test_a_translated_pair_is_linked_both_ways(tmp_path: Path) -> None:
    docs = _folder(tmp_path, *PAIR.values())
    index_paths([docs], tmp_path / "index")
    assert _pairs(tmp_path / "index") == {PAIR["en"]: PAIR["sl"], PAIR["sl"]: PAIR["en"]}
    with SearchIndex(tmp_path / "index") as ix:
        for lang, name in PAIR.items():
            view = ix.document(name)
            assert view is not None and view.lang == lang
            assert view.translation_id == PAIR[OTHER[lang]]
        # The seeds stay unpaired.
        assert ix.document(next(SEEDS.glob("*.txt")).name).translation_id is None


def test_no_link_among_the_seeds(tmp_path: Path) -> None:
    # Two English and three Slovenian press releases on the same subjects (ministers,
    # police cooperation), none a translation of another: any link would be wrong.
    docs = _folder(tmp_path)
    index_paths([docs], tmp_path / "index")
    _ix, gen = open_index(tmp_path / "index")
    assert json.loads((gen / FOUND_PAIRS_FILE).read_text(encoding="utf-8"))["links"] == {}
    assert load_found_pairs(gen) == {}


@pytest.mark.parametrize("lang", ["en", "sl"])
def test_an_unrelated_document_is_not_linked(tmp_path: Path, lang: str) -> None:
    # Only one of the pair, among documents of the other language on other subjects.
    docs = _folder(tmp_path, PAIR[lang])
    index_paths([docs], tmp_path / "index")
    assert _pairs(tmp_path / "index") == {}


@pytest.mark.parametrize("lang", ["en", "sl"])
def test_two_equally_good_candidates_link_nothing(tmp_path: Path, lang: str) -> None:
    other = OTHER[lang]
    docs = _folder(tmp_path, *PAIR.values())
    shutil.copy(FIXTURES / PAIR[other], docs / f"copy.{other}.txt")
    index_paths([docs], tmp_path / "index")
    assert _pairs(tmp_path / "index") == {}


def test_a_declared_pair_is_not_overridden(tmp_path: Path) -> None:
    # library.en declares (pair_id) a seed as its translation: a wrong one, but declared.
    seed = next(SEEDS.glob("002_*.txt"))
    records = [
        {"id": "lib-en", "text": (FIXTURES / PAIR["en"]).read_text(encoding="utf-8"),
         "pair_id": "p1"},
        {"id": "seed-sl", "text": seed.read_text(encoding="utf-8"), "pair_id": "p1"},
        {"id": "lib-sl", "text": (FIXTURES / PAIR["sl"]).read_text(encoding="utf-8")},
    ]
    docs = _folder(tmp_path)
    with (docs / "docs.jsonl").open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in records)
    index_paths([docs], tmp_path / "index")
    found = _pairs(tmp_path / "index")
    assert "lib-en" not in found and "seed-sl" not in found
    with SearchIndex(tmp_path / "index") as ix:
        assert ix.document("lib-en").translation_id == "seed-sl"
        assert ix.document("lib-sl").translation_id is None


@needs_dictionary
@pytest.mark.parametrize("later", ["en", "sl"])
def test_a_translation_indexed_later_is_linked_and_unlinked_when_deleted(
        tmp_path: Path, later: str) -> None:
    first = OTHER[later]
    docs = _folder(tmp_path, PAIR[first])
    index = tmp_path / "index"
    index_paths([docs], index)
    assert _pairs(index) == {}
    with SearchIndex(index) as ix:
        shutil.copy(FIXTURES / PAIR[later], docs / PAIR[later])
        index_paths([docs], index)
        assert _pairs(index) == {PAIR[first]: PAIR[later], PAIR[later]: PAIR[first]}
        ix.refresh(force=True)
        assert ix.document(PAIR[first]).translation_id == PAIR[later]
        (docs / PAIR[later]).unlink()
        index_paths([docs], index)
        assert _pairs(index) == {}
        ix.refresh(force=True)
        assert ix.document(PAIR[first]).translation_id is None


@needs_dictionary
def test_a_changed_translation_is_unlinked(tmp_path: Path) -> None:
    docs = _folder(tmp_path, *PAIR.values())
    index_paths([docs], tmp_path / "index")
    assert len(_pairs(tmp_path / "index")) == 2
    # The Slovenian page now says something else entirely: the link goes.
    shutil.copy(next(SEEDS.glob("003_*.txt")), docs / PAIR["sl"])
    index_paths([docs], tmp_path / "index")
    assert _pairs(tmp_path / "index") == {}


@needs_dictionary
@pytest.mark.parametrize("lang", ["en", "sl"])
def test_a_translation_written_through_the_writer_is_linked(tmp_path: Path,
                                                          lang: str) -> None:
    docs = _folder(tmp_path, PAIR[OTHER[lang]])
    index_paths([docs], tmp_path / "index")
    with open_writer(tmp_path / "index") as w:
        w.add({"id": "written", "text": (FIXTURES / PAIR[lang]).read_text(encoding="utf-8")})
    assert _pairs(tmp_path / "index") == {"written": PAIR[OTHER[lang]],
                                          PAIR[OTHER[lang]]: "written"}
    with open_writer(tmp_path / "index") as w:
        w.delete("written")
    assert _pairs(tmp_path / "index") == {}


@needs_dictionary
def test_turned_off_it_links_nothing_until_turned_on(tmp_path: Path) -> None:
    docs = _folder(tmp_path, PAIR["en"])
    index_paths([docs], tmp_path / "index")
    shutil.copy(FIXTURES / PAIR["sl"], docs / PAIR["sl"])
    index_paths([docs], tmp_path / "index", find_translations=False)
    assert _pairs(tmp_path / "index") == {}
    # The next run that pairs takes up what the one before left pending.
    (docs / "note.txt").write_text("Zapiski s sestanka o proračunu za prihodnje leto.\n",
                                   encoding="utf-8")
    index_paths([docs], tmp_path / "index")
    assert _pairs(tmp_path / "index") == {PAIR["en"]: PAIR["sl"], PAIR["sl"]: PAIR["en"]}


def test_a_crash_while_pairing_leaves_the_index_whole(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    import search.pairing

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("pairing broke")

    monkeypatch.setattr(search.pairing, "update_found_pairs", broken)
    docs = _folder(tmp_path, *PAIR.values())
    report = index_paths([docs], tmp_path / "index")
    assert report.added == 7 and not report.problems
    assert "Could not update the found translations" in caplog.text
    with SearchIndex(tmp_path / "index") as ix:
        assert ix.search("knjižnica", lang="sl").hits[0].id == PAIR["sl"]
        assert ix.document(PAIR["en"]).translation_id is None


def test_work_per_document_is_bounded(tmp_path: Path) -> None:
    # A huge document (far more words than any cap) and a long translated pair.
    docs = _folder(tmp_path, *PAIR.values())
    words = " ".join(f"word{i} Name{i} {i}.{i}" for i in range(40_000))
    (docs / "huge.txt").write_text("A very long English page\n" + words + "\n",
                                   encoding="utf-8")
    index = tmp_path / "index"
    index_paths([docs], index, find_translations=False)
    ix, gen = open_index(index)
    limits = PairingLimits(query_terms=12, max_postings=3, candidates=2)
    stats = update_found_pairs(ix, gen, None, limits=limits)
    assert stats.full and stats.searched == 8
    assert 0 < stats.most_query_terms <= limits.query_terms
    assert stats.most_postings <= limits.query_terms * limits.max_postings
    assert 0 < stats.most_scored <= limits.candidates
    # Every document profiled at most once, each at most MAX_CHARS of its text (+ title).
    assert stats.chars <= 8 * (MAX_CHARS + 200)
    assert stats.chars < len(words)


@needs_dictionary
def test_the_cli_flag_turns_it_off(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from search.cli import cli

    docs = _folder(tmp_path, *PAIR.values())
    index = tmp_path / "index"
    runner = CliRunner()
    off = runner.invoke(cli, ["index", str(docs), "--index", str(index), "-q",
                              "--no-find-translations"], catch_exceptions=False)
    assert off.exit_code == 0, off.output
    assert _pairs(index) == {}
    on = runner.invoke(cli, ["index", str(docs), "--index", str(index), "-q", "--rebuild"],
                       catch_exceptions=False)
    assert on.exit_code == 0, on.output
    assert _pairs(index) == {PAIR["en"]: PAIR["sl"], PAIR["sl"]: PAIR["en"]}


@needs_dictionary
def test_a_rebuild_carries_the_links_of_unchanged_documents_over(tmp_path: Path) -> None:
    docs = _folder(tmp_path, *PAIR.values())
    index = tmp_path / "index"
    index_paths([docs], index)
    _ix, first = open_index(index)
    # Rebuilt without pairing: no document was looked at, yet the pair (both unchanged)
    # is known in the new generation.
    index_paths([docs], index, rebuild=True, find_translations=False)
    _ix, second = open_index(index)
    assert second != first
    assert load_found_pairs(second) == {PAIR["en"]: PAIR["sl"], PAIR["sl"]: PAIR["en"]}


def test_what_decided_a_link_is_the_evidence_that_made_the_lead() -> None:
    from search.pair_evidence import Score, deciding_evidence

    # Same words, same structure: the shared numbers made the difference.
    best = Score(total=0.5, words=0.4, anchors=0.25, structure=1.0,
                 anchor_kinds={"number": 0.25})
    runner_up = Score(total=0.42, words=0.4, anchors=0.05, structure=1.0,
                      anchor_kinds={"number": 0.05})
    assert deciding_evidence(best, runner_up) == "number"
    # Same words and anchors, but the runner-up is twice as long: the structure decided.
    shorter = Score(total=0.21, words=0.4, anchors=0.25, structure=0.5,
                    anchor_kinds={"number": 0.25})
    assert deciding_evidence(best, shorter) == "structure"
    # Alone, a winner is decided by its strongest evidence.
    assert deciding_evidence(best, None) == "words"


def _pass_results(index: Path, limits: PairingLimits) -> tuple[dict, object]:
    ix, gen = open_index(index)
    stats = update_found_pairs(ix, gen, None, limits=limits)
    return json.loads((gen / FOUND_PAIRS_FILE).read_text(encoding="utf-8"))["links"], stats


def _indexed(tmp_path: Path) -> Path:
    docs = _folder(tmp_path, *PAIR.values())
    shutil.copy(FIXTURES / PAIR["en"], docs / "copy.en.txt")  # a rival candidate
    index = tmp_path / "index"
    index_paths([docs], index, find_translations=False)
    return index


def test_candidates_are_scored_as_compare_scores_them_one_by_one(tmp_path: Path) -> None:
    # The batched scoring (integer arrays, all candidates at once) against the reference,
    # pair by pair, on every pair of documents in different languages: the same scores.
    from search.cognates import cognates_for_reader
    from search.pair_evidence import compare
    from search.pair_matching import MatchingPass, PairingStats
    from search.pair_scoring import compare_many
    from search.translation import Translator

    ix, gen = open_index(_indexed(tmp_path))
    translator = Translator()
    with ix.searcher() as searcher:
        cognates = cognates_for_reader(searcher.reader(), gen, translator.pair)
        run = MatchingPass(searcher, translator, cognates, PairingLimits(), PairingStats())
        profiles = [p for n in searcher.reader().all_doc_ids()
                    if (p := run.profile(n)) is not None]
        assert {p.lang for p in profiles} == {"en", "sl"}
        compared = 0
        for a in profiles:
            others = [b for b in profiles if b.lang != a.lang]
            batch = compare_many(a, run.arrays(a.docnum, a),
                                 [(b, run.arrays(b.docnum, b)) for b in others])
            assert batch == [compare(a, b) for b in others]
            compared += len(others)
        assert compared >= 2 * 3 * 3
        # Some pairs share translated words, and the translated pair shares the most.
        assert max(s.words for s in batch) > 0.3


@pytest.mark.skipif(not hasattr(__import__("os"), "sched_getaffinity"),
                    reason="needs os.sched_getaffinity")
def test_a_pass_shared_among_processes_finds_the_same_links(tmp_path: Path) -> None:
    from search.pair_parallel import workers_for

    index = _indexed(tmp_path)
    one, one_stats = _pass_results(index, PairingLimits(share_from=10_000))
    if workers_for(9, 2) < 2:
        pytest.skip("a single core: the pass is not shared")
    shared, shared_stats = _pass_results(index, PairingLimits(share_from=2))
    assert one_stats.workers == 1 and shared_stats.workers >= 2
    assert shared == one
    for name in ("searched", "query_terms", "postings", "scored", "linked"):
        assert getattr(shared_stats, name) == getattr(one_stats, name), name
