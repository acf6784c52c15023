"""User-interface strings in Slovenian and English, plural rules and UI-language choice.

Every string a person can read goes through this module, so a page is always entirely in
one UI language (Slovenian or English) and nothing is left untranslated.
"""

from __future__ import annotations

from collections.abc import Iterable

from search.analysis import LANGUAGES

UI_LANGS: tuple[str, ...] = ("sl", "en")
DEFAULT_UI = "en"
COOKIE = "ui"
COOKIE_MAX_AGE = 365 * 24 * 3600

#: Each entry: {"sl": ..., "en": ...}. Values may carry str.format placeholders.
MESSAGES: dict[str, dict[str, str]] = {
    "site_name": {"sl": "Iskalnik", "en": "Search"},
    "site_tagline": {"sl": "Dvojezično iskanje po slovenskih in angleških besedilih",
                     "en": "Bilingual search across Slovenian and English texts"},
    "skip_to_content": {"sl": "Skoči na vsebino", "en": "Skip to content"},
    "ui_language": {"sl": "Jezik vmesnika", "en": "Interface language"},
    "search_label": {"sl": "Iskalni niz", "en": "Search for"},
    "search_button": {"sl": "Išči", "en": "Search"},
    "suggestions_label": {"sl": "Predlogi iskanja", "en": "Search suggestions"},
    # Neutral on purpose: the same box searches every index, whatever its documents are about.
    "search_placeholder": {"sl": "Besede, imena ali »besedna zveza«",
                           "en": "Words, names or \"a phrase\""},
    "slash_hint": {"sl": "Namig: tipka / vas postavi v iskalno polje.",
                   "en": "Tip: press / to jump to the search box."},
    "index_size": {"sl": "V indeksu: {count}.", "en": "In the index: {count}."},
    "index_langs": {"sl": "Jeziki: {langs}.", "en": "Languages: {langs}."},
    "index_empty": {"sl": "Indeks je prazen: dodajte dokumente z ukazom "
                          "»search-cli index MAPA«.",
                    "en": "The index is empty: add documents with "
                          "\"search-cli index FOLDER\"."},
    "search_hint": {"sl": "Iščete lahko v slovenščini ali angleščini; najdeni bodo dokumenti "
                          "v obeh jezikih.",
                    "en": "Search in Slovenian or English; documents in both languages "
                          "will be found."},
    "results_title": {"sl": "Rezultati za »{q}«", "en": "Results for “{q}”"},
    "results_heading": {"sl": "Rezultati iskanja", "en": "Search results"},
    "search_title": {"sl": "Iskanje", "en": "Search"},
    "elapsed": {"sl": "({seconds} s)", "en": "({seconds} s)"},
    "showing": {"sl": "Prikazani rezultati {first}–{last}.",
                "en": "Showing results {first}–{last}."},
    "did_you_mean": {"sl": "Ste mislili:", "en": "Did you mean:"},
    "hit_source": {"sl": "Vir:", "en": "Source:"},
    "showing_results_for": {"sl": "Prikazani so zadetki za", "en": "Showing results for"},
    "search_instead_for": {"sl": "namesto tega išči", "en": "search instead for"},
    "via_translation": {"sl": "Najdeno prek prevoda:", "en": "Found through translation:"},
    "filters": {"sl": "Filtri", "en": "Filters"},
    "facet_lang": {"sl": "Jezik", "en": "Language"},
    "facet_year": {"sl": "Leto", "en": "Year"},
    "all_langs": {"sl": "Vsi jeziki", "en": "All languages"},
    "all_years": {"sl": "Vsa leta", "en": "All years"},
    "facet_count": {"sl": "{label} ({count})", "en": "{label} ({count})"},
    "sort_by": {"sl": "Razvrsti", "en": "Sort by"},
    "sort_relevance": {"sl": "po ustreznosti", "en": "relevance"},
    "sort_newest": {"sl": "najprej najnovejše", "en": "newest first"},
    "pagination": {"sl": "Strani z rezultati", "en": "Result pages"},
    "prev_page": {"sl": "Prejšnja", "en": "Previous"},
    "next_page": {"sl": "Naslednja", "en": "Next"},
    "page_n": {"sl": "Stran {n}", "en": "Page {n}"},
    "page_of": {"sl": "Stran {page} od {pages}", "en": "Page {page} of {pages}"},
    "no_results_title": {"sl": "Za »{q}« ni zadetkov", "en": "No results for “{q}”"},
    "no_results_tips": {"sl": "Predlogi:", "en": "Suggestions:"},
    "tip_spelling": {"sl": "Preverite črkovanje.", "en": "Check the spelling."},
    "tip_fewer": {"sl": "Uporabite manj ali bolj splošne besede.",
                  "en": "Use fewer or more general words."},
    "tip_other_lang": {"sl": "Poskusite z besedami v drugem jeziku (slovensko ali angleško).",
                       "en": "Try words in the other language (Slovenian or English)."},
    "tip_remove_filters": {"sl": "Odstranite filtre:", "en": "Remove the filters:"},
    "search_everything": {"sl": "išči po vseh jezikih in letih",
                          "en": "search all languages and years"},
    "page_beyond": {"sl": "Strani {page} ni; rezultati imajo {pages} strani.",
                    "en": "There is no page {page}; the results have {pages} pages."},
    "go_first_page": {"sl": "Na prvo stran rezultatov", "en": "Go to the first page of results"},
    "enter_query": {"sl": "Vpišite, kaj iščete.", "en": "Type what you are looking for."},
    "lang_badge_title": {"sl": "Jezik dokumenta: {name}", "en": "Document language: {name}"},
    "doc_title": {"sl": "Dokument", "en": "Document"},
    "doc_meta": {"sl": "Podatki o dokumentu", "en": "About this document"},
    "doc_lang": {"sl": "Jezik", "en": "Language"},
    "doc_date": {"sl": "Datum", "en": "Date"},
    "doc_source": {"sl": "Vir", "en": "Source"},
    "doc_id": {"sl": "Oznaka", "en": "Identifier"},
    "doc_no_date": {"sl": "ni podatka", "en": "unknown"},
    "on_page": {"sl": "stran {page}", "en": "page {page}"},
    "doc_match_page": {"sl": "Prvo ujemanje", "en": "First match"},
    "doc_pages": {"sl": "Strani", "en": "Pages"},
    "back_to_results": {"sl": "Nazaj na rezultate za »{q}«", "en": "Back to results for “{q}”"},
    "translation_link_sl": {"sl": "Ta dokument v slovenščini", "en": "This document in Slovenian"},
    "translation_link_en": {"sl": "Ta dokument v angleščini", "en": "This document in English"},
    # A hit whose translation is indexed links it (search.grouping folds the pair into one).
    "also_in_sl": {"sl": "Tudi v slovenščini", "en": "Also in Slovenian"},
    "also_in_en": {"sl": "Tudi v angleščini", "en": "Also in English"},
    "also_in_other": {"sl": "Tudi v drugem jeziku", "en": "Also in another language"},
    "folded_note": {"sl": "Strani, objavljene v obeh jezikih, so prikazane enkrat: {pairs}.",
                    "en": "Pages published in both languages are shown once: {pairs}."},
    "show_both_versions": {"sl": "Prikaži obe različici posebej",
                           "en": "Show both versions separately"},
    "group_versions": {"sl": "Prikaži stran in njen prevod kot en zadetek",
                       "en": "Show a page and its translation as one result"},
    "highlight_note": {"sl": "Označena so ujemanja z iskalnim nizom »{q}«.",
                       "en": "Matches for “{q}” are highlighted."},
    "home": {"sl": "Na začetno stran", "en": "Go to the home page"},
    "new_search": {"sl": "Novo iskanje", "en": "New search"},
    # Errors: shown in the UI language first, then in the other one.
    "error_title": {"sl": "Napaka {status}", "en": "Error {status}"},
    "error_in_other_lang": {"sl": "V angleščini", "en": "In Slovenian"},
    "err_not_found": {"sl": "Strani, ki jo iščete, ni. Morda je bila povezava napačna.",
                      "en": "The page you are looking for does not exist. "
                            "The link may be wrong."},
    "err_doc_not_found": {"sl": "Dokumenta »{id}« ni v indeksu.",
                          "en": "There is no document “{id}” in the index."},
    "err_method": {"sl": "Ta metoda zahteve tu ni dovoljena.",
                   "en": "This request method is not allowed here."},
    "err_internal": {"sl": "Prišlo je do nepričakovane napake. Poskusite znova čez nekaj "
                           "trenutkov.",
                     "en": "Something went wrong on our side. Please try again in a moment."},
    "err_bad_request": {"sl": "Zahteva ni veljavna.", "en": "The request is not valid."},
    "err_too_large": {"sl": "Zahteva je prevelika: največ {max} bajtov.",
                      "en": "The request is too large: at most {max} bytes."},
    "err_headers_too_large": {"sl": "Glave zahteve so prevelike: skupaj največ {max} bajtov.",
                              "en": "The request headers are too large: at most {max} bytes "
                                    "in all."},
    "err_uri_too_long": {"sl": "Naslov zahteve je predolg: parametri imajo lahko največ {max} "
                               "bajtov. Skrajšajte iskalni niz.",
                         "en": "The request address is too long: its parameters may have at "
                               "most {max} bytes. Shorten the query."},
    "err_query_too_long": {"sl": "Iskalni niz je predolg: največ {max} znakov, vaš jih ima {n}.",
                           "en": "The query is too long: at most {max} characters, "
                                 "yours has {n}."},
    "err_word_too_long": {"sl": "Beseda v iskalnem nizu je predolga: največ {max} znakov, "
                                "najdaljša jih ima {n}.",
                          "en": "A word in the query is too long: at most {max} characters, "
                                "the longest has {n}."},
    "err_too_many_wildcards": {"sl": "Preveč besed z nadomestnima znakoma * ali ?: največ "
                                     "{max}, vaš iskalni niz jih ima {n}.",
                               "en": "Too many words with the wildcards * or ?: at most {max}, "
                                     "your query has {n}."},
    "err_query_missing": {"sl": "Manjka iskalni niz (parameter q).",
                          "en": "The query (parameter q) is missing."},
    "err_bad_page": {"sl": "Številka strani mora biti celo število od 1 do {max}.",
                     "en": "The page number must be a whole number from 1 to {max}."},
    "err_bad_per_page": {"sl": "Število rezultatov na stran mora biti celo število od 1 do "
                               "{max}.",
                         "en": "Results per page must be a whole number from 1 to {max}."},
    "err_bad_lang": {"sl": "Neznan jezik: izberite »sl« ali »en«.",
                     "en": "Unknown language: choose \"sl\" or \"en\"."},
    "err_bad_year": {"sl": "Leto mora imeti štiri števke, npr. 2024.",
                     "en": "The year must have four digits, e.g. 2024."},
    "err_bad_sort": {"sl": "Razvrščanje je lahko »relevance« ali »newest«.",
                     "en": "Sort must be \"relevance\" or \"newest\"."},
    "err_bad_snippets": {"sl": "Parameter snippets je lahko »true« ali »false«.",
                         "en": "The snippets parameter must be \"true\" or \"false\"."},
    "err_bad_group": {"sl": "Parameter group je lahko »true«, »false« ali jezik ({langs}).",
                      "en": "The group parameter must be \"true\", \"false\" or a language "
                            "({langs})."},
    "err_rate_limited": {"sl": "Preveč iskanj v kratkem času. Počakajte nekaj sekund in "
                               "poskusite znova.",
                         "en": "Too many searches in a short time. Wait a few seconds and "
                               "try again."},
    "err_index_missing": {"sl": "Iskalni indeks še ne obstaja. Zgradite ga z ukazom "
                                "»search-cli index MAPA«.",
                          "en": "The search index does not exist yet. Build it with "
                                "\"search-cli index FOLDER\"."},
    "err_index_incompatible": {"sl": "Iskalni indeks je zgradila druga različica iskalnika. "
                                     "Ponovno ga zgradite z ukazom »search-cli index MAPA "
                                     "--rebuild«.",
                               "en": "The search index was built by a different version of "
                                     "the engine. Rebuild it with \"search-cli index FOLDER "
                                     "--rebuild\"."},
    "err_index_gone": {"sl": "Mape iskalnega indeksa ni več na disku. Iskalnik še odgovarja iz "
                             "indeksa, ki ga ima odprtega, po ponovnem zagonu pa ga ne bo več: "
                             "zgradite ga znova z ukazom »search-cli index MAPA«.",
                       "en": "The search index folder is no longer on disk. Searches are "
                             "answered from the index still open, but will not survive a "
                             "restart: rebuild it with \"search-cli index FOLDER\"."},
    "err_index_unavailable": {"sl": "Iskalni indeks trenutno ni dosegljiv. Poskusite znova "
                                    "čez nekaj trenutkov.",
                              "en": "The search index is unavailable right now. Please try "
                                    "again in a moment."},
    # The document API (web/documents.py).
    "err_writes_disabled": {"sl": "Pisanje v indeks je izklopljeno, ker ni nastavljen noben "
                                  "ključ API. Zaženite strežnik z »search-cli serve "
                                  "--api-key-file DATOTEKA« (en ključ v vrstici) ali nastavite "
                                  "SEARCH_API_KEYS, nato pošljite glavo »Authorization: Bearer "
                                  "KLJUČ«.",
                            "en": "Writing to the index is turned off: no API key is "
                                  "configured. Start the server with \"search-cli serve "
                                  "--api-key-file FILE\" (one key a line) or set "
                                  "SEARCH_API_KEYS, then send \"Authorization: Bearer KEY\"."},
    "err_api_key_missing": {"sl": "Ta zahteva spreminja indeks in potrebuje ključ API: "
                                  "pošljite glavo »Authorization: Bearer KLJUČ«.",
                            "en": "This request changes the index and needs an API key: send "
                                  "the header \"Authorization: Bearer KEY\"."},
    "err_api_key_wrong": {"sl": "Ključ API ni veljaven.", "en": "The API key is not valid."},
    "err_index_busy": {"sl": "Indeks trenutno posodablja drug proces. Poskusite znova čez "
                             "nekaj sekund.",
                       "en": "Another process is updating the index. Try again in a few "
                             "seconds."},
    "err_invalid_json": {"sl": "Telo zahteve ni veljaven JSON (vrstica {line}, stolpec "
                               "{column}).",
                         "en": "The request body is not valid JSON (line {line}, column "
                               "{column})."},
    "err_empty_batch": {"sl": "V telesu zahteve ni dokumentov: pošljite tabelo JSON z dokumenti "
                              "ali en dokument JSON v vsaki vrstici (NDJSON).",
                        "en": "The request body holds no documents: send a JSON array of "
                              "documents or one JSON document a line (NDJSON)."},
    "doc_where_index": {"sl": "dokument {index}", "en": "document {index}"},
    "doc_where_id": {"sl": "oznaka »{id}«", "en": "id “{id}”"},
    "doc_where_field": {"sl": "polje »{field}«", "en": "field “{field}”"},
    "doc_problem_missing": {"sl": "je obvezno", "en": "is required"},
    "doc_problem_type": {"sl": "mora biti {expected}, ne {got}",
                         "en": "must be a {expected}, not {got}"},
    "doc_problem_empty": {"sl": "je prazno", "en": "is empty"},
    "doc_problem_too_long": {"sl": "je daljše od {max} znakov",
                             "en": "is longer than {max} characters"},
    "doc_problem_control": {"sl": "vsebuje kontrolne znake", "en": "contains control characters"},
    "doc_problem_lang": {"sl": "mora biti ena od vrednosti {choices}",
                         "en": "must be one of {choices}"},
    "doc_problem_date": {"sl": "ni datum v obliki ISO 8601, npr. 2024-07-03, 2024-07 ali 2024",
                         "en": "is not an ISO 8601 date such as 2024-07-03, 2024-07 or 2024"},
    "doc_problem_not_object": {"sl": "mora biti objekt JSON s poljema »id« in »text«, ne {got}",
                               "en": "must be a JSON object with “id” and “text”, not {got}"},
    "doc_problem_unindexable": {"sl": "ga ni bilo mogoče indeksirati",
                                "en": "could not be indexed"},
    "doc_problem_id_mismatch": {"sl": "se razlikuje od oznake v naslovu zahteve »{path_id}«",
                                "en": "differs from the id in the request address "
                                      "“{path_id}”"},
}

