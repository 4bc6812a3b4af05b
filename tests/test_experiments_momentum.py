"""course_lib.experiments.momentum: races and eigen-coordinates measured on real runs, against
course_lib.optim and the theory of course_lib.quadratic_theory; validation."""
import numpy as np
import pytest

from course_lib.experiments import momentum as me
from course_lib import optim, quadratic_theory, surfaces


# --- race ---------------------------------------------------------------------------------------

def test_race_runs_the_three_torch_methods():
    bowl = surfaces.quadratic(20.0, angle=0.4)
    runs = me.momentum_race(bowl, (1.0, -1.0), 30, 0.5, 0.8)
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
        runs = me.momentum_race(bowl, (1.0, 1.0), 200, 2.5, 0.5)  # SGD diverges: alpha * L = 2.5 > 2
    sgd = runs["SGD"]
    assert np.isnan(sgd.losses[-1]) and np.isfinite(sgd.losses[0])
    first = int(np.argmax(np.isnan(sgd.losses)))
    assert np.all(np.isnan(sgd.params[first:])) and np.all(np.isfinite(sgd.params[:first]))
    assert np.all(np.isfinite(runs["momentum"].losses))  # 2.5 < 2 (1 + 0.5): heavy ball converges


def test_race_with_zero_momentum_is_three_times_sgd():
    runs = me.momentum_race(surfaces.rosenbrock(), (-1.2, 1.0), 20, 1e-3, 0.0)
    assert np.array_equal(runs["SGD"].params, runs["Nesterov"].params)


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=0.0), "lr must be in"), (dict(momentum=1.0), "momentum must be in"), (dict(steps=0), "steps"),
])
def test_race_validates(kwargs, message):
    args = dict(surface=surfaces.quadratic(), lr=0.1, momentum=0.5, x0=(1.0, 1.0), steps=5) | kwargs
    with pytest.raises(ValueError, match=message):
        me.momentum_race(**args)


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
    with pytest.raises(ValueError, match="trajectory must have shape .* got \\(2, 1\\)"):
        me.measured_rate([1.0, 0.5])
    with pytest.raises(TypeError, match="trajectory"):
        me.measured_rate("abc")
    with pytest.raises(TypeError, match="trajectory must be an array of real numbers"):
        me.measured_rate(["a", "b", "c", "d"])


def test_eigen_trajectory_validates():
    with pytest.raises(ValueError, match="x0 must be nonzero .* got 0"):
        me.eigen_trajectory(0.5, 0.5, 1.0, 10, x0=0.0)
    with pytest.raises(ValueError, match="momentum must be in \\[0, 1\\), got 1"):
        me.eigen_trajectory(0.5, 1.0, 1.0, 10)


# --- the lower bound (Nesterov's worst-case quadratic) --------------------------------------------

def test_worst_case_quadratic_has_its_spectrum_in_mu_L_and_a_geometric_minimiser():
    bowl = me.worst_case_quadratic(0.01, 1.0, 100)
    assert 0.01 < bowl.eigenvalues[0] and bowl.eigenvalues[-1] < 1.0
    q = quadratic_theory.momentum_rate(100.0)
    x_star = bowl.center
    np.testing.assert_allclose(x_star[1:30] / x_star[:29], q, rtol=1e-8)   # far from the far end: q^i
    np.testing.assert_allclose(bowl.grad(x_star), 0.0, atol=1e-12)


