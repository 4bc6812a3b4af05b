r"""Diagnostics of a network at initialization and during training (chapter "Initialization and
data preprocessing").

What a practitioner checks before trusting a training run, as functions that work on any
:class:`course_lib.nn.Sequential` model:

- :func:`expected_initial_loss`, :func:`initial_loss`: with small random logits the softmax is
  nearly uniform and the cross-entropy starts at :math:`\log C` for C classes; a much larger
  initial loss means confidently wrong logits (a last layer initialized too large).
- :func:`saturation`: the fraction of tanh (or sigmoid) units whose output is within
  ``threshold`` of the asymptotes, where the local gradient :math:`1-\tanh^2` nearly vanishes.
- :func:`update_ratios`: :math:`\|\Delta\theta\|/\|\theta\|` per parameter array; about
  :math:`10^{-3}` per step is the usual rule of thumb (cs231n).
- :func:`layer_statistics`: each layer's output and the gradient back-propagated to it, one
  forward and one backward pass (Glorot and Bengio's per-layer histograms).
- :func:`mean_field`: the theory those statistics follow for a deep network of width n with
  i.i.d. weights of variance :math:`\sigma_w^2`, as a function of :math:`\sigma_w^2 n`.
- :func:`least_squares_hessian`, :func:`condition_number`, :func:`gd_steps`: how hard a data set
  makes gradient descent on least squares (what preprocessing changes).
- :func:`lsuv`: Mishkin and Matas's data-dependent rescaling of each layer to unit output variance.
"""
from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np

from course_lib import _validate
from course_lib.train import _one_blas_thread, _with_one_blas_thread
from course_lib.nn import CrossEntropyLoss, Linear, Sequential, Sigmoid, Tanh

__all__ = [
    "expected_initial_loss",
    "initial_loss",
    "saturation",
    "saturation_fraction",
    "update_ratios",
    "LayerRecord",
    "layer_statistics",
    "MeanField",
    "mean_field",
    "CRITICAL_GAIN",
    "least_squares_hessian",
    "condition_number",
    "gd_excess_losses",
    "gd_steps",
    "lsuv",
]


def _model(model):
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a course_lib.nn.Sequential, got {type(model).__name__}")
    return model


