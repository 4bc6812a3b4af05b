"""course_lib.experiments.momentum and the momentum chapter's widgets: closed forms, runs against
theory, validation, and what the widgets draw."""
import numpy as np
import pytest

from course_lib.experiments import momentum as me
from course_lib import optim, quadratic_theory, surfaces
from course_lib.widgets.momentum import MomentumRaceWidget, RateMapWidget, race_surfaces


# --- race ---------------------------------------------------------------------------------------

def test_race_runs_the_three_torch_methods():
    bowl = surfaces.quadratic(20.0, angle=0.4)
    runs = me.race(bowl, 0.5, 0.8, (1.0, -1.0), 30)
    assert set(runs) == {"SGD", "momentum", "Nesterov"}
    expected = {
        "SGD": optim.sgd(0.5),
        "momentum": optim.sgd(0.5, momentum=0.8),
        "Nesterov": optim.sgd(0.5, momentum=0.8, nesterov=True),
    }
    for name, opt in expected.items():
        assert np.array_equal(runs[name].params, surfaces.run(opt, bowl, (1.0, -1.0), 30).params)
        assert runs[name].params.shape == (31, 2) and runs[name].losses.shape == (31,)


def test_race_cuts_a_divergent_run_with_nan_and_no_warning():
    bowl = surfaces.quadratic(10.0)
    with np.errstate(all="raise"):
        runs = me.race(bowl, 2.5, 0.5, (1.0, 1.0), 200)  # SGD diverges: alpha * L = 2.5 > 2
    sgd = runs["SGD"]
    assert np.isnan(sgd.losses[-1]) and np.isfinite(sgd.losses[0])
    first = int(np.argmax(np.isnan(sgd.losses)))
    assert np.all(np.isnan(sgd.params[first:])) and np.all(np.isfinite(sgd.params[:first]))
    assert np.all(np.isfinite(runs["momentum"].losses))  # 2.5 < 2 (1 + 0.5): heavy ball converges


def test_race_with_zero_momentum_is_three_times_sgd():
    runs = me.race(surfaces.rosenbrock(), 1e-3, 0.0, (-1.2, 1.0), 20)
    assert np.array_equal(runs["SGD"].params, runs["Nesterov"].params)


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=0.0), "lr must be in"), (dict(momentum=1.0), "momentum must be in"), (dict(steps=0), "steps"),
])
def test_race_validates(kwargs, message):
    args = dict(surface=surfaces.quadratic(), lr=0.1, momentum=0.5, x0=(1.0, 1.0), steps=5) | kwargs
    with pytest.raises(ValueError, match=message):
        me.race(**args)


# --- eigen-coordinates and measured rates ---------------------------------------------------------

def test_eigen_trajectory_follows_the_two_term_recurrence():
    alpha, beta, lam = 0.7, 0.6, 0.9
    x = me.eigen_trajectory(alpha, beta, lam, 30, x0=2.0)
    expected = [2.0, 2.0 * (1 - alpha * lam)]  # torch's first buffer is g_1: the first step is plain GD
    for _ in range(29):
        expected.append((1 + beta - alpha * lam) * expected[-1] - beta * expected[-2])
    assert np.allclose(x, expected, rtol=1e-12, atol=1e-14)


def test_eigen_trajectory_is_cut_when_it_diverges():
    x = me.eigen_trajectory(4.5, 0.9, 1.0, 300)
    assert np.isnan(x[-1]) and np.nanmax(np.abs(x)) <= 1e6


@pytest.mark.parametrize("alpha, beta, lam", [
    (1.0, 0.9, 1.0),      # under-damped
    (0.5, 0.0, 1.0),      # gradient descent, monotone
    (1.9, 0.0, 1.0),      # gradient descent, sign flips
    (1.0, 0.3, 0.01),     # over-damped, slow
    (4.5, 0.9, 1.0),      # diverges
])
def test_measured_rate_matches_the_spectral_radius(alpha, beta, lam):
    measured = me.measured_rate(me.eigen_trajectory(alpha, beta, lam, 300))
    assert measured == pytest.approx(quadratic_theory.spectral_radius(alpha, beta, lam), rel=2e-3)


def test_measured_rate_of_an_exact_one_step_solve_is_zero():
    assert me.measured_rate(me.eigen_trajectory(1.0, 0.0, 1.0, 10)) == 0.0


def test_measured_rate_on_a_2d_run_matches_rate():
    bowl = surfaces.quadratic(100.0, angle=0.3)
    step, momentum, best = quadratic_theory.optimal_momentum(0.01, 1.0)
    run = surfaces.run(optim.sgd(step, momentum=momentum), bowl, (1.0, 1.0), 120)
    assert me.measured_rate(run.params) == pytest.approx(best, rel=0.02)


def test_measured_rate_validates():
    with pytest.raises(ValueError, match="trajectory"):
        me.measured_rate([1.0, 0.5])
    with pytest.raises(TypeError, match="trajectory"):
        me.measured_rate("abc")


