"""course_lib.diagnostics: closed forms, agreement with direct computation (Monte Carlo, explicit
gradient descent, the model's own passes), torch where it applies, and bad input."""
import math

import numpy as np
import pytest
import torch

from course_lib import diagnostics, nn, optim


def test_expected_initial_loss_is_log_c_and_a_zero_last_layer_reaches_it():
    assert diagnostics.expected_initial_loss(10) == pytest.approx(math.log(10))
    model = nn.mlp([8, 16, 5], rng=0)
    params = model.params
    params["2.weight"] = np.zeros_like(params["2.weight"])
    model.params = params
    x = np.random.default_rng(0).standard_normal((50, 8))
    y = np.arange(50) % 5
    assert diagnostics.initial_loss(model, x, y) == pytest.approx(math.log(5), abs=1e-12)
    torch_loss = torch.nn.functional.cross_entropy(torch.zeros(50, 5, dtype=torch.float64), torch.tensor(y))
    assert torch_loss.item() == pytest.approx(math.log(5))


def test_saturation_fraction_counts_values_near_the_asymptotes():
    values = np.array([-0.99, -0.5, 0.0, 0.96, 0.98, 1.0])
    assert diagnostics.saturation_fraction(values, 0.97) == pytest.approx(3 / 6)
    assert diagnostics.saturation_fraction((values + 1) / 2, 0.97, low=0.0, high=1.0) == pytest.approx(3 / 6)


def test_saturation_of_a_model_finds_its_tanh_layers():
    model = nn.mlp([20, 30, 30, 4], rng=0, activation="tanh", init=lambda shape, rng: rng.standard_normal(shape))
    x = np.random.default_rng(1).standard_normal((100, 20))
    fractions = diagnostics.saturation(model, x)
    assert list(fractions) == [1, 3]
    direct = np.mean(np.abs(np.tanh(x @ model.params["0.weight"].T)) > 0.97)
    assert fractions[1] == pytest.approx(direct)
    assert fractions[1] > 0.5  # std-1 weights with fan-in 20 saturate most units


def test_update_ratios():
    params = {"w": np.array([3.0, 4.0]), "b": np.zeros(2)}
    updates = {"w": np.array([0.003, 0.004]), "b": np.array([0.1, 0.0])}
    ratios = diagnostics.update_ratios(params, updates)
    assert ratios["w"] == pytest.approx(1e-3)
    assert ratios["b"] == math.inf
    with pytest.raises(ValueError, match="keys"):
        diagnostics.update_ratios(params, {"w": updates["w"]})
    with pytest.raises(ValueError, match="shape"):
        diagnostics.update_ratios(params, {"w": np.zeros(3), "b": np.zeros(2)})


def test_layer_statistics_are_the_models_own_passes():
    model = nn.mlp([6, 7, 3], rng=0, activation="tanh")
    x = np.random.default_rng(2).standard_normal((9, 6))
    g = np.random.default_rng(3).standard_normal((9, 3))
    records = diagnostics.layer_statistics(model, x, g)
    assert [r.index for r in records] == [0, 1, 2]
    np.testing.assert_allclose(records[-1].output, model.forward(x, "train"))
    np.testing.assert_array_equal(records[-1].grad_output, g)
    # dL/d(output of the tanh layer) = g W2; and dL/d(output of layer 0) = that times 1 - tanh^2
    w2 = model.params["2.weight"]
    np.testing.assert_allclose(records[1].grad_output, g @ w2)
    np.testing.assert_allclose(records[0].grad_output, (g @ w2) * (1 - records[1].output ** 2))
    forward_only = diagnostics.layer_statistics(model, x)
    assert all(r.grad_output is None for r in forward_only)
    with pytest.raises(ValueError, match="grad_output"):
        diagnostics.layer_statistics(model, x, np.zeros((9, 4)))


def test_variance_of_a_layer_uses_the_second_moment_of_the_inputs():
    """Var(Y) = n Var(W) E[X^2]: with ReLU outputs (mean > 0) as inputs, E[X^2] and not Var(X)
    (source 003's formula assumes zero-mean inputs; errata err-003-variance-argument)."""
    rng = np.random.default_rng(0)
    n = 400
    w = rng.standard_normal((n, n)) / math.sqrt(n)
    x = np.maximum(rng.standard_normal((4000, n)), 0.0)
    y = x @ w.T
    assert y.var() == pytest.approx(n * w.var() * np.mean(x**2), rel=0.03)
    assert y.var() > 1.3 * n * w.var() * x.var()  # Var(X) = 1/2 - 1/(2 pi) would be wrong by 47 %
    assert np.mean(x**2) == pytest.approx(0.5, rel=0.02)  # ReLU halves the second moment


