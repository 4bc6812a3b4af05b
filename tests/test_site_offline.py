"""The website as a reader sees it: built, served on localhost, opened in headless Chromium.

Every request to another host is blocked and counted (there must be none), and every page of
``_toc.yml`` (and every page Sphinx generates) is checked for failed requests, console
errors, MathJax that did not typeset, figures that did not load (or are blurred on a 2x screen,
distorted, or on a phone shrunk until their text is under 8 px), links and anchors that lead
nowhere, widgets whose saved figure is not shown or whose controls do not fit, sideways
scrolling on a phone, and solutions shown before their toggle is clicked. Search must find
each chapter. With ``BOOK_SCREENSHOTS=1``, screenshots of every page at desktop (1280 px) and
phone (390 px) widths go to ``_build/screenshots``. The bytes each page loads go to ``_build/benchmarks/page_weights.json``.
A copy of the site opened from files (as after a download) is checked too: the front page, a
chapter with widgets, and search.
"""
from __future__ import annotations

import functools
import html.parser
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml

from site_fixtures import (BENCHMARKS, DESKTOP, FULL_PAGE_SCREENSHOTS, PHONE, ROOT, SCREENSHOTS,
                           WAIT_UNTIL_SETTLED, source_of, toc_docnames, visit, widget_state)

DOCNAMES = toc_docnames()
# The widget models that the HTML manager (embed-amd.js) bundles; any other module would be
# fetched from a CDN at run time.
BUNDLED_WIDGET_MODULES = {"@jupyter-widgets/base", "@jupyter-widgets/controls", "@jupyter-widgets/output"}

MATH_PROBLEMS = r"""() => {
  const problems = [];
  const math = Array.from(document.querySelectorAll('.math'));
  for (const el of math) {
    if (!el.querySelector('mjx-container')) problems.push('math not typeset: ' + el.textContent.trim().slice(0, 80));
  }
  for (const el of document.querySelectorAll('mjx-merror')) {
    problems.push('MathJax error: ' + (el.getAttribute('data-mjx-error') || el.textContent).slice(0, 120));
  }
  const main = (document.querySelector('main') || document.body).cloneNode(true);
  main.querySelectorAll('pre, code, script, style, textarea, mjx-container').forEach(e => e.remove());
  const text = main.textContent;
  const raw = text.match(/\$\$|\\\(|\\\[|\\begin\{|\\(frac|sum|hat|mathbf|nabla|alpha|beta|rho|theta|sqrt)\b|\$[^$\s][^$\n]{0,200}?\$/);
  if (raw) problems.push('raw TeX in the text: ...' + text.slice(Math.max(0, raw.index - 40), raw.index + 60).replace(/\s+/g, ' ') + '...');
  return problems;
}"""

BROKEN_IMAGES = """() => Array.from(document.images)
  .filter(img => !(img.complete && img.naturalWidth > 0))
  .map(img => 'figure not loaded: ' + (img.currentSrc || img.src).slice(0, 120))"""

# For each saved widget view: rendered, not empty, and, when its saved state holds a figure
# (an Image widget, or an Output widget with a PNG), that figure is shown.
WIDGET_PROBLEMS = """() => {
  const views = Array.from(document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]'));
  const stateScript = document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]');
  if (!views.length) return {views: 0, figures: 0, problems: []};
  const state = JSON.parse(stateScript.textContent).state;
  const hasFigure = (id) => {
    const model = state[id];
    if (!model) return false;
    if (model.model_name === 'ImageModel') return true;
    if (model.model_name === 'OutputModel' && (model.state.outputs || []).some(o => o.data && o.data['image/png'])) return true;
    return (model.state.children || []).some(child => hasFigure(child.replace('IPY_MODEL_', '')));
  };
  const problems = [];
  let figures = 0;
  views.forEach((script, i) => {
    const id = JSON.parse(script.textContent).model_id;
    const area = script.previousElementSibling;  // where the HTML manager renders the view
    if (!area || !area.classList.contains('widget-subarea')) { problems.push(`widget ${i + 1} is not rendered`); return; }
    const box = area.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) problems.push(`widget ${i + 1} is rendered empty`);
    if (hasFigure(id)) {
      figures += 1;
      const shown = Array.from(area.querySelectorAll('img')).filter(img =>
        img.complete && img.naturalWidth > 0 && img.naturalHeight > 0 && img.getBoundingClientRect().height > 0);
      if (!shown.length) problems.push(`widget ${i + 1}: its saved figure is not shown`);
    }
  });
  return {views: views.length, figures, problems};
}"""

