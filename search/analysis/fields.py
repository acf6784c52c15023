"""Names of the index's per-language fields, made and read in one place.

Each language contributes a title and a body field per analysis path and one field of
surface words for the spelling corrector: ``title_sl``, ``body_sl_stem``, ``spell_en``. The
rest of the engine builds these names with :class:`FieldName` and reads them back with
:meth:`FieldName.parse`, never by formatting or splitting strings itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

#: The kinds of analysed text field every language and path has: its title and its body.
TEXT_KINDS: tuple[str, ...] = ("title", "body")
#: The kind of a language's field of surface words (see :mod:`search.spelling`).
SPELL = "spell"
_KINDS = frozenset((*TEXT_KINDS, SPELL))


@dataclass(frozen=True)
class FieldName:
    """One per-language field: its kind (``title``, ``body``, ``spell``), language code and
    analysis path (``""`` for a language's main path).

    >>> FieldName("body", "sl", "stem").name
    'body_sl_stem'
    >>> FieldName.parse("title_en")
    FieldName(kind='title', lang='en', path='')
    >>> FieldName.parse("lang") is None, FieldName.parse("spell") is None
    (True, True)
    """

    kind: str
    lang: str
    path: str = ""

    @property
    def name(self) -> str:
        """The field's name in the Whoosh schema."""
        return _name(self.kind, self.lang, self.path)

    def __str__(self) -> str:
        return self.name

    @property
    def is_text(self) -> bool:
        """A title or body field (analysed, scored), not a spelling field."""
        return self.kind in TEXT_KINDS

    def as_kind(self, kind: str) -> FieldName:
        """The same language and path's field of another kind (``title_sl`` -> ``body_sl``)."""
        return replace(self, kind=kind)

    @staticmethod
    def parse(name: str) -> FieldName | None:
        """The :class:`FieldName` a schema field name stands for; None for the fields that
        belong to no language (``id``, ``lang``, ``spell`` of engine format 1...)."""
        return _parse(name)


@lru_cache(maxsize=4096)
def _name(kind: str, lang: str, path: str) -> str:
    return f"{kind}_{lang}_{path}" if path else f"{kind}_{lang}"


@lru_cache(maxsize=4096)
def _parse(name: str) -> FieldName | None:
    # The one place a field name is taken apart (cached: ranking asks for every term).
    parts = name.split("_", 2)
    if len(parts) < 2 or parts[0] not in _KINDS or not parts[1]:
        return None
    if parts[0] == SPELL and len(parts) > 2:
        return None
    return FieldName(parts[0], parts[1], parts[2] if len(parts) > 2 else "")


def is_spelling_field(name: str) -> bool:
    """A field of surface words: a language's (``spell_sl``), or the single ``spell`` field of
    indexes of engine format 1.

    >>> [is_spelling_field(n) for n in ("spell_sl", "spell", "body_sl", "lang")]
    [True, True, False, False]
    """
    parsed = FieldName.parse(name)
    return name == SPELL or (parsed is not None and parsed.kind == SPELL)


def text_field_names(lang: str, paths: tuple[str, ...]) -> list[FieldName]:
    """The title and body fields of each of ``paths`` of language ``lang``, in schema order
    (each path's title, then its body)."""
    return [FieldName(kind, lang, path) for path in paths for kind in TEXT_KINDS]
