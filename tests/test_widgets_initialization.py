"""The initialization chapter's widgets draw what course_lib computes (the generic checks, that
each builds and that every control changes the picture, are in tests/test_widgets.py)."""
import math

import numpy as np
import pytest

from course_lib import diagnostics
from course_lib.experiments import initialization as experiments
from course_lib.widgets.initialization import PreprocessingWidget, SignalPropagationWidget, SymmetryWidget


def test_signal_widget_draws_the_propagation_statistics_and_the_theory():
    widget = SignalPropagationWidget()
    widget.set(activation="relu", scale=math.sqrt(2.0), depth=12, width=64)
    run = widget.run
    layers, act = widget.lines["act"].get_data()
    np.testing.assert_array_equal(layers, np.arange(1, 13))
    np.testing.assert_allclose(act, run.act_std)
    theory = diagnostics.mean_field(2.0, 12, "relu", input_second_moment=float(np.mean(widget.x[:, :64] ** 2)))
    np.testing.assert_allclose(widget.lines["act_theory"].get_data()[1], theory.act_std, rtol=1e-6)
    assert "(He)" in widget.ax_act.get_title()
    # the drawn network is the widget's unit-variance weights times the scale
    first = widget.model.layers[0].params["weight"]
    assert first.std() * math.sqrt(64) == pytest.approx(math.sqrt(2.0), rel=0.05)
    # the ratio curves are the theory's at the chosen depth
    curve = widget.ratio_curves["relu"].get_ydata()
    expected = [(lambda s: s[-1] / s[0])(diagnostics.mean_field(g**2, 12, "relu").act_std) for g in widget.SCALE_GRID]
    np.testing.assert_allclose(curve, np.clip(expected, 1e-6, 1e6), rtol=1e-9)


def test_signal_widget_histograms_vanish_and_saturate():
    widget = SignalPropagationWidget(activation="tanh", scale=0.125, depth=10)
    assert widget.run.act_hist[-1, 20] > 0.99           # everything in the bin around 0
    widget.set(scale=4.0)
    hist, edges = widget.run.act_hist[-1], widget.run.act_edges
    near_one = np.abs(np.abs(0.5 * (edges[1:] + edges[:-1])) - 1.0) < 0.1
    assert hist[near_one].sum() > 0.4                    # piled up at -1 and +1


def test_preprocessing_widget_shows_each_methods_path():
    widget = PreprocessingWidget(method="standardized", correlation=0.8)
    x, y = experiments.cloud(correlation=0.8)
    expected = experiments.preprocessing_path(x, y, "standardized", steps=widget.STEPS, resolution=61)
    np.testing.assert_allclose(widget.points.get_offsets(), expected.x)
    u = (expected.w - expected.w_star) / max(1.0, np.abs(expected.w_star).max())
    np.testing.assert_allclose(np.column_stack(widget.path.get_data()), u)
    assert f"steps to 10⁻⁶: {expected.steps_needed}" in widget.ax_path.get_title()
    widget.set(method="whitened")
    assert "κ = 1," in widget.ax_path.get_title()
    visible = [key for key, contour in widget.contours.items() if contour.get_visible()]
    assert visible == [("whitened", 0.8)]


def test_symmetry_widget_draws_the_runs():
    widget = SymmetryWidget(noise=0.0)
    assert np.all(widget.spreads == 0.0)
    assert "final spread 0" in widget.ax_w.get_title()
    widget.set(noise=0.1)
    run = experiments.symmetry_run(0.1, steps=widget.STEPS)
    np.testing.assert_allclose(widget.unit_lines[2].get_data()[0], run[:, 2, 0])
    assert widget.spreads[-1].max() > 0.1