# Each widget's controls fit its width: no slider squeezed to a stub, no control cut off at the
# right edge, no label cut short (a row of controls that does not wrap shows all three).
WIDGET_LAYOUT_PROBLEMS = """() => {
  const problems = [];
  document.querySelectorAll('.widget-subarea').forEach((area, i) => {
    const box = area.getBoundingClientRect();
    const right = Math.min(box.right, document.documentElement.clientWidth);
    area.querySelectorAll('.widget-inline-hbox').forEach(control => {
      const label = control.querySelector('.widget-label');
      const text = (element) => (element?.textContent || '').replace(/\u200b/g, '').trim();
      const name = (text(label) || text(control)).slice(0, 30);
      const track = control.querySelector('.slider-container');
      if (track && track.getBoundingClientRect().width < 80) {
        problems.push(`widget ${i + 1}: the slider "${name}" is squeezed to ${Math.round(track.getBoundingClientRect().width)} px`);
      }
      if (control.getBoundingClientRect().right > right + 1) {
        problems.push(`widget ${i + 1}: the control "${name}" is cut off at the right edge`);
      }
      if (label && label.scrollWidth > label.clientWidth + 1) {
        problems.push(`widget ${i + 1}: the label "${name}" is cut short`);
      }
    });
  });
  return problems;
}"""

INTERACTION_NOTES = """() => Array.from(document.querySelectorAll('.admonition'))
  .filter(a => /interactive figure/i.test(a.querySelector('.admonition-title')?.textContent || '')
               && /download/i.test(a.textContent) && a.getBoundingClientRect().height > 0).length"""

HORIZONTAL_OVERFLOW = """() => document.documentElement.scrollWidth - window.innerWidth"""

# Tables keep readable columns (none squeezed to a letter or two); code is never cut off at the
# edge of its box; a display equation wider than the column scrolls in its own box.
FIT_PROBLEMS = """() => {
  const problems = [];
  const seen = (el) => { const box = el.getBoundingClientRect(); return box.width > 0 && box.height > 0; };
  document.querySelectorAll('main table td, main table th').forEach(cell => {
    const text = cell.textContent.trim();
    const width = cell.getBoundingClientRect().width;
    if (seen(cell) && text.length > 3 && width < 40) {
      problems.push(`a table column squeezed to ${Math.round(width)} px: "${text.slice(0, 30)}"`);
    }
  });
  document.querySelectorAll('main pre').forEach(pre => {
    if (seen(pre) && pre.scrollWidth > pre.clientWidth + 1) {
      problems.push(`a code block cut off by ${pre.scrollWidth - pre.clientWidth} px: ${pre.textContent.trim().slice(0, 40)}`);
    }
  });
  document.querySelectorAll('mjx-container[display="true"]').forEach(eq => {
    if (seen(eq) && eq.scrollWidth > eq.clientWidth + 1 && !['auto', 'scroll'].includes(getComputedStyle(eq).overflowX)) {
      problems.push('a display equation cut off: ' + (eq.getAttribute('aria-label') || '').slice(0, 40));
    }
  });
  return problems;
}"""
# Chapter figures (img.book-figure, with their size at 1x as width/height): shown at that size
# when the column has room, else narrowed to the column with their proportions kept, never
# enlarged; sharp on a 2x screen (an SVG, or twice the pixels). On a phone (``phone``) no figure's
# smallest text is under minTextPx, widget figures keep their drawn size, and a figure wider than
# its box scrolls in it and says so (its box has the class book-scrolls and shows the note).
FIGURE_PROBLEMS = """({phone, minTextPx, smallestFontPx}) => {
  const problems = [];
  const note = (box) => box.classList.contains('book-scrolls') && getComputedStyle(box, '::before').content.includes('scroll');
  document.querySelectorAll('main img[src*="_images/"]:not(.book-figure)').forEach(img =>
    problems.push(`a figure not prepared by tools/offline_assets.py (no 1x size): ${(img.alt || img.src).slice(0, 50)}`));
  document.querySelectorAll('main img.book-figure').forEach(img => {
    const name = (img.alt || img.src).slice(0, 50);
    const width = Number(img.getAttribute('width')), height = Number(img.getAttribute('height'));
    const box = img.parentElement, shown = img.getBoundingClientRect();
    if (!(width > 0 && height > 0)) { problems.push(`a figure without its size: ${name}`); return; }
    if (!shown.width) return;  // in a closed solution
    const vector = new URL(img.currentSrc || img.src).pathname.endsWith('.svg');
    if (!vector && img.naturalWidth < 2 * width) problems.push(`${img.naturalWidth} pixels for ${width} px (blurred at 2x): ${name}`);
    if (shown.width > width + 0.5) problems.push(`a figure enlarged to ${shown.width} px from ${width}: ${name}`);
    if (Math.abs(shown.height / shown.width - height / width) > 0.02) problems.push(`a figure distorted: ${name}`);
    const fits = Math.min(width, box.clientWidth);
    if (!phone && Math.abs(shown.width - fits) > 1) problems.push(`a figure shown at ${Math.round(shown.width)} px, not ${fits}: ${name}`);
    const text = shown.width / width * smallestFontPx;
    if (phone && text < minTextPx - 0.05) problems.push(`a figure shrunk until its smallest text is ${text.toFixed(1)} px: ${name}`);
    if (box.scrollWidth > box.clientWidth + 1 && !note(box)) problems.push(`a figure scrolls sideways without saying so: ${name}`);
  });
  document.querySelectorAll('main .book-widget-figure').forEach((box, i) => {
    const figure = Array.from(box.querySelectorAll('img, canvas')).find(e => e.getBoundingClientRect().width > 0);
    if (!figure) return;
    const drawn = Number(figure.getAttribute('width')) || figure.width;
    if (phone && figure.getBoundingClientRect().width < drawn - 0.5) problems.push(`widget ${i + 1}: its figure shrunk to ${Math.round(figure.getBoundingClientRect().width)} px from ${drawn}`);
    if (box.scrollWidth > box.clientWidth + 1 && !note(box)) problems.push(`widget ${i + 1}: its figure scrolls sideways without saying so`);
  });
  return problems;
}"""