def _xy(x, y):
    x = _validate.array("x", x)
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"x must have shape (N, D) with N >= 1, got {x.shape}")
    y = np.asarray(y)
    if y.shape != (x.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be integer labels of shape ({x.shape[0]},), got {y.dtype} {y.shape}")
    return x, y


# --------------------------------------------------------------------------------------------
# The loss at initialization, saturation, update sizes
# --------------------------------------------------------------------------------------------

def expected_initial_loss(num_classes: int) -> float:
    r"""The cross-entropy of a uniform prediction over C classes, :math:`-\log(1/C) = \log C`.

    A network whose logits are all (nearly) equal at initialization starts at this loss, whatever
    the labels: :math:`\log 10 \approx 2.303` for the digits.
    """
    num_classes = _validate.integer("num_classes", num_classes, low=2)
    return math.log(num_classes)


def initial_loss(model, x, y) -> float:
    """The mean softmax cross-entropy of ``model`` on ``(x, y)`` in evaluation mode.

    Compare with :func:`expected_initial_loss` of the number of classes (the model's output width).
    """
    model = _model(model)
    x, y = _xy(x, y)
    with _one_blas_thread():  # small matrices: a second BLAS thread costs more than it saves
        return CrossEntropyLoss().forward(model.forward(x, "eval"), y)


def saturation_fraction(values, threshold: float = 0.97, *, low: float = -1.0, high: float = 1.0) -> float:
    r"""The fraction of entries of ``values`` within ``1 - threshold`` (relative) of an asymptote.

    For tanh (asymptotes :math:`\pm1`) a unit is saturated when :math:`|h| > \text{threshold}`;
    there its local gradient :math:`1-h^2 < 1-\text{threshold}^2` (0.059 for 0.97, the value
    Karpathy uses). For the sigmoid pass ``low=0, high=1``: saturated means
    :math:`|2h - 1| > \text{threshold}`.
    """
    values = _validate.array("values", values)
    threshold = _validate.real("threshold", threshold, low=0.0, high=1.0, low_open=True, high_open=True)
    low, high = _validate.real("low", low), _validate.real("high", high)
    if not high > low:
        raise ValueError(f"high must be > low, got low={low}, high={high}")
    if values.size == 0:
        raise ValueError("values must not be empty")
    centred = (2.0 * values - (high + low)) / (high - low)  # the asymptotes at -1 and +1
    return float(np.mean(np.abs(centred) > threshold))


def saturation(model, x, threshold: float = 0.97) -> dict:
    """``{layer index: saturated fraction}`` for every Tanh and Sigmoid layer of ``model`` on ``x``
    (one forward pass in evaluation mode; see :func:`saturation_fraction`)."""
    model = _model(model)
    records = layer_statistics(model, x, mode="eval")
    out = {}
    for record in records:
        if isinstance(record.layer, Tanh):
            out[record.index] = saturation_fraction(record.output, threshold)
        elif isinstance(record.layer, Sigmoid):
            out[record.index] = saturation_fraction(record.output, threshold, low=0.0, high=1.0)
    return out


def update_ratios(params: dict, updates: dict) -> dict:
    r"""``{name: ||Δθ|| / ||θ||}``: the size of one update relative to the size of the parameter.

    ``updates`` are the changes an optimizer makes in one step (``optimizer.update(...)``'s
    first result, or new minus old parameters). Around :math:`10^{-3}` is healthy for weights;
    much smaller means the learning rate is too low (or the gradients vanish), much larger that it
    is too high. A parameter with norm 0 (biases at initialization) gives ``inf`` if it moves,
    ``nan`` if it does not.
    """
    if not isinstance(params, dict) or not isinstance(updates, dict):
        raise TypeError("params and updates must be dicts name -> array")
    if set(params) != set(updates):
        raise ValueError(f"updates must have the keys of params {sorted(params)}, got {sorted(updates)}")
    out = {}
    for name, value in params.items():
        value = _validate.array(f"params[{name!r}]", value)
        step = _validate.array(f"updates[{name!r}]", updates[name])
        if step.shape != value.shape:
            raise ValueError(f"updates[{name!r}] must have shape {value.shape}, got {step.shape}")
        norm, step_norm = np.linalg.norm(value), np.linalg.norm(step)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[name] = float(np.float64(step_norm) / norm)
    return out


# --------------------------------------------------------------------------------------------
# Per-layer statistics and their mean-field theory
# --------------------------------------------------------------------------------------------

class LayerRecord(NamedTuple):
    """One layer's view of a forward and backward pass: its ``index`` in the model, the ``layer``,
    its ``input`` and ``output`` (N, width), and the gradient of the loss with respect to its
    output, ``grad_output`` (None if no backward pass was asked for)."""

    index: int
    layer: object
    input: np.ndarray
    output: np.ndarray
    grad_output: np.ndarray | None


# numpy's BLAS on one thread, as in course_lib.train.train: for a network's small matrices a second
# thread costs more than it saves (here 50 times more, for a 31-layer net on a busy machine)
@_with_one_blas_thread
def layer_statistics(model, x, grad_output=None, *, mode: str = "train") -> list:
    r"""Run ``x`` through ``model`` layer by layer and back again, keeping every layer's tensors.

    ``grad_output`` is :math:`\partial L/\partial(\text{model output})`, shape (N, D_out); it may
    be an array, a ``numpy.random.Generator`` or an int seed (then a standard normal array is
    drawn: a stand-in for the loss gradient, as in Glorot and Bengio's analysis), or None (forward
    only). The passes are the model's own ``forward(x, mode, record=True)`` and ``backward``, so
    the gradients are the ones training would see (and the layers' ``grads`` are filled, as by
    any backward pass). Returns one :class:`LayerRecord` per layer, in order.
    """
    model = _model(model)
    if not (isinstance(x, np.ndarray) and x.dtype.kind == "f"):  # float arrays keep their precision
        x = _validate.array("x", x)
    out = model.forward(x, mode, record=True)
    records = model.records
    if grad_output is not None:
        if isinstance(grad_output, (np.random.Generator, int, np.integer)) and not isinstance(grad_output, bool):
            g = _validate.rng("grad_output", grad_output).standard_normal(out.shape)
        else:
            g = _validate.array("grad_output", grad_output)
            if g.shape != out.shape:
                raise ValueError(f"grad_output must have the output's shape {out.shape}, got {g.shape}")
        model.backward(g.astype(out.dtype, copy=False), mode=mode)
    return [LayerRecord(r["index"], r["layer"], r["input"], r["output"], r["grad_output"]) for r in records]


class MeanField(NamedTuple):
    r"""The mean-field prediction for a deep network, layer l = 1..depth (arrays of length depth):
    ``preact_var`` :math:`q_l = \operatorname{Var}(z_l)`, ``act_std`` the standard deviation of
    :math:`h_l = \phi(z_l)`, and ``grad_var`` the variance of :math:`\partial L/\partial z_l`
    when the gradient arriving at the top output :math:`h_L` has unit variance."""

    preact_var: np.ndarray
    act_std: np.ndarray
    grad_var: np.ndarray


#: :math:`\sigma_w^2 n` at which the variance neither grows nor shrinks with depth (no bias):
#: 2 for ReLU (He et al. 2015), 1 for tanh and linear units.
CRITICAL_GAIN = {"relu": 2.0, "tanh": 1.0, "linear": 1.0}

# A fine grid on [-10, 10] with normal weights: tanh(sqrt(q) z) turns from -1 to 1 within
# |z| < 3/sqrt(q), so the spacing 0.005 resolves it up to q ~ 10^4 (Gauss-Hermite nodes do not).
_Z = np.linspace(-10.0, 10.0, 4001)
_PDF = np.exp(-0.5 * _Z**2)
_PDF /= _PDF.sum()


def _gauss(f, q):
    r""":math:`\mathbb E[f(\sqrt q\, Z)]`, :math:`Z \sim \mathcal N(0,1)`, on a fine grid (q an array)."""
    z = np.sqrt(np.asarray(q, dtype=np.float64))[..., None] * _Z
    return (f(z) * _PDF).sum(axis=-1)


def _moments(activation, q):
    """E[phi(z)], E[phi(z)^2], E[phi'(z)^2] for z ~ N(0, q)."""
    if activation == "linear":
        return np.zeros_like(q), q, np.ones_like(q)
    if activation == "relu":  # closed forms: half of a symmetric distribution is zeroed
        return np.sqrt(q / (2 * math.pi)), q / 2.0, np.full_like(q, 0.5)
    return (np.zeros_like(q), _gauss(lambda z: np.tanh(z) ** 2, q),
            _gauss(lambda z: (1.0 - np.tanh(z) ** 2) ** 2, q))


def mean_field(gain: float, depth: int, activation: str, *, input_second_moment: float = 1.0) -> MeanField:
    r"""Layer-by-layer variances of a deep network at initialization, in the limit of wide layers.

    For square layers of width n, weights i.i.d. with mean 0 and variance :math:`\sigma_w^2`, no
    bias, ``gain`` :math:`g = \sigma_w^2 n`, and an input with :math:`\mathbb E[x_i^2] = m_0`:

    .. math::

        q_1 = g\, m_0, \qquad q_{l+1} = g\,\mathbb E\big[\phi(\sqrt{q_l} Z)^2\big], \qquad
        v_L = \mathbb E[\phi'(z_L)^2], \qquad v_l = g\,\mathbb E[\phi'(z_l)^2]\, v_{l+1},

    where :math:`q_l` is the variance of the pre-activation :math:`z_l`, :math:`v_l` that of
    :math:`\partial L/\partial z_l`. This is :math:`\operatorname{Var}(Y) = n\operatorname{Var}(W)\,
    \mathbb E[X^2]` applied layer after layer. For ReLU, :math:`\mathbb E[\phi(z)^2] = q/2` and
    :math:`\mathbb E[\phi'^2] = 1/2`, so :math:`q_l = (g/2)^{l-1} q_1`: :math:`g = 2` (He) keeps it;
    for tanh the expectations are computed numerically (a fine grid in z). ``activation``:
    ``"relu"``, ``"tanh"`` or ``"linear"``.
    """
    gain = _validate.real("gain", gain, low=0.0, low_open=True)
    depth = _validate.integer("depth", depth, low=1)
    if activation not in CRITICAL_GAIN:
        raise ValueError(f"activation must be one of {sorted(CRITICAL_GAIN)}, got {activation!r}")
    m0 = _validate.real("input_second_moment", input_second_moment, low=0.0, low_open=True)
    # widgets ask for the same few cases again and again: the arithmetic is cached, the caller gets copies
    return MeanField(*(np.array(a) for a in _mean_field(gain, depth, activation, m0)))


@functools.lru_cache(maxsize=4096)
def _mean_field(gain, depth, activation, m0):
    q = np.empty(depth)
    q[0] = gain * m0
    for l in range(1, depth):
        q[l] = gain * _moments(activation, q[l - 1:l])[1][0]
    mean, second, slope2 = _moments(activation, q)
    act_std = np.sqrt(np.maximum(second - mean**2, 0.0))
    v = np.empty(depth)
    v[-1] = slope2[-1]
    for l in range(depth - 2, -1, -1):
        v[l] = gain * slope2[l] * v[l + 1]
    return q, act_std, v


# --------------------------------------------------------------------------------------------
# Least squares: how preprocessing changes what gradient descent faces
# --------------------------------------------------------------------------------------------

def _design(x, bias):
    x = _validate.array("x", x)
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"x must have shape (N, D), got {x.shape}")
    bias = _validate.boolean("bias", bias)
    return np.hstack([x, np.ones((x.shape[0], 1))]) if bias else x


