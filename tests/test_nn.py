"""course_lib.nn: gradient checks of every backward pass, batch-norm rules, fusion, dropout, Sequential."""
import copy

import numpy as np
import pytest

from course_lib import gradcheck, init, layers, nn

TOL = 1e-7  # centred differences in float64 with h = 1e-6: correct gradients agree to ~1e-9


def _x(shape=(6, 5), seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


LAYERS = [
    lambda: nn.Linear(5, 4, rng=3),
    lambda: nn.Linear(5, 4, rng=3, bias=False),
    lambda: nn.ReLU(),
    lambda: nn.LeakyReLU(0.1),
    lambda: nn.Tanh(),
    lambda: nn.Sigmoid(),
    lambda: nn.BatchNorm1d(5),
    lambda: nn.BatchNorm1d(5, eps=1e-2, eps_mode="std"),
    lambda: nn.BatchNorm1d(5, eps_mode="none", backward_form="graph"),
    lambda: nn.LayerNorm(5),
    lambda: nn.GroupNorm(5, 5),
    lambda: nn.Dropout(0.3, rng=4),
    lambda: nn.Dropout(0.3, rng=4, inverted=False),
]


@pytest.mark.parametrize("make", LAYERS, ids=lambda f: repr(f()))
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_every_backward_pass_passes_the_gradient_check(make, mode):
    layer = make()
    if "gamma" in layer.params:  # non-trivial parameters and running statistics
        rng = np.random.default_rng(7)
        layer.params = {"gamma": rng.uniform(0.5, 2, 5), "beta": rng.standard_normal(5)}
    if isinstance(layer, nn.BatchNorm1d):
        layer.buffers["running_mean"] = rng.standard_normal(5)
        layer.buffers["running_var"] = rng.uniform(0.5, 2, 5)
    errors = gradcheck.check_layer(layer, _x(), mode=mode)
    assert set(errors) == {"x", *layer.params}
    assert max(errors.values()) < TOL, errors


def test_a_wrong_backward_pass_fails_the_gradient_check():
    class WrongTanh(nn.Tanh):
        def _backward(self, dout, cache):
            return dout * (1.0 - cache)  # forgot the square

    assert gradcheck.check_layer(WrongTanh(), _x())["x"] > 1e-2


def test_whole_model_gradient_check_with_batchnorm_and_dropout():
    model = nn.mlp([5, 7, 6, 3], rng=0, batchnorm=True, dropout=0.25, activation="tanh")
    x = _x((8, 5))
    errors = gradcheck.check_layer(model, x, mode="train")
    assert set(errors) == {"x", *model.params}
    # A bias just before batch norm has an exactly zero gradient (the batch mean removes it), so its
    # relative error compares rounding noise with rounding noise; it is checked absolutely below.
    before_bn = {"0.bias", "4.bias"}
    assert max(v for k, v in errors.items() if k not in before_bn) < TOL, errors
    probe = copy.deepcopy(model)
    loss_grad = np.random.default_rng(3).standard_normal((8, 3))
    probe.forward(x, "train")
    probe.backward(loss_grad)
    for key in before_bn:
        assert np.max(np.abs(probe.grads[key])) < 1e-14


@pytest.mark.parametrize("loss, target", [
    (nn.CrossEntropyLoss(), np.array([0, 2, 1, 3, 3, 0])),
    (nn.MSELoss(), np.random.default_rng(5).standard_normal((6, 4))),
])
def test_loss_gradients(loss, target):
    assert gradcheck.check_loss(loss, _x((6, 4)), target) < TOL


def test_cross_entropy_hand_values():
    loss = nn.CrossEntropyLoss()
    # equal logits: every class has probability 1/C, the loss is log C
    assert loss.forward(np.zeros((3, 4)), np.array([0, 1, 3])) == pytest.approx(np.log(4), abs=1e-15)
    grad = loss.backward()
    expected = np.full((3, 4), 0.25)
    expected[[0, 1, 2], [0, 1, 3]] -= 1.0
    np.testing.assert_allclose(grad, expected / 3, atol=1e-15)
    # huge logits do not overflow
    assert np.isfinite(loss.forward(np.array([[1000.0, -1000.0]]), np.array([1])))


def test_mse_hand_value():
    loss = nn.MSELoss()
    assert loss.forward(np.array([1.0, 3.0]), np.array([0.0, 0.0])) == pytest.approx(5.0)
    np.testing.assert_allclose(loss.backward(), [1.0, 3.0])


def test_batchnorm_training_output_is_normalized_per_feature():
    bn = nn.BatchNorm1d(5, eps=1e-12)
    x = _x((50, 5)) * 3 + 7
    y = bn.forward(x, "train")
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=0), 1, atol=1e-9)  # biased variance, as the layer uses


