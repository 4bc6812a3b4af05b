"""course_lib.layers: every pure forward/backward pair against torch, independent formulas and
centred differences; both batch-norm backward forms; dropout masks; inputs untouched; bad input."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import gradcheck, layers

GRAD_TOL = 1e-7  # centred differences in float64, h = 1e-6: a correct gradient agrees to ~1e-9


def _x(shape=(8, 5), seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _t(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def _bn_inputs(d=5, seed=3):
    rng = np.random.default_rng(seed)
    return {"gamma": rng.uniform(0.5, 2, d), "beta": rng.standard_normal(d),
            "running_mean": rng.standard_normal(d), "running_var": rng.uniform(0.5, 2, d)}


# ------------------------------------------------------------------------------------------
# torch parity

def _torch_grads(fn, upstream, *arrays):
    tensors = [_t(a, grad=True) for a in arrays]
    out = fn(*tensors)
    out.backward(_t(upstream))
    return out.detach().numpy(), [t.grad.numpy() for t in tensors]


def test_linear_matches_torch():
    x, w, b = _x((8, 5)), _x((4, 5), 1), _x((4,), 2)
    out, cache = layers.linear_forward(x, w, b)
    g = _x(out.shape, 3)
    dx, dw, db = layers.linear_backward(g, cache)
    tout, (tdx, tdw, tdb) = _torch_grads(F.linear, g, x, w, b)
    for ours, theirs in [(out, tout), (dx, tdx), (dw, tdw), (db, tdb)]:
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-13)
    out, cache = layers.linear_forward(x, w)  # no bias
    np.testing.assert_allclose(out, F.linear(_t(x), _t(w)).numpy(), rtol=0, atol=1e-13)
    assert layers.linear_backward(g, cache)[2] is None
    assert layers.linear_backward(g, cache, input_grad=False)[0] is None


@pytest.mark.parametrize("name, kwargs, torch_fn", [
    ("relu", {}, torch.relu),
    ("leaky_relu", {}, F.leaky_relu),
    ("leaky_relu", {"negative_slope": 0.2}, lambda t: F.leaky_relu(t, 0.2)),
    ("tanh", {}, torch.tanh),
    ("sigmoid", {}, torch.sigmoid),
])
def test_activations_match_torch(name, kwargs, torch_fn):
    x = 3 * _x()
    x[0, :3] = 0.0  # at the kink both take the derivative torch takes (0 for ReLU, the slope for leaky)
    out, cache = getattr(layers, f"{name}_forward")(x, **kwargs)
    g = _x(out.shape, 1)
    dx = getattr(layers, f"{name}_backward")(g, cache)
    tout, (tdx,) = _torch_grads(torch_fn, g, x)
    np.testing.assert_allclose(out, tout, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(dx, tdx, rtol=1e-13, atol=1e-15)


def test_sigmoid_does_not_overflow():
    out, _ = layers.sigmoid_forward(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(out, [0.0, 0.5, 1.0])


def _torch_batchnorm(x, p, training, momentum=0.1, eps=1e-5):
    """torch's F.batch_norm on copies of the running statistics (it updates them in place)."""
    rm, rv = _t(p["running_mean"]), _t(p["running_var"])
    xt, gt, bt = _t(x, grad=True), _t(p["gamma"], grad=True), _t(p["beta"], grad=True)
    out = F.batch_norm(xt, rm, rv, gt, bt, training=training, momentum=momentum, eps=eps)
    return out, (xt, gt, bt), rm.numpy(), rv.numpy()


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_inside_matches_torch_in_training_and_eval(training):
    x, p = 2 * _x() + 1, _bn_inputs()
    out, mean, var, cache = layers.batchnorm_forward(x, **p, training=training)
    g = _x(out.shape, 4)
    tout, tensors, tmean, tvar = _torch_batchnorm(x, p, training)
    tout.backward(_t(g))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=0, atol=1e-13)
    np.testing.assert_allclose(mean, tmean, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(var, tvar, rtol=1e-14, atol=1e-15)
    for backward in (layers.batchnorm_backward, layers.batchnorm_backward_graph):
        for ours, t in zip(backward(g, cache), tensors):
            np.testing.assert_allclose(ours, t.grad.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
def test_batchnorm_running_statistics_follow_torch_step_by_step(momentum):
    p = _bn_inputs()
    mean, var = p["running_mean"], p["running_var"]
    rm, rv = _t(mean), _t(var)
    for step in range(6):
        x = _x((7, 5), seed=step) * (step + 1) + step
        _, mean, var, _ = layers.batchnorm_forward(x, p["gamma"], p["beta"], mean, var, momentum=momentum,
                                                   num_batches_tracked=step)
        # torch's cumulative average (momentum=None) is the module's; F.batch_norm takes the factor 1/t
        factor = 1.0 / (step + 1) if momentum is None else momentum
        F.batch_norm(_t(x), rm, rv, _t(p["gamma"]), _t(p["beta"]), training=True, momentum=factor)
        np.testing.assert_allclose(mean, rm.numpy(), rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(var, rv.numpy(), rtol=1e-13, atol=1e-14)


def test_batchnorm_cumulative_average_is_the_mean_of_the_batch_statistics():
    p = _bn_inputs()
    mean, var = p["running_mean"], p["running_var"]
    batches = [_x((6, 5), seed=s) * (s + 1) for s in range(5)]
    for t, x in enumerate(batches):
        _, mean, var, _ = layers.batchnorm_forward(x, p["gamma"], p["beta"], mean, var, momentum=None,
                                                   num_batches_tracked=t)
    np.testing.assert_allclose(mean, np.mean([x.mean(0) for x in batches], axis=0), rtol=1e-13)
    np.testing.assert_allclose(var, np.mean([x.var(0, ddof=1) for x in batches], axis=0), rtol=1e-13)


def _reference_batchnorm(x, gamma, beta, eps, eps_mode):
    """An independent formula for each source's normalization (training mode)."""
    mu = x.mean(axis=0)
    sigma = x.std(axis=0)  # biased, ddof = 0
    denominator = {"inside": np.sqrt(sigma**2 + eps), "std": sigma + eps, "none": sigma}[eps_mode]
    return gamma * (x - mu) / denominator + beta


@pytest.mark.parametrize("eps_mode", layers.EPS_MODES)
def test_each_eps_mode_is_its_sources_formula(eps_mode):
    x, p = 0.1 * _x(), _bn_inputs()  # a spread comparable to eps, so the modes differ
    eps = 1e-2
    out, mean, var, _ = layers.batchnorm_forward(x, **p, eps=eps, eps_mode=eps_mode)
    np.testing.assert_allclose(out, _reference_batchnorm(x, p["gamma"], p["beta"], eps, eps_mode), rtol=1e-13)
    # the running statistics do not depend on where eps sits
    _, mean_inside, var_inside, _ = layers.batchnorm_forward(x, **p, eps=eps)
    np.testing.assert_array_equal(mean, mean_inside)
    np.testing.assert_array_equal(var, var_inside)


def test_eps_modes_differ_by_order_eps_over_sigma():
    x, p = _x((50, 5)), _bn_inputs()
    outs = {m: layers.batchnorm_forward(x, **p, eps=1e-3, eps_mode=m)[0] for m in layers.EPS_MODES}
    assert 0 < np.max(np.abs(outs["inside"] - outs["none"])) < 1e-2
    assert 0 < np.max(np.abs(outs["std"] - outs["none"])) < 1e-2
    assert not np.allclose(outs["inside"], outs["std"], rtol=0, atol=1e-6)


@pytest.mark.parametrize("eps_mode", layers.EPS_MODES)
def test_batchnorm_eval_uses_the_running_statistics_in_each_mode(eps_mode):
    x, p = _x((3, 5), seed=9), _bn_inputs()
    out, mean, var, _ = layers.batchnorm_forward(x, **p, training=False, eps=1e-2, eps_mode=eps_mode)
    sd = np.sqrt(p["running_var"])
    denominator = {"inside": np.sqrt(p["running_var"] + 1e-2), "std": sd + 1e-2, "none": sd}[eps_mode]
    np.testing.assert_allclose(out, p["gamma"] * (x - p["running_mean"]) / denominator + p["beta"], rtol=1e-13)
    assert mean is p["running_mean"] and var is p["running_var"]  # unchanged in evaluation
    layers.batchnorm_forward(x[:1], **p, training=False)  # one example is fine in evaluation


def test_layernorm_matches_torch():
    x, rng = 3 * _x((6, 7)) + 2, np.random.default_rng(1)
    gamma, beta = rng.uniform(0.5, 2, 7), rng.standard_normal(7)
    module = torch.nn.LayerNorm(7, eps=1e-5, dtype=torch.float64)
    with torch.no_grad():
        module.weight.copy_(_t(gamma))
        module.bias.copy_(_t(beta))
    out, cache = layers.layernorm_forward(x, gamma, beta)
    g = _x(out.shape, 2)
    xt = _t(x, grad=True)
    tout = module(xt)
    tout.backward(_t(g))
    dx, dgamma, dbeta = layers.layernorm_backward(g, cache)
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=0, atol=1e-13)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dgamma, module.weight.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dbeta, module.bias.grad.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape, groups", [((6, 8), 4), ((6, 8), 1), ((4, 8, 3), 8), ((4, 6, 5), 3)])
def test_groupnorm_matches_torch(shape, groups):
    x, rng = 2 * _x(shape) - 1, np.random.default_rng(2)
    c = shape[1]
    gamma, beta = rng.uniform(0.5, 2, c), rng.standard_normal(c)
    module = torch.nn.GroupNorm(groups, c, eps=1e-5, dtype=torch.float64)
    with torch.no_grad():
        module.weight.copy_(_t(gamma))
        module.bias.copy_(_t(beta))
    out, cache = layers.groupnorm_forward(x, gamma, beta, groups)
    g = _x(out.shape, 3)
    xt = _t(x, grad=True)
    tout = module(xt)
    tout.backward(_t(g))
    dx, dgamma, dbeta = layers.groupnorm_backward(g, cache)
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=0, atol=1e-13)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dgamma, module.weight.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dbeta, module.bias.grad.numpy(), rtol=0, atol=1e-12)


