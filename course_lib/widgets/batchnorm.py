"""Widgets of the chapter "Batch normalization". Each draws results that
:mod:`course_lib.experiments.batchnorm` computes once, at construction."""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from course_lib.experiments import batchnorm as experiments
from course_lib.plotting import COLORS
from course_lib.widgets._core import FigureWidget

BN_COLOR, PLAIN_COLOR = "tab:blue", "tab:gray"


class BatchStatisticsWidget(FigureWidget):
    """A hidden layer's pre-activations during training, without and with batch norm (left), and
    one unit's batch means and batch variances with the running averages batch norm keeps of them
    (middle, right).

    Controls: the training step shown, and torch's ``momentum`` m of the running averages
    (the EWMA decay is ρ = 1 - m). The running averages are recomputed from the recorded batch
    statistics with :func:`~course_lib.experiments.batchnorm.running_average_trace`; since the
    running statistics never enter a training step, that is exactly what the layer would have stored."""

    def __init__(self, step: int = 100, momentum: float = 0.1):
        self.record = experiments.preactivation_record()
        self._trace_cache = {}
        steps = len(self.record["batch norm"].batch_means)
        super().__init__({
            "step": widgets.IntSlider(value=step, min=1, max=steps, step=1, description="training step"),
            "momentum": widgets.FloatLogSlider(value=momentum, base=10, min=-2, max=0, step=0.25,
                                               description="momentum m (torch)", readout_format=".3f"),
        }, figsize=(11.0, 3.6), dpi=72)

    def draw_initial(self, fig):
        self.ax_hist, self.ax_mean, self.ax_var = fig.subplots(1, 3, width_ratios=[1.2, 1, 1])
        plain, bn = self.record["standard"], self.record["batch norm"]
        bins = bn.bins
        zero = np.zeros(len(bins) - 1)
        self.stairs = {
            "standard": self.animate(self.ax_hist.stairs(zero, bins, color=PLAIN_COLOR, label="no batch norm")),
            "batch norm": self.animate(self.ax_hist.stairs(zero, bins, color=BN_COLOR, label="before batch norm")),
            "normalized": self.animate(self.ax_hist.stairs(zero, bins, color=COLORS["adam"], label="after batch norm")),
        }
        top = max(h.max() for h in (plain.histograms, bn.histograms, bn.normalized)) * 1.05
        self.ax_hist.set(xlabel=f"pre-activations of hidden layer {bn.layer} (batches of {bn.batch_size})",
                         ylabel="count (256 images x 64 units)",
                         ylim=(0, top))
        self.ax_hist.legend(loc="upper left", fontsize=7)
        t = np.arange(1, len(bn.batch_means) + 1)
        self.running, self.markers = {}, []
        # fixed legend places: loc="best" would depend on the animated lines, and the cached background must not
        for ax, batch, population, what, corner in (
                (self.ax_mean, bn.batch_means, bn.population_means, "mean", "lower right"),
                (self.ax_var, bn.batch_vars, bn.population_vars, "variance", "upper right")):
            ax.plot(t, batch, ".", color=COLORS["data"], markersize=3, label=f"batch {what}s")
            ax.plot(t, population, color=COLORS["reference"], linewidth=1.0, label=f"training-set {what}")
            self.running[what] = self.animate(ax.plot(t, t * 0.0, color=BN_COLOR, label=f"running {what}")[0])
            self.markers.append(self.animate(ax.axvline(1, color=COLORS["reference"], linestyle=":", linewidth=1.0)))
            low, high = np.percentile(np.concatenate([batch, population]), [0.5, 99.5])
            start = 0.0 if what == "mean" else 1.0
            pad = 0.1 * (max(high, start) - min(low, start))
            ax.set(xlabel="training step", ylim=(min(low, start) - pad, max(high, start) + pad))
            ax.legend(loc=corner, fontsize=7)
        self.ax_mean.set_ylabel(f"unit {bn.unit} of layer {bn.layer}, before batch norm")
        self.animate(self.ax_hist.title)
        self.animate(self.ax_mean.title)
        self.animate(self.ax_var.title)

    def update(self, step, momentum):
        plain, bn = self.record["standard"], self.record["batch norm"]
        i = step - 1
        self.stairs["standard"].set_data(plain.histograms[i])
        self.stairs["batch norm"].set_data(bn.histograms[i])
        self.stairs["normalized"].set_data(bn.normalized[i])
        if momentum != getattr(self, "_momentum", None):  # moving the step alone needs no new average
            if momentum not in self._trace_cache:            # each slider value is computed once
                self._trace_cache[momentum] = {
                    "mean": experiments.running_average_trace(bn.batch_means, momentum),
                    "variance": experiments.running_average_trace(bn.batch_vars, momentum, initial=1.0)}
            self.traces = self._trace_cache[momentum]
            self._momentum = momentum
            for what, line in self.running.items():
                line.set_ydata(self.traces[what])
        for marker in self.markers:
            marker.set_xdata([step, step])
        # short titles: drawing text is most of an update's time
        self.ax_hist.set_title(f"step {step}")
        self.ax_mean.set_title(f"running {self.traces['mean'][i]:+.3f}, set {bn.population_means[i]:+.3f}", fontsize=9)
        self.ax_var.set_title(f"running {self.traces['variance'][i]:.3f}, set {bn.population_vars[i]:.3f}", fontsize=9)