def test_batchnorm_running_statistics_are_the_ewma_with_rho_one_minus_momentum():
    bn = nn.BatchNorm1d(5, momentum=0.3)
    batches = [_x((8, 5), seed=s) + s for s in range(4)]
    mean, var = np.zeros(5), np.ones(5)
    for x in batches:
        bn.forward(x, "train")
        mean = 0.7 * mean + 0.3 * x.mean(axis=0)
        var = 0.7 * var + 0.3 * x.var(axis=0, ddof=1)  # unbiased, as torch
    np.testing.assert_allclose(bn.buffers["running_mean"], mean, rtol=1e-14)
    np.testing.assert_allclose(bn.buffers["running_var"], var, rtol=1e-14)


def test_batchnorm_momentum_none_is_the_plain_average():
    bn = nn.BatchNorm1d(5, momentum=None)
    batches = [_x((8, 5), seed=s) * (s + 1) for s in range(5)]
    for x in batches:
        bn.forward(x, "train")
    np.testing.assert_allclose(bn.buffers["running_mean"], np.mean([x.mean(0) for x in batches], axis=0), atol=1e-14)


def test_batchnorm_eval_uses_running_statistics_and_does_not_update_them():
    bn = nn.BatchNorm1d(5)
    bn.forward(_x((10, 5)) + 2, "train")
    before = copy.deepcopy(bn.buffers)
    x = _x((3, 5), seed=9)
    y = bn.forward(x, "eval")
    expected = (x - before["running_mean"]) / np.sqrt(before["running_var"] + bn.eps)
    np.testing.assert_allclose(y, expected, atol=1e-14)
    for key in before:
        np.testing.assert_array_equal(bn.buffers[key], before[key])
    bn.forward(x[:1], "eval")  # a single example is fine in evaluation mode


def test_batchnorm_batch_of_one_in_training_mode_raises():
    with pytest.raises(ValueError, match="more than 1"):
        nn.BatchNorm1d(5).forward(_x((1, 5)), "train")


def test_fuse_batchnorm_gives_identical_eval_outputs():
    rng = np.random.default_rng(0)
    linear, bn = nn.Linear(5, 4, rng=1), nn.BatchNorm1d(4)
    bn.params = {"gamma": rng.uniform(0.5, 2, 4), "beta": rng.standard_normal(4)}
    for s in range(3):  # give the running statistics non-trivial values
        bn.forward(linear.forward(_x((16, 5), seed=s) * 2 + 1, "train"), "train")
    x = _x((7, 5), seed=11)
    expected = bn.forward(linear.forward(x, "eval"), "eval")
    before = copy.deepcopy((linear.params, bn.params, bn.buffers))
    fused = nn.fuse_batchnorm(linear, bn)
    np.testing.assert_allclose(fused.forward(x, "eval"), expected, rtol=1e-12, atol=1e-12)
    for old, new in zip(before, (linear.params, bn.params, bn.buffers)):  # inputs untouched
        for key in old:
            np.testing.assert_array_equal(old[key], new[key])


