"""course_lib.experiments.adaptive: closed forms, agreement with course_lib.optim, the claims the
chapter makes, and bad input."""
import numpy as np
import pytest

from course_lib.experiments import adaptive as ae
from course_lib import ewma, optim, schedules, surfaces

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


def test_race_runs_only_the_methods_asked_for_each_depending_on_its_own_arguments():
    full = ae.optimizer_race(RAVINE, (-4.0, 1.5), 50, lr=0.05, sgd_lr=0.5)
    some = ae.optimizer_race(RAVINE, (-4.0, 1.5), 50, lr=0.05, sgd_lr=0.5, methods=("Adam", "SGD"))
    assert tuple(some) == ("SGD", "Adam")  # in the race's order
    for name in some:
        np.testing.assert_array_equal(some[name].params, full[name].params)
    # a method's run is unchanged by the arguments it does not list
    other = ae.optimizer_race(RAVINE, (-4.0, 1.5), 50, lr=0.2, sgd_lr=0.5, momentum=0.5, adadelta_lr=0.5)
    for name, arguments in ae.OPTIMIZER_RACE_ARGUMENTS.items():
        same = np.array_equal(other[name].params, full[name].params, equal_nan=True)
        assert same == (not {"lr", "momentum", "adadelta_lr"} & set(arguments)), name
    assert set(ae.OPTIMIZER_RACE_ARGUMENTS) == set(ae.OPTIMIZER_RACE_METHODS)
    for bad in ((), "Adam", ("Adam", "LAMB")):
        with pytest.raises(ValueError, match="methods must be a non-empty sequence of names"):
            ae.optimizer_race(RAVINE, (-4.0, 1.5), 5, methods=bad)


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


def test_closed_form_rates_are_the_optimizers():
    """EffectiveStepWidget draws these closed forms; they must be what the optimizers do."""
    g = ae.gradient_stream(300, scales=(1.0, 1e-3), noise=1.0, shrink_at=150, rng=5)
    for lr, eps in ((0.01, 1e-10), (0.5, 1e-3)):
        np.testing.assert_allclose(ae.adagrad_rates(g, lr, eps), ae.effective_learning_rates(optim.adagrad(lr, eps=eps), g),
                                   rtol=1e-12)
    for rho in (0.0, 0.5, 0.9, 0.999):
        np.testing.assert_allclose(ae.rmsprop_rates(g, 0.01, rho),
                                   ae.effective_learning_rates(optim.rmsprop(0.01, alpha=rho), g), rtol=1e-12)
    assert ae.rmsprop_rates(g, 0.1, 0.9, eps=1.0)[0, 0] == pytest.approx(0.1 / (np.sqrt(0.1) * abs(g[0, 0]) + 1.0))


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
    (lambda: ae.adagrad_rates(np.ones((2, 2, 2))), ValueError, "grads"),
    (lambda: ae.adagrad_rates([[1.0]], lr=-1.0), ValueError, "lr"),
    (lambda: ae.rmsprop_rates([[1.0]], alpha=1.0), ValueError, "alpha"),
    (lambda: ae.rmsprop_rates([[1.0]], eps=-1.0), ValueError, "eps"),
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


# --- AMSGrad: Reddi, Kale and Kumar's problems with their settings ----------------------------------

def _torch_steps(make, grads):
    """The updates of a torch.optim optimizer on a fixed gradient stream (float64)."""
    import torch
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)   # torch keeps scalars such as NAdam's mu_product in this dtype
    try:
        p = torch.zeros(grads.shape[1], requires_grad=True)
        opt = make([p])
        steps = []
        for g in grads:
            old = p.detach().clone()
            p.grad = torch.tensor(g)
            opt.step()
            steps.append((p.detach() - old).numpy())
    finally:
        torch.set_default_dtype(default)
    return np.array(steps)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_steps_with_a_schedule_and_amsgrad_are_optim_adam(amsgrad):
    g = ae.gradient_stream(300, scales=(1.0, 1e-2), noise=2.0, rng=6)
    lr = schedules.inverse_sqrt(0.3)
    np.testing.assert_allclose(ae.adam_steps(g, lr, (0.9, 0.99), amsgrad=amsgrad),
                               ae.updates(optim.adam(lr, betas=(0.9, 0.99), amsgrad=amsgrad), g),
                               rtol=1e-10, atol=1e-16)