class BatchSizeModeWidget(FigureWidget):
    """One test example inside random batches of the chosen size, through a trained batch-norm network.

    Left: the distribution, over 200 random batches, of the probability the network gives the
    example's true class in training mode (the output depends on the batch), or the single value of
    evaluation mode. Right: the batch mean of one unit of the first batch-norm layer over the same
    batches, against the running mean stored by training and the test-set mean."""

    def __init__(self, batch_size: int = 4, mode: str = "train"):
        self.data = experiments.batch_dependence()
        super().__init__({
            "batch_size": widgets.SelectionSlider(options=list(self.data["batch_sizes"]), value=batch_size,
                                                  description="batch size"),
            "mode": widgets.ToggleButtons(options=["train", "eval"], value=mode, description="mode"),
        }, figsize=(9.5, 3.6), dpi=72)

    def draw_initial(self, fig):
        self.ax_prob, self.ax_mean = fig.subplots(1, 2)
        self.prob_bins = np.linspace(0.0, 1.0, 41)
        means = self.data["means"]
        self.mean_bins = np.linspace(means.min(), means.max(), 41)
        zero = np.zeros(40)
        self.prob_stairs = self.animate(self.ax_prob.stairs(zero, self.prob_bins, fill=True, color=BN_COLOR, alpha=0.6))
        self.mean_stairs = self.animate(self.ax_mean.stairs(zero, self.mean_bins, fill=True, color=BN_COLOR, alpha=0.6))
        draws = means.shape[1]
        self.ax_prob.axvline(self.data["eval_prob"], color=COLORS["reference"], linestyle="--", linewidth=1.0,
                             label="evaluation mode")
        self.ax_prob.set(xlabel="probability of the true class", ylabel=f"batches (of {draws})", ylim=(0, draws * 1.02))
        self.ax_prob.legend(loc="upper left", fontsize=8)
        self.ax_mean.axvline(self.data["running_mean"], color=COLORS["adam"], linewidth=1.5, label="running mean")
        self.ax_mean.axvline(self.data["population_mean"], color=COLORS["reference"], linestyle=":", linewidth=1.5,
                             label="test-set mean")
        self.ax_mean.set(xlabel="batch mean of unit 0, first batch-norm layer", ylabel="batches", ylim=(0, draws * 1.02))
        self.ax_mean.legend(loc="upper left", fontsize=8)
        self.animate(self.ax_prob.title)
        self.animate(self.ax_mean.title)

    def update(self, batch_size, mode):
        i = list(self.data["batch_sizes"]).index(batch_size)
        prob, means = self.data["prob"][i], self.data["means"][i]
        if mode == "train":
            self.prob_stairs.set_data(np.histogram(prob, self.prob_bins)[0])
            self.mean_stairs.set_data(np.histogram(means, self.mean_bins)[0])
            self.ax_prob.set_title(f"training mode, batches of {batch_size}: p = {np.median(prob):.3f} "
                                   f"(median), {np.mean(prob < 0.5):.0%} below 1/2")
            self.ax_mean.set_title(f"batch means: std {means.std():.3f}")
        else:  # evaluation mode: the running statistics, one output whatever the batch
            counts = np.zeros(40)
            counts[min(np.searchsorted(self.prob_bins, self.data["eval_prob"]) - 1, 39)] = len(prob)
            self.prob_stairs.set_data(counts)
            counts = np.zeros(40)
            counts[np.clip(np.searchsorted(self.mean_bins, self.data["running_mean"]) - 1, 0, 39)] = len(prob)
            self.mean_stairs.set_data(counts)
            self.ax_prob.set_title(f"evaluation mode: p = {self.data['eval_prob']:.3f} for every batch")
            self.ax_mean.set_title("the running mean replaces the batch mean")


