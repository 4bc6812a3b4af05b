"""One consistent look for every figure of the book (chapters and widgets alike)."""
from __future__ import annotations

import functools
import os

import matplotlib

#: rcParams applied to every figure: readable labels, light grid, no top/right spines.
STYLE = {
    "figure.dpi": 90,
    "savefig.dpi": 90,
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "legend.fontsize": 9,
    "lines.linewidth": 1.8,
    "svg.hashsalt": "course_lib",  # deterministic SVG ids
    "svg.fonttype": "path",  # text drawn as outlines: the SVG needs no font on the reader's machine
}

#: Colours with a fixed meaning across chapters.
COLORS = {
    "data": "0.55",
    "ewma": "tab:blue",
    "corrected": "tab:orange",
    "reference": "black",
    "sgd": "tab:gray",
    "momentum": "tab:blue",
    "nesterov": "tab:green",
    "adagrad": "tab:purple",
    "rmsprop": "tab:red",
    "adadelta": "tab:brown",
    "adam": "tab:orange",
}


#: How a chapter's figures are stored in the notebook, as {MIME type: what matplotlib writes}:
#: an SVG, which the website shows (vector: sharp on high-density screens and when zoomed,
#: and gzip-compressed smaller than the PNG), and a PNG at STYLE's dpi, which Jupyter shows
#: where it may not show an SVG (an untrusted notebook, such as a downloaded one).
#: ``metadata``: none (matplotlib would write the time into an SVG and its version into a
#: PNG), so a stored figure changes only when its drawing does. ``dpi`` of the SVG: that of the
#: pictures inside it (heat maps, images), twice STYLE's, sharp on a high-density screen too.
#: The PNG copy is drawn only while outputs are stored for others to open
#: (:data:`STORING_OUTPUTS`): in a reader's own kernel the outputs are trusted and Jupyter shows
#: the SVG, and a second rendering nobody sees would cost each figure about as much again
#: (0.4-0.6 s for a six-panel contour figure).
FIGURE_FORMATS = {
    "image/svg+xml": {"fmt": "svg", "dpi": 2 * STYLE["figure.dpi"],
                      "metadata": {"Creator": None, "Date": None, "Format": None, "Type": None}},
    "image/png": {"fmt": "png", "base64": True, "metadata": {"Software": None}},
}

#: Environment variable set (to "1") by tools/execute_notebooks.py, which stores the chapters'
#: outputs: figures then get their PNG copy too.
STORING_OUTPUTS = "COURSE_LIB_STORING_OUTPUTS"


def use_book_style() -> None:
    """Apply :data:`STYLE` globally and, in a Jupyter kernel, show figures as
    :data:`FIGURE_FORMATS` (the PNG copy only while outputs are stored, :data:`STORING_OUTPUTS`;
    chapters call this once, in their first code cell)."""
    matplotlib.rcParams.update(STYLE)
    if _in_notebook():
        from IPython import get_ipython
        from IPython.core.pylabtools import print_figure
        from matplotlib.figure import Figure
        # Importing it sets up the inline backend now; else the first figure would, and
        # reset every figure formatter to its own PNG one.
        from matplotlib_inline import backend_inline  # noqa: F401

        formatters = get_ipython().display_formatter.formatters
        storing = os.environ.get(STORING_OUTPUTS) == "1"
        for mime, options in FIGURE_FORMATS.items():
            formatters[mime].pop(Figure, None)
            if storing or mime != "image/png":
                formatters[mime].for_type(Figure, functools.partial(print_figure, bbox_inches="tight", **options))


class Progress:
    """A training-progress hook for ``course_lib.train.train(..., hooks=[Progress()])``.

    After each epoch it shows the epoch and the latest losses/accuracies (never timings, so stored
    outputs are reproducible): an ipywidgets bar in a notebook, one plain-text line per epoch
    elsewhere. ``kind`` is ``"widget"``, ``"text"`` or ``"auto"`` (widget in a Jupyter kernel).
    """

    def __init__(self, kind: str = "auto"):
        if kind not in ("auto", "widget", "text"):
            raise ValueError(f"kind must be 'auto', 'widget' or 'text', got {kind!r}")
        self.kind = ("widget" if _in_notebook() else "text") if kind == "auto" else kind
        self.bar = self.label = None

    def on_epoch(self, info):
        history = info.history
        message = f"train loss {history.train_loss[-1]:.4f}  train acc {history.train_acc[-1]:.4f}"
        if history.val_loss:
            message += f"  val loss {history.val_loss[-1]:.4f}  val acc {history.val_acc[-1]:.4f}"
        self.update(info.epoch, info.epochs, message)

    def update(self, epoch: int, total: int, message: str):
        """Show ``epoch``/``total`` and ``message``."""
        if self.kind == "text":
            print(f"epoch {epoch}/{total}  {message}", flush=True)
            return
        if self.bar is None:
            import ipywidgets
            from IPython.display import display

            self.bar = ipywidgets.IntProgress(value=0, min=0, max=total, description="epoch")
            self.label = ipywidgets.Label(value="")
            display(ipywidgets.HBox([self.bar, self.label]))
        self.bar.max = total
        self.bar.value = epoch
        self.label.value = f"{epoch}/{total}  {message}"


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})
