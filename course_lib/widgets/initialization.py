"""Widgets of the chapter "Initialization and data preprocessing".

- :class:`SignalPropagationWidget`: a deep network at initialization, per-layer histograms of the
  activations and the back-propagated gradients, and their standard deviations against the
  mean-field theory, as depth, width, weight scale and activation change.
- :class:`PreprocessingWidget`: a 2-D data cloud and gradient descent on its least-squares loss,
  raw / centred / standardized / whitened, with the condition number and the steps needed.
- :class:`SymmetryWidget`: a small network started from constant weights plus noise; the hidden
  units' weights over training.
"""
from __future__ import annotations

import math

import ipywidgets as widgets
import matplotlib.colors
import matplotlib.ticker
import numpy as np

from course_lib import diagnostics
from course_lib.experiments import initialization as experiments
from course_lib.plotting import COLORS
from course_lib.widgets._core import FigureWidget

#: Marked weight scales sigma_w * sqrt(fan_in) of the signal-propagation widget.
MARKS = {"LeCun/Xavier": 1.0, "He": math.sqrt(2.0)}


class SignalPropagationWidget(FigureWidget):
    """A deep network of square layers (no bias) at initialization, on 64 unit-Gaussian inputs.
    Controls: the activation, the weight scale σ_w·√n (LeCun/Xavier = 1, He = √2), the depth and
    the width n. Top: histograms of each layer's outputs and of the gradient reaching its
    pre-activations (in units of the top layer's). Bottom left: their standard deviations per layer,
    measured (solid) and from the mean-field theory (dotted). Bottom right: the theoretical ratio
    std(h_L)/std(h_1) against the scale, with the current scale marked."""

    MAX_DEPTH = 20
    WIDTHS = (32, 64, 128)
    N = 64
    BINS = 41
    SCALE_GRID = 2.0 ** np.arange(-3, 2.01, 0.125)

    def __init__(self, activation: str = "tanh", scale: float = 1.0, depth: int = 10, width: int = 128):
        generator = np.random.default_rng(0)
        self.x = generator.standard_normal((self.N, max(self.WIDTHS))).astype(np.float32)
        self.grad_top = generator.standard_normal((self.N, max(self.WIDTHS))).astype(np.float32)
        # unit-variance weights per width and activation, rescaled on each update
        self.base = {(a, w): experiments.deep_network(w, self.MAX_DEPTH, 1.0 / math.sqrt(w), a, rng=1,
                                                      dtype=np.float32)
                     for a in ("tanh", "relu", "linear") for w in self.WIDTHS}
        self.unit = {key: [layer.params["weight"].copy() for layer in model.layers if "weight" in layer.params]
                     for key, model in self.base.items()}
        super().__init__({
            "activation": widgets.Dropdown(options=["tanh", "relu", "linear"], value=activation,
                                           description="activation"),
            "scale": widgets.FloatLogSlider(value=scale, base=2, min=-3, max=2, step=0.125,
                                            description="σ_w·√n", readout_format=".3f"),
            "depth": widgets.IntSlider(value=depth, min=2, max=self.MAX_DEPTH, step=1, description="depth"),
            "width": widgets.Dropdown(options=list(self.WIDTHS), value=width, description="width n"),
        }, figsize=(8.6, 4.8), dpi=72)

    def draw_initial(self, fig):
        (self.ax_act, self.ax_grad), (self.ax_std, self.ax_ratio) = fig.subplots(2, 2)
        blank = np.zeros((self.BINS, self.MAX_DEPTH))
        style = dict(aspect="auto", origin="lower", cmap="Blues", interpolation="nearest",
                     norm=matplotlib.colors.PowerNorm(0.5, vmin=0.0, vmax=0.5))
        self.im_act = self.animate(self.ax_act.imshow(blank, extent=(0.5, self.MAX_DEPTH + 0.5, -3, 3), **style))
        self.im_grad = self.animate(self.ax_grad.imshow(blank, extent=(0.5, self.MAX_DEPTH + 0.5, -3, 3), **style))
        self.ax_act.set(xlabel="layer $l$", ylabel="activation $h_l$ (clipped)")
        self.ax_grad.set(xlabel="layer $l$", ylabel=r"$\partial L/\partial z_l$ / top layer's std")
        layers = np.arange(1, self.MAX_DEPTH + 1)
        self.lines = {}
        for key, color, label in (("act", COLORS["ewma"], "std of $h_l$"), ("grad", COLORS["corrected"],
                                                                            r"std of $\partial L/\partial z_l$")):
            self.lines[key] = self.animate(self.ax_std.plot(layers, layers * 0.0 + 1, color=color, marker=".",
                                                            label=f"{label}, measured")[0])
            self.lines[key + "_theory"] = self.animate(self.ax_std.plot(layers, layers * 0.0 + 1, ":", color=color,
                                                                        label="theory")[0])
        self.ax_std.set(xlabel="layer $l$", ylabel="standard deviation", yscale="log", ylim=(1e-6, 1e6),
                        xlim=(0.5, self.MAX_DEPTH + 0.5))
        self.ax_std.legend(fontsize=7, loc="upper left", ncols=2)
        self.ratio_curves = {}
        # std(h_L)/std(h_1) in theory, for every depth L at once (layer L of a deeper network)
        self.theory_ratios = {
            a: np.array([(lambda s: s / s[0])(diagnostics.mean_field(scale**2, self.MAX_DEPTH, a).act_std)
                         for scale in self.SCALE_GRID]) for a in ("tanh", "relu", "linear")}
        for activation, color in (("tanh", COLORS["momentum"]), ("relu", COLORS["rmsprop"]), ("linear", COLORS["sgd"])):
            self.ratio_curves[activation] = self.animate(self.ax_ratio.plot(self.SCALE_GRID, self.SCALE_GRID,
                                                                            color=color, label=activation)[0])
        for name, value in MARKS.items():
            self.ax_ratio.axvline(value, color=COLORS["reference"], linestyle=":", linewidth=0.8)
            self.ax_ratio.annotate(name, (value, 1e5), rotation=90, fontsize=7, ha="right", va="top")
        self.marker = self.animate(self.ax_ratio.plot([], [], "o", color=COLORS["reference"])[0])
        self.ax_ratio.set(xscale="log", yscale="log", xlabel=r"weight scale $\sigma_w\sqrt{n}$",
                          ylabel=r"theory: std$(h_L)$ / std$(h_1)$", ylim=(1e-6, 1e6))
        self.ax_ratio.legend(fontsize=7, loc="lower right")
        self.ax_ratio.set_xticks([0.125, 0.25, 0.5, 1, 2, 4])
        self.ax_ratio.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        self.ax_ratio.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        self._ratio_depth = None
        self.animate(self.ax_act.title)

    def update(self, activation, scale, depth, width):
        if self._ratio_depth != depth:  # the curves depend on the depth only: redrawn when it changes
            for name, line in self.ratio_curves.items():
                line.set_ydata(np.clip(self.theory_ratios[name][:, depth - 1], 1e-6, 1e6))
            self._ratio_depth = depth
        self.model = self.base[(activation, width)]
        for layer, unit in zip((l for l in self.model.layers if "weight" in l.params), self.unit[(activation, width)]):
            layer.params["weight"] = unit * np.float32(scale)
        self.run = experiments.propagation_statistics(self.model, self.x[:, :width], self.grad_top[:, :width],
                                                      activation, scale**2, depth=depth, bins=self.BINS,
                                                      act_range=3.0)
        pad = self.MAX_DEPTH - depth
        self.im_act.set_data(np.pad(self.run.act_hist.T, ((0, 0), (0, pad))))
        self.im_grad.set_data(np.pad(self.run.grad_hist.T, ((0, 0), (0, pad))))
        layers = np.arange(1, depth + 1)
        floor = 1e-30
        self.lines["act"].set_data(layers, np.maximum(self.run.act_std, floor))
        self.lines["grad"].set_data(layers, np.maximum(self.run.grad_std, floor))
        self.lines["act_theory"].set_data(layers, np.maximum(self.run.theory.act_std, floor))
        self.lines["grad_theory"].set_data(layers, np.maximum(np.sqrt(self.run.theory.grad_var), floor))
        ratio = self.run.theory.act_std[-1] / self.run.theory.act_std[0]
        self.marker.set_data([scale], [np.clip(ratio, 1e-6, 1e6)])
        marks = [name for name, value in MARKS.items() if abs(scale - value) < 1e-9]
        label = f" ({marks[0]})" if marks else ""
        self.ax_act.set_title(f"σ²n = {scale**2:.2f}{label}: ratio {self.run.act_std[-1] / self.run.act_std[0]:.2g}"
                              f" (theory {ratio:.2g})", fontsize=9)


