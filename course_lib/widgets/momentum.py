"""Widgets of the chapter "Momentum"."""
from __future__ import annotations

import ipywidgets as widgets
import matplotlib
import numpy as np
from matplotlib.colors import BoundaryNorm

from course_lib import quadratic_theory, surfaces
from course_lib.experiments import momentum as experiments
from course_lib.plotting import COLORS
from course_lib.widgets._core import FigureWidget, RaceWidget


def race_surfaces() -> dict:
    """The two surfaces of the race, by name: each a dict with the ``surface``, its start ``x0``,
    the number of ``steps``, the plot limits ``xlim``/``ylim``/``loss_ylim``, contour ``levels`` and
    ``L``, the largest curvature at the minimum (the slider sets the step as a multiple of 1/L)."""
    rosen = surfaces.rosenbrock()
    return {
        "quadratic (κ = 50)": dict(
            surface=surfaces.quadratic(50.0, angle=np.pi / 6), x0=(-2.0, 1.6), steps=100,
            xlim=(-3.0, 3.0), ylim=(-2.5, 2.5), loss_ylim=(1e-10, 1e1),
            levels=np.geomspace(1e-3, 4.0, 12), L=1.0),
        "Rosenbrock": dict(
            surface=rosen, x0=(-1.2, 1.0), steps=300,
            xlim=(-2.0, 2.0), ylim=(-1.0, 3.0), loss_ylim=(1e-10, 1e3),
            levels=np.geomspace(0.05, 800.0, 14), L=float(np.linalg.eigvalsh(rosen.hessian_at(rosen.minimum))[-1])),
    }


class MomentumRaceWidget(RaceWidget):
    """SGD, heavy-ball momentum and Nesterov racing from the same start: paths on the contours and
    loss curves (log scale). Sliders: the step as a multiple of 1/L (L the largest curvature at the
    minimum) and the momentum beta; a dropdown picks the surface."""

    METHOD_COLORS = {"SGD": COLORS["sgd"], "momentum": COLORS["momentum"], "Nesterov": COLORS["nesterov"]}

    def __init__(self, surface: str = "quadratic (κ = 50)", step: float = 1.0,
                 momentum: float = 0.9):
        self.surfaces = race_surfaces()
        super().__init__({
            "surface": widgets.Dropdown(options=list(self.surfaces), value=surface, description="surface"),
            "step": widgets.FloatSlider(value=step, min=0.05, max=3.0, step=0.05, description="α·L",
                                        readout_format=".2f"),
            "momentum": widgets.FloatSlider(value=momentum, min=0.0, max=0.99, step=0.01, description="β",
                                            readout_format=".2f"),
        }, figsize=(9.0, 3.8))

    def race(self, spec, step, momentum):
        return experiments.momentum_race(spec["surface"], spec["x0"], spec["steps"], step / spec["L"], momentum)

    def title(self, spec, runs, step, momentum):
        return f"α = {step / spec['L']:.3g}, β = {momentum:.2f}"


