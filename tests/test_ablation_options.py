"""Index-time analysis options (ablations) and the quality benchmark's ablation plumbing."""

from __future__ import annotations

import json
import pickle
import sys
import types
from pathlib import Path

import pytest

from search.analysis import ANALYSIS_OPTIONS, LANGUAGES, analysis_options, analyze
from search.indexer import index_paths
from search.schema import build_schema, text_fields
from search.searcher import SearchIndex
from search.storage import ENGINE_FILE, IndexLayout

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import evaluation as ev  # noqa: E402
import quality  # noqa: E402

DOCS = [
    {"id": "sl-meja", "title": "Nadzor na meji",
     "text": "Policija je včeraj okrepila nadzor na meji s Hrvaško. Na mejnih prehodih so "
             "policisti pregledali vsa vozila, ki so prečkala državno mejo, in o tem obvestili "
             "ministrstvo za notranje zadeve."},
    {"id": "sl-promet", "title": "Promet v predoru",
     "text": "Zaradi del v predoru Karavanke bo promet danes in jutri potekal po enem pasu. "
             "Voznike prosimo, da upoštevajo prometne znake in navodila policistov."},
    {"id": "en-border", "title": "The border controls",
     "text": "The police stepped up controls at the border crossings yesterday. Officers "
             "checked every vehicle that crossed the state border and informed the ministry of "
             "the interior about the results of the checks."},
    {"id": "en-traffic", "title": "Traffic in the tunnel",
     "text": "Because of works in the Karavanke tunnel, traffic will run on one lane today "
             "and tomorrow. Drivers are asked to follow the signs and the instructions of the "
             "police officers."},
]


def _write_docs(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "docs.jsonl"
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in DOCS),
                    encoding="utf-8")
    return path


def _ids(index_dir: Path, query: str, lang: str, **options: object) -> set[str]:
    """Ids found in ``lang`` (restricted: query translation may add the other language), the
    query searched as typed (not replaced by a spelling correction)."""
    with SearchIndex(index_dir, **options) as ix:
        return {h.id for h in ix.search(query, lang=lang, per_page=100, snippets=False,
                                        correct=False).hits}


