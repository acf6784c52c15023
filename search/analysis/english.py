"""English: Unicode words, lowercase, diacritics folded, stop words, Snowball (Porter2) stems."""

from __future__ import annotations

from collections.abc import Callable

from whoosh.analysis import Analyzer, LowercaseFilter, StopFilter

from search.analysis import AnalysisPath, Language
from search.analysis.filters import FoldFilter, SnowballFilter, UnicodeWordTokenizer, fold

#: A classic short English stop list (function words only).
STOP_WORDS = frozenset("""
a an and are as at be but by for from had has have he her his i if in into is it its
of on or our she so such than that the their them then there these they this to was
were which will with would we you your
""".split())


def analyzer(stopwords: bool = True, morphology: bool = True) -> Analyzer:
    """The English analyser; ``stopwords``/``morphology`` False leave out the stop list / stems.

    >>> [t.text for t in analyzer()("The crossings of Šaranović's borders")]
    ['cross', 'saranov', 'border']
    >>> [t.text for t in analyzer(stopwords=False, morphology=False)("The crossings")]
    ['the', 'crossings']
    """
    chain = UnicodeWordTokenizer() | LowercaseFilter() | FoldFilter()
    if stopwords:
        chain = chain | StopFilter(stoplist=STOP_WORDS, minsize=1)
    if morphology:
        chain = chain | SnowballFilter("english")
    return chain


def base_form() -> Callable[[str], str]:
    """What translation looks English words up by: their Snowball stem, folded.

    >>> base_form()("Crossings")
    'cross'
    """
    stemmer = SnowballFilter("english")
    return lambda word: stemmer.base_form(fold(word.lower()))


LANGUAGE = Language(
    code="en",
    name="English",
    paths=(AnalysisPath("", analyzer, 1.0),),
    stop_words=STOP_WORDS,
    display_names={"sl": "angleščina", "en": "English"},
    make_base_form=base_form,
)
