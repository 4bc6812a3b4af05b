"""The gradient-descent chapter's widgets draw what course_lib computes (the generic checks, that
each builds and that every control changes the picture, are in tests/test_widgets.py)."""
import numpy as np
import pytest

from course_lib import optim, schedules, surfaces
from course_lib.experiments import gradient_descent as experiments
from course_lib.widgets.gradient_descent import (SCHEDULE_KINDS, LearningRateExplorer, ScheduleDesigner,
                                                 designer_schedule, explore, scenes)


def test_explorer_draws_the_run_of_optim_sgd():
    widget = LearningRateExplorer()
    widget.set(lr=0.5, start=1)
    scene = widget.scenes[widget.values["surface"]]
    expected = surfaces.run(optim.sgd(lr=0.5), scene.surface, scene.starts[1], 200)
    np.testing.assert_allclose(np.column_stack(widget.path.get_data()), expected.params)
    assert "stable if α < 2/λ_max = 2.000" in widget.ax.get_title()


def test_explorer_reports_divergence_just_above_two_over_lambda_max():
    scene = scenes()["ravine (quadratic, κ = 20)"]
    _, below = explore(scene, 1.95 / scene.lam_max, False, 0)
    _, above = explore(scene, 2.1 / scene.lam_max, False, 0)
    assert len(below) == 201 and below[-1] < below[0]
    assert len(above) < 201  # cut at divergence
    widget = LearningRateExplorer(lr=10**0.35)  # 2.24 > 2 / lambda_max = 2, a value on the slider
    assert widget.loss_ax.get_title().startswith("diverged")


def test_explorer_stochastic_runs_use_real_minibatches():
    scene = scenes()["real data: diabetes regression"]
    params, _ = explore(scene, 0.3, True, 0, steps=20, rng=0)
    expected = surfaces.run(optim.sgd(lr=0.3), scene.surface, scene.starts[0], 20, rng=0).params
    np.testing.assert_allclose(params, expected)
    exact, _ = explore(scene, 0.3, False, 0, steps=20)
    assert not np.allclose(params, exact)


def test_explorer_switches_contours():
    widget = LearningRateExplorer()
    widget.set(surface="saddle point")
    visible = [label for label, cs in widget.contours.items() if cs.get_visible()]
    assert visible == ["saddle point"]
    assert widget.ax.get_xlim() == (-2, 2)


@pytest.mark.parametrize("kind", SCHEDULE_KINDS)
def test_designer_schedules_are_course_lib_schedules(kind):
    chosen = designer_schedule(kind, 0.4, 100)
    assert chosen(0) == pytest.approx(0.4)
    warmed = designer_schedule(kind, 0.4, 100, warmup_steps=20)
    assert warmed(0) == 0.0 and warmed(10) == pytest.approx(0.2) and warmed(20) == pytest.approx(0.4)
    assert warmed(70) == pytest.approx(chosen(50))


def test_designer_time_scales():
    assert designer_schedule("cosine", 1.0, 100)(100) == pytest.approx(0.0)
    assert designer_schedule("linear to floor", 1.0, 100)(500) == pytest.approx(0.01)
    assert designer_schedule("exponential", 1.0, 100)(100) == pytest.approx(0.01)
    assert designer_schedule("1/t", 1.0, 100)(100) == pytest.approx(1 / 11)
    assert designer_schedule("step", 1.0, 100)(74) == pytest.approx(0.1)
    assert designer_schedule("step", 1.0, 100)(75) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="kind"):
        designer_schedule("triangle", 1.0, 100)


def test_designer_draws_the_schedule_and_the_mean_loss():
    widget = ScheduleDesigner()
    widget.set(schedule="1/t", lr=0.3, horizon=100, warmup=10)
    chosen = designer_schedule("1/t", 0.3, 100, 10)
    np.testing.assert_allclose(widget.rate_line.get_ydata(), chosen(np.arange(widget.STEPS)) / 0.3)
    losses = experiments.sgd_least_squares(widget.surface, chosen, widget.x0, widget.batches)
    floor = widget.loss_ax.get_ylim()[0]  # the curve is clipped to the axis
    np.testing.assert_allclose(widget.schedule_line.get_ydata(), np.clip(np.mean(losses, axis=0) - widget.f_star, floor, None))
    assert "Robbins–Monro met" in widget.ax.get_title()
    widget.set(schedule="cosine")
    assert "Robbins–Monro not met" in widget.ax.get_title()


def test_a_decaying_schedule_beats_the_constant_rate_at_the_end():
    widget = ScheduleDesigner()
    with_cosine = widget.excess(designer_schedule("cosine", 0.5, 300))
    constant = widget.excess(schedules.constant(0.5))
    assert with_cosine[-1] < 0.2 * constant[-1]
