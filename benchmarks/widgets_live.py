"""Live widget latency: from moving a control to the new figure, in JupyterLab and Chromium.

Runs tests/test_widgets_live.py (JupyterLab on localhost, every chapter with widgets run in
headless Chromium, one control of each widget moved three times), which writes
_build/benchmarks/widgets_live.json, and prints its median per chapter. The time covers the
whole path a reader waits for: the key press or click, the message to the kernel, the widget's
compute and redraw (benchmarks/widgets.py measures that part alone), the PNG sent back, and
the browser decoding it.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "_build" / "benchmarks" / "widgets_live.json"

if __name__ == "__main__":
    result = subprocess.run([sys.executable, "-m", "pytest", "tests/test_widgets_live.py", "-q",
                             "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-2000:])
        raise SystemExit("the live widget test failed")
    report = json.loads(REPORT.read_text())
    print(f"{'chapter':<40} {'widgets':>7} {'moves':>5} {'median ms':>9}")
    for chapter, row in report["chapters"].items():
        print(f"{chapter:<40} {row['widgets']:>7} {row['moves']:>5} {row['median_ms']:>9}")
    print(f"(change -> new figure decoded in the browser; {report['seconds']} s in all; {REPORT})")