class RateMapWidget(FigureWidget):
    """The convergence rate of heavy ball over (step, momentum) on a quadratic with eigenvalues
    mu = 0.01 and L = 1 (kappa = 100), with a probe: the marker's point is run for real, and the
    chosen eigen-coordinate is drawn (top right) with its error on a log scale (bottom right),
    the predicted rate beside the measured one."""

    MU, L = 0.01, 1.0
    K = 150  # steps shown
    DIRECTIONS = {"λ_max = 1 (steep)": 1.0, "λ_min = 0.01 (flat)": 0.01}

    def __init__(self, step: float = 1.0, momentum: float = 0.9, direction: str = "λ_max = 1 (steep)"):
        super().__init__({
            "step": widgets.FloatSlider(value=step, min=0.02, max=4.0, step=0.02, description="α",
                                        readout_format=".2f"),
            "momentum": widgets.FloatSlider(value=momentum, min=0.0, max=0.98, step=0.01, description="β",
                                            readout_format=".2f"),
            "direction": widgets.Dropdown(options=list(self.DIRECTIONS), value=direction,
                                          description="direction"),
        }, figsize=(9.6, 4.0))

    def draw_initial(self, fig):
        grid = fig.add_gridspec(2, 2, width_ratios=[1, 1.25])
        ax_map = fig.add_subplot(grid[:, 0])
        self.ax_x = fig.add_subplot(grid[0, 1])
        self.ax_err = fig.add_subplot(grid[1, 1], sharex=self.ax_x)
        step_sizes = np.linspace(0.0, 4.0, 201)
        momenta = np.linspace(0.0, 0.98, 99)
        rates = quadratic_theory.rate_map(step_sizes, momenta, [self.MU, self.L])
        best_step, best_momentum, best_rate = quadratic_theory.optimal_momentum(self.MU, self.L)
        # discrete levels: easier to read, and a PNG of flat colours encodes several times faster
        levels = [0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 1.0]
        cmap = matplotlib.colormaps["viridis"].resampled(len(levels) - 1).with_extremes(over="0.85")
        image = ax_map.imshow(rates, origin="lower", aspect="auto", extent=(0, 4, 0, 0.98), cmap=cmap,
                              norm=BoundaryNorm(levels, len(levels) - 1), interpolation="nearest")
        fig.colorbar(image, ax=ax_map, label="rate ρ (grey: diverges)", shrink=0.9, extend="max")
        # the borders of the regimes, for both eigenvalues: the double roots beta = (1 - sqrt(alpha lambda))^2,
        # at +sqrt(beta) (critical damping) for alpha <= 1/lambda and at -sqrt(beta) (the border of the
        # sign flips, where Polyak's optimum puts lambda = L) beyond, up to the top of the map
        self.critical_curves = {}
        for lam, style in ((self.L, "-"), (self.MU, "--")):
            a = np.linspace(1e-4, min(4.0, (1.0 + np.sqrt(momenta[-1])) ** 2 / lam), 400)
            self.critical_curves[lam], = ax_map.plot(a, quadratic_theory.critical_momentum(a, lam), style,
                                                     color="white", linewidth=0.9)
        ax_map.plot(quadratic_theory.stability_limit(momenta, self.L), momenta, ":", color="white", linewidth=1.2)
        ax_map.plot([best_step], [best_momentum], "*", color="white", markersize=11)
        ax_map.set(xlabel="step α", ylabel="momentum β", xlim=(0, 4), ylim=(0, 0.98),
                   title="rate of heavy ball, κ = 100")
        self.marker = self.animate(ax_map.plot([], [], "o", markerfacecolor="none", markeredgecolor="red",
                                               markersize=9, markeredgewidth=2)[0])
        k = np.arange(self.K + 1)
        self.k = k
        self.ax_x.axhline(0, color=COLORS["reference"], linewidth=0.6)
        self.x_line = self.animate(self.ax_x.plot(k, np.zeros_like(k, dtype=float), ".-", color=COLORS["momentum"],
                                                  markersize=3, linewidth=0.9)[0])
        self.ax_x.set(ylabel="$x_k$", ylim=(-1.6, 1.6), xlim=(0, self.K))
        self.err_line = self.animate(self.ax_err.semilogy(k[1:], np.ones(self.K), color=COLORS["momentum"],
                                                          label="measured $\\|(x_k, x_{k-1})\\|$")[0])
        self.theory_line = self.animate(self.ax_err.semilogy(k[1:], np.ones(self.K), "--",
                                                             color=COLORS["reference"],
                                                             label="theory $\\propto \\rho^k$")[0])
        self.ax_err.set(xlabel="step $k$", ylabel="error", ylim=(1e-10, 1e4))
        self.ax_err.legend(loc="lower left", fontsize=8)
        self.animate(self.ax_x.title)

    def update(self, step, momentum, direction):
        lam = self.DIRECTIONS[direction]
        self.marker.set_data([step], [momentum])
        x = experiments.eigen_trajectory(step, momentum, lam, self.K)
        self.x_line.set_ydata(np.clip(x, -10, 10))
        errors = np.hypot(x[1:], x[:-1])
        self.err_line.set_ydata(errors)
        predicted = quadratic_theory.spectral_radius(step, momentum, lam)
        measured = experiments.measured_rate(x)
        # the theory line: slope rho, anchored on the measured error a quarter of the way in
        anchor = self.K // 4
        base = errors[anchor] if np.isfinite(errors[anchor]) and errors[anchor] > 0 else 1.0
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            self.theory_line.set_ydata(base * predicted ** (self.k[1:] - 1 - anchor))
        regime = quadratic_theory.regime(step, momentum, lam)
        self.ax_x.set_title(f"λ = {lam:g}, {regime}: ρ = {predicted:.4f} theory, {measured:.4f} measured",
                            fontsize=9)
