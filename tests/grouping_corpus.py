"""Documents for the grouping tests: translation pairs marked with ``pair_id``.

Two of the seeds' Slovenian press releases (real text, ``seeds/``) with English
versions written for these tests, a pair with hostile markup in both titles, and real pairs
of the LibreOffice help (``../shared/eval/libreoffice-help/docs.jsonl``) that mention
Python, some of them with one version left out, for paging.
"""

from __future__ import annotations

import json
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SEEDS = REPO_ROOT / "seeds"
HELP_DOCS = REPO_ROOT.parent / "shared" / "eval" / "libreoffice-help" / "docs.jsonl"

TIRANA_EN = (
    "Minister of the Interior Boštjan Poklukar agreed today in Tirana with his Albanian "
    "counterpart Taulant Balla to further strengthen police cooperation by posting a "
    "Slovenian police attaché to Albania and by extending and updating the existing agreement "
    "on police cooperation in fighting organised crime and terrorism.\n\n"
    "The ministers agreed that, besides operational cooperation between the police forces, "
    "projects, study visits, workshops and other forms of joint training are a good way to "
    "exchange knowledge and experience, the Slovenian Ministry of the Interior said.\n\n"
    "Close cooperation and the exchange of information are also of great importance for "
    "meeting security challenges. Among other things, the police forces already cooperate "
    "through the national central bureaus of Interpol and the national contact points at "
    "Europol.\n\n"
    "Poklukar said in Tirana that they also want to cooperate by exchanging operational "
    "findings directly, which would help investigate organised crime more effectively, "
    "especially the smuggling of migrants.")
PODGORICA_EN = (
    "Minister of the Interior Boštjan Poklukar was on a two-day working visit to Podgorica "
    "today, where he and his Montenegrin counterpart Danilo Šaranović confirmed the good "
    "cooperation between the two ministries and police forces. They also discussed working "
    "with partners in the Western Balkans on managing illegal migration and fighting the "
    "smuggling of migrants.\n\n"
    "\"There are no open political questions between the two countries; bilateral relations "
    "are intensive, very good and developed at every level,\" the Ministry of the Interior "
    "said.\n\n"
    "Poklukar confirmed Slovenia's support and the readiness of Slovenian experts to help "
    "with the work needed to meet the conditions of the accession negotiations for "
    "Montenegro's membership of the European Union.\n\n"
    "Poklukar and Šaranović also talked about the Slovenian biometric identity card, which "
    "holds a qualified certificate for electronic signatures.")

#: The hostile pair: markup in both titles must come out as text.
HOSTILE_EN_TITLE = "Walrus notice <script>alert('en')</script> & friends"
HOSTILE_SL_TITLE = "Obvestilo o mrožu <img src=x onerror=alert(1)> & prijatelji"

#: How many help pairs mention Python in both versions; every PARTIAL_EVERY-th of them keeps
#: only its English version.
HELP_PAIRS = 24
PARTIAL_EVERY = 5


def seed_text(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


def records() -> list[dict]:
    """The grouping corpus: seed pairs, the hostile pair, help pairs and help singletons (when
    the shared evaluation data is there: see :func:`help_records`)."""
    out = [
        {"id": "seed/sl/tirana", "pair_id": "tirana", "lang": "sl", "date": "2024-06",
         "title": "Poklukar v Tirani o policijskem sodelovanju", "text": seed_text("002")},
        {"id": "seed/en/tirana", "pair_id": "tirana", "lang": "en", "date": "2024-06",
         "title": "Poklukar in Tirana on police cooperation", "text": TIRANA_EN},
        {"id": "seed/sl/podgorica", "pair_id": "podgorica", "lang": "sl", "date": "2024-07",
         "title": "Poklukar na obisku v Podgorici", "text": seed_text("003")},
        {"id": "seed/en/podgorica", "pair_id": "podgorica", "lang": "en", "date": "2024-07",
         "title": "Poklukar visits Podgorica", "text": PODGORICA_EN},
        {"id": "odd/en/walrus", "pair_id": "walrus", "lang": "en", "title": HOSTILE_EN_TITLE,
         "text": "The walrus colony on the pier was counted again this morning."},
        {"id": "odd/sl/walrus", "pair_id": "walrus", "lang": "sl", "title": HOSTILE_SL_TITLE,
         "text": "Kolonijo mrožev na pomolu so danes zjutraj znova prešteli. Walrus."},
    ]
    return out + help_records()


def help_records() -> list[dict]:
    """Real help pairs mentioning Python in both languages (the first HELP_PAIRS by id); none
    without the shared evaluation data."""
    if not HELP_DOCS.exists():
        return []
    pairs = python_help_pairs()
    chosen = sorted(pairs)[:HELP_PAIRS]
    out = []
    for i, pair in enumerate(chosen):
        for lang in ("en", "sl"):
            if lang == "sl" and i % PARTIAL_EVERY == 0:
                continue  # an English page without its translation
            doc = pairs[pair][lang]
            out.append({"id": doc["id"], "pair_id": pair, "lang": lang, "title": doc["title"],
                        "text": doc["text"]})
    return out


def python_help_pairs() -> dict[str, dict[str, dict]]:
    """The help's translated pairs mentioning Python in both languages: pair_id -> lang ->
    record (real translations, small enough for a test index)."""
    pairs: dict[str, dict[str, dict]] = {}
    with open(HELP_DOCS, encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            pairs.setdefault(doc["pair_id"], {})[doc["lang"]] = doc
    return {p: v for p, v in pairs.items()
            if len(v) == 2 and all("Python" in d["text"] for d in v.values())}


def write_jsonl(path: Path) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for record in records():
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def build_index(root: Path) -> Path:
    """A real index of :func:`records` under ``root`` (built by the engine's indexer)."""
    from search.indexer import index_paths

    report = index_paths([write_jsonl(root / "grouping.jsonl")], root / "index")
    assert report.indexed == len(records()), report.problems
    return root / "index"

