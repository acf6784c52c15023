"""Slovenian: lemmas from lemmagen3, plus a diacritic-free light-stem path.

Snowball has no Slovenian stemmer. lemmagen3 conflates inflected forms well (F1 0.959 against
gold lemmas) but fails on words typed without diacritics, so a second path indexes folded,
truncated words; queries search both and lemma matches weigh more.
"""

from __future__ import annotations

from collections.abc import Callable

from whoosh.analysis import Analyzer, LowercaseFilter, StopFilter

from search.analysis import AnalysisPath, Language, TranslationRules
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


def base_form() -> Callable[[str], str]:
    """What translation looks Slovenian words up by: lemmagen3's lemma of a lowercased word.

    >>> base_form()("mejo")
    'meja'
    """
    return LemmaFilter("sl").base_form


#: Slovenian endings and the English endings they correspond to in borrowed words
#: (``funkcija`` -> ``function``, ``grafičen`` -> ``graphical``); applied to folded lemmas.
#: Every matching rule is tried, the plain word too: the index decides which exist.
COGNATE_ENDINGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cija", ("tion",)),
    ("zija", ("sion",)),
    ("sija", ("sion",)),
    ("ija", ("y", "ia", "e")),
    ("ika", ("ic", "ics")),
    ("icen", ("ic", "ical")),
    ("icni", ("ic", "ical")),
    ("ski", ("ic", "ical", "")),
    ("alen", ("al",)),
    ("alni", ("al",)),
    ("iven", ("ive",)),
    ("ivni", ("ive",)),
    ("aren", ("ar", "ary")),
    ("arni", ("ar", "ary")),
    ("ozen", ("ous",)),
    ("en", ("", "e")),
    ("ni", ("",)),
    ("ificirati", ("ify",)),
    ("izirati", ("ize",)),
    ("irati", ("", "e", "ate")),
    ("iranje", ("", "e", "ate")),
    ("irano", ("", "e", "ate")),
    ("iran", ("", "e", "ate")),
    ("enca", ("ence", "ency")),
    ("anca", ("ance", "ancy")),
    ("nost", ("ness", "ity")),
    ("izem", ("ism",)),
    ("ura", ("ure",)),
    ("ela", ("le",)),
    ("el", ("le",)),
    ("a", ("", "e")),
    ("o", ("",)),
    ("e", ("",)),
    ("i", ("",)),
)
#: Slovenian derivations whose base word the dictionary may list instead: verbal nouns
#: (``izbiranje`` -> ``izbirati``, ``nastavitev`` -> ``nastaviti``) and adverbs
#: (``neposredno`` -> ``neposreden``).
DERIVATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("anje", ("ati",)),
    ("enje", ("iti", "eti")),
    ("itev", ("iti",)),
    ("atev", ("ati",)),
    ("no", ("en",)),
    ("sko", ("ski",)),
)
#: Translating into English: FreeDict's Slovenian-English dictionary (GPL-3+), as Debian
#: installs it, whose English glosses say "to take something to sb".
TRANSLATION = TranslationRules(
    target="en", dictionary="/usr/share/dictd/freedict-slv-eng", env="SEARCH_FREEDICT_SLV_ENG",
    package="Debian's dict-freedict-slv-eng",
    gloss_stop_words=frozenset({"to", "the", "a", "an", "of", "something", "someone",
                                "somebody", "sb", "sth", "oneself"}),
    cognate_endings=COGNATE_ENDINGS, derivations=DERIVATIONS)

LANGUAGE = Language(
    code="sl",
    name="Slovenščina",
    paths=(AnalysisPath("", analyzer, 1.0), AnalysisPath("stem", stem_analyzer, 1.0)),
    stop_words=STOP_WORDS,
    display_names={"sl": "slovenščina", "en": "Slovenian"},
    make_base_form=base_form,
    translation=TRANSLATION,
)
