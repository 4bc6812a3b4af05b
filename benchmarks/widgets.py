"""Time of one widget update (compute + redraw + PNG) for every widget of the book, part by part.

    .venv/bin/python benchmarks/widgets.py [WidgetName ...]

Each widget is built with its defaults, then each control in turn is moved as a reader would: a
slider is dragged over its grid, one step at a time (REPEATS steps from the default, towards the
farther end), a menu, toggle or checkbox goes through all of its options (REPEATS moves); then the
control goes back to its default. A move is timed from setting the value to the new PNG being
ready, exactly the path a slider event takes, in wall-clock time and in CPU time
(``time.process_time``: less sensitive to other processes on a busy machine).

Each move is split into the three parts of ``FigureWidget.redraw``: *compute* (``update``: the
numbers and moving the artists), *redraw* (``_render``: matplotlib drawing into the canvas) and
*encode* (``_encode``: the PNG), each in CPU time. A move that redraws the whole figure (one that changes an axis'
limits or the surface shown, say) is a *switch* and is reported in its own columns (``full``: how
many of them drew the whole figure, the others reused a background drawn before); every other
move is an *update*, drawn over the cached background. *build* is the time to construct the widget
(a second one in the process, so that what the chapter's experiments cache is not counted again),
backgrounds drawn ahead included.

Targets (GUIDE.md, issue 17): update under 16 ms median and under 30 ms at p90, a switch under
50 ms. The ratios compare with a reference measured in the same run: rendering the same figure
from scratch with matplotlib's ``savefig``, the cost a naive widget would pay on every move (ratio
= median CPU time of a move / CPU time of savefig; compute, redraw and encode are medians of CPU
time per part).
"""
from __future__ import annotations

import io
import math
import statistics
import sys
import time
from pathlib import Path

import ipywidgets
import matplotlib

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_widgets import WIDGETS, another_value  # noqa: E402  (one discovery rule for tests and benchmarks)

REPEATS = 15
PARTS = ("update", "_render", "_encode")  # the methods timed: compute, redraw, encode
TARGET_MEDIAN, TARGET_P90, TARGET_SWITCH = 0.016, 0.030, 0.050


