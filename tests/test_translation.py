"""Cross-language retrieval: the dictionary, lemmatized lookup, cognates, and the searcher."""

from __future__ import annotations

import gzip
import json
import logging
import os
from pathlib import Path

import pytest

from search import SearchIndex, cache, index_paths
from search import cognates as cg
from search import translation as tr
from search.cognates import CognateIndex, source_keys, spelling_key
from search.translation import Translator, derived_lemmas, load_dictionary, parse_dictd

DICTIONARY = load_dictionary()
needs_dictionary = pytest.mark.skipif(
    DICTIONARY is None,
    reason="Debian's dict-freedict-slv-eng is not installed "
           f"({os.environ.get('SEARCH_FREEDICT_SLV_ENG', tr.DICTIONARY_BASE)}.index / .dict.dz): "
           "apt-get install dict-freedict-slv-eng")


def words(translations: list[tr.Translation]) -> set[str]:
    return {t.word for t in translations}


# -- the installed FreeDict dictionary -------------------------------------------------------

@needs_dictionary
def test_installed_dictionary_parses_both_directions() -> None:
    assert len(DICTIONARY) > 5000
    assert "border" in DICTIONARY.forward["meja"]
    assert "alphabet" in DICTIONARY.forward["abeceda"]
    # Example sentences and labels are not translations.
    assert not any('"' in t or "[" in t for ts in DICTIONARY.forward.values() for t in ts)
    assert "meja" in {head for head, _ in DICTIONARY.inverse["border"]}


@needs_dictionary
def test_a_known_word_translates_both_ways() -> None:
    translator = Translator()
    assert "border" in words(translator.translate("meja", "sl"))
    assert "meja" in words(translator.translate("border", "en"))
    assert "meja" in words(translator.translate("Borders", "en"))  # matched by stem


@needs_dictionary
@pytest.mark.parametrize("form", ["mejo", "meje", "mejah", "MEJI"])
def test_slovenian_words_are_lemmatized_before_lookup(form: str) -> None:
    assert "border" in words(Translator().translate(form, "sl"))


@needs_dictionary
def test_translations_carry_the_target_languages_index_terms() -> None:
    found = {t.word: t for t in Translator().translate("border", "en")}
    assert dict(found["meja"].terms) == {"": "meja", "stem": "meja"}
    english = {t.word: t for t in Translator().translate("meja", "sl")}
    assert dict(english["boundary"].terms) == {"": "boundari"}  # Snowball stem


