"""First paint and load of every page of the website over a slow line, in headless Chromium.

Each page is opened cold (a fresh browser context, empty cache) with the network throttled by
the Chrome DevTools Protocol to 9 Mbit/s down, 60 ms latency. Recorded per page:

- ``first_paint_s``: first contentful paint (the text is on screen);
- ``load_s``: the load event (every script, style and image of the page);
- ``usable_s``: the load event passed and MathJax has typeset the formulas on screen (the
  others are typeset in batches when the page is idle, book/_static/book-math.js);
- ``bytes``/``requests``: what the page loaded (before any widget is touched), as transferred;
- ``main_thread_s``: the time Chromium's main thread was busy (parsing, styles, layout, scripts,
  MathJax): the part of the times that a busy machine stretches, unlike the line's.

The reference measured in the same run, right after each page: the same page *bare*, its HTML
with every script, style sheet, image and frame removed, over the same line. Its first paint is
the floor the line and the page's own text set; ``x bare`` says how many times longer the
page's first paint and load took with everything the site adds. Aims (issue 15, GUIDE.md): first
paint under 2 s, usable under 5 s; the report marks the pages over them.

The site is served as static hosts (GitHub Pages, nginx) serve it: text files (HTML, scripts,
styles, the search index, the widgets' states) gzip-compressed, images and fonts as they are.

Run after ``make book`` (it measures ``_build/html`` as it is, and says when it is older than
the sources): ``.venv/bin/python benchmarks/site_speed.py [_build/html]``. It prints the report
and writes it to ``_build/benchmarks/site_speed.json``; the browser tests
(tests/test_site_speed.py) run it without the bare references on the site they build, print its
report and hold every page to the aims.
"""
from __future__ import annotations

import functools
import gzip
import http.server
import io
import json
import re
import statistics
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

DOWN_MBIT = 9.0
LATENCY_MS = 60
THROTTLE = {"offline": False, "latency": LATENCY_MS, "downloadThroughput": DOWN_MBIT * 1e6 / 8,
            "uploadThroughput": DOWN_MBIT * 1e6 / 8}

COMPRESSED = (".html", ".js", ".css", ".json", ".svg", ".txt", ".map")
FIRST_PAINT_AIM_S = 2.0
USABLE_AIM_S = 5.0
REPORT = ROOT / "_build" / "benchmarks" / "site_speed.json"
BARE = "bare"  # the query that asks for a page's bare HTML (the reference)
# what a bare page leaves out: scripts, style sheets and preloads, inline styles, images, frames
_NOT_BARE = re.compile(r"<script\b.*?</script>|<style\b.*?</style>|<link\b[^>]*>|<img\b[^>]*>|<iframe\b.*?</iframe>",
                       re.S | re.I)


def bare_html(html: str) -> str:
    """The page's HTML with every script, style sheet, image and frame removed: its text alone."""
    return _NOT_BARE.sub("", html)


@functools.lru_cache(maxsize=None)
def _gzip(path: str) -> bytes:
    return gzip.compress(Path(path).read_bytes(), compresslevel=6)


@functools.lru_cache(maxsize=None)
def _gzip_bare(path: str) -> bytes:
    return gzip.compress(bare_html(Path(path).read_text(encoding="utf-8")).encode(), compresslevel=6)


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, text ones gzip-compressed when the browser accepts it."""

    def log_message(self, *args):
        pass

    def send_head(self):
        path = self.translate_path(self.path)
        bare = urlsplit(self.path).query == BARE and path.endswith(".html") and Path(path).is_file()
        if (not bare and (not path.endswith(COMPRESSED) or not Path(path).is_file())
                or "gzip" not in self.headers.get("Accept-Encoding", "")):
            return super().send_head()
        body = _gzip_bare(path) if bare else _gzip(path)
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
  // the formulas on screen typeset (book-math.js records when; the others follow when the page is idle)
  let usable;
  if (window.bookMath) usable = await window.bookMath.inView;
  else if (window.MathJax && window.MathJax.startup) { await window.MathJax.startup.promise; usable = performance.now(); }
  else usable = performance.now();
  const nav = performance.getEntriesByType('navigation')[0];
  // a small page can reach its load event before its first paint is reported
  const paint = performance.getEntriesByName('first-contentful-paint')[0] || await new Promise(resolve => {
    new PerformanceObserver(list => resolve(list.getEntriesByName('first-contentful-paint')[0]))
      .observe({type: 'paint', buffered: true});
    setTimeout(() => resolve(null), 5000);
  });
  return {first_paint_s: paint ? paint.startTime / 1000 : null, load_s: nav.loadEventEnd / 1000,
          usable_s: Math.max(usable, nav.loadEventEnd) / 1000};
}"""