class PreprocessingWidget(FigureWidget):
    """A 2-D data cloud (left) and gradient descent with α = 1/λ_max on its least-squares loss
    (right: contours and the first steps of the path, in coordinates centred on the minimizer).
    Controls: the preprocessing and the correlation of the two features. The title gives the
    Hessian's condition number and the exact number of steps to reduce the excess loss 10⁶-fold."""

    CORRELATIONS = (0.0, 0.8, 0.95)
    STEPS = 300

    def __init__(self, method: str = "raw", correlation: float = 0.8):
        self.results = {}
        for c in self.CORRELATIONS:
            x, y = experiments.cloud(correlation=c)
            for m in experiments.PREPROCESSING:
                self.results[(m, c)] = experiments.preprocessing_path(x, y, m, steps=self.STEPS, resolution=61)
        super().__init__({
            "method": widgets.ToggleButtons(options=list(experiments.PREPROCESSING), value=method,
                                            description="inputs"),
            "correlation": widgets.SelectionSlider(options=list(self.CORRELATIONS), value=correlation,
                                                   description="correlation"),
        }, figsize=(9.5, 4.0))

    def draw_initial(self, fig):
        self.ax_data, self.ax_path = fig.subplots(1, 2)
        self.points = self.animate(self.ax_data.scatter([], [], s=6, color=COLORS["data"]))
        self.ax_data.axhline(0.0, color=COLORS["reference"], linewidth=0.6)
        self.ax_data.axvline(0.0, color=COLORS["reference"], linewidth=0.6)
        self.ax_data.set(xlim=(-5, 11), ylim=(-5, 5), xlabel="feature $x_1$", ylabel="feature $x_2$", aspect="equal")
        self.contours = {}
        for key, result in self.results.items():
            W1, W2, J = result.grid
            size = self._size(result)
            U1, U2 = (W1 - result.w_star[0]) / size, (W2 - result.w_star[1]) / size
            low = result.losses.min()
            levels = low + (result.losses[0] - low) * np.geomspace(1e-3, 1.5, 10)
            contour = self.ax_path.contour(U1, U2, J, levels=levels, colors=COLORS["data"], linewidths=0.6)
            contour.set_visible(False)
            self.contours[key] = self.animate(contour)
        self.path = self.animate(self.ax_path.plot([], [], ".-", color=COLORS["rmsprop"], markersize=3, linewidth=0.8)[0])
        self.ax_path.plot([0], [0], "*", color=COLORS["reference"], markersize=10)
        self.ax_path.set(xlim=(-3, 3), ylim=(-3, 3), xlabel=r"$(w_1 - w_1^*)/s$", ylabel=r"$(w_2 - w_2^*)/s$",
                         aspect="equal")
        self.animate(self.ax_path.title)

    @staticmethod
    def _size(result):
        return max(1.0, float(np.abs(result.w_star).max()))

    def update(self, method, correlation):
        self.result = result = self.results[(method, correlation)]
        for key, contour in self.contours.items():
            contour.set_visible(key == (method, correlation))
        self.points.set_offsets(result.x)
        u = (result.w - result.w_star) / self._size(result)
        self.path.set_data(u[:, 0], u[:, 1])
        self.ax_path.set_title(f"{method}: κ = {result.kappa:.3g}, steps to 10⁻⁶: {result.steps_needed} "
                               f"(path: first {self.STEPS})")


