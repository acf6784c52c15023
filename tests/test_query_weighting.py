"""search.query_weighting: long queries weigh their words by repetition and selectivity."""

from __future__ import annotations

import json
import random

import pytest
from whoosh import query as wq

from search import SearchIndex, index_paths
from search.query import FOREIGN_BOOST
from search.query_weighting import VERBOSE_FROM, VERBOSE_FULL, verbosity, weigh
from search.translation import load_dictionary

#: Per language: words most documents use (a generic text's vocabulary), the two words a
#: paper is about, and how its title and abstract, pasted in as the query, put them.
CASES = {
    "en": {
        "common": ("system information method process result study approach data user "
                   "development design description problem analysis program number "
                   "application service research library computer language structure "
                   "evaluation model theory practice experience question operation "
                   "cost time change group level value function quality").split(),
        "topic": ("thesaurus", "minicomputer"),
        "title": "The application of a minicomputer to thesaurus construction",
    },
    "sl": {
        "common": ("sistem informacija metoda postopek rezultat študija pristop podatek "
                   "uporabnik razvoj oblikovanje opis problem analiza program število "
                   "uporaba storitev raziskava knjižnica računalnik jezik struktura "
                   "vrednotenje model teorija praksa izkušnja vprašanje delovanje "
                   "strošek čas sprememba skupina raven vrednost funkcija kakovost").split(),
        "topic": ("tezaver", "miniračunalnik"),
        "title": "Uporaba miniračunalnika pri gradnji tezavra",
    },
}
BACKGROUND = 40  #: documents using a few common words each
GENERIC = 3  #: documents using nearly every common word, and neither topic word


def _corpus(lang: str) -> list[dict]:
    case = CASES[lang]
    common, (a, b) = case["common"], case["topic"]
    rng = random.Random(13)
    docs = []
    for i in range(BACKGROUND):
        picked = rng.sample(common, 8)
        docs.append({"id": f"background-{i}", "title": f"{picked[0]} {i}",
                     "text": " ".join(picked + [f"x{i}y{j}" for j in range(12)]), "lang": lang})
    for i in range(GENERIC):
        words = common[:]
        rng.shuffle(words)
        docs.append({"id": f"generic-{i}", "title": " ".join(words[:3]),
                     "text": " ".join(words[3:]), "lang": lang})
    docs.append({"id": "topic", "title": f"{a} {b}",
                 "text": f"{b} {a} {a} {b} " + " ".join(common[:4]), "lang": lang})
    return docs


def _pasted_abstract(lang: str) -> str:
    """A paper's title and abstract: every common word once, the topic words a few times."""
    case = CASES[lang]
    common, (a, b) = case["common"], case["topic"]
    sentences = [case["title"] + "."]
    for i in range(0, len(common), 8):
        sentences.append(" ".join(common[i:i + 8]).capitalize() + f" {a} {b}.")
    return " ".join(sentences)


@pytest.fixture(scope="module", params=sorted(CASES))
def pasted(request, tmp_path_factory):
    lang = request.param
    root = tmp_path_factory.mktemp(f"weighting-{lang}")
    with open(root / "docs.jsonl", "w", encoding="utf-8") as f:
        for doc in _corpus(lang):
            f.write(json.dumps(doc, ensure_ascii=False) + "\n")
    index_paths([root / "docs.jsonl"], root / "index", rebuild=True)
    return lang, root / "index"


def _ids(path, text: str, lang: str, **options) -> list[str]:
    with SearchIndex(path, translate=False, **options) as ix:
        return [h.id for h in ix.search(text, lang=lang, per_page=10, snippets=False).hits]


def test_pasted_abstract_finds_its_topic_ahead_of_generic_documents(pasted):
    lang, path = pasted
    query = _pasted_abstract(lang)
    assert len(query.split()) > 40
    ranked = _ids(path, query, lang)
    assert ranked[0] == "topic", ranked
    # Without the weights, the documents matching many common words win: the case the
    # weights are for.
    plain = _ids(path, query, lang, query_weights=False)
    assert plain.index("topic") > plain.index("generic-0"), plain


