"""Hostile input on a public search box: the query path, the HTTP API and the hardening.

Property-based tests (hypothesis) and a bounded, seeded fuzzer throw random Unicode, control
characters, 10,000-character strings, deep parentheses, operator storms, leading wildcards
and silly paging at ``SearchIndex.search``, at the Flask app and at a real server. Each must
answer (results, or a clear 4xx), never with a 5xx, never echo the input unescaped into
HTML, and cost bounded work.

Work is counted, not timed (a loaded machine makes any time limit flaky; speed belongs to
``benchmarks/``): the index terms a query searches (each one posting list read, see
:func:`term_budget`), the hits a page builds, and, over HTTP, what the web layer lets reach
the engine (query length, wildcards, page size).
"""

from __future__ import annotations

import json
import random
import re
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import search_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_reliability import start_serve

from search.analysis import LANGUAGES
from search.model import Results
from search.query import MAX_EXPANSIONS, MAX_PREFIXES, MAX_QUERY_CHARS
from search.searcher import MAX_PER_PAGE, SearchIndex
from search.translation import MAX_PER_WORD
from web import index_holder
from web.params import MAX_QUERY, MAX_WILDCARDS, MAX_WORD

REPO_ROOT = Path(__file__).resolve().parents[1]
_PATHS = [len(language.paths) for language in LANGUAGES.values()]
#: Index terms one query word can search: its title and body fields in every language and
#: analysis path, plus up to MAX_PER_WORD translations in the other language's fields.
TERMS_PER_WORD = 2 * sum(_PATHS) + MAX_PER_WORD * 2 * max(_PATHS)

OPERATORS = ["*", "?", "~", "^", ":", '"', "-", "+", "(", ")", "[", "]", "{", "}", "\\", "/",
             "!", "AND", "OR", "NOT", "TO", "title:", "lang:", "year:", "lang:sl", "year:2024",
             "*a", "?x", "~2", "^3", "'", "&", "|", "<", ">", "%", "#"]
WORDS = ["meja", "policija", "quokka", "border", "police", "tunnel", "Šaranović", "saranovic",
         "ž", "ΑΒΓ", "日本語", "🙂", "x", "a", "ß", "İ", "ǅ", "\u0301", "e\u0301"]
PAYLOADS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>',
            "<svg/onload=alert(1)>", "'><b>bold</b>", '" autofocus onfocus="alert(1)',
            "</title><script>alert(2)</script>", "<!--", "]]><x>"]

token = st.one_of(st.sampled_from(OPERATORS), st.sampled_from(WORDS),
                  st.text(max_size=12), st.sampled_from(PAYLOADS))
#: Operator storms: tokens glued together or spaced.
storms = st.lists(st.tuples(token, st.sampled_from(["", " ", "  ", "\t"])), max_size=60).map(
    lambda parts: "".join(t + sep for t, sep in parts))
controls = st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Co"]),
                   max_size=50)
#: 10,000 different words (69,000 characters): only the engine's length cap keeps it cheap.
MANY_WORDS = " ".join(f"w{i}x" for i in range(10_000))
LONG = [MANY_WORDS, "(" * 5000 + "meja" + ")" * 5000, "(" * 10_000, ")" * 10_000, "a" * 10_000,
        "*" * 10_000, "?*" * 5000, "~" * 10_000, '"' * 10_000, "-" * 10_000, "\\" * 10_000,
        "meja~" * 2000, "NOT " * 2500, "title:" * 1600, "ж" * 10_000, "🙂" * 10_000,
        "policija " * 1100, '"' + "meja policija " * 700 + '"~9', "\x00" * 10_000,
        "*lic* " * 1600]
#: Everything a person (or a script) might type.
queries = st.one_of(storms, controls, st.text(max_size=300), st.sampled_from(LONG),
                    st.sampled_from(PAYLOADS).map(lambda p: f"meja {p} policija"))
#: The same without lone surrogates (they cannot be sent in a URL).
http_queries = queries.map(lambda q: q.encode("utf-8", "replace").decode("utf-8"))




