"""Fast tests of the quality-evaluation harness (benchmarks/evaluation.py) on tiny data."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import ir_measures
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import evaluation as ev  # noqa: E402
import peers  # noqa: E402

DOCS = [
    {"id": "en/a", "pair_id": "a", "lang": "en", "title": "Inserting pictures",
     "text": "How to insert a picture into a document."},
    {"id": "en/b", "pair_id": "b", "lang": "en", "title": "Printing",
     "text": "Print the document on paper."},
    {"id": "sl/a", "pair_id": "a", "lang": "sl", "title": "Vstavljanje slik",
     "text": "Kako vstavite sliko v dokument."},
    {"id": "sl/b", "pair_id": "b", "lang": "sl", "title": "Tiskanje",
     "text": "Natisnite dokument na papir."},
]
TASKS = {
    "keyword_en": ([{"id": "k1", "text": "picture"}, {"id": "k2", "text": "print"}],
                   [("k1", "en/a"), ("k2", "en/b")]),
    "known_item_sl": ([{"id": "i1", "text": "Tiskanje"}], [("i1", "sl/b")]),
    "clir_en2sl": ([{"id": "c1", "text": "Inserting pictures"}], [("c1", "sl/a")]),
}


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    coll = tmp_path / ev.HELP
    coll.mkdir()
    _write_jsonl(coll / "docs.jsonl", DOCS)
    for name, (queries, qrels) in TASKS.items():
        (coll / name).mkdir()
        _write_jsonl(coll / name / "queries.jsonl", queries)
        (coll / name / "qrels.tsv").write_text(
            "".join(f"{q} 0 {d} 1\n" for q, d in qrels), encoding="utf-8")
    return tmp_path


class FakeEngine:
    """Returns every document, in index order, and records what it was given."""

    name = "fake"

    def __init__(self, detects_language: bool = False) -> None:
        self.detects_language = detects_language
        self.builds: list[list[dict]] = []
        self.langs_asked: list[str | None] = []

    def index(self, records: list[dict]) -> None:
        self.builds.append(records)

    def search(self, text: str, lang: str | None, limit: int) -> list[tuple[str, float]]:
        self.langs_asked.append(lang)
        docs = self.builds[-1]
        return [(r["id"], float(len(docs) - i)) for i, r in enumerate(docs)][:limit]


def test_target_language_of_tasks() -> None:
    assert ev.target_lang("keyword_sl") == "sl"
    assert ev.target_lang("known_item_en") == "en"
    assert ev.target_lang("clir_en2sl") == "sl"
    assert ev.target_lang("clir_sl2en") == "en"
    assert ev.target_lang("cranfield") is None


def test_protocol_records_keep_only_id_title_text_and_empty_known_item_titles() -> None:
    full = ev.protocol_records(DOCS, known_item=False)
    assert all(set(r) == {"id", "title", "text"} for r in full)
    assert full[0]["title"] == "Inserting pictures"
    assert all(r["title"] == "" for r in ev.protocol_records(DOCS, known_item=True))


def test_evaluate_engine_indexes_twice_restricts_language_and_hides_ids(root: Path) -> None:
    engine = FakeEngine()
    results = {r.task.name: r for r in ev.evaluate_engine(engine, ev.HELP, root=root)}
    # one build with titles (keyword, clir), one without (known item)
    assert len(engine.builds) == 2
    with_titles, without = engine.builds
    assert all(set(r) == {"id", "title", "text"} for r in with_titles + without)
    assert any(r["title"] for r in with_titles) and not any(r["title"] for r in without)
    assert not {r["id"] for r in with_titles} & {d["id"] for d in DOCS}  # opaque ids
    # peers are searched without a language and filtered by the ground truth
    assert set(engine.langs_asked) == {None}
    for name, result in results.items():
        lang = ev.target_lang(name)
        for docs in result.run.values():
            assert docs and all(d.startswith(f"{lang}/") for d in docs)
    # the fake ranks en/a, en/b (or sl/a, sl/b) in index order
    assert results["keyword_en"].metrics["RR@10"] == pytest.approx((1 + 1 / 2) / 2)
    assert results["known_item_sl"].metrics["RR@10"] == pytest.approx(1 / 2)
    assert results["clir_en2sl"].metrics["RR@10"] == pytest.approx(1.0)
    # evaluating again reuses the index the engine holds
    ev.evaluate_engine(engine, ev.HELP, ["known_item_sl"], root=root)
    assert len(engine.builds) == 2


def test_language_detecting_engine_gets_the_target_language(root: Path) -> None:
    engine = FakeEngine(detects_language=True)
    ev.evaluate_engine(engine, ev.HELP, ["clir_en2sl", "keyword_en"], root=root)
    assert engine.langs_asked == ["en", "en", "sl"]  # keyword_en first (file order)


def test_score_counts_empty_and_missing_queries_as_zero() -> None:
    qrels = [ir_measures.Qrel("q1", "d1", 1), ir_measures.Qrel("q2", "d2", 1),
             ir_measures.Qrel("q3", "d3", 1)]
    run = {"q1": ev.run_from_ranking([("x", 9.0), ("d1", 9.0)]), "q2": {}}
    scores = ev.score(run, qrels)
    assert scores["RR@10"] == pytest.approx(0.5 / 3)
    assert scores["R@100"] == pytest.approx(1 / 3)
    assert set(scores) == {"RR@10", "nDCG@10", "R@100"}


def test_write_trec_run(tmp_path: Path) -> None:
    run = {"q1": {"b": 1.0, "a": 2.0}, "q2": {"c": 0.5}}
    path = tmp_path / "x.trec"
    ev.write_trec_run(run, path, tag="t")
    assert path.read_text().splitlines() == [
        "q1 Q0 a 1 2.000000 t", "q1 Q0 b 2 1.000000 t", "q2 Q0 c 1 0.500000 t"]
    back = {(r.query_id, r.doc_id): r.score for r in ir_measures.read_trec_run(str(path))}
    assert back == {("q1", "a"): 2.0, ("q1", "b"): 1.0, ("q2", "c"): 0.5}


def test_subsample_is_fixed_and_ordered() -> None:
    qs = [{"id": str(i)} for i in range(50)]
    a, b = ev.subsample(qs, 10), ev.subsample(qs, 10)
    assert a == b and len(a) == 10 and a == sorted(a, key=lambda q: int(q["id"]))
    assert ev.subsample(qs, None) is qs


def test_percentile() -> None:
    assert ev.percentile([], 95) == 0.0
    assert ev.percentile([1.0, 2.0, 3.0], 50) == 2.0
    assert ev.percentile(list(map(float, range(101))), 95) == pytest.approx(95.0)


@pytest.mark.parametrize("factory", ["fts5", "whoosh"])
def test_peer_survives_query_syntax(factory: str, root: Path) -> None:
    engine = peers.PEERS[factory]()
    try:
        records, _ = ev.opaque_ids(ev.protocol_records(DOCS, known_item=False))
        engine.index(records)
        assert isinstance(engine.search('"& or +" (strings): -NOT AND title:x* [', None, 10),
                          list)
        hits = engine.search("Vstavljanje slik", None, 10)
        assert hits and hits[0][0] == records[2]["id"]
        results = ev.evaluate_engine(engine, ev.HELP, ["clir_en2sl"], root=root)
        assert results[0].n_queries == 1
    finally:
        engine.close()
        ev.forget_index(engine)


def test_our_engine_adapter_passes_records_and_options(monkeypatch: pytest.MonkeyPatch,
                                                       root: Path) -> None:
    """The adapter indexes the records through a .jsonl file and passes options through."""
    import types

    import quality

    calls: dict = {}

    class Report:
        problems: list = []

        def __init__(self, n: int) -> None:
            self.indexed = n

    def index_paths(paths, index_dir, rebuild=False, **options):
        lines = Path(paths[0]).read_text(encoding="utf-8").splitlines()
        calls["records"] = [json.loads(line) for line in lines]
        calls["index"] = (rebuild, options)
        return Report(len(lines))

    class SearchIndex:
        def __init__(self, index_dir) -> None:
            pass

        def search(self, text, lang=None, per_page=10, snippets=True, **options):
            calls["search"] = (lang, per_page, snippets, options)
            hit = types.SimpleNamespace(id=calls["records"][-1]["id"], score=1.5)
            return types.SimpleNamespace(hits=[hit])

    monkeypatch.setitem(sys.modules, "search.indexer",
                        types.SimpleNamespace(index_paths=index_paths))
    monkeypatch.setitem(sys.modules, "search.searcher",
                        types.SimpleNamespace(SearchIndex=SearchIndex))
    engine = quality.OurEngine("ours-x", {"opt": 1}, {"mode": "y"})
    try:
        results = ev.evaluate_engine(engine, ev.HELP, ["known_item_sl"], root=root)
    finally:
        engine.close()
        ev.forget_index(engine)
    assert [set(r) for r in calls["records"]] == [{"id", "title", "text"}] * len(DOCS)
    assert not any(r["title"] for r in calls["records"])
    assert calls["index"] == (True, {"opt": 1})
    assert calls["search"] == ("sl", ev.LIMIT, False, {"mode": "y"})
    assert results[0].run == {"i1": {"sl/b": 1.0}}  # opaque id mapped back
    assert results[0].metrics["RR@10"] == 1.0
