r"""Layers as pure forward/backward pairs, in the style of the cs231n assignments.

Every layer is two functions::

    out, cache = f_forward(x, ...)        # the output, and what the backward pass needs
    dx, ... = f_backward(dout, cache)     # dout = dL/d(out), same shape as out

Nothing is hidden: a function reads only its arguments, never modifies them, and returns new
arrays, so a checker can test a student's layer as a function and the classes of
:mod:`course_lib.nn` are thin wrappers that hold parameters and call these.

Shapes are batch first, as in torch: ``x`` is ``(N, D)``, N examples of D features, and a dense
weight is ``(M, D)`` (out_features, in_features). The caches are named tuples, so their fields read
as the quantities of the formulas (``cache.x_hat``, ``cache.inv_std``).

Every backward pass is compared with centred differences in float64 (:mod:`course_lib.gradcheck`)
and every forward and backward pass with torch in the tests. Inputs are checked: a ``dout`` whose
shape is not the output's, a non-numeric or complex array, or a feature count that does not match
raises a ``ValueError``/``TypeError`` that names the argument.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from course_lib import _validate
from course_lib.ewma import ewma_update

__all__ = [
    "linear_forward", "linear_backward",
    "relu_forward", "relu_backward",
    "leaky_relu_forward", "leaky_relu_backward",
    "tanh_forward", "tanh_backward",
    "sigmoid_forward", "sigmoid_backward",
    "dropout_forward", "dropout_backward",
    "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_graph",
    "layernorm_forward", "layernorm_backward",
    "groupnorm_forward", "groupnorm_backward",
    "softmax", "softmax_cross_entropy", "mse",
    "EPS_MODES",
]


# ---------------------------------------------------------------------------------------------
# Input checks (cheap: they run on every call of the training loop)

def _real(name, value, ndim=None):
    """``value`` as a real numeric array (floats kept as they are, ints and bools made float64)."""
    if type(value) is np.ndarray and value.dtype.kind == "f" and (ndim is None or value.ndim == ndim):
        return value  # the common case, checked quickly
    if not isinstance(value, np.ndarray):
        if value is None or isinstance(value, (str, bytes, dict, set)):
            raise TypeError(f"{name} must be a numpy array of numbers, got {type(value).__name__}")
        value = np.asarray(value)
    kind = value.dtype.kind
    if kind != "f":
        if kind == "c":
            raise TypeError(f"{name} must be real, got complex dtype {value.dtype}")
        if kind not in "iub":
            raise TypeError(f"{name} must be a numeric array, got dtype {value.dtype}")
        value = value.astype(np.float64)
    if ndim is not None and value.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-d array, got shape {value.shape}")
    return value


def _features(name, value, count, what):
    """A 1-d parameter (beta, a bias, running statistics) with ``count`` entries, one per ``what``."""
    if type(value) is np.ndarray and value.shape == (count,) and value.dtype.kind == "f":
        return value
    value = _real(name, value)
    if value.shape != (count,):
        raise ValueError(f"{name} must have shape ({count},), one entry per {what}, got {value.shape}")
    return value


def _normalized(x, gamma, axis, what):
    """Check that x has ``len(gamma)`` entries along ``axis`` (the features or channels gamma scales)."""
    gamma = _real("gamma", gamma, ndim=1)
    if x.ndim < (1 if axis == -1 else 2) or x.shape[axis] != gamma.shape[0]:
        raise ValueError(f"x must have {gamma.shape[0]} {what} (gamma has shape {gamma.shape}) along axis "
                         f"{axis}, got x of shape {x.shape}")
    return gamma


def _dout(dout, shape):
    if type(dout) is np.ndarray and dout.shape == shape and dout.dtype.kind == "f":
        return dout
    dout = _real("dout", dout)
    if dout.shape != shape:
        raise ValueError(f"dout must have the shape of the forward output {shape}, got {dout.shape}")
    return dout


def _probability(name, value):
    if type(value) is float and 0.0 <= value <= 1.0:  # the common case, checked quickly
        return value
    return _validate.real(name, value, low=0.0, high=1.0)


def _eps(value):
    if type(value) is float and 0.0 <= value < float("inf"):
        return value
    return _validate.real("eps", value, low=0.0)


def _flag(name, value):
    if value is True or value is False:
        return value
    return _validate.boolean(name, value)


def _array_cache(cache):
    """An activation's cache is an array (its output or its local derivative): return its shape."""
    if type(cache) is not np.ndarray:
        raise TypeError(f"cache must be the array returned by the forward pass, got {type(cache).__name__}")
    return cache.shape


