"""Real-browser tests: Playwright drives Debian's Chromium against the real waitress server.

Run with ``pytest -m browser``. Screenshots go to ``test-artifacts/`` (git-ignored) so a
person can look at what the pages really look like, on a desktop, a phone and in dark mode.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic", "--disable-dev-shm-usage"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="no /usr/bin/chromium (apt-get install chromium) to drive"),
]

playwright_api = pytest.importorskip("playwright.sync_api",
                                     reason="the playwright package is not installed")
expect = playwright_api.expect


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class PageProblems:
    """Everything a page must never do: open a dialog, break the CSP, or log errors."""

    def __init__(self) -> None:
        self.dialogs: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []

    def attach(self, page, allow_http_errors: bool = False) -> None:
        def on_dialog(dialog) -> None:
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))

        def on_console(msg) -> None:
            if msg.type != "error":
                return
            if allow_http_errors and msg.text.startswith("Failed to load resource"):
                return  # the page under test is an error page on purpose
            self.console_errors.append(msg.text)

        page.on("console", on_console)

    def assert_clean(self) -> None:
        assert not self.dialogs, f"a script ran and opened a dialog: {self.dialogs}"
        assert not self.page_errors, self.page_errors
        assert not self.console_errors, self.console_errors


@pytest.fixture()
def make_page(browser, web_server: str):
    """New isolated browser contexts (own cookies); the page's problems are checked after."""
    contexts = []
    problems = PageProblems()

    def make(allow_http_errors: bool = False, **options):
        options.setdefault("locale", "en-GB")
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(base_url=web_server, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        problems.attach(page, allow_http_errors)
        return page

    yield make
    for context in contexts:
        context.close()
    problems.assert_clean()


def result_langs(page) -> set[str]:
    return set(page.eval_on_selector_all("ol.hits > li", "els => els.map(e => e.lang)"))


def test_search_from_home_with_keyboard(make_page) -> None:
    page = make_page()
    page.goto("/")
    assert page.evaluate("document.activeElement.id") == "q"  # autofocus
    expect(page.locator("label[for=q]")).to_be_visible()
    expect(page.locator(".slash-hint")).to_be_visible()  # the JS un-hid it
    # "/" from anywhere else on the page jumps back into the search box.
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("quokka")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=quokka"))
    expect(page.locator("#result-count")).to_contain_text("24 results")
    assert page.locator(".hit-snippet mark").count() >= 10
    assert page.locator(".hit-snippet mark").first.inner_text().lower() == "quokka"


def test_filter_by_language_and_page(make_page) -> None:
    page = make_page()
    page.goto("/search?q=quokka")
    page.get_by_role("link", name=re.compile(r"^Slovenian \(12\)")).click()
    expect(page.locator("#result-count")).to_contain_text("12 results")
    assert result_langs(page) == {"sl"}
    facet = page.locator("section[aria-labelledby=facet-lang] [aria-current]")
    expect(facet).to_contain_text("Slovenian")
    page.get_by_role("link", name=re.compile("Next")).click()
    page.wait_for_url(re.compile(r"page=2"))
    assert page.locator("ol.hits").get_attribute("start") == "11"
    assert page.locator("ol.hits > li").count() == 2
    assert result_langs(page) == {"sl"}
    page.get_by_role("link", name=re.compile("Previous")).click()
    expect(page.locator("ol.hits > li")).to_have_count(10)


def test_switch_ui_language_is_remembered(make_page) -> None:
    page = make_page()
    page.goto("/search?q=quokka&lang=sl&year=2021")
    expect(page.locator("#result-count")).to_contain_text("4 results")
    page.get_by_role("link", name="Slovenščina").click()
    expect(page.locator("html")).to_have_attribute("lang", "sl")
    expect(page.locator("#result-count")).to_contain_text("4 rezultati")
    assert "q=quokka" in page.url and "year=2021" in page.url
    page.goto("/")  # no ?ui= any more: the cookie keeps Slovenian
    expect(page.locator("html")).to_have_attribute("lang", "sl")
    expect(page.locator("label[for=q]")).to_have_text("Iskalni niz")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_accept_language_picks_slovenian(make_page) -> None:
    page = make_page(locale="sl-SI")
    page.goto("/search?q=Karavanke")
    expect(page.locator("html")).to_have_attribute("lang", "sl")
    expect(page.locator("#result-count")).to_contain_text("2 rezultata")


def test_open_document_and_follow_translation(make_page) -> None:
    page = make_page()
    page.goto("/search?q=Karavanke&lang=en")
    page.locator("ol.hits h3 a").first.click()
    page.wait_for_url(re.compile(r"/doc/pair/en/karavanke-tunnel"))
    expect(page.locator("article")).to_have_attribute("lang", "en")
    assert page.locator("article mark").count() >= 1
    page.get_by_role("link", name=re.compile("This document in Slovenian")).click()
    page.wait_for_url(re.compile(r"/doc/pair/sl/karavanke-tunnel"))
    expect(page.locator("article")).to_have_attribute("lang", "sl")
    expect(page.locator("article h1")).to_contain_text("Predor Karavanke")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "document.png"), full_page=True)


