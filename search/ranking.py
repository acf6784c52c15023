"""BM25F with collection statistics per language.

With one index holding both languages, stock BM25F divides each field's total length by
*all* documents, including the other language's, whose fields are empty: the average length
comes out too small and long documents are over-penalised (measured: -0.04 RR@10 on
Slovenian keyword search). Here average lengths and IDF use only the documents of the
field's own language.
"""

from __future__ import annotations

from math import log
from typing import Any

from whoosh.scoring import BM25F, BM25FScorer, WeightScorer

from search.analysis.fields import FieldName
from search.model import UNKNOWN
from search.whoosh_ext.searcher_cache import doc_frequency, searcher_cache

#: Defaults tuned on the development halves (benchmarks/quality.py).
K1 = 1.2
B = 0.5
TITLE_B = 0.3


def field_language(fieldname: str) -> str | None:
    """``body_sl_stem`` -> ``sl``; ``None`` for fields not tied to a language."""
    name = FieldName.parse(fieldname)
    return name.lang if name is not None and name.is_text else None


def language_doc_count(searcher: Any, lang: str) -> int:
    cache = searcher_cache(searcher, "lang_doc_counts")
    if lang not in cache:
        # Documents of unknown language have every language's fields: they count too.
        cache[lang] = (searcher.doc_frequency("lang", lang)
                       + searcher.doc_frequency("lang", UNKNOWN)) or 1
    return cache[lang]


class LanguageBM25F(BM25F):
    """BM25F whose statistics count only documents of the field's language."""

    def __init__(self, B: float = B, K1: float = K1, title_B: float = TITLE_B,
                 per_language: bool = True, idf: str = "lucene") -> None:
        super().__init__(B=B, K1=K1)
        self.title_B = title_B
        self.per_language = per_language
        self.idf_kind = idf

    def idf(self, searcher: Any, fieldname: str, text: str) -> float:
        parent = searcher.get_parent()
        n = doc_frequency(parent, fieldname, text)
        lang = field_language(fieldname) if self.per_language else None
        total = language_doc_count(parent, lang) if lang else parent.doc_count_all()
        if self.idf_kind == "whoosh":
            return log(total / (n + 1)) + 1
        # Lucene's BM25 IDF: never negative, even for very common terms.
        return log(1.0 + (total - n + 0.5) / (n + 0.5))

    def parameters(self, searcher: Any, fieldname: str, text: str | bytes
                   ) -> tuple[float, float, float, float]:
        """``(idf, B, K1, avgfl)`` of one term's BM25F, as :meth:`scorer` scores it.

        For :mod:`search.whoosh_ext.execution`, which applies the formula itself; one source
        of truth.
        """
        parent = searcher.get_parent()
        name = FieldName.parse(fieldname)
        b = self.title_B if name is not None and name.kind == "title" else self.B
        lang = field_language(fieldname) if self.per_language else None
        if lang:
            avgfl = (parent.field_length(fieldname) / language_doc_count(parent, lang)) or 1
        else:
            avgfl = parent.avg_field_length(fieldname) or 1
        return parent.idf(fieldname, text), b, self.K1, avgfl

    def scorer(self, searcher: Any, fieldname: str, text: str, qf: int = 1) -> Any:
        if not searcher.schema[fieldname].scorable:
            return WeightScorer.for_(searcher, fieldname, text)
        idf, b, k1, avgfl = self.parameters(searcher, fieldname, text)
        scorer = BM25FScorer(searcher, fieldname, text, b, k1, qf=qf)
        scorer.idf, scorer.avgfl = idf, avgfl
        return scorer