def least_squares_hessian(x, *, bias: bool = True) -> np.ndarray:
    r"""The Hessian of :math:`J(w) = \frac1{2N}\|Xw - y\|^2`, :math:`H = X^\top X/N` (D, D), or
    (D+1, D+1) with a column of ones appended for the bias (``bias=True``). It does not depend on
    the targets: only the inputs, hence their preprocessing, decide the curvature."""
    a = _design(x, bias)
    return a.T @ a / a.shape[0]


def condition_number(hessian, *, rtol: float = 1e-13) -> float:
    r""":math:`\kappa = \lambda_\max/\lambda_\min` of a symmetric positive semi-definite matrix,
    over the eigenvalues above ``rtol`` times the largest.

    Eigenvalues (numerically) zero belong to directions in which the loss is flat (a pixel that
    is constant over the data): gradient descent never moves along them, so they do not slow it
    down and are left out.
    """
    h = _validate.array("hessian", hessian)
    if h.ndim != 2 or h.shape[0] != h.shape[1] or not np.allclose(h, h.T):
        raise ValueError(f"hessian must be a symmetric square matrix, got shape {h.shape}")
    rtol = _validate.real("rtol", rtol, low=0.0, high=1.0, low_open=True, high_open=True)
    lam = np.linalg.eigvalsh(h)
    if not lam[-1] > 0:
        raise ValueError(f"hessian must have a positive eigenvalue, got largest eigenvalue {lam[-1]:.3g}")
    lam = lam[lam > rtol * lam[-1]]
    return float(lam[-1] / lam[0])