#: JSON value types by name, in each UI language (for the document API's messages).
JSON_TYPES: dict[str, dict[str, str]] = {
    "sl": {"string": "niz", "string or integer": "niz ali celo število", "number": "število",
           "boolean": "logična vrednost", "null": "null", "array": "tabela",
           "object": "objekt"},
    "en": {},  # the names themselves
}

#: Names of what is no document language, in each UI language; the languages' own names
#: are theirs (``display_names`` of :data:`search.analysis.LANGUAGES`).
LANG_NAMES: dict[str, dict[str, str]] = {
    "sl": {"und": "neznan jezik"},
    "en": {"und": "unknown language"},
}
#: Each language's name in itself, for the UI-language switch.
ENDONYMS: dict[str, str] = {"sl": "Slovenščina", "en": "English"}

#: Plural forms: English (one, other); Slovenian (one, two, few, other).
PLURALS: dict[str, dict[str, tuple[str, ...]]] = {
    "result": {"en": ("{n} result", "{n} results"),
               "sl": ("{n} rezultat", "{n} rezultata", "{n} rezultati", "{n} rezultatov")},
    "suggestion": {"en": ("{n} suggestion", "{n} suggestions"),
                   "sl": ("{n} predlog", "{n} predloga", "{n} predlogi", "{n} predlogov")},
    "document": {"en": ("{n} document", "{n} documents"),
                 "sl": ("{n} dokument", "{n} dokumenta", "{n} dokumenti", "{n} dokumentov")},
    "translation_pair": {"en": ("{n} pair", "{n} pairs"),
                         "sl": ("{n} par", "{n} para", "{n} pari", "{n} parov")},
}

