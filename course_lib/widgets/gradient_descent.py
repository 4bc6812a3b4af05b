"""Widgets of the chapter "Gradient descent and the learning rate".

``LearningRateExplorer``: a surface, a learning rate (log slider), exact or stochastic gradients
and a start point; the trajectory on the contours and the loss curve.
``ScheduleDesigner``: a learning-rate schedule, its peak rate, horizon and warmup; the schedule and
what it does to SGD on real mini-batches (scikit-learn's diabetes data), against a constant rate.
"""
from __future__ import annotations

import functools
from typing import NamedTuple

import ipywidgets as widgets
import numpy as np

from course_lib import _validate, optim, quadratic_theory, schedules, surfaces
from course_lib.experiments import gradient_descent as experiments
from course_lib.plotting import COLORS
from course_lib.widgets._core import FigureWidget

STEPS = 200  # steps shown by the explorer


class Scene(NamedTuple):
    """A surface as the explorer shows it: limits, start points, the noise model, the loss range."""
    label: str
    surface: surfaces.Surface
    noisy: surfaces.Surface      # the same surface with stochastic gradients (run with an rng)
    xlim: tuple
    ylim: tuple
    starts: tuple                # three start points
    loss_range: tuple            # y-limits of the excess-loss axis (log scale)
    levels: np.ndarray           # contour levels of f - f*
    f_star: float
    lam_max: float | None        # largest Hessian eigenvalue where constant (quadratics)


def scenes() -> dict[str, Scene]:
    """The explorer's surfaces, keyed by their menu label."""
    out = {}
    ravine = surfaces.quadratic(20.0, angle=np.pi / 6)
    out["ravine (quadratic, κ = 20)"] = Scene(
        "ravine", ravine, surfaces.noisy(ravine, 0.5), (-3, 3), (-2.2, 2.2),
        ((-2.5, 1.2), (2.0, 1.8), (0.5, -2.0)), (1e-6, 1e2), np.geomspace(0.01, 10, 9), 0.0, ravine.eigenvalues[-1])
    data = surfaces.least_squares(batch_size=8, features=(2, 8))
    out["real data: diabetes regression"] = Scene(
        "diabetes", data, data, (-1.5, 2.0), (-1.2, 2.0),
        ((-1.2, 1.8), (1.8, -1.0), (-1.2, -1.0)), (1e-6, 1e2), np.geomspace(0.005, 2.0, 9),
        data.value(data.minimum), data.eigenvalues[-1])
    banana = surfaces.rosenbrock()
    out["Rosenbrock's banana"] = Scene(
        "rosenbrock", banana, surfaces.noisy(banana, 2.0), (-2, 2), (-1, 3),
        ((-1.2, 1.0), (1.5, 2.8), (-1.8, -0.5)), (1e-4, 1e4), np.geomspace(0.05, 1000, 10), 0.0, None)
    saddle = surfaces.saddle()
    out["saddle point"] = Scene(
        "saddle", saddle, surfaces.noisy(saddle, 0.3), (-2, 2), (-1.6, 1.6),
        ((1.8, 0.0), (1.8, 0.01), (-1.5, -0.3)), (1e-6, 10), np.geomspace(0.02, 3, 8), -0.25, None)
    wells = surfaces.local_minima()
    out["two minima"] = Scene(
        "two minima", wells, surfaces.noisy(wells, 0.6), (-2, 2), (-1.5, 1.5),
        ((1.8, 1.0), (-1.8, 1.0), (0.4, 1.2)), (1e-6, 10), np.geomspace(0.02, 3, 8),
        wells.value(wells.minimum), None)
    return out