@pytest.mark.parametrize(("locale", "shown", "other", "also"), [
    ("en-GB", "en", "sl", "Also in Slovenian"), ("sl-SI", "sl", "en", "Tudi v angleščini")])
def test_a_pair_is_one_result_linking_the_other_version(make_page, locale: str, shown: str,
                                                        other: str, also: str) -> None:
    page = make_page(locale=locale)
    page.goto("/search?q=Karavanke")
    hits = page.locator("ol.hits > li")
    expect(hits).to_have_count(1)  # the two versions are one result, in the UI language
    expect(hits.first).to_have_attribute("lang", shown)
    link = hits.first.get_by_role("link", name=re.compile(f"^{also}: "))
    expect(link).to_be_visible()
    link.click()
    page.wait_for_url(re.compile(f"/doc/pair/{other}/karavanke-tunnel"))
    expect(page.locator("article")).to_have_attribute("lang", other)
    assert page.locator("article mark").count() >= 1  # the query still highlighted


def test_hostile_markup_stays_inert(make_page) -> None:
    page = make_page()
    page.goto("/")
    title = page.title()
    hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    page.fill("#q", hostile)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    expect(page.locator("h1")).to_contain_text("<script>alert(1)</script>")
    assert page.locator("#q").input_value() == hostile
    assert page.locator("main img, main script").count() == 0
    # A document whose text and title hold markup: shown as text, never run.
    page.goto("/search?q=zanzibar")
    expect(page.locator("ol.hits h3 a")).to_contain_text("<script>alert(1)</script>")
    page.locator("ol.hits h3 a").first.click()
    page.wait_for_url(re.compile(r"/doc/xss/evil\.txt"))
    expect(page.locator(".doc-body")).to_contain_text("<img src=x onerror=alert(1)>")
    assert page.locator("main img, main script, [onerror]").count() == 0
    assert page.title() != "pwned" and "pwned" not in page.title()
    # A stored javascript: source URL is not a link.
    page.goto("/doc/odd/javascript-url")
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.locator("main svg").count() == 0
    assert title  # the home page had a real title


def test_works_without_javascript(make_page) -> None:
    page = make_page(java_script_enabled=False)
    page.goto("/")
    page.fill("#q", "quokka")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/search\?q=quokka"))
    expect(page.locator("#result-count")).to_contain_text("24 results")
    page.get_by_role("link", name=re.compile(r"^English \(12\)")).click()
    assert result_langs(page) == {"en"}
    page.get_by_role("link", name="newest first").click()
    dates = page.eval_on_selector_all("ol.hits time", "els => els.map(e => e.dateTime)")
    assert dates == sorted(dates, reverse=True)


def test_keyboard_focus_order_and_visible_focus(make_page) -> None:
    page = make_page()
    page.goto("/search?q=quokka")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").bounding_box()["y"] >= 0  # slides into view
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def test_phone_and_dark_mode_screenshots(make_page) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    desktop = make_page()
    desktop.goto("/search?q=" + quote("police cooperation"))
    expect(desktop.locator(".hit-snippet mark").first).to_be_visible()
    desktop.screenshot(path=str(ARTIFACTS / "results.png"), full_page=True)

    phone = make_page(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                      is_mobile=True, has_touch=True)
    phone.goto("/search?q=" + quote("police cooperation"))
    expect(phone.locator("#result-count")).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    phone.screenshot(path=str(ARTIFACTS / "results-phone.png"), full_page=False)

    dark = make_page(color_scheme="dark")
    dark.goto("/search?q=" + quote("police cooperation"))
    background = dark.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(18, 20, 23)", background
    dark.screenshot(path=str(ARTIFACTS / "results-dark.png"), full_page=False)

    home = make_page(locale="sl-SI")
    home.goto("/")
    home.screenshot(path=str(ARTIFACTS / "home-sl.png"))
    error = make_page(allow_http_errors=True)
    error.goto("/nowhere")
    error.screenshot(path=str(ARTIFACTS / "not-found.png"))


