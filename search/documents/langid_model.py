"""py3langid's identifier, opened in milliseconds instead of 0.6 s.

py3langid ships its model LZMA-compressed, so every process that identifies a language spends
about 0.6 s unpacking it first: every indexing run, even one that re-reads a single changed
file. Here the model, restricted to the languages asked for, is kept uncompressed in the user's
cache folder (see :mod:`search.cache`) and memory-mapped; a new process walks the automaton
straight from the mapped file and builds the identifier from it.
Classification is py3langid's own, unchanged (tests/test_documents.py checks that both give the
same answers).

Without a usable cache folder py3langid's model is loaded the stock way.
"""

from __future__ import annotations

import hashlib
from array import array
from importlib.metadata import PackageNotFoundError, version

import numpy as np
from py3langid import langid

from search.cache import cache_dir, file_signature, read_arrays, write_arrays

#: Bump when what is cached, or how, changes.
MODEL_CACHE_FORMAT = 1
_ARRAYS = ("ptc", "pc", "classes", "nextmove", "row", "output")


def stock_identifier(languages: tuple[str, ...]) -> langid.LanguageIdentifier:
    """py3langid's own identifier restricted to ``languages`` (probabilities normalised)."""
    ident = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE, norm_probs=True)
    ident.set_languages(list(languages))
    return ident


def _model_arrays(ident: langid.LanguageIdentifier) -> dict[str, np.ndarray]:
    return {
        "ptc": np.asarray(ident.nb_ptc), "pc": np.asarray(ident.nb_pc),
        "classes": np.array(ident.nb_classes),
        "nextmove": np.frombuffer(ident.tk_nextmove, dtype=np.uint32),
        "row": np.asarray(ident.tk_row, dtype=np.int64),
        "output": np.asarray(ident.tk_output, dtype=np.int64),
    }


def _from_arrays(arrays: dict[str, np.ndarray]) -> langid.LanguageIdentifier:
    # The automaton (40 MB) is walked straight from the memory-mapped file: a memoryview
    # indexes as fast as the array py3langid builds, and copying it took 0.07 s.
    nextmove = memoryview(np.ascontiguousarray(arrays["nextmove"])).cast("B").cast("I")
    return langid.LanguageIdentifier(
        np.array(arrays["ptc"]), np.array(arrays["pc"]), arrays["classes"].tolist(),
        nextmove, arrays["output"].tolist(), norm_probs=True,
        tk_row=arrays["row"].tolist())


def identifier(languages: tuple[str, ...]) -> langid.LanguageIdentifier:
    """py3langid's identifier restricted to ``languages``: from the cache (made on first use)
    when there is a cache folder, else loaded from py3langid's compressed model."""
    folder = cache_dir()
    if folder is None or array("I").itemsize != 4:
        return stock_identifier(languages)
    model = langid.MODEL_DIR / langid.MODEL_FILE
    try:
        installed = version("py3langid")
    except PackageNotFoundError:
        installed = "?"
    key = ("langid", MODEL_CACHE_FORMAT, installed, file_signature(model), languages)
    place = folder / f"langid-{hashlib.sha256(repr(key).encode()).hexdigest()[:16]}"
    arrays = read_arrays(place, key, _ARRAYS)
    if arrays is None:
        ident = stock_identifier(languages)
        write_arrays(place, key, _model_arrays(ident))
        return ident
    return _from_arrays(arrays)
