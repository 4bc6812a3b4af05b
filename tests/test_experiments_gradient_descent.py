"""course_lib.experiments.gradient_descent against independent routes: surfaces.run with optim.sgd,
matrix_power, closed forms. (The noise floor is theory: tests/test_quadratic_theory.py.)"""
import numpy as np
import pytest

from course_lib.experiments import gradient_descent as ex
from course_lib import optim, schedules, surfaces


@pytest.fixture(scope="module")
def two_features():
    return surfaces.least_squares(batch_size=8, features=(2, 8))


@pytest.mark.parametrize("lr", [0.1, schedules.warmup(schedules.cosine(0.3, 30), 10), schedules.inverse_time(0.5, 0.1)])
def test_sgd_least_squares_is_surfaces_run_with_optim_sgd(two_features, lr):
    x0 = np.array([-1.5, 2.0])
    for seed in (0, 3):
        batches = ex.minibatch_indices(two_features, 40, seed)
        reference = surfaces.run(optim.sgd(lr=lr), two_features, x0, 40, rng=seed).losses
        np.testing.assert_allclose(ex.sgd_least_squares(two_features, lr, x0, batches), reference, rtol=1e-12, atol=1e-14)


def test_sgd_least_squares_vectorises_over_runs(two_features):
    x0 = np.array([1.0, -1.0])
    batches = np.stack([ex.minibatch_indices(two_features, 25, seed) for seed in range(3)])
    together = ex.sgd_least_squares(two_features, 0.2, x0, batches)
    assert together.shape == (3, 26)
    for seed in range(3):
        np.testing.assert_allclose(together[seed], ex.sgd_least_squares(two_features, 0.2, x0, batches[seed]), rtol=1e-13)


def test_full_batches_are_gradient_descent(two_features):
    steps, x0 = 30, np.array([0.5, 0.5])
    batches = np.tile(np.arange(two_features.n), (steps, 1))
    reference = surfaces.run(optim.sgd(lr=0.3), two_features, x0, steps).losses  # exact gradients
    np.testing.assert_allclose(ex.sgd_least_squares(two_features, 0.3, x0, batches), reference, rtol=1e-12)


def test_divergence_gives_inf_without_warnings(two_features):
    lam_max = two_features.eigenvalues[-1]
    batches = np.tile(np.arange(two_features.n), (2000, 1))
    with np.errstate(all="raise"):
        losses = ex.sgd_least_squares(two_features, 2.2 / lam_max, np.ones(2), batches)
    assert np.isinf(losses[-1]) and np.all(np.isfinite(losses[:50]))


def test_sgd_least_squares_validates(two_features):
    with pytest.raises(TypeError, match="surface"):
        ex.sgd_least_squares(surfaces.quadratic(), 0.1, np.zeros(2), np.zeros((3, 2), dtype=int))
    with pytest.raises(ValueError, match="batches"):
        ex.sgd_least_squares(two_features, 0.1, np.zeros(2), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="row indices"):
        ex.sgd_least_squares(two_features, 0.1, np.zeros(2), np.full((3, 2), 10_000))
    with pytest.raises(ValueError, match="lr"):
        ex.sgd_least_squares(two_features, -0.1, np.zeros(2), np.zeros((3, 2), dtype=int))
    with pytest.raises(ValueError, match="x0"):
        ex.sgd_least_squares(two_features, 0.1, np.zeros(3), np.zeros((3, 2), dtype=int))


def test_minibatch_indices_are_runs_draws(two_features):
    rows = ex.minibatch_indices(two_features, 5, 7, batch_size=4)
    rng = np.random.default_rng(7)
    expected = [rng.choice(two_features.n, size=4, replace=False) for _ in range(5)]
    np.testing.assert_array_equal(rows, expected)
    assert all(len(set(r)) == 4 for r in rows)  # without replacement within a batch
    with pytest.raises(ValueError, match="batch_size"):
        ex.minibatch_indices(two_features, 5, 0, batch_size=10_000)
    # a Generator serves as well as its seed
    np.testing.assert_array_equal(ex.minibatch_indices(two_features, 5, np.random.default_rng(7), batch_size=4), rows)


