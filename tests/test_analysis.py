"""search.analysis: tokenising, folding, stemming/lemmatising, stop words, pickling."""

from __future__ import annotations

import contextvars
import doctest
import importlib
import pickle
import threading
import unicodedata

import pytest

from search.analysis import (
    LANGUAGES,
    Language,
    analyze,
    english,
    register,
    slovenian,
    spelling_analyzer,
)
from search.analysis.fields import FieldName, is_spelling_field
from search.analysis.filters import UnicodeWordTokenizer, fold, words
from search.schema import build_schema, spelling_fields, text_fields

ANALYSIS_MODULES = ["search.analysis", "search.analysis.filters", "search.analysis.english",
                    "search.analysis.slovenian", "search.analysis.fields"]


def all_paths():
    """(language code, path name) of every analysis path of every language."""
    return [(code, path.name) for code, lang in LANGUAGES.items() for path in lang.paths]


# -- conflation -----------------------------------------------------------------------------

@pytest.mark.parametrize("forms", [
    "meja meje meji mejo mejah",
    "minister ministra ministrom",
    "policija policije policijo",
    "migrant migranti migrantov",
    "Policija POLICIJE policijo",  # case does not matter either
])
def test_slovenian_inflections_conflate_to_one_term(forms):
    terms = analyze(forms, "sl")
    assert len(terms) == len(forms.split())
    assert len(set(terms)) == 1, terms


def test_slovenian_lemma_is_the_dictionary_form():
    # Query words are analysed the same way, so the lemma is what a user's word meets.
    assert analyze("mejah ministrom policijo migrantov", "sl") == [
        "meja", "minister", "policija", "migrant"]


def test_slovenian_different_words_stay_apart():
    assert len(set(analyze("meja minister policija migrant", "sl"))) == 4


@pytest.mark.parametrize("forms", ["crossing crossings crossed", "border borders",
                                   "minister ministers", "Migration migrations"])
def test_english_inflections_conflate_to_one_term(forms):
    terms = analyze(forms, "en")
    assert len(terms) == len(forms.split())
    assert len(set(terms)) == 1, terms


@pytest.mark.parametrize("lang, path, written", [
    ("sl", "stem", "Šaranović"), ("sl", "stem", "Šaranoviću"), ("sl", "stem", "Šaranovića"),
    ("en", "", "Šaranović"), ("en", "", "Šaranović's"),
])
def test_name_without_diacritics_meets_name_with_them(lang, path, written):
    # People type "saranovic" for "Šaranović"; the diacritic-free paths must meet (the
    # Slovenian light stem even across case endings).
    assert analyze("saranovic", lang, path) == analyze(written, lang, path)


@pytest.mark.parametrize("lang, path", all_paths())
def test_every_path_folds_diacritics(lang, path):
    terms = analyze("Šaranović Črna žaba", lang, path)
    assert terms and all(t.isascii() for t in terms), terms


def test_fold():
    assert fold("Šaranović đak Črna") == "Saranovic dak Crna"
    assert fold("plain ascii") == "plain ascii"
    assert fold("O’Neill") == "O'Neill"


# -- stop words -----------------------------------------------------------------------------

@pytest.mark.parametrize("word", ["januar", "julij", "december", "danes", "leto", "datum"])
def test_slovenian_stop_list_keeps_content_words(word):
    assert word not in slovenian.STOP_WORDS
    assert analyze(word, "sl"), word
    assert analyze(word, "sl", "stem"), word


@pytest.mark.parametrize("lang, path", all_paths())
def test_stop_words_are_removed(lang, path):
    text = {"sl": "je in na policija", "en": "the of and police"}[lang]
    assert len(analyze(text, lang, path)) == 1


def test_english_stop_list_is_function_words_only():
    assert {"the", "and", "of"} <= english.STOP_WORDS
    assert not {"police", "border", "minister", "today", "year"} & english.STOP_WORDS


# -- tokenizer offsets ----------------------------------------------------------------------

SAMPLES = [
    "Minister's meja-2024, Šaranović (Črna gora) O’Neill said: “today’s talks”.",
    "Notranji minister Boštjan Poklukar se je danes mudil v Podgorici.",
    "  leading spaces\tand\ttabs\n\nand blank lines  ",
]


@pytest.mark.parametrize("text", SAMPLES)
@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_tokenizer_offsets_point_at_the_surface_word(text, form):
    raw = unicodedata.normalize(form, text)
    normalised = unicodedata.normalize("NFC", raw)  # how documents are stored
    tokens = [(t.text, t.startchar, t.endchar)
              for t in UnicodeWordTokenizer()(raw, chars=True, positions=True)]
    assert tokens
    for surface, start, end in tokens:
        assert normalised[start:end] == surface


def test_decomposed_letters_stay_inside_one_word():
    decomposed = unicodedata.normalize("NFD", "Šaranović Črna")
    assert decomposed != "Šaranović Črna"
    assert [t.text for t in UnicodeWordTokenizer()(decomposed)] == ["Šaranović", "Črna"]


