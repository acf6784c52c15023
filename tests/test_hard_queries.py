"""benchmarks/hard_queries.py: the hard-query sample is fixed, generic and what it says."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import hard_queries  # noqa: E402

HELP = ROOT.parent / "shared" / "eval" / "libreoffice-help" / "docs.jsonl"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 400 help pages (English and Slovenian), as the speed run writes them."""
    if not HELP.exists():
        pytest.skip(f"{HELP} is missing (the shared evaluation data)")
    path = tmp_path_factory.mktemp("hard") / "help.jsonl"
    with open(HELP, encoding="utf-8") as fh, open(path, "w", encoding="utf-8") as out:
        for n, line in enumerate(fh):
            if n >= 400:
                break
            r = json.loads(line)
            out.write(json.dumps({"id": r["id"], "title": r.get("title") or "",
                                  "text": r.get("text") or ""}, ensure_ascii=False) + "\n")
    return path


def test_sample_is_fixed_and_has_every_kind(corpus: Path) -> None:
    sample = hard_queries.make(corpus)
    assert sample == hard_queries.make(corpus)
    kinds = [q["kind"] for q in sample]
    for kind, n in hard_queries.COUNTS.items():
        assert kinds.count(kind) == n, kind
    assert kinds.count("hostile") == len(hard_queries.HOSTILE)
    assert len({q["id"] for q in sample}) == len(sample)


def test_queries_are_what_their_kind_says(corpus: Path) -> None:
    texts = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()]
    vocab = {w.lower() for r in texts
             for w in re.findall(r"[^\W\d_]+", r["title"] + " " + r["text"])}
    for q in hard_queries.make(corpus):
        words = q["text"].split()
        if q["kind"] == "zero":
            assert not any(w.startswith(q["text"][:5]) for w in vocab), q
        elif q["kind"] == "unknown10":
            assert len(words) == 10 and not set(words) & vocab, q
        elif q["kind"] == "typo":
            assert 1 <= len(words) <= 3 and sum(w not in vocab for w in words) == 1, q
        elif q["kind"] == "long40":
            assert len(words) == 40, q
        elif q["kind"] == "long120":
            assert len(words) >= 121, q
        elif q["kind"] == "caps":
            assert q["text"] == q["text"].upper() and len(words) >= 3, q


def test_summary_reports_worst_and_kinds() -> None:
    sample = [{"kind": "zero"}, {"kind": "long40"}, {"kind": "long40"}]
    data = {"configs": {"or+snip": {"passes": [[1.0, 10.0, 30.0], [2.0, 12.0, 50.0]],
                                    "mean_hits": 3.0}}}
    row = hard_queries.summarize(data, sample)["or+snip"]
    assert row["worst"] == 50.0 and row["passes"] == 2
    assert row["kinds"] == {"zero": (1.0, 1.0), "long40": (20.0, 30.0)}
    assert row["p50"] == pytest.approx(11.0)
