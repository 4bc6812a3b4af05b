"""Live widget latency: from moving a control to the new figure, in JupyterLab and Chromium.

Runs tests/test_widgets_live.py (JupyterLab on localhost, every chapter with widgets run in
headless Chromium, one control of each widget moved five times, the slowest slider dragged),
which writes _build/benchmarks/widgets_live.json, and prints per chapter:

- how long the page took to settle after "run all" (JupyterLab renders the chapter's text for
  seconds after the run; the moves start once the page has been idle for half a second);
- the median and p90 of change -> new figure decoded, the whole path a reader waits for: the key
  press, the message to the kernel, the widget's compute, redraw and PNG (``kernel``: timed in
  that kernel; benchmarks/widgets.py measures it alone), the PNG sent back, the browser decoding it;
- the same for the reference measured in the same run, right after each chapter: the trivial-update
  floor, a widget that only sends a precomputed 1-pixel PNG (kernel round trip, frame, decode);
- the difference and the ratio to the floor (the aim: within 15 ms of it), and ``rest``: the
  difference less the kernel's update time (what a real figure costs beyond its compute: the
  larger PNG sent and decoded);
- the drag: slider positions passed, updates the kernel drew, updates handled after the release
  (no backlog: at most the one in flight and the last value), release -> final figure in ms and in
  updates (the widget's median move), and whether the final figure is the final value's.

``--chapters book/ewma,book/momentum`` runs only those chapters.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "_build" / "benchmarks" / "widgets_live.json"


def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "-"


def rest(row):
    over, kernel = row["over_floor_median_ms"], row["kernel_update_median_ms"]
    return None if over is None or kernel is None else round(over - kernel, 1)


def show(value):
    return "-" if value is None else value


def print_report(report: dict) -> None:
    print(f"{'chapter':<22} {'settle':>6} {'moves':>5} {'median':>7} {'p90':>6} {'floor':>6} {'fl.p90':>6} "
          f"{'+median':>7} {'+p90':>6} {'x floor':>7} {'kernel':>6} {'cpu':>5} {'rest':>5}   drag: positions/updates/after "
          f"release, release->final ms (updates), final figure right")
    for chapter, row in report["chapters"].items():
        floor = row["floor"]
        drag = row["drag"].get("drag", {})
        keys = row["drag"].get("keys", {})

        def gesture(g):
            if not g:
                return "-"
            return (f"{g['positions']}/{g['updates']}/{g['updates_after_release']}, "
                    f"{g['release_to_final_ms']} ({g.get('release_to_final_updates', '-')}), "
                    f"{'yes' if g['final_figure_matches'] else 'NO'}")

        settle = row.get("settle_ms")
        settle = "-" if settle is None else f"{settle / 1000:.1f}"
        print(f"{Path(chapter).name:<22} {settle:>6} {row['moves']:>5} {show(row['median_ms']):>7} {show(row['p90_ms']):>6} "
              f"{show(floor['median_ms']):>6} {show(floor['p90_ms']):>6} {show(row['over_floor_median_ms']):>7} "
              f"{show(row['over_floor_p90_ms']):>6} {ratio(row['median_ms'], floor['median_ms']):>7} "
              f"{show(row['kernel_update_median_ms']):>6} {show(row.get('kernel_update_cpu_median_ms')):>5} "
              f"{show(rest(row)):>5}   drag {gesture(drag)}; keys {gesture(keys)}")
    floor = report["floor"]
    print(f"(ms; settle: s from the end of 'run all' until the page was idle, before the first move; "
          f"change -> new figure decoded in the browser; floor: 1-pixel PNG widget, {floor['moves']} moves "
          f"in all, median {floor['median_ms']}, p90 {floor['p90_ms']}; kernel, cpu: median redraw in the "
          f"chapter's kernel, wall clock and CPU; {report['seconds']} s in all; {REPORT})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapters", help="comma-separated docnames (book/ewma,...); default: all")
    args = parser.parse_args()
    env = dict(os.environ, **({"WIDGETS_LIVE_CHAPTERS": args.chapters} if args.chapters else {}))
    started = time.time()
    result = subprocess.run([sys.executable, "-m", "pytest", "tests/test_widgets_live.py", "-q",
                             "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True, env=env)
    if REPORT.exists() and REPORT.stat().st_mtime >= started:  # written before the test's checks
        print_report(json.loads(REPORT.read_text()))
    print(f"(the test took {time.time() - started:.0f} s)")
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-2000:])
        raise SystemExit("the live widget test failed")
