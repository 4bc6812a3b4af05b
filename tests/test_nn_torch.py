"""course_lib.nn against torch.nn (torch 2.13 CPU, float64): outputs, gradients, running statistics."""
import numpy as np
import pytest
import torch

from course_lib import nn



def _x(shape=(8, 5), seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _t(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def _ours_and_torch(layer, module, x, mode="train"):
    """Forward both with the same upstream gradient; return (ours_out, torch_out, ours_dx, torch_dx)."""
    upstream = np.random.default_rng(99).standard_normal(layer.forward(x, mode).shape)
    ours = layer.forward(x, mode)
    dx = layer.backward(upstream, mode)
    module.train(mode == "train")
    xt = _t(x, grad=True)
    out = module(xt)
    out.backward(_t(upstream))
    return ours, out.detach().numpy(), dx, xt.grad.numpy()


def test_linear_matches_torch():
    layer = nn.Linear(5, 4, rng=0)
    layer.params = {"weight": _x((4, 5), 1), "bias": _x((4,), 2)}
    module = torch.nn.Linear(5, 4, dtype=torch.float64)
    with torch.no_grad():
        module.weight.copy_(_t(layer.params["weight"]))
        module.bias.copy_(_t(layer.params["bias"]))
    ours, theirs, dx, tdx = _ours_and_torch(layer, module, _x())
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-13)
    np.testing.assert_allclose(dx, tdx, rtol=0, atol=1e-13)
    np.testing.assert_allclose(layer.grads["weight"], module.weight.grad.numpy(), rtol=0, atol=1e-13)
    np.testing.assert_allclose(layer.grads["bias"], module.bias.grad.numpy(), rtol=0, atol=1e-13)


@pytest.mark.parametrize("layer, module", [
    (nn.ReLU(), torch.nn.ReLU()),
    (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    (nn.LeakyReLU(), torch.nn.LeakyReLU()),
    (nn.Tanh(), torch.nn.Tanh()),
    (nn.Sigmoid(), torch.nn.Sigmoid()),
], ids=repr)
def test_activations_match_torch(layer, module):
    x = _x() * 3
    x[0, :3] = 0.0  # the kink: both take derivative 0 (ReLU) or the slope (leaky) at 0
    ours, theirs, dx, tdx = _ours_and_torch(layer, module, x)
    np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(dx, tdx, rtol=1e-13, atol=1e-15)


def _bn_pair(num_features=5, momentum=0.1, eps=1e-5, seed=3):
    rng = np.random.default_rng(seed)
    ours = nn.BatchNorm1d(num_features, eps=eps, momentum=momentum)
    ours.params = {"gamma": rng.uniform(0.5, 2, num_features), "beta": rng.standard_normal(num_features)}
    theirs = torch.nn.BatchNorm1d(num_features, eps=eps, momentum=momentum, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(_t(ours.params["gamma"]))
        theirs.bias.copy_(_t(ours.params["beta"]))
    return ours, theirs


def test_batchnorm_training_mode_matches_torch_to_1e_10():
    ours, theirs = _bn_pair()
    x = _x((16, 5)) * 4 + 2
    out, tout, dx, tdx = _ours_and_torch(ours, theirs, x, "train")
    np.testing.assert_allclose(out, tout, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dx, tdx, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.grads["gamma"], theirs.weight.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.grads["beta"], theirs.bias.grad.numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
def test_batchnorm_running_statistics_follow_torch_step_by_step(momentum):
    ours, theirs = _bn_pair(momentum=momentum)
    theirs.train()
    for step in range(6):
        x = _x((4 + step, 5), seed=step) * (step + 1) + step  # batch sizes 4..9
        ours.forward(x, "train")
        with torch.no_grad():
            theirs(_t(x))
        np.testing.assert_allclose(ours.buffers["running_mean"], theirs.running_mean.numpy(), rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(ours.buffers["running_var"], theirs.running_var.numpy(), rtol=1e-14, atol=1e-15)
        assert int(ours.buffers["num_batches_tracked"]) == int(theirs.num_batches_tracked)


def test_batchnorm_eval_mode_matches_torch():
    ours, theirs = _bn_pair()
    for seed in range(3):
        x = _x((10, 5), seed=seed) + 1
        ours.forward(x, "train")
        with torch.no_grad():
            theirs.train()(_t(x))
    out, tout, dx, tdx = _ours_and_torch(ours, theirs, _x((3, 5), seed=7), "eval")
    np.testing.assert_allclose(out, tout, rtol=0, atol=1e-13)
    np.testing.assert_allclose(dx, tdx, rtol=0, atol=1e-13)
    np.testing.assert_allclose(ours.grads["gamma"], theirs.weight.grad.numpy(), rtol=0, atol=1e-13)


def test_batchnorm_batch_of_one_is_an_error_in_both():
    ours, theirs = _bn_pair()
    x = _x((1, 5))
    with pytest.raises(ValueError):
        theirs.train()(_t(x))
    with pytest.raises(ValueError):
        ours.forward(x, "train")


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_dropout_semantics_and_expectation_match_torch(p):
    """Masks come from different generators; compare what each output can be and its mean."""
    x = np.abs(_x((20, 10))) + 0.5
    ours = nn.Dropout(p, rng=0)
    theirs = torch.nn.Dropout(p).train()
    torch.manual_seed(0)
    draws = 2000
    ours_outs = np.array([ours.forward(x, "train") for _ in range(draws)])
    torch_outs = np.array([theirs(_t(x)).numpy() for _ in range(draws)])
    for outs in (ours_outs, torch_outs):
        assert np.all(np.isclose(outs, 0) | np.isclose(outs, x / (1 - p)))  # 0 or x / (1 - p)
    # both unbiased: |mean - x| within 5 standard deviations of the mean of draws outputs
    bound = 5 * x * np.sqrt(p / (1 - p) / draws)
    assert np.all(np.abs(ours_outs.mean(axis=0) - x) < bound)
    assert np.all(np.abs(torch_outs.mean(axis=0) - x) < bound)
    # the same fraction of zeros, p, within 5 binomial standard deviations
    n = ours_outs.size
    for outs in (ours_outs, torch_outs):
        assert abs(np.mean(outs == 0) - p) < 5 * np.sqrt(p * (1 - p) / n)
    # evaluation: the identity in both
    np.testing.assert_array_equal(ours.forward(x, "eval"), theirs.eval()(_t(x)).numpy())
    # backward: the same mask scaled by 1/(1-p) in both
    y = ours.forward(x, "train")
    np.testing.assert_allclose(ours.backward(np.ones_like(x)), y / x, rtol=1e-14)


def test_losses_match_torch():
    logits, labels = _x((7, 4)), np.array([0, 3, 1, 2, 2, 0, 1])
    ce = nn.CrossEntropyLoss()
    lt = _t(logits, grad=True)
    expected = torch.nn.functional.cross_entropy(lt, torch.tensor(labels))
    expected.backward()
    assert ce.forward(logits, labels) == pytest.approx(expected.item(), rel=1e-14)
    np.testing.assert_allclose(ce.backward(), lt.grad.numpy(), rtol=0, atol=1e-15)

    pred, target = _x((7, 3)), _x((7, 3), seed=1)
    mse = nn.MSELoss()
    pt = _t(pred, grad=True)
    expected = torch.nn.functional.mse_loss(pt, _t(target))
    expected.backward()
    assert mse.forward(pred, target) == pytest.approx(expected.item(), rel=1e-14)
    np.testing.assert_allclose(mse.backward(), pt.grad.numpy(), rtol=0, atol=1e-15)


def torch_copy(model):
    """The torch.nn.Sequential equivalent of a course_lib mlp, with the same parameters and buffers."""
    modules = []
    for layer in model.layers:
        if isinstance(layer, nn.Linear):
            m = torch.nn.Linear(layer.in_features, layer.out_features, dtype=torch.float64)
            with torch.no_grad():
                m.weight.copy_(_t(layer.params["weight"]))
                m.bias.copy_(_t(layer.params["bias"]))
        elif isinstance(layer, nn.BatchNorm1d):
            m = torch.nn.BatchNorm1d(layer.num_features, eps=layer.eps, momentum=layer.momentum, dtype=torch.float64)
            with torch.no_grad():
                m.weight.copy_(_t(layer.params["gamma"]))
                m.bias.copy_(_t(layer.params["beta"]))
                m.running_mean.copy_(_t(layer.buffers["running_mean"]))
                m.running_var.copy_(_t(layer.buffers["running_var"]))
        elif isinstance(layer, nn.LayerNorm):
            m = torch.nn.LayerNorm(layer.num_features, eps=layer.eps, dtype=torch.float64)
            with torch.no_grad():
                m.weight.copy_(_t(layer.params["gamma"]))
                m.bias.copy_(_t(layer.params["beta"]))
        elif isinstance(layer, nn.Dropout):
            m = torch.nn.Dropout(layer.p)
        else:
            m = {nn.ReLU: torch.nn.ReLU, nn.Tanh: torch.nn.Tanh, nn.Sigmoid: torch.nn.Sigmoid}[type(layer)]()
        modules.append(m)
    return torch.nn.Sequential(*modules)


TORCH_NAMES = {"weight": "weight", "bias": "bias", "gamma": "weight", "beta": "bias"}


@pytest.mark.parametrize("norm", ["batch", "layer"])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_whole_network_matches_torch(mode, norm):
    model = nn.mlp([6, 9, 8, 4], rng=0, norm=norm)
    reference = torch_copy(model).train(mode == "train")
    x, y = _x((12, 6)), np.arange(12) % 4
    loss = nn.CrossEntropyLoss()
    value = loss.forward(model.forward(x, mode), y)
    dx = model.backward(loss.backward(), mode=mode)
    xt = _t(x, grad=True)
    expected = torch.nn.functional.cross_entropy(reference(xt), torch.tensor(y))
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-12)
    torch_params = dict(reference.named_parameters())
    for key, grad in model.grads.items():
        index, name = key.split(".")
        np.testing.assert_allclose(grad, torch_params[f"{index}.{TORCH_NAMES[name]}"].grad.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("ours, theirs", [
    (lambda: nn.LayerNorm(6), lambda: torch.nn.LayerNorm(6, dtype=torch.float64)),
    (lambda: nn.GroupNorm(3, 6), lambda: torch.nn.GroupNorm(3, 6, dtype=torch.float64)),
    (lambda: nn.GroupNorm(1, 6, eps=1e-3), lambda: torch.nn.GroupNorm(1, 6, eps=1e-3, dtype=torch.float64)),
], ids=["layernorm", "groupnorm", "groupnorm-1"])
def test_layer_and_group_norm_modules_match_torch(ours, theirs, mode):
    layer, module = ours(), theirs()
    rng = np.random.default_rng(5)
    layer.params = {"gamma": rng.uniform(0.5, 2, 6), "beta": rng.standard_normal(6)}
    with torch.no_grad():
        module.weight.copy_(_t(layer.params["gamma"]))
        module.bias.copy_(_t(layer.params["beta"]))
    out, tout, dx, tdx = _ours_and_torch(layer, module, 2 * _x((7, 6)) + 1, mode)
    np.testing.assert_allclose(out, tout, rtol=0, atol=1e-13)
    np.testing.assert_allclose(dx, tdx, rtol=0, atol=1e-12)
    np.testing.assert_allclose(layer.grads["gamma"], module.weight.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(layer.grads["beta"], module.bias.grad.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("smoothing", [0.05, 0.4])
def test_cross_entropy_label_smoothing_matches_torch(smoothing):
    logits, labels = 2 * _x((9, 5)), np.arange(9) % 5
    ce = nn.CrossEntropyLoss(label_smoothing=smoothing)
    lt = _t(logits, grad=True)
    expected = torch.nn.CrossEntropyLoss(label_smoothing=smoothing)(lt, torch.tensor(labels))
    expected.backward()
    assert ce.forward(logits, labels) == pytest.approx(expected.item(), rel=1e-14)
    np.testing.assert_allclose(ce.backward(), lt.grad.numpy(), rtol=0, atol=1e-15)


def test_torch_linear_default_matches_nn_linear_in_distribution():
    """torch's nn.Linear(300, 200) draws weight and bias from U(+-1/sqrt(300)): a KS test on each."""
    from scipy import stats

    torch.manual_seed(0)
    module = torch.nn.Linear(300, 200, dtype=torch.float64)
    ours = nn.Linear(300, 200, rng=0, init="torch_linear_default", bias_init="torch_linear_default")
    for name, tensor in (("weight", module.weight), ("bias", module.bias)):
        sample, theirs = ours.params[name].ravel(), tensor.detach().numpy().ravel()
        assert stats.ks_2samp(sample, theirs).pvalue > 1e-3, name
        assert stats.kstest(sample, stats.uniform(-1 / np.sqrt(300), 2 / np.sqrt(300)).cdf).pvalue > 1e-3, name
    # power: He's normal initialization (variance 2/300, six times larger) is rejected
    he = nn.Linear(300, 200, rng=0).params["weight"].ravel()
    assert stats.ks_2samp(he, module.weight.detach().numpy().ravel()).pvalue < 1e-6