@pytest.mark.parametrize("lang, path", all_paths())
def test_analyzer_offsets_survive_the_filters(lang, path):
    text = unicodedata.normalize("NFD", "Policija je varovala mejo; Šaranović crossed borders.")
    normalised = unicodedata.normalize("NFC", text)
    analyzer = next(p for p in LANGUAGES[lang].paths if p.name == path).make_analyzer()
    tokens = list(analyzer(text, chars=True, removestops=True))
    assert tokens
    for t in tokens:
        surface = normalised[t.startchar:t.endchar]
        assert surface.strip() == surface and surface
        # The analysed term comes from the word at those offsets.
        assert analyze(surface, lang, path) == [t.text]


def test_words_tolerates_query_syntax():
    assert words('"unclosed (AND -x* title: Šaranović') == [
        "unclosed", "AND", "x", "title", "Šaranović"]
    assert words("!@#$%^&*()") == []


# -- pickling (analysers travel inside the index schema) ------------------------------------

@pytest.mark.parametrize("lang, path", all_paths())
def test_analyzers_survive_pickle_round_trip(lang, path):
    analyzer = next(p for p in LANGUAGES[lang].paths if p.name == path).make_analyzer()
    text = "Policija je varovala mejo s Šaranovićem; the ministers crossed borders."
    before = [t.text for t in analyzer(text)]  # warms the lazily created stemmer/lemmatizer
    clone = pickle.loads(pickle.dumps(analyzer))
    assert [t.text for t in clone(text)] == before
    assert clone == analyzer


def test_spelling_analyzer_keeps_surface_words():
    assert [t.text for t in spelling_analyzer()("Ministra POLICIJE crossed")] == [
        "ministra", "policije", "crossed"]


# -- doctests -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ANALYSIS_MODULES)
def test_doctests(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no doctests"
    assert result.failed == 0


# -- the language objects and their field names ---------------------------------------------

@pytest.mark.parametrize("code", ["en", "sl"])
def test_every_field_name_a_language_makes_parses_back_to_itself(code):
    language = LANGUAGES[code]
    names = [*language.text_fields(), language.spell_field]
    assert {n.lang for n in names} == {code}
    for name in names:
        assert FieldName.parse(name.name) == name
    schema = build_schema()
    assert {n.name for n in names} <= set(schema.names())


def test_field_names_are_the_schema_s_and_nothing_else_parses():
    schema = build_schema()
    made = {name for name, _, _ in text_fields()} | set(spelling_fields().values())
    parsed = {name for name in schema.names() if FieldName.parse(name) is not None}
    assert parsed == made
    assert FieldName.parse("body_sl_stem") == FieldName("body", "sl", "stem")
    assert FieldName.parse("title_sl").as_kind("body").name == "body_sl"
    for other in ("id", "lang", "year", "spell", "body", "body_", "spell_sl_x", "title"):
        assert FieldName.parse(other) is None, other
    assert is_spelling_field("spell") and is_spelling_field("spell_en")
    assert not is_spelling_field("body_en")


@pytest.mark.parametrize("code", ["en", "sl"])
def test_each_language_names_itself_in_both_ui_languages(code):
    names = LANGUAGES[code].display_names
    assert set(names) == {"sl", "en"} and all(names.values())


@pytest.mark.parametrize(("code", "word", "base"), [("sl", "mejo", "meja"),
                                                   ("en", "Crossings", "cross")])
def test_the_base_form_translation_looks_words_up_by(code, word, base):
    assert LANGUAGES[code].make_base_form()(word) == base


# -- registering a language -----------------------------------------------------------------

LATIN = Language("la", "Latina", english.LANGUAGE.paths, frozenset({"et", "in"}))


def test_a_registered_language_is_seen_in_the_block_only():
    assert "la" not in LANGUAGES
    with register(LATIN) as languages:
        assert languages["la"] is LATIN and list(LANGUAGES)[-1] == "la"
        assert {"title_la", "body_la", "spell_la"} <= set(build_schema().names())
    assert "la" not in LANGUAGES and len(LANGUAGES) == 2
    assert "body_la" not in build_schema().names()


def test_a_registration_does_not_leak_into_other_threads_unless_copied():
    seen = {}

    def look(key):
        seen[key] = "la" in LANGUAGES

    with register(LATIN):
        plain = threading.Thread(target=look, args=("plain",))
        copied = threading.Thread(target=contextvars.copy_context().run, args=(look, "copied"))
        for thread in (plain, copied):
            thread.start()
            thread.join()
    assert seen == {"plain": False, "copied": True}


def test_a_registration_replaces_a_built_in_language_of_the_same_code():
    stemless = Language("en", "English", english.LANGUAGE.paths[:1], frozenset())
    with register(stemless):
        assert LANGUAGES["en"] is stemless and list(LANGUAGES) == ["en", "sl"]
    assert LANGUAGES["en"] is english.LANGUAGE


def test_register_refuses_what_is_not_a_language():
    with pytest.raises(TypeError), register("it"):  # type: ignore[arg-type]
        pass
    assert list(LANGUAGES) == ["en", "sl"]
