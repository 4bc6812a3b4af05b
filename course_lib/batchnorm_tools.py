r"""Batch normalization beyond the layer itself (chapter "Batch normalization").

- :func:`batchnorm_backward_components`: the backward pass as source 002 derives it, one
  Jacobian :math:`\partial\hat x_{k}/\partial x_{j}` per feature, with its slips corrected (the
  third derivation of the chapter, next to ``course_lib.layers``' graph and compact forms).
- :class:`GhostBatchNorm1d`: batch norm whose statistics come from "ghost" sub-batches of a fixed
  size (Hoffer et al. 2017).
- :class:`NoisyBatchNorm1d`: batch norm followed by random, time-varying shifts of every
  activation (Santurkar et al. 2018's "noisy BatchNorm").
- :func:`calibrate_batchnorm`: replace the running averages of every batch-norm layer of a model
  by the exact statistics of a data set (the "population statistics").
- :func:`fuse_sequential`: fold every ``Linear -> BatchNorm1d`` pair of a model into one Linear
  (evaluation mode, source 003), with :func:`course_lib.nn.fuse_batchnorm`.

Shapes are batch first: ``x`` is ``(N, D)``, N examples of D features.
"""
from __future__ import annotations

import copy
from typing import NamedTuple

import numpy as np

from course_lib import _validate, layers, nn

__all__ = ["batchnorm_backward_components", "GhostBatchNorm1d", "NoisyBatchNorm1d", "calibrate_batchnorm",
           "fuse_sequential"]

_EPS_MODES = ("inside", "std")


def batchnorm_backward_components(dout, x, gamma, *, eps: float = 1e-5, eps_mode: str = "inside"):
    r"""Training-mode batch-norm gradients from the explicit Jacobian of each feature (source 002).

    For feature j with batch values :math:`x_{1j}, \dots, x_{Nj}`, mean :math:`\mu_j`, biased
    standard deviation :math:`\sigma_j` and denominator :math:`s_j` (:math:`\sqrt{\sigma_j^2+\varepsilon}`
    for ``eps_mode="inside"``, :math:`\sigma_j+\varepsilon` for ``"std"``, source 002's form),

    .. math::

        \frac{\partial \hat x_{kj}}{\partial x_{ij}} = \frac{\delta_{ik} - \frac1N}{s_j}
            - \frac{x_{kj}-\mu_j}{s_j^2}\,\frac{\partial s_j}{\partial x_{ij}},\qquad
        \frac{\partial s_j}{\partial x_{ij}} = \frac{x_{ij}-\mu_j}{N\,\sqrt{\sigma_j^2+\varepsilon'}},

        \frac{\partial L}{\partial x_{ij}} = \gamma_j \sum_k G_{kj}\,\frac{\partial \hat x_{kj}}{\partial x_{ij}},\qquad
        \frac{\partial L}{\partial \gamma_j} = \sum_k G_{kj}\hat x_{kj},\qquad
        \frac{\partial L}{\partial \beta_j} = \sum_k G_{kj},

    with :math:`\varepsilon' = \varepsilon` inside the root and :math:`\varepsilon' = 0` for ``"std"``.
    Source 002 writes the same with features as rows (its :math:`Z` is ``(D, N)``), sums
    :math:`\partial L/\partial G_i` and :math:`\partial L/\partial B_i` over the wrong index and drops
    its own :math:`\varepsilon` from the Jacobian; both slips are corrected here. Costs
    :math:`O(N^2 D)`: it builds every Jacobian, which the compact form never does.

    Parameters: ``dout`` and ``x`` ``(N, D)``, ``gamma`` ``(D,)``. Returns ``(dx, dgamma, dbeta)``.
    """
    x = _validate.array("x", x)
    dout = _validate.array("dout", dout)
    gamma = _validate.array("gamma", gamma)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"x must have shape (N, D) with N >= 2, got {x.shape}")
    if dout.shape != x.shape:
        raise ValueError(f"dout must have the shape of x {x.shape}, got {dout.shape}")
    if gamma.shape != (x.shape[1],):
        raise ValueError(f"gamma must have shape ({x.shape[1]},), got {gamma.shape}")
    eps = _validate.real("eps", eps, low=0.0, low_open=True)
    if eps_mode not in _EPS_MODES:
        raise ValueError(f"eps_mode must be one of {_EPS_MODES}, got {eps_mode!r}")
    n = x.shape[0]
    centred = x - x.mean(axis=0)
    var = np.mean(centred**2, axis=0)
    if eps_mode == "inside":
        root = np.sqrt(var + eps)  # the square root that s differentiates
        s = root
    else:
        root = np.sqrt(var)
        s = root + eps
    x_hat = centred / s
    ds_dx = centred / (n * root)  # (N, D): d s_j / d x_ij
    eye = np.eye(n)
    dx = np.empty_like(x)
    for j in range(x.shape[1]):
        # jacobian[k, i] = d x_hat_kj / d x_ij
        jacobian = (eye - 1.0 / n) / s[j] - np.outer(centred[:, j], ds_dx[:, j]) / s[j] ** 2
        dx[:, j] = gamma[j] * (dout[:, j] @ jacobian)
    return dx, np.sum(dout * x_hat, axis=0), dout.sum(axis=0)


