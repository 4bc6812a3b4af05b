"""Navigation on a phone (390 px), a tablet (900 px) and a desktop (1280 px), in headless Chromium.

At each width, on a chapter: the chapter list (primary sidebar) and the page contents
(secondary sidebar) open from the button a reader sees and close again (the button, or Escape
and a click beside a sidebar opened over the page); no almost empty header band sits above
the article; the page does not scroll sideways. Screenshots of each state go to
``_build/screenshots/nav-<width>-*.png``.

The course_lib reference (book/appendix/api and its pages): on a phone no page scrolls sideways
or grows past a height a reader can scroll, every signature names its module and the contents
list names every module and member (``_build/screenshots/reference-390-*.png``); search lists
the chapters before the reference's entries.
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


# --- the course_lib reference ----------------------------------------------------------------
REFERENCE = [d for d in toc_docnames() if d == "book/appendix/api" or d.startswith("book/appendix/api/")]
# a page taller than this on a phone is one a reader cannot find their way through: split it
REFERENCE_MAX_HEIGHT_PX = 50_000

# The site lays out a reference entry only when it scrolls into view (content-visibility: auto,
# tools/offline_assets.py); every entry is laid out first, so that its real width and height count.
REFERENCE_LAYOUT = """async () => {
  const style = document.createElement('style');
  style.textContent = '* { content-visibility: visible !important; }';
  document.head.appendChild(style);
  await new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  const sigs = Array.from(document.querySelectorAll('article dl.py > dt.sig[id]'))
    .filter(dt => !dt.parentElement.closest('dd'));   // module-level objects, not the methods
  const modules = Array.from(document.querySelectorAll('article section > h2'))
    .map(h => h.textContent.replace(/#$/, '').trim()).filter(t => t.startsWith('course_lib'));
  const toc = document.querySelector('nav.page-toc, #pst-page-toc-nav');
  const links = toc ? Array.from(toc.querySelectorAll('a.nav-link')) : [];
  const targets = new Set(links.map(a => decodeURIComponent(a.hash.slice(1))));
  const titles = links.map(a => a.textContent.trim());
  return {
    height: document.documentElement.scrollHeight,
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    signatures: sigs.length,
    without_module: sigs.filter(dt => !(dt.querySelector('.sig-prename')?.textContent || '').startsWith('course_lib.'))
                        .map(dt => dt.id),
    modules: modules,
    modules_not_in_contents: modules.filter(m => !titles.includes(m)),
    members_not_in_contents: sigs.map(dt => dt.id).filter(id => !targets.has(id)),
  };
}"""


def is_reference(href):
    return "/appendix/api" in href.split("#")[0].split("?")[0] and href.split("#")[0].rsplit("/", 1)[-1] != "search.html"


@pytest.mark.browser
@pytest.mark.parametrize("docname", REFERENCE)
def test_reference_pages_fit_a_phone_and_name_their_modules(docname, chromium, site_url):
    """Each page of the reference at 390 px: no sideways scroll, a height a reader can scroll
    through, every signature carrying its module (``course_lib.optim.adam(...)``), and a contents
    list (the secondary sidebar) naming each module section and the members in it."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with visit(chromium, f"{site_url}{docname}.html", site_url, {"width": 390, "height": 844}) as loaded:
        layout = loaded.page.evaluate(REFERENCE_LAYOUT)
        loaded.page.screenshot(path=SCREENSHOTS / f"reference-390-{docname.rsplit('/', 1)[-1]}.png")
        problems = loaded.problems()
    if layout["overflow"] > 1:
        problems.append(f"the page scrolls sideways by {layout['overflow']} px")
    if layout["height"] > REFERENCE_MAX_HEIGHT_PX:
        problems.append(f"{layout['height']} px tall on a phone (more than {REFERENCE_MAX_HEIGHT_PX}): split it")
    if layout["without_module"]:
        problems.append(f"signatures without their module name: {layout['without_module'][:5]}")
    if docname != "book/appendix/api":
        if not layout["modules"] or not layout["signatures"]:
            problems.append(f"modules {layout['modules']}, {layout['signatures']} signatures on the page")
        if layout["modules_not_in_contents"] or layout["members_not_in_contents"]:
            problems.append(f"the contents list misses modules {layout['modules_not_in_contents']} "
                            f"and members {layout['members_not_in_contents'][:5]}")
    assert not problems, f"{docname}:\n  " + "\n  ".join(problems)


SEARCH_RESULTS = """() => Array.from(document.querySelectorAll('#search-results ul.search > li > a:first-of-type'), a => a.href)"""


@pytest.mark.browser
@pytest.mark.parametrize("term, chapter", [("momentum", "momentum"), ("adam", "adaptive"),
                                           ("dropout", "regularization"), ("ewma", "ewma")])
def test_search_ranks_chapters_before_the_reference_pages(term, chapter, chromium, site_url):
    """Searching a chapter's subject lists the chapter first and every result of the reference's
    pages (book/appendix/api and its pages) after every result of the book's other pages."""
    with visit(chromium, f"{site_url}search.html?q={term}", site_url) as search:
        search.page.wait_for_function(
            "() => /Search finished/.test(document.querySelector('#search-results')?.textContent || '')",
            timeout=15000)
        found = search.page.evaluate(SEARCH_RESULTS)
        search.wait_for_requests()
        problems = search.problems()
    pages = [href.split("#")[0].split("?")[0][len(site_url):] for href in found]
    reference = [is_reference(href) for href in found]
    assert pages and pages[0] == f"book/{chapter}.html", f"searching {term!r} lists first {pages[:3]}"
    assert any(reference), f"searching {term!r} finds nothing in the reference: {pages}"
    first = reference.index(True)
    assert all(reference[first:]), f"searching {term!r}: reference results mixed with pages: {pages}"
    assert not problems, problems
