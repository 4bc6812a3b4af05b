"""course_lib.linear_regularization: every closed form against an independent computation."""
import itertools

import numpy as np
import pytest

from course_lib import linear_regularization as lr


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 5)) * np.array([3.0, 1.0, 0.5, 0.2, 0.1])
    y = x @ rng.standard_normal(5) + 0.3 * rng.standard_normal(60)
    return x, y


def test_ridge_is_the_eigen_filter_of_w_star(problem):
    x, y = problem
    h = lr.hessian(x)
    lam = np.linalg.eigvalsh(h)
    for alpha in (0.0, 0.01, 1.0):
        filtered = lr.spectral_solution(h, lr.least_squares(x, y), lr.l2_filter(lam, alpha))
        np.testing.assert_allclose(lr.ridge(x, y, alpha), filtered, rtol=1e-10, atol=1e-12)


def test_ridge_matches_scikit_learn_with_alpha_times_n(problem):
    from sklearn.linear_model import Ridge

    x, y = problem
    sk = Ridge(alpha=len(x) * 0.3, fit_intercept=False).fit(x, y).coef_
    np.testing.assert_allclose(lr.ridge(x, y, 0.3), sk, rtol=1e-10)


def test_ridge_zeroes_the_gradient_of_the_penalized_loss(problem):
    x, y = problem
    w = lr.ridge(x, y, 0.5)
    np.testing.assert_allclose(x.T @ (x @ w - y) / len(x) + 0.5 * w, 0.0, atol=1e-12)


def test_gd_filter_gives_the_gradient_descent_iterates(problem):
    x, y = problem
    h = lr.hessian(x)
    path = lr.gradient_descent(x, y, 0.05, 40)
    lam = np.linalg.eigvalsh(h)
    for t in (0, 1, 7, 40):
        np.testing.assert_allclose(path[t], lr.spectral_solution(h, lr.least_squares(x, y), lr.gd_filter(lam, 0.05, t)),
                                   atol=1e-12)