def _cache(cache, kind, name="cache"):
    if not isinstance(cache, kind):
        raise TypeError(f"{name} must be the cache returned by the forward pass ({kind.__name__}), "
                        f"got {type(cache).__name__}")
    return cache


# ---------------------------------------------------------------------------------------------
# Linear

class LinearCache(NamedTuple):
    x: np.ndarray
    w: np.ndarray
    has_bias: bool


def linear_forward(x, w, b=None):
    r"""Fully connected layer :math:`y = x W^\top + b` (torch's layout).

    x ``(N, D)``, w ``(M, D)``, b ``(M,)`` or None -> out ``(N, M)``.
    """
    x = _real("x", x, ndim=2)
    w = _real("w", w, ndim=2)
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"x must have shape (N, {w.shape[1]}) to match w of shape {w.shape}, got {x.shape}")
    out = x @ w.T
    if b is not None:
        out += _features("b", b, w.shape[0], "output feature (row of w)")
    return out, LinearCache(x, w, b is not None)


def linear_backward(dout, cache, *, input_grad=True):
    r"""Backward pass of :func:`linear_forward`, with :math:`G = \partial L/\partial y` ``(N, M)``:

    .. math:: \frac{\partial L}{\partial x} = G W,\quad \frac{\partial L}{\partial W} = G^\top x,\quad
              \frac{\partial L}{\partial b} = \sum_n G_n .

    Returns ``(dx, dw, db)``: dx ``(N, D)`` (None with ``input_grad=False``, which saves a matrix
    product where nobody needs it, as for the data), dw ``(M, D)``, db ``(M,)`` (None without bias).
    """
    x, w, has_bias = _cache(cache, LinearCache)
    dout = _dout(dout, (x.shape[0], w.shape[0]))
    dw = dout.T @ x
    db = dout.sum(axis=0) if has_bias else None
    dx = dout @ w if input_grad else None
    return dx, dw, db


# ---------------------------------------------------------------------------------------------
# Activations (any shape). Each cache holds what the derivative needs.

def relu_forward(x):
    r""":math:`y = \max(0, x)`. Any shape. The cache is y."""
    y = np.maximum(_real("x", x), 0.0)
    return y, y


def relu_backward(dout, cache):
    r""":math:`\partial L/\partial x = G \odot [x > 0]` (0 at x = 0, as torch)."""
    return _dout(dout, _array_cache(cache)) * (cache > 0)


def leaky_relu_forward(x, negative_slope=0.01):
    r""":math:`y = x` for :math:`x > 0`, :math:`y = a x` otherwise (a = ``negative_slope``, torch's default 0.01).

    The cache is the local derivative :math:`\partial y/\partial x` (1 or a), of x's shape.
    """
    x = _real("x", x)
    slope = np.where(x > 0, 1.0, _validate.real("negative_slope", negative_slope)).astype(x.dtype, copy=False)
    return x * slope, slope


def leaky_relu_backward(dout, cache):
    r""":math:`\partial L/\partial x = G \odot (1 \text{ if } x > 0 \text{ else } a)`."""
    return _dout(dout, _array_cache(cache)) * cache


def tanh_forward(x):
    r""":math:`y = \tanh x`. Any shape. The cache is y."""
    y = np.tanh(_real("x", x))
    return y, y


def tanh_backward(dout, cache):
    r""":math:`\partial L/\partial x = G \odot (1 - y^2)`."""
    return _dout(dout, _array_cache(cache)) * (1.0 - cache**2)


def sigmoid_forward(x):
    r""":math:`y = \sigma(x) = 1/(1+e^{-x})`, computed as :math:`(1+\tanh(x/2))/2`, which never overflows.
    Any shape. The cache is y."""
    y = 0.5 * (1.0 + np.tanh(0.5 * _real("x", x)))
    return y, y