class _GhostCache(NamedTuple):
    slices: list  # (start, stop) of each ghost batch
    caches: list  # the batch-norm cache of each


class GhostBatchNorm1d(nn.BatchNorm1d):
    r"""Batch norm with statistics from "ghost" batches of ``virtual_batch_size`` examples.

    In training mode the batch is cut into consecutive chunks of ``virtual_batch_size`` rows (a last
    chunk of a single row joins the previous one), each normalized with its own mean and variance:
    the ghost batches of Hoffer, Hubara and Soudry (2017). Here the running averages are updated once
    per chunk (implementations differ on this). In
    evaluation mode it is an ordinary :class:`~course_lib.nn.BatchNorm1d`. A large batch then keeps
    the noise of small-batch statistics while the gradient is averaged over the whole batch. The
    backward pass is :func:`~course_lib.layers.batchnorm_backward` on each chunk, with the
    :math:`\gamma` and :math:`\beta` gradients summed over the chunks.
    """

    def __init__(self, num_features: int, virtual_batch_size: int, eps: float = 1e-5, momentum: float | None = 0.1):
        super().__init__(num_features, eps=eps, momentum=momentum)
        self.virtual_batch_size = _validate.integer("virtual_batch_size", virtual_batch_size, low=2)

    def _slices(self, n):
        bounds = list(range(0, n, self.virtual_batch_size)) + [n]
        if len(bounds) > 2 and bounds[-1] - bounds[-2] < 2:
            bounds.pop(-2)
        return list(zip(bounds[:-1], bounds[1:]))

    def _forward(self, x, training):
        if not training:
            return super()._forward(x, training)
        nn._check_input(x, self.num_features)
        slices = self._slices(x.shape[0])
        outs, caches = [], []
        for a, b in slices:
            out, cache = super()._forward(x[a:b], True)
            outs.append(out)
            caches.append(cache)
        return np.concatenate(outs), _GhostCache(slices, caches)

    def _backward(self, dout, cache):
        if not isinstance(cache, _GhostCache):
            return super()._backward(dout, cache)
        if dout.shape != (cache.slices[-1][1], self.num_features):
            raise ValueError(f"dout must have shape {(cache.slices[-1][1], self.num_features)}, got {dout.shape}")
        dx = np.empty_like(dout)
        dgamma = np.zeros(self.num_features)
        dbeta = np.zeros(self.num_features)
        for (a, b), part in zip(cache.slices, cache.caches):
            dx[a:b], g, bb = layers.batchnorm_backward(dout[a:b], part)
            dgamma += g
            dbeta += bb
        self.grads["gamma"], self.grads["beta"] = dgamma, dbeta
        return dx

    def __repr__(self):
        return f"GhostBatchNorm1d({self.num_features}, virtual_batch_size={self.virtual_batch_size})"


