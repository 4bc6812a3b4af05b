"""One consistent look for every figure of the book (chapters and widgets alike)."""
from __future__ import annotations

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


def use_book_style() -> None:
    """Apply :data:`STYLE` globally (chapters call this once, in their first code cell)."""
    matplotlib.rcParams.update(STYLE)