def test_soft_threshold_and_lasso_diagonal():
    np.testing.assert_array_equal(lr.soft_threshold(np.array([-3.0, -0.5, 0.2, 2.0]), 1.0), [-2.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(lr.lasso_diagonal(np.array([1.0, -1.0]), np.array([2.0, 0.5]), 0.5), [0.75, 0.0])
    with pytest.raises(ValueError, match="threshold"):
        lr.soft_threshold(np.ones(2), -1.0)
    with pytest.raises(ValueError, match="h_diagonal"):
        lr.lasso_diagonal(np.ones(2), np.array([1.0, 0.0]), 0.1)


def test_lasso_equals_soft_thresholding_for_orthogonal_features():
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.standard_normal((40, 4)))
    x = q * np.sqrt(40) * np.array([2.0, 1.0, 0.5, 0.3])     # X^T X / N diagonal
    y = x @ np.array([0.5, -0.2, 0.1, 0.02]) + 0.1 * rng.standard_normal(40)
    h = np.diag(lr.hessian(x))
    for alpha in (0.0, 0.01, 0.05, 0.3):
        np.testing.assert_allclose(lr.lasso(x, y, alpha, sweeps=2), lr.lasso_diagonal(lr.least_squares(x, y), h, alpha),
                                   atol=1e-12)


def test_lasso_satisfies_the_optimality_conditions_for_correlated_features(problem):
    x, y = problem
    x = x @ np.array([[1, 0.5, 0, 0, 0], [0, 1, 0.5, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0.3], [0, 0, 0, 0, 1.0]])
    alpha = 0.2
    w = lr.lasso(x, y, alpha, sweeps=2000)
    residual = x.T @ (y - x @ w) / len(x)      # the negative gradient of J
    assert np.all(np.abs(residual[w == 0]) <= alpha + 1e-9)
    np.testing.assert_allclose(residual[w != 0], alpha * np.sign(w[w != 0]), atol=1e-8)
    assert np.any(w == 0) and np.any(w != 0)


def test_matching_alpha_is_the_best_alpha_on_a_fine_grid(problem):
    x, y = problem
    h, w_star = lr.hessian(x), lr.least_squares(x, y)
    lam = np.linalg.eigvalsh(h)
    target = lr.spectral_solution(h, w_star, lr.gd_filter(lam, 0.05, 20))
    fine = np.logspace(-4, 2, 20001)
    distance = [np.linalg.norm(lr.spectral_solution(h, w_star, lr.l2_filter(lam, a)) - target) for a in fine[::20]]
    best = fine[::20][int(np.argmin(distance))]
    assert lr.matching_alpha(h, w_star, 0.05, 20) == pytest.approx(best, rel=0.02)


def test_noisy_copies_tend_to_ridge_with_alpha_sigma_squared(problem):
    x, y = problem
    ridge = lr.ridge(x, y, 0.3**2)
    gap = {k: np.linalg.norm(lr.noisy_least_squares(x, y, 0.3, k, rng=2) - ridge) / np.linalg.norm(ridge)
           for k in (2, 2000)}
    assert gap[2000] < 0.02 < gap[2]
    np.testing.assert_allclose(lr.noisy_least_squares(x, y, 0.0, 3, rng=0), lr.least_squares(x, y), atol=1e-10)


@pytest.mark.parametrize("keep", [0.5, 0.8])
def test_weight_scaling_is_the_geometric_mean_over_all_masks(keep):
    rng = np.random.default_rng(3)
    w, b, x = rng.standard_normal((4, 6)), rng.standard_normal(4), rng.standard_normal((7, 6))
    geometric, arithmetic, scaled = lr.dropout_softmax_ensemble(w, b, x, keep)
    np.testing.assert_allclose(geometric, scaled, atol=1e-12)
    np.testing.assert_allclose(arithmetic.sum(axis=1), 1.0)
    assert np.max(np.abs(arithmetic - scaled)) > 1e-3
    # the arithmetic mean, by brute force over the masks
    brute = np.zeros_like(arithmetic)
    for mask in itertools.product([0, 1], repeat=6):
        m = np.array(mask, dtype=float)
        z = (x * m) @ w.T + b
        p = np.exp(z - z.max(1, keepdims=True))
        brute += keep ** m.sum() * (1 - keep) ** (6 - m.sum()) * p / p.sum(1, keepdims=True)
    np.testing.assert_allclose(arithmetic, brute, atol=1e-12)


def test_dropout_enumeration_refuses_too_many_features():
    with pytest.raises(ValueError, match="17 features"):
        lr.dropout_softmax_ensemble(np.zeros((2, 17)), np.zeros(2), np.zeros((1, 17)), 0.5)


def test_average_variance_is_exact_over_all_subsets():
    rng = np.random.default_rng(4)
    errors = rng.standard_normal((6, 500)) + rng.standard_normal(500)       # correlated models
    gram = errors @ errors.T / errors.shape[1]
    v = np.mean(np.diag(gram))
    c = (gram.sum() - np.trace(gram)) / 30
    for k in (1, 2, 3, 6):
        measured = np.mean([np.mean(errors[list(s)].mean(0) ** 2) for s in itertools.combinations(range(6), k)])
        assert measured == pytest.approx(lr.average_variance(v, c, k), rel=1e-12)
    assert lr.average_variance(1.0, 0.0, 4) == 0.25 and lr.average_variance(1.0, 1.0, 4) == 1.0


def test_bootstrap_unique_fraction():
    assert lr.bootstrap_unique_fraction(1) == 1.0
    assert lr.bootstrap_unique_fraction(10**6) == pytest.approx(1 - np.exp(-1), abs=1e-6)
    rng = np.random.default_rng(5)
    draws = [len(np.unique(rng.integers(0, 50, 50))) / 50 for _ in range(4000)]
    assert np.mean(draws) == pytest.approx(lr.bootstrap_unique_fraction(50), abs=3 * np.std(draws) / np.sqrt(4000))


def test_bad_input_names_the_argument(problem):
    x, y = problem
    with pytest.raises(ValueError, match="alpha"):
        lr.ridge(x, y, -1.0)
    with pytest.raises(ValueError, match="y must have shape"):
        lr.ridge(x, y[:-1], 1.0)
    with pytest.raises(ValueError, match="steps"):
        lr.gd_filter([1.0], 0.1, -1)
    with pytest.raises(ValueError, match="copies"):
        lr.noisy_least_squares(x, y, 0.1, 0, rng=0)