def test_groupnorm_with_one_group_is_layer_norm_on_2d_input():
    x, gamma, beta = _x((5, 6)), np.linspace(0.5, 2, 6), np.linspace(-1, 1, 6)
    np.testing.assert_allclose(layers.groupnorm_forward(x, gamma, beta, 1)[0],
                               layers.layernorm_forward(x, gamma, beta)[0], rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3])
def test_softmax_cross_entropy_matches_torch(smoothing):
    logits, y = 3 * _x((7, 4)), np.array([0, 3, 1, 2, 2, 0, 1])
    loss, dlogits = layers.softmax_cross_entropy(logits, y, label_smoothing=smoothing)
    lt = _t(logits, grad=True)
    expected = F.cross_entropy(lt, torch.tensor(y), label_smoothing=smoothing)
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-14)
    np.testing.assert_allclose(dlogits, lt.grad.numpy(), rtol=0, atol=1e-15)


def test_label_smoothing_changes_the_loss_and_huge_logits_stay_finite():
    logits, y = _x((5, 3)), np.array([0, 1, 2, 0, 1])
    assert layers.softmax_cross_entropy(logits, y)[0] != layers.softmax_cross_entropy(logits, y, label_smoothing=0.1)[0]
    loss, grad = layers.softmax_cross_entropy(np.array([[1000.0, -1000.0]]), np.array([1]))
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    # equal logits: every class has probability 1/C, the loss is log C with or without smoothing
    for smoothing in (0.0, 0.2):
        assert layers.softmax_cross_entropy(np.zeros((3, 4)), np.array([0, 1, 3]),
                                            label_smoothing=smoothing)[0] == pytest.approx(np.log(4), abs=1e-15)


