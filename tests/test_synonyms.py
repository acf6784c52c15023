"""Declared synonyms (``--synonyms FILE``, ``SearchIndex(synonyms=...)``), at query time."""

from __future__ import annotations

import json
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO_ROOT, search_cli

from search.indexer import index_paths
from search.searcher import SearchIndex
from search.synonyms import Synonyms, SynonymsError

DOCS = [
    {"id": "sl/mnz", "lang": "sl", "title": "Sporočilo za javnost",
     "text": "Na ministrstvu za notranje zadeve so danes predstavili novo strategijo. "
             "Strategija velja pet let."},
    {"id": "sl/azil", "lang": "sl", "title": "Prošnje za azil",
     "text": "Število prošenj za azil se je letos povečalo. Prosilci čakajo na odločbo."},
    {"id": "sl/zascita", "lang": "sl", "title": "Odločanje o prošnjah",
     "text": "Odločbe o mednarodni zaščiti izdaja pristojni urad. Postopki trajajo mesece."},
    {"id": "sl/unija", "lang": "sl", "title": "Seja sveta",
     "text": "Ministri držav Evropske unije so se sestali v Bruslju in sprejeli sklepe."},
    {"id": "sl/eu", "lang": "sl", "title": "Kratka novica",
     "text": "Sklep velja v vsej EU od prihodnjega meseca naprej za vse države."},
    {"id": "en/protection", "lang": "en", "title": "Applications decided",
     "text": "Applications for international protection are decided within six months by "
             "the office."},
    {"id": "en/other", "lang": "en", "title": "Road works",
     "text": "The road works near the border crossing will last until the end of May."},
]

SL_FILE = """# test synonyms
[sl]
mnz, ministrstvo za notranje zadeve
azil, mednarodna zaščita
eu => evropska unija
[en]
asylum, international protection
"""


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synonyms")
    with open(folder / "docs.jsonl", "w", encoding="utf-8") as fh:
        for doc in DOCS:
            fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
    report = index_paths([folder / "docs.jsonl"], folder / "index")
    assert report.added == len(DOCS)
    return folder / "index"


@pytest.fixture(scope="module")
def synonyms_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synonyms-file") / "synonyms.txt"
    path.write_text(SL_FILE, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def ix(index_dir: Path, synonyms_file: Path):
    index = SearchIndex(index_dir, synonyms=synonyms_file)
    yield index
    index.close()


@pytest.fixture(scope="module")
def plain(index_dir: Path):
    index = SearchIndex(index_dir)
    yield index
    index.close()


def ids(results) -> list[str]:
    return [h.id for h in results.hits]


# -- the file ----------------------------------------------------------------------------------

def test_groups_one_way_rules_and_languages_are_read(tmp_path: Path) -> None:
    path = tmp_path / "domain.en.txt"
    path.write_text("moi, ministry of the interior\n[sl]\neu => evropska unija\n")
    s = Synonyms.load(path)
    assert not s.problems
    first, second = s.groups
    assert (first.lang, first.sources, first.targets) == (
        "en", ("moi", "ministry of the interior"), ("moi", "ministry of the interior"))
    assert (second.lang, second.sources, second.targets) == ("sl", ("eu",), ("evropska unija",))
    neutral = Synonyms()
    neutral.extend(["eu, european union"])
    assert neutral.groups[0].lang is None  # no section, no language in the name: every one


def test_a_bad_line_is_reported_by_number_and_the_rest_used(tmp_path: Path) -> None:
    path = tmp_path / "synonyms.txt"
    path.write_text("mnz, ministrstvo za notranje zadeve\n"
                    "lonely\n"
                    "a => \n"
                    "x => y => z\n"
                    "[de]\n"
                    "hund, köter\n"
                    "[en]\n"
                    + ", ".join(["one two three four five six seven eight nine", "x"]) + "\n"
                    "eu, european union\n", encoding="utf-8")
    s = Synonyms.load(path)
    assert [g.sources[0] for g in s.groups] == ["mnz", "eu"]
    numbers = [p.split(": ")[0].rsplit(":", 1)[1] for p in s.problems]
    assert numbers == ["2", "3", "4", "5", "8"]
    assert all(p.startswith(f"{path}:") for p in s.problems)
    assert "at least two entries" in s.problems[0]
    assert "unknown language [de]" in s.problems[3]


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SynonymsError, match="Cannot read the synonyms file"):
        Synonyms.load(tmp_path / "none.txt")


def test_the_shipped_example_files_are_clean() -> None:
    s = Synonyms.load([REPO_ROOT / "synonyms" / "sl.txt", REPO_ROOT / "synonyms" / "en.txt"])
    assert not s.problems
    assert {g.lang for g in s.groups} == {"sl", "en"}


# -- searching -------------------------------------------------------------------------------