def _binomial_bound(x, keep, draws):
    """5 standard deviations of the mean of `draws` inverted-dropout outputs x*m/keep."""
    return 5 * np.abs(x) * np.sqrt((1 - keep) / keep / draws)


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_inverted_dropout_is_unbiased(p):
    x = _x((4, 5))
    layer = nn.Dropout(p, rng=0)
    draws = 4000
    mean = np.mean([layer.forward(x, "train") for _ in range(draws)], axis=0)
    assert np.all(np.abs(mean - x) < _binomial_bound(x, 1 - p, draws))
    np.testing.assert_array_equal(layer.forward(x, "eval"), x)
    # each training output is 0 or x / (1 - p)
    y = layer.forward(x, "train")
    assert np.all(np.isclose(y, 0) | np.isclose(y, x / (1 - p)))


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_source_004_dropout_matches_inverted_dropout_in_expectation(p):
    """Keep with probability q = 1 - p, no scaling in training, scale by q at test time."""
    x = _x((4, 5))
    keep = 1 - p
    plain = nn.Dropout(p, rng=1, inverted=False)
    draws = 4000
    mean = np.mean([plain.forward(x, "train") for _ in range(draws)], axis=0)
    test_output = plain.forward(x, "eval")
    np.testing.assert_allclose(test_output, keep * x, rtol=1e-15)
    # E[train output] = test output; the bound is q times the inverted form's
    assert np.all(np.abs(mean - test_output) < keep * _binomial_bound(x, keep, draws))
    # the test-time scaling is the same as scaling the next layer's weights: W_test = q W
    linear = nn.Linear(5, 3, rng=2)
    scaled = copy.deepcopy(linear)
    scaled.params = {**linear.params, "weight": keep * linear.params["weight"]}
    np.testing.assert_allclose(linear.forward(test_output, "eval"), scaled.forward(x, "eval"), atol=1e-14)
    # and the two networks are the same function of x in expectation: inverted dropout's output,
    # times q, is source 004's output
    inverted, fresh_plain = nn.Dropout(p, rng=5), nn.Dropout(p, rng=5, inverted=False)  # same masks
    np.testing.assert_allclose(keep * inverted.forward(x, "train"), fresh_plain.forward(x, "train"), atol=1e-14)


def test_dropout_extremes():
    x = _x()
    np.testing.assert_array_equal(nn.Dropout(0.0, rng=0).forward(x, "train"), x)
    np.testing.assert_array_equal(nn.Dropout(1.0, rng=0).forward(x, "train"), np.zeros_like(x))


def test_dropout_drop_fraction_is_p():
    y = nn.Dropout(0.3, rng=0).forward(np.ones((200, 100)), "train")
    n = y.size
    assert abs(np.mean(y == 0) - 0.3) < 5 * np.sqrt(0.3 * 0.7 / n)


def test_sequential_params_grads_and_names():
    model = nn.mlp([4, 6, 3], rng=0, batchnorm=True, dropout=0.1)
    assert list(model.params) == ["0.weight", "0.bias", "1.gamma", "1.beta", "4.weight", "4.bias"]
    assert model.params["0.weight"].shape == (6, 4)
    x, y = _x((5, 4)), np.array([0, 1, 2, 0, 1])
    loss = nn.CrossEntropyLoss()
    loss.forward(model.forward(x, "train"), y)
    assert model.backward(loss.backward()).shape == x.shape
    model.forward(x, "train")  # a forward pass is differentiated once
    assert model.backward(loss.backward(), input_grad=False) is None
    assert {k: v.shape for k, v in model.grads.items()} == {k: v.shape for k, v in model.params.items()}
    new = {k: v + 1 for k, v in model.params.items()}
    model.params = new
    assert model.params["4.bias"] is new["4.bias"]
    with pytest.raises(ValueError, match="keys"):
        model.params = {"0.weight": new["0.weight"]}


def test_state_dict_is_a_copy_and_restores_buffers():
    model = nn.mlp([4, 6, 3], rng=0, batchnorm=True)
    saved = model.state_dict()
    model.forward(_x((5, 4)), "train")
    model.params = {k: v * 0 for k, v in model.params.items()}
    assert not np.allclose(model.buffers["1.running_mean"], saved["1.running_mean"])
    model.load_state_dict(saved)
    for key, value in saved.items():
        np.testing.assert_array_equal({**model.params, **model.buffers}[key], value)


