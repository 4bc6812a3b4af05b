"""The widgets on the static site: bytes each one loads and the time from a control change to the
frame that shows the new figure, in headless Chromium (aim: one frame, 16 ms).

Every control of every widget is moved as in tests/test_site_widgets.py (which also checks each
figure against the Python widget, pixel for pixel: a widget that shows a wrong figure is listed
with its problems). Per widget: the number of precomputed states, the bytes of its states script
(loaded on the first touch of the widget, never with the page) as a file and gzip-compressed as
a static host sends it, the number of changes timed, and their median, p90 and largest time.

The reference measured in the same run, on each page before its widgets: the *trivial-swap
floor*, the path a widget's change takes (book/_static/book-widgets.js: an image decoded from a
data URI, drawn on a canvas, the next ``requestAnimationFrame``) with a figure of one pixel, 30
times at random moments. It is what any change costs on this machine at this moment; ``- floor``
and ``x floor`` compare a widget's median with the floor's median (what the widget's own figures
add). Target (GUIDE.md, issue 15): median under 16 ms, one frame.

Run after ``make book``: ``.venv/bin/python benchmarks/site_widgets.py [_build/html]``. It prints
the report and writes it to ``_build/benchmarks/site_widgets.json``.
"""
from __future__ import annotations

import gzip
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

TARGET_MEDIAN_MS = 16.0
FLOOR_SAMPLES = 30
REPORT = ROOT / "_build" / "benchmarks" / "site_widgets.json"

FRAME_FLOOR = """async (samples) => {
  // distinct 1-pixel PNGs (a data URI already decoded once would come from the cache)
  const pixel = document.createElement('canvas');
  pixel.width = pixel.height = 1;
  const uris = [];
  for (let i = 0; i < samples; i++) {
    const p = pixel.getContext('2d');
    p.fillStyle = `rgb(${i}, ${255 - i}, ${(7 * i) % 256})`;
    p.fillRect(0, 0, 1, 1);
    uris.push(pixel.toDataURL('image/png'));
  }
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  canvas.style.cssText = 'position: fixed; left: 0; bottom: 0; width: 1px; height: 1px;';
  document.body.appendChild(canvas);
  const ctx = canvas.getContext('2d');
  const times = [];
  for (let i = 0; i < samples; i++) {
    await new Promise(resolve => setTimeout(resolve, 20 + 17 * Math.random()));
    const started = performance.now();
    const image = new Image();
    image.src = uris[i];
    await image.decode();
    ctx.drawImage(image, 0, 0);
    await new Promise(resolve => requestAnimationFrame(resolve));
    times.push(performance.now() - started);
  }
  canvas.remove();
  return times;
}"""


def p90(values):
    return statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else values[0]


def measure_widgets(browser, url: str, site: Path) -> dict:
    import test_site_widgets as widgets
    from site_fixtures import DESKTOP, visit

    result = {"target_median_ms": TARGET_MEDIAN_MS, "pages": {}, "widgets": {}}
    for docname in widgets.WIDGET_PAGES:
        with visit(browser, f"{url}{docname}.html", url, DESKTOP) as loaded:
            floor = loaded.page.evaluate(FRAME_FLOOR, FLOOR_SAMPLES)
            result["pages"][docname] = {"floor_median_ms": round(statistics.median(floor), 2),
                                        "floor_p90_ms": round(p90(floor), 2)}
            for name, spec in widgets.page_specs(docname).items():
                problems, timings = widgets.check_widget(loaded.page, name, spec)
                states = site / "_static" / "widget-states" / f"{name}.js"
                median = statistics.median(timings) if timings else None
                python_class = loaded.page.evaluate("(name) => bookWidgets.current(name).pythonClass", name)
                result["widgets"][name] = {
                    "page": docname, "class": python_class.rsplit(".", 1)[-1], "states": spec.states, "bytes": states.stat().st_size,
                    "gzip_bytes": len(gzip.compress(states.read_bytes(), compresslevel=6)),
                    "changes": len(timings),
                    "median_ms": round(median, 1) if timings else None,
                    "p90_ms": round(p90(timings), 1) if timings else None,
                    "max_ms": round(max(timings), 1) if timings else None,
                    "minus_floor_ms": round(median - statistics.median(floor), 1) if timings else None,
                    "x_floor": round(median / statistics.median(floor), 2) if timings else None,
                    "problems": problems + loaded.problems()}
    return result


def report(result: dict) -> str:
    target = result["target_median_ms"]
    lines = ["Widgets on the site (headless Chromium), change -> frame showing the new figure, in ms.",
             "Reference in the same run, on each page: the trivial-swap floor (a 1-pixel figure decoded, drawn,",
             "next frame); '- floor', 'x floor' compare the widget's median with it.",
             f"Target: median < {target:g} ms; '!' marks a widget over it. MB: its states script (loaded on first touch).",
             f"{'widget (its class)':34} {'states':>6} {'MB':>5} {'MB gz':>5} {'moves':>5} {'median':>7} {'p90':>6} "
             f"{'max':>6} {'- floor':>7} {'x floor':>7}"]
    for docname, page in result["pages"].items():
        lines.append(f"{docname}: floor median {page['floor_median_ms']:.1f} ms, p90 {page['floor_p90_ms']:.1f} ms")
        for name, w in result["widgets"].items():
            if w["page"] != docname:
                continue
            label = f"{name.rsplit('-', 1)[-1]} ({w['class']})"
            if w["median_ms"] is None:
                lines.append(f"  {label:32} {w['states']:6d} no change was timed  PROBLEMS: {w['problems']}")
                continue
            flag = "!" if w["median_ms"] > target else " "
            lines.append(f"  {label:32} {w['states']:6d} {w['bytes'] / 1e6:5.2f} {w['gzip_bytes'] / 1e6:5.2f} "
                         f"{w['changes']:5d} {w['median_ms']:6.1f}{flag} {w['p90_ms']:6.1f} {w['max_ms']:6.1f} "
                         f"{w['minus_floor_ms']:7.1f} {w['x_floor']:6.2f}x" + (f"  PROBLEMS: {w['problems'][:3]}" if w["problems"] else ""))
    timed = [w for w in result["widgets"].values() if w["median_ms"] is not None]
    if timed:
        medians = [w["median_ms"] for w in timed]
        over = [f"{w['class']} ({w['page'].rsplit('/', 1)[-1]})" for w in timed if w["median_ms"] > target]
        lines += ["", f"{len(timed)} widgets: median of the medians {statistics.median(medians):.1f} ms, largest median "
                  f"{max(medians):.1f} ms, {statistics.median([w['x_floor'] for w in timed]):.2f}x the floor (median of the ratios)",
                  f"states scripts: {sum(w['bytes'] for w in timed) / 1e6:.1f} MB in all, "
                  f"{sum(w['gzip_bytes'] for w in timed) / 1e6:.1f} MB gzip-compressed, largest "
                  f"{max(w['bytes'] for w in timed) / 1e6:.2f} MB",
                  f"over the {target:g} ms target: " + (", ".join(over) if over else "none")]
    bad = [f"{w['class']} ({name})" for name, w in result["widgets"].items() if w["problems"]]
    lines.append("widgets showing a wrong figure or with errors: " + (", ".join(bad) if bad else "none"))
    return "\n".join(lines)


def main(argv=None) -> None:
    import site_speed

    site_speed.run_on_built_site(argv, measure_widgets, report, REPORT)


if __name__ == "__main__":
    main()