def test_projected_path_of_adam_steps_is_the_projected_optim_run():
    g = ae.online_gradients(3030)
    lr = schedules.inverse_sqrt(0.5)
    fast = ae.projected_path(ae.adam_steps(g, lr, (0.9, 0.99), amsgrad=True))
    slow = ae.online_adam_problem(optim.adam(lr, betas=(0.9, 0.99), amsgrad=True), 3030)
    np.testing.assert_allclose(fast, slow, atol=1e-12)


def _runs(grads, betas, alpha=0.5):
    out = {}
    for method in ("Adam", "AMSGrad"):
        for form, kwargs in (("torch", {}), ("paper", dict(bias_correction=False, eps=0.0))):
            steps = ae.adam_steps(grads, schedules.inverse_sqrt(alpha), betas, amsgrad=method == "AMSGrad", **kwargs)
            x = ae.projected_path(steps)
            out[method, form] = x, ae.average_regret(x, grads)
    return out


def test_section_5_problem_adam_goes_to_plus_one_amsgrad_to_the_optimum_minus_one():
    """Reddi et al. 2018, Section 5: beta1 = 0.9, beta2 = 0.99, alpha_t = alpha/sqrt(t)."""
    grads = ae.online_gradients(20200)
    assert grads[:101].sum() == 10.0            # one period pushes x down: the optimum is -1
    for (method, form), (x, regret) in _runs(grads, (0.9, 0.99)).items():
        tail = x[-202:].mean()
        if method == "Adam":
            assert tail > 0.95, (form, tail)
            assert regret[-1] > 0.35
        else:
            assert tail < -0.8, (form, tail)
            assert regret[-1] < regret[len(regret) // 10]     # still falling


def test_theorem_1_construction_adam_has_regret_two_thirds_amsgrad_vanishing():
    """Theorem 1: f_t = Cx every third step, -x otherwise; beta1 = 0, beta2 = 1/(1 + C^2), alpha < sqrt(1 - beta2)."""
    C = 3.0
    beta2 = 1 / (1 + C**2)
    assert 0.5 < np.sqrt(1 - beta2)
    grads = ae.online_gradients(3000, big=C, small=-1.0, period=3)
    for (method, form), (x, regret) in _runs(grads, (0.0, beta2)).items():
        if method == "Adam":
            assert x[-30:].mean() > 0.99 and regret[-1] == pytest.approx(2 / 3, abs=0.02), form
        else:
            assert x[-30:].mean() < -0.99 and regret[-1] < 0.03, form


def test_torch_amsgrad_is_adam_steps_with_amsgrad():
    g = ae.gradient_stream(200, scales=(1.0, 0.01), noise=2.0, shrink_at=100, rng=7)
    import torch
    ours = ae.adam_steps(g, 0.01, (0.9, 0.99), amsgrad=True)
    theirs = _torch_steps(lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.99), amsgrad=True), g)
    np.testing.assert_allclose(theirs, ours, rtol=1e-9, atol=1e-15)


def test_average_regret_by_hand():
    grads = np.array([2.0, -1.0, -1.0])
    path = np.array([1.0, 1.0, 1.0])           # played: 0, 1, 1
    # R_1 = 0 - (-2) = 2; R_2 = -1 - (-1) = 0; R_3 = -2 - 0 = -2
    np.testing.assert_allclose(ae.average_regret(path, grads), [2.0, 0.0, -2.0 / 3])