def sigmoid_backward(dout, cache):
    r""":math:`\partial L/\partial x = G \odot y(1-y)`."""
    return _dout(dout, _array_cache(cache)) * cache * (1.0 - cache)


# ---------------------------------------------------------------------------------------------
# Dropout

class DropoutCache(NamedTuple):
    mask: np.ndarray | None  # the kept entries (bool, x's shape), None in evaluation
    scale: np.ndarray | float  # dy/dx: mask / q or mask in training, 1 or q in evaluation
    p: float
    inverted: bool
    training: bool


def dropout_forward(x, p, *, rng, training=True, inverted=True):
    r"""Dropout; ``p`` is the probability of *dropping* an entry (torch's convention). Any shape.

    In training, the mask :math:`m_i \sim \text{Bernoulli}(q)`, :math:`q = 1-p`, is drawn from ``rng``
    (a Generator, or a seed for a one-off mask) and returned in the cache (``cache.mask``):

    - ``inverted=True`` (torch, Keras): training :math:`y = x \odot m / q`, evaluation :math:`y = x`;
    - ``inverted=False`` (source 004's keep-probability form): training :math:`y = x \odot m`,
      evaluation :math:`y = q\,x` (the same as scaling the next layer's weights by q).

    Either way the expected training output equals the evaluation output. Source 004's ":math:`p`"
    is the probability of *keeping* a unit, ``1 - p`` here.
    """
    x = _real("x", x)
    p = _probability("p", p)
    keep = 1.0 - p
    if not _flag("training", training):
        scale = 1.0 if _flag("inverted", inverted) else keep
        return x * scale, DropoutCache(None, scale, p, inverted, False)
    rng = _validate.rng("rng", rng)
    mask = rng.random(x.shape, dtype=np.float32) < keep
    scale = mask.astype(x.dtype)
    if _flag("inverted", inverted):
        scale *= (1.0 / keep) if keep > 0 else 0.0
    return x * scale, DropoutCache(mask, scale, p, inverted, True)


def dropout_backward(dout, cache):
    r""":math:`\partial L/\partial x = G \odot m/q` (inverted) or :math:`G \odot m` in training;
    :math:`G` (inverted) or :math:`q\,G` in evaluation."""
    cache = _cache(cache, DropoutCache)
    if cache.training:
        dout = _dout(dout, cache.mask.shape)
    else:
        dout = _real("dout", dout)
    return dout * cache.scale


# ---------------------------------------------------------------------------------------------
# Batch normalization

#: Where the sources put batch norm's epsilon: inside the root (torch, sources 000/003), after
#: the standard deviation (source 002), nowhere (source 004).
EPS_MODES = ("inside", "std", "none")


class BatchNormCache(NamedTuple):
    x_hat: np.ndarray  # normalized input, (N, D)
    inv_std: np.ndarray  # 1 / denominator, (D,)
    gamma: np.ndarray
    x: np.ndarray
    mean: np.ndarray  # the statistics used: the batch's in training, the running ones in evaluation
    var: np.ndarray  # biased
    eps: float
    eps_mode: str
    training: bool


def _denominator(var, eps, eps_mode):
    if eps_mode == "inside":
        return np.sqrt(var + eps)
    if eps_mode == "std":
        return np.sqrt(var) + eps
    if np.any(var == 0):  # eps_mode "none"
        raise ValueError("eps_mode='none' divides by the standard deviation, which is 0 for a constant "
                         "feature; use eps_mode='inside'")
    return np.sqrt(var)