class NoisyBatchNorm1d(nn.BatchNorm1d):
    r"""Batch norm whose training output gets random, time-varying noise (Santurkar et al. 2018, §2.1).

    In training mode, at every forward pass (every step), each feature j draws a mean
    :math:`m_j \sim U(-a, a)` and a standard deviation :math:`v_j \sim U(v_\text{low}, v_\text{high})`,
    and each activation gets i.i.d. noise from that distribution:

    .. math:: y_{nj} = \gamma_j \hat x_{nj} + \beta_j + \xi_{nj},\qquad \xi_{nj} \sim \mathcal N(m_j, v_j^2).

    So the distribution the next layer sees changes at every step, by design: the internal
    covariate shift batch norm is said to remove is put back. Evaluation mode adds no noise. The
    noise is additive, so the backward pass is batch norm's. ``noise_mean`` is a, ``noise_std`` the
    pair :math:`(v_\text{low}, v_\text{high})`; ``rng`` (Generator or seed) draws the noise.
    """

    def __init__(self, num_features: int, *, rng, noise_mean: float = 0.5, noise_std=(0.1, 0.5),
                 eps: float = 1e-5, momentum: float | None = 0.1):
        super().__init__(num_features, eps=eps, momentum=momentum)
        self.noise_mean = _validate.real("noise_mean", noise_mean, low=0.0)
        if not isinstance(noise_std, (tuple, list)) or len(noise_std) != 2:
            raise TypeError(f"noise_std must be a pair (low, high), got {noise_std!r}")
        low, high = (_validate.real("noise_std", v, low=0.0) for v in noise_std)
        if high < low:
            raise ValueError(f"noise_std must be (low, high) with low <= high, got {noise_std!r}")
        self.noise_std = (low, high)
        self.rng = _validate.rng("rng", rng)

    def _forward(self, x, training):
        out, cache = super()._forward(x, training)
        if training:
            d = self.num_features
            mean = self.rng.uniform(-self.noise_mean, self.noise_mean, d)
            std = self.rng.uniform(*self.noise_std, d)
            out = out + mean + std * self.rng.standard_normal(out.shape)
        return out, cache

    def __repr__(self):
        return f"NoisyBatchNorm1d({self.num_features}, noise_mean={self.noise_mean}, noise_std={self.noise_std})"


def calibrate_batchnorm(model: nn.Sequential, x) -> nn.Sequential:
    r"""A copy of ``model`` whose batch-norm layers hold the exact statistics of ``x`` ``(N, D)``.

    Layer by layer, in order, ``x`` is passed through the copy in evaluation mode; at each batch-norm
    layer the running mean and variance are replaced by the mean and the (biased, population)
    variance of that layer's input over all of ``x``, before going on, so later layers see the
    calibrated earlier ones. These are the population statistics of Ioffe and Szegedy's inference
    step, computed after training instead of estimated by the EWMA during it (their Algorithm 2
    averages mini-batch statistics, the variance with the factor m/(m-1); over the whole set at once
    the plain variance is the population one). The model itself is not modified.
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be a course_lib.nn.Sequential, got {type(model).__name__}")
    x = _validate.array("x", x)
    calibrated = copy.deepcopy(model)
    h = x
    for layer in calibrated.layers:
        if isinstance(layer, nn.BatchNorm1d):
            layer.buffers["running_mean"] = h.mean(axis=0)
            layer.buffers["running_var"] = h.var(axis=0)
        h = layer.forward(h, "eval")
    return calibrated


def fuse_sequential(model: nn.Sequential) -> nn.Sequential:
    """A new Sequential in which every ``Linear`` followed by a ``BatchNorm1d`` is replaced by the one
    Linear of :func:`course_lib.nn.fuse_batchnorm`; the other layers are shared, unchanged. Its
    evaluation-mode outputs equal ``model``'s; it has no training mode to speak of (the batch
    statistics are gone). ``model`` is not modified."""
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be an nn.Sequential, got {type(model).__name__}")
    fused, i, layers_ = [], 0, model.layers
    while i < len(layers_):
        if isinstance(layers_[i], nn.Linear) and i + 1 < len(layers_) and isinstance(layers_[i + 1], nn.BatchNorm1d):
            fused.append(nn.fuse_batchnorm(layers_[i], layers_[i + 1]))
            i += 2
        else:
            fused.append(layers_[i])
            i += 1
    return nn.Sequential(*fused)
