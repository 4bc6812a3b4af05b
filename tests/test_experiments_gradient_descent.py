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


# --- noisy quadratics, iterate averaging -----------------------------------------------------------

@pytest.fixture(scope="module")
def noisy_bowl():
    return surfaces.noisy(surfaces.Quadratic(np.diag([1.0, 0.2]), center=(0.5, -0.5)), 0.5)


@pytest.mark.parametrize("lr", [0.4, schedules.inverse_sqrt(0.4)])
def test_noisy_sgd_is_surfaces_run_for_each_seed(noisy_bowl, lr):
    together = ex.noisy_sgd(noisy_bowl, lr, (2.0, 2.0), 50, [0, 7, 3])
    assert together.params.shape == (3, 51, 2) and together.losses.shape == (3, 51)
    for row, seed in enumerate([0, 7, 3]):
        reference = surfaces.run(optim.sgd(lr=lr), noisy_bowl, (2.0, 2.0), 50, rng=seed)
        np.testing.assert_allclose(together.params[row], reference.params, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(together.losses[row], reference.losses, rtol=1e-12, atol=1e-14)


def test_noisy_sgd_needs_a_noisy_quadratic():
    with pytest.raises(TypeError, match="surface must be surfaces.noisy"):
        ex.noisy_sgd(surfaces.quadratic(), 0.1, (1.0, 1.0), 5, [0])
    with pytest.raises(TypeError, match="surface must be surfaces.noisy"):
        ex.noisy_sgd(surfaces.noisy(surfaces.rosenbrock(), 0.1), 0.1, (1.0, 1.0), 5, [0])


def test_iterate_averages_are_running_means_or_the_bias_corrected_ewma():
    from course_lib.ewma import ewma

    params = np.random.default_rng(0).normal(size=(2, 30, 3))
    mean = ex.iterate_averages(params, start=10)
    assert mean.shape == (2, 20, 3)
    for k in (0, 5, 19):
        np.testing.assert_allclose(mean[:, k], params[:, 10:11 + k].mean(axis=1), rtol=1e-13)
    smoothed = ex.iterate_averages(params, start=10, rho=0.9)
    np.testing.assert_allclose(smoothed[1], ewma(params[1, 10:], 0.9, bias_correction=True), rtol=1e-13)
    with pytest.raises(ValueError, match="params must have shape"):
        ex.iterate_averages(np.ones(4))


def test_polyak_ruppert_average_goes_below_the_noise_floor_like_one_over_n():
    """The running mean of constant-rate iterates: E f - f* ~ sum sigma^2 / (2 lambda_i n), far below the floor."""
    from course_lib import quadratic_theory as qt

    bowl = surfaces.Quadratic(np.diag([1.0, 0.2]))
    runs = ex.noisy_sgd(surfaces.noisy(bowl, 0.5), 0.4, (2.0, 2.0), 6000, range(60))
    averaged = ex.iterate_averages(runs.params, start=1000)[:, -1]
    predicted = np.sum(0.25 / (2 * bowl.eigenvalues * 5001))
    assert bowl.value(averaged).mean() == pytest.approx(predicted, rel=0.35)
    assert bowl.value(averaged).mean() < qt.noise_floor(0.4, 0.0, bowl.eigenvalues, 0.5) / 100


# --- noise scale and the critical batch size -------------------------------------------------------

@pytest.fixture(scope="module")
def diabetes():
    return surfaces.least_squares()


def test_gradient_noise_scale_from_per_example_gradients(diabetes):
    w = np.linspace(-0.3, 0.3, diabetes.dim)
    per_example = np.array([diabetes.grad(w, [i]) for i in range(diabetes.n)])
    G = diabetes.grad(w)
    sigma = np.cov(per_example, rowvar=False, bias=True)
    scale = ex.gradient_noise_scale(diabetes, w)
    assert scale.grad_sq == pytest.approx(G @ G, rel=1e-12)
    assert scale.trace == pytest.approx(float(ex.gradient_noise_theory(diabetes, w, 1)), rel=1e-12)
    assert scale.simple == pytest.approx(np.trace(sigma) / (G @ G), rel=1e-10)
    H = diabetes.hessian
    assert scale.noise == pytest.approx(np.trace(H @ sigma) / (G @ H @ G), rel=1e-10)
    at_minimum = ex.gradient_noise_scale(surfaces.least_squares(features=(2,)), surfaces.least_squares(features=(2,)).minimum)
    assert at_minimum.noise > 1e10 or at_minimum.noise == np.inf


def test_best_step_gain_is_the_exact_expected_decrease_of_one_step(diabetes):
    """B = 1 can be enumerated: the mean over all single-example steps is the expectation exactly."""
    w = np.zeros(diabetes.dim)
    steps, gains = ex.best_step_gain(diabetes, w, [1, diabetes.n])
    after = [diabetes.value(ex.least_squares_step(w, diabetes.X, diabetes.y, [i], steps[0])) for i in range(diabetes.n)]
    assert diabetes.value(w) - np.mean(after) == pytest.approx(gains[0], rel=1e-10)
    for factor in (0.8, 1.25):   # and it is the best step
        worse = [diabetes.value(ex.least_squares_step(w, diabetes.X, diabetes.y, [i], factor * steps[0]))
                 for i in range(diabetes.n)]
        assert diabetes.value(w) - np.mean(worse) < gains[0]
    full = diabetes.value(w - steps[1] * diabetes.grad(w))           # the full batch: no noise
    assert diabetes.value(w) - full == pytest.approx(gains[1], rel=1e-10)
    G = diabetes.grad(w)
    assert steps[1] == pytest.approx(G @ G / (G @ diabetes.hessian @ G), rel=1e-12)


def test_best_step_gain_for_larger_batches_matches_many_sampled_steps(diabetes):
    w = np.zeros(diabetes.dim)
    steps, gains = ex.best_step_gain(diabetes, w, [16])
    batches = ex.minibatch_indices(diabetes, 6000, rng=1, batch_size=16)[:, None]
    losses = ex.sgd_least_squares(diabetes, float(steps[0]), w, batches)
    decrease = losses[:, 0] - losses[:, 1]
    assert abs(decrease.mean() - gains[0]) < 4 * decrease.std() / np.sqrt(len(decrease))


# --- L-smoothness and clipping ------------------------------------------------------------------------

def test_logistic_loss_gradient_smoothness_and_minimum(diabetes):
    from course_lib.gradcheck import numerical_gradient, relative_error

    labels = np.where(diabetes.y > 0, 1.0, -1.0)
    w = np.random.default_rng(0).normal(size=diabetes.dim)
    value, grad = ex.logistic_loss(w, diabetes.X, labels)
    assert value == pytest.approx(np.mean(np.log1p(np.exp(-labels * (diabetes.X @ w)))), rel=1e-12)
    assert relative_error(grad, numerical_gradient(lambda v: ex.logistic_loss(v, diabetes.X, labels)[0], w)) < 1e-7
    L = ex.logistic_smoothness(diabetes.X)
    for point in (w, np.zeros(diabetes.dim), 3 * w):          # the Hessian never exceeds L
        p = 1 / (1 + np.exp(-diabetes.X @ point))
        hessian = (diabetes.X * (p * (1 - p))[:, None]).T @ diabetes.X / diabetes.n
        assert np.linalg.eigvalsh(hessian)[-1] <= L * (1 + 1e-12)
    w_star = ex.logistic_minimum(diabetes.X, labels)
    assert np.linalg.norm(ex.logistic_loss(w_star, diabetes.X, labels)[1]) < 1e-12


def test_descent_lemma_holds_with_step_one_over_L(diabetes):
    labels = np.where(diabetes.y > 0, 1.0, -1.0)
    L = ex.logistic_smoothness(diabetes.X)
    values, norms = ex.gradient_descent_path(lambda v: ex.logistic_loss(v, diabetes.X, labels), np.zeros(diabetes.dim), 1 / L, 100)
    assert np.all(values[:-1] - values[1:] >= norms[:-1] ** 2 / (2 * L) * (1 - 1e-9))


def test_gradient_descent_path_is_optim_sgd_and_clips_each_step():
    bowl = surfaces.quadratic(10.0, angle=0.4)
    both = lambda x: (bowl.value(x), bowl.grad(x))          # noqa: E731
    values, norms = ex.gradient_descent_path(both, (2.0, -1.0), 0.3, 40)
    reference = surfaces.run(optim.sgd(lr=0.3), bowl, (2.0, -1.0), 40)
    np.testing.assert_allclose(values, reference.losses, rtol=1e-12)
    np.testing.assert_allclose(norms, np.linalg.norm(reference.params @ bowl.hessian, axis=1), rtol=1e-12)
    ros = surfaces.rosenbrock()
    path = []
    ex.gradient_descent_path(lambda x: (path.append(np.array(x)) or ros.value(x), ros.grad(x)), (-1.5, 2.0), 0.01, 50, max_norm=1.0)
    assert np.max(np.linalg.norm(np.diff(path, axis=0), axis=1)) <= 0.01 * (1 + 1e-9)
    values, _ = ex.gradient_descent_path(lambda x: (ros.value(x), ros.grad(x)), (-1.5, 2.0), 0.01, 200)
    assert np.isinf(values[-1])


def test_fit_batches_on_the_full_batch_is_the_chapters_dict_loop_bit_for_bit():
    from course_lib import nn

    X = np.array([[0, 1], [1, 1], [0, 0], [1, 0]], dtype=float)
    y = np.array([1, 0, 0, 1])
    for hidden, seed in [(2, 3), (8, 0)]:
        model = nn.mlp([2, hidden, 2], rng=seed, activation="tanh")      # the chapter's train_xor, step by step
        loss_fn, opt = nn.CrossEntropyLoss(), optim.sgd(lr=0.5)
        state = opt.init(model.params)
        losses = []
        for _ in range(60):
            losses.append(loss_fn.forward(model.forward(X, "train"), y))
            model.backward(loss_fn.backward())
            params, state = opt.step(model.params, model.grads, state)
            model.params = params
        lean = nn.mlp([2, hidden, 2], rng=seed, activation="tanh")
        steps = []
        lean_losses = ex.fit_batches(lean, optim.sgd(lr=0.5), X, y, [np.arange(4)] * 60,
                                     hooks=[type("Hook", (), {"on_step": lambda self, info: steps.append(info.step)})()])
        assert np.array_equal(lean_losses, losses) and steps == list(range(1, 61))
        assert all(np.array_equal(a, b) for a, b in zip(lean.params.values(), model.params.values()))
    with pytest.raises(TypeError, match="model must be"):
        ex.fit_batches("net", optim.sgd(lr=0.5), X, y, [np.arange(4)])

def test_value_and_grad_is_value_and_grad():
    ros = surfaces.rosenbrock()
    value, grad = ros.value_and_grad((-1.5, 2.0))
    assert value == ros.value((-1.5, 2.0)) and np.array_equal(grad, ros.grad((-1.5, 2.0)))
    with pytest.raises(ValueError, match="x must have shape"):
        ros.value_and_grad((1.0, 2.0, 3.0))