def batchnorm_forward(x, gamma, beta, running_mean, running_var, *, momentum=0.1, eps=1e-5,
                      training=True, eps_mode="inside", num_batches_tracked=0):
    r"""Batch normalization of each feature of x ``(N, D)`` (torch ``nn.BatchNorm1d``).

    Training, with the batch mean and the *biased* batch variance of feature j:

    .. math::

        \mu_j = \frac1N \sum_n x_{nj},\quad \sigma_j^2 = \frac1N \sum_n (x_{nj}-\mu_j)^2,\quad
        \hat x_{nj} = \frac{x_{nj}-\mu_j}{d_j},\quad y_{nj} = \gamma_j \hat x_{nj} + \beta_j,

    with the denominator :math:`d_j` chosen by ``eps_mode``: ``"inside"``
    :math:`\sqrt{\sigma_j^2+\varepsilon}` (torch, sources 000/003), ``"std"``
    :math:`\sigma_j + \varepsilon` (source 002), ``"none"`` :math:`\sigma_j` (source 004).

    Running statistics (gamma, beta, running_mean, running_var all ``(D,)``), torch's convention:
    :math:`\bar\mu \leftarrow (1-m)\bar\mu + m\mu`, :math:`\bar\sigma^2 \leftarrow (1-m)\bar\sigma^2 +
    m\,\tfrac{N}{N-1}\sigma^2` (the *unbiased* variance is stored, the biased one normalizes), an EWMA
    with :math:`\rho = 1-m`. ``momentum=None`` is the cumulative average, :math:`m = 1/t` with
    :math:`t` = ``num_batches_tracked + 1`` (the batches averaged so far, this one included).
    Evaluation (``training=False``) normalizes with the running statistics and leaves them as they are.

    Returns ``(out, new_running_mean, new_running_var, cache)``; out ``(N, D)``. A training batch of
    one example has nothing to normalize with: ``ValueError``, as in torch.
    """
    x = _real("x", x, ndim=2)
    gamma = _normalized(x, gamma, 1, "features")
    d, what = x.shape[1], "feature"
    beta = _features("beta", beta, d, what)
    running_mean = _features("running_mean", running_mean, d, what)
    running_var = _features("running_var", running_var, d, what)
    eps = _eps(eps)
    if eps_mode not in EPS_MODES:
        raise ValueError(f"eps_mode must be one of {EPS_MODES}, got {eps_mode!r}")
    if _flag("training", training):
        n = x.shape[0]
        if n < 2:
            raise ValueError(f"batch norm in training mode needs more than 1 example per batch, got x of shape {x.shape}")
        if momentum is None:
            momentum = 1.0 / (_validate.integer("num_batches_tracked", num_batches_tracked, low=0) + 1)
        else:
            momentum = _probability("momentum", momentum)
        mean = x.sum(axis=0) / n
        centred = x - mean
        var = np.einsum("nj,nj->j", centred, centred) / n
        rho = 1.0 - momentum  # the EWMA decay of source 001
        running_mean = ewma_update(running_mean, mean, rho)
        running_var = ewma_update(running_var, var * (n / (n - 1)), rho)
    else:
        mean, var = running_mean, running_var
        centred = x - mean
    inv_std = 1.0 / _denominator(var, eps, eps_mode)
    x_hat = np.multiply(centred, inv_std, out=centred)  # in place: centred is our own array
    out = x_hat * gamma
    out += beta
    return out, running_mean, running_var, BatchNormCache(x_hat, inv_std, gamma, x, mean, var, eps, eps_mode, training)


def batchnorm_backward(dout, cache):
    r"""Backward pass of :func:`batchnorm_forward`, compact closed form.

    With :math:`G = \partial L/\partial y` ``(N, D)``: :math:`\partial L/\partial\beta_j = \sum_n G_{nj}`,
    :math:`\partial L/\partial\gamma_j = \sum_n G_{nj}\hat x_{nj}`, and in training

    .. math::

        \frac{\partial L}{\partial x_{nj}} = \frac{\gamma_j}{d_j}\Big(G_{nj} - \frac1N\big(
        \partial_{\beta_j} L + r_j\,\hat x_{nj}\,\partial_{\gamma_j} L\big)\Big),

    where :math:`r_j = 1` when :math:`d_j` is a function of :math:`\sigma_j^2` alone through
    :math:`\sqrt{\sigma_j^2+\varepsilon}` or :math:`\sigma_j` (eps_mode ``"inside"``, ``"none"``), and
    :math:`r_j = d_j/\sigma_j = 1 + \varepsilon/\sigma_j` for :math:`d_j = \sigma_j + \varepsilon`
    (``"std"``). In evaluation the statistics are constants: :math:`\partial L/\partial x = G\,\gamma/d`.
    Returns ``(dx, dgamma, dbeta)``: ``(N, D)``, ``(D,)``, ``(D,)``.
    """
    x_hat, inv_std, gamma, _, _, var, eps, eps_mode, training = _cache(cache, BatchNormCache)
    dout = _dout(dout, x_hat.shape)
    dgamma = np.einsum("nj,nj->j", dout, x_hat)
    dbeta = dout.sum(axis=0)
    scale = gamma * inv_std
    if not training:
        return dout * scale, dgamma, dbeta
    n = dout.shape[0]
    if eps_mode == "std":
        sigma = np.sqrt(var)
        # where sigma = 0 the feature is constant, x_hat = 0 and the term vanishes
        ratio = np.divide(sigma + eps, sigma, out=np.ones_like(sigma), where=sigma > 0)
        correction = x_hat * (ratio * dgamma)
    else:
        correction = x_hat * dgamma
    # (dout - (dbeta + x_hat dgamma) / n) * scale, with two temporaries instead of five
    correction += dbeta
    correction /= n
    dx = np.subtract(dout, correction, out=correction)
    dx *= scale
    return dx, dgamma, dbeta


