"""Widgets of the chapter "Adaptive learning rates"."""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from course_lib import ewma, surfaces
from course_lib.experiments import adaptive as experiments
from course_lib.plotting import COLORS
from course_lib.widgets._core import FigureWidget, RaceWidget


def race_surfaces() -> dict:
    """The surfaces of the optimizer race, by name: each a dict with the ``surface``, its start
    ``x0``, the number of ``steps``, the plot limits ``xlim``/``ylim``/``loss_ylim``, contour
    ``levels``, and ``L``, the largest curvature at the minimum (SGD's step is a multiple of 1/L)."""
    rosen = surfaces.rosenbrock()
    return {
        "axis-aligned ravine (κ = 100)": dict(
            surface=surfaces.quadratic(100.0, angle=np.pi / 2), x0=(-4.0, 1.5), steps=150,
            xlim=(-5.0, 5.0), ylim=(-2.0, 2.0), loss_ylim=(1e-12, 1e2),
            levels=np.geomspace(1e-3, 10.0, 12), L=1.0),
        "rotated ravine (κ = 100, 45°)": dict(
            surface=surfaces.quadratic(100.0, angle=np.pi / 4), x0=(-4.0, 1.5), steps=150,
            xlim=(-5.0, 5.0), ylim=(-3.5, 3.5), loss_ylim=(1e-12, 1e2),
            levels=np.geomspace(1e-3, 10.0, 12), L=1.0),
        "Rosenbrock": dict(
            surface=rosen, x0=(-1.2, 1.0), steps=300,
            xlim=(-2.0, 2.0), ylim=(-1.0, 3.0), loss_ylim=(1e-12, 1e3),
            levels=np.geomspace(0.05, 800.0, 14), L=float(np.linalg.eigvalsh(rosen.hessian_at(rosen.minimum))[-1])),
        "saddle point": dict(
            surface=surfaces.saddle(), x0=(1.5, 1e-3), steps=150,
            xlim=(-2.0, 2.0), ylim=(-1.5, 1.5), loss_ylim=(-0.3, 1.3),
            levels=np.linspace(-0.24, 1.5, 12), L=1.0),
    }


class OptimizerRaceWidget(RaceWidget):
    """SGD, momentum, AdaGrad, RMSProp, Adadelta and Adam from the same start: paths on the contours
    and loss curves. Controls: the surface, the learning rate α of the adaptive methods (AdaGrad,
    RMSProp, Adam; Adadelta needs none) and SGD's step as a multiple of 1/L."""

    METHOD_COLORS = {
        "SGD": COLORS["sgd"], "momentum": COLORS["momentum"], "AdaGrad": COLORS["adagrad"],
        "RMSProp": COLORS["rmsprop"], "Adadelta": COLORS["adadelta"], "Adam": COLORS["adam"],
    }

    def __init__(self, surface: str = "axis-aligned ravine (κ = 100)", lr: float = 0.1, sgd_step: float = 1.0):
        self.surfaces = race_surfaces()
        super().__init__({
            "surface": widgets.Dropdown(options=list(self.surfaces), value=surface, description="surface"),
            "lr": widgets.FloatLogSlider(value=lr, base=10, min=-3, max=0, step=0.1,
                                         description="α (adaptive)", readout_format=".3f"),
            "sgd_step": widgets.FloatSlider(value=sgd_step, min=0.1, max=1.9, step=0.1,
                                            description="SGD: α·L", readout_format=".1f"),
        }, figsize=(9.5, 4.0))

    def race(self, spec, lr, sgd_step):
        # a run depends on the surface and its method's own arguments only: a move reruns the
        # methods it changes (alpha: 3 of 6) and keeps the others' runs
        args = dict(lr=lr, sgd_lr=sgd_step / spec["L"])
        if spec is not getattr(self, "_race_spec", None):
            self._race_spec, self._kept = spec, {}  # {method: (its arguments, its run)}
        settings = {name: tuple(args.get(a) for a in arguments)
                    for name, arguments in experiments.OPTIMIZER_RACE_ARGUMENTS.items()}
        stale = [name for name, kept in settings.items() if self._kept.get(name, (None,))[0] != kept]
        if stale:
            fresh = experiments.optimizer_race(spec["surface"], spec["x0"], spec["steps"], methods=stale, **args)
            self._kept.update({name: (settings[name], run) for name, run in fresh.items()})
        return {name: self._kept[name][1] for name in experiments.OPTIMIZER_RACE_METHODS}

    def title(self, spec, runs, lr, sgd_step):
        best = min(runs, key=lambda name: np.nan_to_num(runs[name].losses[-1], nan=np.inf))
        return f"α = {lr:.3f}, SGD α = {sgd_step:.1f}/L: lowest final loss {best}"


