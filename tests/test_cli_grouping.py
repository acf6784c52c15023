"""``search-cli query``: a page and its translation on one line, --no-group, JSON fields."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from grouping_corpus import build_index

from search.cli import cli

QUERY = "police cooperation in Tirana"
PAIRS = {"seed/en/tirana": "seed/sl/tirana", "seed/en/podgorica": "seed/sl/podgorica"}


@pytest.fixture(scope="module")
def group_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("grouping"))


def query(group_index: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["query", "--index", str(group_index), *args],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def listed(output: str) -> list[str]:
    """The document id of each numbered result (on the line after its title)."""
    lines = output.splitlines()
    return [lines[i + 1].split(" · ")[-2 if "also in" in lines[i + 1] else -1].strip()
            for i, line in enumerate(lines) if re.match(r"^\d+\. ", line)]


def test_a_pair_is_one_result_with_its_translation_on_its_line(group_index: Path) -> None:
    out = query(group_index, QUERY, "--limit", "20")
    for en, sl in PAIRS.items():
        (line,) = [x for x in out.splitlines() if f" · {en} · " in x]
        assert line.rstrip().endswith(f"· also in sl: {sl}")
        assert f" · {sl}" not in out.replace(f"also in sl: {sl}", "")  # not listed itself
    summary = out.splitlines()[0]
    folded = json.loads(query(group_index, QUERY, "--limit", "20", "--json"))["folded"]
    assert f"{folded} pairs of translations shown once (--no-group lists both)" in summary


def test_no_group_lists_both_versions(group_index: Path) -> None:
    grouped = listed(query(group_index, QUERY, "--limit", "50"))
    separate = listed(query(group_index, QUERY, "--limit", "50", "--no-group"))
    assert set(PAIRS) | set(PAIRS.values()) <= set(separate)
    assert not set(PAIRS.values()) & set(grouped)
    assert set(grouped) < set(separate)
    out = query(group_index, QUERY, "--no-group")
    assert "shown once" not in out
    (line,) = [x for x in out.splitlines() if " · seed/sl/tirana · " in x]
    assert line.rstrip().endswith("also in en: seed/en/tirana")  # still named


@pytest.mark.parametrize("flags", [(), ("--no-group",), ("--lang", "en")])
def test_json_has_the_api_fields(group_index: Path, flags: tuple[str, ...]) -> None:
    data = json.loads(query(group_index, QUERY, "--json", *flags))
    folding = not flags
    assert (data["folded"] > 0) is folding
    by_id = {h["id"]: h for h in data["hits"]}
    hit = by_id["seed/en/tirana"]
    assert hit["translation_id"] == "seed/sl/tirana" and hit["translation_lang"] == "sl"
    assert hit["grouped"] is folding
    assert ("seed/sl/tirana" in by_id) is (flags == ("--no-group",))


def test_help_explains_grouping_with_an_example(group_index: Path) -> None:
    out = query(group_index, "--help")
    assert "--no-group" in out and "also in sl" in out
    assert 'search-cli query "police cooperation" --no-group' in out
