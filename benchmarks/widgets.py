"""Median time of one widget update (compute + redraw + PNG), for every widget of the book.

    .venv/bin/python benchmarks/widgets.py

Each widget is built with its defaults, then every control is moved back and forth between
two values, 15 times; a move is timed from setting the value to the new PNG being ready,
exactly the path a slider event takes. Target (GUIDE.md): under 30 ms median. The ratio
column compares with a reference measured in the same run: rendering the same figure from
scratch with matplotlib's savefig, the cost a naive widget would pay on every move.
"""
from __future__ import annotations

import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_widgets import WIDGETS, another_value  # noqa: E402  (one discovery rule for tests and benchmarks)

REPEATS = 15


def time_updates(widget) -> list[float]:
    times = []
    for name, control in widget.controls.items():
        values = [control.value, another_value(control)]
        for i in range(REPEATS):
            start = time.perf_counter()
            control.value = values[(i + 1) % 2]
            times.append(time.perf_counter() - start)
    return times


def time_full_render(widget) -> float:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        widget.fig.savefig(io.BytesIO(), format="png")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> list[tuple[str, float]]:
    print(f"{'widget':32} {'median update':>14} {'p90':>8} {'full render':>12} {'ratio':>6}")
    results = []
    for cls in WIDGETS:
        widget = cls()
        times = sorted(time_updates(widget))
        median, p90 = statistics.median(times), times[int(0.9 * (len(times) - 1))]
        full = time_full_render(widget)
        results.append((cls.__name__, median))
        flag = "" if median < 0.030 else "  (over the 30 ms target)"
        print(f"{cls.__name__:32} {1e3 * median:11.1f} ms {1e3 * p90:5.1f} ms {1e3 * full:9.1f} ms "
              f"{median / full:6.2f}{flag}")
    return results


if __name__ == "__main__":
    main()