MONTHS: dict[str, tuple[str, ...]] = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "sl": ("januar", "februar", "marec", "april", "maj", "junij", "julij", "avgust",
           "september", "oktober", "november", "december"),
}


def other_lang(ui: str) -> str:
    """The other UI language: the target of the language switch and of bilingual errors."""
    return "en" if ui == "sl" else "sl"


def t(key: str, ui: str, **params: object) -> str:
    """A message in the UI language; English if a (programming) mistake left a gap."""
    entry = MESSAGES[key]
    text = entry.get(ui) or entry["en"]
    return text.format(**params) if params else text


def both(key: str, ui: str, **params: object) -> list[tuple[str, str]]:
    """(lang, text) for the UI language first, then the other: for bilingual error messages."""
    return [(lang, t(key, lang, **params)) for lang in (ui, other_lang(ui))]


def slovenian_plural_form(n: int) -> int:
    """Index of the Slovenian plural form for ``n``: 0 one, 1 two, 2 few, 3 other.

    Slovenian chooses by the last two digits: 1 -> rezultat, 2 -> rezultata,
    3 and 4 -> rezultati, everything else (0, 5-100, 11-14 ...) -> rezultatov.
    """
    rest = abs(n) % 100
    if rest == 1:
        return 0
    if rest == 2:
        return 1
    if rest in (3, 4):
        return 2
    return 3