class SymmetryWidget(FigureWidget):
    """A 2-5-2 tanh network on the two moons, every weight started at 0.5 plus noise of the chosen
    size, trained by full-batch gradient descent. Left: each hidden unit's two input weights over
    training (one colour per unit); right: their spread across the units (largest minus smallest)."""

    NOISE = (0.0, 1e-6, 1e-2, 0.1, 0.5)
    STEPS = 200

    def __init__(self, noise: float = 0.0):
        self.runs = {value: experiments.symmetry_run(value, steps=self.STEPS) for value in self.NOISE}
        super().__init__({
            "noise": widgets.SelectionSlider(options=list(self.NOISE), value=noise, description="noise std"),
        }, figsize=(9.5, 3.6))

    def draw_initial(self, fig):
        self.ax_w, self.ax_spread = fig.subplots(1, 2)
        hidden = next(iter(self.runs.values())).shape[1]
        colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]
        self.unit_lines = [self.animate(self.ax_w.plot([], [], color=colors[j % len(colors)], linewidth=1.2)[0])
                           for j in range(hidden)]
        self.ax_w.set(xlim=(-2.5, 2.5), ylim=(-2.5, 2.5), xlabel="weight from $x_1$", ylabel="weight from $x_2$")
        steps = np.arange(self.STEPS + 1)
        self.spread = {i: self.animate(self.ax_spread.semilogy(steps, steps * 0.0 + 1, color=c, label=label)[0])
                       for i, (c, label) in enumerate((("tab:blue", "from $x_1$"), ("tab:orange", "from $x_2$")))}
        self.ax_spread.set(xlabel="gradient-descent step", ylabel="largest - smallest across units", ylim=(1e-18, 10))
        self.ax_spread.legend(loc="lower right")
        self.animate(self.ax_w.title)

    def update(self, noise):
        self.weights = w = self.runs[noise]
        for j, line in enumerate(self.unit_lines):
            line.set_data(w[:, j, 0], w[:, j, 1])
        self.spreads = w.max(axis=1) - w.min(axis=1)  # exactly 0 while the units are equal
        for i, line in self.spread.items():
            line.set_ydata(np.maximum(self.spreads[:, i], 1e-18))
        self.ax_w.set_title(f"noise {noise:g}: final spread {self.spreads[-1].max():.2g}")
