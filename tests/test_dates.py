"""search.dates, and "newest first" through the search API, the CLI and the web page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SEED_EN, SEED_SL

from search.cli import cli
from search.dates import newest_first_key, readable_date
from search.indexer import index_paths
from search.searcher import SearchIndex

#: (id suffix, date) in the newest-first order the tests expect; None: undated.
DATED = [("a", "2024-07-03"), ("b", "2024-07"), ("c", "2024-01-05"), ("d", "2024"),
         ("e", "2023-12-31"), ("f", "--10-29"), ("g", "--02-01"), ("h", None), ("i", None)]
WORD = {"sl": "policija", "en": "police"}
TEXT = {"sl": "Policija je danes sporočila, da so policisti na meji ustavili {n}. vozilo. "
              "Policija poziva voznike k previdnosti.",
        "en": "The police said today that officers stopped vehicle number {n} at the border. "
              "The police ask drivers to take care."}


@pytest.fixture(scope="module")
def dated_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Documents in both languages with every kind of date, written in a shuffled order (so
    that neither the order of writing nor the ISO strings' order gives the expected one)."""
    root = tmp_path_factory.mktemp("dated")
    rows = []
    for lang in ("sl", "en"):
        for n, (suffix, date) in enumerate(DATED):
            row = {"id": f"{lang}-{suffix}", "lang": lang,
                   "title": f"{WORD[lang].capitalize()} {n}",
                   "text": TEXT[lang].format(n=n) + " Policija police" * (n % 3)}
            if date:
                row["date"] = date
            rows.append(row)
    order = [7, 0, 5, 2, 8, 4, 1, 6, 3]
    rows = [rows[i] for i in order] + [rows[9 + i] for i in order]
    (root / "docs.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                             for r in rows), encoding="utf-8")
    index_paths([root / "docs.jsonl"], root / "index")
    return root / "index"


def test_newest_first_key_orders_partial_dates_sensibly():
    dates = [d for _, d in DATED]
    assert sorted(reversed(dates), key=newest_first_key) == dates
    assert newest_first_key(b"2024-07") == newest_first_key("2024-07")  # column values


@pytest.mark.parametrize("iso, shown", [("2024-07-03", "3 July 2024"), ("2024-07", "July 2024"),
                                        ("2024", "2024"), ("--10-29", "29 October"),
                                        ("--13-01", "--13-01"), (None, "")])
def test_readable_date(iso, shown):
    assert readable_date(iso) == shown


@pytest.mark.parametrize("lang", ["sl", "en"])
@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("query", ["{word}", '"{word}"', "{word} lang:{lang}"],
                         ids=["words", "phrase", "filtered"])
def test_newest_first_lists_the_latest_first_and_undated_last(dated_index, lang, fast, query):
    # A phrase is answered by Whoosh's collector, words by the executor: both orders agree.
    with SearchIndex(dated_index, fast=fast) as ix:
        results = ix.search(query.format(word=WORD[lang], lang=lang), lang=lang,
                            sort="newest", per_page=20)
    got = [h.id for h in results.hits]
    assert got[:7] == [f"{lang}-{s}" for s, date in DATED if date]
    assert set(got[7:]) == {f"{lang}-h", f"{lang}-i"}  # undated: last, by relevance
    assert results.total == len(DATED) and results.sort == "newest"


@pytest.mark.parametrize("lang", ["sl", "en"])
def test_newest_first_across_languages_keeps_the_order(dated_index, lang):
    # A word with translations, no language filter: the translation tiers of relevance
    # ranking must not reorder a date sort.
    with SearchIndex(dated_index) as ix:
        hits = ix.search(WORD[lang], sort="newest", per_page=30).hits
    assert [newest_first_key(h.date) for h in hits] == sorted(newest_first_key(h.date)
                                                               for h in hits)
    assert hits[0].date == "2024-07-03" and hits[-1].date is None


def test_cli_newest_first_prints_dates_as_a_reader_writes_them(seed_index):
    result = CliRunner().invoke(cli, ["query", "policija", "--sort", "newest",
                                      "--index", str(seed_index)])
    assert result.exit_code == 0, result.output
    metas = [m.strip() for m in re.findall(r"^ {3}(?:en|sl) · .*$", result.stdout, re.M)]
    assert metas[0].startswith("sl · July 2024 · ") and SEED_SL[1] in metas[0]
    assert metas[1].startswith("en · 29 October · ") and SEED_EN[1] in metas[1]
    assert len(metas) > 2 and all(m.count("·") == 1 for m in metas[2:])  # undated last
    assert "--10-29" not in result.stdout and "2024-07 " not in result.stdout


@pytest.mark.parametrize("headers, july, october", [
    ({"Accept-Language": "sl-SI,sl;q=0.9"}, "julij 2024", "29. 10."),
    ({"Accept-Language": "en-GB,en;q=0.8"}, "July 2024", "29 October"),
])
def test_web_newest_first_lists_the_2024_release_first(web_client, headers, july, october):
    import lxml.html

    body = web_client.get("/search?q=policija&sort=newest", headers=headers).get_data(
        as_text=True)
    hits = lxml.html.fromstring(body).xpath("//ol[@class='hits']/li")
    shown = [[" ".join(t.text_content().split()) for t in li.xpath(".//time")] for li in hits]
    iso = [(li.xpath(".//time/@datetime") or [None])[0] for li in hits]
    assert shown[0] == [july] and [october] in shown and ">--10-29<" not in body
    assert iso == sorted(iso, key=newest_first_key)  # the yearless after 2023, undated last
    assert iso[-1] is None and iso.index("--10-29") == iso.index(None) - 1