def term_budget(chars: int) -> int:
    """The most index terms a query of ``chars`` characters may search: a word takes at
    least two characters (one and a separator), each searches at most TERMS_PER_WORD terms,
    and at most MAX_PREFIXES ``word*`` expand, to MAX_EXPANSIONS words each."""
    return TERMS_PER_WORD * (chars // 2 + 1 + MAX_PREFIXES * MAX_EXPANSIONS)


def searched_terms(index: SearchIndex, q: str) -> int:
    """How many (field, term) posting lists the engine reads for ``q``."""
    return len(set(index.parse(q).query.iter_all_terms()))


def assert_bounded(index: SearchIndex, q: str, max_chars: int = MAX_QUERY_CHARS) -> None:
    """``q`` searches no more terms than its length, capped at ``max_chars``, allows."""
    terms = searched_terms(index, q)
    budget = term_budget(min(len(q), max_chars))
    assert terms <= budget, f"{terms} terms searched (budget {budget}) for {q[:60]!r}"


def assert_page_bounded(results: Results) -> None:
    """A page builds at most MAX_PER_PAGE hits (snippets included), whatever was asked."""
    assert len(results.hits) <= min(results.per_page, MAX_PER_PAGE)
    assert results.per_page <= MAX_PER_PAGE


# -- the query path (library) -------------------------------------------------------------------

@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(q=queries, page=st.one_of(st.integers(-10, 10), st.integers(10**6, 10**30)),
       per_page=st.integers(-5, 10**9), lang=st.sampled_from([None, "sl", "en", "xx", ""]))
def test_any_query_through_the_library_answers_with_bounded_work(seed_search: SearchIndex,
                                                                 q: str, page: int,
                                                                 per_page: int,
                                                                 lang: str | None) -> None:
    results = seed_search.search(q, page=page, per_page=per_page, lang=lang)
    assert isinstance(results, Results)
    assert results.total >= len(results.hits)
    assert_page_bounded(results)
    assert_bounded(seed_search, q)
    json.dumps(results.to_dict())  # always serialisable


def _mutate(rng: random.Random, text: str) -> str:
    """One random edit: insert, repeat, or replace with an operator, word or odd character."""
    choice = rng.random()
    pos = rng.randint(0, len(text))
    if choice < 0.4:
        piece = rng.choice(OPERATORS + WORDS + PAYLOADS)
    elif choice < 0.6:
        piece = chr(rng.choice([rng.randint(0, 0x1F), rng.randint(0x7F, 0x9F),
                                rng.randint(0x200B, 0x206F), rng.randint(0xD800, 0xDFFF),
                                rng.randint(0xE000, 0x10FFFF)]))
    elif choice < 0.8:
        piece = text[pos:pos + rng.randint(1, 8)] * rng.randint(2, 40)
    else:
        return text[:pos] + text[pos + rng.randint(1, 5):]
    return text[:pos] + piece + text[pos:]


def fuzz_queries(seed: int, count: int) -> Iterator[str]:
    """A bounded, reproducible stream of mutated queries."""
    rng = random.Random(seed)
    seeds = ['"border controls"', "policija -meja", "title:tunnel lang:sl", "pol* AND (meja OR "
             "border)", "saranovic~", "year:2024 +police", "meja^2 [a TO z]"]
    for _ in range(count):
        text = rng.choice(seeds)
        for _ in range(rng.randint(1, 12)):
            text = _mutate(rng, text)
        yield text[:12_000]


def test_bounded_fuzzer_over_the_query_path(seed_search: SearchIndex) -> None:
    for i, q in enumerate([*fuzz_queries(seed=20261122, count=60), *LONG]):
        results = seed_search.search(q, page=1 + i % 3)
        if i % 3 == 0:
            doc = seed_search.document("000_eec3f92ade572638.txt", query=q)
            assert doc is not None and doc.html
        assert isinstance(results, Results)
        assert_page_bounded(results)
        assert_bounded(seed_search, q)


def test_the_length_cap_is_what_bounds_a_query_of_many_words(seed_search: SearchIndex) -> None:
    """The budget is not vacuous: uncapped, the 10,000 words would search more terms than it
    allows; capped, twice the characters search about twice the terms, no more."""
    capped = searched_terms(seed_search, MANY_WORDS)
    assert capped <= term_budget(MAX_QUERY_CHARS)
    assert capped < searched_terms(seed_search, MANY_WORDS[:MAX_QUERY_CHARS // 2]) * 3
    assert len(MANY_WORDS.split()) * 2 * sum(_PATHS) > term_budget(MAX_QUERY_CHARS)


def test_a_wildcard_storm_expands_at_most_max_prefixes_words(seed_search: SearchIndex) -> None:
    storm = (" ".join(f"{c}*" for c in "abcdefghijklmnoprstuvz") + " ") * 50
    assert_page_bounded(seed_search.search(storm[:MAX_QUERY]))
    assert_bounded(seed_search, storm[:MAX_QUERY])
    # Only the first MAX_PREFIXES wildcard words expand; the others count as plain words.
    words = list(dict.fromkeys(storm[:MAX_QUERY].split()))
    expanded = searched_terms(seed_search, " ".join(words[:MAX_PREFIXES]))
    assert searched_terms(seed_search, storm[:MAX_QUERY]) <= \
        expanded + TERMS_PER_WORD * (len(words) - MAX_PREFIXES)


@pytest.mark.parametrize("word", ["čžš" * 43 + "a", "𝔸" * 65 + "b"])
def test_a_very_long_word_through_the_library(seed_search: SearchIndex, word: str) -> None:
    results = seed_search.search(f"policija {word}")
    assert isinstance(results, Results)
    assert_bounded(seed_search, f"policija {word}")


# -- the HTTP API and pages (Flask test client, production settings) ------------------------

@pytest.fixture(scope="module")
def prod_app(web_index: Path):
    """The app as ``search-cli serve`` builds it: not TESTING, so errors become responses."""
    from web.server import _make_app

    app = _make_app(web_index, 0)
    yield app
    index_holder(app).close()


@pytest.fixture()
def engine_calls(prod_app, monkeypatch) -> list[tuple[str, str, dict]]:
    """Every call the app makes to the engine while a test runs: (method, text, options)."""
    index = index_holder(prod_app).get()
    calls: list[tuple[str, str, dict]] = []
    for name in ("search", "document"):
        original = getattr(index, name)

        def record(first, *args, _original=original, _name=name, **kwargs):  # noqa: ANN001, ANN202
            text = first if _name == "search" else (kwargs.get("query") or "")
            calls.append((_name, text, kwargs))
            return _original(first, *args, **kwargs)

        monkeypatch.setattr(index, name, record)
    return calls


def assert_engine_work_bounded(prod_app, calls: list[tuple[str, str, dict]]) -> None:
    """What the web layer let through to the engine is within its caps, and so is the
    engine's work for it; then the record is cleared for the next request."""
    index = index_holder(prod_app).get()
    for name, text, options in calls:
        assert len(text) <= MAX_QUERY, (name, len(text))
        wildcards = sum(1 for w in text.split() if ("*" in w or "?" in w)
                        and any(ch.isalnum() for ch in w))
        assert wildcards <= MAX_WILDCARDS, text[:80]
        assert options.get("per_page", 10) <= MAX_PER_PAGE
        assert_bounded(index, text, max_chars=MAX_QUERY)
    calls.clear()


def _check_response(response, sent: list[str]) -> None:  # noqa: ANN001
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    assert response.status_code in (200, 302, 400, 404, 414), response.status_code
    body = response.get_data(as_text=True)
    assert "Traceback" not in body
    if response.mimetype == "text/html":
        for value in sent:
            for payload in PAYLOADS:
                if payload in value:
                    assert payload not in body, f"unescaped {payload!r} in the page"
        assert body.count("<script") == body.count("<script src=")
    elif response.status_code >= 400:
        error = response.get_json()["error"]
        assert error["message"] and error["code"]


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(q=http_queries,
       page=st.one_of(st.sampled_from(["", "0", "-1", "1", "2", "1000", "1001", "1e9", "x",
                                       "99999999999999999999", "٣", "¹", " 2 "]),
                      st.integers(-10, 10**12).map(str)),
       per_page=st.sampled_from(["", "0", "10", "100", "101", "10000000000", "abc"]),
       lang=st.sampled_from(["", "sl", "en", "EN", "xx", PAYLOADS[0]]),
       extra=st.sampled_from([{}, {"year": "2024"}, {"year": PAYLOADS[1]}, {"sort": "newest"},
                              {"sort": PAYLOADS[2]}, {"ui": PAYLOADS[0]}, {"snippets": "no"},
                              {"snippets": PAYLOADS[3]}]))
def test_any_request_is_answered_with_bounded_work_without_5xx_or_injection(
        prod_app, engine_calls, q: str, page: str, per_page: str, lang: str,
        extra: dict) -> None:
    client = prod_app.test_client()
    args = {"q": q, "page": page, "per_page": per_page, "lang": lang, **extra}
    sent = list(args.values())
    for path in ("/search", "/api/search"):
        _check_response(client.get(path, query_string=args), sent)
        assert_engine_work_bounded(prod_app, engine_calls)
    _check_response(client.get("/api/doc/pair/en/karavanke-tunnel", query_string={"q": q}),
                    sent)
    assert_engine_work_bounded(prod_app, engine_calls)


def test_bounded_fuzzer_over_http(prod_app, engine_calls) -> None:
    client = prod_app.test_client()
    for i, q in enumerate([*fuzz_queries(seed=7, count=80), *LONG]):
        q = q.encode("utf-8", "replace").decode("utf-8")
        path = ("/search", "/api/search", "/doc/pair/sl/karavanke-tunnel")[i % 3]
        _check_response(client.get(path, query_string={"q": q}), [q])
        assert_engine_work_bounded(prod_app, engine_calls)
    assert not engine_calls


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injected_markup_never_comes_back_unescaped(prod_app, payload: str) -> None:
    client = prod_app.test_client()
    pages = [client.get("/search", query_string={"q": f"quokka {payload}"}),
             client.get("/search", query_string={"q": f"nothingmatches {payload}"}),
             client.get("/search", query_string={"q": "quokka", "lang": payload}),
             client.get("/search", query_string={"q": "quokka", "ui": payload}),
             client.get("/doc/" + payload, query_string={"q": payload}),
             client.get("/doc/pair/en/karavanke-tunnel", query_string={"q": payload}),
             client.get("/" + payload),
             client.get("/search", query_string={"q": "quokka"},
                        headers={"Accept-Language": payload, "Cookie": f"ui={payload}"})]
    for response in pages:
        assert response.status_code < 500
        assert payload not in response.get_data(as_text=True), response.request.path


def test_leading_wildcards_and_huge_pages_are_cheap(prod_app, engine_calls) -> None:
    client = prod_app.test_client()
    index = index_holder(prod_app).get()
    for q in ("*", "*a", "?", "*uokk*", "?uokka", "**", "*?*?*?"):
        r = client.get("/api/search", query_string={"q": q})
        assert r.status_code == 200
        # A leading or inner wildcard is not expanded over the whole vocabulary.
        assert searched_terms(index, q) <= searched_terms(index, "uokka")
    assert_engine_work_bounded(prod_app, engine_calls)
    r = client.get("/api/search", query_string={"q": "quokka", "page": "1000"})
    assert r.status_code == 200 and r.get_json()["hits"] == []
    for page in ("1001", "99999999999999999999", "-1", "0"):
        r = client.get("/api/search", query_string={"q": "quokka", "page": page})
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_page"


def test_too_many_wildcards_is_a_clear_400(prod_app) -> None:
    client = prod_app.test_client()
    ok = " ".join(f"q{c}*" for c in "abcdefghij"[:MAX_WILDCARDS])
    assert client.get("/api/search", query_string={"q": ok}).status_code == 200
    storm = " ".join(f"{c}*" for c in "abcdefghijklmnopqrstuvwxyz")
    r = client.get("/api/search", query_string={"q": storm})
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["code"] == "too_many_wildcards" and "at most 10" in error["message"]
    page = client.get("/search", query_string={"q": storm}, headers={"Accept-Language": "sl"})
    assert page.status_code == 400 and "največ 10" in page.get_data(as_text=True)


def test_overlong_words_are_a_clear_400(prod_app) -> None:
    client = prod_app.test_client()
    ok = "policija " + "ž" * MAX_WORD
    assert client.get("/api/search", query_string={"q": ok}).status_code == 200
    for word in ("čžš" * 43 + "a", "𝔸" * 65, "x" * (MAX_WORD + 1)):
        r = client.get("/api/search", query_string={"q": f"policija {word}"})
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "word_too_long"
        r = client.get("/doc/pair/sl/karavanke-tunnel", query_string={"q": word})
        assert r.status_code == 400
    page = client.get("/search", query_string={"q": "x" * 80}, headers={"Accept-Language": "en"})
    assert page.status_code == 400 and "at most 60 characters" in page.get_data(as_text=True)


# -- request size limits ----------------------------------------------------------------------

def test_oversized_requests_get_clear_413_414_and_400(prod_app) -> None:
    client = prod_app.test_client()
    r = client.get("/api/search", query_string={"q": "x" * (MAX_QUERY + 1)})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "query_too_long"
    r = client.get("/api/search?q=" + "%C5%BE" * 2000)  # 12,000 bytes of query string
    assert r.status_code == 414
    assert r.get_json()["error"]["code"] == "uri_too_long"
    assert "8192 bytes" in r.get_json()["error"]["message"]
    r = client.get("/search?q=" + "a" * 9000, headers={"Accept-Language": "en"})
    assert r.status_code == 414 and "too long" in r.get_data(as_text=True)
    r = client.get("/api/search?q=x", data=b"x" * 100_000)
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "too_large"
    r = client.post("/api/search?q=x", data=b"x" * 100)
    assert r.status_code == 405
    r = client.post("/search", data={"q": "x" * 200_000})
    assert r.status_code in (405, 413)
    for response in (client.get("/api/search?q=" + "a" * 9000),
                     client.get("/search?q=x", data=b"x" * 100_000)):
        assert response.headers["Content-Security-Policy"]  # hardening holds on errors too


# -- security headers, errors without traces ------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/search?q=quokka", "/search?q=" + "x" * 501,
                                  "/api/search?q=quokka", "/api/search?q=" + "a" * 9000,
                                  "/doc/nope", "/nowhere", "/healthz", "/static/style.css"])
def test_security_headers_on_every_kind_of_response(prod_app, path: str) -> None:
    headers = prod_app.test_client().get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


def test_internal_errors_have_no_trace_even_with_flask_debug_set(web_index: Path,
                                                                 monkeypatch) -> None:
    from web.server import _make_app

    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = _make_app(web_index, 0)
    assert not app.debug and not app.testing and not app.config["PROPAGATE_EXCEPTIONS"]
    index = index_holder(app).get()

    def boom(*args, **kwargs):
        raise RuntimeError("secret-internal-detail /etc/passwd")

    monkeypatch.setattr(index, "search", boom)
    monkeypatch.setattr(index, "document", boom)
    client = app.test_client()
    for path in ("/search?q=quokka", "/api/search?q=quokka", "/doc/x?q=y", "/api/doc/x"):
        r = client.get(path)
        body = r.get_data(as_text=True)
        assert r.status_code == 500, path
        assert "secret-internal-detail" not in body and "Traceback" not in body
        assert "RuntimeError" not in body and "/work/" not in body and ".py" not in body
        assert r.headers["Content-Security-Policy"]
    index_holder(app).close()


# -- the real server --------------------------------------------------------------------------

def _fetch(url: str, data: bytes | None = None, method: str = "GET") -> tuple[int, str, dict]:
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.read().decode(errors="replace"), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace"), dict(e.headers)


def test_hostile_requests_against_the_real_server(web_server: str) -> None:
    cases = [
        ("api/search?q=" + "a" * 10_000, (414,)),
        ("api/search?q=" + "meja+" * 200, (400,)),
        ("api/search?q=" + "%28" * 400 + "meja" + "%29" * 90, (200,)),
        ("api/search?q=" + "%28" * 5000, (400, 414)),
        ("api/search?q=%00%01%02%1b%7f%C2%85meja", (200,)),
        ("api/search?q=%ED%A0%80%FF%FEmeja", (200,)),  # invalid UTF-8 in the URL
        ("api/search?q=" + "*%3F~%5E%3A%22-" * 60, (200, 400)),
        ("api/search?q=quokka&page=99999999999999999999999", (400,)),
        ("api/search?q=" + "x" * 70_000, (414, 431)),  # past waitress's header limit too
        ("search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", (200,)),
        ("doc/%3Cscript%3E?q=%22%3E%3Cimg%3E", (404,)),
    ]
    # The work each costs is counted by the in-process tests above; here the real server
    # must answer each (``_fetch`` gives up after 10 s, a guard against hanging, not a limit).
    for path, allowed in cases:
        status, body, _ = _fetch(web_server + path)
        assert status in allowed, (path[:60], status, body[:200])
        assert "Traceback" not in body and "<script>alert" not in body
    status, _, _ = _fetch(web_server + "api/search?q=x", data=b"x" * 200_000, method="POST")
    assert status in (405, 413)
    status, body, _ = _fetch(web_server + "api/search?q=x", data=b"x" * 200_000, method="GET")
    assert status == 413, body[:200]
    assert _fetch(web_server + "healthz")[0] == 200  # and it is still up


def test_rate_limit_on_a_real_server(web_index: Path, served) -> None:
    proc, base = start_serve(web_index, "--rate-limit", "5")
    served.append(proc)
    statuses = [_fetch(base + "api/search?q=quokka")[0] for _ in range(5)]
    assert statuses == [200] * 5
    status, body, headers = _fetch(base + "api/search?q=quokka")
    assert status == 429
    assert json.loads(body)["error"]["code"] == "rate_limited"
    assert int(headers["Retry-After"]) >= 1
    status, body, headers = _fetch(base + "search?q=quokka")
    assert status == 429 and "Too many searches" in body and "Retry-After" in headers
    assert _fetch(base + "healthz")[0] == 200  # monitors are not limited
    assert _fetch(base + "static/style.css")[0] == 200


def test_rate_limit_is_off_by_default(web_server: str) -> None:
    assert {_fetch(web_server + "api/search?q=quokka")[0] for _ in range(40)} == {200}


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1"])
def test_serve_refuses_non_loopback_without_public(tmp_path: Path, host: str) -> None:
    result = subprocess.run([*search_cli(), "serve", "--host", host, "--port", "0",
                             "--index", str(tmp_path / "ix")], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert f"Refusing to listen on {host}" in result.stderr and "--public" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "ix").exists()  # refused before doing anything


def test_serve_on_loopback_is_only_reachable_on_loopback(web_index: Path, served) -> None:
    proc, base = start_serve(web_index, "--host", "localhost")
    served.append(proc)
    assert re.match(r"http://(127\.0\.0\.1|localhost|\[::1\]):\d+/$", base)
    port = int(base.rsplit(":", 1)[1].strip("/"))
    assert _fetch(base + "healthz")[0] == 200
    # The kernel's table of listening sockets: this port only on a loopback address.
    listening = _listening_addresses(port)
    assert listening, "the server's socket was not found"
    assert listening <= {"127.0.0.1", "::1"}, listening


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on ``port``, from /proc/net/tcp{,6}."""
    found = set()
    for name, width in (("tcp", 8), ("tcp6", 32)):
        try:
            lines = Path(f"/proc/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state != "0A" or int(hex_port, 16) != port or len(address) != width:
                continue
            raw = bytes.fromhex(address)
            # /proc shows each 32-bit word in host (little-endian) order.
            raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            family = socket.AF_INET if width == 8 else socket.AF_INET6
            found.add(socket.inet_ntop(family, raw))
    return found
