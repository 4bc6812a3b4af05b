"""course_lib.landscape: the probe along the gradient, against a direct computation."""
import copy

import numpy as np
import pytest

from course_lib import landscape, nn


def setup():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((20, 5)), rng.integers(0, 3, 20)
    model = nn.Sequential(nn.Linear(5, 3, rng=0))
    return model, x, y


def loss_and_grad(w, b, x, y):
    logits = x @ w.T + b
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(len(y)), y]))
    p[np.arange(len(y)), y] -= 1
    p /= len(y)
    return loss, p.T @ x, p.sum(axis=0)


def test_probe_matches_a_direct_computation_and_leaves_the_model_alone():
    model, x, y = setup()
    w, b = model.params["0.weight"].copy(), model.params["0.bias"].copy()
    etas = np.array([0.1, 1.0, 3.0])
    probe = landscape.probe_along_gradient(model, x, y, etas)
    loss0, gw, gb = loss_and_grad(w, b, x, y)
    assert probe.loss == pytest.approx(loss0)
    assert probe.grad_norm == pytest.approx(np.sqrt(np.sum(gw**2) + np.sum(gb**2)))
    for eta, loss, change in zip(etas, probe.losses, probe.grad_changes):
        l2, gw2, gb2 = loss_and_grad(w - eta * gw, b - eta * gb, x, y)
        assert loss == pytest.approx(l2)
        assert change == pytest.approx(np.sqrt(np.sum((gw2 - gw) ** 2) + np.sum((gb2 - gb) ** 2)))
    assert probe.beta_smoothness == pytest.approx(np.max(probe.grad_changes / (etas * probe.grad_norm)))
    assert np.array_equal(model.params["0.weight"], w) and np.array_equal(model.params["0.bias"], b)


def test_probe_does_not_touch_running_statistics():
    model = nn.mlp([5, 4, 3], rng=0, batchnorm=True)
    _, x, y = setup()
    before = copy.deepcopy(model.state_dict())
    landscape.probe_along_gradient(model, x, y, [0.5])
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())


def test_probe_rejects_bad_input():
    model, x, y = setup()
    with pytest.raises(ValueError, match="etas must be"):
        landscape.probe_along_gradient(model, x, y, [0.0, 1.0])
    with pytest.raises(TypeError, match="model must be"):
        landscape.probe_along_gradient(nn.Linear(5, 3, rng=0), x, y, [1.0])