def explore(scene: Scene, lr: float, stochastic: bool, start: int, steps: int = STEPS, rng=0):
    """Run plain SGD (``optim.sgd(lr)``) on the scene from its start point ``start`` (0, 1 or 2),
    with noisy or mini-batch gradients drawn from ``rng`` (a Generator or an int seed) if ``stochastic``.

    Returns ``(params, excess)``: the trajectory (k + 1, 2) and the excess losses f(x_k) - f* (k + 1,),
    cut at the first step whose loss is not finite or exceeds 1e6 (divergence); ``len(excess) - 1``
    is then the number of steps shown.
    """
    lr = _validate.real("lr", lr, low=0.0)
    start = _validate.integer("start", start, low=0, high=len(scene.starts) - 1)
    surface = scene.noisy if stochastic else scene.surface
    with np.errstate(all="ignore"):
        result = surfaces.run(optim.sgd(lr=lr), surface, scene.starts[start], steps,
                              rng=rng if stochastic else None)
        excess = result.losses - scene.f_star
    bad = ~np.isfinite(excess) | (excess > 1e6) | ~np.all(np.isfinite(result.params), axis=1)
    end = int(np.argmax(bad)) if bad.any() else len(excess)
    return result.params[:end], excess[:end]


class LearningRateExplorer(FigureWidget):
    """Gradient descent on a chosen surface: the path on the contours and the loss curve."""

    def __init__(self, surface: str = "ravine (quadratic, κ = 20)", lr: float = 10**0.15,
                 stochastic: bool = False, start: int = 0):
        self.scenes = scenes()
        self._shown = None
        super().__init__({
            "surface": widgets.Dropdown(options=list(self.scenes), value=surface, description="surface"),
            "lr": widgets.FloatLogSlider(value=lr, base=10, min=-4, max=0.5, step=0.05, description="α",
                                         readout_format=".4f"),
            "stochastic": widgets.Checkbox(value=stochastic, description="stochastic gradients"),
            "start": widgets.Dropdown(options=[("start A", 0), ("start B", 1), ("start C", 2)], value=start,
                                      description="start"),
        }, figsize=(9.0, 3.8))

    def draw_initial(self, fig):
        self.ax, self.loss_ax = fig.subplots(1, 2, width_ratios=[1.15, 1])
        self.contours = {}
        for label, scene in self.scenes.items():
            X, Y, Z = scene.surface.grid(scene.xlim, scene.ylim, 121)
            cs = self.ax.contour(X, Y, Z - scene.f_star, levels=scene.levels, colors=COLORS["data"], linewidths=0.8)
            cs.set_visible(False)
            self.contours[label] = cs
        self.minimum = self.ax.plot([], [], "*", color=COLORS["reference"], markersize=11, label="minimum")[0]
        self.path = self.animate(self.ax.plot([], [], "o-", color=COLORS["ewma"], markersize=2.5, linewidth=1.0,
                                              label="path $x_k$")[0])
        self.start_marker = self.animate(self.ax.plot([], [], "s", color=COLORS["corrected"], markersize=6,
                                                      label="start $x_0$")[0])
        self.ax.set(xlabel="$x_1$ (parameter 1)", ylabel="$x_2$ (parameter 2)")
        self.ax.legend(loc="lower left", fontsize=8)
        self.loss_line = self.animate(self.loss_ax.semilogy([], [], color=COLORS["ewma"])[0])
        self.loss_ax.set(xlabel="step $k$", ylabel="$f(x_k) - f^*$", xlim=(0, STEPS))
        self.animate(self.ax.title)
        self.animate(self.loss_ax.title)

    def show_scene(self, surface):
        """The static part for the scene ``surface``: its contours, minimum and the axes' limits."""
        scene = self.scenes[surface]
        for label, cs in self.contours.items():
            cs.set_visible(label == surface)
        self.ax.set(xlim=scene.xlim, ylim=scene.ylim)
        self.loss_ax.set_ylim(*scene.loss_range)
        self.minimum.set_data([scene.surface.minimum[0]], [scene.surface.minimum[1]])
        self._shown = surface

    def background_key(self):
        return self._shown

    def backgrounds_ahead(self):
        return [functools.partial(self.show_scene, label) for label in self.scenes]

    def update(self, surface, lr, stochastic, start):
        scene = self.scenes[surface]
        if surface != self._shown:
            self.show_scene(surface)
        params, excess = explore(scene, lr, stochastic, start)
        self.path.set_data(params[:, 0], params[:, 1])
        self.start_marker.set_data([params[0, 0]], [params[0, 1]])
        self.loss_line.set_data(np.arange(len(excess)), np.maximum(excess, scene.loss_range[0]))
        bound = ("" if scene.lam_max is None
                 else f"; stable if α < 2/λ_max = {quadratic_theory.stability_limit(0.0, scene.lam_max):.3f}")
        self.ax.set_title(f"α = {lr:.4f}{bound}", fontsize=9)
        steps_shown = len(excess) - 1
        if steps_shown < STEPS:
            verdict = f"diverged: loss > 1e6 after {steps_shown + 1} steps"
        else:
            verdict = f"after {STEPS} steps: f − f* = {excess[-1]:.2e}"
        self.loss_ax.set_title(verdict, fontsize=9)


