"""First paint and load of every page of the website over a slow line, in headless Chromium.

Each page is opened cold (a fresh browser context, empty cache) with the network throttled by
the Chrome DevTools Protocol to 9 Mbit/s down, 60 ms latency. Recorded per page:

- ``first_paint_s``: first contentful paint (the text is on screen);
- ``load_s``: the load event (every script, style and image of the page);
- ``usable_s``: MathJax has typeset the page (the math is readable) and the load event passed;
- ``bytes``/``requests``: what the page loaded (before any widget is touched).

The site is served as static hosts (GitHub Pages, nginx) serve it: text files (HTML, scripts,
styles, the search index, the widgets' states) gzip-compressed, images and fonts as they are.

Run: ``.venv/bin/python benchmarks/site_speed.py [_build/html]`` (after ``make book``); the
browser tests (tests/test_site_speed.py) run it on the site they build and write
``_build/benchmarks/site_speed.json``.
"""
from __future__ import annotations

import functools
import gzip
import http.server
import io
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

DOWN_MBIT = 9.0
LATENCY_MS = 60
THROTTLE = {"offline": False, "latency": LATENCY_MS, "downloadThroughput": DOWN_MBIT * 1e6 / 8,
            "uploadThroughput": DOWN_MBIT * 1e6 / 8}

COMPRESSED = (".html", ".js", ".css", ".json", ".svg", ".txt", ".map")


@functools.lru_cache(maxsize=None)
def _gzip(path: str) -> bytes:
    return gzip.compress(Path(path).read_bytes(), compresslevel=6)


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, text ones gzip-compressed when the browser accepts it."""

    def log_message(self, *args):
        pass

    def send_head(self):
        path = self.translate_path(self.path)
        if (not path.endswith(COMPRESSED) or not Path(path).is_file()
                or "gzip" not in self.headers.get("Accept-Encoding", "")):
            return super().send_head()
        body = _gzip(path)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


def serve_compressed(directory: Path):
    """Serve ``directory`` on a free localhost port, as a static host would (gzip); yields the URL."""
    from site_fixtures import serve
    return serve(directory, GzipHandler)


TIMES = """async () => {
  if (document.readyState !== 'complete') await new Promise(r => addEventListener('load', r, {once: true}));
  if (window.MathJax && window.MathJax.startup) await window.MathJax.startup.promise;
  const usable = performance.now();
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  return {first_paint_s: paint ? paint.startTime / 1000 : null, load_s: nav.loadEventEnd / 1000,
          usable_s: Math.max(usable, nav.loadEventEnd) / 1000};
}"""


def measure_page(browser, url: str, local_prefix: str) -> dict:
    """Open ``url`` cold over the throttled line; times in seconds, bytes and requests."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, service_workers="block")
    page = context.new_page()
    loaded = {"bytes": 0, "requests": 0, "external": []}

    def route(route):
        if route.request.url.startswith(local_prefix):
            route.continue_()
        else:
            loaded["external"].append(route.request.url)
            route.abort("blockedbyclient")

    def on_finished(request):
        sizes = request.sizes()
        loaded["requests"] += 1
        loaded["bytes"] += sizes["responseBodySize"] + sizes["responseHeadersSize"]

    context.route("**/*", route)
    page.on("requestfinished", on_finished)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", THROTTLE)
    try:
        page.goto(url, wait_until="load", timeout=120000)
        times = page.evaluate(TIMES)
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    return {**{k: round(v, 2) for k, v in times.items() if v is not None}, **loaded}


def measure_site(browser, site_url: str, docnames) -> dict:
    pages = {d: measure_page(browser, f"{site_url}{d}.html", site_url) for d in docnames}
    summary = {key: {"median": round(statistics.median(p[key] for p in pages.values()), 2),
                     "max": round(max(p[key] for p in pages.values()), 2)}
               for key in ("first_paint_s", "load_s", "usable_s", "bytes")}
    return {"line": f"{DOWN_MBIT:g} Mbit/s, {LATENCY_MS} ms latency (CDP), text gzip-compressed",
            "pages": pages, "summary": summary}


def report(result: dict) -> str:
    lines = [f"Pages over {result['line']}, cold cache:",
             f"{'page':34} {'first paint':>11} {'load':>7} {'usable':>7} {'MB':>6} {'req':>4}"]
    for name, p in result["pages"].items():
        lines.append(f"{name:34} {p.get('first_paint_s', float('nan')):10.2f}s {p['load_s']:6.2f}s "
                     f"{p['usable_s']:6.2f}s {p['bytes'] / 1e6:6.2f} {p['requests']:4d}")
    return "\n".join(lines)


def main(argv=None) -> None:
    from playwright.sync_api import sync_playwright
    from site_fixtures import CHROMIUM, CHROMIUM_ARGS, toc_docnames

    argv = sys.argv[1:] if argv is None else argv
    site = Path(argv[0]) if argv else ROOT / "_build" / "html"
    with serve_compressed(site) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            result = measure_site(browser, url, toc_docnames())
        finally:
            browser.close()
    print(report(result))


if __name__ == "__main__":
    main()