# --- regimes ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("alpha, beta, lam, expected", [
    (0.0, 0.5, 1.0, "stuck"),
    (0.5, 0.0, 1.0, "over-damped"),
    (1.5, 0.0, 1.0, "sign-flipping"),
    (2.5, 0.0, 1.0, "diverges"),
    (0.25, 0.25, 1.0, "critically damped"),   # (1 - sqrt(0.25))^2 = 0.25
    (0.25, 0.5, 1.0, "under-damped"),
    (0.25, 0.1, 1.0, "over-damped"),
    (3.5, 0.8, 1.0, "under-damped"),
    (3.7, 0.8, 1.0, "diverges"),               # 3.7 > 2 (1 + 0.8)
])
def test_regime(alpha, beta, lam, expected):
    assert me.regime(alpha, beta, lam) == expected


def test_regime_agrees_with_the_critical_momentum_of_quadratic_theory():
    beta = quadratic_theory.critical_momentum(0.3, 0.5)
    assert me.regime(0.3, beta, 0.5) == "critically damped"
    assert me.regime(0.3, beta + 0.01, 0.5) == "under-damped"
    assert me.regime(0.3, beta - 0.01, 0.5) == "over-damped"


# --- noise --------------------------------------------------------------------------------------

def test_stationary_variance_of_sgd_closed_form():
    # beta = 0: x_{k+1} = (1 - a l) x_k - a sigma xi, variance a^2 s^2 / (1 - (1 - a l)^2)
    a, lam, s = 0.3, 2.0, 0.7
    assert me.stationary_variance(a, 0.0, lam, s) == pytest.approx(a**2 * s**2 / (1 - (1 - a * lam) ** 2))


def test_stationary_variance_outside_the_region_is_infinite():
    assert me.stationary_variance(2.5, 0.0, 1.0, 1.0) == np.inf


def test_noise_floor_matches_a_long_noisy_run():
    bowl = surfaces.quadratic(10.0, angle=0.3)
    for alpha, beta in [(0.1, 0.0), (0.05, 0.8)]:
        run = surfaces.run(optim.sgd(alpha, momentum=beta), surfaces.noisy(bowl, 0.5), (0.0, 0.0), 30000, seed=3)
        predicted = me.noise_floor(alpha, beta, bowl.eigenvalues, 0.5)
        assert run.losses[2000:].mean() == pytest.approx(predicted, rel=0.06)


def test_momentum_noise_floor_is_sgd_with_the_effective_step():
    lam = np.array([1.0, 0.1])
    floor = me.noise_floor(1e-3, 0.9, lam, 1.0)
    assert floor == pytest.approx(me.noise_floor(1e-2, 0.0, lam, 1.0), rel=0.01)
    assert floor == pytest.approx(2 * 1e-3 / (4 * 0.1), rel=0.01)  # d sigma^2 alpha / (4 (1 - beta))


def test_noise_validation():
    with pytest.raises(ValueError, match="sigma"):
        me.noise_floor(0.1, 0.5, [1.0], -1.0)
    with pytest.raises(ValueError, match="eigenvalues"):
        me.noise_floor(0.1, 0.5, [], 1.0)


# --- Nesterov ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("alpha, beta, lam", [(0.5, 0.9, 0.01), (0.3, 0.5, 1.0), (1.5, 0.8, 1.0)])
def test_nesterov_matrix_matches_torch_nesterov(alpha, beta, lam):
    run = surfaces.run(optim.sgd(alpha, momentum=beta, nesterov=True), surfaces.Quadratic([[lam]]), [1.0], 300)
    y = run.params[:, 0]
    T = me.nesterov_iteration_matrix(alpha, beta, lam)
    for k in range(2, 40):
        assert T[0] @ [y[k - 1], y[k - 2]] == pytest.approx(y[k], rel=1e-9, abs=1e-14)
    assert me.measured_rate(y) == pytest.approx(me.nesterov_spectral_radius(alpha, beta, lam), rel=0.02)


# --- widgets ---------------------------------------------------------------------------------------

def test_race_widget_draws_the_race():
    widget = MomentumRaceWidget()
    widget.set(surface="Rosenbrock", step=0.5, momentum=0.8)
    spec = race_surfaces()["Rosenbrock"]
    runs = me.race(spec["surface"], 0.5 / spec["L"], 0.8, spec["x0"], spec["steps"])
    for name in runs:
        assert np.array_equal(widget.paths[name].get_xdata(), runs[name].params[:, 0], equal_nan=True)
        assert np.array_equal(widget.losses[name].get_ydata(), runs[name].losses, equal_nan=True)
    assert widget.contours["Rosenbrock"].get_visible()
    assert not widget.contours["quadratic (κ = 50)"].get_visible()


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


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_nesterov_stable_range_is_smaller_than_heavy_balls(beta):
    limit = (2 + 2 * beta) / (1 + 2 * beta)   # root conditions of the Nesterov matrix (chapter text)
    assert me.nesterov_spectral_radius(0.99 * limit, beta, 1.0) < 1 < me.nesterov_spectral_radius(1.01 * limit, beta, 1.0)
    assert quadratic_theory.spectral_radius(1.01 * limit, beta, 1.0) < 1 or beta == 0.0
