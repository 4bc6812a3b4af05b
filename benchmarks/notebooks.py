"""Each chapter's run time, top to bottom in a fresh kernel (GUIDE.md target: under 15 s).

    .venv/bin/python benchmarks/notebooks.py

The reference measured in the same run is an empty notebook (kernel start-up and shutdown
alone), so the ratio column says how much of the time is the chapter's own work.
"""
from __future__ import annotations

import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

BOOK = Path(__file__).resolve().parents[1] / "book"


def run_seconds(notebook, path: Path) -> float:
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main():
    empty = run_seconds(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")]), BOOK)
    print(f"{'chapter':24} {'fresh-kernel run':>17} {'ratio to empty':>15}")
    print(f"{'(empty notebook)':24} {empty:15.1f} s {1.0:15.1f}")
    for path in sorted(BOOK.glob("*.ipynb")):
        seconds = run_seconds(nbformat.read(path, as_version=4), BOOK)
        flag = "" if seconds < 15 else "  (over the 15 s target)"
        print(f"{path.stem:24} {seconds:15.1f} s {seconds / empty:15.1f}{flag}")


if __name__ == "__main__":
    main()