def moves(control) -> list:
    """The values a reader would set, in order: a drag over the slider's grid, or every option in
    turn; the last move goes back to the default."""
    default = control.value
    if isinstance(control, (ipywidgets.Checkbox, ipywidgets.ToggleButton)):
        values = [not default, default] * (REPEATS // 2) + [not default]
    elif getattr(control, "options", None):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        start = options.index(default)
        values = [options[(start + 1 + i) % len(options)] for i in range(REPEATS)]
    else:
        log = isinstance(control, ipywidgets.FloatLogSlider)  # its grid is one of exponents
        low, high = control.min, control.max
        position = round(math.log(default, control.base), 12) if log else default
        direction = 1 if high - position >= position - low else -1
        values = []
        for i in range(1, REPEATS + 1):
            position_i = position + direction * i * control.step
            if not low - 1e-9 <= position_i <= high + 1e-9:
                break
            position_i = round(position_i, 12)
            values.append(control.base ** position_i if log else position_i)
        if not values:  # a one-value slider: nothing to drag
            values = [another_value(control)]
    return values if values[-1] == default else values + [default]


class Timings:
    """Wraps a widget's ``update``, ``_render`` and ``_encode`` to time each call in CPU time (and
    to see whether ``_render`` drew the whole figure)."""

    def __init__(self, widget):
        self.last = {}
        for name in PARTS:
            setattr(widget, name, self._timed(name, getattr(widget, name)))

    def _timed(self, name, method):
        def timed(*args, **kwargs):
            start = time.process_time()
            out = method(*args, **kwargs)
            self.last[name] = time.process_time() - start
            if name == "_render":
                self.last["full"] = out  # whether it drew the whole figure
            return out
        return timed


def time_widget(cls) -> dict:
    """Every move of every control of a fresh ``cls()``: ``{"update": [...], "switch": [...]}``,
    each move a dict of wall time, CPU time and the three parts (seconds)."""
    cls()  # the experiments a widget draws are computed once per process: not part of its build time
    wall, cpu = time.perf_counter(), time.process_time()
    widget = cls()
    out = {"build": time.perf_counter() - wall, "build_cpu": time.process_time() - cpu, "update": [], "switch": []}
    timings = Timings(widget)
    for control in widget.controls.values():
        for value in moves(control):
            timings.last.clear()
            key = widget._key
            wall, cpu = time.perf_counter(), time.process_time()
            control.value = value
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if "_encode" not in timings.last:
                raise RuntimeError(f"{cls.__name__}: setting a control did not redraw the figure at once")
            move = {"wall": wall, "cpu": cpu, "full": timings.last["full"], **{name: timings.last[name] for name in PARTS}}
            # a switch: the static background changed (drawn in full, or one kept from before)
            out["switch" if widget._key != key or move["full"] else "update"].append(move)
    out["savefig"] = time_full_render(widget)
    return out


def time_full_render(widget) -> tuple[float, float]:
    """Median (wall, CPU) time of rendering the widget's figure from scratch with ``savefig``."""
    walls, cpus = [], []
    for _ in range(5):
        wall, cpu = time.perf_counter(), time.process_time()
        widget.fig.savefig(io.BytesIO(), format="png")
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def p90(values) -> float:
    values = sorted(values)
    return values[int(0.9 * (len(values) - 1))]


def median(moves_, key) -> float:
    return statistics.median(m[key] for m in moves_) if moves_ else float("nan")


def main(names=()) -> list[dict]:
    print(f"matplotlib {matplotlib.__version__}; times in ms, wall clock (cpu: CPU time of this process); targets: "
          f"update median < {1e3 * TARGET_MEDIAN:.0f}, p90 < {1e3 * TARGET_P90:.0f}, switch < {1e3 * TARGET_SWITCH:.0f}")
    print(f"{'':24} {'-------------------- updates --------------------':>52} {'savefig':>7}"
          f"  {'------------- switches -------------':>37} {'-- build --':>11}")
    print(f"{'widget':24} {'n':>3} {'median':>6} {'p90':>5} {'cpu':>5} {'compute':>7} {'redraw':>6} {'encode':>6} "
          f"{'ratio':>5} {'cpu':>7}  {'n':>3} {'full':>4} {'median':>6} {'max':>5} {'cpu':>5} {'ratio':>5} {'wall':>5} {'cpu':>5}")
    results = []
    for cls in WIDGETS:
        if names and cls.__name__ not in names:
            continue
        r = time_widget(cls)
        updates, switches, (full, full_cpu) = r["update"], r["switch"], r["savefig"]
        row = dict(widget=cls.__name__, updates=len(updates), median=median(updates, "wall"),
                   p90=p90([m["wall"] for m in updates]) if updates else float("nan"),
                   cpu=median(updates, "cpu"), cpu_p90=p90([m["cpu"] for m in updates]) if updates else float("nan"),
                   compute=median(updates, "update"),
                   redraw=median(updates, "_render"), encode=median(updates, "_encode"), savefig=full,
                   savefig_cpu=full_cpu,
                   switches=len(switches), full=sum(m["full"] for m in switches),
                   switch_median=median(switches, "wall"),
                   switch_max=max((m["wall"] for m in switches), default=float("nan")),
                   switch_cpu=median(switches, "cpu"), build=r["build"], build_cpu=r["build_cpu"])
        results.append(row)
        # flagged on CPU time, which stays close to the quiet machine's wall time on a busy one
        flags = [what for what, value, target in (("median", row["cpu"], TARGET_MEDIAN),
                                                  ("p90", row["cpu_p90"], TARGET_P90),
                                                  ("switch", row["switch_cpu"], TARGET_SWITCH))
                 if value >= target]
        ms = {key: 1e3 * value for key, value in row.items() if isinstance(value, float)}
        print(f"{cls.__name__:24} {len(updates):3d} {ms['median']:6.1f} {ms['p90']:5.1f} {ms['cpu']:5.1f} "
              f"{ms['compute']:7.1f} {ms['redraw']:6.1f} {ms['encode']:6.1f} {row['cpu'] / full_cpu:5.2f} "
              f"{ms['savefig_cpu']:7.1f}  {len(switches):3d} {row['full']:4d} {ms['switch_median']:6.1f} "
              f"{ms['switch_max']:5.0f} {ms['switch_cpu']:5.1f} {row['switch_cpu'] / full_cpu:5.2f} "
              f"{ms['build']:5.0f} {ms['build_cpu']:5.0f}" + (f"  over: {', '.join(flags)}" if flags else ""),
              flush=True)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
