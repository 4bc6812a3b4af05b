"""Execute chapter notebooks in a fresh kernel and store their outputs and widget state.

    python tools/execute_notebooks.py book/*.ipynb      # or: make notebooks

The committed notebooks carry these outputs: the website shows them (no execution at build
time) and nbval checks them against a fresh run in `make test`. Widget state is stored so the
site can render each widget's default figure. Timing metadata is not recorded, so a re-run
that changes nothing leaves the files unchanged: ipywidgets names its models with random
UUIDs, so the model ids are renamed in a fixed order (model 0, 1, 2, ... as they are reached
from the outputs, cell by cell), and a cell's printed text is stored as one output per stream.
"""
from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from course_lib.plotting import STORING_OUTPUTS


WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def stable_widget_ids(notebook) -> None:
    """Rename the widget models' random ids to ``00000000000000000000000000000000``, ``...01``, ...

    Ids are numbered in the order a depth-first walk reaches them: from each widget output, cell by
    cell, through the ``IPY_MODEL_<id>`` references of each model's state (in sorted key order).
    """
    state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    order: list[str] = []

    def visit(model_id: str) -> None:
        if model_id in order or model_id not in state:
            return
        order.append(model_id)
        text = json.dumps(state[model_id]["state"], sort_keys=True)
        for child in re.findall(r"IPY_MODEL_([0-9a-f]{32})", text):
            visit(child)

    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view:
                visit(view["model_id"])
    order += sorted(set(state) - set(order), key=lambda i: json.dumps(state[i], sort_keys=True))
    if not order:
        return
    text = json.dumps(notebook)
    for number, model_id in enumerate(order):
        text = text.replace(model_id, f"{number:032x}")
    renamed = json.loads(text)
    notebook.cells = nbformat.from_dict(renamed["cells"])
    notebook.metadata = nbformat.from_dict(renamed["metadata"])


def merge_streams(notebook) -> None:
    """Join each run of consecutive ``stream`` outputs of the same name (stdout, stderr) into one:
    how many chunks a cell's printing arrives in depends on timing, what it printed does not."""
    for cell in notebook.cells:
        merged = []
        for output in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            if (output.output_type == "stream" and previous is not None
                    and previous.output_type == "stream" and previous.name == output.name):
                previous.text += output.text
            else:
                merged.append(output)
        if "outputs" in cell:
            cell.outputs = merged


def execute(path: Path) -> float:
    """Run ``path`` top to bottom in a fresh kernel, write it back, return the seconds taken."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", store_widget_state=True,
                            record_timing=False, resources={"metadata": {"path": str(path.parent)}})
    os.environ[STORING_OUTPUTS] = "1"  # the kernel inherits it: figures get their PNG copy for untrusted readers
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    merge_streams(notebook)
    stable_widget_ids(notebook)
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