def test_projected_path_clips_every_step():
    np.testing.assert_allclose(ae.projected_path(np.array([0.8, 0.8, -0.5])), [0.8, 1.0, 0.5])


# --- Adam's largest step -------------------------------------------------------------------------------

def test_adam_steps_after_a_quiet_spell_exceed_kingma_and_ba_but_not_cauchy_schwarz():
    b1, b2 = 0.9, 0.999
    quiet = np.zeros((10_000, 1))
    bound = (1 - b1) / np.sqrt((1 - b2) * (1 - b1**2 / b2))
    spike = -ae.adam_steps(np.vstack([quiet, [[1.0]]]), 1.0)[-1, 0]
    assert spike == pytest.approx((1 - b1) / np.sqrt(1 - b2), rel=1e-4)
    steady = -ae.adam_steps(np.vstack([quiet, np.ones((200, 1))]), 1.0)[10_000:, 0]
    assert steady.max() == pytest.approx(6.568, abs=1e-3) and np.argmax(steady) + 1 == 12
    growing = -ae.adam_steps(np.vstack([quiet, ((b2 / b1) ** np.arange(400))[:, None]]), 1.0)[10_000:, 0]
    assert growing.max() == pytest.approx(bound, rel=1e-4) and growing.max() <= bound
    for seed in range(5):   # random streams never beat the bound
        g = ae.gradient_stream(3000, scales=(1.0, 1e-3), noise=3.0, rng=seed)
        assert np.max(np.abs(ae.adam_steps(g, 1.0))) <= bound


# --- sign descent ---------------------------------------------------------------------------------------

def test_memoryless_adam_is_sign_descent():
    g = ae.gradient_stream(100, scales=(1.0, 10.0), noise=2.0, rng=1)
    np.testing.assert_allclose(ae.adam_steps(g, 0.01, (0.0, 0.0), eps=0.0), -0.01 * np.sign(g), rtol=1e-12)


def test_adam_against_sign_descent_first_step_is_sign_descent():
    comparison = ae.adam_against_sign_descent(20, rng=3)
    assert comparison.cosine.shape == (20,) and comparison.loss.shape == (20,)
    assert comparison.cosine[0] == pytest.approx(1.0, abs=1e-6)
    first = comparison.ratio[0][~np.isnan(comparison.ratio[0])]
    assert np.all(first <= 1.0) and np.mean(np.abs(first - 1.0) < 1e-3) > 0.95   # |g|/(|g| + eps): 1 unless g is tiny
    assert np.isnan(comparison.ratio[0]).any()          # pixels that are 0 in every image
    assert comparison.cosine[-1] < comparison.cosine[0]


# --- RAdam ---------------------------------------------------------------------------------------------

def test_radam_rho_and_rectification():
    assert ae.radam_rho(1) == pytest.approx(1.0)
    assert ae.radam_rho(10**6) == pytest.approx(2 / 0.001 - 1)
    assert np.isnan(ae.radam_rectification(4)) and 0 < ae.radam_rectification(5) < 0.05
    assert ae.radam_rectification(10**6) == pytest.approx(1.0)
    assert np.isinf(ae.radam_variance(4)) and np.isfinite(ae.radam_variance(5))
    with pytest.raises(ValueError, match="t must count steps from 1"):
        ae.radam_rho(0)


def test_radam_variance_approximates_the_measured_variance_of_the_adaptive_rate():
    measured = ae.inverse_root_variance(1000, 4000, rng=1)
    for t in (100, 1000):
        assert measured[t - 1] == pytest.approx(ae.radam_variance(t), rel=0.15)
    assert measured[0] > 100 * measured[99]