def test_every_first_order_method_is_above_the_krylov_bound_and_the_heavy_ball_meets_it():
    mu, L, dim, K = 0.01, 1.0, 100, 60
    bowl = me.worst_case_quadratic(mu, L, dim)
    bound = me.krylov_lower_bound(bowl, K)
    np.testing.assert_allclose(bound[:41], quadratic_theory.momentum_rate(L / mu) ** np.arange(41), rtol=1e-6)
    step, momentum, _ = quadratic_theory.optimal_momentum(mu, L)
    start = np.zeros(dim)
    runs = {
        "gd": surfaces.run(optim.sgd(1.0), bowl, start, K).params,
        "hb": surfaces.run(optim.sgd(step, momentum=momentum), bowl, start, K).params,
        "nesterov": surfaces.run(optim.sgd(1.0, momentum=0.8, nesterov=True), bowl, start, K).params,
        "cg": me.conjugate_gradient(bowl, start, K),
    }
    norm = np.linalg.norm(bowl.center)
    for name, path in runs.items():
        errors = np.linalg.norm(path - bowl.center, axis=1) / norm
        assert np.all(errors >= bound * (1 - 1e-9)), name
        for k in (3, 10, 30):  # the Krylov argument: x_k has (numerically) nothing beyond coordinate k
            assert np.max(np.abs(path[k][k:])) < 1e-12 * np.max(np.abs(path[k])), (name, k)
    hb_errors = np.linalg.norm(runs["hb"] - bowl.center, axis=1) / norm
    np.testing.assert_allclose(hb_errors, bound, rtol=1e-9)
    gd_errors = np.linalg.norm(runs["gd"] - bowl.center, axis=1) / norm
    assert gd_errors[K] > 1e3 * bound[K]


def test_conjugate_gradient_solves_a_d_dimensional_quadratic_in_d_steps():
    bowl = surfaces.Quadratic(np.diag([1.0, 3.0, 10.0]), center=(1.0, -2.0, 0.5))
    path = me.conjugate_gradient(bowl, (0.0, 0.0, 0.0), 5)
    assert path.shape == (6, 3)
    np.testing.assert_allclose(path[3], bowl.center, atol=1e-12)
    np.testing.assert_allclose(path[5], bowl.center, atol=1e-12)


def test_lower_bound_functions_validate():
    with pytest.raises(ValueError, match="mu"):
        me.worst_case_quadratic(2.0, 1.0, 10)
    with pytest.raises(ValueError, match="dim"):
        me.worst_case_quadratic(0.1, 1.0, 1)
    with pytest.raises(ValueError, match="steps"):
        me.krylov_lower_bound(me.worst_case_quadratic(0.1, 1.0, 10), 10)
    with pytest.raises(TypeError, match="surface must be a surfaces.Quadratic"):
        me.krylov_lower_bound(surfaces.rosenbrock(), 3)
    with pytest.raises(TypeError, match="surface must be a surfaces.Quadratic"):
        me.conjugate_gradient(surfaces.rosenbrock(), (0.0, 0.0), 3)


# --- noise: equal effective steps -------------------------------------------------------------------

def test_noisy_mean_losses_average_seeded_runs_and_reach_the_theoretical_floor():
    bowl, sigma = surfaces.quadratic(10.0, angle=0.4), 0.3
    opts = {"hb": optim.sgd(0.02, momentum=0.9), "sgd": optim.sgd(0.2)}
    mean = me.noisy_mean_losses(opts, bowl, sigma, (2.0, -2.0), 1000, 8)
    expected = np.mean([surfaces.run(opts["hb"], surfaces.noisy(bowl, sigma), (2.0, -2.0), 1000, rng=s).losses
                        for s in range(8)], axis=0)
    np.testing.assert_array_equal(mean["hb"], expected)
    floors = {"hb": quadratic_theory.noise_floor(0.02, 0.9, bowl.eigenvalues, sigma),
              "sgd": quadratic_theory.noise_floor(0.2, 0.0, bowl.eigenvalues, sigma)}
    for name in opts:
        assert mean[name][-500:].mean() == pytest.approx(floors[name], rel=0.25)
    # the chapter's claim: at equal effective step, beta = 0.9 reaches the floor no sooner than SGD
    hb, sgd = (me.steps_to_floor(mean[n], floors[n], 2.0) for n in ("hb", "sgd"))
    assert 0 < sgd and abs(hb - sgd) <= 0.1 * sgd


def test_steps_to_floor():
    assert me.steps_to_floor([5.0, 3.0, 1.4, 1.0], 1.0, 1.5) == 2
    assert me.steps_to_floor([5.0, 3.0], 1.0) == -1
    with pytest.raises(ValueError, match="floor"):
        me.steps_to_floor([1.0, 2.0], 0.0)
    with pytest.raises(ValueError, match="factor"):
        me.steps_to_floor([1.0, 2.0], 1.0, 0.5)
    with pytest.raises(TypeError, match="optimizers"):
        me.noisy_mean_losses([], surfaces.quadratic(), 0.1, (1.0, 1.0), 10, 2)