def test_dictd_parser_on_a_small_dictionary(tmp_path: Path) -> None:
    entries = {
        "meja": 'meja /mˈeːja/ <n, f, sg>\n [geo] border, limit (of sth)\n'
                '      "Prestopil je mejo."  - He crossed the border.\n',
        "okno": "okno /ˈoːknɔ/ <n, n, sg>\nwindow\n",
        "sodelovati": "sodelovati /sɔdɛlˈoːʋati/ <v>\nto cooperate, take part\n",
    }
    def b64(n: int) -> str:  # dictd's base-64 numbers
        return tr._B64[n // 64] + tr._B64[n % 64]

    data, index = b"", []
    for head, text in entries.items():
        raw = text.encode("utf-8")
        index.append(f"{head}\t{b64(len(data))}\t{b64(len(raw))}\n")
        data += raw
    (tmp_path / "tiny.index").write_text("".join(index), encoding="utf-8")
    with gzip.open(tmp_path / "tiny.dict.dz", "wb") as fh:
        fh.write(data)
    parsed = load_dictionary(tmp_path / "tiny")
    assert parsed is not None
    assert parsed.forward == {"meja": ["border", "limit"], "okno": ["window"],
                            "sodelovati": ["cooperate", "take part"]}
    assert parsed.inverse["border"] == [("meja", 0)] and parsed.inverse["window"] == [("okno", 0)]
    assert "part" not in parsed.inverse  # two-word translations are not inverted
    translator = Translator(dictionary=parsed, cognates=False)
    assert words(translator.translate("sodelovanje", "sl")) == {"cooperate"}  # derived verb
    assert parse_dictd(tmp_path / "tiny.index", tmp_path / "tiny.dict.dz").forward == parsed.forward


def test_missing_dictionary_degrades_to_no_translation(tmp_path: Path, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="search.translation"):
        assert load_dictionary(tmp_path / "absent") is None
    assert "dict-freedict-slv-eng" in caplog.text
    translator = Translator(dictionary=None)
    assert translator.translate("meja", "sl") == []
    assert translator.translate("border", "en") == []


# -- cognates and derivations ----------------------------------------------------------------

@pytest.mark.parametrize("slovenian, english_stem", [
    ("funkcija", "function"),       # -cija <-> -tion, k <-> c
    ("kategorija", "categori"),     # -ija <-> -y
    ("avtomatski", "automat"),      # av <-> au, -ski <-> -ic
    ("grafika", "graphic"),         # f <-> ph, -ika <-> -ic
    ("aplikacija", "applic"),       # doubled consonants
    ("tekst", "text"),              # ks <-> x
    ("sekvenca", "sequenc"),        # kv <-> qu, -enca <-> -ence
    ("verzija", "version"),         # -zija <-> -sion
    ("struktura", "structur"),      # -ura <-> -ure
    ("analiza", "analysi"),         # z <-> s, i <-> y
])
def test_cognate_rules_give_a_shared_spelling_key(slovenian: str, english_stem: str) -> None:
    assert spelling_key(english_stem) in source_keys(slovenian)


def test_cognate_index_only_proposes_words_the_index_has() -> None:
    cognates = CognateIndex(target=["function", "categori", "window", "polic"],
                            source=["funkcija", "kategorija", "okno", "policija"])
    assert cognates.target_for("funkcija") == {"function"}
    assert cognates.target_for("okno") == set()
    assert cognates.source_for("categori") == {"kategorija"}
    assert cognates.source_for("graphic") == set()  # not in this index
    translator = Translator(dictionary=None)
    found = translator.translate("funkcije", "sl", cognates)  # lemmatized first
    assert [(t.word, t.kind, t.terms) for t in found] == [
        ("function", "cognate", (("", "function"),))]
    back = translator.translate("police", "en", cognates)
    assert [(t.word, dict(t.terms)) for t in back] == [("policija", {"": "policija",
                                                                     "stem": "polic"})]


def test_a_word_is_not_its_own_translation() -> None:
    cognates = CognateIndex(target=["calc"], source=["calc"])
    assert Translator(dictionary=None).translate("calc", "sl", cognates) == []


# The cognate vocabulary is keyed in batches (spelling_keys, _many_source_keys): the same
# keys as one word at a time, whatever the words.
ODD_WORDS = ["function", "automat", "applic", "phthalat", "quicksand", "xylophon", "Straße",
             "ﬁnance", "über", "Σίσυφος", "ΟΔΟΣ", "ab", "aaaa", "cheque", "waltz", "čez",
             "ɪnternational", "e\u0301t\u0301e", "naïve", "ijk", "a", "šaranović", "ć"]


def test_spelling_keys_equal_one_word_at_a_time() -> None:
    assert cg.spelling_keys(ODD_WORDS) == [spelling_key(w) for w in ODD_WORDS]
    assert cg.spelling_keys([]) == []
    assert cg.spelling_keys(["two\nlines", "x"]) == [spelling_key("two\nlines"), "ks"]


def test_batched_slovenian_keys_equal_one_word_at_a_time() -> None:
    lemmas = ODD_WORDS + ["funkcija", "kategorija", "avtomatski", "grafičen", "nacionalizirati",
                          "struktura", "sekvenca", "verzija", "nost", "ozen", "ija", "cija"]
    assert cg._many_source_keys(lemmas) == [source_keys(w) for w in lemmas]
    assert cg._many_source_keys([]) == []


def _reference_cognates(english: list[str], slovenian: list[str]):
    """The cognate tables built the plain way, one word at a time."""
    en: dict[str, set[str]] = {}
    sl: dict[str, set[str]] = {}
    for stem in english:
        if stem.isalpha() and len(stem) >= cg.MIN_COGNATE_KEY - 1:
            en.setdefault(cg.target_key(stem), set()).add(stem)
    for lemma in slovenian:
        if lemma.isalpha() and len(lemma) >= cg.MIN_COGNATE_KEY:
            for key in source_keys(lemma):
                sl.setdefault(key, set()).add(lemma)
    return en, sl


def test_cognate_index_equals_the_plain_construction() -> None:
    english = ODD_WORDS + ["function", "categori", "graphic", "polic", "text", "version", "12ab"]
    slovenian = ODD_WORDS + ["funkcija", "kategorija", "grafika", "policija", "tekst", "verzija"]
    cognates = CognateIndex(english, slovenian)
    en, sl = _reference_cognates(english, slovenian)
    built_en, built_sl = cognates.tables()
    assert {k: set(v.split("\n")) for k, v in built_en.items()} == en
    assert {k: set(v.split("\n")) for k, v in built_sl.items()} == sl
    for lemma in slovenian:
        assert cognates.target_for(lemma) == set().union(
            *(en.get(k, set()) for k in source_keys(lemma)))
    for stem in english:
        key = cg.target_key(stem)
        assert cognates.source_for(stem) == (sl.get(key, set()) if len(key) >= 4 else set())


def _one_segment_index(path: Path, records: list[dict]) -> Path:
    docs = path / "docs.jsonl"
    docs.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    index_paths([docs], path / "index", find_translations=False)  # no folding of pairs
    return path / "index"


def test_cognate_vocabulary_is_cached_per_segments(tmp_path: Path, monkeypatch) -> None:
    from search.storage import open_index

    records = [{"id": "en1", "lang": "en", "title": "Functions", "text": "A function list."},
               {"id": "sl1", "lang": "sl", "title": "Funkcije", "text": "Seznam funkcij."}]
    index = _one_segment_index(tmp_path, records)
    ix, gen = open_index(index)
    with ix.reader() as reader:
        built = cg.cognates_for_reader(reader, gen)
        assert (gen / cg.COGNATE_CACHE).exists()
        plain = CognateIndex(cg.reader_words(reader, "body_en", "title_en"),
                             cg.reader_words(reader, "body_sl", "title_sl"))
        assert built.tables() == plain.tables()
        assert built.target_for("funkcija") == {"function"}

        def no_building(*args, **kwargs):
            raise AssertionError("built again instead of read from the cache")

        with monkeypatch.context() as m:
            m.setattr(CognateIndex, "__init__", no_building)
            cached = cg.cognates_for_reader(reader, gen)
        assert cached.tables() == built.tables()
        assert cached.target_for("funkcija") == {"function"}
        assert cg.cognates_for_reader(reader).tables() == built.tables()  # no folder: no cache

    # New words in a new segment: the cache no longer applies and is made anew.
    records.append({"id": "en2", "lang": "en", "title": "Categories", "text": "A category."})
    _one_segment_index(tmp_path, records)
    ix, gen2 = open_index(index)
    assert gen2 == gen
    with ix.reader() as reader:
        fresh = cg.cognates_for_reader(reader, gen)
        assert "categori" in fresh.target_for("kategorija")
        assert fresh.tables() == CognateIndex(cg.reader_words(reader, "body_en", "title_en"),
                                              cg.reader_words(reader, "body_sl", "title_sl")
                                              ).tables()


def test_an_unusable_cognate_cache_is_ignored(tmp_path: Path) -> None:
    from search.storage import open_index

    index = _one_segment_index(tmp_path, [
        {"id": "en1", "lang": "en", "title": "Functions", "text": "A function list."},
        {"id": "sl1", "lang": "sl", "title": "Funkcije", "text": "Seznam funkcij."}])
    ix, gen = open_index(index)
    (gen / cg.COGNATE_CACHE).write_bytes(b"not a cache")
    with ix.reader() as reader:
        assert cg.cognates_for_reader(reader, gen).target_for("funkcija") == {"function"}
    assert cache.read_cache(gen / cg.COGNATE_CACHE, ("x",)) is None  # rewritten, other key
    unwritable = gen / "engine.json"  # a file, not a folder: no cache, same answers
    with ix.reader() as reader:
        assert cg.cognates_for_reader(reader, unwritable).target_for("funkcija") == {"function"}
    assert not cache.write_cache(unwritable / "x", ("x",), {})


@needs_dictionary
def test_the_cached_dictionary_equals_a_fresh_parse(tmp_path: Path, monkeypatch) -> None:
    base = Path(os.environ.get("SEARCH_FREEDICT_SLV_ENG", tr.DICTIONARY_BASE))
    data = next(p for p in (base.with_name(base.name + ".dict.dz"),
                            base.with_name(base.name + ".dict")) if p.exists())
    fresh = parse_dictd(base.with_name(base.name + ".index"), data)
    monkeypatch.setenv(cache.ENV_CACHE, str(tmp_path / "cache"))
    first = tr._load(base, cache=True)
    assert list((tmp_path / "cache").iterdir())
    monkeypatch.setattr(tr, "parse_dictd", lambda *a: pytest.fail("parsed again"))
    second = tr._load(base, cache=True)
    assert first == fresh and second == fresh
    assert second.inverse["border"] == fresh.inverse["border"]  # (head, rank) tuples kept
    assert DICTIONARY == fresh  # what the tests above use


def test_the_dictionary_cache_follows_the_files(tmp_path: Path, monkeypatch) -> None:
    def write(text: str) -> None:
        raw = text.encode("utf-8")
        (tmp_path / "tiny.index").write_text(
            f"okno\t{tr._B64[0]}\t{tr._B64[len(raw) // 64]}{tr._B64[len(raw) % 64]}\n",
            encoding="utf-8")
        with gzip.open(tmp_path / "tiny.dict.dz", "wb") as fh:
            fh.write(raw)

    monkeypatch.setenv(cache.ENV_CACHE, str(tmp_path / "cache"))
    write("okno /ˈoːknɔ/ <n, n, sg>\nwindow\n")
    assert tr._load(tmp_path / "tiny", cache=True).forward == {"okno": ["window"]}
    assert tr._load(tmp_path / "tiny", cache=True).forward == {"okno": ["window"]}
    write("okno /ˈoːknɔ/ <n, n, sg>\nwindow, casement\n")
    os.utime(tmp_path / "tiny.dict.dz", ns=(1, 1))  # whatever the clock did
    assert tr._load(tmp_path / "tiny", cache=True).forward == {"okno": ["window", "casement"]}
    monkeypatch.setenv(cache.ENV_CACHE, "")  # caching off
    assert cache.cache_dir() is None
    assert tr._load(tmp_path / "tiny", cache=True).forward == {"okno": ["window", "casement"]}


def test_derivations() -> None:
    assert derived_lemmas("izbiranje") == ["izbirati"]
    assert derived_lemmas("nastavitev") == ["nastaviti"]
    assert derived_lemmas("neposredno") == ["neposreden"]
    assert derived_lemmas("miza") == []


# -- the searcher ----------------------------------------------------------------------------

def _records() -> list[dict]:
    return [
        {"id": "sl-border", "lang": "sl", "title": "Nadzor na meji",
         "text": "Policija je okrepila nadzor na meji s Hrvaško. Policisti na meji "
                 "preverjajo vozila in potnike."},
        {"id": "en-border", "lang": "en", "title": "Controls at the border",
         "text": "The police strengthened controls at the border with Croatia. Officers at "
                 "the border check vehicles and passengers."},
        {"id": "sl-weather", "lang": "sl", "title": "Vreme",
         "text": "Jutri bo sončno in toplo, popoldne so možne nevihte."},
        {"id": "en-weather", "lang": "en", "title": "Weather",
         "text": "Tomorrow will be sunny and warm, with storms possible in the afternoon."},
        {"id": "sl-school", "lang": "sl", "title": "Šola",
         "text": "Učenci so se vrnili v šolske klopi po poletnih počitnicah."},
        {"id": "en-school", "lang": "en", "title": "School",
         "text": "Pupils went back to school after the summer holidays."},
    ]


@pytest.fixture(scope="module")
def pair_index(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("clir")
    docs = root / "docs.jsonl"
    docs.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in _records()) + "\n",
                    encoding="utf-8")
    index_paths([docs], root / "index", find_translations=False)  # no folding of pairs
    return root / "index"


