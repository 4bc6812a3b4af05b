"""Navigation on a phone (390 px), a tablet (900 px) and a desktop (1280 px), in headless Chromium.

At each width, on a chapter: the chapter list (primary sidebar) and the page contents
(secondary sidebar) open from the button a reader sees and close again (the button, or Escape
and a click beside a sidebar opened over the page); no almost empty header band sits above
the article; the page does not scroll sideways. Screenshots of each state go to
``_build/screenshots/nav-<width>-*.png``.
"""
from __future__ import annotations

import pytest

from site_fixtures import SCREENSHOTS, WAIT_UNTIL_SETTLED, toc_docnames, visit

WIDTHS = {"phone": 390, "tablet": 900, "desktop": 1280}
CHAPTER = toc_docnames()[1]

# a link of the chapter list and a link of the page contents, wherever the theme put them
SIDEBARS = {"primary": "nav.bd-docs-nav a.reference.internal",
            "secondary": "nav.page-toc a.nav-link, #pst-page-toc-nav a.nav-link"}

EMPTY_BANDS = """() => Array.from(document.querySelectorAll('header, .bd-header, .bd-header-article'))
  .filter(el => { const box = el.getBoundingClientRect(); return box.height > 0 && box.width > 0; })
  .filter(el => {
    // what the band offers: links and buttons a reader sees, other than a search box
    const useful = Array.from(el.querySelectorAll('a, button')).filter(b => {
      const box = b.getBoundingClientRect();
      return box.width > 0 && box.height > 0 && !b.classList.contains('search-button-field');
    });
    return useful.length === 0;
  }).map(el => `${el.tagName.toLowerCase()}#${el.id}.${el.className} (${Math.round(el.getBoundingClientRect().height)} px)`)"""


def settle(page):
    page.evaluate(WAIT_UNTIL_SETTLED)


def visible_link(page, sidebar):
    links = page.locator(SIDEBARS[sidebar])
    return any(links.nth(i).is_visible() for i in range(min(links.count(), 3)))


def visible_toggle(page, sidebar):
    buttons = page.locator(f".{sidebar}-toggle")
    for i in range(buttons.count()):
        if buttons.nth(i).is_visible():
            return buttons.nth(i)
    return None


def toggle_problems(page, sidebar, width_name):
    """Open (or close) the sidebar from its visible button, then bring it back."""
    shown = visible_link(page, sidebar)
    button = visible_toggle(page, sidebar)
    if button is None:
        return [] if shown else [f"{sidebar} sidebar hidden and no visible button opens it"]
    button.click()
    settle(page)
    page.screenshot(path=SCREENSHOTS / f"nav-{width_name}-{sidebar}-toggled.png")
    if visible_link(page, sidebar) == shown:
        return [f"the visible {sidebar} toggle did not {'close' if shown else 'open'} the sidebar"]
    if page.locator("dialog[open]").count():  # opened over the page: Escape closes it
        page.keyboard.press("Escape")
    else:
        button.click()
    settle(page)
    if visible_link(page, sidebar) != shown:
        return [f"the {sidebar} sidebar did not go back after a second toggle"]
    return []


@pytest.mark.browser
@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_sidebars_open_and_close_from_the_visible_buttons(width_name, chromium, site_url):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    viewport = {"width": WIDTHS[width_name], "height": 800}
    with visit(chromium, f"{site_url}{CHAPTER}.html", site_url, viewport) as loaded:
        page = loaded.page
        page.screenshot(path=SCREENSHOTS / f"nav-{width_name}.png")
        problems = [f"an almost empty header band: {band}" for band in page.evaluate(EMPTY_BANDS)]
        for sidebar in SIDEBARS:
            problems += toggle_problems(page, sidebar, width_name)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 1:
            problems.append(f"the page scrolls sideways by {overflow} px")
        problems += loaded.problems()
    assert not problems, f"{width_name} ({WIDTHS[width_name]} px):\n  " + "\n  ".join(problems)