def batchnorm_backward_graph(dout, cache):
    r"""Backward pass of :func:`batchnorm_forward`, node by node through the computation graph.

    cs231n's staged backward pass, written through :math:`\sigma` rather than :math:`\sigma^2` so that one
    graph serves every ``eps_mode`` (rows are examples, ``(N, D)``): the forward pass is the chain

    .. math::

        \mu = \tfrac1N\textstyle\sum_n x_n,\quad c = x - \mu,\quad \sigma = \sqrt{\tfrac1N\textstyle\sum_n c_n^2},
        \quad d = d(\sigma),\quad \hat x = c/d,\quad y = \gamma\hat x + \beta,

    and the backward pass walks it in reverse, one local derivative per node:
    :math:`\partial\hat x_k/\partial c_k = 1/d`, :math:`\partial\hat x_k/\partial d = -c_k/d^2`,
    :math:`d'(\sigma)` = :math:`\sigma/\sqrt{\sigma^2+\varepsilon}` (``"inside"``) or 1 (``"std"``,
    ``"none"``), :math:`\partial\sigma/\partial x_n = c_n/(N\sigma)` and :math:`\partial\mu/\partial x_n = 1/N`
    (source 002's two "small parts"). The result equals :func:`batchnorm_backward` to rounding
    (tests: 1e-12). Source 002's final formula writes :math:`\sigma` where the exact gradient of its
    own forward pass has :math:`\sigma + \varepsilon` (errata, err-002-bn-eps-backward).
    """
    x_hat, inv_std, gamma, x, mean, var, eps, eps_mode, training = _cache(cache, BatchNormCache)
    dout = _dout(dout, x_hat.shape)
    dbeta = dout.sum(axis=0)                                # y = gamma x_hat + beta
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    d = 1.0 / inv_std
    if not training:                                        # mu and d are constants
        return dx_hat / d, dgamma, dbeta
    n = x.shape[0]
    c = x - mean
    dc = dx_hat / d                                         # x_hat = c / d, through c ...
    dd = -(dx_hat * c).sum(axis=0) / d**2                   # ... and through d
    sigma = np.sqrt(var)
    dsigma = dd * (sigma / d if eps_mode == "inside" else 1.0)   # d = d(sigma)
    # sigma = sqrt(mean(c^2)): d sigma / d x_n = c_n / (N sigma) (its path through mu sums to 0);
    # where sigma = 0 the feature is constant, c = 0 and the path contributes nothing
    dsigma_dx = np.divide(c, n * sigma, out=np.zeros_like(c), where=sigma > 0)
    dx = dc - dc.sum(axis=0) / n                            # c = x - mu, d mu / d x_n = 1/N
    dx += dsigma * dsigma_dx
    return dx, dgamma, dbeta


# ---------------------------------------------------------------------------------------------
# Layer and group normalization: the same standardization, over other axes

class NormCache(NamedTuple):
    x_hat: np.ndarray  # normalized input, x's shape
    inv_std: np.ndarray  # 1 / sqrt(var + eps), one per normalized group, broadcastable
    gamma: np.ndarray  # broadcastable to x
    num_groups: int  # 0 for layer norm


