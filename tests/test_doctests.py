"""The examples in the docstrings of ``search`` and ``web``: each one runs and holds.

Every module of both packages is imported and its doctests run, so an example that goes
stale fails here (the searcher's examples, for one, were never run before).
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ("search", "web")


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        root = importlib.import_module(package)
        names.append(package)
        names.extend(info.name for info in pkgutil.walk_packages(root.__path__, f"{package}."))
    return sorted(names)


MODULES = _modules()


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str) -> None:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in finder.find(module, name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_the_examples_are_found() -> None:
    """The test above must see the examples at all: these modules have some."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    with_examples = {name for name in MODULES
                     if any(t.examples for t in finder.find(importlib.import_module(name)))}
    assert with_examples >= {"search.results", "search.translation", "search.analysis",
                             "search.analysis.filters", "search.analysis.english",
                             "search.analysis.slovenian"}