def _engine_info(index_dir: Path) -> dict:
    gen = IndexLayout(index_dir).current()
    assert gen is not None
    return json.loads((gen / ENGINE_FILE).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def docs_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_docs(tmp_path_factory.mktemp("docs"))


@pytest.fixture(scope="module")
def default_index(docs_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    index_dir = tmp_path_factory.mktemp("default") / "index"
    report = index_paths([docs_file], index_dir)
    assert report.added == len(DOCS) and not report.problems
    return index_dir


# -- the options ----------------------------------------------------------------------------

def test_options_are_completed_with_the_defaults() -> None:
    assert analysis_options(None) == ANALYSIS_OPTIONS == {"stopwords": True, "morphology": True}
    assert analysis_options({"stopwords": False}) == {"stopwords": False, "morphology": True}


@pytest.mark.parametrize("bad", [{"stemming": False}, {"stopwords": "no"}, {"morphology": 0}])
def test_unknown_or_non_boolean_options_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        analysis_options(bad)


@pytest.mark.parametrize("options", [None, {}, {"stopwords": True, "morphology": True}])
def test_default_schema_is_unchanged(options: dict | None) -> None:
    """Without options (or with the defaults spelled out) the schema is the engine's usual one:
    the same analysers as each path's ``make_analyzer()``, pickled to the same bytes."""
    schema = build_schema(options)
    assert pickle.dumps(schema) == pickle.dumps(build_schema())
    for lang in LANGUAGES.values():
        for path in lang.paths:
            for kind in ("title", "body"):
                name = f"{kind}_{lang.code}{path.suffix()}"
                assert pickle.dumps(schema[name].analyzer) == pickle.dumps(path.make_analyzer())


def test_options_change_the_analysers() -> None:
    text = "Policija je varovala mejo in meji"
    assert analyze(text, "sl") == ["policija", "varovati", "meja", "meja"]
    assert analyze(text, "sl", stopwords=False) == [
        "policija", "biti", "varovati", "meja", "in", "meja"]
    assert analyze(text, "sl", morphology=False) == ["policija", "varovala", "mejo", "meji"]
    assert analyze(text, "sl", "stem", morphology=False) == [
        "policija", "varovala", "mejo", "meji"]
    assert analyze("The crossings", "en") == ["cross"]
    assert analyze("The crossings", "en", stopwords=False, morphology=False) == [
        "the", "crossings"]
    # Folding stays: it is part of tokenising, not of morphology.
    assert analyze("Šaranović", "en", morphology=False) == ["saranovic"]


# -- building with options ------------------------------------------------------------------

def test_default_build_records_the_default_options(default_index: Path) -> None:
    info = _engine_info(default_index)
    assert info["analysis"] == ANALYSIS_OPTIONS
    assert set(info["analyzers"]) == {name for name, _, _ in text_fields()}


def test_stop_list_off_makes_stop_words_searchable(docs_file: Path, tmp_path: Path,
                                                   default_index: Path) -> None:
    index_dir = tmp_path / "index"
    index_paths([docs_file], index_dir, analysis={"stopwords": False})
    assert _engine_info(index_dir)["analysis"] == {"stopwords": False, "morphology": True}
    # "the" / "je" are stop words: only the index without a stop list finds them (the query
    # is parsed with the analysers stored in the index).
    assert _ids(default_index, "the", "en") == set()
    assert _ids(index_dir, "the", "en") >= {"en-border", "en-traffic"}
    assert "sl-meja" in _ids(index_dir, "je", "sl")


def test_morphology_off_matches_only_the_written_form(docs_file: Path, tmp_path: Path,
                                                      default_index: Path) -> None:
    index_dir = tmp_path / "index"
    index_paths([docs_file], index_dir, analysis={"morphology": False})
    assert _engine_info(index_dir)["analysis"] == {"stopwords": True, "morphology": False}
    # "mejah" is not written anywhere; its lemma "meja" (mejo, meji) is.
    assert "sl-meja" in _ids(default_index, "mejah", "sl")
    assert _ids(index_dir, "mejah", "sl") == set()
    assert "sl-meja" in _ids(index_dir, "meji", "sl")
    # English: "crossing" meets "crossings" only through the stemmer.
    assert "en-border" in _ids(default_index, "crossing", "en")
    assert _ids(index_dir, "crossing", "en") == set()


def test_incremental_update_keeps_the_index_options(docs_file: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    index_paths([docs_file], index_dir, analysis={"stopwords": False})
    extra = tmp_path / "more"
    extra.mkdir()
    (extra / "note.txt").write_text(
        "The tunnel was closed for the night while the police checked the lighting and "
        "the ventilation of the whole tunnel.", encoding="utf-8")
    report = index_paths([extra], index_dir, analysis={"stopwords": True})  # not fresh
    assert report.added == 1
    assert _engine_info(index_dir)["analysis"]["stopwords"] is False
    assert len(_ids(index_dir, "the", "en")) == 3
    # A rebuild applies the options it is given.
    index_paths([docs_file], index_dir, rebuild=True)
    assert _engine_info(index_dir)["analysis"] == ANALYSIS_OPTIONS
    assert _ids(index_dir, "the", "en") == set()


def test_bad_options_fail_before_anything_is_written(docs_file: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    with pytest.raises(ValueError, match="stemming"):
        index_paths([docs_file], index_dir, analysis={"stemming": False})
    assert not index_dir.exists() or not any(index_dir.iterdir())


# -- the benchmark's variants ---------------------------------------------------------------

def test_every_ablation_opens_and_searches(default_index: Path) -> None:
    """The ranking options of every ablation are accepted by SearchIndex and still find."""
    plan = quality.ablation_plan()
    assert plan[0].name == "ours" and {"ours-and", "ours-nostop"} <= {a.name for a in plan}
    for a in plan:
        assert a.name in quality.ENGINES and a.name in quality.OURS
        analysis_options(a.index_options.get("analysis"))
        assert set(a.index_options) <= {"analysis"}
        with SearchIndex(default_index, **a.open_options) as ix:
            hits = ix.search("nadzor meji", lang="sl", snippets=False).hits
            assert hits and hits[0].id == "sl-meja", a.name


def test_lemma_and_stem_ablations_drop_one_path(default_index: Path) -> None:
    # "državno" typed without its diacritic: lemmagen3 gets the lemma wrong ("drzavna", not
    # "drzaven"), so only the folded stem path ("drzav") finds the page.
    assert "sl-meja" in _ids(default_index, "drzavno", "sl")
    assert "sl-meja" in _ids(default_index, "drzavno", "sl", path_boosts={"sl": 0})
    assert "sl-meja" not in _ids(default_index, "drzavno", "sl", path_boosts={"sl_stem": 0})


def test_strip_diacritics() -> None:
    assert quality.strip_diacritics("Čšž ćđ ČŠŽĆĐ abc") == "Csz cd CSZCD abc"


def test_adapter_passes_open_and_index_options(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    """index_options go to index_paths, open_options to the SearchIndex constructor; inside
    ``sharing_indexes`` variants with the same index options build once."""
    builds: list[dict] = []
    opened: list[dict] = []

    class Report:
        problems: list = []
        indexed = len(DOCS)

    def fake_index_paths(paths, index_dir, rebuild=False, **options):
        builds.append(options)
        return Report()

    class FakeSearchIndex:
        def __init__(self, index_dir, **options) -> None:
            opened.append(options)

        def search(self, text, lang=None, per_page=10, snippets=True):
            opened[-1].setdefault("queries", []).append(text)
            return types.SimpleNamespace(hits=[types.SimpleNamespace(id="d000001", score=1.0)])

        def close(self) -> None:
            pass

    monkeypatch.setitem(sys.modules, "search.indexer",
                        types.SimpleNamespace(index_paths=fake_index_paths))
    monkeypatch.setitem(sys.modules, "search.searcher",
                        types.SimpleNamespace(SearchIndex=FakeSearchIndex))
    records, _ = ev.opaque_ids(ev.protocol_records(DOCS, known_item=False))
    nostop = {"analysis": {"stopwords": False}}
    engines = [quality.OurEngine("a"), quality.OurEngine("b", open_options={"title_boost": 0}),
               quality.OurEngine("c", nostop),
               quality.OurEngine("d", query_transform=quality.strip_diacritics)]
    with quality.sharing_indexes():
        for engine in engines:
            engine.index(records)
            engine.search("Čez mejo", "sl", 10)
            engine.close()
        shared = [folder for folder, _ in (quality._SHARED or {}).values()]
        assert len(shared) == 2 and all(Path(f).is_dir() for f in shared)
    assert quality._SHARED is None
    assert not any(Path(f).exists() for f in shared)
    assert builds == [{}, nostop]
    assert [{k: v for k, v in o.items() if k != "queries"} for o in opened] == [
        {}, {"title_boost": 0}, {}, {}]
    assert opened[3]["queries"] == ["Cez mejo"] and opened[0]["queries"] == ["Čez mejo"]
    # Outside sharing_indexes every engine builds its own index.
    engine = quality.OurEngine("e")
    engine.index(records)
    engine.close()
    assert len(builds) == 3