def test_mse_matches_torch():
    pred, target = _x((7, 3)), _x((7, 3), seed=1)
    loss, dpred = layers.mse(pred, target)
    pt = _t(pred, grad=True)
    expected = F.mse_loss(pt, _t(target))
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-14)
    np.testing.assert_allclose(dpred, pt.grad.numpy(), rtol=0, atol=1e-15)


def test_softmax_rows_sum_to_one():
    probs = layers.softmax(10 * _x((4, 6)))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(probs, torch.softmax(_t(10 * _x((4, 6))), dim=1).numpy(), rtol=1e-13)


# ------------------------------------------------------------------------------------------
# gradient checks of every backward pass

def _bn(training, eps_mode, eps=1e-3):
    return {"kwargs": {"training": training, "eps_mode": eps_mode, "eps": eps}}


GRADIENT_CASES = [
    ("linear", layers.linear_forward, layers.linear_backward,
     {"x": _x((6, 5)), "w": _x((4, 5), 1), "b": _x((4,), 2)}, None, {}),
    ("linear without bias", layers.linear_forward, lambda g, c: layers.linear_backward(g, c)[:2],
     {"x": _x((6, 5)), "w": _x((4, 5), 1)}, None, {}),
    ("relu", layers.relu_forward, layers.relu_backward, {"x": _x()}, None, {}),
    ("leaky_relu", layers.leaky_relu_forward, layers.leaky_relu_backward, {"x": _x()}, None, {"negative_slope": 0.1}),
    ("tanh", layers.tanh_forward, layers.tanh_backward, {"x": _x()}, None, {}),
    ("sigmoid", layers.sigmoid_forward, layers.sigmoid_backward, {"x": _x()}, None, {}),
    ("dropout inverted", layers.dropout_forward, layers.dropout_backward, {"x": _x()}, None, {"p": 0.3, "rng": 5}),
    ("dropout keep-probability", layers.dropout_forward, layers.dropout_backward, {"x": _x()}, None,
     {"p": 0.3, "rng": 5, "inverted": False}),
    ("dropout eval", layers.dropout_forward, layers.dropout_backward, {"x": _x()}, None,
     {"p": 0.3, "rng": 5, "inverted": False, "training": False}),
    ("layernorm", layers.layernorm_forward, layers.layernorm_backward,
     {"x": _x((6, 7)), "gamma": _x((7,), 1), "beta": _x((7,), 2)}, None, {}),
    ("groupnorm", layers.groupnorm_forward, layers.groupnorm_backward,
     {"x": _x((4, 6, 3)), "gamma": _x((6,), 1), "beta": _x((6,), 2)}, None, {"num_groups": 2}),
]
for _mode in layers.EPS_MODES:
    for _training in (True, False):
        for _form in (layers.batchnorm_backward, layers.batchnorm_backward_graph):
            GRADIENT_CASES.append((f"batchnorm {_mode} training={_training} {_form.__name__}",
                                   layers.batchnorm_forward, _form, {"x": 0.3 * _x((6, 5)), **_bn_inputs()},
                                   ("x", "gamma", "beta"), {"training": _training, "eps_mode": _mode, "eps": 1e-2}))