def test_a_short_query_ranks_as_without_weights(pasted):
    lang, path = pasted
    a, b = CASES[lang]["topic"]
    for text in (a, f"{a} {b}", " ".join(CASES[lang]["common"][:5])):
        assert _ids(path, text, lang) == _ids(path, text, lang, query_weights=False)


def _terms(words: list[str]) -> list[set[tuple[str, bytes]]]:
    return [{("body_en", w.encode())} for w in words]


def test_repeated_words_weigh_more_and_others_are_untouched():
    q = wq.Or([wq.Term("body_en", "border", boost=0.5), wq.Term("body_en", "patrol")])
    out = weigh(q, _terms(["border", "patrol", "border"]), lambda name, text: 1.0)
    assert [t.boost for t in out.subqueries] == [1.0, 1.0]
    assert [t.boost for t in q.subqueries] == [0.5, 1.0]  # the original is not changed
    assert weigh(q, _terms(["border", "patrol"]), lambda name, text: 1.0) is q


def test_a_long_query_discounts_common_words_but_never_an_exclusion():
    words = [f"w{i}" for i in range(VERBOSE_FULL)]
    idf = {"w0": 4.0, "w1": 1.0}
    positive = wq.Or([wq.Term("body_en", w) for w in words])
    q = wq.AndNot(positive, wq.Term("body_en", "w1"))
    out = weigh(q, _terms(words), lambda name, text: idf.get(text, 2.0))
    boosts = {t.text: t.boost for t in out.a.subqueries}
    assert boosts["w0"] == 1.0 and boosts["w1"] == pytest.approx(0.25)
    assert out.b.boost == 1.0


@pytest.mark.parametrize("n, expected", [(1, 0.0), (VERBOSE_FROM, 0.0),
                                         ((VERBOSE_FROM + VERBOSE_FULL) // 2, 0.5),
                                         (VERBOSE_FULL, 1.0), (5 * VERBOSE_FULL, 1.0)])
def test_verbosity_grows_with_distinct_content_words(n, expected):
    assert verbosity(_terms([f"w{i}" for i in range(n)])) == pytest.approx(expected)
    # Repeating a word does not make a query more verbose.
    assert verbosity(_terms(["same"] * n)) == 0.0


@pytest.fixture(scope="module")
def bilingual(tmp_path_factory):
    """Both corpora in one index: every common word belongs to its own language."""
    root = tmp_path_factory.mktemp("weighting-both")
    with open(root / "docs.jsonl", "w", encoding="utf-8") as f:
        for lang in sorted(CASES):
            for doc in _corpus(lang):
                f.write(json.dumps({**doc, "id": f"{lang}-{doc['id']}"}, ensure_ascii=False)
                        + "\n")
    index_paths([root / "docs.jsonl"], root / "index", rebuild=True)
    return root / "index"


@pytest.mark.skipif(load_dictionary() is None,
                    reason="Debian's dict-freedict-slv-eng is not installed: "
                           "apt-get install dict-freedict-slv-eng")
@pytest.mark.parametrize("lang", sorted(CASES))
def test_a_long_query_in_one_language_is_not_translated(bilingual, lang):
    other = "sl" if lang == "en" else "en"
    common = CASES[lang]["common"]
    with SearchIndex(bilingual) as ix:
        short = ix.parse(" ".join(common[:3]))
        assert any(key[0] == other for key in short.translated)  # a short one still is
        long = ix.parse(_pasted_abstract(lang))
        assert long.translated == {}
        # Its words found in the other language's documents weigh as little as a translated
        # query's do there.
        foreign = [t for t in long.query.leaves() if t.fieldname.startswith(f"body_{other}")]
        own = [t for t in long.query.leaves() if t.fieldname.startswith(f"body_{lang}")]
        assert foreign and own
        assert max(t.boost for t in foreign) <= FOREIGN_BOOST * max(t.boost for t in own)