def measure_page(browser, url: str, local_prefix: str, after_load: bool = True) -> dict:
    """Open ``url`` cold over the throttled line; times in seconds, bytes and requests.

    ``after_load``: also wait until the network is idle, so that what the page fetches after its
    load event (lazy figures) counts in its bytes; False for a bare page, which fetches nothing."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

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
        cdp.send("Performance.enable")
        response = page.goto(url, wait_until="load", timeout=120000)
        loaded["status"] = response.status if response else None  # a missing page loads fast too
        times = page.evaluate(TIMES)
        try:
            if after_load:
                page.wait_for_load_state("networkidle", timeout=30000)
        except PlaywrightTimeoutError:
            loaded["still_loading_after_30_s"] = True
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    finally:
        context.close()
    return {**{k: round(v, 2) for k, v in times.items() if v is not None},
            "main_thread_s": round(metrics.get("TaskDuration", float("nan")), 2), **loaded}


def over_aims(page: dict) -> bool:
    return page.get("first_paint_s", 99) > FIRST_PAINT_AIM_S or page["usable_s"] > USABLE_AIM_S


def measure_site(browser, site_url: str, docnames, reference: bool = True, retries: int = 2) -> dict:
    """Every page, each followed by its bare reference (``reference=False``: the pages alone).

    A page over an aim is opened again, up to ``retries`` more times, and its fastest load kept
    (``attempts`` says how many it took): other work on the machine only ever adds time, so the
    fastest of a few loads is what the page itself needs."""
    pages = {}
    for docname in docnames:
        attempts = [measure_page(browser, f"{site_url}{docname}.html", site_url)]
        while over_aims(attempts[-1]) and len(attempts) <= retries:
            attempts.append(measure_page(browser, f"{site_url}{docname}.html", site_url))
        pages[docname] = min(attempts, key=lambda p: max(p.get("first_paint_s", 99) / FIRST_PAINT_AIM_S,
                                                         p["usable_s"] / USABLE_AIM_S))
        pages[docname]["attempts"] = len(attempts)
        if reference:
            bare = measure_page(browser, f"{site_url}{docname}.html?{BARE}", site_url, after_load=False)
            pages[docname]["bare"] = {k: bare[k] for k in ("first_paint_s", "load_s", "bytes") if k in bare}
    keys = ["first_paint_s", "load_s", "usable_s", "main_thread_s", "bytes"]
    summary = {key: {"median": round(statistics.median(p[key] for p in pages.values()), 2),
                     "max": round(max(p[key] for p in pages.values()), 2)}
               for key in keys if all(key in p for p in pages.values())}
    if reference:
        for key in ("first_paint_s", "load_s"):
            ratios = [p[key] / p["bare"][key] for p in pages.values() if p["bare"].get(key)]
            summary[f"{key}_x_bare"] = {"median": round(statistics.median(ratios), 2), "max": round(max(ratios), 2)}
    over = {"first_paint": [d for d, p in pages.items() if p.get("first_paint_s", 99) > FIRST_PAINT_AIM_S],
            "usable": [d for d, p in pages.items() if p["usable_s"] > USABLE_AIM_S]}
    return {"line": f"{DOWN_MBIT:g} Mbit/s, {LATENCY_MS} ms latency (CDP), text gzip-compressed",
            "aims_s": {"first_paint": FIRST_PAINT_AIM_S, "usable": USABLE_AIM_S},
            "pages": pages, "summary": summary, "over_aims": over}


def _ratio(page: dict, key: str) -> str:
    bare = page.get("bare", {}).get(key)
    return f"{page[key] / bare:5.1f}x" if bare and key in page else "    - "


def report(result: dict) -> str:
    aims = result.get("aims_s", {"first_paint": FIRST_PAINT_AIM_S, "usable": USABLE_AIM_S})
    referenced = any("bare" in p for p in result["pages"].values())
    lines = [f"Pages over {result['line']}, cold cache. " + (
                 "Reference in the same run: each page bare (its" if referenced else "No bare references in this run."),
             "HTML without scripts, styles or images) over the same line; 'x bare' = page / bare." if referenced
             else "('x bare' needs them: benchmarks/site_speed.py measures them.)",
             f"Aims: first paint < {aims['first_paint']:g} s, usable (loaded, math on screen typeset) < {aims['usable']:g} s;"
             " '!' marks a page over an aim.",
             f"{'page':44} {'first paint':>11} {'x bare':>6} {'load':>7} {'x bare':>6} {'usable':>7} "
             f"{'main thr':>8} {'MB':>5} {'req':>4}"]
    for name, p in result["pages"].items():
        paint = p.get("first_paint_s", float("nan"))
        flag_paint = "!" if not paint <= aims["first_paint"] else " "
        flag_usable = "!" if p["usable_s"] > aims["usable"] else " "
        lines.append(f"{name:44} {paint:9.2f}s{flag_paint} {_ratio(p, 'first_paint_s')} {p['load_s']:6.2f}s "
                     f"{_ratio(p, 'load_s')} {p['usable_s']:6.2f}s{flag_usable}{p.get('main_thread_s', float('nan')):7.2f}s "
                     f"{p['bytes'] / 1e6:5.2f} {p['requests']:4d}"
                     + (f"  (fastest of {p['attempts']} loads)" if p.get("attempts", 1) > 1 else "")
                     + ("  (still fetching 30 s after its load event)" if p.get("still_loading_after_30_s") else ""))
    summary = result["summary"]
    lines.append("")
    for key, label in (("first_paint_s", "first paint"), ("load_s", "load"), ("usable_s", "usable"),
                       ("main_thread_s", "main thread busy")):
        if key in summary:
            extra = ""
            if f"{key}_x_bare" in summary:
                r = summary[f"{key}_x_bare"]
                extra = f"; {r['median']:.1f}x bare (median), {r['max']:.1f}x (max)"
            lines.append(f"{label:17} median {summary[key]['median']:.2f} s, max {summary[key]['max']:.2f} s{extra}")
    missing = [name for name, p in result["pages"].items() if p.get("status", 200) != 200]
    if missing:
        lines.append(f"NOT FOUND (HTTP status other than 200): {', '.join(missing)}")
    lines.append(f"{'weight':17} median {summary['bytes']['median'] / 1e6:.2f} MB, max {summary['bytes']['max'] / 1e6:.2f} MB")
    over = result.get("over_aims", {})
    for aim, label in (("first_paint", "first paint"), ("usable", "usable")):
        pages = over.get(aim, [])
        lines.append(f"over the {label} aim ({aims[aim]:g} s): " + (", ".join(pages) if pages else "none")
                     + f" ({len(pages)} of {len(result['pages'])} pages)")
    return "\n".join(lines)


def stale_sources(site: Path) -> list[str]:
    """The sources (chapters, pages, course_lib, the site's own assets) newer than the build."""
    # Sphinx rewrites only the pages whose sources changed, but the search index on every build
    built = max((site / name).stat().st_mtime for name in ("index.html", "searchindex.js") if (site / name).is_file())
    sources = [*(ROOT / "book").rglob("*.ipynb"), *(ROOT / "book").rglob("*.md"),
               *(ROOT / "course_lib").rglob("*.py"), *(ROOT / "book" / "_static").glob("*"),
               ROOT / "_config.yml", ROOT / "_toc.yml"]
    return sorted(str(p.relative_to(ROOT)) for p in sources
                  if p.is_file() and ".ipynb_checkpoints" not in p.parts and p.stat().st_mtime > built)


def require_site(site: Path) -> None:
    """Stop with a clear message when there is no built site; say so when it is older than its sources."""
    if not (site / "index.html").is_file() or not (site / "searchindex.js").is_file():
        raise SystemExit(f"no built site in {site}: run `make book` first "
                         "(or `.venv/bin/python benchmarks/run_all.py --build`)")
    stale = stale_sources(site)
    if stale:
        print(f"note: {site} is older than {len(stale)} of its sources ({', '.join(stale[:3])}"
              f"{', ...' if len(stale) > 3 else ''}): the numbers describe that older build; `make book` first "
              "to measure the current one", flush=True)


def run_on_built_site(argv, measure, report, report_path: Path) -> None:
    """The shared main of the site benchmarks: serve the built site (``argv[0]`` or _build/html)
    as a static host would, open headless Chromium, ``measure(browser, url, site)``, print
    ``report(result)`` and write the result as JSON to ``report_path``."""
    from playwright.sync_api import sync_playwright
    from site_fixtures import CHROMIUM, CHROMIUM_ARGS

    argv = sys.argv[1:] if argv is None else argv
    site = Path(argv[0]) if argv else ROOT / "_build" / "html"
    require_site(site)
    with serve_compressed(site) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            result = measure(browser, url, site)
        finally:
            browser.close()
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(json.dumps(result, indent=2) + "\n")
    print(report(result))
    print(f"(written to {report_path.relative_to(ROOT)})")


def main(argv=None) -> None:
    from site_fixtures import toc_docnames

    run_on_built_site(argv, lambda browser, url, site: measure_site(browser, url, toc_docnames()),
                      report, REPORT)


if __name__ == "__main__":
    main()
