"""Each chapter's run time, top to bottom in a fresh kernel (targets: under 10 s on a quiet machine,
never over 15 s on a busy one).

    .venv/bin/python benchmarks/notebooks.py                    # every chapter
    .venv/bin/python benchmarks/notebooks.py regularization     # some chapters, by name
    .venv/bin/python benchmarks/notebooks.py --cells 5 momentum # the 5 slowest cells of each

The reference measured in the same run is an empty notebook (kernel start-up and shutdown
alone), so the ratio column says how much of the time is the chapter's own work. Next to the
wall-clock time the kernel's CPU time (user + system, read from its process) is printed: on a
machine shared with other work the wall time grows several times, the CPU time far less (a
chapter whose CPU time alone is over 10 s cannot meet the quiet-machine target; it is marked).
For each chapter over the 10 s target (or all chapters, with ``--cells N``) the slowest cells
are listed with their wall and CPU times and the first line of their source.

The *drawing* column is the kernel's CPU time inside matplotlib's drawing: every outermost
``Figure.draw`` or ``print_figure`` call (a static figure's layout, drawing and SVG; a widget's
full redraws), timed by wrappers installed in the kernel before the chapter's first cell (the
installation imports matplotlib, which the first cell would import anyway). It is the part of a
chapter that no experiment of ours can shorten: matplotlib's own tick, text and layout work.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

BOOK = Path(__file__).resolve().parents[1] / "book"
QUIET_TARGET = 10.0   # seconds, fresh kernel, quiet machine
BUSY_LIMIT = 15.0     # seconds, never over on a busy machine


#: Installed in the kernel before a chapter: adds up the CPU time of the outermost matplotlib
#: drawing call (``Figure.draw``, ``print_figure``), so that a figure's layout, drawing and SVG
#: count once. ``DRAWING_REPORT`` prints the sum after the chapter's last cell.
DRAWING_CLOCK = """
# the drawing clock (it imports matplotlib, as the chapter's first cell would)
import time as _time, matplotlib.backend_bases as _bases, matplotlib.figure as _figure
_drawing = {"seconds": 0.0, "inside": False}
def _clocked(method):
    def clocked(*args, **kwargs):
        if _drawing["inside"]:
            return method(*args, **kwargs)
        _drawing["inside"], start = True, _time.process_time()
        try:
            return method(*args, **kwargs)
        finally:
            _drawing["seconds"] += _time.process_time() - start
            _drawing["inside"] = False
    return clocked
_figure.Figure.draw = _clocked(_figure.Figure.draw)
_bases.FigureCanvasBase.print_figure = _clocked(_bases.FigureCanvasBase.print_figure)
"""
DRAWING_REPORT = 'print(_drawing["seconds"])'


class TimedClient(NotebookClient):
    """A NotebookClient that records each cell's wall time and the kernel's CPU time."""

    def __init__(self, notebook, **kwargs):
        super().__init__(notebook, timeout=600, kernel_name="python3",
                         on_cell_execute=self._cell_starts, on_cell_executed=self._cell_ends,
                         on_notebook_start=self._kernel_started,
                         # the kernel's own log would print "running over TCP without
                         # encryption" for every notebook; errors still show
                         extra_arguments=["--log-level=ERROR"], **kwargs)
        self.cells: list[tuple[float, float, str]] = []   # (wall s, CPU s, first line)
        self._process = None
        self._start = None
        self.cpu_at_end = 0.0

    def _cpu(self) -> float:
        if self._process is None:
            return 0.0
        times = self._process.cpu_times()
        return times.user + times.system + times.children_user + times.children_system

    def _kernel_started(self, notebook):
        provisioner = getattr(self.km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        if process is not None:
            self._process = psutil.Process(process.pid)

    def _cell_starts(self, cell, cell_index):
        self._start = (time.perf_counter(), self._cpu())

    def _cell_ends(self, cell, cell_index, execute_reply):
        wall, cpu = self._start
        first = next((line for line in cell.source.splitlines() if line.strip()), "")
        self.cpu_at_end = self._cpu()
        self.cells.append((time.perf_counter() - wall, self.cpu_at_end - cpu, first))


def run(notebook, path: Path, *, clock: bool = True):
    """Execute ``notebook`` in a fresh kernel: (wall s, kernel CPU s, drawing CPU s, per-cell list).

    The kernel's CPU time is read when its last cell ends (start-up included, shutdown not).
    The clock's two cells (:data:`DRAWING_CLOCK`, :data:`DRAWING_REPORT`) run in the same kernel,
    before and after the chapter; the report's time is not counted. ``clock=False`` (the empty
    notebook, whose reference is the kernel alone): no clock, drawing 0.
    """
    notebook = nbformat.from_dict(notebook)      # a copy: the clock's cells are not the caller's
    if clock:
        notebook.cells = ([nbformat.v4.new_code_cell(DRAWING_CLOCK)] + notebook.cells
                          + [nbformat.v4.new_code_cell(DRAWING_REPORT)])
    client = TimedClient(notebook, resources={"metadata": {"path": str(path)}})
    start = time.perf_counter()
    client.execute()
    seconds, cpu = time.perf_counter() - start, client.cpu_at_end
    if not clock:
        return seconds, cpu, 0.0, client.cells
    report_wall, report_cpu, _ = client.cells.pop()
    return (seconds - report_wall, cpu - report_cpu, float(notebook.cells[-1].outputs[0]["text"]),
            client.cells)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", help="chapter names (default: all)")
    parser.add_argument("--cells", type=int, default=0,
                        help="list the N slowest cells of every chapter (default: top 3 of "
                             "chapters over the target only)")
    args = parser.parse_args(argv)
    paths = sorted(BOOK.glob("*.ipynb"))
    if args.chapters:
        unknown = sorted(set(args.chapters) - {p.stem for p in paths})
        if unknown:
            parser.error(f"no chapter {unknown}; the chapters are {[p.stem for p in paths]}")
        paths = [p for p in paths if p.stem in args.chapters]
    empty, empty_cpu, _, _ = run(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")]),
                                 BOOK, clock=False)
    print(f"{'chapter':24} {'wall':>8} {'kernel CPU':>11} {'drawing':>9} {'wall/empty':>11}")
    print(f"{'(empty notebook)':24} {empty:6.1f} s {empty_cpu:9.1f} s {'':9} {1.0:11.1f}")
    for path in paths:
        seconds, cpu, drawing, cells = run(nbformat.read(path, as_version=4), BOOK)
        flag = ""
        if seconds >= BUSY_LIMIT:
            flag = f"  over {BUSY_LIMIT:.0f} s"
        elif seconds >= QUIET_TARGET:
            flag = f"  over the {QUIET_TARGET:.0f} s target (quiet machine)"
        if cpu >= QUIET_TARGET:
            flag += f"; CPU alone over {QUIET_TARGET:.0f} s"
        print(f"{path.stem:24} {seconds:6.1f} s {cpu:9.1f} s {drawing:7.1f} s {seconds / empty:11.1f}{flag}")
        top = args.cells or (3 if seconds >= QUIET_TARGET else 0)
        for wall, cell_cpu, first in sorted(cells, reverse=True)[:top]:
            print(f"{'':4}cell {wall:5.2f} s wall {cell_cpu:5.2f} s CPU  {first[:60]}")


if __name__ == "__main__":
    main()