def format_number(n: int, ui: str) -> str:
    """Group thousands the way readers expect: 5.120 in Slovenian, 5,120 in English."""
    text = f"{n:,}"
    return text.replace(",", ".") if ui == "sl" else text


def format_seconds(ms: float, ui: str) -> str:
    """Milliseconds as seconds with two decimals, with the UI language's decimal mark."""
    text = f"{ms / 1000:.2f}"
    return text.replace(".", ",") if ui == "sl" else text


def plural(key: str, n: int, ui: str) -> str:
    """``n`` with the right plural of a noun: "2 rezultata", "5 rezultatov", "1 result"."""
    forms = PLURALS[key][ui if ui in UI_LANGS else DEFAULT_UI]
    if ui == "sl":
        form = forms[slovenian_plural_form(n)]
    else:
        form = forms[0] if n == 1 else forms[1]
    return form.format(n=format_number(n, ui))


def lang_name(code: str | None, ui: str) -> str:
    """A document language's name in the UI language (the code itself if unknown).

    >>> lang_name("sl", "en"), lang_name("en", "sl"), lang_name("und", "sl")
    ('Slovenian', 'angleščina', 'neznan jezik')
    """
    if not code:
        return "?"
    ui = ui if ui in LANG_NAMES else DEFAULT_UI
    language = LANGUAGES.get(code)
    if language is not None:
        return language.display_names.get(ui) or language.display_names.get(DEFAULT_UI, code)
    return LANG_NAMES[ui].get(code, code)


