"""search.evaluation: query files, TREC runs and ir-measures scores."""

from __future__ import annotations

import io
import json

import pytest
from conftest import SEED_EN, SEED_SL

from search.evaluation import MEASURES, evaluate, read_queries, run_queries, write_trec_run

SL_002, SL_003 = SEED_SL


@pytest.fixture()
def qrels(tmp_path):
    path = tmp_path / "qrels.txt"
    path.write_text("q1 0 d1 1\nq1 0 d2 0\nq2 0 d3 1\nq3 0 d4 2\n", encoding="utf-8")
    return path


def test_read_queries(tmp_path):
    path = tmp_path / "queries.jsonl"
    path.write_text('{"id": 7, "text": "meja", "lang": "sl"}\n\n'
                    '{"id": "q2", "text": "Šaranović"}\n', encoding="utf-8")
    assert read_queries(path) == [{"id": "7", "text": "meja", "lang": "sl"},
                                  {"id": "q2", "text": "Šaranović"}]


def test_write_trec_run_ranks_by_score():
    out = io.StringIO()
    write_trec_run({"q1": {"b": 1.5, "a": 2.25, "c": 1.5}, "q2": {}}, out, tag="t")
    assert out.getvalue().splitlines() == [
        "q1 Q0 a 1 2.250000 t",
        "q1 Q0 b 2 1.500000 t",  # ties broken by document id, so runs are reproducible
        "q1 Q0 c 3 1.500000 t",
    ]


def test_evaluate_perfect_run(qrels):
    run = {"q1": {"d1": 3.0, "d2": 1.0}, "q2": {"d3": 1.0}, "q3": {"d4": 1.0}}
    assert evaluate(run, qrels) == {m: pytest.approx(1.0) for m in MEASURES}


def test_evaluate_counts_unanswered_queries_as_zero(qrels):
    # q2 and q3 are judged but the run has nothing for them (or not even the query).
    run = {"q1": {"d1": 3.0}, "q2": {}}
    scores = evaluate(run, qrels)
    assert scores["RR@10"] == pytest.approx(1 / 3)
    assert scores["R@100"] == pytest.approx(1 / 3)


def test_evaluate_rank_matters(qrels):
    run = {"q1": {"d2": 3.0, "d1": 1.0}, "q2": {"x": 2.0, "y": 1.5, "d3": 1.0},
           "q3": {"d4": 1.0}}
    scores = evaluate(run, qrels, measures=["RR@10"])
    assert scores == {"RR@10": pytest.approx((1 / 2 + 1 / 3 + 1) / 3)}


def test_run_queries_through_the_search_path(seed_search):
    queries = [{"id": "a", "text": "saranovic"}, {"id": "b", "text": "policija"},
               {"id": "c", "text": "(((("}, {"id": "d", "text": "minister"}]
    run = run_queries(seed_search, queries, limit=100)
    assert list(run) == ["a", "b", "c", "d"]
    assert list(run["a"]) == [SL_003]
    top_two = sorted(run["b"], key=run["b"].get, reverse=True)[:2]
    assert set(top_two) == {SL_002, SL_003}  # translated English matches rank below
    assert run["c"] == {}
    assert len(run["d"]) == 5
    assert set(run_queries(seed_search, queries[3:], lang="en")["d"]) == set(SEED_EN)
    assert len(run_queries(seed_search, queries[3:], limit=2)["d"]) == 2


def test_run_and_evaluate_on_the_seeds(seed_search, tmp_path):
    qrels = tmp_path / "qrels"
    qrels.write_text(f"a 0 {SL_003} 1\nb 0 {SL_002} 1\nb 0 {SL_003} 1\n", encoding="utf-8")
    run = run_queries(seed_search, [{"id": "a", "text": "saranovic"},
                                    {"id": "b", "text": "policija"}])
    scores = evaluate(run, qrels)
    assert scores["RR@10"] == pytest.approx(1.0)
    assert scores["R@100"] == pytest.approx(1.0)
    out = io.StringIO()
    write_trec_run(run, out)
    assert out.getvalue().splitlines()[0] == (
        f"a Q0 {SL_003} 1 {run['a'][SL_003]:.6f} bilingual-search")
    json.dumps(scores)  # plain floats, ready for --json