# --------------------------------------------------------------------------------------------
# Schedule designer
# --------------------------------------------------------------------------------------------

SCHEDULE_KINDS = ("constant", "step", "exponential", "1/t", "cosine", "linear", "linear to floor", "inverse sqrt")


def designer_schedule(kind: str, lr: float, horizon: int, warmup_steps: int = 0) -> schedules.Schedule:
    r"""The schedule the designer shows: ``kind`` with peak rate ``lr`` and time scale ``horizon`` T.

    constant :math:`\alpha_0`; step: times 0.1 at T/2 and 3T/4 (ResNet-style milestones);
    exponential: :math:`\alpha_0 e^{-kt}` with :math:`k = \ln 100/T` (1% at T); 1/t:
    :math:`\alpha_0/(1 + kt)` with k = 10/T (1/11 at T); cosine and linear: to 0 at T;
    linear to floor: to :math:`0.01\alpha_0` at T (source 004's suggestion); inverse sqrt:
    :math:`\alpha_0/\sqrt{t+1}` (no time scale). ``warmup_steps`` > 0 puts a linear warmup in front
    (:func:`course_lib.schedules.warmup`), which shifts the schedule right by that many steps.
    """
    if kind not in SCHEDULE_KINDS:
        raise ValueError(f"kind must be one of {SCHEDULE_KINDS}, got {kind!r}")
    lr = _validate.real("lr", lr, low=0.0)
    T = _validate.integer("horizon", horizon, low=4)
    warmup_steps = _validate.integer("warmup_steps", warmup_steps, low=0)
    schedule = {
        "constant": lambda: schedules.constant(lr),
        "step": lambda: schedules.step_decay(lr, milestones=(T // 2, (3 * T) // 4), gamma=0.1),
        "exponential": lambda: schedules.exponential(lr, np.log(100.0) / T),
        "1/t": lambda: schedules.inverse_time(lr, 10.0 / T),
        "cosine": lambda: schedules.cosine(lr, T),
        "linear": lambda: schedules.linear(lr, T),
        "linear to floor": lambda: schedules.linear_to_floor(lr, T, 0.01 * lr),
        "inverse sqrt": lambda: schedules.inverse_sqrt(lr),
    }[kind]()
    return schedules.warmup(schedule, warmup_steps) if warmup_steps else schedule


class ScheduleDesigner(FigureWidget):
    """A learning-rate schedule (left) and SGD's loss with it on real mini-batches (right).

    SGD runs on the diabetes regression with two features (BMI and S5, z-scored), mini-batches of
    8 rows, ``runs`` seeds at once (``experiments.sgd_least_squares``); the curves are the mean
    excess loss over the seeds, for the schedule and for a constant rate equal to its peak.
    """

    STEPS = 300

    def __init__(self, schedule: str = "cosine", lr: float = 10**-0.3, horizon: int = 250, warmup: int = 0,
                 runs: int = 8):
        self.surface = surfaces.least_squares(batch_size=8, features=(2, 8))
        self.f_star = self.surface.value(self.surface.minimum)
        self.x0 = np.array([-1.2, 1.8])
        self.batches = np.stack([experiments.minibatch_indices(self.surface, self.STEPS, seed)
                                 for seed in range(runs)])
        self._constant = {}
        super().__init__({
            "schedule": widgets.Dropdown(options=SCHEDULE_KINDS, value=schedule, description="schedule"),
            "lr": widgets.FloatLogSlider(value=lr, base=10, min=-2, max=0.1, step=0.05, description="peak α₀",
                                         readout_format=".3f"),
            "horizon": widgets.IntSlider(value=horizon, min=20, max=self.STEPS, step=10, description="horizon T"),
            "warmup": widgets.IntSlider(value=warmup, min=0, max=100, step=5, description="warmup W"),
        }, figsize=(9.0, 3.6))

    def excess(self, schedule) -> np.ndarray:
        """Mean excess loss f(w_k) - f* over the runs, k = 0..STEPS, for a rate or schedule."""
        losses = experiments.sgd_least_squares(self.surface, schedule, self.x0, self.batches)
        return np.mean(losses, axis=0) - self.f_star

    def draw_initial(self, fig):
        self.ax, self.loss_ax = fig.subplots(1, 2)
        t = np.arange(self.STEPS)
        self.rate_line = self.animate(self.ax.plot(t, np.zeros_like(t, dtype=float), color=COLORS["ewma"])[0])
        self.horizon_line = self.animate(self.ax.axvline(0, color=COLORS["reference"], linestyle=":",
                                                         label="horizon T"))
        self.ax.set(xlabel="step $t$", ylabel=r"$\alpha_t\,/\,\alpha_0$", xlim=(0, self.STEPS), ylim=(0, 1.05))
        self.ax.legend(loc="upper right")
        k = np.arange(self.STEPS + 1)
        self.constant_line = self.animate(self.loss_ax.semilogy(k, np.ones_like(k, dtype=float), color=COLORS["sgd"],
                                                                linestyle="--", label="constant α₀")[0])
        self.schedule_line = self.animate(self.loss_ax.semilogy(k, np.ones_like(k, dtype=float), color=COLORS["ewma"],
                                                                label="schedule")[0])
        self.loss_ax.set(xlabel="step $k$", ylabel="mean $f(w_k) - f^*$ (8 runs)", xlim=(0, self.STEPS),
                         ylim=(3e-4, 10))
        self.loss_ax.legend(loc="upper right")
        self.animate(self.ax.title)
        self.animate(self.loss_ax.title)

    def update(self, schedule, lr, horizon, warmup):
        chosen = designer_schedule(schedule, lr, horizon, warmup)
        rates = chosen(np.arange(self.STEPS))
        self.rate_line.set_ydata(rates / lr)
        self.horizon_line.set_xdata([horizon + warmup] * 2)
        rm = schedules.robbins_monro(chosen)
        self.ax.set_title(f"{schedule}{f' after {warmup} warmup steps' if warmup else ''}: "
                          f"Robbins–Monro {'met' if rm.meets else 'not met'}", fontsize=9)
        if lr not in self._constant:  # the baseline depends on lr only: computed once per value
            self._constant[lr] = self.excess(lr)
        with_schedule, constant = self.excess(chosen), self._constant[lr]
        floor = self.loss_ax.get_ylim()[0]
        self.schedule_line.set_ydata(np.clip(with_schedule, floor, 1e6))
        self.constant_line.set_ydata(np.clip(constant, floor, 1e6))

        def show(value):
            return f"{value:.1e}" if np.isfinite(value) and value < 1e6 else "diverged"

        self.loss_ax.set_title(f"final f − f*: schedule {show(with_schedule[-1])}, constant {show(constant[-1])}",
                               fontsize=9)