def _least_squares_modes(x, y, bias, w0):
    a = _design(x, bias)
    y = _validate.array("y", y)
    if y.shape[0] != a.shape[0] or y.ndim not in (1, 2):
        raise ValueError(f"y must have shape (N,) or (N, K) with N = {a.shape[0]}, got {y.shape}")
    y2 = y.reshape(a.shape[0], -1)
    n = a.shape[0]
    lam, vectors = np.linalg.eigh(a.T @ a / n)
    keep = lam > 1e-12 * lam[-1]
    lam, vectors = lam[keep], vectors[:, keep]
    w_star = vectors @ ((vectors.T @ (a.T @ y2 / n)) / lam[:, None])  # minimum-norm solution
    start = np.zeros_like(w_star) if w0 is None else _validate.array("w0", w0).reshape(w_star.shape)
    error = vectors.T @ (start - w_star)  # the error in the eigenbasis, (modes, K)
    return lam, error


def gd_excess_losses(x, y, steps, *, lr=None, bias: bool = True, w0=None) -> np.ndarray:
    r"""Exact excess losses :math:`J(w_t) - J^*`, t = 0..steps, of gradient descent on least squares.

    With :math:`H = \sum_i \lambda_i u_i u_i^\top` and :math:`w_t - w^*` expanded in the :math:`u_i`,
    each component is multiplied by :math:`1-\alpha\lambda_i` at every step, so

    .. math:: J(w_t) - J^* = \tfrac12 \sum_i \lambda_i (1-\alpha\lambda_i)^{2t}\, c_i^2 .

    ``lr`` defaults to :math:`1/\lambda_\max`; ``w0`` to zeros (shape (D[+1],) or (D[+1], K)).
    ``y`` may have K columns (one-hot targets). Returns shape (steps + 1,).
    """
    steps = _validate.integer("steps", steps, low=0)
    lam, error = _least_squares_modes(x, y, bias, w0)
    lr = 1.0 / lam[-1] if lr is None else _validate.real("lr", lr, low=0.0, low_open=True)
    weights = 0.5 * lam * (error**2).sum(axis=1)
    t = np.arange(steps + 1)[:, None]
    return (weights * (1.0 - lr * lam) ** (2 * t)).sum(axis=1)


