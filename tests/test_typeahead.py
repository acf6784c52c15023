"""Search as you type in a real browser (Playwright driving Debian's Chromium): completions
as an ARIA combobox, results replaced in place, the address and the back button in step."""

from __future__ import annotations

import re

import pytest
import test_browser as shared

# The real-browser fixtures (Debian's Chromium; skipped with a message where it is missing).
pytestmark = shared.pytestmark
browser = shared.browser
make_page = shared.make_page
expect = shared.expect
ARTIFACTS = shared.ARTIFACTS


def open_list(page, typed: str) -> None:
    page.locator("#q").fill("")
    page.locator("#q").press_sequentially(typed, delay=30)
    expect(page.locator("#q-listbox")).to_be_visible()
    expect(page.locator("#q")).to_have_attribute("aria-expanded", "true")


def test_typing_shows_completions_as_a_combobox(make_page) -> None:
    page = make_page()
    page.goto("/")
    box = page.locator("#q")
    expect(box).to_have_attribute("role", "combobox")
    expect(box).to_have_attribute("aria-controls", "q-listbox")
    expect(box).to_have_attribute("aria-expanded", "false")
    open_list(page, "quo")
    options = page.locator("#q-listbox [role=option]")
    expect(options.first).to_contain_text("quokka")
    assert 1 <= options.count() <= 8
    assert page.locator("#q-listbox").get_attribute("aria-label") == "Search suggestions"
    status = page.locator("form [role=status]")
    n = options.count()
    expect(status).to_have_text(f"{n} suggestion" + ("" if n == 1 else "s"))


def test_arrow_keys_and_enter_choose_a_completion(make_page) -> None:
    page = make_page()
    page.goto("/")
    open_list(page, "quo")
    box = page.locator("#q")
    first = page.locator("#q-listbox [role=option]").first
    box.press("ArrowDown")
    expect(first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    count = page.locator("#q-listbox [role=option]").count()
    if count > 1:  # down again, then up again: back on the first
        box.press("ArrowDown")
        expect(first).to_have_attribute("aria-selected", "false")
        box.press("ArrowUp")
        expect(first).to_have_attribute("aria-selected", "true")
    box.press("ArrowUp")  # up from the first wraps to the last
    expect(page.locator("#q-listbox [role=option]").last).to_have_attribute(
        "aria-selected", "true")
    box.press("ArrowDown")  # and down from the last to the first
    chosen = first.inner_text().split("\n")[0].strip()
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=" + re.escape(chosen)))
    expect(page.locator("#result-count")).to_contain_text("results")


def test_escape_closes_then_clears(make_page) -> None:
    page = make_page()
    page.goto("/")
    open_list(page, "quo")
    box = page.locator("#q")
    box.press("Escape")
    expect(page.locator("#q-listbox")).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    assert box.input_value() == "quo"
    box.press("Escape")
    assert box.input_value() == ""


def test_results_replace_in_place_and_back_returns(make_page) -> None:
    page = make_page()
    page.goto("/search?q=Karavanke")
    expect(page.locator("#result-count")).to_contain_text("2 results")
    page.evaluate("window.__notReloaded = true")
    box = page.locator("#q")
    box.fill("")
    # A half-typed word is not searched (it would flash "no results" at every key)...
    box.press_sequentially("quo", delay=40)
    expect(page.locator("#q-listbox")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert "q=Karavanke" in page.url
    expect(page.locator("#result-count")).to_contain_text("2 results")
    # ...a whole one is, in place.
    box.press_sequentially("kka", delay=40)
    page.wait_for_url(re.compile(r"/search\?q=quokka"))
    expect(page.locator("#result-count")).to_contain_text("24 results")
    expect(page.locator("h1")).to_contain_text("quokka")
    assert page.evaluate("window.__notReloaded") is True  # replaced in place, no reload
    assert "quokka" in page.title()
    box.press("Enter")  # commits the typed query: no new history entry for the same query
    page.go_back()
    page.wait_for_url(re.compile(r"/search\?q=Karavanke"))
    expect(page.locator("#result-count")).to_contain_text("2 results")
    assert box.input_value() == "Karavanke"
    assert page.evaluate("window.__notReloaded") is True
    page.go_forward()
    page.wait_for_url(re.compile(r"/search\?q=quokka"))
    expect(page.locator("#result-count")).to_contain_text("24 results")


def test_choosing_a_completion_on_the_results_page_searches_it(make_page) -> None:
    page = make_page()
    page.goto("/search?q=Karavanke&lang=en")
    open_list(page, "quo")
    assert all(lang == "en" for lang in page.eval_on_selector_all(
        "#q-listbox [role=option]", "els => els.map(e => e.lang)"))  # the filter holds
    page.locator("#q-listbox [role=option]").first.click()
    page.wait_for_url(re.compile(r"q=quokka"))
    assert "lang=en" in page.url
    expect(page.locator("#result-count")).to_contain_text("12 results")


@pytest.mark.parametrize(("ui", "label", "one", "two"), [
    ("sl", "Predlogi iskanja", "predlog", "predloga"),
    ("en", "Search suggestions", "suggestion", "suggestions")])
def test_completions_in_both_ui_languages(make_page, ui: str, label: str, one: str,
                                          two: str) -> None:
    page = make_page(locale="sl-SI" if ui == "sl" else "en-GB")
    page.goto("/")
    open_list(page, "kvok" if ui == "sl" else "quo")
    expect(page.locator("#q-listbox")).to_have_attribute("aria-label", label)
    n = page.locator("#q-listbox [role=option]").count()
    expect(page.locator("form [role=status]")).to_contain_text(one if n == 1 else
                                                                (two if n == 2 else ""))


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("ui", ["sl", "en"])
def test_screenshots_of_search_as_you_type(make_page, scheme: str, ui: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = make_page(locale="sl-SI" if ui == "sl" else "en-GB", color_scheme=scheme)
    page.goto("/search?q=Karavanke")
    open_list(page, "quo")
    page.locator("#q").press("ArrowDown")
    # The highlighted option stays readable: its colours are the accent pair.
    colours = page.eval_on_selector("[role=option][aria-selected=true]",
                                    "e => [getComputedStyle(e).color, "
                                    "getComputedStyle(e).backgroundColor]")
    assert colours[0] != colours[1]
    page.screenshot(path=str(ARTIFACTS / f"typeahead-{ui}-{scheme}.png"))
