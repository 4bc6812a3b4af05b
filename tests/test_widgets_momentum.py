"""The momentum chapter's widgets draw what course_lib computes (the generic checks, that each
builds and that every control changes the picture, are in tests/test_widgets.py)."""
import numpy as np
import pytest

from course_lib import quadratic_theory, surfaces
from course_lib.experiments import momentum as me
from course_lib.widgets.momentum import MomentumRaceWidget, RateMapWidget, race_surfaces


def test_race_widget_draws_the_race():
    widget = MomentumRaceWidget()
    widget.set(surface="Rosenbrock", step=0.5, momentum=0.8)
    spec = race_surfaces()["Rosenbrock"]
    runs = me.momentum_race(spec["surface"], spec["x0"], spec["steps"], 0.5 / spec["L"], 0.8)
    for name in runs:
        assert np.array_equal(widget.paths[name].get_xdata(), runs[name].params[:, 0], equal_nan=True)
        assert np.array_equal(widget.losses[name].get_ydata(), runs[name].losses, equal_nan=True)
    assert widget.contours["Rosenbrock"].get_visible()
    assert not widget.contours["quadratic (κ = 50)"].get_visible()


def test_race_step_is_scaled_by_the_largest_curvature_at_the_minimum():
    """L is derived from the surface (the Hessian at the minimum), not typed in."""
    rosen = surfaces.rosenbrock()
    assert race_surfaces()["Rosenbrock"]["L"] == np.linalg.eigvalsh(rosen.hessian_at(rosen.minimum))[-1]
    quadratic = race_surfaces()["quadratic (κ = 50)"]
    assert quadratic["L"] == pytest.approx(quadratic["surface"].eigenvalues[-1], rel=1e-12)


def test_rate_map_widget_probe_shows_theory_and_measurement():
    widget = RateMapWidget()
    widget.set(step=1.0, momentum=0.9, direction="λ_max = 1 (steep)")
    x = me.eigen_trajectory(1.0, 0.9, 1.0, RateMapWidget.K)
    assert np.allclose(widget.x_line.get_ydata(), x)
    assert "under-damped" in widget.ax_x.get_title()
    assert f"{quadratic_theory.spectral_radius(1.0, 0.9, 1.0):.4f} theory" in widget.ax_x.get_title()
    assert list(widget.marker.get_xdata()) == [1.0]
    widget.set(step=3.9, momentum=0.0)
    assert "diverges" in widget.ax_x.get_title()


def test_rate_map_draws_both_double_root_branches_so_the_optimum_lies_on_the_steep_curve():
    widget = RateMapWidget()
    step, momentum, _ = quadratic_theory.optimal_momentum(RateMapWidget.MU, RateMapWidget.L)
    curve = widget.critical_curves[RateMapWidget.L]
    a, b = curve.get_xdata(), curve.get_ydata()
    assert a.max() > step > 1.0 / RateMapWidget.L                  # the branch beyond alpha = 1/L is drawn
    assert np.interp(step, a, b) == pytest.approx(momentum, abs=1e-3)
