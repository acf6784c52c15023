"""The query log (``serve --query-log``) and its summary (``search-cli insights``)."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import search_cli, start_server

from search.querylog import LogEntry, QueryLog, log_files, read_entries, summarize


def _entry(query: str, results: int, page: int = 1, per_page: int = 10) -> LogEntry:
    return LogEntry(time="2026-12-01T10:00:00Z", query=query, results=results, page=page,
                    per_page=per_page)


def _all_lines(path: Path) -> list[dict]:
    return [json.loads(line) for f in log_files(path) for line in f.read_text().splitlines()]


def test_rotation_keeps_every_line_and_the_number_of_backups(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    log = QueryLog(path, max_bytes=1_000, backups=3)
    for n in range(40):
        log.append(_entry(f"meja {n}", n))
    files = log_files(path)
    assert [f.name for f in files] == ["q.jsonl.3", "q.jsonl.2", "q.jsonl.1", "q.jsonl"]
    assert all(f.stat().st_size <= 1_000 for f in files)
    kept = [line["query"] for line in _all_lines(path)]
    # The oldest lines went with the oldest file; what is kept is the newest, in order.
    assert kept == [f"meja {n}" for n in range(40 - len(kept), 40)]
    assert len(kept) > 10


def _write_many(path: str, tag: str, count: int) -> None:
    log = QueryLog(path, max_bytes=4_000, backups=50)
    for n in range(count):
        log.append(_entry(f"{tag} {n}", n))


def test_processes_sharing_a_log_lose_and_mix_no_line(tmp_path: Path) -> None:
    path = tmp_path / "shared.jsonl"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_many, args=(str(path), tag, 300)) for tag in "ab"]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    lines = _all_lines(path)  # json.loads fails on any interleaved line
    assert len(log_files(path)) > 2  # it did rotate, under contention
    for tag in "ab":
        assert sorted(int(x["query"].split()[1]) for x in lines if x["query"][0] == tag) \
            == list(range(300))


def test_a_write_failure_never_reaches_the_search(tmp_path: Path) -> None:
    log = QueryLog(tmp_path / "gone" / "q.jsonl")  # its folder does not exist
    log.append(_entry("meja", 1))
    assert log.errors == 1


def test_broken_lines_are_named_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    good = json.dumps({"time": "t", "query": "policija", "results": 2})
    path.write_text(f"{good}\n{{not json\n[1, 2]\n{good}\n"
                    + json.dumps({"query": "x"}) + "\n", encoding="utf-8")
    problems: list[str] = []
    entries = list(read_entries([path], problems))
    assert [e.query for e in entries] == ["policija", "policija"]
    assert [p.split(": ")[0] for p in problems] == [f"{path}:2", f"{path}:3", f"{path}:5"]


def test_summary_groups_queries_and_finds_the_three_lists() -> None:
    entries = [
        _entry("Mejni prehod", 30), _entry("mejni  PREHOD", 30), _entry("mejni prehod", 30),
        _entry("mejni prehod", 30, page=2),            # somebody paged past this one
        _entry("azil", 25), _entry("azil", 25),        # two pages, nobody paged past
        _entry("tihotapljenje", 0), _entry("xyzzy", 0), _entry("Tihotapljenje", 0),
        _entry("policija", 5),                         # one page only: nothing to page past
    ]
    s = summarize(entries, top=10)
    assert (s.searches, s.page_views, s.distinct, s.no_results) == (9, 10, 5, 3)
    assert [(q.query, q.searches) for q in s.top][:3] == [
        ("mejni prehod", 3), ("azil", 2), ("tihotapljenje", 2)]
    assert [(q.query, q.searches) for q in s.top_no_results] == [("tihotapljenje", 2),
                                                                 ("xyzzy", 1)]
    assert [q.query for q in s.not_paged] == ["azil"]
    assert [q.query for q in summarize(entries, top=1).top] == ["mejni prehod"]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


@pytest.mark.parametrize("workers", [1, 2])
def test_served_searches_are_logged_without_personal_data_and_summarised(
        tmp_path: Path, seed_index: Path, served: list, workers: int) -> None:
    log_path = tmp_path / "queries.jsonl"
    proc, base = start_server([*search_cli(), "serve", "--port", "0", "--index",
                               str(seed_index), "--workers", str(workers),
                               "--query-log", str(log_path)])
    served.append(proc)
    searches = [("/search", "policija", 1), ("/api/search", "policija", 1),
                ("/api/search", "Policija ", 1), ("/search", "meja", 1),
                ("/api/search", "xyzzyqq", 1), ("/search", "policija", 2)]
    for path, q, page in searches:
        _get(f"{base}{path.lstrip('/')}?" + urllib.parse.urlencode(
            {"q": q, "page": page, "per_page": 1}))
    _get(f"{base}api/stats")  # not a search: not logged
    lines = [json.loads(line) for line in log_path.read_text("utf-8").splitlines()]
    assert len(lines) == len(searches)
    assert sorted((x["query"], x["page"]) for x in lines) == sorted(
        (q.strip(), page) for _, q, page in searches)  # as the web app cleaned them
    assert {x["source"] for x in lines} == {"page", "api"}
    nothing = next(x for x in lines if x["query"] == "xyzzyqq")
    assert nothing["results"] == 0
    raw = log_path.read_text("utf-8")
    assert "127.0.0.1" not in raw and "Mozilla" not in raw and "Python-urllib" not in raw
    assert set(lines[0]) == set(LogEntry.__dataclass_fields__)

    out = subprocess.run([*search_cli(), "insights", str(log_path), "--json"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["top"][0]["query"] == "policija" and summary["top"][0]["searches"] == 3
    assert [q["query"] for q in summary["top_no_results"]] == ["xyzzyqq"]
    assert "policija" not in [q["query"] for q in summary["not_paged"]]  # page 2 was opened
    table = subprocess.run([*search_cli(), "insights", str(log_path)], capture_output=True,
                           text=True, timeout=60)
    assert table.returncode == 0
    assert "Top queries with no results:" in table.stdout
    assert "5 searches" in table.stdout and "1 without results" in table.stdout


def test_no_log_unless_asked_for(web_app) -> None:
    assert "query_log" not in web_app.extensions
    web_app.test_client().get("/api/search?q=policija")  # and it searches as ever


def test_insights_reports_a_missing_log_and_broken_lines(tmp_path: Path) -> None:
    missing = subprocess.run([*search_cli(), "insights", str(tmp_path / "none.jsonl")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "No query log at" in missing.stderr
    assert "Traceback" not in missing.stderr
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"time": "t", "query": "meja", "results": 0}) + "\nbroken\n")
    out = subprocess.run([*search_cli(), "insights", str(path)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0
    assert f"skipped: {path}:2" in out.stderr
    assert "1 search " in out.stdout


def test_serve_refuses_a_query_log_it_cannot_write(tmp_path: Path) -> None:
    out = subprocess.run([*search_cli(), "serve", "--port", "0", "--index", str(tmp_path / "i"),
                          "--query-log", str(tmp_path / "no" / "such" / "q.jsonl")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "Cannot write the query log" in out.stderr and "Traceback" not in out.stderr