def figure_problems(page, phone: bool) -> list[str]:
    sys.path.insert(0, str(ROOT / "tools"))
    import offline_assets
    smallest_px = offline_assets.SMALLEST_FONT_PT * offline_assets.figure_dpi() / 72
    return page.evaluate(FIGURE_PROBLEMS, {"phone": phone, "minTextPx": offline_assets.MIN_TEXT_PX,
                                           "smallestFontPx": smallest_px})


# Screenshots show a page's first 16384 px (Chromium's largest texture): the API reference
# alone is 80 000 px tall. The checks above cover the whole page.
SCREENSHOT_MAX_HEIGHT = 16384


def screenshot(page, path: Path) -> None:
    """The whole page (up to SCREENSHOT_MAX_HEIGHT px) into ``path``, with BOOK_SCREENSHOTS=1."""
    if not FULL_PAGE_SCREENSHOTS:
        return
    height = page.evaluate("() => document.documentElement.scrollHeight")
    width = page.viewport_size["width"]
    page.screenshot(path=path, full_page=True,
                    clip={"x": 0, "y": 0, "width": width, "height": min(height, SCREENSHOT_MAX_HEIGHT)})


def html_path(docname: str) -> str:
    return f"{docname}.html"


def slug(docname: str) -> str:
    return docname.replace("/", "-")


