"""Slovenian: lemmas from lemmagen3, plus a diacritic-free light-stem path.

Snowball has no Slovenian stemmer. lemmagen3 conflates inflected forms well (F1 0.959 against
gold lemmas) but fails on words typed without diacritics, so a second path indexes folded,
truncated words; queries search both and lemma matches weigh more.
"""

from __future__ import annotations

from whoosh.analysis import Analyzer, LowercaseFilter, StopFilter

from search.analysis import AnalysisPath, Language
from search.analysis.filters import (
    FoldFilter,
    LemmaFilter,
    TruncateFilter,
    UnicodeWordTokenizer,
    fold,
)

#: Closed-class words only: conjunctions, prepositions, particles, clitic pronouns and the
#: auxiliary "biti". Months, "danes", "leto" and other content words stay searchable.
STOP_WORDS = frozenset("""
in ter pa ali ampak vendar a da ki ko če kot saj kar ker
v na z s za od do iz pri po o k h ob med pred nad pod brez proti skozi
je so sem si smo ste sta sva bo bom boš bomo boste bodo bi bil bila bilo bili bile
se si mi ga jo ji mu jih jim ju nam vam
ne ni že še tudi le samo pač naj
to ta te tega temu tem ti tisto tisti
""".split())

#: Characters kept by the light stem; tuned on the development halves (see benchmarks/).
STEM_LENGTH = 5


def analyzer(stopwords: bool = True, morphology: bool = True) -> Analyzer:
    """Lemmas, folded; ``stopwords``/``morphology`` False leave out the stop list / lemmas.

    >>> [t.text for t in analyzer()("Policija je varovala mejo in Šaranovića")]
    ['policija', 'varovati', 'meja', 'saranovic']
    >>> [t.text for t in analyzer(stopwords=False, morphology=False)("Policija je varovala")]
    ['policija', 'je', 'varovala']
    """
    chain = UnicodeWordTokenizer() | LowercaseFilter()
    if stopwords:
        chain = chain | StopFilter(stoplist=STOP_WORDS, minsize=1)
    if morphology:
        chain = chain | LemmaFilter("sl")
    return chain | FoldFilter()


def stem_analyzer(stopwords: bool = True, morphology: bool = True) -> Analyzer:
    """Folded words cut to ``STEM_LENGTH``; ``stopwords``/``morphology`` False as above.

    >>> [t.text for t in stem_analyzer()("Saranovicu in sodelovanja")]
    ['saran', 'sodel']
    >>> [t.text for t in stem_analyzer(morphology=False)("Saranovicu in sodelovanja")]
    ['saranovicu', 'sodelovanja']
    """
    chain = UnicodeWordTokenizer() | LowercaseFilter() | FoldFilter()
    if stopwords:
        chain = chain | StopFilter(stoplist=frozenset(map(fold, STOP_WORDS)), minsize=1)
    if morphology:
        chain = chain | TruncateFilter(STEM_LENGTH)
    return chain


LANGUAGE = Language(
    code="sl",
    name="Slovenščina",
    paths=(AnalysisPath("", analyzer, 1.0), AnalysisPath("stem", stem_analyzer, 1.0)),
    stop_words=STOP_WORDS,
)