@pytest.mark.parametrize("activation", ["relu", "tanh", "linear"])
@pytest.mark.parametrize("gain", [0.5, 1.0, 2.0, 3.0])
def test_mean_field_matches_a_wide_network(activation, gain):
    rng = np.random.default_rng(4)
    width, depth = 1000, 6
    h = rng.standard_normal((300, width))
    q, s = [], []
    for _ in range(depth):
        z = h @ (rng.standard_normal((width, width)) * math.sqrt(gain / width))
        h = {"relu": np.maximum(z, 0.0), "tanh": np.tanh(z), "linear": z}[activation]
        q.append(z.var())
        s.append(h.std())
    theory = diagnostics.mean_field(gain, depth, activation)
    np.testing.assert_allclose(q, theory.preact_var, rtol=0.08)
    np.testing.assert_allclose(s, theory.act_std, rtol=0.05)


def test_mean_field_closed_forms():
    relu = diagnostics.mean_field(3.0, 5, "relu")
    np.testing.assert_allclose(relu.preact_var, 3.0 * 1.5 ** np.arange(5))
    np.testing.assert_allclose(relu.grad_var, 0.5 * 1.5 ** np.arange(4, -1, -1))
    np.testing.assert_allclose(relu.act_std, np.sqrt(relu.preact_var * (0.5 - 0.5 / math.pi)))
    critical = diagnostics.mean_field(diagnostics.CRITICAL_GAIN["relu"], 30, "relu")
    np.testing.assert_allclose(critical.preact_var, 2.0)
    linear = diagnostics.mean_field(1.0, 4, "linear", input_second_moment=2.5)
    np.testing.assert_allclose(linear.preact_var, 2.5)
    # tanh: a saturated unit (q huge) has E[tanh^2] near 1; a tiny one behaves linearly
    tanh = diagnostics.mean_field(500.0, 2, "tanh")
    z = np.random.default_rng(0).standard_normal(2_000_000) * math.sqrt(500.0)
    assert tanh.act_std[0] == pytest.approx(np.tanh(z).std(), rel=1e-3)
    small = diagnostics.mean_field(1e-4, 3, "tanh")
    np.testing.assert_allclose(small.preact_var, 1e-4 ** np.arange(1, 4), rtol=1e-3)


def test_mean_field_rejects_bad_input():
    with pytest.raises(ValueError, match="activation"):
        diagnostics.mean_field(1.0, 3, "gelu")
    with pytest.raises(ValueError, match="gain"):
        diagnostics.mean_field(0.0, 3, "relu")
    with pytest.raises(ValueError, match="depth"):
        diagnostics.mean_field(1.0, 0, "relu")


def test_hessian_and_condition_number():
    x = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]])
    h = diagnostics.least_squares_hessian(x)
    a = np.hstack([x, np.ones((3, 1))])
    np.testing.assert_allclose(h, a.T @ a / 3)
    lam = np.linalg.eigvalsh(h)
    assert diagnostics.condition_number(h) == pytest.approx(lam[-1] / lam[0])
    # a constant-zero feature adds a zero eigenvalue, which is left out
    padded = diagnostics.least_squares_hessian(np.hstack([x, np.zeros((3, 1))]))
    assert diagnostics.condition_number(padded) == pytest.approx(lam[-1] / lam[0])
    with pytest.raises(ValueError, match="symmetric"):
        diagnostics.condition_number(np.array([[1.0, 2.0], [0.0, 1.0]]))


def _gd(x, y, steps, lr):
    a = np.hstack([x, np.ones((len(x), 1))])
    y = y.reshape(len(x), -1)
    w = np.zeros((a.shape[1], y.shape[1]))
    losses = []
    opt = optim.sgd(lr)
    state = opt.init(w)
    for _ in range(steps + 1):
        losses.append(0.5 * np.mean(np.sum((a @ w - y) ** 2, axis=1)))
        w, state = opt.step(w, a.T @ (a @ w - y) / len(x), state)
    best = np.linalg.lstsq(a, y, rcond=None)[0]
    return np.array(losses) - 0.5 * np.mean(np.sum((a @ best - y) ** 2, axis=1))