def _standardize(x, axis, eps):
    """(x - mean) / sqrt(var + eps) over ``axis`` (biased variance), and 1 / sqrt(var + eps)."""
    centred = x - x.mean(axis=axis, keepdims=True)
    inv_std = 1.0 / np.sqrt((centred**2).mean(axis=axis, keepdims=True) + eps)
    return centred * inv_std, inv_std


def _standardize_backward(dx_hat, x_hat, inv_std, axis):
    r""":math:`\partial L/\partial x = \frac1d\big(g - \bar g - \hat x\,\overline{g\hat x}\big)`, bars = means over ``axis``."""
    return inv_std * (dx_hat - dx_hat.mean(axis=axis, keepdims=True)
                      - x_hat * (dx_hat * x_hat).mean(axis=axis, keepdims=True))


def layernorm_forward(x, gamma, beta, *, eps=1e-5):
    r"""Layer normalization (Ba et al. 2016; torch ``nn.LayerNorm(D)``): each example over its own D features.

    .. math:: \hat x_{nj} = \frac{x_{nj} - \mu_n}{\sqrt{\sigma_n^2 + \varepsilon}},\quad
              y_{nj} = \gamma_j \hat x_{nj} + \beta_j,

    :math:`\mu_n`, :math:`\sigma_n^2` the mean and biased variance of row n. x ``(..., D)`` (usually
    ``(N, D)``), gamma and beta ``(D,)``. No running statistics: training and evaluation agree, and a
    batch of one example is fine. Returns ``(out, cache)``.
    """
    x = _real("x", x)
    gamma = _normalized(x, gamma, -1, "features")
    beta = _features("beta", beta, x.shape[-1], "feature")
    eps = _eps(eps)
    x_hat, inv_std = _standardize(x, -1, eps)
    return x_hat * gamma + beta, NormCache(x_hat, inv_std, gamma, 0)


def layernorm_backward(dout, cache):
    r"""Backward pass of :func:`layernorm_forward`: with :math:`g = G \odot \gamma`,
    :math:`\partial L/\partial x_n = \frac{1}{\sqrt{\sigma_n^2+\varepsilon}}\big(g_n - \bar g_n - \hat x_n \overline{(g \hat x)}_n\big)`
    (bars: means over the features of row n), :math:`\partial L/\partial\gamma_j = \sum_n G_{nj}\hat x_{nj}`,
    :math:`\partial L/\partial\beta_j = \sum_n G_{nj}`. Returns ``(dx, dgamma, dbeta)``."""
    x_hat, inv_std, gamma, _ = _cache(cache, NormCache)
    dout = _dout(dout, x_hat.shape)
    batch_axes = tuple(range(x_hat.ndim - 1))
    dx = _standardize_backward(dout * gamma, x_hat, inv_std, -1)
    return dx, (dout * x_hat).sum(axis=batch_axes), dout.sum(axis=batch_axes)


def _per_channel(values, ndim):
    """A (C,) vector shaped to broadcast over (N, C, *spatial)."""
    return values.reshape((1, -1) + (1,) * (ndim - 2))


def groupnorm_forward(x, gamma, beta, num_groups, *, eps=1e-5):
    r"""Group normalization (Wu & He 2018; torch ``nn.GroupNorm(num_groups, C)``).

    x ``(N, C)`` or ``(N, C, *spatial)``; the C channels are split into ``num_groups`` groups of
    C/G consecutive channels, and each example is standardized over each group (its channels and
    spatial positions), with biased variance and ε inside the root; then a per-channel affine map
    with gamma, beta ``(C,)``. G = 1 is layer norm over everything but the batch; G = C is
    instance norm. Returns ``(out, cache)``.
    """
    x = _real("x", x)
    gamma = _normalized(x, gamma, 1, "channels")
    n, c = x.shape[:2]
    beta = _features("beta", beta, c, "channel")
    num_groups = _validate.integer("num_groups", num_groups, low=1)
    if c % num_groups:
        raise ValueError(f"num_groups must divide the number of channels x.shape[1] = {c}, got {num_groups}")
    eps = _eps(eps)
    x_hat, inv_std = _standardize(x.reshape(n, num_groups, -1), -1, eps)
    x_hat = x_hat.reshape(x.shape)
    gamma = _per_channel(gamma, x.ndim)
    return x_hat * gamma + _per_channel(beta, x.ndim), NormCache(x_hat, inv_std, gamma, num_groups)