class EffectiveStepWidget(FigureWidget):
    """AdaGrad's and RMSProp's effective learning rate α/(√r + ε) for a steep and a flat parameter,
    on the same seeded stream of noisy gradients. Controls: RMSProp's decay ρ, the gradient scale of
    the flat parameter, and whether the gradients shrink tenfold halfway (a flatter region)."""

    STEPS = 500
    LR = 0.01

    def __init__(self, rho: float = 0.9, flat_scale: float = 0.01, shrink: bool = False):
        super().__init__({
            "rho": widgets.FloatSlider(value=rho, min=0.5, max=0.999, step=0.001, description="ρ (RMSProp)",
                                       readout_format=".3f"),
            "flat_scale": widgets.FloatLogSlider(value=flat_scale, base=10, min=-3, max=0, step=0.25,
                                                 description="flat |g|", readout_format=".3f"),
            "shrink": widgets.Checkbox(value=shrink, description="gradients ×0.1 from step 250"),
        }, figsize=(9.5, 3.8))

    def draw_initial(self, fig):
        self._stream = None  # (flat_scale, shrink) of the gradient stream computed last
        self.ax_lr, self.ax_step = fig.subplots(1, 2)
        t = np.arange(1, self.STEPS + 1)
        self.lines = {}
        for method, color in (("AdaGrad", COLORS["adagrad"]), ("RMSProp", COLORS["rmsprop"])):
            for i, (which, style) in enumerate((("steep", "-"), ("flat", "--"))):
                label = f"{method}, {which}"
                self.lines[(method, i)] = self.animate(self.ax_lr.plot(t, t * 0.0 + 1, style, color=color,
                                                                       label=label)[0])
                self.lines[(method, i, "step")] = self.animate(self.ax_step.plot(t, t * 0.0 + 1, style,
                                                                                 color=color, label=label)[0])
        self.ax_lr.set(xlabel="step $t$", ylabel=r"effective rate $\alpha/(\sqrt{r_t}+\epsilon)$",
                       yscale="log", ylim=(1e-4, 1e3))
        self.ax_step.set(xlabel="step $t$", ylabel=r"distance travelled $\sum_{s\leq t}|\Delta\theta_s|$",
                         ylim=(0.0, 5.5))
        self.ax_step.legend(loc="upper left", fontsize=8)
        self.ax_step.set_title("progress: the same for steep and flat")
        self.animate(self.ax_lr.title)

    def update(self, rho, flat_scale, shrink):
        if (flat_scale, shrink) != self._stream:  # a drag of rho keeps the stream and AdaGrad's rates
            self._stream = (flat_scale, shrink)
            self.grads = experiments.gradient_stream(self.STEPS, scales=(1.0, flat_scale), noise=0.5,
                                                     shrink_at=250 if shrink else None, rng=0)
            self.rates = {"AdaGrad": experiments.adagrad_rates(self.grads, self.LR)}
        grads = self.grads
        self.rates["RMSProp"] = experiments.rmsprop_rates(grads, self.LR, alpha=rho)
        for method, rates in self.rates.items():
            for i in range(2):
                self.lines[(method, i)].set_ydata(rates[:, i])
                self.lines[(method, i, "step")].set_ydata(np.cumsum(np.abs(rates[:, i] * grads[:, i])))
        self.ax_lr.set_title(f"α = {self.LR}; RMSProp's window 1/(1-ρ) = {ewma.effective_window(rho):.0f} steps")


class AdamStartWidget(FigureWidget):
    """Adam's first steps, Δθ_t/α, with and without bias correction, on a seeded noisy gradient
    stream of a chosen scale. Controls: β1, β2, the gradient scale, and the noise."""

    STEPS = 150
    LR = 1e-3
    BETA2 = (0.9, 0.99, 0.999, 0.9999)

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, scale: float = 1.0, noise: float = 0.5):
        super().__init__({
            "beta1": widgets.FloatSlider(value=beta1, min=0.0, max=0.99, step=0.01, description="β₁",
                                         readout_format=".2f"),
            "beta2": widgets.SelectionSlider(options=self.BETA2, value=beta2, description="β₂"),
            "scale": widgets.FloatLogSlider(value=scale, base=10, min=-9, max=3, step=1, description="|g| scale",
                                            readout_format=".0e"),
            "noise": widgets.FloatSlider(value=noise, min=0.0, max=2.0, step=0.1, description="noise σ",
                                         readout_format=".1f"),
        }, figsize=(9.0, 3.6))

    def draw_initial(self, fig):
        ax = fig.add_subplot()
        t = np.arange(1, self.STEPS + 1)
        ax.axhline(1.0, color=COLORS["reference"], linestyle=":", linewidth=1.0, label=r"$|\Delta\theta| = \alpha$")
        self.corrected = self.animate(ax.plot(t, t * 0.0, color=COLORS["adam"], label="with bias correction")[0])
        self.uncorrected = self.animate(ax.plot(t, t * 0.0, color=COLORS["reference"], linestyle="--",
                                                label="without bias correction")[0])
        self.animate(ax.title)
        ax.set(xlabel="step $t$", ylabel=r"step size $|\Delta\theta_t|/\alpha$", yscale="log", ylim=(1e-2, 50.0),
               xlim=(0, self.STEPS))
        ax.legend(loc="lower right")
        self.ax = ax

    def update(self, beta1, beta2, scale, noise):
        grads = scale * experiments.gradient_stream(self.STEPS, scales=(1.0,), noise=noise, rng=1)
        betas = (beta1, beta2)
        self.steps = {
            correction: experiments.adam_steps(grads, self.LR, betas, bias_correction=correction)[:, 0] / self.LR
            for correction in (True, False)
        }
        self.corrected.set_ydata(np.abs(self.steps[True]))
        self.uncorrected.set_ydata(np.abs(self.steps[False]))
        first = abs(self.steps[False][0])
        self.ax.set_title(f"|g| ~ {scale:.0e}. First step: {abs(self.steps[True][0]):.2f} α with correction, "
                          f"{first:.2f} α without (ε aside: (1-β₁)/√(1-β₂) = {(1 - beta1) / np.sqrt(1 - beta2):.2f})")