def gd_steps(x, y, *, tol: float = 1e-6, bias: bool = True, w0=None, max_steps: int = 10**12) -> int:
    r"""The number of steps gradient descent with :math:`\alpha = 1/\lambda_\max` needs on least
    squares until the excess loss :math:`J(w_t) - J^*` is below ``tol`` times its start.

    Computed exactly from the eigendecomposition (:func:`gd_excess_losses`), by bisection on t, so
    runs of millions of steps cost nothing. The count grows like :math:`\kappa\,\log(1/\text{tol})/2`
    for a badly conditioned problem. Returns ``max_steps`` if it is not reached by then.
    """
    tol = _validate.real("tol", tol, low=0.0, high=1.0, low_open=True, high_open=True)
    max_steps = _validate.integer("max_steps", max_steps, low=1)
    lam, error = _least_squares_modes(x, y, bias, w0)
    weights = 0.5 * lam * (error**2).sum(axis=1)
    log_factor = 2.0 * np.log(np.maximum(1.0 - lam / lam[-1], 1e-300))
    start = weights.sum()
    if start == 0.0:
        return 0

    def excess(t):
        return float(np.sum(weights * np.exp(t * log_factor))) if t > 0 else start

    if excess(max_steps) > tol * start:
        return max_steps
    low, high = 0, 1
    while excess(high) > tol * start:
        low, high = high, min(2 * high, max_steps)
    while high - low > 1:
        mid = (low + high) // 2
        if excess(mid) > tol * start:
            low = mid
        else:
            high = mid
    return high


# --------------------------------------------------------------------------------------------
# A data-dependent initialization
# --------------------------------------------------------------------------------------------

@_with_one_blas_thread  # small matrices, as in layer_statistics
def lsuv(model, x, *, tol: float = 0.1, max_iter: int = 10) -> tuple[dict, list]:
    r"""Layer-sequential unit-variance scaling (Mishkin and Matas 2015), on a batch ``x``.

    From the first Linear layer to the last: pass the batch through the (already rescaled)
    layers before it, measure the variance :math:`v` of this layer's output over the batch and all
    units, divide its weight by :math:`\sqrt v`, and repeat until :math:`|v - 1| <` ``tol`` or
    ``max_iter`` rescalings. (The paper starts from orthonormal weights; pass a model built with
    ``init="orthogonal"`` to follow it.) The output measured is the Linear layer's, before the
    activation.

    The biases must be zero, as in the paper: a bias that varies across the units adds a variance
    that no scaling of the weight removes (a ValueError names the layer). A layer whose variance is
    still off by ``tol`` or more after ``max_iter`` rescalings raises a RuntimeError.

    The model is not modified: returns ``(params, scales)``, the new parameter dict (assign it
    with ``model.params = params``) and the total factor applied to each Linear layer's weight.
    """
    model = _model(model)
    x = _validate.array("x", x)
    tol = _validate.real("tol", tol, low=0.0, low_open=True)
    max_iter = _validate.integer("max_iter", max_iter, low=1)
    params = {name: np.array(value, copy=True) for name, value in model.params.items()}
    scales = []
    h = x
    for i, layer in enumerate(model.layers):
        if isinstance(layer, Linear):
            weight, bias = params[f"{i}.weight"], params.get(f"{i}.bias")
            if bias is not None and np.any(bias != 0):
                raise ValueError(f"lsuv needs zero biases (as Mishkin and Matas start), but '{i}.bias' has "
                                 f"max |b| = {np.abs(bias).max():.3g}; set the biases to 0 first")
            total = 1.0
            for _ in range(max_iter):
                v = float((h @ weight.T).var())
                if abs(v - 1.0) < tol or v == 0.0:
                    break
                weight = weight / math.sqrt(v)
                total /= math.sqrt(v)
            params[f"{i}.weight"] = weight
            scales.append(total)
            h = h @ weight.T
        else:
            h = layer.forward(h, "eval")
    return params, scales
