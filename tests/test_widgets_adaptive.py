"""The adaptive chapter's widgets draw what course_lib computes (the generic checks, that each
builds and that every control changes the picture, are in tests/test_widgets.py)."""
import numpy as np
import pytest

from course_lib import surfaces
from course_lib.experiments import adaptive as ae
from course_lib.widgets.adaptive import AdamStartWidget, EffectiveStepWidget, OptimizerRaceWidget, race_surfaces


def test_race_widget_draws_the_runs():
    widget = OptimizerRaceWidget()
    widget.set(lr=0.05, sgd_step=0.5)
    spec = widget.surfaces[widget.values["surface"]]
    runs = ae.optimizer_race(spec["surface"], spec["x0"], spec["steps"], lr=widget.values["lr"], sgd_lr=0.5 / spec["L"])
    for name in ae.OPTIMIZER_RACE_METHODS:
        np.testing.assert_array_equal(widget.paths[name].get_xdata(), runs[name].params[:, 0])
        np.testing.assert_array_equal(widget.losses[name].get_ydata(), runs[name].losses)
    widget.set(surface="saddle point")
    assert widget.ax_loss.get_yscale() == "linear"


def test_race_widget_reruns_only_the_methods_a_move_changes_and_draws_the_same_runs():
    widget = OptimizerRaceWidget()
    moves = [dict(lr=0.05), dict(sgd_step=0.5), dict(surface="saddle point"), dict(lr=0.2), dict(surface="Rosenbrock")]
    for move in moves:
        before = dict(widget.runs)
        widget.set(**move)
        spec = widget.surfaces[widget.values["surface"]]
        runs = ae.optimizer_race(spec["surface"], spec["x0"], spec["steps"], lr=widget.values["lr"],
                                 sgd_lr=widget.values["sgd_step"] / spec["L"])
        for name in ae.OPTIMIZER_RACE_METHODS:
            np.testing.assert_array_equal(widget.runs[name].params, runs[name].params)
            np.testing.assert_array_equal(widget.losses[name].get_ydata(), runs[name].losses)
        kept = {name for name in runs if widget.runs[name] is before[name]}
        changed = set(move) - {"surface"}
        expected = set() if "surface" in move else {
            name for name, arguments in ae.OPTIMIZER_RACE_ARGUMENTS.items()
            if not ({"lr": "lr", "sgd_step": "sgd_lr"}[next(iter(changed))] in arguments)}
        assert kept == expected, move


def test_sgd_step_on_rosenbrock_is_scaled_by_its_curvature_at_the_minimum():
    """L is derived from the surface's Hessian ([[802, -400], [-400, 200]] at (1, 1)), not typed in."""
    rosen = surfaces.rosenbrock()
    np.testing.assert_array_equal(rosen.hessian_at(rosen.minimum), [[802.0, -400.0], [-400.0, 200.0]])
    assert race_surfaces()["Rosenbrock"]["L"] == np.linalg.eigvalsh(rosen.hessian_at(rosen.minimum))[-1]


def test_effective_step_widget_shows_adagrad_decay_and_rmsprop_forgetting():
    widget = EffectiveStepWidget()
    widget.set(shrink=True)
    adagrad, rmsprop = widget.rates["AdaGrad"], widget.rates["RMSProp"]
    np.testing.assert_array_equal(widget.lines[("AdaGrad", 0)].get_ydata(), adagrad[:, 0])
    # after the gradients shrink tenfold, RMSProp's rate rises about tenfold; AdaGrad's barely moves
    assert rmsprop[-50:, 0].mean() / rmsprop[200:250, 0].mean() > 5
    assert adagrad[-1, 0] / adagrad[249, 0] < 1.5


def test_effective_step_widget_keeps_adagrad_only_while_its_gradient_stream_is_the_same():
    """AdaGrad's rates do not depend on rho, so a drag of rho reuses them; any other move recomputes
    them: after every move the widget shows what a widget built at those values shows."""
    widget = EffectiveStepWidget()
    for values in (dict(rho=0.99), dict(flat_scale=0.1), dict(rho=0.5, shrink=True), dict(rho=0.7), dict(shrink=False)):
        widget.set(**values)
        fresh = EffectiveStepWidget(**widget.values)
        for method in ("AdaGrad", "RMSProp"):
            np.testing.assert_array_equal(widget.rates[method], fresh.rates[method])
        np.testing.assert_array_equal(widget.grads, fresh.grads)


def test_adam_start_widget_first_steps():
    widget = AdamStartWidget()
    widget.set(beta1=0.9, beta2=0.999, scale=1000.0, noise=0.0)
    assert abs(widget.steps[True][0]) == pytest.approx(1.0)
    assert abs(widget.steps[False][0]) == pytest.approx(0.1 / np.sqrt(0.001))
    assert "3.16" in widget.ax.get_title()
    widget.set(scale=1e-9)                           # epsilon dominates: far smaller steps
    assert abs(widget.steps[True][0]) < 0.2