def test_forward_does_not_mutate_inputs_and_mlp_is_reproducible():
    x = _x((5, 4))
    copy_x = x.copy()
    a, b = (nn.mlp([4, 6, 3], rng=42, batchnorm=True, dropout=0.5) for _ in range(2))
    np.testing.assert_array_equal(a.forward(x, "train"), b.forward(x, "train"))
    np.testing.assert_array_equal(x, copy_x)
    c = nn.mlp([4, 6, 3], rng=43, batchnorm=True, dropout=0.5)
    assert not np.allclose(a.params["0.weight"], c.params["0.weight"])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="mode"):
        nn.ReLU().forward(_x(), "test")
    with pytest.raises(ValueError, match=r"x must have shape \(N, 3\)"):
        nn.Linear(3, 2, rng=0).forward(_x(), "train")
    with pytest.raises(ValueError, match="p must be in"):
        nn.Dropout(1.5, rng=0)
    with pytest.raises(TypeError, match="rng"):
        nn.Dropout(0.5, rng="seed")
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm1d(3, momentum=0.0)
    with pytest.raises(ValueError, match="y must lie"):
        nn.CrossEntropyLoss().forward(_x((2, 3)), np.array([0, 3]))
    with pytest.raises(RuntimeError, match="before forward"):
        nn.Tanh().backward(_x())
    with pytest.raises(ValueError, match="init"):
        nn.Linear(3, 2, rng=0, init="xavier")


# ------------------------------------------------------------------------------------------
# the classes are thin wrappers over course_lib.layers


def test_layers_call_the_pure_functions():
    x, g = _x((6, 5)), _x((6, 4), seed=2)
    linear = nn.Linear(5, 4, rng=0)
    out = linear.forward(x, "train")
    expected, cache = layers.linear_forward(x, linear.params["weight"], linear.params["bias"])
    np.testing.assert_array_equal(out, expected)
    dx = linear.backward(g)
    for ours, theirs in zip((dx, linear.grads["weight"], linear.grads["bias"]), layers.linear_backward(g, cache)):
        np.testing.assert_array_equal(ours, theirs)
    bn = nn.BatchNorm1d(5, eps_mode="std", backward_form="graph")
    out = bn.forward(x, "train")
    expected, mean, var, cache = layers.batchnorm_forward(x, np.ones(5), np.zeros(5), np.zeros(5), np.ones(5),
                                                          eps_mode="std")
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(bn.buffers["running_mean"], mean)
    np.testing.assert_array_equal(bn.buffers["running_var"], var)
    assert int(bn.buffers["num_batches_tracked"]) == 1
    g = _x((6, 5), seed=3)
    dx = bn.backward(g)
    for ours, theirs in zip((dx, bn.grads["gamma"], bn.grads["beta"]), layers.batchnorm_backward_graph(g, cache)):
        np.testing.assert_array_equal(ours, theirs)


def test_batchnorm_backward_forms_agree_in_the_class():
    x, g = _x((9, 5)), _x((9, 5), seed=4)
    closed, graph = nn.BatchNorm1d(5), nn.BatchNorm1d(5, backward_form="graph")
    closed.forward(x, "train"), graph.forward(x, "train")
    np.testing.assert_allclose(closed.backward(g), graph.backward(g), rtol=0, atol=1e-12)


def test_an_evaluation_pass_does_not_disturb_a_pending_training_backward():
    model = nn.mlp([5, 7, 6, 3], rng=0, batchnorm=True, dropout=0.3)
    twin = copy.deepcopy(model)
    x, x_val = _x((8, 5)), _x((4, 5), seed=9)
    g = _x((8, 3), seed=1)
    model.forward(x, "train")
    twin.forward(x, "train")
    twin.forward(x_val, "eval")  # e.g. a validation loss between forward and backward
    np.testing.assert_array_equal(model.backward(g), twin.backward(g))
    for key, grad in model.grads.items():
        np.testing.assert_array_equal(grad, twin.grads[key])
    # the evaluation pass keeps its own cache and can be differentiated explicitly
    twin.forward(x_val, "eval")
    assert twin.backward(np.ones((4, 3)), mode="eval").shape == (4, 5)


