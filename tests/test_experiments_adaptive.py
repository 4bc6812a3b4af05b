"""course_lib.experiments.adaptive: closed forms, agreement with course_lib.optim, the claims the
chapter makes, and bad input."""
import numpy as np
import pytest

from course_lib.experiments import adaptive as ae
from course_lib import optim, surfaces

RAVINE = surfaces.quadratic(100.0, angle=np.pi / 2)


def test_race_runs_each_method_as_course_lib_optim_does():
    runs = ae.optimizer_race(RAVINE, (-4.0, 1.5), 50, lr=0.05, sgd_lr=0.5, momentum=0.8)
    assert tuple(runs) == ae.OPTIMIZER_RACE_METHODS
    expected = {
        "SGD": optim.sgd(0.5), "momentum": optim.sgd(0.5, momentum=0.8), "AdaGrad": optim.adagrad(0.05),
        "RMSProp": optim.rmsprop(0.05), "Adadelta": optim.adadelta(1.0), "Adam": optim.adam(0.05),
    }
    for name, opt in expected.items():
        np.testing.assert_array_equal(runs[name].params, surfaces.run(opt, RAVINE, (-4.0, 1.5), 50).params)
        assert runs[name].params.shape == (51, 2) and runs[name].losses.shape == (51,)


def test_race_cuts_a_divergent_run():
    runs = ae.optimizer_race(RAVINE, (-4.0, 1.5), 100, lr=0.05, sgd_lr=2.5)   # SGD: alpha L = 2.5 > 2 diverges
    assert np.isnan(runs["SGD"].losses[-1]) and np.isfinite(runs["Adam"].losses).all()
    first_nan = np.argmax(np.isnan(runs["SGD"].losses))
    assert np.isnan(runs["SGD"].losses[first_nan:]).all()


def test_adaptive_methods_beat_sgd_on_the_axis_aligned_ravine_but_not_as_much_rotated():
    """The chapter's claim: a per-coordinate step helps when the ravine is aligned with the axes."""
    aligned = ae.optimizer_race(RAVINE, (-4.0, 1.5), 200, lr=0.1, sgd_lr=1.0)
    rotated = ae.optimizer_race(surfaces.quadratic(100.0, angle=np.pi / 4), (-4.0, 1.5), 200, lr=0.1, sgd_lr=1.0)
    assert aligned["RMSProp"].losses[-1] < 1e-6 * aligned["SGD"].losses[-1]
    assert rotated["RMSProp"].losses[-1] > 1e3 * aligned["RMSProp"].losses[-1]


def test_gradient_stream_scales_noise_and_shrink():
    g = ae.gradient_stream(1000, scales=(2.0, 0.01), noise=0.0)
    np.testing.assert_array_equal(g, np.tile([2.0, 0.01], (1000, 1)))
    g = ae.gradient_stream(4000, scales=(1.0, 0.01), noise=0.5, shrink_at=2001, shrink=0.1, rng=3)
    assert g.shape == (4000, 2)
    assert np.mean(g[:2000, 1]) == pytest.approx(0.01, rel=0.05)
    assert np.mean(g[2000:, 0]) == pytest.approx(0.1, rel=0.05)
    assert np.std(g[:2000, 0]) == pytest.approx(0.5, rel=0.1)
    np.testing.assert_array_equal(ae.gradient_stream(10, rng=1), ae.gradient_stream(10, rng=1))
    np.testing.assert_array_equal(ae.gradient_stream(10, rng=np.random.default_rng(1)), ae.gradient_stream(10, rng=1))


def test_effective_rates_are_alpha_over_root_r():
    g = ae.gradient_stream(200, scales=(1.0, 0.01), rng=0)
    rates = ae.effective_learning_rates(optim.adagrad(0.1, eps=1e-10), g)
    np.testing.assert_allclose(rates, 0.1 / (np.sqrt(np.cumsum(g**2, axis=0)) + 1e-10), rtol=1e-12)
    rho = 0.9
    r, expected = np.zeros(2), []
    for gt in g:
        r = rho * r + (1 - rho) * gt * gt
        expected.append(0.01 / (np.sqrt(r) + 1e-8))
    np.testing.assert_allclose(ae.effective_learning_rates(optim.rmsprop(0.01, alpha=rho), g), expected, rtol=1e-12)


def test_adagrad_rate_decays_like_one_over_root_t_rmsprop_levels_off():
    g = ae.gradient_stream(2000, scales=(1.0,), noise=0.0)
    adagrad = ae.effective_learning_rates(optim.adagrad(0.1), g)[:, 0]
    np.testing.assert_allclose(adagrad, 0.1 / np.sqrt(np.arange(1, 2001)), rtol=1e-9)
    rmsprop = ae.effective_learning_rates(optim.rmsprop(0.1, alpha=0.9), g)[:, 0]
    assert rmsprop[-1] == pytest.approx(0.1, rel=1e-8)


def test_updates_of_a_zero_gradient_give_nan_rates_and_params_matter_for_weight_decay():
    g = np.array([[1.0, 0.0], [2.0, 0.0]])
    rates = ae.effective_learning_rates(optim.adagrad(0.1), g)
    assert np.isnan(rates[:, 1]).all() and np.isfinite(rates[:, 0]).all()
    u = ae.updates(optim.sgd(0.1, weight_decay=0.5), np.zeros((1, 2)), params=np.array([1.0, -2.0]))
    np.testing.assert_allclose(u[0], [-0.05, 0.1])


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.0, 0.99), (0.5, 0.9)])
def test_adam_steps_with_correction_are_optim_adam(betas):
    g = ae.gradient_stream(300, scales=(1.0, 1e-3, 50.0), noise=1.0, rng=2)
    np.testing.assert_allclose(ae.adam_steps(g, 0.01, betas), ae.updates(optim.adam(0.01, betas=betas), g),
                               rtol=1e-10, atol=1e-15)