def test_excess_losses_are_those_of_an_explicit_gradient_descent():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((40, 3)) * np.array([3.0, 1.0, 0.2]) + 1.0
    y = rng.standard_normal((40, 2))
    lam_max = np.linalg.eigvalsh(diagnostics.least_squares_hessian(x))[-1]
    exact = diagnostics.gd_excess_losses(x, y, 60)
    np.testing.assert_allclose(exact, _gd(x, y, 60, 1.0 / lam_max), rtol=1e-8, atol=1e-12)
    steps = diagnostics.gd_steps(x, y, tol=1e-3)
    longer = diagnostics.gd_excess_losses(x, y, steps)
    assert longer[steps] <= 1e-3 * longer[0] < longer[steps - 1]


def test_whitened_inputs_need_one_step():
    rng = np.random.default_rng(6)
    z = rng.standard_normal((200, 3))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z.T, bias=True)).T)  # identity covariance
    assert diagnostics.condition_number(diagnostics.least_squares_hessian(z)) == pytest.approx(1.0)
    assert diagnostics.gd_steps(z, rng.standard_normal(200)) == 1


def test_gd_steps_grow_with_the_condition_number():
    rng = np.random.default_rng(7)
    z = rng.standard_normal((500, 2))
    y = z @ np.array([1.0, 1.0])
    counts = [diagnostics.gd_steps(z * np.array([1.0, s]), y, bias=False) for s in (1.0, 0.1, 0.01)]
    assert counts[0] < counts[1] < counts[2]
    assert counts[2] > 50 * counts[1] / 2  # kappa grows 100-fold per factor 10 in scale


def test_lsuv_gives_unit_output_variances_and_leaves_the_model_alone():
    model = nn.mlp([20, 50, 50, 50, 5], rng=0, init="orthogonal")
    before = {k: v.copy() for k, v in model.params.items()}
    x = np.random.default_rng(8).standard_normal((256, 20)) * 3.0
    params, scales = diagnostics.lsuv(model, x, tol=0.01)
    for key, value in before.items():
        np.testing.assert_array_equal(model.params[key], value)
    assert len(scales) == 4
    model.params = params
    records = diagnostics.layer_statistics(model, x, mode="eval")
    for r in records:
        if isinstance(r.layer, nn.Linear):
            assert r.output.var() == pytest.approx(1.0, abs=0.01)
    np.testing.assert_allclose(params["0.weight"], before["0.weight"] * scales[0])


def test_lsuv_refuses_non_zero_biases_and_reports_non_convergence():
    # a bias that varies across units adds variance no weight scaling removes: the old loop
    # shrank the weight to nearly 0 and returned silently
    model = nn.mlp([20, 30, 30, 5], rng=0, init="orthogonal")
    params = model.params
    params["0.bias"] = 2.0 * np.random.default_rng(1).standard_normal(params["0.bias"].shape)
    model.params = params
    x = np.random.default_rng(2).standard_normal((256, 20))
    with pytest.raises(ValueError, match=r"'0.bias'"):
        diagnostics.lsuv(model, x)
    # with zero biases one rescaling per layer is exact, even for tanh
    params, _ = diagnostics.lsuv(nn.mlp([20, 30, 30, 5], rng=0, init="orthogonal", activation="tanh"),
                                 5.0 * x, tol=1e-9, max_iter=1)
    model = nn.mlp([20, 30, 30, 5], rng=0, activation="tanh")
    model.params = params
    for r in diagnostics.layer_statistics(model, 5.0 * x, mode="eval"):
        if isinstance(r.layer, nn.Linear):
            assert r.output.var() == pytest.approx(1.0, rel=1e-9)


def test_bad_input_is_named():
    model = nn.mlp([3, 2], rng=0)
    with pytest.raises(ValueError, match="hessian must have a positive eigenvalue"):
        diagnostics.condition_number(np.zeros((3, 3)))
    x = np.ones((4, 3))
    a, b = (diagnostics.layer_statistics(model, x, grad_output=seed)[-1].grad_output for seed in (3, np.int64(3)))
    np.testing.assert_array_equal(a, b)            # a numpy integer is a seed, like a Python int
    with pytest.raises(TypeError, match="model"):
        diagnostics.initial_loss("model", np.zeros((2, 3)), np.zeros(2, dtype=int))
    with pytest.raises(ValueError, match="y must be integer labels"):
        diagnostics.initial_loss(model, np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ValueError, match="threshold"):
        diagnostics.saturation_fraction(np.zeros(3), 1.0)
    with pytest.raises(ValueError, match="num_classes"):
        diagnostics.expected_initial_loss(1)
    with pytest.raises(ValueError, match="tol"):
        diagnostics.gd_steps(np.ones((3, 1)), np.ones(3), tol=0.0)
