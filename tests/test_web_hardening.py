"""What an attacker or an operator meets first: redirects, /healthz when the index folder is
gone, and the errors waitress answers before the app sees a request (issue 17, items 11-13).
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from openapi_schema_validator import OAS30Validator
from test_reliability import start_serve

from web import SECURITY_HEADERS, create_app, index_holder, relative_location
from web.openapi import openapi_document

SL = {"Accept-Language": "sl-SI,sl;q=0.9"}


# -- item 12: redirects never trust the Host header ------------------------------------------

@pytest.mark.parametrize("path, target", [
    ("/doc//pair/en/karavanke-tunnel", "/doc/pair/en/karavanke-tunnel"),
    ("/doc//x?q=a", "/doc/x?q=a"),
    ("/static//style.css", "/static/style.css"),
    ("/api//stats", "/api/stats"),
    ("/search", "/"),
    ("/search?q=+", "/"),
])
def test_redirects_are_relative_whatever_the_host_header(web_client, path: str,
                                                         target: str) -> None:
    response = web_client.get(path, headers={"Host": "evil.example"})
    assert 300 <= response.status_code < 400
    assert response.headers["Location"] == target
    assert "evil.example" not in response.get_data(as_text=True)
    assert "evil.example" not in str(response.headers)


@pytest.mark.parametrize("location, relative", [
    ("http://evil.example/doc/x", "/doc/x"),
    ("https://host:8080/a?b=c", "/a?b=c"),
    ("//evil.example/x", "/x"),
    ("/already/relative?q=1", "/already/relative?q=1"),
    ("http://evil.example", "/"),
])
def test_relative_location(location: str, relative: str) -> None:
    assert relative_location(location) == relative
    assert not urlsplit(relative_location(location)).netloc


# -- item 11: /healthz after the index folder was deleted ------------------------------------

@pytest.mark.parametrize("headers", [{}, SL], ids=["en", "sl"])
def test_healthz_reports_a_deleted_index_folder_and_searches_go_on(web_index: Path,
                                                                   tmp_path: Path,
                                                                   headers) -> None:
    copy = tmp_path / "index"
    shutil.copytree(web_index, copy, symlinks=True)
    app = create_app({"TESTING": True, "SEARCH_INDEX": str(copy)})
    client = app.test_client()
    try:
        assert client.get("/healthz").get_json()["status"] == "ok"
        before = client.get("/api/search?q=quokka").get_json()["total"]
        shutil.rmtree(copy)
        r = client.get("/healthz", headers=headers)
        assert r.status_code == 503 and r.headers["Cache-Control"] == "no-store"
        body = r.get_json()
        assert body["status"] == "degraded" and body["code"] == "index_gone"
        assert "no longer on disk" in body["message"] and "rebuild" in body["message"]
        assert "ni več na disku" in body["messages"]["sl"]
        assert body["documents"] > 0
        health = openapi_document()["components"]["schemas"]["Health"]
        OAS30Validator(health).validate(body)  # as the API document describes it
        # ...while searches are still answered from the files the server holds open.
        assert client.get("/api/search?q=quokka").get_json()["total"] == before
        assert client.get("/search?q=quokka", headers=headers).status_code == 200
    finally:
        index_holder(app).close()


# -- item 13: waitress's own errors, over raw sockets to a real `search-cli serve` -----------

def raw_request(base: str, data: bytes) -> tuple[int, dict[str, str], str]:
    """Send ``data`` as it is and read the answer (the server closes the connection after an
    error; it may reset it when part of the request was never read)."""
    host, port = urlsplit(base).hostname, urlsplit(base).port
    for _attempt in range(3):
        received = b""
        with socket.create_connection((host, port), timeout=20) as sock:
            try:  # the server may answer and close before it has read everything
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            try:
                while chunk := sock.recv(65536):
                    received += chunk
            except OSError:
                pass
        if b"\r\n\r\n" in received:
            break
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def serve_base(web_index: Path):
    from conftest import stop_server

    proc, base = start_serve(web_index)
    yield base
    stop_server(proc)


@pytest.mark.parametrize("request_bytes, status, en, sl", [
    (b"GET /search?q=\xff HTTP/1.1\r\nHost: x\r\n\r\n", 400, "The request is not valid.",
     "Zahteva ni veljavna."),
    (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 431,
     "The request headers are too large: at most 65536 bytes", "Glave zahteve so prevelike"),
    (b"POST /api/search HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", 413,
     "The request is too large: at most 65536 bytes", "Zahteva je prevelika"),
], ids=["raw-0xff-in-url", "oversized-header", "content-length-too-large"])
def test_errors_waitress_answers_itself_carry_the_security_headers(serve_base, request_bytes,
                                                                    status, en, sl) -> None:
    got, headers, body = raw_request(serve_base, request_bytes)
    assert got == status, body
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name.lower()) == value, name
    assert headers["content-type"].startswith("text/plain")
    assert en in body and sl in body
    assert "generated by" not in body and "Traceback" not in body


def test_the_app_still_answers_on_the_hardened_server(serve_base) -> None:
    got, headers, body = raw_request(
        serve_base, b"GET /doc//x HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
    assert got == 308 and headers["location"] == "/doc/x"
    assert headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]
