"""Helpers and fixtures for the browser tests (imported by tests/conftest.py).

- ``chromium``: Debian's headless Chromium (``/usr/bin/chromium``, installed by ``make
  browser``) driven by Playwright; Playwright never downloads a browser of its own.
- ``site_url``: the built site (the ``built_site`` fixture) served on a free localhost port.
- :func:`visit`: opens a page in a fresh browser context in which every request to another
  host is blocked and counted, and records failed requests, console errors and the bytes
  each page loads.
- :func:`toc_docnames`, :func:`widget_state`: what the book contains, read from ``_toc.yml``
  and the notebooks, so the tests cover every chapter that exists.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# As root, in a sandbox with no network but the package registries: no sandbox, no GPU,
# none of Chromium's own background connections.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
SCREENSHOTS = ROOT / "_build" / "screenshots"
BENCHMARKS = ROOT / "_build" / "benchmarks"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
# BOOK_SITE=path/to/html: the tests use that built site instead of building the book (to try a
# change to book/_static/* on a copy of _build/html in seconds; the built_site fixture reads it).
PREBUILT_SITE = os.environ.get("BOOK_SITE")
# BOOK_SCREENSHOTS=1: the page tests also save a screenshot of every whole page (long pages
# take seconds each to capture; they are for looking at, not part of any check).
FULL_PAGE_SCREENSHOTS = os.environ.get("BOOK_SCREENSHOTS") == "1"


# --- what the book contains -----------------------------------------------------------------
def toc_docnames(root: Path = ROOT) -> list[str]:
    """Every document of ``_toc.yml`` in reading order (``book/intro``, ``book/ewma``, ...)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]]

    def walk(node):
        for key in ("parts", "chapters", "sections"):
            for entry in node.get(key) or []:
                if "file" in entry:
                    names.append(str(Path(entry["file"]).with_suffix("")))
                walk(entry)

    walk(toc)
    return names


def source_of(docname: str, root: Path = ROOT) -> Path:
    """The source file of a document: ``.ipynb`` or ``.md``."""
    for suffix in (".ipynb", ".md"):
        path = root / f"{docname}{suffix}"
        if path.exists():
            return path
    raise FileNotFoundError(f"no .ipynb or .md source for {docname!r}")


def widget_state(path: Path) -> dict:
    """The saved widget models of a notebook, {model_id: model}; {} for a page without widgets."""
    if path.suffix != ".ipynb":
        return {}
    metadata = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
    return metadata.get("widgets", {}).get(WIDGET_STATE_MIME, {}).get("state", {})


# --- serving the site -------------------------------------------------------------------------
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(directory: Path, handler_class=None):
    """Serve ``directory`` on 127.0.0.1 (a free port) in a thread; yields the base URL.

    ``handler_class`` defaults to a quiet static-file handler (benchmarks/site_speed.py passes one
    that gzips text, as static hosts do)."""
    handler = functools.partial(handler_class or _QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def site_url(built_site):
    with serve(built_site) as url:
        yield url


@pytest.fixture(scope="session")
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# --- visiting a page --------------------------------------------------------------------------
# Resolves when the page is as a reader sees it: MathJax has typeset (every formula, also those
# typeset only once the page is idle: book/_static/book-math.js), every saved widget
# view is rendered, every image has loaded (or failed), no CSS transition is running.
WAIT_UNTIL_SETTLED = """async () => {
  if (window.MathJax && window.MathJax.startup) { await window.MathJax.startup.promise; }
  if (window.bookMath) { await window.bookMath.all; }  // the formulas off screen too
  const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length;
  const deadline = performance.now() + 20000;
  while (document.querySelectorAll('.widget-subarea').length < views && performance.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 50));
  }
  document.querySelectorAll('img[loading="lazy"]').forEach(img => { img.loading = 'eager'; });
  await Promise.all(Array.from(document.images).map(img => img.complete ? null :
    new Promise(resolve => { img.addEventListener('load', resolve); img.addEventListener('error', resolve); })));
  // CSS transitions (the sidebar sliding away after a resize), two frames after they start
  await new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  await Promise.race([Promise.all(document.getAnimations().map(a => a.finished.catch(() => null))),
                      new Promise(resolve => setTimeout(resolve, 3000))]);
}"""


@dataclass
class Visit:
    """One page opened in its own browser context, and what happened while it loaded."""
    page: object
    url: str
    external: list = field(default_factory=list)        # requests to another host (blocked)
    failed: list = field(default_factory=list)          # failed requests and HTTP errors
    console_errors: list = field(default_factory=list)  # console.error and uncaught exceptions
    bytes_loaded: int = 0
    requests: int = 0
    in_flight: set = field(default_factory=set)         # requests not yet finished or failed

    def wait_for_requests(self, timeout: float = 15.0) -> None:
        """Wait until no request of the page is in flight (e.g. fetches started after load)."""
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            self.page.wait_for_timeout(50)

    def problems(self) -> list[str]:
        return ([f"request to another host: {u}" for u in self.external]
                + [f"failed request: {u}" for u in self.failed]
                + [f"console error: {m}" for m in self.console_errors])


@contextlib.contextmanager
def visit(browser, url: str, local_prefix: str, viewport=DESKTOP):
    """Open ``url``; requests not starting with ``local_prefix`` are blocked and counted."""
    context = browser.new_context(viewport=viewport, service_workers="block")
    page = context.new_page()
    record = Visit(page=page, url=url)

    def route(route):
        if route.request.url.startswith(local_prefix):
            route.continue_()
        else:
            record.external.append(route.request.url)
            route.abort("blockedbyclient")

    def on_response(response):
        record.requests += 1
        record.bytes_loaded += int(response.headers.get("content-length", 0))
        if response.status >= 400:
            record.failed.append(f"{response.url} (HTTP {response.status})")

    def on_request_failed(request):
        record.in_flight.discard(request)
        if request.url not in record.external:
            record.failed.append(f"{request.url} ({request.failure})")

    def on_console(message):
        # Chromium also reports each failed request on the console; those are counted above.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            record.console_errors.append(message.text)

    context.route("**/*", route)
    page.on("request", lambda request: record.in_flight.add(request))
    page.on("requestfinished", lambda request: record.in_flight.discard(request))
    page.on("response", on_response)
    page.on("requestfailed", on_request_failed)
    page.on("console", on_console)
    page.on("pageerror", lambda error: record.console_errors.append(f"uncaught: {error}"))
    try:
        page.goto(url, wait_until="load")
        page.evaluate(WAIT_UNTIL_SETTLED)
        page.wait_for_load_state("networkidle")
        yield record
    finally:
        context.close()
