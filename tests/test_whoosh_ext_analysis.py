"""search.whoosh_ext.fast_analysis: compiled analysis chains give Whoosh's own postings.

Stock Whoosh analyses a field with a chain of generators passing a Token object along for
every word and filter; a compiled chain does the same with one regex pass and a cached
word -> term map. For every field of the schema (both languages, every analysis path, every
ablation option), on random texts of words chosen to be hard (stop words, diacritics,
apostrophes, ligatures, long words, identifiers), the terms, frequencies, weights and
encoded positions must be Whoosh's.
"""

from __future__ import annotations

import random

import pytest

from search.analysis import ANALYSIS_OPTIONS, analysis_options
from search.schema import build_schema
from search.whoosh_ext.fast_analysis import compile_chain, field_indexer

WORDS = ["The", "the", "and", "in", "je", "policija", "Policija", "mejo", "mejah", "Šaranović",
         "saranovicu", "Črna", "gora", "crossings", "crossed", "border's", "O’Neill", "2024",
         "12345678", "x", "ć", "đak", "Straße", "ﬁsh", "c\u030cas", "ÆØ", "a" * 70, "in", "pri",
         "ki", "to", "is", "of", "meja-2024", "under_score", "İstanbul", "ΟΔΟΣ", "naïve",
         "sodelovanja", "varovala", "ministrom", "don't", "it's", "v", "z", "s"]


def random_texts(n: int, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    seps = [" ", " ", " ", ", ", ". ", "\n", "\n\n", " - ", "'", "’", "(", ") "]
    texts = ["", " ", "in", "the and of", "Policija je varovala mejo in Šaranovića"]
    for _ in range(n):
        k = rnd.randint(0, 40)
        texts.append("".join(rnd.choice(WORDS) + rnd.choice(seps) for _ in range(k)))
    return texts


OPTION_SETS = [dict(zip(ANALYSIS_OPTIONS, values, strict=True))
               for values in ((True, True), (False, True), (True, False), (False, False))]


@pytest.mark.parametrize("options", OPTION_SETS)
def test_field_indexers_give_whooshs_items(options):
    schema = build_schema(analysis_options(options))
    fast = {name: field_indexer(schema[name]) for name in schema.names()}
    text_fields = [n for n in schema.names() if n.startswith(("title_", "body_")) or n == "spell"]
    assert all(fast[n] is not None for n in text_fields)
    for text in random_texts(300):
        memo: dict = {}
        for name in text_fields:
            expected = sorted(schema[name].index(text))
            assert sorted(fast[name](text, memo)) == expected, (name, text)


def test_unknown_analysers_are_left_to_whoosh():
    from whoosh.analysis import StandardAnalyzer, StemmingAnalyzer
    from whoosh.fields import ID, KEYWORD, TEXT

    assert compile_chain(StandardAnalyzer()) is None
    assert field_indexer(TEXT(analyzer=StemmingAnalyzer())) is None
    assert field_indexer(ID()) is None
    assert field_indexer(KEYWORD()) is None


def test_positions_follow_the_stop_filters_renumbering():
    schema = build_schema()
    [(term, freq, weight, value)] = [item for item in field_indexer(schema["body_en"])(
        "the and of crossings", {})]
    assert (term, freq, weight) == (b"cross", 1, 1.0)
    assert schema["body_en"].format.decode_positions(value) == [3]
    items = dict((t, v) for t, _, _, v in field_indexer(schema["body_en"])(
        "the crossing of the border and the crossings", {}))
    assert schema["body_en"].format.decode_positions(items[b"cross"]) == [1, 3]
    assert field_indexer(schema["body_en"])("the and of", {}) == []
