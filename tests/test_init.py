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


# ------------------------------------------------------------------------------------------
# gains, the protocol, orthogonal and torch's nn.Linear default

@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None), ("conv_transpose1d", None),
    ("conv_transpose2d", None), ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0), ("leaky_relu", 1.0), ("selu", None),
])
def test_calculate_gain_is_torchs(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


def test_calculate_gain_values_and_errors():
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("leaky_relu", 0.0) == init.calculate_gain("relu")
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="nonlinearity must be one of"):
        init.calculate_gain("gelu")
    with pytest.raises(TypeError, match="param must be a real number"):
        init.calculate_gain("leaky_relu", "0.1")


@pytest.mark.parametrize("nonlinearity, a", [("tanh", 0.0), ("leaky_relu", 0.3), ("linear", 0.0)])
def test_kaiming_nonlinearity_matches_torch(nonlinearity, a):
    shape = (400, 300)
    theirs = _torch_sample(torch.nn.init.kaiming_normal_, shape, a=a, nonlinearity=nonlinearity)
    ours = init.kaiming_normal(shape, rng=0, a=a, nonlinearity=nonlinearity).ravel()
    assert stats.ks_2samp(ours, theirs).pvalue > 1e-3
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(300)
    assert stats.kstest(ours, stats.norm(scale=std).cdf).pvalue > 1e-3


@pytest.mark.parametrize("shape", [(50, 50), (30, 80), (80, 30), (16, 4, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal_rows_or_columns_are_orthonormal_times_the_gain(shape, gain):
    w = init.orthogonal(shape, rng=0, gain=gain)
    assert w.shape == shape
    m = w.reshape(shape[0], -1)
    small = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    np.testing.assert_allclose(small, gain**2 * np.eye(min(m.shape)), rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.svd(m, compute_uv=False), gain, rtol=1e-12)


def test_orthogonal_matches_torch_in_distribution():
    """Both are Haar-distributed: the entries of many draws have the same law (KS), the diagonal
    too (numpy's Q without the sign fix has a diagonal of mean about -0.13 here, which is caught)."""
    ours = np.stack([init.orthogonal((20, 20), rng=s) for s in range(200)])
    torch.manual_seed(0)
    theirs = np.stack([torch.nn.init.orthogonal_(torch.empty(20, 20, dtype=torch.float64)).numpy()
                       for _ in range(200)])
    assert stats.ks_2samp(ours.ravel(), theirs.ravel()).pvalue > 1e-3
    diag_ours, diag_theirs = np.einsum("sii->si", ours).ravel(), np.einsum("sii->si", theirs).ravel()
    assert stats.ks_2samp(diag_ours, diag_theirs).pvalue > 1e-3
    assert abs(diag_ours.mean()) < 5 * diag_ours.std() / math.sqrt(diag_ours.size)  # unbiased diagonal
    unfixed = np.stack([np.linalg.qr(np.random.default_rng(s).standard_normal((20, 20)))[0] for s in range(200)])
    assert stats.ks_2samp(np.einsum("sii->si", unfixed).ravel(), diag_theirs).pvalue < 1e-6
    assert stats.ks_2samp(2 * ours.ravel(), theirs.ravel()).pvalue < 1e-6  # and a doubled gain


def test_torch_linear_default_variance_is_one_third_over_fan_in():
    w = init.torch_linear_default((400, 300), rng=0)
    assert np.all(np.abs(w) <= 1 / math.sqrt(300))
    var = 1 / (3 * 300)  # not He's 2/300
    assert abs(np.mean(w**2) - var) < 5 * math.sqrt(0.8 / w.size) * var
    b = init.torch_linear_default((400,), rng=0, fan_in=300)
    assert np.all(np.abs(b) <= 1 / math.sqrt(300)) and np.abs(b).max() > 0.95 / math.sqrt(300)
    with pytest.raises(ValueError, match="has no fan-in: pass fan_in"):
        init.torch_linear_default((400,), rng=0)
    # torch writes the same rule as kaiming_uniform with a = sqrt(5)
    np.testing.assert_allclose(init.kaiming_uniform((40, 30), rng=3, a=math.sqrt(5)),
                               init.torch_linear_default((40, 30), rng=3), rtol=1e-14)


def test_every_initializer_has_the_signature_init_shape_rng():
    for name, fn in init.INITIALIZERS.items():
        a = fn((6, 4), np.random.default_rng(1))
        assert a.shape == (6, 4) and a.dtype == np.float64, name
        np.testing.assert_array_equal(a, fn((6, 4), 1), err_msg=name)  # a seed is the same Generator
        if name not in ("zeros", "ones"):
            with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
                fn((6, 4), "seed")
    fill = init.constant(0.3)
    np.testing.assert_array_equal(fill((2, 3), 0), np.full((2, 3), 0.3))
    np.testing.assert_array_equal(init.ones((2,)), np.ones(2))
    with pytest.raises(TypeError, match="rng must be"):
        init.zeros((2, 2), rng="x")
    with pytest.raises(TypeError, match="value must be a real number"):
        init.constant((3, 4))


def test_get_resolves_names_and_rejects_the_wrong_things():
    assert init.get("orthogonal") is init.orthogonal
    assert init.get(init.xavier_normal) is init.xavier_normal
    with pytest.raises(ValueError, match="bias_init must be one of"):
        init.get("xavier", "bias_init")
    with pytest.raises(TypeError, match=r"init=init.constant needs its value first, e.g. init=init.constant\(0.3\)"):
        init.get(init.constant)
    with pytest.raises(TypeError, match="init must be a name or a callable"):
        init.get(3)