def groupnorm_backward(dout, cache):
    r"""Backward pass of :func:`groupnorm_forward`: the standardization's gradient (as in
    :func:`layernorm_backward`) within each group, :math:`\partial L/\partial\gamma_c = \sum G\hat x` and
    :math:`\partial L/\partial\beta_c = \sum G` over the batch and the spatial positions.
    Returns ``(dx, dgamma, dbeta)``."""
    x_hat, inv_std, gamma, num_groups = _cache(cache, NormCache)
    dout = _dout(dout, x_hat.shape)
    n = x_hat.shape[0]
    grouped = (n, num_groups, -1)
    dx = _standardize_backward((dout * gamma).reshape(grouped), x_hat.reshape(grouped), inv_std, -1)
    other_axes = (0,) + tuple(range(2, x_hat.ndim))
    return dx.reshape(x_hat.shape), (dout * x_hat).sum(axis=other_axes), dout.sum(axis=other_axes)


# ---------------------------------------------------------------------------------------------
# Losses: each returns the loss and its gradient at once

def softmax(logits):
    r"""Row-wise softmax of logits ``(N, C)``: :math:`e^{z_c - \max z}/\sum_k e^{z_k - \max z}`."""
    logits = _real("logits", logits)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def _labels(y, logits):
    y = np.asarray(y)
    n, c = logits.shape
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be integer labels of shape ({n},), got {y.dtype} {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= c):
        raise ValueError(f"y must lie in [0, {c - 1}], got labels from {y.min()} to {y.max()}")
    return y


def softmax_cross_entropy(logits, y, *, label_smoothing=0.0):
    r"""Softmax cross-entropy averaged over the batch (torch ``F.cross_entropy``), and its gradient.

    logits ``(N, C)``, integer labels y ``(N,)`` in ``[0, C)``. With label smoothing ε the target of
    example n is :math:`q_n = (1-\varepsilon)\,\text{onehot}(y_n) + \varepsilon/C` (torch's rule), and

    .. math:: L = -\frac1N \sum_n \sum_c q_{nc} \log \operatorname{softmax}(z_n)_c,\qquad
              \frac{\partial L}{\partial z} = \frac{\operatorname{softmax}(z) - q}{N};

    ε = 0 is the plain :math:`\frac1N\sum_n (\log\sum_c e^{z_{nc}} - z_{n y_n})`.
    Returns ``(loss, dlogits)``: a float and an ``(N, C)`` array.
    """
    logits = _real("logits", logits)
    if logits.ndim != 2:
        raise ValueError(f"logits must be an array of shape (N, C), got shape {logits.shape}")
    y = _labels(y, logits)
    smoothing = _probability("label_smoothing", label_smoothing)
    n, c = logits.shape
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(shifted).sum(axis=1))
    rows = np.arange(n)
    log_probs_y = shifted[rows, y] - log_sum
    dlogits = np.exp(shifted - log_sum[:, None])  # softmax(z)
    if smoothing:
        mean_log_probs = shifted.mean(axis=1) - log_sum  # (1/C) sum_c log softmax(z)_c
        loss = -((1.0 - smoothing) * log_probs_y + smoothing * mean_log_probs).mean()
        dlogits -= smoothing / c
        dlogits[rows, y] -= 1.0 - smoothing
    else:
        loss = -log_probs_y.mean()
        dlogits[rows, y] -= 1.0
    dlogits /= n
    return float(loss), dlogits


def mse(pred, target):
    r"""Mean squared error over all M entries (torch ``F.mse_loss``), and its gradient.

    :math:`L = \frac1M \sum_i (\hat y_i - y_i)^2`, :math:`\partial L/\partial \hat y = 2(\hat y - y)/M`.
    pred and target of one shape. Returns ``(loss, dpred)``.
    """
    pred, target = _real("pred", pred), _real("target", target)
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {pred.shape} and {target.shape}")
    diff = pred - target
    return float(np.mean(diff**2)), 2.0 * diff / diff.size