def _ids(results) -> list[str]:
    return [h.id for h in results.hits]


@needs_dictionary
def test_slovenian_query_finds_the_english_document_below_the_slovenian_one(pair_index):
    with SearchIndex(pair_index) as ix:
        results = ix.search("meja")
        assert _ids(results)[:2] == ["sl-border", "en-border"]
        direct, translated = results.hits[:2]
        assert direct.translated_terms == []
        assert translated.translated_terms == ["border"]
        assert "<mark>border</mark>" in translated.snippet  # translated matches are marked
        assert results.hits[0].score > results.hits[1].score
        assert "border" in ix.search("meja", lang="en").hits[0].to_dict()["translated_terms"]


@needs_dictionary
def test_english_query_finds_the_slovenian_document(pair_index):
    with SearchIndex(pair_index) as ix:
        results = ix.search("border")
        assert _ids(results)[:2] == ["en-border", "sl-border"]
        assert results.hits[1].translated_terms == ["meji"]  # as written in the document
        doc = ix.document("sl-border", query="border")
        assert "<mark>meji</mark>" in doc.html


def test_cognates_work_without_the_dictionary(pair_index):
    with SearchIndex(pair_index, translate=Translator(dictionary=None)) as ix:
        results = ix.search("policija")
        assert _ids(results) == ["sl-border", "en-border"]
        assert results.hits[1].translated_terms == ["police"]


