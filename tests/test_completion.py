"""Completions (``SearchIndex.complete``, ``/api/complete``): search as you type."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import search_cli, start_server

from search import completion
from search.completion import CANDIDATES, SCAN_LIMIT, CompletionIndex
from search.indexer import index_paths
from search.searcher import SearchIndex

SL_DOCS = [
    {"id": "sl/meja-1", "lang": "sl", "title": "Mejni prehod Obrežje znova odprt",
     "text": "Policija je na meji ponovno odprla mejni prehod. Minister Šaranović je dejal, "
             "da meja ostaja odprta za potnike."},
    {"id": "sl/meja-2", "lang": "sl", "title": "Mejni prehod Gruškovje in nadzor meje",
     "text": "Na mejo so prišli policisti. Nadzor meje bo trajal do konca meseca, je povedal "
             "Šaranović. Meje ne bodo zaprli."},
    {"id": "sl/meja-3", "lang": "sl", "title": "Sodelovanje policij na mejah",
     "text": "Policije sosednjih držav sodelujejo na mejah in pri nadzoru meje. Mejni "
             "policisti so se srečali v Ljubljani."},
    {"id": "sl/azil", "lang": "sl", "title": "Mednarodna zaščita in azil",
     "text": "Prošnje za mednarodno zaščito obravnava ministrstvo. Azil je oblika zaščite, "
             "ki jo država podeli tujcu."},
]
EN_DOCS = [
    {"id": "en/border-1", "lang": "en", "title": "Border crossing reopens",
     "text": "The police reopened the border crossing. The borders with Croatia stay open, "
             "said minister Šaranović at the border."},
    {"id": "en/border-2", "lang": "en", "title": "Border controls extended",
     "text": "Controls at the border were extended. Bordering countries agreed to "
             "cooperate on border policing."},
    {"id": "en/asylum", "lang": "en", "title": "Asylum and international protection",
     "text": "Applications for international protection are decided by the ministry. "
             "Asylum is granted to people in need of protection."},
]


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("complete")
    with open(folder / "docs.jsonl", "w", encoding="utf-8") as fh:
        for doc in SL_DOCS + EN_DOCS:
            fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
    path = folder / "index"
    report = index_paths([folder / "docs.jsonl"], path)
    assert report.added == len(SL_DOCS) + len(EN_DOCS)
    return path


@pytest.fixture(scope="module")
def ix(corpus_index: Path):
    index = SearchIndex(corpus_index)
    yield index
    index.close()


def texts(found: list) -> list[str]:
    return [c.text for c in found]


@pytest.mark.parametrize("typed", ["sar", "šar", "SAR", "Šara"])
def test_a_name_completes_with_its_diacritics_and_capitals(ix: SearchIndex, typed: str) -> None:
    found = ix.complete(typed)
    assert "Šaranović" in texts(found)
    assert "šaranović" not in texts(found) and "saranovic" not in texts(found)


def test_slovenian_inflections_are_one_completion_shown_as_the_lemma(ix: SearchIndex) -> None:
    found = ix.complete("mej", lang="sl")
    words = [c.text for c in found if c.kind == "word"]
    assert words[0] == "meja"  # meja, meje, meji, mejo, mejah: the most documents
    assert not {"meje", "meji", "mejo", "mejah"} & set(words)
    assert {"text": "mejni prehod", "lang": "sl", "kind": "phrase"} in [c.to_dict()
                                                                         for c in found]


@pytest.mark.parametrize(("typed", "lang", "expected"), [
    ("bor", "en", "border"), ("mej", "sl", "meja"), ("azi", "sl", "azil"),
    ("asy", "en", "asylum"), ("prot", "en", "protection")])
def test_both_languages_complete_and_lang_restricts(ix: SearchIndex, typed: str, lang: str,
                                                    expected: str) -> None:
    found = ix.complete(typed)
    assert (expected, lang) in [(c.text, c.lang) for c in found]
    other = "sl" if lang == "en" else "en"
    assert expected not in texts(ix.complete(typed, lang=other))
    assert all(c.lang == lang for c in ix.complete(typed, lang=lang))


def test_the_last_word_is_completed_and_the_rest_kept(ix: SearchIndex) -> None:
    found = ix.complete("nadzor mej")
    assert "nadzor meja" in texts(found)
    assert all(c.text.startswith("nadzor ") for c in found if c.kind == "word")
    titles = ix.complete("mejni prehod g")
    assert "Mejni prehod Gruškovje in nadzor meje" in texts(titles)


def test_more_frequent_first_and_at_most_eight(ix: SearchIndex) -> None:
    found = ix.complete("b", lang="en")
    words = [c.text for c in found if c.kind == "word"]
    assert words[0] == "border"  # in both English border documents
    assert len(ix.complete("p")) <= 8
    assert len(ix.complete("p", limit=3)) == 3


@pytest.mark.parametrize("typed", ["", " ", "*", "zzzzzz", "a" * 5000, "ž" * 99 + " ",
                                   "\x00\u202e", "(((", "meja " * 30])
def test_odd_input_gives_a_short_list_never_an_error(ix: SearchIndex, typed: str) -> None:
    found = ix.complete(typed)
    assert len(found) <= 8
    assert all(c.kind in ("word", "phrase", "title") for c in found)


def test_work_per_request_is_bounded_whatever_the_vocabulary(monkeypatch) -> None:
    """One shared prefix for 60,000 words: a request still scans at most SCAN_LIMIT entries
    and analyses at most two rounds of CANDIDATES words per language."""
    def letters(n: int) -> str:
        return "".join(chr(97 + (n // 26 ** k) % 26) for k in range(4))

    words = {f"ab{letters(n)}": 1 + n % 97 for n in range(60_000)}
    index = CompletionIndex(words, {})

    class Counting(list):
        reads = 0

        def __getitem__(self, i):  # noqa: ANN001, ANN204
            Counting.reads += 1
            return super().__getitem__(i)

    index._word_table.keys = Counting(index._word_table.keys)
    analysed: list[str] = []

    def count(self, searcher, code, word):  # noqa: ANN001, ANN202
        analysed.append(word)
        return word, 1

    monkeypatch.setattr(CompletionIndex, "_term_count", count)
    monkeypatch.setattr(CompletionIndex, "_cased", lambda self, word, searcher: word)
    for typed in ("ab", "aba", "abaa", "abaaa", "abaaaa"):
        Counting.reads = 0
        analysed.clear()
        found = index.complete(typed, searcher=None, lang="en")
        assert 1 <= len(found) <= 8 and (typed != "ab" or len(found) == 8)
        assert Counting.reads <= 2 * (SCAN_LIMIT + 20)  # bisect steps + the capped scan
        assert len(analysed) <= 2 * CANDIDATES


def test_built_at_index_time_and_kept_with_the_generation(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Poročilo o mejah\n\nNadzor meje ostaja, meja je odprta.",
                                  encoding="utf-8")
    index_paths([folder], tmp_path / "index")
    gen = (tmp_path / "index" / "current").resolve()
    assert (gen / completion.CACHE_FILE).is_file()
    with SearchIndex(tmp_path / "index") as ix:
        assert "meja" in texts(ix.complete("mej"))
        assert not ix.complete("kvok")
        (folder / "b.txt").write_text("Quokka na otoku\n\nKvokam ne dajajte hrane. Kvoka je "
                                      "vrečar.", encoding="utf-8")
        index_paths([folder], tmp_path / "index")  # an incremental update
        ix.refresh(force=True)
        # Rebuilt in the background, the old table answering meanwhile: wait for it (at most
        # 30 s on a loaded machine).
        for _ in range(600):
            if "kvoka" in texts(ix.complete("kvok")):
                break
            time.sleep(0.05)
        assert "kvoka" in texts(ix.complete("kvok"))
        (folder / "b.txt").unlink()
        index_paths([folder], tmp_path / "index")
        ix.refresh(force=True)
        for _ in range(600):  # at most 30 s on a loaded machine
            if "Quokka na otoku" not in texts(ix.complete("quokka")):
                break
            time.sleep(0.05)
        assert "Quokka na otoku" not in texts(ix.complete("quokka"))  # deleted: not offered


def test_an_empty_index_completes_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    index_paths([tmp_path / "empty"], tmp_path / "index")
    with SearchIndex(tmp_path / "index") as ix:
        assert ix.complete("mej") == []


def _get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_api_complete_against_a_real_server(corpus_index: Path, served: list) -> None:
    proc, base = start_server([*search_cli(), "serve", "--port", "0", "--index",
                               str(corpus_index)])
    served.append(proc)

    def complete(q: str, **extra: str) -> tuple[int, dict]:
        return _get_json(f"{base}api/complete?" + urllib.parse.urlencode({"q": q, **extra}))

    for typed in ("sar", "šar"):  # with and without diacritics
        status, body = complete(typed)
        assert status == 200 and body["query"] == typed
        assert "Šaranović" in [c["text"] for c in body["completions"] if c["kind"] == "word"]
    status, body = complete("bor", lang="en")
    assert status == 200 and body["completions"][0] == {"text": "border", "lang": "en",
                                                        "kind": "word"}
    status, body = complete("mej", lang="sl")
    assert body["completions"][0]["text"] == "meja"
    status, body = complete("x" * 101)
    assert status == 400 and body["error"]["code"] == "query_too_long"
    assert set(body["error"]["messages"]) == {"en", "sl"}
    status, body = complete("mej", lang="de")
    assert status == 400 and body["error"]["code"] == "bad_lang"


def test_api_complete_matches_the_openapi_schema(web_client) -> None:
    from openapi_schema_validator import OAS30Validator

    spec = web_client.get("/api/openapi.json").get_json()
    schema = dict(spec["components"]["schemas"]["Completions"])
    schema["components"] = spec["components"]
    for q in ("pol", "kar", "quo", "", "mongoose "):
        response = web_client.get("/api/complete?" + urllib.parse.urlencode({"q": q}))
        assert response.status_code == 200
        OAS30Validator(schema).validate(response.get_json())
    assert "/api/complete" in spec["paths"]