def test_a_forward_pass_is_differentiated_once():
    layer = nn.Tanh()
    layer.forward(_x(), "train")
    layer.backward(_x())
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(_x())
    layer.forward(_x(), "eval")
    with pytest.raises(RuntimeError, match="no pending forward pass in mode 'train'"):
        layer.backward(_x(), mode="train")
    layer.backward(_x(), mode="eval")


def test_records_hold_every_layers_input_output_and_gradients():
    model = nn.mlp([5, 7, 6, 3], rng=0, batchnorm=True, dropout=0.3, activation="tanh")
    x = _x((8, 5))
    assert model.records is None
    out = model.forward(x, "train", record=True)
    records = model.records
    assert [r["index"] for r in records] == list(range(len(model.layers)))
    assert all(r["layer"] is layer for r, layer in zip(records, model.layers))
    assert records[0]["input"] is x and records[-1]["output"] is out
    for before, after in zip(records[:-1], records[1:]):
        assert after["input"] is before["output"]
    assert all(r["grad_output"] is None for r in records)
    g = _x((8, 3), seed=1)
    dx = model.backward(g)
    assert records[-1]["grad_output"] is g and records[0]["grad_input"] is dx
    for before, after in zip(records[:-1], records[1:]):
        assert before["grad_output"] is after["grad_input"]
    # each record's gradients are that layer's own: for tanh, grad_input = grad_output (1 - output^2)
    tanh = records[2]
    assert isinstance(tanh["layer"], nn.Tanh)
    np.testing.assert_allclose(tanh["grad_input"], tanh["grad_output"] * (1 - tanh["output"] ** 2), rtol=1e-14)


def test_records_are_not_filled_by_another_pass():
    model = nn.mlp([5, 4, 3], rng=0)
    model.forward(_x((6, 5)), "train", record=True)
    model.forward(_x((6, 5), seed=2), "train")  # a newer, unrecorded training pass
    model.backward(np.ones((6, 3)))
    assert all(r["grad_output"] is None for r in model.records)
    # a recorded training pass keeps its records through an evaluation pass
    model.forward(_x((6, 5)), "train", record=True)
    model.forward(_x((2, 5)), "eval")
    model.backward(np.ones((6, 3)))
    assert all(r["grad_output"] is not None for r in model.records)


def test_params_and_state_are_shape_checked():
    model = nn.mlp([4, 6, 3], rng=0, batchnorm=True)
    with pytest.raises(ValueError, match=r"params\['0.weight'\] must have shape \(6, 4\), got \(4, 6\)"):
        model.params = {**model.params, "0.weight": np.zeros((4, 6))}
    with pytest.raises(TypeError, match=r"params\['0.bias'\] must be a real numpy array"):
        model.params = {**model.params, "0.bias": [0.0] * 6}
    with pytest.raises(ValueError, match="keys"):
        model.params = {**model.params, "9.weight": np.zeros(3)}
    before = model.params["0.weight"]
    with pytest.raises(ValueError):
        model.params = {**{k: v + 1 for k, v in model.params.items()}, "4.bias": np.zeros(2)}
    assert model.params["0.weight"] is before  # nothing assigned when one entry is wrong
    state = model.state_dict()
    with pytest.raises(ValueError, match=r"buffers\['1.running_mean'\] must have shape \(6,\)"):
        model.load_state_dict({**state, "1.running_mean": np.zeros(5)})
    with pytest.raises(ValueError, match="state must have the keys"):
        model.load_state_dict({k: v for k, v in state.items() if k != "1.running_var"})