@pytest.mark.parametrize("name, forward, backward, inputs, wrt, kwargs", GRADIENT_CASES,
                         ids=[case[0] for case in GRADIENT_CASES])
def test_every_backward_pass_passes_the_gradient_check(name, forward, backward, inputs, wrt, kwargs):
    errors = gradcheck.check_pair(forward, backward, inputs, wrt, kwargs=kwargs)
    assert set(errors) == set(wrt or inputs)
    assert max(errors.values()) < GRAD_TOL, errors


@pytest.mark.parametrize("loss, target", [
    (lambda z, t: layers.softmax_cross_entropy(z, t), np.array([0, 2, 1, 3, 3, 0])),
    (lambda z, t: layers.softmax_cross_entropy(z, t, label_smoothing=0.2), np.array([0, 2, 1, 3, 3, 0])),
    (layers.mse, _x((6, 4), 5)),
])
def test_loss_gradients(loss, target):
    z = _x((6, 4))
    numeric = gradcheck.numerical_gradient(lambda v: loss(v, target)[0], z)
    assert gradcheck.relative_error(loss(z, target)[1], numeric) < GRAD_TOL


def test_a_wrong_backward_pass_fails_the_gradient_check():
    def wrong_tanh_backward(dout, cache):
        return dout * (1.0 - cache)  # forgot the square

    errors = gradcheck.check_pair(layers.tanh_forward, wrong_tanh_backward, {"x": _x()})
    assert errors["x"] > 1e-2
    # source 002's final formula (sigma where its own forward pass has sigma + eps) fails for eps_mode "std"
    def source_002_backward(dout, cache):
        g = dout * cache.gamma
        sigma = np.sqrt(cache.var)
        x_hat = (cache.x - cache.mean) / sigma
        n = dout.shape[0]
        return (g - g.mean(0) - x_hat * (g * x_hat).mean(0)) / sigma, None, None

    errors = gradcheck.check_pair(layers.batchnorm_forward, source_002_backward,
                                  {"x": 0.05 * _x((6, 5)), **_bn_inputs()}, "x",
                                  kwargs={"eps_mode": "std", "eps": 1e-2})
    assert errors["x"] > 1e-2