class SmoothnessProbeWidget(FigureWidget):
    """Santurkar et al.'s probe: the loss (left) and the change of the gradient (right) along the
    gradient direction, :math:`L(\\theta - \\eta g)` and :math:`\\|\\nabla L(\\theta-\\eta g) - g\\|`,
    for a range of step sizes η, without and with batch norm, at the training step chosen."""

    def __init__(self, checkpoint: int = 30):
        self.runs = experiments.smoothness_runs()
        steps = self.runs["batch norm"].steps
        super().__init__({
            "checkpoint": widgets.SelectionSlider(options=[int(s) for s in steps], value=checkpoint,
                                                  description="training step"),
        }, figsize=(9.5, 3.6), dpi=72)

    def draw_initial(self, fig):
        self.ax_loss, self.ax_grad = fig.subplots(1, 2)
        self.lines = {}
        for name, color in (("standard", PLAIN_COLOR), ("batch norm", BN_COLOR)):
            run = self.runs[name]
            self.lines[name, "loss"] = self.animate(self.ax_loss.plot(run.etas, run.etas * 0 + 1, "o-", color=color,
                                                                      markersize=3, label=name)[0])
            self.lines[name, "grad"] = self.animate(self.ax_grad.plot(run.etas, run.etas * 0 + 1, "o-", color=color,
                                                                      markersize=3, label=name)[0])
        losses = np.concatenate([self.runs[n].losses.ravel() for n in self.runs])
        changes = np.concatenate([self.runs[n].grad_changes.ravel() for n in self.runs])
        self.ax_loss.set(xscale="log", yscale="log", xlabel=r"step size $\eta$", ylabel=r"$L(\theta - \eta g)$",
                         ylim=(losses.min() / 1.5, losses.max() * 1.5))
        self.ax_grad.set(xscale="log", yscale="log", xlabel=r"step size $\eta$",
                         ylabel=r"$\|\nabla L(\theta - \eta g) - g\|$", ylim=(changes.min() / 1.5, changes.max() * 1.5))
        self.ax_loss.legend(loc="upper left", fontsize=8)
        self.animate(self.ax_loss.title)
        self.animate(self.ax_grad.title)

    def update(self, checkpoint):
        i = int(np.flatnonzero(self.runs["batch norm"].steps == checkpoint)[0])
        for name in self.runs:
            run = self.runs[name]
            self.lines[name, "loss"].set_ydata(run.losses[i])
            self.lines[name, "grad"].set_ydata(run.grad_changes[i])
        plain, bn = self.runs["standard"], self.runs["batch norm"]
        self.ax_loss.set_title(f"step {checkpoint}: loss spread {plain.loss_range[i]:.3g} vs {bn.loss_range[i]:.3g}")
        self.ax_grad.set_title(f"effective β-smoothness {plain.beta[i]:.3g} vs {bn.beta[i]:.3g}")