def test_radam_rectification_is_torchs():
    import torch
    g = ae.gradient_stream(60, scales=(1.0, 0.1), noise=1.0, rng=2)
    # eps = 0: torch's RAdam adds eps to the uncorrected sqrt(v), Adam's to the corrected one
    steps = _torch_steps(lambda p: torch.optim.RAdam(p, lr=0.01, eps=0.0), g)
    t = np.arange(1, 61)[:, None]
    m_hat = ewma.ewma(g, 0.9, bias_correction=True)
    adapted = ae.adam_steps(g, 0.01, (0.9, 0.999), eps=0.0) * np.nan_to_num(ae.radam_rectification(t))
    expected = np.where(ae.radam_rho(t) > 5, adapted, -0.01 * m_hat)
    np.testing.assert_allclose(steps, expected, rtol=1e-7, atol=1e-12)


# --- NAdam and AdaMax against torch ----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["NAdam", "Adamax"])
def test_nadam_and_adamax_are_torchs(name):
    import torch
    g = ae.gradient_stream(300, scales=(1.0, 1e-2, 100.0), noise=1.5, rng=4)
    theirs = _torch_steps(getattr(torch.optim, name), g)                # torch's defaults
    ours = ae.nadam_steps(g) if name == "NAdam" else ae.adamax_steps(g)
    np.testing.assert_allclose(theirs, ours, rtol=1e-9, atol=1e-15)


def test_adamax_steady_step_is_alpha_and_a_spike_divides_it():
    g = np.ones(100)
    g[49] = 10.0
    steps = -ae.adamax_steps(g, 1.0, eps=0.0)[:, 0]
    np.testing.assert_allclose(steps[:49], 1.0)
    m_hat = ewma.ewma(g, 0.9, bias_correction=True)
    assert steps[49] == pytest.approx(m_hat[49] / 10.0)
    assert steps[50] == pytest.approx(m_hat[50] / (10.0 * 0.999))


@pytest.mark.parametrize("call, error, name", [
    (lambda: ae.online_gradients(0), ValueError, "steps"),
    (lambda: ae.online_gradients(5, period=1), ValueError, "period"),
    (lambda: ae.projected_path(np.ones((3, 2))), ValueError, "steps must be 1-D"),
    (lambda: ae.projected_path([0.1], x0=2.0), ValueError, "x0"),
    (lambda: ae.average_regret([0.1, 0.2], [1.0]), ValueError, "same length"),
    (lambda: ae.adam_steps([[1.0]], lr=lambda t: -1.0 + 0 * t), ValueError, "schedule"),
    (lambda: ae.adam_steps([[1.0]], amsgrad="yes"), TypeError, "amsgrad"),
    (lambda: ae.radam_variance(5, sigma=0.0), ValueError, "sigma"),
    (lambda: ae.inverse_root_variance(10, 1), ValueError, "seeds"),
    (lambda: ae.adamax_steps([[1.0]], betas=(1.0, 0.9)), ValueError, "betas"),
    (lambda: ae.nadam_steps([[1.0]], momentum_decay=-1.0), ValueError, "momentum_decay"),
    (lambda: ae.adam_against_sign_descent(0), ValueError, "steps"),
])
def test_new_functions_name_bad_arguments(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_torchs_amsgrad_effective_rate_can_rise_the_papers_cannot():
    """The chapter's correction: torch divides max(v) by 1 - beta2^t, so alpha/sqrt(v_hat) can grow."""
    g = np.r_[10.0, np.ones(50)][:, None]
    torch_rates = ae.effective_learning_rates(optim.adam(0.01, betas=(0.0, 0.99), amsgrad=True), g)[:, 0]
    assert np.any(np.diff(torch_rates) > 0)
    # by at most the factor 1/sqrt(1 - beta2^t) over the paper's rate alpha/sqrt(max v)
    paper_rates = -ae.adam_steps(g, 0.01, (0.0, 0.99), eps=0.0, bias_correction=False, amsgrad=True)[:, 0] / g[:, 0]
    assert np.all(np.diff(paper_rates) <= 1e-15)
    t = np.arange(1, 52)
    np.testing.assert_allclose(torch_rates, paper_rates * np.sqrt(1 - 0.99**t), rtol=1e-6)