def test_mlp_options():
    model = nn.mlp([4, 6, 5, 3], rng=0, dropout=[0.1, 0.0], input_dropout=0.2, norm="layer",
                   bias_init="torch_linear_default")
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Dropout", "Linear", "LayerNorm", "ReLU", "Dropout", "Linear", "LayerNorm", "ReLU", "Linear"]
    assert [layer.p for layer in model.layers if isinstance(layer, nn.Dropout)] == [0.2, 0.1]
    bias = model.params["1.bias"]
    assert np.all(np.abs(bias) <= 1 / np.sqrt(4)) and np.any(bias != 0)  # U(+-1/sqrt(fan_in))
    # input dropout, norm and bias_init leave the weights unchanged (the same streams)
    plain = nn.mlp([4, 6, 5, 3], rng=0, dropout=[0.1, 0.0])
    weights = [layer.params["weight"] for layer in model.layers if isinstance(layer, nn.Linear)]
    plain_weights = [layer.params["weight"] for layer in plain.layers if isinstance(layer, nn.Linear)]
    assert len(weights) == len(plain_weights) == 3
    for ours, theirs in zip(weights, plain_weights):
        np.testing.assert_array_equal(ours, theirs)
    assert [type(layer).__name__ for layer in nn.mlp([4, 6, 3], rng=0, batchnorm=True).layers] == \
        ["Linear", "BatchNorm1d", "ReLU", "Linear"]
    with pytest.raises(ValueError, match="dropout must be a float or a list of 2 rates"):
        nn.mlp([4, 6, 5, 3], rng=0, dropout=[0.1])
    with pytest.raises(ValueError, match="batchnorm=True asks for norm='batch'"):
        nn.mlp([4, 6, 3], rng=0, batchnorm=True, norm="layer")
    with pytest.raises(ValueError, match="norm must be None, 'batch' or 'layer'"):
        nn.mlp([4, 6, 3], rng=0, norm="group")


def test_source_004_input_dropout_keeps_inputs_with_probability_0_8():
    model = nn.mlp([50, 8, 2], rng=1, input_dropout=0.2)
    model.forward(np.ones((400, 50)), "train", record=True)
    kept = model.records[0]["output"] != 0
    assert abs(kept.mean() - 0.8) < 5 * np.sqrt(0.8 * 0.2 / kept.size)


def test_linear_init_protocol():
    layer = nn.Linear(4, 3, rng=0, init=init.constant(0.5), bias_init=init.constant(-1.0))
    np.testing.assert_array_equal(layer.params["weight"], np.full((3, 4), 0.5))
    np.testing.assert_array_equal(layer.params["bias"], np.full(3, -1.0))
    with pytest.raises(TypeError, match=r"init=init.constant needs its value first"):
        nn.Linear(4, 3, rng=0, init=init.constant)
    with pytest.raises(ValueError, match=r"init must return an array of shape \(3, 4\), got \(4, 3\)"):
        nn.Linear(4, 3, rng=0, init=lambda shape, rng: np.zeros(shape[::-1]))
    with pytest.raises(ValueError, match="bias_init must be one of"):
        nn.Linear(4, 3, rng=0, bias_init="uniform")


def test_new_layers_bad_arguments():
    with pytest.raises(ValueError, match="eps_mode must be one of"):
        nn.BatchNorm1d(3, eps_mode="outside")
    with pytest.raises(ValueError, match="backward_form must be"):
        nn.BatchNorm1d(3, backward_form="numeric")
    with pytest.raises(ValueError, match="num_groups must divide num_channels = 6"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="x must have 3 features"):
        nn.LayerNorm(3).forward(_x((2, 4)), "train")
    with pytest.raises(ValueError, match="dout must have the shape"):
        layer = nn.Linear(5, 2, rng=0)
        layer.forward(_x((6, 5)), "train")
        layer.backward(np.ones((1, 2)))


def test_cross_entropy_label_smoothing_class():
    logits, y = _x((6, 4)), np.array([0, 2, 1, 3, 3, 0])
    loss = nn.CrossEntropyLoss(label_smoothing=0.1)
    assert loss.forward(logits, y) == layers.softmax_cross_entropy(logits, y, label_smoothing=0.1)[0]
    assert gradcheck.check_loss(nn.CrossEntropyLoss(label_smoothing=0.1), logits, y) < TOL