class _Anchors(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.names = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("id", "name") and value:
                self.names.add(value)


@functools.lru_cache(maxsize=None)
def anchors_in(path: Path) -> frozenset:
    parser = _Anchors()
    parser.feed(path.read_text(encoding="utf-8"))
    return frozenset(parser.names)


def link_problems(page, site_dir: Path, site_url: str) -> list[str]:
    """Every link of the page into the site leads to a file, and its #anchor to an element."""
    problems = []
    hrefs = page.evaluate("() => Array.from(document.querySelectorAll('a[href]'), a => a.href)")
    for href in sorted(set(hrefs)):
        if not href.startswith(site_url):
            continue  # links to other sites are for the reader to follow, not requests
        path, _, fragment = href[len(site_url):].partition("#")
        path = unquote(path.split("?")[0])
        target = site_dir / path
        if path == "" or path.endswith("/"):
            target = target / "index.html"
        if not target.is_file():
            problems.append(f"broken link: {href}")
        elif fragment and target.suffix == ".html" and unquote(fragment) not in anchors_in(target):
            problems.append(f"missing anchor: {href}")
    return problems


def reader_problems(page) -> list[str]:
    """What a reader would see broken: math, figures, widgets and their controls."""
    widgets = page.evaluate(WIDGET_PROBLEMS)
    return (page.evaluate(MATH_PROBLEMS) + page.evaluate(BROKEN_IMAGES) + widgets["problems"]
            + page.evaluate(WIDGET_LAYOUT_PROBLEMS) + page.evaluate(FIT_PROBLEMS))


def solution_problems(page) -> list[str]:
    """Each solution's body is hidden until its toggle is clicked, then shown."""
    problems = []
    solutions = page.locator(".solution")
    for i in range(solutions.count()):
        solution = solutions.nth(i)
        name = solution.locator(".admonition-title").first.inner_text().strip().splitlines()[0]
        body = solution.locator(":scope > :not(.admonition-title)")
        if body.count() == 0:
            problems.append(f"{name}: empty solution")
            continue
        if any(body.nth(j).is_visible() for j in range(body.count())):
            problems.append(f"{name}: shown before its toggle is clicked")
            continue
        solution.locator(".toggle-button").first.click()
        body.first.wait_for(state="visible", timeout=5000)
        if not all(body.nth(j).is_visible() for j in range(body.count())):
            problems.append(f"{name}: still hidden after its toggle was clicked")
    return problems


@pytest.fixture(scope="module")
def page_weights():
    """Bytes and requests per page at desktop width; written to _build/benchmarks at the end."""
    weights = {}
    yield weights
    BENCHMARKS.mkdir(parents=True, exist_ok=True)
    report = {"pages": weights, "total_bytes": sum(w["bytes"] for w in weights.values())}
    (BENCHMARKS / "page_weights.json").write_text(json.dumps(report, indent=2) + "\n")


# --- the built files ----------------------------------------------------------------------
def generated_pages(site_dir: Path) -> list[str]:
    """The pages Sphinx writes itself (genindex, search, py-modindex, ...), not the index redirect."""
    pages = {str(p.relative_to(site_dir).with_suffix("")) for p in site_dir.glob("*.html")}
    return sorted(pages - set(DOCNAMES) - {"index"})


def test_every_built_page_is_checked(built_site):
    built = {str(p.relative_to(built_site).with_suffix("")) for p in built_site.rglob("*.html")
             if not p.relative_to(built_site).parts[0].startswith("_")}
    assert built - set(generated_pages(built_site)) - {"index"} == set(DOCNAMES), (
        "pages built but not in _toc.yml, or the other way round")
    assert {"genindex", "search"} <= set(generated_pages(built_site))


def test_site_ships_its_own_assets_and_references_no_other_host(built_site):
    vendor = built_site / "_static" / "vendor"
    for name in ["mathjax/es5/tex-mml-chtml.js", "requirejs/require.js",
                 "html-manager/setup.js", "html-manager/dist/embed-amd.js"]:
        assert (vendor / name).is_file(), f"{name} is not in the site"
    assert list((vendor / "mathjax/es5/output/chtml/fonts/woff-v2").glob("*.woff")), "MathJax fonts missing"
    assert list((vendor / "html-manager/dist").glob("*.woff2")), "the widget manager's fonts are missing"
    embed = (vendor / "html-manager/dist/embed-amd.js").read_text(encoding="utf-8")
    unpatched = re.findall(r"[^|]`\$\{[\w$]+\.origin\}", embed)
    assert not unpatched, f"embed-amd.js takes its font folder from the module URL: {unpatched}"

    loads = re.compile(r"<(script|link|img|iframe|source|audio|video|embed)\b[^>]*?\b(src|href)\s*=\s*[\"']"
                       r"(https?:)?//", re.IGNORECASE)
    css_url = re.compile(r"(url\(\s*[\"']?|@import\s+[\"'])(https?:)?//", re.IGNORECASE)
    offenders = []
    for path in built_site.rglob("*"):
        pattern = {".html": loads, ".css": css_url}.get(path.suffix)
        found = pattern and pattern.search(path.read_text(encoding="utf-8", errors="replace"))
        if found:
            offenders.append(f"{path.relative_to(built_site)}: {found.group(0)}")
    assert not offenders, "\n".join(offenders)


def test_offline_assets_extension_fails_clearly(tmp_path):
    """Without `npm ci`, or with an embed-amd.js it cannot patch, the build stops and says why."""
    sys.path.insert(0, str(ROOT / "tools"))
    import offline_assets
    from sphinx.errors import ExtensionError
    with pytest.raises(ExtensionError, match="make assets"):
        offline_assets.vendored_files(tmp_path / "node_modules")
    with pytest.raises(ExtensionError, match="public path"):
        offline_assets.patch_embed_amd("n.p=somewhere_else")
    assert offline_assets.patch_embed_amd("n.p=`${a.origin}${a.pathname}`") == (
        "n.p=window.__jupyter_widgets_assets_path__||`${a.origin}${a.pathname}`")
    assert not offline_assets.launch_buttons_enabled("")
    assert not offline_assets.launch_buttons_enabled(offline_assets.JUPYTER_BOOK_DEFAULT_REPOSITORY + "/")
    assert offline_assets.launch_buttons_enabled("https://github.com/example-org/example-book")


@pytest.mark.parametrize("docname", [d for d in DOCNAMES if widget_state(source_of(d))])
def test_saved_widgets_need_no_widget_package_from_a_cdn(docname):
    modules = {model["model_module"] for model in widget_state(source_of(docname)).values()}
    assert modules <= BUNDLED_WIDGET_MODULES, (
        f"{docname} uses widget packages the site cannot render offline: {modules - BUNDLED_WIDGET_MODULES}")


def test_notebook_pages_have_a_download_button_and_launch_buttons_only_with_a_repository(built_site):
    """Binder/Colab buttons exist exactly when _config.yml names `repository.url`."""
    sys.path.insert(0, str(ROOT / "tools"))
    from offline_assets import launch_buttons_enabled
    repository = yaml.safe_load((ROOT / "_config.yml").read_text()).get("repository") or {}
    expected = launch_buttons_enabled(repository.get("url"))
    for docname in DOCNAMES:
        page = (built_site / html_path(docname)).read_text(encoding="utf-8")
        if source_of(docname).suffix == ".ipynb":
            assert f'_sources/{docname}.ipynb"' in page, f"{docname}: no download button for the notebook"
            assert ("mybinder.org/v2/" in page) == expected, f"{docname}: Binder button should be {expected}"
            assert ("colab.research.google.com/github/" in page) == expected, f"{docname}: Colab button"
        else:
            assert "mybinder.org" not in page and "colab.research.google.com" not in page, docname


def test_launch_buttons_appear_when_the_repository_is_named(tmp_path):
    """A small book with the real _config.yml plus `repository.url`: Binder and Colab buttons."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["repository"] = {"url": "https://github.com/example-org/example-book", "branch": "main"}
    config["sphinx"]["local_extensions"] = {"offline_assets": str(ROOT / "tools")}
    (tmp_path / "book").mkdir()
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/tiny\n")
    shutil.copy(ROOT / "book" / "references.bib", tmp_path / "book" / "references.bib")
    (tmp_path / "book" / "intro.md").write_text("# A small book\n\nSee {doc}`tiny`.\n")
    notebook = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# A tiny chapter\n"]}],
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "book" / "tiny.ipynb").write_text(json.dumps(notebook))
    result = subprocess.run([str(Path(sys.executable).with_name("jupyter-book")), "build", str(tmp_path),
                             "--warningiserror", "--keep-going"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    page = (tmp_path / "_build" / "html" / "book" / "tiny.html").read_text(encoding="utf-8")
    assert "https://mybinder.org/v2/gh/example-org/example-book/main?urlpath=tree/book/tiny.ipynb" in page
    assert "https://colab.research.google.com/github/example-org/example-book/blob/main/book/tiny.ipynb" in page


# --- in the browser -----------------------------------------------------------------------
def page_problems(docname, browser, site_url, site_dir, page_weights) -> list[str]:
    """Open a page at desktop width, then at phone width; everything a reader would find wrong."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    with visit(browser, site_url + html_path(docname), site_url, DESKTOP) as loaded:
        page = loaded.page
        problems += reader_problems(page) + figure_problems(page, phone=False)
        problems += link_problems(page, site_dir, site_url)
        has_widgets = docname in DOCNAMES and bool(widget_state(source_of(docname)))
        if has_widgets and page.evaluate(INTERACTION_NOTES) == 0:
            problems.append("a page with widgets must say how to interact with them (an "
                            "'Interactive figure' note that mentions the download button)")
        screenshot(page, SCREENSHOTS / f"{slug(docname)}-desktop.png")
        page.set_viewport_size(PHONE)
        page.evaluate(WAIT_UNTIL_SETTLED)
        problems += [f"(phone) {p}" for p in reader_problems(page) + figure_problems(page, phone=True)]
        overflow = page.evaluate(HORIZONTAL_OVERFLOW)
        if overflow > 1:
            problems.append(f"(phone) the page scrolls sideways by {overflow} px")
        screenshot(page, SCREENSHOTS / f"{slug(docname)}-phone.png")
        problems += solution_problems(page)  # after the screenshots: it opens the solutions
        problems += loaded.problems()
        page_weights[docname] = {"bytes": loaded.bytes_loaded, "requests": loaded.requests}
    return problems


@pytest.mark.browser
@pytest.mark.parametrize("docname", DOCNAMES)
def test_page_in_browser(docname, chromium, site_url, built_site, page_weights):
    problems = page_problems(docname, chromium, site_url, built_site, page_weights)
    assert not problems, f"{docname}:\n  " + "\n  ".join(problems)


@pytest.mark.browser
def test_generated_pages_in_browser(chromium, site_url, built_site, page_weights):
    """The index, the search page and any other page Sphinx generates."""
    problems = []
    for name in generated_pages(built_site):
        problems += [f"{name}: {p}" for p in page_problems(name, chromium, site_url, built_site, page_weights)]
    assert not problems, "\n".join(problems)


def search_term(site_dir: Path, docname: str) -> str:
    """The longest word of the page's title."""
    title = re.search(r"<h1[^>]*>(.*?)</h1>", (site_dir / html_path(docname)).read_text(encoding="utf-8"), re.S)
    return max(re.findall(r"[A-Za-z]{4,}", re.sub(r"<[^>]+>", " ", title.group(1))), key=len).lower()


def search_problems(browser, search_url: str, local_prefix: str, site_dir: Path, docnames) -> list[str]:
    """Search for a word of each page's title, in one browser tab; each page must be found."""
    problems = []
    queries = [(docname, search_term(site_dir, docname)) for docname in docnames]
    with visit(browser, f"{search_url}?q={queries[0][1]}", local_prefix) as search:
        for k, (docname, term) in enumerate(queries):
            if k:
                search.page.goto(f"{search_url}?q={term}", wait_until="load")
            search.page.wait_for_function(
                "() => /Search finished|did not match/.test(document.querySelector('#search-results')?.textContent || '')",
                timeout=15000)
            found = search.page.evaluate(
                "() => Array.from(document.querySelectorAll('#search-results ul.search a'), a => a.href)")
            if not any(href.split("#")[0].endswith(html_path(docname)) for href in found):
                problems.append(f"searching {term!r} does not find {docname} (found {found})")
            search.wait_for_requests()  # the summaries it fetches from the pages found
        problems += search.problems()
    return problems


@pytest.mark.browser
def test_search_finds_each_chapter(chromium, site_url, built_site):
    problems = search_problems(chromium, site_url + "search.html", site_url, built_site, DOCNAMES[1:])
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_search_ranks_chapters_before_the_reference(chromium, site_url):
    """Searching a chapter's subject lists the chapter first, the course_lib entries after it."""
    with visit(chromium, f"{site_url}search.html?q=momentum", site_url) as search:
        search.page.wait_for_function(
            "() => /Search finished/.test(document.querySelector('#search-results')?.textContent || '')",
            timeout=15000)
        found = search.page.evaluate(
            "() => Array.from(document.querySelectorAll('#search-results ul.search a'), a => a.href)")
        search.wait_for_requests()
        problems = search.problems()
    pages = [href.split("#")[0].rsplit("/", 1)[-1] for href in found]
    assert pages and pages[0] == "momentum.html", f"searching 'momentum' lists first {found[:3]}"
    reference = ["/appendix/api" in href.split("#")[0] for href in found]  # book/appendix/api and its pages
    first_reference = reference.index(True) if True in reference else len(pages)
    assert all(reference[first_reference:]), f"reference entries mixed with pages: {pages}"
    assert not problems, problems


@pytest.mark.browser
def test_downloaded_copy_works_from_files(chromium, built_site, tmp_path):
    """A copy of _build/html opened with file:// URLs: no other host, no errors, math, figures,
    widgets, and search."""
    copy = tmp_path / "downloaded-html"
    shutil.copytree(built_site, copy)
    problems = []
    # What differs from files is generic (relative paths, fonts, scripts, fetch), not per page:
    # the front page and the first chapter with widgets stand for the others.
    checked = [DOCNAMES[0]] + [d for d in DOCNAMES if widget_state(source_of(d))][:1]
    for docname in checked:
        with visit(chromium, (copy / html_path(docname)).as_uri(), "file://") as page:
            problems += [f"{docname}: {p}" for p in reader_problems(page.page) + page.problems()]
    problems += search_problems(chromium, (copy / "search.html").as_uri(), "file://", copy, DOCNAMES[1:2])
    assert not problems, "\n".join(problems)


# The figure drawn again at its 1x size on a canvas, shown at the figure's place and size: what a
# 1x figure would look like on this screen.
AS_1X_FIGURE = """(i) => new Promise(resolve => {
  const img = document.querySelectorAll('main img.book-figure')[i];
  const canvas = document.createElement('canvas');
  canvas.width = Number(img.getAttribute('width')); canvas.height = Number(img.getAttribute('height'));
  const copy = new Image();
  copy.onload = () => {
    canvas.getContext('2d').drawImage(copy, 0, 0, canvas.width, canvas.height);
    const shown = img.getBoundingClientRect();
    canvas.style.cssText = `position: absolute; left: ${shown.left + scrollX}px; top: ${shown.top + scrollY}px; ` +
                           `width: ${shown.width}px; height: ${shown.height}px; z-index: 10000`;
    canvas.id = 'book-1x-copy';
    document.body.append(canvas);
    requestAnimationFrame(() => requestAnimationFrame(resolve));
  };
  copy.src = img.currentSrc || img.src;
})"""


def detail_beyond_1x(png: bytes) -> float:
    """Mean difference between a screenshot taken at 2x and the same picture at half the pixels
    doubled again: zero for a 1x picture enlarged, large for lines and letters drawn at 2x."""
    import io

    import numpy as np
    from PIL import Image
    image = Image.open(io.BytesIO(png)).convert("L")
    half = image.resize((image.width // 2, image.height // 2), Image.BOX)
    again = half.resize((half.width * 2, half.height * 2), Image.BILINEAR)
    a = np.asarray(image, dtype=float)[: again.height, : again.width]
    return float(np.abs(a - np.asarray(again, dtype=float)).mean())


@pytest.mark.browser
def test_figures_are_sharp_on_a_2x_screen(chromium, site_url):
    """On a screen of two device pixels per CSS pixel, each figure of the chapter with the most
    figures shows more fine detail than its 1x version drawn on a canvas at the same place and
    size (a 1x figure shows exactly as much: ratio 1.0; the book's SVGs 1.6-2.8 in Chromium)."""
    docname = max((d for d in DOCNAMES if source_of(d).suffix == ".ipynb"),
                  key=lambda d: source_of(d).read_text(encoding="utf-8").count('"image/'))
    context = chromium.new_context(viewport=DESKTOP, device_scale_factor=2, service_workers="block")
    problems = []
    try:
        page = context.new_page()
        page.goto(site_url + html_path(docname), wait_until="load")
        page.evaluate(WAIT_UNTIL_SETTLED)
        figures = page.locator("main img.book-figure")
        assert figures.count() >= 3, f"{docname}: {figures.count()} figures"
        for i in range(figures.count()):
            figure = figures.nth(i)
            if not figure.is_visible():
                continue
            figure.scroll_into_view_if_needed()
            box = figure.bounding_box()
            sharp = detail_beyond_1x(page.screenshot(clip=box))
            page.evaluate(AS_1X_FIGURE, i)
            blurred = detail_beyond_1x(page.screenshot(clip=box))
            page.evaluate("() => document.getElementById('book-1x-copy').remove()")
            if sharp < 1.3 * blurred:
                problems.append(f"figure {i + 1}: detail {sharp:.2f} at 2x, {blurred:.2f} as 1x")
    finally:
        context.close()
    assert not problems, f"{docname}:\n" + "\n".join(problems)