def test_an_abbreviation_finds_the_inflected_full_name(ix: SearchIndex,
                                                       plain: SearchIndex) -> None:
    assert plain.search("mnz", lang="sl").total == 0
    found = ix.search("mnz", lang="sl")
    assert ids(found) == ["sl/mnz"]  # "ministrstvu za notranje zadeve" (locative)
    marked = found.hits[0].snippet
    assert "<mark>ministrstvu</mark>" in marked and "<mark>notranje</mark>" in marked
    assert found.synonyms == [{"matched": "mnz", "lang": "sl",
                               "expanded": ["ministrstvo za notranje zadeve"]}]


@pytest.mark.parametrize(("query", "expected"), [
    ("azil", {"sl/azil", "sl/zascita"}),                  # equivalent, both ways...
    ("mednarodna zaščita", {"sl/azil", "sl/zascita"}),
    ("mednarodne zaščite", {"sl/azil", "sl/zascita"}),    # ...inflected
    ("azila", {"sl/azil", "sl/zascita"}),
    ("mednarodna zascita", {"sl/azil", "sl/zascita"}),    # no diacritics
])
def test_slovenian_groups_match_through_the_analysis(ix: SearchIndex, query: str,
                                                     expected: set[str]) -> None:
    assert set(ids(ix.search(query, lang="sl"))) >= expected


def test_english_multi_word_synonyms(ix: SearchIndex, plain: SearchIndex) -> None:
    assert "en/protection" not in ids(plain.search("asylum", lang="en"))
    found = ix.search("asylum", lang="en")
    assert ids(found)[0] == "en/protection"
    assert "<mark>international</mark> <mark>protection</mark>" in found.hits[0].snippet


def test_one_way_rules_expand_one_way_only(ix: SearchIndex) -> None:
    assert set(ids(ix.search("eu", lang="sl"))) >= {"sl/eu", "sl/unija"}
    assert "sl/eu" not in ids(ix.search("evropska unija", lang="sl"))


def test_the_word_as_typed_ranks_above_its_synonym(ix: SearchIndex) -> None:
    assert ids(ix.search("azil", lang="sl"))[0] == "sl/azil"


def test_an_excluded_word_is_not_expanded(ix: SearchIndex) -> None:
    found = ix.search("strategija -mnz", lang="sl")
    assert found.synonyms == []


def test_documents_are_highlighted_with_synonyms(ix: SearchIndex) -> None:
    doc = ix.document("sl/zascita", query="azil")
    assert "<mark>mednarodni</mark>" in doc.html and "<mark>zaščiti</mark>" in doc.html


# -- command line and server -----------------------------------------------------------------

def test_cli_query_with_synonyms(index_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "synonyms.sl.txt"
    path.write_text("mnz, ministrstvo za notranje zadeve\nbroken line\n", encoding="utf-8")
    out = subprocess.run([*search_cli(), "query", "mnz", "--index", str(index_dir),
                          "--synonyms", str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Sporočilo za javnost" in out.stdout
    assert "Also searched, as synonyms of 'mnz': ministrstvo za notranje zadeve" in out.stdout
    assert f"synonyms: {path}:2: a group needs at least two entries" in out.stderr
    without = subprocess.run([*search_cli(), "query", "mnz", "--index", str(index_dir)],
                             capture_output=True, text=True, timeout=120)
    assert "No results" in without.stdout


def test_served_with_synonyms(index_dir: Path, synonyms_file: Path, tmp_path: Path,
                              served: list) -> None:
    broken = tmp_path / "more.txt"
    broken.write_text("x => y => z\n", encoding="utf-8")
    proc = subprocess.Popen([*search_cli(), "serve", "--port", "0", "--index", str(index_dir),
                             "--synonyms", str(synonyms_file), "--synonyms", str(broken)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    served.append(proc)
    before = []
    for line in proc.stdout:  # what it says before it listens
        before.append(line)
        if "Serving on" in line:
            break
    base = before[-1].split("Serving on ")[1].strip()
    def search(q: str, lang: str) -> dict:
        with urllib.request.urlopen(f"{base}api/search?" + urllib.parse.urlencode(
                {"q": q, "lang": lang}), timeout=30) as response:
            return json.loads(response.read())

    body = search("mnz", "sl")
    assert [h["id"] for h in body["hits"]] == ["sl/mnz"]
    assert body["synonyms"][0]["expanded"] == ["ministrstvo za notranje zadeve"]
    found = {q: {h["id"] for h in search(q, lang)["hits"]} for q, lang in (
        ("eu", "sl"), ("evropska unija", "sl"), ("mednarodne zaščite", "sl"),
        ("asylum", "en"))}
    assert {"sl/eu", "sl/unija"} <= found["eu"]                  # one-way...
    assert "sl/eu" not in found["evropska unija"]                # ...one way only
    assert {"sl/azil", "sl/zascita"} <= found["mednarodne zaščite"]  # inflected, multi-word
    assert "en/protection" in found["asylum"]
    assert f"synonyms: {broken}:1: more than one '=>'; skipped\n" in before