def format_date(iso: str | None, ui: str) -> str:
    """An ISO 8601 (possibly partial) date for reading: "3. 7. 2024" or "3 July 2024".

    The engine passes dates like "2024", "2024-07", "2024-07-03" and the yearless "--10-29";
    anything else is shown as it is rather than hidden.
    """
    if not iso:
        return ""
    try:
        if iso.startswith("--"):
            month, day = (int(p) for p in iso[2:].split("-")[:2])
            return f"{day}. {month}." if ui == "sl" else f"{day} {MONTHS['en'][month - 1]}"
        parts = iso[:10].split("-")
        year = int(parts[0])
        if len(parts) == 1:
            return str(year)
        month = int(parts[1])
        if len(parts) == 2:
            return f"{MONTHS[ui if ui in MONTHS else 'en'][month - 1]} {year}"
        day = int(parts[2])
        if not 1 <= day <= 31:
            raise ValueError(iso)
        if ui == "sl":
            return f"{day}. {month}. {year}"
        return f"{day} {MONTHS['en'][month - 1]} {year}"
    except (ValueError, IndexError):
        return iso


def machine_date(iso: str | None) -> str | None:
    """The value for <time datetime>: the ISO date when HTML accepts it, else None."""
    if not iso:
        return None
    if iso.startswith("--"):
        return iso
    return iso[:10] if iso[:4].isdigit() else None


def negotiate(query_ui: str | None, cookie_ui: str | None,
              accept: Iterable[tuple[str, float]] | None) -> tuple[str, bool]:
    """Choose the UI language: ``?ui=`` beats the cookie, which beats Accept-Language.

    Returns (ui, remember): ``remember`` says the choice came from ``?ui=`` and should be
    stored in the cookie so the following pages keep it.
    """
    if query_ui in UI_LANGS:
        return query_ui, True
    if cookie_ui in UI_LANGS:
        return cookie_ui, False
    # Highest quality first (werkzeug's Accept keeps that order). Compare primary subtags
    # ourselves: "sl-SI;q=1, en;q=0.5" must give Slovenian, not the exact match "en".
    for value, quality in accept or ():
        primary = str(value).split("-")[0].split("_")[0].lower()
        if quality > 0 and primary in UI_LANGS:
            return primary, False
    return DEFAULT_UI, False
