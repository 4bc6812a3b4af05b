"""Widgets of the chapter "Regularization": the regularization path, early stopping, dropout inference."""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from course_lib import linear_regularization as theory
from course_lib.experiments import regularization as rx
from course_lib.plotting import COLORS
from course_lib.widgets._core import FigureWidget


class RegularizationPathWidget(FigureWidget):
    """Least squares on the digits in the PCA basis (H diagonal): the weights under L2 or L1 of
    strength α (closed forms), next to the unregularized w*, and the train/test loss along the path."""

    ALPHAS = np.logspace(-3, 1, 33)   # the slider's grid: 10^-3 ... 10^1 in steps of 10^0.125

    def __init__(self, penalty: str = "L2", alpha: float = 0.1):
        self.problem = rx.digits_regression()
        self.w_star = theory.least_squares(self.problem.x_train, self.problem.y_train)
        self.path = rx.regularization_path(self.problem, self.ALPHAS)
        super().__init__({
            "penalty": widgets.ToggleButtons(options=["L2", "L1"], value=penalty, description="penalty"),
            "alpha": widgets.FloatLogSlider(value=alpha, base=10, min=-3, max=1, step=0.125, description="α",
                                            readout_format=".3g"),
        })

    def draw_initial(self, fig):
        self.ax_w, self.ax_j = fig.subplots(1, 2, width_ratios=[1.4, 1])
        k = np.arange(1, len(self.w_star) + 1)
        self.ax_w.plot(k, self.w_star, "_", color=COLORS["data"], markersize=8, label="$w^*$ (no penalty)")
        self.bars = self.animate(self.ax_w.vlines(k, 0, self.w_star, color=COLORS["ewma"], linewidth=4,
                                                  label=r"$\tilde w$"))
        self.ax_w.axhline(0, color="black", linewidth=0.5)
        limit = 1.1 * np.max(np.abs(self.w_star))
        self.ax_w.set(xlabel="principal component $i$ (eigenvalue $\\lambda_i$ decreasing)", ylabel="weight",
                      ylim=(-limit, limit))
        self.ax_w.legend(loc="upper right")
        self.lines = {}
        for name, style in (("train", "-"), ("test", "--")):
            self.lines[name] = self.animate(self.ax_j.semilogx(self.ALPHAS, self.path["L2"][name], style,
                                                               color=COLORS["ewma"], label=name)[0])
        self.marker = self.animate(self.ax_j.axvline(1.0, color=COLORS["reference"], linestyle=":"))
        top = max(max(self.path[p]["test"].max(), self.path[p]["train"].max()) for p in ("L2", "L1"))
        self.ax_j.set(xlabel="α", ylabel="$J$ (half mean squared error)", ylim=(0, 1.05 * top))
        self.ax_j.legend(loc="upper left")
        self.animate(self.ax_w.title)

    def update(self, penalty, alpha):
        i = int(np.argmin(np.abs(np.log(self.ALPHAS / alpha))))
        w = self.path[penalty]["w"][i]
        k = np.arange(1, len(w) + 1)
        self.bars.set_segments([[(j, 0.0), (j, v)] for j, v in zip(k, w)])
        for name in ("train", "test"):
            self.lines[name].set_ydata(self.path[penalty][name])
        self.marker.set_xdata([alpha, alpha])
        zeros = int(np.sum(w == 0))
        self.ax_w.set_title(f"{zeros} of {len(w)} weights exactly 0, test J = {self.path[penalty]['test'][i]:.4f}")