@pytest.mark.parametrize("eps_mode", layers.EPS_MODES)
@pytest.mark.parametrize("training", [True, False])
def test_both_batchnorm_backward_forms_agree_to_1e_12(eps_mode, training):
    for seed in range(5):
        x = _x((16, 6), seed) * np.linspace(0.05, 3, 6) + seed
        p = _bn_inputs(6, seed)
        out, _, _, cache = layers.batchnorm_forward(x, **p, eps=1e-3, eps_mode=eps_mode, training=training)
        g = _x(out.shape, seed + 10)
        for closed, graph in zip(layers.batchnorm_backward(g, cache), layers.batchnorm_backward_graph(g, cache)):
            np.testing.assert_allclose(closed, graph, rtol=0, atol=1e-12)


def test_batchnorm_backward_of_a_constant_feature():
    """A constant feature: x_hat = 0, the closed form and the graph give the same finite gradient."""
    x, p = _x((6, 3)), _bn_inputs(3)
    x[:, 1] = 2.0
    for eps_mode in ("inside", "std"):
        out, _, _, cache = layers.batchnorm_forward(x, **p, eps_mode=eps_mode)
        g = _x(out.shape, 1)
        closed, graph = layers.batchnorm_backward(g, cache), layers.batchnorm_backward_graph(g, cache)
        for a, b in zip(closed, graph):
            assert np.all(np.isfinite(a))
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="constant feature"):
        layers.batchnorm_forward(x, **p, eps_mode="none")


# ------------------------------------------------------------------------------------------
# dropout

def test_dropout_mask_is_in_the_cache_and_comes_from_rng():
    x = _x((20, 10))
    out, cache = layers.dropout_forward(x, 0.3, rng=np.random.default_rng(4))
    expected_mask = np.random.default_rng(4).random(x.shape, dtype=np.float32) < 0.7
    np.testing.assert_array_equal(cache.mask, expected_mask)
    np.testing.assert_allclose(out, np.where(cache.mask, x / 0.7, 0.0), rtol=1e-15)
    np.testing.assert_allclose(layers.dropout_backward(np.ones_like(x), cache), cache.mask / 0.7, rtol=1e-15)
    # a seed gives the same mask every call, a Generator a new one
    same = [layers.dropout_forward(x, 0.3, rng=1)[1].mask for _ in range(2)]
    np.testing.assert_array_equal(*same)
    g = np.random.default_rng(1)
    assert not np.array_equal(layers.dropout_forward(x, 0.3, rng=g)[1].mask, layers.dropout_forward(x, 0.3, rng=g)[1].mask)


def _mean_outputs(x, p, draws, inverted, seed=0):
    rng = np.random.default_rng(seed)
    return np.mean([layers.dropout_forward(x, p, rng=rng, inverted=inverted)[0] for _ in range(draws)], axis=0)


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_expectation_equals_the_evaluation_output_in_both_forms(p):
    x, draws, keep = np.abs(_x((4, 5))) + 0.5, 4000, 1 - p
    bound = 5 * x * np.sqrt(p / keep / draws)  # 5 standard deviations of the mean of x m / q
    inverted_eval = layers.dropout_forward(x, p, rng=0, training=False)[0]
    plain_eval = layers.dropout_forward(x, p, rng=0, training=False, inverted=False)[0]
    np.testing.assert_array_equal(inverted_eval, x)
    np.testing.assert_allclose(plain_eval, keep * x, rtol=1e-15)
    assert np.all(np.abs(_mean_outputs(x, p, draws, True) - inverted_eval) < bound)
    assert np.all(np.abs(_mean_outputs(x, p, draws, False) - plain_eval) < keep * bound)
    # the keep-probability form is the inverted form times q, mask for mask (same rng)
    np.testing.assert_allclose(keep * layers.dropout_forward(x, p, rng=3)[0],
                               layers.dropout_forward(x, p, rng=3, inverted=False)[0], rtol=1e-15)
    # and its test-time scaling is the same as scaling the next layer's weights: W_test = q W
    w = _x((3, 5), 7)
    np.testing.assert_allclose(layers.linear_forward(plain_eval, w)[0], layers.linear_forward(x, keep * w)[0],
                               rtol=1e-13)


def test_dropout_drop_fraction_and_extremes():
    out, cache = layers.dropout_forward(np.ones((200, 100)), 0.3, rng=0)
    assert abs(np.mean(out == 0) - 0.3) < 5 * np.sqrt(0.3 * 0.7 / out.size)
    x = _x()
    np.testing.assert_array_equal(layers.dropout_forward(x, 0.0, rng=0)[0], x)
    np.testing.assert_array_equal(layers.dropout_forward(x, 1.0, rng=0)[0], np.zeros_like(x))


