"""course_lib.quadratic_theory against closed forms and the measured convergence of real runs:
heavy ball, Nesterov, regimes, and the noise floors of SGD with and without momentum."""
import numpy as np
import pytest

from course_lib import optim, schedules, surfaces
from course_lib import quadratic_theory as qt
from course_lib.experiments.momentum import measured_rate


def error_curve(opt, surface, x0, steps):
    params = surfaces.run(opt, surface, x0, steps).params
    return np.linalg.norm(params - surface.minimum, axis=1)


def test_iteration_matrix_reproduces_sgd_with_momentum_exactly():
    """Along one eigen-direction, torch-style sgd(momentum) is x_{k+1} = T (x_k, x_{k-1}) with x_{-1} = x_0."""
    lam, alpha, beta = 0.7, 0.3, 0.6
    surface = surfaces.Quadratic([[lam]])
    xs = surfaces.run(optim.sgd(alpha, momentum=beta), surface, (1.0,), 40).params[:, 0]
    T = qt.iteration_matrix(alpha, beta, lam)
    z, predicted = np.array([1.0, 1.0]), [1.0]
    for _ in range(40):
        z = T @ z
        predicted.append(z[0])
    np.testing.assert_allclose(xs, predicted, rtol=1e-12, atol=1e-15)


def test_spectral_radius_is_the_largest_eigenvalue_modulus():
    rng = np.random.default_rng(0)
    alpha, beta, lam = rng.uniform(0, 3, 300), rng.uniform(0, 0.999, 300), rng.uniform(0.01, 2, 300)
    expected = [np.max(np.abs(np.linalg.eigvals(qt.iteration_matrix(a, b, l)))) for a, b, l in zip(alpha, beta, lam)]
    np.testing.assert_allclose(qt.spectral_radius(alpha, beta, lam), expected, rtol=1e-7)


def test_convergence_region():
    alpha = np.linspace(0.01, 5, 300)[None, :]
    beta = np.linspace(0, 0.98, 200)[:, None]
    inside = qt.converges(alpha, beta, 1.0)
    radius = qt.spectral_radius(alpha, beta, 1.0)
    away_from_edge = np.abs(alpha - 2 * (1 + beta)) > 1e-6
    np.testing.assert_array_equal(inside[np.broadcast_to(away_from_edge, inside.shape)],
                                  (radius < 1)[np.broadcast_to(away_from_edge, inside.shape)])
    assert qt.converges(1.9, 0.0, 1.0) and not qt.converges(2.1, 0.0, 1.0) and qt.converges(2.1, 0.1, 1.0)


def test_critical_momentum_broadcasts():
    steps = np.array([0.1, 0.4, 1.0])
    np.testing.assert_allclose(qt.critical_momentum(steps, 1.0), [qt.critical_momentum(a, 1.0) for a in steps], rtol=0)
    assert qt.critical_momentum(1.0, 1.0) == 0.0


def test_convergence_region_broadcasts_and_agrees_with_the_scalar_calls():
    alpha, beta = np.array([0.5, 2.1, 3.0]), np.array([[0.0], [0.2]])
    inside = qt.converges(alpha, beta, 1.0)
    assert inside.shape == (2, 3)
    assert inside.tolist() == [[qt.converges(a, b, 1.0) for a in alpha] for b in beta[:, 0]]
    assert not qt.converges(0.0, 0.5, 1.0) and not qt.converges(0.5, 0.5, -1.0)  # stuck; negative curvature


@pytest.mark.parametrize("beta, lam", [(0.0, 1.0), (0.5, 0.3), (0.9, 2.0)])
def test_stability_limit_is_the_edge_of_the_convergence_region(beta, lam):
    limit = qt.stability_limit(beta, lam)
    assert limit == pytest.approx(2 * (1 + beta) / lam)
    assert qt.converges(0.999 * limit, beta, lam) and not qt.converges(1.001 * limit, beta, lam)
    assert qt.spectral_radius(limit, beta, lam) == pytest.approx(1.0)  # a root at -1
    np.testing.assert_allclose(qt.stability_limit(np.array([0.0, beta]), lam), [2 / lam, limit])
    with pytest.raises(ValueError, match="eigenvalue must be > 0, got -1"):
        qt.stability_limit(beta, -1.0)