def test_adam_first_step_with_and_without_correction():
    g = np.array([[3.0, -1e-4, 200.0]])
    np.testing.assert_allclose(ae.adam_steps(g, 0.01, eps=0.0)[0], -0.01 * np.sign(g[0]))
    uncorrected = ae.adam_steps(g, 0.01, eps=0.0, bias_correction=False)[0]
    np.testing.assert_allclose(uncorrected, -0.01 * 0.1 / np.sqrt(0.001) * np.sign(g[0]))


def test_rmsprop_with_bias_correction_is_adam_with_beta1_zero():
    g = ae.gradient_stream(100, scales=(1.0, 0.1), rng=4)
    rho = 0.9
    t = np.arange(1, 101)[:, None]
    v_hat = np.cumsum(g**2 * (1 - rho) * rho ** (-t), axis=0) * rho**t / (1 - rho**t)  # EWMA, corrected
    np.testing.assert_allclose(ae.adam_steps(g, 0.01, (0.0, rho)), -0.01 * g / (np.sqrt(v_hat) + 1e-8), rtol=1e-9)


def test_online_problem_adam_drifts_to_the_worst_point_amsgrad_to_the_best():
    """Reddi et al. 2018, Section 3: the optimum is x = -1."""
    adam = ae.online_adam_problem(optim.adam(0.1), 5000)
    amsgrad = ae.online_adam_problem(optim.adam(0.1, amsgrad=True), 5000)
    assert adam.shape == (5000,) and np.all(np.abs(adam) <= 1)
    assert adam[-1010:].mean() > 0.3 and amsgrad[-1010:].mean() < -0.2
    # the regret per step of always playing -1 is negative: -1 is the best fixed point
    t = np.arange(1, 5001)
    grads = np.where(t % 101 == 1, 1010.0, -10.0)
    assert np.sum(grads * -1.0) < np.sum(grads * 1.0)


def test_least_squares_curvature_outer_product_near_and_far():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20000, 3)) * np.array([1.0, 3.0, 0.5])
    w_true = np.array([1.0, -2.0, 0.5])
    sigma = 0.7
    y = x @ w_true + sigma * rng.standard_normal(20000)
    H, F = ae.least_squares_curvature(x, y, w_true)
    np.testing.assert_allclose(H, x.T @ x / 20000)
    np.testing.assert_allclose(F, sigma**2 * H, rtol=0.05, atol=0.02)
    _, F_far = ae.least_squares_curvature(x, y, w_true + np.array([3.0, 0.0, 0.0]))
    assert np.linalg.norm(F_far - sigma**2 * H) > 10 * np.linalg.norm(F - sigma**2 * H)


@pytest.mark.parametrize("call, error, name", [
    (lambda: ae.optimizer_race(RAVINE, (0.0, 1.0), 10, lr=0.0), ValueError, "lr"),
    (lambda: ae.optimizer_race(RAVINE, (0.0, 1.0), 0), ValueError, "steps"),
    (lambda: ae.optimizer_race(RAVINE, (0.0, 1.0), 10, momentum=1.0), ValueError, "momentum"),
    (lambda: ae.gradient_stream(0), ValueError, "steps"),
    (lambda: ae.gradient_stream(5, scales=[]), ValueError, "scales"),
    (lambda: ae.gradient_stream(5, noise=-1.0), ValueError, "noise"),
    (lambda: ae.gradient_stream(5, shrink_at=0), ValueError, "shrink_at"),
    (lambda: ae.gradient_stream(5, rng="x"), TypeError, "rng must be a numpy.random.Generator or an integer seed >= 0, got str 'x'"),
    (lambda: ae.gradient_stream(5, rng=-2), ValueError, "rng must be a numpy.random.Generator or an integer seed >= 0, got -2"),
    (lambda: ae.updates("adam", np.ones((3, 2))), TypeError, "optimizer"),
    (lambda: ae.updates(optim.adam(), np.ones((3, 2)), params=np.ones(3)), ValueError, "params"),
    (lambda: ae.effective_learning_rates(optim.adam(), np.ones((2, 2, 2))), ValueError, "grads"),
    (lambda: ae.adam_steps([[1.0]], betas=(0.9, 1.0)), ValueError, "betas[1]"),
    (lambda: ae.adam_steps([[1.0]], betas=0.9), TypeError, "betas"),
    (lambda: ae.adam_steps([[1.0]], bias_correction=1), TypeError, "bias_correction"),
    (lambda: ae.online_adam_problem(optim.adam(), 0), ValueError, "steps"),
    (lambda: ae.least_squares_curvature(np.ones((3, 2)), np.ones(2), np.ones(2)), ValueError, "expected x"),
])
def test_bad_arguments_name_themselves(call, error, name):
    with pytest.raises(error, match=name.replace("[", r"\[").replace("]", r"\]")):
        call()


def test_inputs_are_not_modified():
    g = ae.gradient_stream(20, rng=5)
    before = g.copy()
    ae.adam_steps(g)
    ae.effective_learning_rates(optim.rmsprop(), g)
    np.testing.assert_array_equal(g, before)