# -- accessibility: axe-core on the main pages, both colour schemes and widths ---------------

#: The rules of WCAG 2.0 and 2.1, levels A and AA, as axe-core tags them; plus the order of
#: headings (a best practice in axe, kept because a skipped level confuses screen readers).
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a",
                                                     "wcag21aa", "best-practice"]},
               "resultTypes": ["violations"]}
AXE_BEST_PRACTICES = {"heading-order", "landmark-unique", "page-has-heading-one",
                      "landmark-one-main", "region"}
#: (path, is an error page): home, results (facets, paging), no results with a suggestion,
#: a document with highlights, and an error page.
AXE_PAGES = [("/", False), ("/search?q=quokka", False), ("/search?q=mongose", False),
             ("/doc/pair/en/karavanke-tunnel?q=tunnel", False), ("/nowhere", True)]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def axe_violations(page) -> list[str]:
    """WCAG 2.1 A/AA (and the chosen best-practice) violations axe-core finds on ``page``."""
    from axe_playwright_python.base import AXE_SCRIPT

    page.evaluate(AXE_SCRIPT)
    found = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} at "
            + "; ".join(" ".join(n["target"]) for n in v["nodes"][:3])
            for v in found
            if "best-practice" not in v["tags"] or v["id"] in AXE_BEST_PRACTICES]


@pytest.mark.parametrize("scheme, width, locale", [
    ("light", "desktop", "en-GB"), ("light", "phone", "sl-SI"),
    ("dark", "desktop", "sl-SI"), ("dark", "phone", "en-GB")])
def test_axe_finds_no_wcag_violation(make_page, scheme: str, width: str, locale: str) -> None:
    problems = {}
    for path, is_error in AXE_PAGES:
        page = make_page(allow_http_errors=is_error, color_scheme=scheme, locale=locale,
                         **(PHONE if width == "phone" else DESKTOP))
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", locale[:2])
        if found := axe_violations(page):
            problems[path] = found
        page.context.close()
    assert not problems, problems


def _rgb(css: str) -> tuple[float, ...]:
    return tuple(float(x) for x in re.findall(r"[\d.]+", css)[:3])


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two CSS rgb() colours."""
    def luminance(rgb: tuple[float, ...]) -> float:
        c = [x / 255 for x in rgb]
        c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    la, lb = sorted((luminance(_rgb(a)), luminance(_rgb(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_search_box_placeholder_and_border_contrast(make_page, scheme: str) -> None:
    """axe does not measure placeholders or outlines of controls: measured here. The
    placeholder is text (4.5:1, WCAG 1.4.3), the box's border a control's edge (3:1, 1.4.11)
    against the page around it."""
    for path in ("/", "/search?q=quokka"):
        page = make_page(color_scheme=scheme)
        page.goto(path)
        colours = page.evaluate("""() => {
            const box = document.getElementById('q');
            const around = getComputedStyle(box.closest('header') || document.body);
            return {placeholder: getComputedStyle(box, '::placeholder').color,
                    field: getComputedStyle(box).backgroundColor,
                    border: getComputedStyle(box).borderTopColor,
                    page: around.backgroundColor};
        }""")
        assert contrast(colours["placeholder"], colours["field"]) >= 4.5, (path, colours)
        assert contrast(colours["border"], colours["page"]) >= 3.0, (path, colours)
        assert contrast(colours["border"], colours["field"]) >= 3.0, (path, colours)
        page.context.close()


def test_heading_levels_never_skip_at_phone_width(make_page) -> None:
    page = make_page(**PHONE)
    page.goto("/search?q=quokka")
    levels = page.eval_on_selector_all(
        "h1, h2, h3, h4, h5, h6", "els => els.map(e => Number(e.tagName[1]))")
    assert levels[0] == 1
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False)), levels
    # The "Filters" heading is out of sight on a phone, yet still a heading to assistive tech.
    assert page.get_by_role("heading", name="Filters", level=2).count() == 1
