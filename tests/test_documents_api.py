"""The document API (web/documents.py) against real ``search-cli serve`` processes: keys
(401, 403), validation (400 naming the document and field, in both languages), writes
(201/200), body limits (413), and a write through one worker seen through the other."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from conftest import SEEDS, search_cli, start_server

from search.indexer import index_paths
from web.documents import MIN_KEY_CHARS, load_api_keys

KEY = "test-key-0123456789-abcdefghij"
OTHER_KEY = "second-key-9876543210-zyxwvu"
#: The body limit of the server with keys (bytes): above the app's 64 KB for other routes.
DOCUMENTS_MAX_BYTES = 200_000
#: How many times a test asks before it decides a commit never became visible (each try
#: waits 0.1 s: the other worker checks for commits every 0.5 s).
VISIBLE_ATTEMPTS = 100


class Server:
    """A running ``search-cli serve`` and what it printed.

    Requests go over one keep-alive connection unless given another: a connection stays with
    the worker process that accepted it, which shows its own writes at once (another worker
    within its refresh interval, see the last tests).
    """

    def __init__(self, proc: subprocess.Popen, base: str) -> None:
        self.proc = proc
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.output = ""
        self._conn: http.client.HTTPConnection | None = None

    def connect(self) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        conn.connect()
        return conn

    def request(self, method: str, path: str, body: object = None, *, key: str | None = None,
                headers: dict[str, str] | None = None,
                conn: http.client.HTTPConnection | None = None) -> tuple[int, Any, Any]:
        """(status, headers, JSON body or text) of one request."""
        if conn is None:
            if self._conn is None or self._conn.sock is None:
                self._conn = self.connect()
            conn = self._conn
        sent = dict(headers or {})
        if key is not None:
            sent["Authorization"] = f"Bearer {key}"
        data = body
        if body is not None and not isinstance(body, (bytes, str)):
            data = json.dumps(body)
            sent.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        raw = response.read()
        if response.will_close:
            conn.close()
        try:
            answer = json.loads(raw or b"null")
        except ValueError:
            answer = raw.decode("utf-8", "replace")  # waitress's own plain-text errors
        # (The headers: case-insensitive, as waitress may change their case.)
        return response.status, response.headers, answer

    def stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stdout:
            self.output += self.proc.stdout.read()
            self.proc.stdout.close()


def serve(index_dir: Path, *args: str, env: dict[str, str] | None = None) -> Server:
    proc, base = start_server([*search_cli(), "serve", "--port", "0", "--index",
                               str(index_dir), *args], env={**os.environ, **(env or {})})
    return Server(proc, base)


@pytest.fixture(scope="module")
def key_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Two worker processes, two keys (one from the file, one from $SEARCH_API_KEYS)."""
    root = tmp_path_factory.mktemp("documents-api")
    index_paths([SEEDS], root / "index")
    key_file = root / "keys.txt"
    key_file.write_text(f"# keys that may write\n\n{KEY}\n", encoding="utf-8")
    server = serve(root / "index", "--workers", "2", "--api-key-file", str(key_file),
                   env={"SEARCH_API_KEYS": OTHER_KEY,
                        "SEARCH_DOCUMENTS_MAX_BYTES": str(DOCUMENTS_MAX_BYTES)})
    yield server
    server.stop()
    # Keys are never printed or logged (the server's whole output, requests included).
    assert KEY not in server.output and OTHER_KEY not in server.output, server.output


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with no key configured: read-only."""
    root = tmp_path_factory.mktemp("documents-api-read-only")
    index_paths([SEEDS], root / "index")
    server = serve(root / "index", env={"SEARCH_API_KEYS": ""})
    yield server
    server.stop()


def doc_path(doc_id: str) -> str:
    return "/api/documents/" + quote(doc_id)


def search_ids(server: Server, query: str, conn: http.client.HTTPConnection | None = None
               ) -> list[str]:
    status, _, body = server.request("GET", f"/api/search?q={quote(query)}&snippets=false",
                                     conn=conn)
    assert status == 200, body
    return [hit["id"] for hit in body["hits"]]


# -- keys -------------------------------------------------------------------------------------

def test_without_keys_every_write_is_403_and_says_how_to_enable(open_server: Server) -> None:
    for method, path, body in (("PUT", doc_path("x"), {"text": "Quokka."}),
                               ("POST", "/api/documents", [{"id": "x", "text": "Quokka."}]),
                               ("DELETE", doc_path("x"), None)):
        status, _, answer = open_server.request(method, path, body, key=KEY)
        assert status == 403, answer
        error = answer["error"]
        assert error["code"] == "writes_disabled"
        assert "--api-key-file" in error["messages"]["en"] and "SEARCH_API_KEYS" in \
            error["messages"]["en"]
        assert "--api-key-file" in error["messages"]["sl"] and "ključ API" in \
            error["messages"]["sl"]
    # Reading and searching stay public.
    assert open_server.request("GET", doc_path("000_eec3f92ade572638.txt"))[0] == 200
    assert search_ids(open_server, "policija")


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer wrong-key-0123456789",
                                           f"Basic {KEY}", f"Bearer {KEY}x"])
def test_a_missing_or_wrong_key_is_401(key_server: Server, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    doc_id = "auth/refused"
    status, got, answer = key_server.request("PUT", doc_path(doc_id),
                                             {"text": "Must not be written."}, headers=headers)
    assert status == 401, answer
    assert got["WWW-Authenticate"].startswith("Bearer")
    assert answer["error"]["code"] == "unauthorized"
    assert answer["error"]["messages"]["sl"] and answer["error"]["messages"]["en"]
    assert key_server.request("GET", doc_path(doc_id))[0] == 404


def test_keys_from_the_file_and_the_environment_both_write(key_server: Server) -> None:
    for n, key in enumerate((KEY, OTHER_KEY)):
        status, _, answer = key_server.request(
            "PUT", doc_path(f"auth/ok-{n}"), {"text": f"Written with key {n}: numbat."},
            key=key)
        assert status == 201, answer


def test_load_api_keys(tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text(f"# comment\n\n  {KEY}  \n{KEY}\n", encoding="utf-8")
    assert load_api_keys(key_file, {"SEARCH_API_KEYS": f"{OTHER_KEY}, {KEY}"}) == (
        KEY, OTHER_KEY)
    assert load_api_keys(None, {}) == ()
    short = "s" * (MIN_KEY_CHARS - 1)
    with pytest.raises(ValueError) as caught:
        load_api_keys(None, {"SEARCH_API_KEYS": short})
    assert short not in str(caught.value) and "shorter" in str(caught.value)
    with pytest.raises(ValueError, match="Cannot read"):
        load_api_keys(tmp_path / "missing", {})


def test_serve_refuses_a_short_key_without_showing_it(tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text("tooshort\n", encoding="utf-8")
    result = subprocess.run([*search_cli(), "serve", "--port", "0", "--index",
                             str(tmp_path / "index"), "--api-key-file", str(key_file)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "shorter than" in result.stderr and "tooshort" not in result.stderr + result.stdout


# -- writing ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("lang", "text", "word"), [
    ("sl", "Nadzorniki so na otoku prešteli kolonijo kvok in preverili njihovo zdravje.",
     "kvok"),
    ("en", "Rangers counted the wombat colony on the island and checked the animals.",
     "wombat"),
])
def test_put_creates_then_replaces(key_server: Server, lang: str, text: str, word: str) -> None:
    doc_id = f"put/{lang}/one"
    status, headers, answer = key_server.request(
        "PUT", doc_path(doc_id), {"text": text, "date": "2024-07-03", "color": "red"}, key=KEY)
    assert status == 201, answer
    assert answer == {"id": doc_id, "result": "created", "ignored_fields": ["color"]}
    assert headers["Location"].endswith(doc_path(doc_id))
    status, _, stored = key_server.request("GET", doc_path(doc_id))
    assert status == 200
    assert (stored["lang"], stored["date"], stored["source"]) == (lang, "2024-07-03", "api")
    assert doc_id in search_ids(key_server, word)  # the writing worker shows it at once...

    status, _, answer = key_server.request("PUT", doc_path(doc_id), {"text": text,
                                                                     "date": "2024-07-03"},
                                           key=KEY)
    assert (status, answer["result"]) == (200, "unchanged")
    status, _, answer = key_server.request("PUT", doc_path(doc_id),
                                           {"id": doc_id, "text": "Replaced: pangolin.",
                                            "lang": "en"}, key=KEY)
    assert (status, answer["result"]) == (200, "updated")
    assert key_server.request("GET", doc_path(doc_id))[2]["text"] == "Replaced: pangolin."


def test_batch_as_array_and_as_ndjson(key_server: Server) -> None:
    docs = [{"id": f"batch/{n}", "text": f"Batch document {n} about the ocelot."}
            for n in range(3)]
    status, _, answer = key_server.request("POST", "/api/documents", docs, key=KEY)
    assert status == 200, answer
    assert (answer["documents"], answer["added"], answer["updated"]) == (3, 3, 0)
    lines = "\n".join(json.dumps({**d, "text": d["text"] + " Updated."}) for d in docs[:2])
    status, _, answer = key_server.request(
        "POST", "/api/documents", lines + "\n\n", key=KEY,
        headers={"Content-Type": "application/x-ndjson"})
    assert status == 200, answer
    assert (answer["documents"], answer["added"], answer["updated"]) == (2, 0, 2)
    assert key_server.request("GET", doc_path("batch/1"))[2]["text"].endswith("Updated.")


def test_delete_then_404(key_server: Server) -> None:
    doc_id = "delete/me"
    assert key_server.request("PUT", doc_path(doc_id), {"text": "Short-lived tapir."},
                              key=KEY)[0] == 201
    status, _, answer = key_server.request("DELETE", doc_path(doc_id), key=KEY)
    assert (status, answer) == (200, {"id": doc_id, "result": "deleted"})
    assert key_server.request("GET", doc_path(doc_id))[0] == 404
    status, _, answer = key_server.request("DELETE", doc_path(doc_id), key=KEY)
    assert status == 404 and answer["error"]["code"] == "document_not_found"


# -- validation -------------------------------------------------------------------------------

def test_an_invalid_document_fails_its_whole_batch_with_a_400_naming_it(
        key_server: Server) -> None:
    docs = [{"id": "invalid/good", "text": "A good document about the serval."},
            {"id": "invalid/bad", "text": "Its date is wrong.", "date": "next Tuesday"}]
    status, _, answer = key_server.request("POST", "/api/documents", docs, key=KEY)
    assert status == 400, answer
    error = answer["error"]
    assert (error["code"], error["field"], error["problem"]) == ("invalid_document", "date",
                                                                 "date")
    assert error["document"] == {"index": 1, "id": "invalid/bad"}
    assert "Document 1" in error["messages"]["en"] and "“date”" in error["messages"]["en"]
    assert "Dokument 1" in error["messages"]["sl"] and "polje »date«" in error["messages"]["sl"]
    # Nothing of that batch was written.
    assert key_server.request("GET", doc_path("invalid/good"))[0] == 404
    assert "invalid/good" not in search_ids(key_server, "serval")


@pytest.mark.parametrize(("body", "content_type", "code", "field"), [
    ({"text": 5}, None, "invalid_document", "text"),
    ({"text": "x", "lang": "de"}, None, "invalid_document", "lang"),
    ({"id": "another", "text": "x"}, None, "invalid_document", "id"),
    (["not", "an", "object"], None, "invalid_document", None),
    ('{"text": "unclosed', "application/json", "invalid_json", None),
])
def test_put_400s(key_server: Server, body: object, content_type: str | None, code: str,
                  field: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    status, _, answer = key_server.request("PUT", doc_path("validation/put"), body, key=KEY,
                                           headers=headers)
    assert status == 400, answer
    assert answer["error"]["code"] == code
    assert answer["error"].get("field") == field
    assert all(answer["error"]["messages"][lang] for lang in ("sl", "en"))
    assert key_server.request("GET", doc_path("validation/put"))[0] == 404


def test_ndjson_errors_name_the_line(key_server: Server) -> None:
    body = '{"id": "nd/1", "text": "fine"}\n{"id": "nd/2", "text": \n'
    status, _, answer = key_server.request("POST", "/api/documents", body, key=KEY,
                                           headers={"Content-Type": "application/x-ndjson"})
    assert status == 400 and answer["error"]["code"] == "invalid_json"
    assert answer["error"]["line"] == 2 and "line 2" in answer["error"]["message"]
    status, _, answer = key_server.request("POST", "/api/documents", " \n", key=KEY,
                                           headers={"Content-Type": "application/x-ndjson"})
    assert status == 400 and answer["error"]["code"] == "empty_batch"


def test_body_limits(key_server: Server) -> None:
    # Over the app's 64 KB but under the documents limit: accepted.
    docs = [{"id": f"big/{n}", "text": f"Document {n} about the aardvark. " + "Filler. " * 400}
            for n in range(30)]
    body = json.dumps(docs)
    assert 64 * 1024 < len(body) < DOCUMENTS_MAX_BYTES
    status, _, answer = key_server.request("POST", "/api/documents", body, key=KEY,
                                           headers={"Content-Type": "application/json"})
    assert status == 200 and answer["added"] == 30, answer
    # Over the documents limit: 413, nothing written.
    docs = [{"id": f"huge/{n}", "text": "Filler. " * 400} for n in range(80)]
    status, _, answer = key_server.request("POST", "/api/documents", docs, key=KEY)
    assert status == 413
    assert key_server.request("GET", doc_path("huge/0"))[0] == 404
    # Everything else keeps the 64 KB limit.
    status, _, answer = key_server.request("GET", "/api/search?q=x", "x" * (70 * 1024))
    assert status == 413


# -- two workers ------------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _worker_of(conn: http.client.HTTPConnection, server: Server, workers: list[int]) -> int:
    """The worker process holding the server's end of a keep-alive connection (found through
    /proc: the socket's inode in /proc/net/tcp, then among each worker's descriptors)."""
    client_port = conn.sock.getsockname()[1]
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        cols = line.split()
        local, remote = cols[1], cols[2]
        if (int(local.split(":")[1], 16) == server.port
                and int(remote.split(":")[1], 16) == client_port):
            inode = cols[9]
    assert inode, "the connection's server socket was not found"
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    raise AssertionError("no worker holds the connection")


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux's /proc")
def test_a_write_through_one_worker_is_seen_through_the_other(key_server: Server) -> None:
    workers = _children(key_server.proc.pid)
    assert len(workers) == 2, workers
    # Keep-alive connections stay with the worker that accepted them: open some until both
    # workers hold one (each new connection may go to either).
    by_worker: dict[int, http.client.HTTPConnection] = {}
    spare = []
    for _ in range(40):
        conn = key_server.connect()
        key_server.request("GET", "/healthz", conn=conn)  # accepted and answered
        pid = _worker_of(conn, key_server, workers)
        if pid in by_worker:
            spare.append(conn)
        else:
            by_worker[pid] = conn
        if len(by_worker) == 2:
            break
    assert len(by_worker) == 2, "the two workers never both accepted a connection"
    first, second = by_worker.values()
    try:
        assert search_ids(key_server, "okapi", conn=second) == []  # second has its view open
        status, _, answer = key_server.request(
            "PUT", doc_path("workers/okapi"), {"text": "An okapi was seen in the forest."},
            key=KEY, conn=first)
        assert status == 201, answer
        assert search_ids(key_server, "okapi", conn=first) == ["workers/okapi"]
        for _ in range(VISIBLE_ATTEMPTS):
            if search_ids(key_server, "okapi", conn=second) == ["workers/okapi"]:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the other worker never showed the new document")
        # And back: deleted through the second, gone through the first.
        assert key_server.request("DELETE", doc_path("workers/okapi"), key=KEY,
                                  conn=second)[0] == 200
        for _ in range(VISIBLE_ATTEMPTS):
            if search_ids(key_server, "okapi", conn=first) == []:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the other worker never dropped the deleted document")
    finally:
        for conn in (*by_worker.values(), *spare):
            conn.close()


def test_answers_match_the_openapi_document(key_server: Server) -> None:
    from openapi_schema_validator import OAS30Validator

    spec = key_server.request("GET", "/api/openapi.json")[2]

    def check(name: str, instance: dict) -> None:
        schema = dict(spec["components"]["schemas"][name])
        schema["components"] = spec["components"]
        OAS30Validator(schema).validate(instance)

    operations = spec["paths"]["/api/documents/{doc_id}"]
    assert {"get", "put", "delete"} <= set(operations)
    assert {"401", "403", "400"} <= set(operations["put"]["responses"])
    assert "post" in spec["paths"]["/api/documents"]
    assert spec["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    status, _, answer = key_server.request("PUT", doc_path("openapi/doc"),
                                           {"text": "Schema check about the kinkajou."},
                                           key=KEY)
    check("WriteResult", answer)
    check("StoredDocument", key_server.request("GET", doc_path("openapi/doc"))[2])
    check("BatchResult", key_server.request("POST", "/api/documents",
                                            [{"id": "openapi/2", "text": "Kinkajou."}],
                                            key=KEY)[2])
    check("Error", key_server.request("POST", "/api/documents", [{"id": "x"}], key=KEY)[2])
    check("Error", key_server.request("DELETE", doc_path("openapi/none"), key="bad")[2])


# -- in-process (Flask's test client): cases that need control over the index -----------------

def test_a_write_waits_for_another_writer_then_answers_503(tmp_path: Path) -> None:
    from search import open_writer
    from web import create_app, index_holder

    app = create_app({"TESTING": True, "SEARCH_INDEX": str(tmp_path / "index"),
                      "API_KEYS": (KEY,), "DOCUMENTS_LOCK_TIMEOUT": 0.2})
    client = app.test_client()
    auth = {"Authorization": f"Bearer {KEY}"}
    with open_writer(tmp_path / "index") as w:  # holds the lock, as search-cli index would
        w.add({"id": "first", "text": "Written by the other writer."})
        r = client.put("/api/documents/x", json={"text": "Waits."}, headers=auth)
        assert r.status_code == 503 and r.headers["Retry-After"]
        assert r.get_json()["error"]["code"] == "index_busy"
    # The index did not exist: the writer created it; now the API writes too.
    r = client.put("/api/documents/x", json={"text": "Now it goes through."}, headers=auth)
    assert r.status_code == 201, r.get_json()
    assert client.get("/api/documents/first").get_json()["source"] == "api"
    index_holder(app).close()


@pytest.mark.parametrize("body", [
    "[" * 100_000 + "]" * 100_000,  # nested too deeply for json
    '{"id": "n", "text": "x", "date": ' + "9" * 5000 + "}",  # json refuses the integer
    b"\xff\xfe not UTF-8",
    "",
])
def test_hostile_bodies_are_400s(tmp_path: Path, body: str | bytes) -> None:
    from web import create_app

    app = create_app({"TESTING": True, "SEARCH_INDEX": str(tmp_path / "index"),
                      "API_KEYS": (KEY,)})
    client = app.test_client()
    auth = {"Authorization": f"Bearer {KEY}"}
    for method, path in (("PUT", "/api/documents/n"), ("POST", "/api/documents")):
        r = client.open(path, method=method, data=body, headers=auth,
                        content_type="application/json")
        assert r.status_code == 400, (method, r.get_json())
        assert r.get_json()["error"]["code"] in ("invalid_json", "empty_batch")