def test_translation_off_finds_only_direct_matches(pair_index):
    with SearchIndex(pair_index, translate=False) as ix:
        assert _ids(ix.search("meja")) == ["sl-border"]
        assert _ids(ix.search("policija")) == ["sl-border"]
        assert ix.search("meja", lang="en").total == 0
        assert ix.parse("meja").translated == {}


def test_phrases_exclusions_and_typos_are_not_translated(pair_index):
    with SearchIndex(pair_index) as ix:
        assert ix.parse('"policija"').translated == {}
        assert ix.search("policija -police", lang="en").total == 0
        assert ix.search("polizia").total == 0  # an unknown word finds no look-alikes
        assert ix.parse("policij*").translated == {}


def test_translate_boost_zero_turns_translation_off(pair_index):
    with SearchIndex(pair_index, translate_boost=0.0) as ix:
        assert _ids(ix.search("policija")) == ["sl-border"]


def test_cognate_vocabulary_follows_new_documents(tmp_path, monkeypatch):
    import time

    from search import understanding

    monkeypatch.setattr(understanding, "COGNATE_MAX_AGE", 0.0)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.jsonl").write_text(json.dumps(
        {"id": "sl-cat", "lang": "sl", "title": "Kategorija",
         "text": "Izberite kategorijo slik in potrdite izbiro."}) + "\n", encoding="utf-8")
    index_paths([docs], tmp_path / "index")
    with SearchIndex(tmp_path / "index", translate=Translator(dictionary=None)) as ix:
        assert ix.search("kategorija", lang="en").total == 0
        (docs / "b.jsonl").write_text(json.dumps(
            {"id": "en-cat", "lang": "en", "title": "Category",
             "text": "Choose a category of pictures and confirm the choice."}) + "\n",
            encoding="utf-8")
        index_paths([docs], tmp_path / "index")
        assert ix.refresh(force=True)
        ix.search("kategorija")  # serves the old vocabulary, rebuilds it in the background
        deadline = time.monotonic() + 30
        while ix._understanding._cognates_building and time.monotonic() < deadline:
            time.sleep(0.05)
        hits = ix.search("kategorija", lang="en").hits
        assert [h.id for h in hits] == ["en-cat"] and hits[0].translated_terms == ["category"]