def test_dropout_matches_torch_in_distribution():
    """Different generators: compare what each output can be and the fraction of zeros."""
    x, p, draws = np.abs(_x((20, 10))) + 0.5, 0.4, 500
    rng = np.random.default_rng(0)
    ours = np.array([layers.dropout_forward(x, p, rng=rng)[0] for _ in range(draws)])
    torch.manual_seed(0)
    theirs = np.array([F.dropout(_t(x), p, training=True).numpy() for _ in range(draws)])
    for outs in (ours, theirs):
        assert np.all(np.isclose(outs, 0) | np.isclose(outs, x / (1 - p)))
        assert abs(np.mean(outs == 0) - p) < 5 * np.sqrt(p * (1 - p) / outs.size)
    np.testing.assert_array_equal(layers.dropout_forward(x, p, rng=0, training=False)[0],
                                  F.dropout(_t(x), p, training=False).numpy())


# ------------------------------------------------------------------------------------------
# inputs untouched, dtypes, bad input

def test_no_function_modifies_its_inputs():
    arrays = {"x": _x((6, 5)), "w": _x((4, 5), 1), "b": _x((4,), 2), **_bn_inputs()}
    saved = {k: v.copy() for k, v in arrays.items()}
    a = arrays
    out, cache = layers.linear_forward(a["x"], a["w"], a["b"])
    layers.linear_backward(_x(out.shape, 3), cache)
    for name in ("relu", "leaky_relu", "tanh", "sigmoid"):
        out, cache = getattr(layers, f"{name}_forward")(a["x"])
        getattr(layers, f"{name}_backward")(a["x"], cache)
    for training in (True, False):
        out, _, _, cache = layers.batchnorm_forward(a["x"], a["gamma"], a["beta"], a["running_mean"],
                                                    a["running_var"], training=training)
        layers.batchnorm_backward(a["x"], cache)
        layers.batchnorm_backward_graph(a["x"], cache)
        out, cache = layers.dropout_forward(a["x"], 0.5, rng=0, training=training)
        layers.dropout_backward(a["x"], cache)
    out, cache = layers.layernorm_forward(a["x"], a["gamma"], a["beta"])
    layers.layernorm_backward(a["x"], cache)
    out, cache = layers.groupnorm_forward(a["x"], a["gamma"], a["beta"], 5)
    layers.groupnorm_backward(a["x"], cache)
    layers.softmax_cross_entropy(a["x"], np.arange(6) % 5, label_smoothing=0.1)
    layers.mse(a["x"], a["x"] + 1)
    for key, value in saved.items():
        np.testing.assert_array_equal(arrays[key], value, err_msg=key)


def test_float32_stays_float32():
    x = _x().astype(np.float32)
    for name in ("relu", "leaky_relu", "tanh", "sigmoid"):
        assert getattr(layers, f"{name}_forward")(x)[0].dtype == np.float32, name
    assert layers.dropout_forward(x, 0.5, rng=0)[0].dtype == np.float32
    assert layers.linear_forward(x, _x((3, 5)).astype(np.float32))[0].dtype == np.float32


def test_integer_inputs_are_made_float():
    out, _ = layers.linear_forward(np.ones((2, 3), dtype=int), np.ones((4, 3), dtype=int))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, 3.0)


def test_dout_of_the_wrong_shape_is_named_never_broadcast():
    x = _x((6, 5))
    _, cache = layers.linear_forward(x, _x((4, 5)), _x((4,)))
    with pytest.raises(ValueError, match=r"dout must have the shape of the forward output \(6, 4\), got \(1, 4\)"):
        layers.linear_backward(np.ones((1, 4)), cache)  # would broadcast silently
    _, cache = layers.relu_forward(x)
    with pytest.raises(ValueError, match="dout must have the shape"):
        layers.relu_backward(np.ones(5), cache)
    _, _, _, cache = layers.batchnorm_forward(x, **_bn_inputs())
    for backward in (layers.batchnorm_backward, layers.batchnorm_backward_graph):
        with pytest.raises(ValueError, match="dout must have the shape"):
            backward(np.ones((1, 5)), cache)
    _, cache = layers.dropout_forward(x, 0.5, rng=0)
    with pytest.raises(ValueError, match="dout must have the shape"):
        layers.dropout_backward(np.ones((6, 1)), cache)
    _, cache = layers.layernorm_forward(x, np.ones(5), np.zeros(5))
    with pytest.raises(ValueError, match="dout must have the shape"):
        layers.layernorm_backward(np.ones((6, 1)), cache)


