"""The widgets on the static site: bytes each one loads and the time from a control change to the
frame that shows the new figure, in headless Chromium (aim: one frame, 16 ms).

Every control of every widget is moved as in tests/test_site_widgets.py (which also checks each
figure against the Python widget, pixel for pixel). Run after ``make book``:
``.venv/bin/python benchmarks/site_widgets.py [_build/html]``.
"""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main(argv=None) -> None:
    from playwright.sync_api import sync_playwright

    import site_speed
    import test_site_widgets as widgets
    from site_fixtures import CHROMIUM, CHROMIUM_ARGS, DESKTOP, visit

    argv = sys.argv[1:] if argv is None else argv
    site = Path(argv[0]) if argv else ROOT / "_build" / "html"
    print(f"{'widget':34} {'states':>6} {'MB':>6} {'changes':>7} {'median ms':>9} {'max ms':>7}")
    with site_speed.serve_compressed(site) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for docname in widgets.WIDGET_PAGES:
                with visit(browser, f"{url}{docname}.html", url, DESKTOP) as loaded:
                    for name, spec in widgets.page_specs(docname).items():
                        problems, timings = widgets.check_widget(loaded.page, name, spec)
                        size = (site / "_static" / "widget-states" / f"{name}.js").stat().st_size
                        print(f"{name:34} {spec.states:6d} {size / 1e6:6.2f} {len(timings):7d} "
                              f"{statistics.median(timings):9.1f} {max(timings):7.1f}"
                              + (f"  PROBLEMS: {problems}" if problems else ""))
        finally:
            browser.close()


if __name__ == "__main__":
    main()
