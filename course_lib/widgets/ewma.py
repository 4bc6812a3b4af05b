"""Widgets of the chapter "Exponentially weighted moving averages"."""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from course_lib import _validate, ewma
from course_lib.plotting import COLORS
from course_lib.widgets._core import FigureWidget


def noisy_series(n: int = 120, rng=0) -> tuple[np.ndarray, np.ndarray]:
    """A noisy signal: a slow wave plus Gaussian noise drawn from ``rng`` (a Generator or an int seed).
    Returns (t, y), shapes (n,), t = 1..n."""
    n = _validate.integer("n", n, low=1)
    rng = _validate.rng("rng", rng)
    t = np.arange(1, n + 1, dtype=np.float64)
    signal = 10 + 5 * np.sin(2 * np.pi * t / 80) + 0.02 * t
    return t, signal + 2.0 * rng.standard_normal(n)


class EWMASeriesWidget(FigureWidget):
    """A noisy series with its EWMA and bias-corrected EWMA; a rho slider and a correction toggle."""

    def __init__(self, n: int = 120, rng=0, rho: float = 0.9):
        self.t, self.y = noisy_series(n, rng)
        super().__init__({
            "rho": widgets.FloatSlider(value=rho, min=0.0, max=0.99, step=0.01, description="ρ",
                                       readout_format=".2f", continuous_update=True),
            "bias_correction": widgets.Checkbox(value=True, description="show bias-corrected EWMA"),
        })

    def draw_initial(self, fig):
        ax = fig.add_subplot()
        ax.plot(self.t, self.y, ".", color=COLORS["data"], markersize=4, label="data $y_t$")
        self.lines = {
            "ewma": self.animate(ax.plot(self.t, self.y, color=COLORS["ewma"], label="EWMA $S_t$")[0]),
            "corrected": self.animate(ax.plot(self.t, self.y, color=COLORS["corrected"], linestyle="--",
                                              label=r"corrected $\hat S_t = S_t/(1-\rho^t)$")[0]),
        }
        self.animate(ax.title)
        ax.set(xlabel="step $t$", ylabel="value", ylim=(-1, 22))
        ax.legend(loc="lower right", ncols=3)
        self.ax = ax

    def update(self, rho, bias_correction):
        self.lines["ewma"].set_ydata(ewma.ewma(self.y, rho))
        self.lines["corrected"].set_ydata(ewma.ewma(self.y, rho, bias_correction=True))
        self.lines["corrected"].set_visible(bias_correction)
        self.ax.set_title(f"ρ = {rho:.2f}: effective window 1/(1-ρ) = {ewma.effective_window(rho):.1f} steps, "
                          f"lag ρ/(1-ρ) = {ewma.lag(rho):.1f} steps")


class WeightKernelWidget(FigureWidget):
    """The weights (1-rho) rho^k that S_t gives to y_{t-k}; their sum 1 - rho^t; the window and the lag."""

    K = 60  # number of weights shown

    def __init__(self, rho: float = 0.9, t: int = 20):
        super().__init__({
            "rho": widgets.FloatSlider(value=rho, min=0.0, max=0.98, step=0.01, description="ρ",
                                       readout_format=".2f"),
            "t": widgets.IntSlider(value=t, min=1, max=self.K, description="t (steps so far)"),
            "bias_correction": widgets.Checkbox(value=False, description="bias-corrected weights"),
        })

    def draw_initial(self, fig):
        ax = fig.add_subplot()
        k = np.arange(self.K)
        # One LineCollection of thick vertical segments: one artist to move, however many weights.
        self.bars = self.animate(ax.vlines(k, 0, np.zeros(self.K), color=COLORS["ewma"], linewidth=5))
        self.window_line = self.animate(ax.axvline(0, color=COLORS["reference"], linestyle=":",
                                                   label="effective window 1/(1-ρ)"))
        self.lag_line = self.animate(ax.axvline(0, color=COLORS["corrected"], linestyle="--",
                                                label="lag (mean age) ρ/(1-ρ)"))
        self.animate(ax.title)
        ax.set(xlabel="age $k$ of the value $y_{t-k}$ (0 = newest)", ylabel="weight", xlim=(-1, self.K))
        ax.legend(loc="upper right")
        self.ax = ax

    def update(self, rho, t, bias_correction):
        weights = np.zeros(self.K)
        weights[:t] = ewma.ewma_weights(rho, t, bias_correction=bias_correction)
        self.bars.set_segments([[(k, 0.0), (k, w)] for k, w in enumerate(weights)])
        self.window_line.set_xdata([ewma.effective_window(rho)] * 2)
        self.lag_line.set_xdata([ewma.lag(rho)] * 2)
        # The y-range snaps to a few levels, so most moves keep the axes (and the fast redraw);
        # the last one holds any weight up to 1 (rho = 0, or t = 1 with bias correction).
        levels = (0.05, 0.1, 0.2, 0.3, 0.6, 1.05)
        top = next((level for level in levels if weights.max() <= 0.95 * level), levels[-1])
        self.ax.set_ylim(0, top)
        self.ax.set_title(f"ρ = {rho:.2f}, t = {t}: the weights sum to "
                          f"{weights.sum():.3f}" + ("" if bias_correction else " = 1 − ρᵗ"))