def test_doctests() -> None:
    import doctest

    result = doctest.testmod(tr)
    assert result.attempted > 0 and result.failed == 0


# -- the pair the languages declare ---------------------------------------------------------

def test_the_pair_comes_from_the_languages_translation_rules() -> None:
    from search.analysis import LANGUAGES

    pair = tr.default_pair()
    assert pair is not None and pair.codes == ("sl", "en")
    assert pair.rules is LANGUAGES["sl"].translation and pair.rules.target == "en"
    assert pair.other("sl") == "en" and pair.other("en") == "sl" and pair.other("it") is None


def test_without_a_declared_pair_nothing_is_translated() -> None:
    from dataclasses import replace

    from search.analysis import LANGUAGES, register

    untranslated = replace(LANGUAGES["sl"], translation=None)
    with register(untranslated):
        assert tr.default_pair() is None
        translator = Translator()
        assert translator.translate("meja", "sl") == []
        assert translator.translate("border", "en") == []
    assert tr.default_pair() is not None


@needs_dictionary
def test_translators_own_their_dictionary() -> None:
    # No process-wide singleton: each index's translator has its own (equal) dictionary.
    one, two = Translator(), Translator()
    assert one.dictionary is not None and two.dictionary is not None
    assert one.dictionary is not two.dictionary
    assert one.dictionary.forward == two.dictionary.forward
