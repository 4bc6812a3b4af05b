"""Execute chapter notebooks in a fresh kernel and store their outputs and widget state.

    python tools/execute_notebooks.py book/*.ipynb      # or: make notebooks

The committed notebooks carry these outputs: the website shows them (no execution at build
time) and nbval checks them against a fresh run in `make test`. Widget state is stored so the
site can render each widget's default figure. Timing metadata is not recorded, so a re-run
that changes nothing leaves the files unchanged.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path) -> float:
    """Run ``path`` top to bottom in a fresh kernel, write it back, return the seconds taken."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", store_widget_state=True,
                            record_timing=False, resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(notebook, path)
    return seconds


def main(paths: list[str]) -> int:
    if not paths:
        print("usage: python tools/execute_notebooks.py NOTEBOOK.ipynb ...", file=sys.stderr)
        return 2
    for name in paths:
        seconds = execute(Path(name))
        print(f"{name}: executed in {seconds:.1f} s (fresh kernel, including start-up)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
