"""course_lib.init: fans, the variance of every initializer, agreement with torch.nn.init in distribution.

Statistical tolerances come from the sample size: a sample mean of n draws is within 5 standard
errors of its expectation except with probability ~6e-7, and the seeds are fixed.
"""
import math

import numpy as np
import pytest
import torch
from scipy import stats

from course_lib import init, nn

SHAPES = [(300, 200), (64, 32, 3, 3)]


@pytest.mark.parametrize("shape", [(10, 20), (7, 3), (16, 8, 3, 3), (4, 2, 5), (6, 3, 2, 2, 2)])
def test_fans_match_torch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.compute_fans(shape) == expected


def test_conv_fan_in_is_k_squared_times_input_channels():
    c_out, c_in, k = 16, 3, 5
    assert init.compute_fans((c_out, c_in, k, k)) == (k * k * c_in, k * k * c_out)


def _variance(name, shape):
    fan_in, fan_out = init.compute_fans(shape)
    return {
        "small_normal": 1e-4,
        "lecun_normal": 1 / fan_in,
        "xavier_normal": 2 / (fan_in + fan_out),
        "xavier_uniform": 2 / (fan_in + fan_out),
        "kaiming_normal": 2 / fan_in,
        "kaiming_uniform": 2 / fan_in,
    }[name]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", ["small_normal", "lecun_normal", "xavier_normal", "xavier_uniform",
                                  "kaiming_normal", "kaiming_uniform"])
def test_mean_and_variance(name, shape):
    w = getattr(init, name)(shape, rng=0)
    assert w.shape == shape
    n, var = w.size, _variance(name, shape)
    # E[w] = 0 with standard error sqrt(var / n)
    assert abs(w.mean()) < 5 * math.sqrt(var / n)
    # E[w^2] = var, with standard error sqrt(Var(w^2) / n): Var(w^2) = 2 var^2 (normal), 4/5 var^2 (uniform)
    kurtosis_term = 0.8 if name.endswith("uniform") else 2.0
    assert abs(np.mean(w**2) - var) < 5 * math.sqrt(kurtosis_term / n) * var


@pytest.mark.parametrize("name, bound", [
    ("xavier_uniform", lambda fi, fo: math.sqrt(6 / (fi + fo))),
    ("kaiming_uniform", lambda fi, fo: math.sqrt(6 / fi)),
])
def test_uniform_bounds(name, bound):
    shape = (300, 200)
    w = getattr(init, name)(shape, rng=1)
    b = bound(*init.compute_fans(shape))
    assert np.all(np.abs(w) <= b)
    assert np.abs(w).max() > 0.99 * b  # and the support is all of [-b, b]


def _torch_sample(fn, shape, seed=0, **kwargs):
    torch.manual_seed(seed)
    t = torch.empty(shape, dtype=torch.float64)
    fn(t, **kwargs)
    return t.numpy().ravel()


TORCH_PAIRS = [
    ("xavier_normal", torch.nn.init.xavier_normal_, {}),
    ("xavier_uniform", torch.nn.init.xavier_uniform_, {}),
    ("kaiming_normal", torch.nn.init.kaiming_normal_, {"nonlinearity": "relu"}),
    ("kaiming_uniform", torch.nn.init.kaiming_uniform_, {"nonlinearity": "relu"}),
    ("kaiming_normal", torch.nn.init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"}),
]


@pytest.mark.parametrize("name, torch_fn, kwargs", TORCH_PAIRS, ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.parametrize("shape", SHAPES)
def test_same_distribution_as_torch_nn_init(name, torch_fn, kwargs, shape):
    """Two-sample Kolmogorov-Smirnov test between our draws and torch's (p > 1e-3 at fixed seeds)."""
    ours_kwargs = {"mode": kwargs["mode"]} if "mode" in kwargs else {}
    ours = getattr(init, name)(shape, rng=0, **ours_kwargs).ravel()
    theirs = _torch_sample(torch_fn, shape, **kwargs)
    assert stats.ks_2samp(ours, theirs).pvalue > 1e-3
    # and the test has power: a 10% larger standard deviation is rejected
    assert stats.ks_2samp(1.1 * ours, theirs).pvalue < 1e-3


def test_kaiming_defaults_match_torch_defaults():
    """torch's kaiming_* defaults (a=0, mode='fan_in', leaky_relu) give gain sqrt(2): variance 2/fan_in."""
    shape = (400, 300)
    theirs = _torch_sample(torch.nn.init.kaiming_normal_, shape)
    ours = init.kaiming_normal(shape, rng=0).ravel()
    assert stats.ks_2samp(ours, theirs).pvalue > 1e-3
    assert stats.kstest(ours, stats.norm(scale=math.sqrt(2 / 300)).cdf).pvalue > 1e-3


def test_lecun_normal_is_source_003s_xavier():
    """randn(fan_in, fan_out) / sqrt(fan_in): exact normal with variance 1/fan_in (KS against the cdf)."""
    w = init.lecun_normal((200, 500), rng=3).ravel()
    assert stats.kstest(w, stats.norm(scale=math.sqrt(1 / 500)).cdf).pvalue > 1e-3


def test_reproducible_and_generator_or_seed():
    a = init.xavier_normal((5, 4), rng=7)
    np.testing.assert_array_equal(a, init.xavier_normal((5, 4), rng=np.random.default_rng(7)))
    assert not np.array_equal(a, init.xavier_normal((5, 4), rng=8))
    with pytest.raises(TypeError, match="rng"):
        init.xavier_normal((5, 4), rng=None)
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_normal((5, 4), rng=0, mode="fan_avg")
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.compute_fans((5,))


def test_constant_initialization_keeps_hidden_units_identical():
    """The symmetry problem: with equal weights every hidden unit gets the same gradient forever."""
    model = nn.Sequential(nn.Linear(4, 3, rng=0, init=init.constant(0.3)), nn.Tanh(),
                          nn.Linear(3, 2, rng=0, init=init.constant(0.2)))
    x = np.random.default_rng(0).standard_normal((10, 4))
    y = np.arange(10) % 2
    loss = nn.CrossEntropyLoss()
    for _ in range(20):
        loss.forward(model.forward(x, "train"), y)
        model.backward(loss.backward())
        model.params = {k: v - 0.5 * model.grads[k] for k, v in model.params.items()}
    w = model.params["0.weight"]
    np.testing.assert_allclose(w, np.broadcast_to(w[0], w.shape), atol=1e-15)  # all rows equal
    assert not np.allclose(w, 0.3)  # although they did learn


def test_source_003_activation_statistics():
    """Source 003's experiment (10 tanh layers of 500 units): 0.01 init makes activations vanish,
    1/sqrt(fan_in) keeps them at a usable scale."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1000, 500))
    stds = {}
    for name in ("small_normal", "lecun_normal"):
        h = x
        for layer in range(10):
            w = getattr(init, name)((500, 500), rng=layer)
            h = np.tanh(h @ w.T)
        stds[name] = h.std()
    # each 0.01 layer multiplies the std by about 0.01 * sqrt(500) = 0.22: after 10 layers ~ 3e-7
    assert stds["small_normal"] < 1e-5
    assert stds["lecun_normal"] > 0.1
