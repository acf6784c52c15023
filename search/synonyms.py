"""Synonyms declared by the site owner, applied at query time (no re-indexing).

Visitors of a ministry's site type ``MNZ`` for *Ministrstvo za notranje zadeve*, ``EU`` for
*Evropska unija*, ``azil`` for *mednarodna zaščita*; no engine can guess those. A synonyms
file says them, one group a line, in the format Solr and Elasticsearch users know::

    # comments and blank lines are ignored
    [sl]                                   # the lines below are Slovenian (also [en])
    mnz, ministrstvo za notranje zadeve    # equivalent: each finds the others
    azil, mednarodna zaščita
    eu => evropska unija                   # one-way: "eu" also finds "evropska unija"

A file's language comes from ``[sl]``/``[en]`` lines, else from its name
(``synonyms.sl.txt``), else a group applies in every language. Entries are matched through
the language's analysis, so inflected forms count (``mednarodne zaščite`` matches
``mednarodna zaščita``), and the other entries of the group are searched as extra, slightly
lower-weighted alternatives (all of a multi-word entry's words in one document) in that
language's fields: their matches are highlighted like the query's own words. A line that is
not a group is reported with its number and skipped; the rest are used.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh import query as wq

from search.analysis import LANGUAGES
from search.analysis.fields import FieldName
from search.analysis.filters import words
from search.errors import SearchError

#: Weight of a synonym's match against a match of the word as typed.
SYNONYM_BOOST = 0.8
#: Longest entry, in words, and most groups a file may declare (bounded work per query).
MAX_ENTRY_WORDS = 8
MAX_GROUPS = 10_000
#: Expansions added to one query, at most.
MAX_EXPANSIONS = 20

_SECTION = re.compile(r"^\[\s*([a-z]{2})\s*\]$")


class SynonymsError(SearchError):
    """A synonyms file that cannot be used at all (missing, unreadable)."""


@dataclass(frozen=True)
class Group:
    lang: str | None  #: None: every language
    sources: tuple[str, ...]  #: entries whose match expands (all of them when equivalent)
    targets: tuple[str, ...]  #: entries searched when a source matches
    line: str  #: where it was declared ("file:line"), for messages


@dataclass(frozen=True)
class Expansion:
    """One synonym rule that fired for a query (the JSON API's explanation shows these)."""

    matched: str  #: the query's words it matched, as typed
    lang: str | None
    expanded: tuple[str, ...]  #: the entries searched as well

    def to_dict(self) -> dict[str, Any]:
        return {"matched": self.matched, "lang": self.lang, "expanded": list(self.expanded)}


@dataclass
class Synonyms:
    """Parsed synonym groups, ready to expand queries of one index's schema."""

    groups: list[Group] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  #: "file:line: reason" of skipped lines

    @classmethod
    def load(cls, paths: str | Path | Iterable[str | Path]) -> Synonyms:
        """Read one or more synonyms files; bad lines go to ``problems``."""
        if isinstance(paths, (str, Path)):
            paths = [paths]
        out = cls()
        for path in paths:
            path = Path(path)
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise SynonymsError(f"Cannot read the synonyms file {path}: "
                                    f"{getattr(exc, 'strerror', None) or exc}") from exc
            out.extend(text.splitlines(), source=str(path), lang=_lang_of_name(path))
        return out

    def extend(self, lines: Iterable[str], source: str = "<synonyms>",
               lang: str | None = None) -> None:
        """Add the groups of ``lines`` (the file format above)."""
        for number, raw in enumerate(lines, 1):
            where = f"{source}:{number}"
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            section = _SECTION.match(line.lower())
            if section:
                code = section.group(1)
                if code not in LANGUAGES:
                    self.problems.append(f"{where}: unknown language [{code}] (known: "
                                         f"{', '.join(LANGUAGES)}); its lines are skipped")
                    lang = "?"
                else:
                    lang = code
                continue
            if lang == "?":
                continue
            if len(self.groups) >= MAX_GROUPS:
                self.problems.append(f"{where}: more than {MAX_GROUPS:,} groups; the rest "
                                     "are skipped")
                break
            group, reason = _parse_line(line, lang, where)
            if group is None:
                self.problems.append(f"{where}: {reason}; skipped")
            else:
                self.groups.append(group)

    def __len__(self) -> int:
        return len(self.groups)

    def expander(self, schema: Any, field_boosts: Mapping[str, float]) -> SynonymExpander:
        """What a searcher applies to its queries (analysis done once, here)."""
        return SynonymExpander(self, schema, field_boosts)


def _lang_of_name(path: Path) -> str | None:
    """``synonyms.sl.txt`` -> "sl"."""
    parts = path.name.lower().split(".")
    return next((p for p in reversed(parts[:-1]) if p in LANGUAGES), None)


def _parse_line(line: str, lang: str | None, where: str) -> tuple[Group | None, str]:
    one_way = "=>" in line
    if one_way:
        left, _, right = line.partition("=>")
        if "=>" in right:
            return None, "more than one '=>'"
        sources, targets = _entries(left), _entries(right)
        if not sources or not targets:
            return None, "a one-way rule needs words on both sides of '=>'"
    else:
        sources = targets = _entries(line)
        if len(sources) < 2:
            return None, "a group needs at least two entries separated by commas"
    for entry in (*sources, *targets):
        if len(words(entry)) > MAX_ENTRY_WORDS:
            return None, f"an entry of more than {MAX_ENTRY_WORDS} words"
        if not words(entry):
            return None, f"the entry {entry!r} has no words"
    return Group(lang, sources, targets, where), ""


def _entries(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(" ".join(e.split()) for e in text.split(",") if e.strip()))


class SynonymExpander:
    """Finds the groups a query matches and builds their extra query clauses."""

    def __init__(self, synonyms: Synonyms, schema: Any, field_boosts: Mapping[str, float]):
        self._schema = schema
        # Each language's fields and boosts, main path and others alike.
        self._fields: dict[str, dict[str, float]] = {
            code: {name: boost for name, boost in field_boosts.items()
                   if FieldName.parse(name).lang == code and name in schema and boost > 0}
            for code in LANGUAGES}
        #: (language, analysis path) -> that path's analyser: an entry matches when the
        #: query's words give its terms in any path (the folded path: typed without
        #: diacritics)
        self._analyzers = {(code, path.name): path.make_analyzer()
                           for code, lang in LANGUAGES.items() for path in lang.paths}
        #: (language, path) -> [(entry's terms in that path, group, entry)]
        self._rules: dict[tuple[str, str], list[tuple[tuple[str, ...], Group, str]]] = {}
        for group in synonyms.groups:
            for code in ([group.lang] if group.lang else list(LANGUAGES)):
                for key in self._analyzers:
                    if key[0] != code:
                        continue
                    for entry in group.sources:
                        terms = self._terms(key, entry)
                        if terms:
                            self._rules.setdefault(key, []).append((terms, group, entry))

    def _terms(self, key: tuple[str, str], text: str) -> tuple[str, ...]:
        return tuple(t.text for t in self._analyzers[key](text, mode="query"))

    def expand(self, query_words: list[str]) -> tuple[list[wq.Query], list[Expansion],
                                                     dict[str, set[tuple[str, bytes]]]]:
        """For the query's plain words: the extra clauses to search, what fired, and for
        each matched word (lowercased) the index terms its synonyms add."""
        clauses: list[wq.Query] = []
        fired: list[Expansion] = []
        added: dict[str, set[tuple[str, bytes]]] = {}
        if not query_words or not self._rules:
            return clauses, fired, added
        done: set[tuple[int, str]] = set()  # (id of group, entry) already expanded
        for key, rules in self._rules.items():
            code = key[0]
            # The query's words as this path analyses them, each term knowing its word.
            seq: list[tuple[str, int]] = []
            for i, word in enumerate(query_words):
                seq.extend((term, i) for term in self._terms(key, word))
            terms = [t for t, _ in seq]
            for entry_terms, group, entry in rules:
                if (id(group), entry) in done:
                    continue
                n = len(entry_terms)
                for start in range(len(terms) - n + 1):
                    if tuple(terms[start:start + n]) != entry_terms:
                        continue
                    span = sorted({seq[k][1] for k in range(start, start + n)})
                    matched = " ".join(query_words[span[0]:span[-1] + 1])
                    targets = tuple(t for t in group.targets if t != entry)
                    new = [t for t in targets
                           if not any(e.lang == group.lang and t in e.expanded for e in fired)]
                    if not new or len(fired) >= MAX_EXPANSIONS:
                        break
                    done.add((id(group), entry))
                    fired.append(Expansion(matched, group.lang, tuple(new)))
                    for target in new:
                        clause, target_terms = self._clause(group.lang or code, target)
                        if clause is not None:
                            clauses.append(clause)
                            for k in span:
                                added.setdefault(query_words[k].lower(), set()).update(
                                    target_terms)
                    break  # one expansion per rule and query
        return clauses, fired, added

    def _clause(self, code: str, entry: str) -> tuple[wq.Query | None,
                                                      set[tuple[str, bytes]]]:
        """``entry`` searched in ``code``'s fields: every word, each through every path."""
        per_word: list[wq.Query] = []
        found: set[tuple[str, bytes]] = set()
        for word in words(entry):
            alts = []
            for name, boost in self._fields.get(code, {}).items():
                for token in self._schema[name].analyzer(word, mode="query"):
                    alts.append(wq.Term(name, token.text, boost=boost * SYNONYM_BOOST))
                    found.add((name, token.text.encode("utf-8")))
            if alts:
                per_word.append(alts[0] if len(alts) == 1 else wq.Or(alts))
        if not per_word:
            return None, found
        return (per_word[0] if len(per_word) == 1 else wq.And(per_word)), found