@pytest.mark.parametrize("call, error, message", [
    (lambda s: ex.minibatch_indices(s, 5, "a"), TypeError, "rng must be a numpy.random.Generator or an integer seed >= 0, got str 'a'"),
    (lambda s: ex.minibatch_indices(s, 5, -1), ValueError, "rng must be .* got -1"),
    (lambda s: ex.gradient_noise(s, np.zeros(2), [1, 2], 10, rng=1.5), TypeError, "rng must be .* got float 1.5"),
    (lambda s: ex.gradient_noise(s, np.zeros(2), [1, 500], 10, rng=0), ValueError, "batch_sizes must be an integer in \\[1, 442\\], got 500"),
    (lambda s: ex.sgd_least_squares(s, 0.1, np.zeros(2), np.zeros((3, 2))), ValueError, "got dtype float64 and shape \\(3, 2\\)"),
    (lambda s: ex.sgd_least_squares(s, 0.1, np.zeros(2), np.full((3, 2), 442)), ValueError, "row indices in \\[0, 442\\), got 442"),
    (lambda s: ex.sgd_least_squares(s, lambda t: 0.1 - 0.1 * t, np.zeros(2), np.zeros((3, 2), dtype=int)), ValueError,
     "lr \\(a schedule\\) must return finite rates >= 0, got -0.1 at step 2"),
    (lambda s: ex.least_squares_step(np.zeros(2), s.X, s.y, np.array([1.5]), 0.1), ValueError, "batch must be .* got dtype float64"),
    (lambda s: ex.least_squares_step(np.zeros(2), s.X, s.y, np.array([-3]), 0.1), ValueError, "batch must hold .* got -3"),
])
def test_bad_arguments_name_themselves_and_what_was_given(two_features, call, error, message):
    with pytest.raises(error, match=message):
        call(two_features)


def test_gradient_noise_matches_theory(two_features):
    w = np.array([0.3, -0.2])
    sizes = np.array([1, 4, 32, 200])
    measured = ex.gradient_noise(two_features, w, sizes, 4000, 0)
    theory = ex.gradient_noise_theory(two_features, w, sizes)
    np.testing.assert_allclose(measured, theory, rtol=0.1)


def test_gradient_noise_theory_closed_form_and_limits(two_features):
    w = np.zeros(2)
    per_example = two_features.X * (two_features.X @ w - two_features.y)[:, None]
    trace = np.trace(np.cov(per_example.T, ddof=0))
    assert ex.gradient_noise_theory(two_features, w, 1) == pytest.approx(trace)
    assert ex.gradient_noise_theory(two_features, w, two_features.n) == pytest.approx(0.0, abs=1e-15)
    # the full batch gives the exact gradient, so the measured error is 0 too
    assert ex.gradient_noise(two_features, w, [two_features.n], 3, 0)[0] == pytest.approx(0.0, abs=1e-20)


def test_minibatch_gradient_is_unbiased(two_features):
    """The mean over every possible batch of one row is the full gradient (exactly)."""
    w = np.array([0.7, 0.1])
    singles = np.mean([two_features.grad(w, np.array([i])) for i in range(two_features.n)], axis=0)
    np.testing.assert_allclose(singles, two_features.grad(w), rtol=1e-12)


def test_power_norms_match_matrix_power_and_eigenvalues():
    W = np.array([[0.9, 0.5], [0.0, 1.05]])
    norms = ex.power_norms(W, 30)
    expected = [np.linalg.norm(np.linalg.matrix_power(W, t), 2) for t in range(31)]
    np.testing.assert_allclose(norms, expected, rtol=1e-12)
    # the growth rate per step tends to the largest |eigenvalue|
    long = ex.power_norms(W, 300)
    assert long[300] / long[299] == pytest.approx(1.05, rel=1e-6)
    symmetric = np.diag([0.5, -0.8])
    np.testing.assert_allclose(ex.power_norms(symmetric, 5), 0.8 ** np.arange(6))


def test_power_norms_overflow_is_inf_and_validated():
    with np.errstate(all="raise"):
        norms = ex.power_norms(np.diag([1e100, 1.0]), 5)
    assert np.isinf(norms[-1]) and norms[1] == pytest.approx(1e100)
    with pytest.raises(ValueError, match="square"):
        ex.power_norms(np.ones((2, 3)), 3)


def test_least_squares_step_is_the_surface_gradient_step(two_features):
    w, batch = np.array([0.2, -0.4]), np.array([3, 17, 200, 5])
    expected = w - 0.3 * two_features.grad(w, batch)
    np.testing.assert_allclose(ex.least_squares_step(w, two_features.X, two_features.y, batch, 0.3), expected, rtol=1e-13)
    # hand-computed: one row x = (1, 2), y = 1, w = 0: g = -(1, 2), step 0.5 gives (0.5, 1)
    np.testing.assert_allclose(ex.least_squares_step(np.zeros(2), np.array([[1.0, 2.0]]), np.array([1.0]), np.array([0]), 0.5),
                               [0.5, 1.0])


def test_least_squares_step_validates_and_does_not_mutate():
    w, X, y = np.ones(2), np.eye(2), np.zeros(2)
    ex.least_squares_step(w, X, y, np.array([0]), 0.1)
    assert np.all(w == 1)
    with pytest.raises(ValueError, match="batch"):
        ex.least_squares_step(w, X, y, np.array([2]), 0.1)
    with pytest.raises(ValueError, match="shapes"):
        ex.least_squares_step(np.ones(3), X, y, np.array([0]), 0.1)