def test_complex_and_non_numeric_arrays_are_type_errors():
    with pytest.raises(TypeError, match="x must be real, got complex"):
        layers.relu_forward(np.ones((2, 2), dtype=complex))
    with pytest.raises(TypeError, match="w must be real"):
        layers.linear_forward(np.ones((2, 2)), np.ones((2, 2)) * 1j)
    with pytest.raises(TypeError, match="x must be a numeric array"):
        layers.tanh_forward(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="x must be a numpy array of numbers"):
        layers.sigmoid_forward("abc")
    _, cache = layers.relu_forward(_x())
    with pytest.raises(TypeError, match="dout must be real"):
        layers.relu_backward(_x() * 1j, cache)
    with pytest.raises(TypeError, match="gamma must be real"):
        layers.batchnorm_forward(_x(), **{**_bn_inputs(), "gamma": np.ones(5, dtype=complex)})


def test_feature_counts_are_checked_and_named():
    with pytest.raises(ValueError, match=r"x must have shape \(N, 5\) to match w"):
        layers.linear_forward(_x((6, 4)), _x((3, 5)))
    with pytest.raises(ValueError, match=r"b must have shape \(3,\)"):
        layers.linear_forward(_x((6, 5)), _x((3, 5)), np.ones(4))
    with pytest.raises(ValueError, match="x must be a 2-d array"):
        layers.linear_forward(np.ones(5), _x((3, 5)))
    with pytest.raises(ValueError, match="x must have 5 features"):
        layers.batchnorm_forward(_x((6, 4)), **_bn_inputs())
    with pytest.raises(ValueError, match=r"running_var must have shape \(5,\)"):
        layers.batchnorm_forward(_x(), **{**_bn_inputs(), "running_var": np.ones(4)})
    with pytest.raises(ValueError, match=r"beta must have shape \(7,\)"):
        layers.layernorm_forward(_x((3, 7)), np.ones(7), np.ones(6))
    with pytest.raises(ValueError, match="x must have 6 channels"):
        layers.groupnorm_forward(_x((3, 4)), np.ones(6), np.zeros(6), 2)
    with pytest.raises(ValueError, match="num_groups must divide"):
        layers.groupnorm_forward(_x((3, 6)), np.ones(6), np.zeros(6), 4)


def test_other_bad_arguments_are_named():
    x, p = _x(), _bn_inputs()
    with pytest.raises(ValueError, match="eps_mode must be one of"):
        layers.batchnorm_forward(x, **p, eps_mode="outside")
    with pytest.raises(ValueError, match="more than 1 example"):
        layers.batchnorm_forward(x[:1], **p)
    with pytest.raises(ValueError, match="momentum must be in"):
        layers.batchnorm_forward(x, **p, momentum=1.5)
    with pytest.raises(ValueError, match="eps must be in"):
        layers.batchnorm_forward(x, **p, eps=-1.0)
    with pytest.raises(TypeError, match="training must be True or False"):
        layers.batchnorm_forward(x, **p, training="yes")
    with pytest.raises(ValueError, match="p must be in"):
        layers.dropout_forward(x, 1.5, rng=0)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        layers.dropout_forward(x, 0.5, rng="seed")
    with pytest.raises(TypeError, match="cache must be the cache returned by the forward pass"):
        layers.batchnorm_backward(x, layers.dropout_forward(x, 0.5, rng=0)[1])
    with pytest.raises(ValueError, match=r"y must lie in \[0, 2\], got labels from 0 to 3"):
        layers.softmax_cross_entropy(_x((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="y must be integer labels"):
        layers.softmax_cross_entropy(_x((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        layers.softmax_cross_entropy(_x((2, 3)), np.array([0, 1]), label_smoothing=2.0)
    with pytest.raises(ValueError, match="pred and target must have the same shape"):
        layers.mse(_x((2, 3)), _x((3, 2)))


def test_an_activation_backward_rejects_a_foreign_cache():
    _, cache = layers.linear_forward(_x(), _x((3, 5)))
    for name in ("relu", "leaky_relu", "tanh", "sigmoid"):
        with pytest.raises(TypeError, match="cache must be the array returned by the forward pass"):
            getattr(layers, f"{name}_backward")(_x(), cache)