def test_critical_damping_is_a_double_root_with_radius_one_minus_sqrt_alpha_lambda():
    for alpha, lam in [(0.1, 1.0), (0.5, 0.3), (1.0, 0.9)]:
        beta = qt.critical_momentum(alpha, lam)
        assert beta == pytest.approx((1 - np.sqrt(alpha * lam)) ** 2)
        assert (1 + beta - alpha * lam) ** 2 - 4 * beta == pytest.approx(0.0, abs=1e-12)
        assert qt.spectral_radius(alpha, beta, lam) == pytest.approx(1 - np.sqrt(alpha * lam), rel=1e-6)
        # for a fixed step, the critical momentum gives the fastest decay of that direction
        betas = np.linspace(0, 0.999, 2001)
        assert qt.spectral_radius(alpha, beta, lam) <= np.min(qt.spectral_radius(alpha, betas, lam)) + 1e-6


@pytest.mark.parametrize("kappa", [4.0, 25.0, 100.0])
def test_optimal_parameters_and_rates(kappa):
    mu, L = 0.5 / kappa, 0.5
    alpha, beta, rho = qt.optimal_momentum(mu, L)
    assert alpha == pytest.approx((2 / (np.sqrt(L) + np.sqrt(mu))) ** 2)
    assert beta == pytest.approx(((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2)
    assert rho == qt.momentum_rate(kappa) == pytest.approx((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1))
    assert qt.rate(alpha, beta, [mu, L]) == pytest.approx(rho, rel=1e-6)
    # no point of a fine grid beats it
    steps, momenta = np.linspace(0.01, 2.2 * alpha, 400), np.linspace(0, 0.99, 400)
    assert np.min(qt.rate_map(steps, momenta, [mu, L])) >= rho - 1e-3
    step, gd = qt.optimal_gd(mu, L)
    assert step == pytest.approx(2 / (L + mu)) and gd == pytest.approx((kappa - 1) / (kappa + 1))
    assert qt.rate(step, 0.0, [mu, L]) == pytest.approx(gd)
    assert np.min(qt.rate_map(np.linspace(0.01, 4 / L, 2000), [0.0], [mu, L])) >= gd - 1e-3


def test_rate_map_layout():
    steps, momenta = np.linspace(0.1, 3, 7), np.linspace(0, 0.9, 5)
    out = qt.rate_map(steps, momenta, [0.2, 1.0])
    assert out.shape == (5, 7)
    assert out[3, 4] == pytest.approx(qt.rate(steps[4], momenta[3], [0.2, 1.0]))


@pytest.mark.parametrize("alpha, beta", [(0.5, 0.0), (1.5, 0.0), (1.0, 0.3), (0.8, 0.8), (2.5, 0.5), (0.2, 0.95)])
def test_theory_matches_the_measured_rate_of_real_runs(alpha, beta):
    """Fit the log-error decay of optim.sgd on surfaces.quadratic: it is the predicted spectral radius."""
    surface = surfaces.quadratic(10.0, largest=1.0, angle=0.5, center=(1.0, -2.0))
    predicted = qt.rate(alpha, beta, surface.eigenvalues)
    errors = error_curve(optim.sgd(alpha, momentum=beta), surface, (3.0, 1.0), 400)
    stop = np.argmax(errors < 1e-11) or errors.size  # before rounding (~1e-16) dominates the error
    measured = qt.fit_rate(errors[:stop], skip=min(50, stop // 3))
    assert measured == pytest.approx(predicted, rel=0.01)


@pytest.mark.parametrize("kappa", [10.0, 100.0])
def test_optimal_momentum_beats_optimal_gd_as_predicted(kappa):
    surface = surfaces.quadratic(kappa, largest=1.0, angle=0.3, center=(1.0, 2.0))
    mu, L = surface.eigenvalues
    step, gd = qt.optimal_gd(mu, L)
    measured_gd = qt.fit_rate(error_curve(optim.sgd(step), surface, (3.0, -1.0), 100), skip=10)
    assert measured_gd == pytest.approx(gd, rel=1e-6)
    alpha, beta, rho = qt.optimal_momentum(mu, L)
    errors = error_curve(optim.sgd(alpha, momentum=beta), surface, (3.0, -1.0), 150)
    errors = errors[errors > 1e-13]
    measured = qt.fit_rate(errors, skip=20)
    # critical damping: the error decays like k rho^k, which biases a finite fit upwards by ~1/k
    assert rho <= measured <= rho * np.exp(3.0 / len(errors))
    assert measured < measured_gd


@pytest.mark.parametrize("beta", [0.5, 0.9, 0.99])
def test_maximum_acceleration_on_a_linear_slope(beta):
    """Source 000: with all gradients equal, the step tends to lr * g / (1 - beta)."""
    slope = surfaces.linear_slope((2.0, 0.0))
    for opt in (optim.sgd(0.01, momentum=beta), optim.momentum_scaled(0.01, beta)):
        params = surfaces.run(opt, slope, (0.0, 0.0), 3000).params
        last_step = np.linalg.norm(params[-1] - params[-2])
        assert last_step / (0.01 * 2.0) == pytest.approx(qt.max_acceleration(beta), rel=1e-9)
    assert qt.max_acceleration(0.99) == pytest.approx(100.0)


@pytest.mark.parametrize("call, error, name", [
    (lambda: qt.spectral_radius(0.1, 1.0, 1.0), ValueError, "momentum"),
    (lambda: qt.spectral_radius(-0.1, 0.5, 1.0), ValueError, "step"),
    (lambda: qt.rate(0.1, 0.5, []), ValueError, "eigenvalues"),
    (lambda: qt.rate_map([[0.1]], [0.5], [1.0]), ValueError, "step_sizes must be a 1-D array, got shape \\(1, 1\\)"),
    (lambda: qt.rate_map([0.1, -0.2], [0.5], [1.0]), ValueError, "step_sizes must be >= 0, got -0.2"),
    (lambda: qt.rate_map([0.1], [0.5, 1.5], [1.0]), ValueError, "momenta must be in \\[0, 1\\), got 1.5"),
    (lambda: qt.spectral_radius([0.1, 0.2], [0.5, 0.5, 0.5], 1.0), ValueError, "must broadcast together"),
    (lambda: qt.spectral_radius(0.1, [0.5, 1.2], 1.0), ValueError, "momentum must be in \\[0, 1\\), got 1.2"),
    (lambda: qt.converges("a", 0.5, 1.0), TypeError, "step must be a number"),
    (lambda: qt.converges(0.1, None, 1.0), TypeError, "momentum must be a number"),
    (lambda: qt.converges(0.1, 0.5, [1.0, np.nan]), ValueError, "eigenvalue must contain only finite numbers"),
    (lambda: qt.converges(-0.1, 0.5, 1.0), ValueError, "step must be >= 0, got -0.1"),
    (lambda: qt.converges(0.1, 1.0, 1.0), ValueError, "momentum must be in \\[0, 1\\), got 1"),
    (lambda: qt.rate(0.1, 0.5, [1.0, -2.0]), ValueError, "eigenvalues must be > 0, got -2"),
    (lambda: qt.rate(0.1, 0.5, [[1.0, 2.0]]), ValueError, "eigenvalues must be a non-empty 1-D list .* got shape \\(1, 2\\)"),
    (lambda: qt.regime(0.1, 0.5, 0.0), ValueError, "eigenvalue must be in \\(0, inf\\], got 0"),
    (lambda: qt.nesterov_spectral_radius(0.1, -0.5, 1.0), ValueError, "momentum must be in \\[0, 1\\), got -0.5"),
    (lambda: qt.nesterov_iteration_matrix("x", 0.5, 1.0), TypeError, "step must be a real number"),
    (lambda: qt.stationary_variance(0.0, 0.5, 1.0, 1.0), ValueError, "step must be > 0, got 0"),
    (lambda: qt.stationary_variance(0.1, 0.5, -1.0, 1.0), ValueError, "eigenvalue must be > 0, got -1"),
    (lambda: qt.noise_floor(0.1, 0.5, [1.0], -1.0), ValueError, "sigma must be in \\[0, inf\\], got -1"),
    (lambda: qt.noise_floor(0.1, 0.5, [], 1.0), ValueError, "eigenvalues must be a non-empty"),
    (lambda: qt.noise_floor(-0.1, 0.0, [1.0], 1.0), ValueError, "step must be in \\(0, inf\\], got -0.1"),
    (lambda: qt.critical_momentum([0.5, 5.0], 1.0), ValueError, "step \\* eigenvalue must be in \\(0, 4\\) .* got 5"),
    (lambda: qt.fit_rate([[1.0, 0.5], [0.2, 0.1]]), ValueError, "errors must be a 1-D series, got shape \\(2, 2\\)"),
    (lambda: qt.critical_momentum(4.0, 1.0), ValueError, "step \\* eigenvalue"),
    (lambda: qt.optimal_momentum(2.0, 1.0), ValueError, "mu"),
    (lambda: qt.gd_rate(0.5), ValueError, "condition_number"),
    (lambda: qt.max_acceleration(1.0), ValueError, "momentum"),
    (lambda: qt.fit_rate([1.0, 0.0, 0.5]), ValueError, "errors must be > 0 .* got 0"),
])
def test_bad_arguments_name_themselves(call, error, name):
    with pytest.raises(error, match=name):
        call()


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
    assert qt.regime(alpha, beta, lam) == expected


def test_regime_agrees_with_the_critical_momentum_of_quadratic_theory():
    beta = qt.critical_momentum(0.3, 0.5)
    assert qt.regime(0.3, beta, 0.5) == "critically damped"
    assert qt.regime(0.3, beta + 0.01, 0.5) == "under-damped"
    assert qt.regime(0.3, beta - 0.01, 0.5) == "over-damped"


def test_critical_momentum_beyond_one_over_lambda_is_the_double_root_minus_sqrt_beta():
    """For alpha lambda > 1 the curve (sqrt(alpha lambda) - 1)^2 is the border of the sign flips."""
    alpha, lam = 2.25, 1.0
    beta = qt.critical_momentum(alpha, lam)
    assert beta == pytest.approx(0.25)
    assert np.roots([1.0, -(1 + beta - alpha * lam), beta]) == pytest.approx([-0.5, -0.5], abs=1e-6)
    assert qt.regime(alpha, beta, lam) == "sign-flipping double root"
    assert qt.regime(alpha, beta + 0.01, lam) == "under-damped"
    assert qt.regime(alpha, beta - 0.01, lam) == "sign-flipping"


def test_polyak_optimum_puts_mu_on_critical_damping_and_L_on_the_sign_flipping_double_root():
    mu, L = 0.01, 1.0
    step, momentum, rate = qt.optimal_momentum(mu, L)
    assert qt.regime(step, momentum, mu) == "critically damped"
    assert qt.regime(step, momentum, L) == "sign-flipping double root"
    np.testing.assert_allclose(qt.critical_momentum(step, np.array([mu, L])), momentum, rtol=1e-12)
    assert qt.spectral_radius(step, momentum, L) == pytest.approx(rate, rel=1e-6)


# --- noise --------------------------------------------------------------------------------------

def test_stationary_variance_of_sgd_closed_form():
    # beta = 0: x_{k+1} = (1 - a l) x_k - a sigma xi, variance a^2 s^2 / (1 - (1 - a l)^2)
    a, lam, s = 0.3, 2.0, 0.7
    assert qt.stationary_variance(a, 0.0, lam, s) == pytest.approx(a**2 * s**2 / (1 - (1 - a * lam) ** 2))


def test_stationary_variance_outside_the_region_is_infinite():
    assert qt.stationary_variance(2.5, 0.0, 1.0, 1.0) == np.inf


def test_noise_floor_matches_a_long_noisy_run():
    bowl = surfaces.quadratic(10.0, angle=0.3)
    for alpha, beta in [(0.1, 0.0), (0.05, 0.8)]:
        run = surfaces.run(optim.sgd(alpha, momentum=beta), surfaces.noisy(bowl, 0.5), (0.0, 0.0), 30000, rng=3)
        predicted = qt.noise_floor(alpha, beta, bowl.eigenvalues, 0.5)
        assert run.losses[2000:].mean() == pytest.approx(predicted, rel=0.06)


def test_momentum_noise_floor_is_sgd_with_the_effective_step():
    lam = np.array([1.0, 0.1])
    floor = qt.noise_floor(1e-3, 0.9, lam, 1.0)
    assert floor == pytest.approx(qt.noise_floor(1e-2, 0.0, lam, 1.0), rel=0.01)
    assert floor == pytest.approx(2 * 1e-3 / (4 * 0.1), rel=0.01)  # d sigma^2 alpha / (4 (1 - beta))


def test_sgd_noise_floor_matches_a_long_simulation_and_its_closed_form():
    lam, sigma, lr = np.array([1.0, 0.25]), 0.5, 0.4
    surface = surfaces.noisy(surfaces.Quadratic(np.diag(lam)), sigma)
    result = surfaces.run(optim.sgd(lr=lr), surface, np.zeros(2), 60_000, rng=1)
    assert result.losses[1000:].mean() == pytest.approx(qt.noise_floor(lr, 0.0, lam, sigma), rel=0.05)
    assert qt.noise_floor(lr, 0.0, lam, sigma) == pytest.approx(lr * sigma**2 / 2 * (1 / (2 - lr) + 1 / (2 - lr / 4)))


def test_noise_floor_is_proportional_to_the_step_for_small_steps_and_infinite_beyond_the_region():
    assert qt.noise_floor(1e-4, 0.0, [1.0, 2.0], 1.0) == pytest.approx(2 * 1e-4 / 4, rel=1e-3)
    assert qt.noise_floor(2.5, 0.0, [1.0], 1.0) == np.inf          # 2.5 > 2 / lambda: no stationary state
    assert np.isfinite(qt.noise_floor(2.5, 0.5, [1.0], 1.0))        # 2.5 < 2 (1 + beta) / lambda


def test_stationary_variance_broadcasts_like_the_scalar_calls():
    steps, lam = np.array([0.1, 0.5, 2.5]), np.array([[1.0], [0.2]])
    grid = qt.stationary_variance(steps, 0.3, lam, 0.7)
    assert grid.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            assert grid[i, j] == qt.stationary_variance(steps[j], 0.3, lam[i, 0], 0.7)


# --- Nesterov ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("alpha, beta, lam", [(0.5, 0.9, 0.01), (0.3, 0.5, 1.0), (1.5, 0.8, 1.0)])
def test_nesterov_matrix_matches_torch_nesterov(alpha, beta, lam):
    run = surfaces.run(optim.sgd(alpha, momentum=beta, nesterov=True), surfaces.Quadratic([[lam]]), [1.0], 300)
    y = run.params[:, 0]
    T = qt.nesterov_iteration_matrix(alpha, beta, lam)
    for k in range(2, 40):
        assert T[0] @ [y[k - 1], y[k - 2]] == pytest.approx(y[k], rel=1e-9, abs=1e-14)
    assert measured_rate(y) == pytest.approx(qt.nesterov_spectral_radius(alpha, beta, lam), rel=0.02)


def test_nesterov_spectral_radius_is_the_largest_eigenvalue_modulus_and_broadcasts():
    rng = np.random.default_rng(1)
    alpha, beta, lam = rng.uniform(0, 3, 300), rng.uniform(0, 0.999, 300), rng.uniform(0.01, 2, 300)
    expected = [np.max(np.abs(np.linalg.eigvals(qt.nesterov_iteration_matrix(a, b, l)))) for a, b, l in zip(alpha, beta, lam)]
    np.testing.assert_allclose(qt.nesterov_spectral_radius(alpha, beta, lam), expected, rtol=1e-7)
    assert isinstance(qt.nesterov_spectral_radius(0.5, 0.9, 0.01), float)


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_nesterov_stable_range_is_smaller_than_heavy_balls(beta):
    limit = (2 + 2 * beta) / (1 + 2 * beta)   # root conditions of the Nesterov matrix (chapter text)
    assert qt.nesterov_spectral_radius(0.99 * limit, beta, 1.0) < 1 < qt.nesterov_spectral_radius(1.01 * limit, beta, 1.0)
    assert qt.spectral_radius(1.01 * limit, beta, 1.0) < 1 or beta == 0.0


# --- SGD with any sequence of steps: the exact mean squared error ---------------------------------

def test_expected_squared_errors_without_noise_are_the_squared_errors_of_the_exact_run():
    bowl = surfaces.Quadratic(np.diag([0.2, 1.0]))
    schedule = schedules.inverse_time(0.9, 0.05)
    params = surfaces.run(optim.sgd(lr=schedule), bowl, (2.0, -1.0), 60).params
    exact = qt.expected_squared_errors(schedule(np.arange(60)), bowl.eigenvalues, 0.0, [2.0, -1.0])
    np.testing.assert_allclose(exact, params**2, rtol=1e-12, atol=1e-300)


def test_expected_squared_errors_match_the_mean_of_simulated_noisy_runs():
    """E e_{k+1}^2 = (1 - a_k lam)^2 E e_k^2 + a_k^2 sigma^2 against 400 runs of surfaces.run: each
    point within 4.5 standard errors of the Monte-Carlo mean (a wrong square or a missing noise term
    is off by many)."""
    bowl, sigma, steps = surfaces.Quadratic(np.diag([0.2, 1.0])), 0.5, 60
    schedule = schedules.inverse_sqrt(0.8)
    runs = np.array([surfaces.run(optim.sgd(lr=schedule), surfaces.noisy(bowl, sigma), (2.0, 2.0), steps, rng=s).params
                     for s in range(400)])
    squares = runs**2                                             # (runs, steps + 1, d), x* = 0
    mean, error = squares.mean(axis=0), squares.std(axis=0) / np.sqrt(len(runs))
    exact = qt.expected_squared_errors(schedule(np.arange(steps)), bowl.eigenvalues, sigma, [2.0, 2.0])
    assert np.all(np.abs(mean[1:] - exact[1:]) <= 4.5 * error[1:])
    excess = qt.expected_excess_loss(schedule(np.arange(steps)), bowl.eigenvalues, sigma, [2.0, 2.0])
    np.testing.assert_allclose(excess, 0.5 * exact @ bowl.eigenvalues, rtol=1e-14)


def test_a_constant_step_tends_to_the_stationary_variance_and_the_noise_floor():
    lam, alpha, sigma = np.array([0.2, 1.0]), 0.4, 0.5
    exact = qt.expected_squared_errors(np.full(4000, alpha), lam, sigma, [2.0, 2.0])
    np.testing.assert_allclose(exact[-1], qt.stationary_variance(alpha, 0.0, lam, sigma), rtol=1e-10)
    excess = qt.expected_excess_loss(np.full(4000, alpha), lam, sigma, [2.0, 2.0])
    assert excess[-1] == pytest.approx(qt.noise_floor(alpha, 0.0, lam, sigma), rel=1e-10)


def test_a_decaying_step_with_a_divergent_sum_converges_and_tracks_the_step():
    """0.4/sqrt(t+1) breaks sum alpha^2 < inf but E e^2 -> 0, like alpha_t sigma^2 / (2 lambda)."""
    lam, sigma, steps = np.array([0.2, 1.0]), 0.5, 20_000
    rates = schedules.inverse_sqrt(0.4)(np.arange(steps))
    exact = qt.expected_squared_errors(rates, lam, sigma, [2.0, 2.0])
    np.testing.assert_allclose(exact[-1] / (rates[-1] * sigma**2 / (2 * lam)), 1.0, rtol=0.05)
    slow = qt.expected_squared_errors(schedules.inverse_time(0.4, 1.0)(np.arange(steps)), lam, sigma, [2.0, 2.0])
    # theta lambda_min = 0.08 < 1/2: the error decays only like t^(-0.16) along lambda_min
    assert slow[-1, 0] / slow[steps // 10, 0] == pytest.approx(10 ** -0.16, rel=0.05)


@pytest.mark.parametrize("call, error, message", [
    (lambda: qt.expected_squared_errors([[0.1]], [1.0], 0.5, [1.0]), ValueError, "rates must be a 1-D array"),
    (lambda: qt.expected_squared_errors([0.1, -0.2], [1.0], 0.5, [1.0]), ValueError, "rates must be >= 0, got -0.2"),
    (lambda: qt.expected_squared_errors([0.1], [1.0, 2.0], 0.5, [1.0]), ValueError, "initial_errors must have one entry per eigenvalue"),
    (lambda: qt.expected_excess_loss([0.1], [1.0], -1.0, [1.0]), ValueError, "sigma"),
    (lambda: qt.expected_excess_loss([0.1], [0.0], 0.5, [1.0]), ValueError, "eigenvalues must be > 0"),
])
def test_expected_squared_errors_reject_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()