class EarlyStoppingWidget(FigureWidget):
    """Gradient descent on the digits' least-squares problem (100 training images, 300 of the others
    as the validation set): training and validation loss, source
    004's meta-algorithm with evaluation interval n and patience P (best step i* and stop marked),
    and beside it the spectral filter of early stopping at τ = i* against L2's."""

    LR = 0.02
    STEPS = 1500
    VALIDATION = 300      # held-out images used as the validation set (the rest are never looked at)

    def __init__(self, patience: int = 5, interval: int = 10):
        held_out = rx.digits_regression(n_train=100)
        # the meta-algorithm selects on this curve, so it must be a validation set, not a test set:
        # gd_curves' "test" curve is on these 300 images only
        self.problem = held_out._replace(x_test=held_out.x_test[:self.VALIDATION],
                                         y_test=held_out.y_test[:self.VALIDATION])
        self.curves = rx.gd_curves(self.problem, self.LR, self.STEPS)
        self.h = theory.hessian(self.problem.x_train)
        self.lam, q = np.linalg.eigh(self.h)
        self.w_star = theory.least_squares(self.problem.x_train, self.problem.y_train)
        self.coef = q.T @ self.w_star          # w* in the eigenbasis, for the α that matches each τ
        super().__init__({
            "patience": widgets.IntSlider(value=patience, min=1, max=30, description="patience P"),
            "interval": widgets.IntSlider(value=interval, min=1, max=100, description="steps between evaluations n"),
        })

    def draw_initial(self, fig):
        self.ax_c, self.ax_f = fig.subplots(1, 2, width_ratios=[1.3, 1])
        steps = np.arange(self.STEPS + 1)
        self.ax_c.semilogx(steps[1:], self.curves["train"][1:], color=COLORS["data"], label="training loss")
        self.ax_c.semilogx(steps[1:], self.curves["test"][1:], color=COLORS["ewma"], label="validation loss")
        self.evals = self.animate(self.ax_c.plot([], [], ".", color=COLORS["ewma"], markersize=4)[0])
        self.best = self.animate(self.ax_c.plot([], [], "*", color=COLORS["reference"], markersize=12,
                                                label="best step $i^*$")[0])
        self.stop = self.animate(self.ax_c.axvline(1, color=COLORS["corrected"], linestyle="--", label="stop"))
        lo, hi = self.curves["train"][1:].min(), self.curves["test"][1:].max()
        self.ax_c.set(xlabel="gradient-descent step", ylabel="$J$", xlim=(1, self.STEPS), ylim=(0.8 * lo, 1.05 * hi))
        self.ax_c.legend(loc="lower left", fontsize=8)
        self.ax_f.semilogx(self.lam, np.zeros_like(self.lam), "|", color=COLORS["data"], markersize=8)
        self.f_gd = self.animate(self.ax_f.semilogx(self.lam, self.lam, "o", color=COLORS["ewma"], markersize=3,
                                                    label=r"early stopping $1-(1-\varepsilon\lambda_i)^{\tau}$")[0])
        self.f_best = self.animate(self.ax_f.semilogx(self.lam, self.lam, color=COLORS["reference"],
                                                      label=r"L2 $\lambda_i/(\lambda_i+\alpha^*)$")[0])
        self.f_rule = self.animate(self.ax_f.semilogx(self.lam, self.lam, ":", color=COLORS["corrected"],
                                                      label=r"L2 with $\alpha = 1/(\varepsilon\tau)$")[0])
        self.ax_f.set(xlabel=r"eigenvalue $\lambda_i$ of $H$", ylabel="factor on $w^*$", ylim=(-0.05, 1.05))
        self.ax_f.legend(loc="upper left", fontsize=7)
        self.animate(self.ax_c.title)
        self.animate(self.ax_f.title)

    def update(self, patience, interval):
        result = rx.meta_algorithm_on_curve(self.curves["test"], interval, patience)
        tau = max(result.best_step, 1)
        done = np.arange(interval, result.steps + 1, interval)
        self.evals.set_data(done, self.curves["test"][done])
        self.best.set_data([tau], [result.best_error])
        self.stop.set_xdata([result.steps, result.steps])
        alpha = theory.matching_alpha_spectral(self.lam, self.coef, self.LR, tau)
        self.f_gd.set_ydata(theory.gd_filter(self.lam, self.LR, tau))
        self.f_best.set_ydata(theory.l2_filter(self.lam, alpha))
        self.f_rule.set_ydata(theory.l2_filter(self.lam, 1.0 / (self.LR * tau)))
        self.ax_c.set_title(f"stop at {result.steps}, best i* = {tau}")
        self.ax_f.set_title(f"τ = i*: α* = {alpha:.3g}, α*ετ = {alpha * self.LR * tau:.2f}")


class DropoutBoundaryWidget(FigureWidget):
    """Two moons and a network trained with dropout p: the probability of class 1 under weight
    scaling (left) and averaged over k random masks (right); white is the decision boundary."""

    PS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
    KS = (1, 2, 4, 8, 16, 32)

    def __init__(self, p: float = 0.5, masks: int = 4):
        self.runs = rx.dropout_boundaries(self.PS, self.KS)
        super().__init__({
            "p": widgets.SelectionSlider(options=list(self.PS), value=p, description="drop probability p"),
            "masks": widgets.SelectionSlider(options=list(self.KS), value=masks, description="masks k"),
        })

    def draw_initial(self, fig):
        self.ax_s, self.ax_m = fig.subplots(1, 2, sharey=True)
        self.images = {}
        for name, ax in (("scaled", self.ax_s), ("mc", self.ax_m)):
            self.images[name] = self.animate(ax.imshow(np.zeros((2, 2)), origin="lower", extent=self.runs["extent"],
                                                       cmap="RdBu", vmin=0.0, vmax=1.0, aspect="auto",
                                                       interpolation="nearest"))
            x, y = self.runs["x_train"], self.runs["y_train"]
            for label, marker in ((0, "o"), (1, "s")):
                pts = x[y == label]
                self.animate(ax.plot(pts[:, 0], pts[:, 1], marker, color="black", markersize=2.5,
                                     markerfacecolor="none", linestyle="none", linewidth=0.5)[0])
            ax.set(xlabel="$x_1$")
            self.animate(ax.title)
        self.ax_s.set_ylabel("$x_2$")

    def update(self, p, masks):
        run = self.runs[p]
        self.images["scaled"].set_data(run["scaled"])
        self.images["mc"].set_data(run["mc"][masks])
        self.ax_s.set_title(f"weight scaling: accuracy {run['acc']['scaled']:.3f}")
        self.ax_m.set_title(f"{masks} mask{'s' if masks > 1 else ''}: accuracy {run['acc'][masks]:.3f}")
