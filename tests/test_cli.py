"""search.cli: every command through click's CliRunner, plus one real ``search-cli`` process."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SEED_EN, SEED_SL, search_cli

from search.cli import EXIT_SKIPPED, cli
from search.storage import ENGINE_FILE, IndexLayout

SL_003 = SEED_SL[1]
TREC_LINE = re.compile(r"^(\S+) Q0 (\S+) (\d+) (-?\d+\.\d+) (\S+)$")


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, *args: object):
    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


# -- help -----------------------------------------------------------------------------------

def test_top_level_help_lists_every_command(runner):
    result = invoke(runner, "--help")
    assert result.exit_code == 0
    for name in cli.commands:
        assert name in result.output
    assert set(cli.commands) >= {"index", "query", "stats", "serve", "run", "eval"}


@pytest.mark.parametrize("name", sorted(cli.commands))
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_every_command_has_help(runner, name, flag):
    result = invoke(runner, name, flag)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage:")
    summary = cli.commands[name].get_short_help_str().rstrip(".")
    assert summary and summary[:20] in " ".join(result.output.split())


def test_version(runner):
    result = invoke(runner, "--version")
    assert result.exit_code == 0 and "0.1.0" in result.output


# -- index ----------------------------------------------------------------------------------

def test_index_exit_status_zero(runner, seed_copy, tmp_path):
    result = invoke(runner, "index", seed_copy, "--index", tmp_path / "ix")
    assert result.exit_code == 0, result.output
    assert "5 added" in result.stdout
    assert result.stderr == ""
    # Again: nothing to do.
    again = invoke(runner, "index", seed_copy, "--index", tmp_path / "ix")
    assert again.exit_code == 0
    assert "Indexed 0 documents" in again.stdout and "5 unchanged" in again.stdout


def test_index_exit_status_three_when_something_was_skipped(runner, seed_copy, tmp_path):
    broken = seed_copy / "broken.txt"
    broken.write_bytes(b"\x00\x01binary\x00")
    result = invoke(runner, "index", seed_copy, "--index", tmp_path / "ix")
    assert result.exit_code == EXIT_SKIPPED == 3
    assert f"skipped: {broken.resolve()}: binary" in result.stderr
    assert "5 added" in result.stdout  # everything else was indexed


def test_index_quiet_prints_only_problems(runner, seed_copy, tmp_path):
    result = invoke(runner, "index", seed_copy, "--index", tmp_path / "ix", "-q")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_index_location_from_environment(runner, seed_copy, tmp_path):
    target = tmp_path / "from-env"
    result = runner.invoke(cli, ["index", str(seed_copy)], env={"SEARCH_INDEX": str(target)})
    assert result.exit_code == 0
    assert IndexLayout(target).current() is not None


def test_index_locked_is_a_clean_error(runner, seed_workspace):
    from search.storage import open_index

    docs, index_dir = seed_workspace
    (docs / "new.txt").write_text("Quokka census\n\nRangers counted quokkas.\n")
    ix, _ = open_index(index_dir)
    writer = ix.writer()
    try:
        result = invoke(runner, "index", docs, "--index", index_dir, "--timeout", "0.2")
    finally:
        writer.cancel()
    assert result.exit_code == 1
    assert "another process" in result.stderr and "Traceback" not in result.output


# -- query ----------------------------------------------------------------------------------

def test_query_text_output(runner, seed_index):
    result = invoke(runner, "query", "policija", "--index", seed_index)
    assert result.exit_code == 0
    assert re.match(r"\d+ results \((en: \d+, )?sl: 2\)", result.stdout)
    first_two = re.findall(r"^\s+sl · .*?(\S+\.txt)$", result.stdout, re.M)[:2]
    assert set(first_two) == set(SEED_SL)
    assert "<mark>" not in result.stdout  # marks become terminal styling
    assert "policijama" in result.stdout and SL_003 in result.stdout


def test_query_json_shape(runner, seed_index):
    result = invoke(runner, "query", "minister", "--index", seed_index, "--json", "--limit", 2)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["total"] == 5
    assert data["facets"] == {"lang": {"en": 3, "sl": 2}, "year": {"2024": 1}}
    assert len(data["hits"]) == 2
    for hit in data["hits"]:
        assert set(hit) >= {"id", "title", "lang", "date", "score", "snippet"}
        assert hit["id"] in SEED_EN + SEED_SL
        assert hit["lang"] in ("en", "sl") and isinstance(hit["score"], float)


def test_query_options(runner, seed_index):
    result = invoke(runner, "query", "minister", "--index", seed_index, "--json", "--lang", "sl",
                    "--sort", "newest", "--page", 1)
    data = json.loads(result.stdout)
    assert [h["id"] for h in data["hits"]] == [SL_003, SEED_SL[0]]
    assert data["lang"] == "sl" and data["sort"] == "newest"


def test_query_no_results_and_suggestion(runner, seed_index):
    result = invoke(runner, "query", "minstry", "--index", seed_index, "--no-correct")
    assert result.exit_code == 0
    assert "No results for 'minstry'." in result.stdout
    assert "Did you mean: ministry" in result.stdout


def test_query_matching_nothing_directly_is_searched_corrected(runner, seed_index):
    result = invoke(runner, "query", "minstry", "--index", seed_index)
    assert result.exit_code == 0
    assert result.stdout.startswith("Showing results for 'ministry'; search instead for "
                                    "'minstry' with --no-correct.")
    assert "5 results" in result.stdout and "Did you mean" not in result.stdout
    data = json.loads(invoke(runner, "query", "minstry", "--index", seed_index,
                             "--json").stdout)
    assert (data["corrected"], data["suggestion"], data["query"]) == \
        ("ministry", None, "minstry")


@pytest.mark.parametrize("text", ['"unclosed', "((((", "-", "*", ""])
def test_query_malformed_is_not_an_error(runner, seed_index, text):
    result = invoke(runner, "query", text, "--index", seed_index)
    assert result.exit_code == 0


def test_query_bad_option_values_are_usage_errors(runner, seed_index):
    assert invoke(runner, "query", "x", "--index", seed_index, "--lang", "de").exit_code == 2
    assert invoke(runner, "query", "x", "--index", seed_index, "--limit", 0).exit_code == 2


def test_query_missing_index_is_a_clean_error(runner, tmp_path):
    result = invoke(runner, "query", "policija", "--index", tmp_path / "nothing")
    assert result.exit_code == 1
    assert "No index at" in result.stderr and "search-cli index" in result.stderr
    assert "Traceback" not in result.output


def test_query_incompatible_index_is_a_clean_error(runner, seed_workspace):
    _, index_dir = seed_workspace
    engine = IndexLayout(index_dir).current() / ENGINE_FILE
    info = json.loads(engine.read_text())
    engine.write_text(json.dumps({**info, "format": 999}))
    result = invoke(runner, "query", "policija", "--index", index_dir)
    assert result.exit_code == 1
    assert "--rebuild" in result.stderr and "Traceback" not in result.output


# -- stats ----------------------------------------------------------------------------------

def test_stats(runner, seed_index):
    result = invoke(runner, "stats", "--index", seed_index)
    assert result.exit_code == 0
    assert "Documents: 5" in result.stdout
    assert "en 3" in result.stdout and "sl 2" in result.stdout and "2024 1" in result.stdout


def test_stats_json(runner, seed_index):
    data = json.loads(invoke(runner, "stats", "--index", seed_index, "--json").stdout)
    assert (data["doc_count"], data["by_lang"], data["by_year"]) == (
        5, {"en": 3, "sl": 2}, {"2024": 1})


# -- run and eval ---------------------------------------------------------------------------

@pytest.fixture()
def topics(tmp_path) -> tuple[Path, Path]:
    """A tiny made-up test collection for the seeds: (queries.jsonl, qrels)."""
    queries = tmp_path / "queries.jsonl"
    queries.write_text("\n".join(json.dumps(q) for q in [
        {"id": "q1", "text": "saranovic"},
        {"id": "q2", "text": "policija"},
        {"id": 3, "text": '"border controls"'},
    ]) + "\n", encoding="utf-8")
    qrels = tmp_path / "qrels.txt"
    qrels.write_text(f"q1 0 {SL_003} 1\n"
                     f"q2 0 {SEED_SL[0]} 1\nq2 0 {SL_003} 1\n"
                     f"3 0 {SEED_EN[0]} 1\n3 0 {SEED_EN[1]} 1\n", encoding="utf-8")
    return queries, qrels


def test_run_writes_trec_lines(runner, seed_index, topics, tmp_path):
    queries, _ = topics
    out = tmp_path / "run.txt"
    result = invoke(runner, "run", "--index", seed_index, "--queries", queries, "--output", out,
                    "--tag", "mytag")
    assert result.exit_code == 0
    lines = out.read_text().splitlines()
    parsed = [TREC_LINE.match(line) for line in lines]
    assert all(parsed), lines
    by_query: dict[str, list] = {}
    for m in parsed:
        qid, docid, rank, score, tag = m.groups()
        assert tag == "mytag" and docid in SEED_EN + SEED_SL
        by_query.setdefault(qid, []).append((int(rank), float(score), docid))
    assert set(by_query) == {"q1", "q2", "3"}
    for rows in by_query.values():
        assert [r for r, _, _ in rows] == list(range(1, len(rows) + 1))
        assert [s for _, s, _ in rows] == sorted((s for _, s, _ in rows), reverse=True)
    assert by_query["q1"] == [(1, by_query["q1"][0][1], SL_003)]


def test_run_to_stdout_with_lang_and_limit(runner, seed_index, topics):
    queries, _ = topics
    result = invoke(runner, "run", "--index", seed_index, "--queries", queries, "--lang", "en",
                    "--limit", 1)
    lines = result.stdout.splitlines()
    # q1 (a Slovenian name) has no English results; q2 reaches English releases through
    # translation (policija -> police); one line at most per query.
    assert [line.split()[0] for line in lines] == ["q2", "3"]


def test_eval_prints_the_measures(runner, seed_index, topics):
    queries, qrels = topics
    result = invoke(runner, "eval", "--index", seed_index, "--queries", queries,
                    "--qrels", qrels)
    assert result.exit_code == 0
    values = dict(line.split() for line in result.stdout.splitlines())
    assert values["queries"] == "3"
    assert set(values) == {"queries", "RR@10", "nDCG@10", "R@100"}
    assert float(values["RR@10"]) == pytest.approx(1.0)  # every first result is relevant
    assert float(values["R@100"]) == pytest.approx(1.0)


def test_eval_single_query_json(runner, seed_index, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps({"id": "q1", "text": "saranovic"}) + "\n")
    qrels = tmp_path / "qrels"
    qrels.write_text(f"q1 0 {SL_003} 1\n")
    result = invoke(runner, "eval", "--index", seed_index, "--queries", queries,
                    "--qrels", qrels, "--json")
    data = json.loads(result.stdout)
    assert data == {"queries": 1, "RR@10": 1.0, "nDCG@10": 1.0, "R@100": 1.0}


def test_eval_penalises_a_wrong_ranking(runner, seed_index, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps({"id": "q1", "text": "saranovic"}) + "\n")
    qrels = tmp_path / "qrels"
    qrels.write_text(f"q1 0 {SEED_EN[0]} 1\n")  # a document the query does not find
    data = json.loads(invoke(runner, "eval", "--index", seed_index, "--queries", queries,
                             "--qrels", qrels, "--json").stdout)
    assert data["RR@10"] == 0.0 and data["R@100"] == 0.0


def test_run_requires_an_existing_queries_file(runner, seed_index, tmp_path):
    result = runner.invoke(cli, ["run", "--index", str(seed_index), "--queries",
                                 str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2


# -- serve ----------------------------------------------------------------------------------

@pytest.fixture()
def fake_server(monkeypatch):
    """Replace the real server: these tests must never start one."""
    import web.server

    calls = []
    monkeypatch.setattr(web.server, "serve", lambda **kwargs: calls.append(kwargs))
    return calls


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.org"])
def test_serve_refuses_public_addresses_without_public(runner, fake_server, tmp_path, host):
    result = invoke(runner, "serve", "--host", host, "--index", tmp_path / "ix")
    assert result.exit_code == 1
    assert f"Refusing to listen on {host}" in result.stderr and "--public" in result.stderr
    assert fake_server == []


@pytest.mark.parametrize("args", [["--host", "127.0.0.1"], ["--host", "localhost"],
                                  ["--host", "::1"], ["--host", "0.0.0.0", "--public"]])
def test_serve_starts_on_loopback_or_with_public(runner, fake_server, tmp_path, args):
    result = invoke(runner, "serve", *args, "--port", 0, "--index", tmp_path / "ix")
    assert result.exit_code == 0, result.output
    assert len(fake_server) == 1
    assert fake_server[0]["host"] == args[1] and fake_server[0]["port"] == 0


def test_serve_help_mentions_workers(runner):
    result = invoke(runner, "serve", "--help")
    assert result.exit_code == 0
    assert "--workers" in result.output and "processes" in result.output


def test_serve_passes_workers_to_the_server(runner, fake_server, tmp_path):
    result = invoke(runner, "serve", "--port", 0, "--index", tmp_path / "ix")
    assert result.exit_code == 0, result.output
    assert fake_server[0]["workers"] == 1
    result = invoke(runner, "serve", "--port", 0, "--workers", 3, "--index", tmp_path / "ix")
    assert result.exit_code == 0, result.output
    assert fake_server[1]["workers"] == 3


@pytest.mark.parametrize("workers", [0, 17])
def test_serve_workers_out_of_range_is_a_usage_error(runner, fake_server, tmp_path, workers):
    result = invoke(runner, "serve", "--workers", workers, "--index", tmp_path / "ix")
    assert result.exit_code == 2 and "--workers" in result.output
    assert fake_server == []


# -- a real process -------------------------------------------------------------------------

def test_real_search_cli_process(seed_index, tmp_path):
    env = {**os.environ, "SEARCH_INDEX": str(seed_index)}
    proc = subprocess.run([*search_cli(), "query", "saranovic", "--json"], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [h["id"] for h in data["hits"]] == [SL_003]
    assert "<mark>Šaranoviću</mark>" in data["hits"][0]["snippet"]


@pytest.mark.skipif(__import__("search.translation").translation.load_dictionary() is None,
                    reason="Debian's dict-freedict-slv-eng is not installed")
def test_query_says_which_translated_words_matched(runner, seed_index):
    result = invoke(runner, "query", "meja", "--index", seed_index)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    # 003 matches "meja" directly and comes first; English releases follow via "border".
    assert SL_003 in "\n".join(lines[:4])
    assert any(line.strip().startswith("via translation:") and "border" in line
               for line in lines)
