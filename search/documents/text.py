"""Bytes to clean text: decoding (UTF-8, BOMs, the cp1250 fallback) and whitespace cleaning.

Everything the engine indexes passes through :func:`clean_text`, so that the analysers, the
snippets and the content hash all see one canonical form of a text.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

#: At most this many characters of text are kept per document. A 50 MB log file would otherwise
#: cost hundreds of MB while parsing and analysing; the start of a document is what search needs.
MAX_TEXT_CHARS = 5_000_000
#: At most this many bytes are read from a .txt file. UTF-8 needs at least one byte per
#: character, so this never yields fewer than ``MAX_TEXT_CHARS`` characters when there are more.
MAX_TEXT_BYTES = MAX_TEXT_CHARS
#: How much of a file is looked at to decide whether it is binary.
SNIFF_BYTES = 8192


class ReadError(Exception):
    """A source cannot be turned into text; the message is the user-facing reason."""


@dataclass(frozen=True)
class Decoded:
    """Text decoded from bytes, and how."""

    text: str
    encoding: str
    note: str | None = None  #: a caveat worth reporting (e.g. damaged bytes replaced)


_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Non-ASCII characters that ordinary cp1250 text (Slovenian, Croatian, Czech, ...) is made of,
# besides letters: typographic quotes and dashes, ellipsis, bullet, euro, degree, section, nbsp.
_TEXT_SYMBOLS = frozenset("„“”‚‘’–—…•€°§«»·\xa0×±©®™")
# Well-formed multi-byte UTF-8 sequences (used to tell damaged UTF-8 from another encoding).
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")

# (``\r\n?|[\x0b\x0c\x85\u2028\u2029]``, written to start with a character class: the regex
# engine then skips ahead to candidates instead of trying every position, 2x faster.)
_NEWLINES = re.compile(r"[\r\x0b\x0c\x85\u2028\u2029](?:(?<=\r)\n)?")
# Control characters other than \n and \t, invisible format characters that split words
# (soft hyphen, zero-width space, word joiner, stray BOM), and lone surrogates.
_JUNK = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\xad\u200b\u2060\ufeff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Runs of whitespace other than newline (tabs, nbsp...) that are not already a single space:
# the same result as replacing every run of ``[^\S\n]+``, without rewriting each plain space.
_SPACES = re.compile(r" [^\S\n]+|[^\S\n ][^\S\n]*")
# A space beside a newline (after _SPACES there is at most one on each side).
_SPACE_AROUND_NEWLINE = re.compile(r" \n ?|\n ")
_BLANK_LINES = re.compile(r"\n{3,}")


def is_binary(data: bytes) -> bool:
    """NUL bytes mean binary data (UTF-16 text is recognised by its BOM before this check)."""
    return b"\0" in data


def _utf8_error_offset(data: bytes) -> int:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start
    return -1


def looks_like_cp1250_text(text: str) -> bool:
    """True when a cp1250 decoding reads as Latin-script text: its non-ASCII characters are
    letters or common punctuation, not control characters or a scatter of symbols, and they
    are a minority of the letters (Slovenian has ~4 %, Czech ~15 %; Cyrillic in another 8-bit
    encoding, or binary data, would be nearly all non-ASCII)."""
    odd = 0
    high = 0
    letters = 0
    for ch in text:
        if ch < "\x80":
            if ch < " " and ch not in "\t\n\r\x0c":
                return False
            letters += ch.isalpha()
            continue
        high += 1
        if ch.isalpha():
            letters += 1
        elif ch not in _TEXT_SYMBOLS:
            odd += 1
    return high == 0 or (odd <= max(1, high // 20) and high <= 0.3 * letters)


def decode_bytes(data: bytes, declared: str | None = None) -> Decoded:
    """Decode a text file: BOM, else ``declared`` encoding, else UTF-8, else cp1250 when that
    reads as text. Raises :class:`ReadError` for binary data or bytes in no usable encoding."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return Decoded(data[len(bom):].decode(encoding, errors="replace"), encoding)
    if is_binary(data[:SNIFF_BYTES]) or is_binary(data):
        raise ReadError("binary file (NUL bytes)")
    if declared:
        try:
            return Decoded(data.decode(declared), declared)
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong declaration is common; sniff instead
    bad = _utf8_error_offset(data)
    if bad < 0:
        return Decoded(data.decode("utf-8"), "utf-8")
    # Damaged UTF-8 (a few broken bytes among many good multi-byte sequences) is still UTF-8.
    good = len(_UTF8_MULTIBYTE.findall(data))
    high = len(_HIGH_BYTE.findall(data))
    broken = high - sum(len(m) for m in _UTF8_MULTIBYTE.findall(data))
    if good and good >= broken:
        return Decoded(data.decode("utf-8", errors="replace"), "utf-8",
                       note=f"not valid UTF-8 at byte {bad}; {broken} bad "
                            f"byte{'' if broken == 1 else 's'} replaced")
    try:
        text = data.decode("cp1250")
    except UnicodeDecodeError:
        text = None
    if text is not None and looks_like_cp1250_text(text):
        return Decoded(text, "cp1250")
    raise ReadError(f"not valid UTF-8 at byte {bad}")


def trim_partial_utf8(data: bytes) -> bytes:
    """Drop a multi-byte character cut in half at the end of a truncated read."""
    for cut in range(1, 4):
        if len(data) < cut:
            break
        b = data[-cut]
        if b < 0x80:
            break
        if b >= 0xC0:  # a lead byte: keep it only if its whole sequence is there
            need = 2 if b < 0xE0 else 3 if b < 0xF0 else 4
            return data if need <= cut else data[:-cut]
    return data


def drop_partial_word(text: str) -> str:
    """``text`` without the word a truncated read cut in half (if a boundary is near)."""
    cut = max(text.rfind(" ", len(text) - 1000), text.rfind("\n", len(text) - 1000))
    return text[:cut] if cut > 0 else text


def clean_text(text: str) -> str:
    """Canonical text: NFC, ``\\n`` newlines, no control characters, single spaces, lines
    stripped, at most one blank line between paragraphs."""
    if not text:
        return ""
    # (The checks before some steps only skip work that would change nothing.)
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
        text = _SURROGATE.sub("\ufffd", text)
    text = _NEWLINES.sub("\n", text)
    text = _JUNK.sub("", text)
    text = _SPACES.sub(" ", text)
    if " \n" in text or "\n " in text:
        text = _SPACE_AROUND_NEWLINE.sub("\n", text)
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def truncate_text(text: str, limit: int = MAX_TEXT_CHARS) -> tuple[str, bool]:
    """``text`` cut to at most ``limit`` characters at a whitespace boundary; and whether it was."""
    if len(text) <= limit:
        return text, False
    cut = text.rfind(" ", limit - 1000, limit)
    cut = max(cut, text.rfind("\n", limit - 1000, limit))
    return text[: cut if cut > 0 else limit].rstrip(), True
