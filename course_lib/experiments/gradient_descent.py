r"""Small measurements behind the figures of the chapter "Gradient descent and the learning rate".

Each function computes one thing the chapter plots, and is tested against an independent route
(``surfaces.run`` with ``optim.sgd``, ``numpy.linalg.matrix_power``, a closed form):

``minibatch_indices``   the mini-batches ``surfaces.run(..., rng=s)`` draws on a least-squares surface
``sgd_least_squares``   SGD on those mini-batches, vectorised over several seeds (fast enough for widgets)
``gradient_noise``      the measured mean squared error of mini-batch gradients, per batch size
``gradient_noise_theory`` its exact value, :math:`\operatorname{tr}\Sigma/B \cdot (n-B)/(n-1)`
``power_norms``         :math:`\|W^t\|_2` for t = 0..steps (vanishing and exploding products)
``least_squares_step``  one SGD step on a mini-batch of a least-squares problem (the chapter's exercise)

The stationary excess loss of constant-rate SGD with gradient noise, which the chapter compares
with long noisy runs, is theory: :func:`course_lib.quadratic_theory.noise_floor`.
"""
from __future__ import annotations

import numpy as np

from course_lib import _validate
from course_lib import surfaces as _surfaces

__all__ = [
    "minibatch_indices",
    "sgd_least_squares",
    "gradient_noise",
    "gradient_noise_theory",
    "power_norms",
    "least_squares_step",
]


def _least_squares(surface):
    if not isinstance(surface, _surfaces._LeastSquares):
        raise TypeError(f"surface must come from course_lib.surfaces.least_squares, got {type(surface).__name__}")
    return surface


def minibatch_indices(surface, steps, rng, batch_size=None) -> np.ndarray:
    """The row indices of ``steps`` mini-batches, shape (steps, B), drawn as ``surfaces.run`` draws them.

    ``rng`` (a Generator, or an int seed for ``numpy.random.default_rng``), then per step
    ``rng.choice(n, B, replace=False)``: a fresh sample without replacement each step. ``batch_size``
    defaults to the surface's.
    """
    surface = _least_squares(surface)
    steps = _validate.integer("steps", steps, low=0)
    rng = _validate.rng("rng", rng)
    batch_size = surface.batch_size if batch_size is None else _validate.integer(
        "batch_size", batch_size, low=1, high=surface.n)
    out = np.empty((steps, batch_size), dtype=np.int64)
    for k in range(steps):
        out[k] = rng.choice(surface.n, size=batch_size, replace=False)
    return out


def sgd_least_squares(surface, lr, x0, batches) -> np.ndarray:
    r"""Plain SGD on a least-squares surface, on given mini-batches; returns the full-data losses.

    .. math:: w_{k+1} = w_k - \alpha_k \frac{1}{B}\sum_{i \in \mathcal B_k} x_i (x_i^\top w_k - y_i)

    ``lr``: a float, or a schedule (a function of the step count k = 0, 1, ...; see
    :mod:`course_lib.schedules`). ``x0``: shape (d,). ``batches``: integer row indices of shape
    (steps, B), or (S, steps, B) for S independent runs at once. Returns the losses
    :math:`f(w_0), \dots, f(w_{steps})` of shape (steps + 1,) or (S, steps + 1): exactly what
    ``surfaces.run(optim.sgd(lr), surface, x0, steps, rng=s).losses`` gives on
    ``minibatch_indices(surface, steps, s)``, computed for all runs at once. A run that diverges
    gives ``inf`` from then on (no overflow warnings).
    """
    surface = _least_squares(surface)
    w = np.array(_surfaces._point("x0", x0, surface.dim), dtype=np.float64)
    batches = np.asarray(batches)
    if batches.ndim not in (2, 3) or not np.issubdtype(batches.dtype, np.integer) or batches.shape[-1] < 1:
        raise ValueError(f"batches must be integer row indices of shape (steps, B) or (S, steps, B), "
                         f"got dtype {batches.dtype} and shape {batches.shape}")
    if batches.size and (batches.min() < 0 or batches.max() >= surface.n):
        bad = batches.min() if batches.min() < 0 else batches.max()
        raise ValueError(f"batches must hold row indices in [0, {surface.n}), got {bad}")
    single = batches.ndim == 2
    runs = batches[None] if single else batches
    n_runs, steps, size = runs.shape
    if callable(lr):
        rates = np.asarray(lr(np.arange(steps)), dtype=np.float64).reshape(steps)
        bad = ~np.isfinite(rates) | (rates < 0)
        if np.any(bad):
            raise ValueError(f"lr (a schedule) must return finite rates >= 0, got {rates[bad][0]:g} "
                             f"at step {int(np.argmax(bad))}")
    else:
        rates = np.full(steps, _validate.real("lr", lr, low=0.0))
    X, y = surface.X, surface.y
    W = np.tile(w, (n_runs, 1))
    losses = np.empty((n_runs, steps + 1))
    with np.errstate(over="ignore", invalid="ignore"):
        losses[:, 0] = surface._value(W)
        for k in range(steps):
            Xb = X[runs[:, k]]                                    # (S, B, d)
            residual = np.einsum("sbd,sd->sb", Xb, W) - y[runs[:, k]]
            W = W - rates[k] * np.einsum("sbd,sb->sd", Xb, residual) / size
            losses[:, k + 1] = surface._value(W)
    losses[~np.isfinite(losses)] = np.inf
    return losses[0] if single else losses


def _per_example_gradients(surface, w):
    residual = surface.X @ w - surface.y
    return surface.X * residual[:, None]                         # (n, d): row i is grad L_i(w)


def gradient_noise(surface, w, batch_sizes, draws, rng) -> np.ndarray:
    r"""Measured :math:`\mathbb E\|g_B - \nabla f(w)\|^2` for each batch size B (``draws`` batches each).

    :math:`g_B` is the mean of the per-example gradients over B rows drawn without replacement, as
    ``surface.grad(w, batch)`` computes it; the batches are drawn from ``rng`` (a Generator or an
    int seed). Returns an array shaped like ``batch_sizes``.
    """
    surface = _least_squares(surface)
    w = _surfaces._point("w", w, surface.dim)
    sizes = [_validate.integer("batch_sizes", b, low=1, high=surface.n) for b in np.atleast_1d(batch_sizes)]
    draws = _validate.integer("draws", draws, low=1)
    rng = _validate.rng("rng", rng)
    per_example = _per_example_gradients(surface, w)
    full = per_example.mean(axis=0)
    # draws random permutations; the first b entries of each are a batch of b rows without replacement
    # (the same permutations serve every batch size: each estimate is exact in distribution)
    permutations = np.argsort(rng.random((draws, surface.n)), axis=1)
    out = []
    for b in sizes:
        estimates = per_example[permutations[:, :b]].mean(axis=1)   # (draws, d)
        out.append(np.mean(np.sum((estimates - full) ** 2, axis=1)))
    return np.asarray(out).reshape(np.shape(batch_sizes))


def gradient_noise_theory(surface, w, batch_sizes) -> np.ndarray:
    r"""The exact :math:`\mathbb E\|g_B - \nabla f(w)\|^2` for B rows drawn without replacement:

    .. math:: \frac{\operatorname{tr}\Sigma}{B}\cdot\frac{n-B}{n-1}, \qquad
              \Sigma = \frac1n\sum_{i=1}^n (g_i - \bar g)(g_i - \bar g)^\top

    with :math:`g_i` the gradient of example i's loss. :math:`1/B` for B much smaller than n, and 0
    at B = n (the full gradient). Returns an array shaped like ``batch_sizes``.
    """
    surface = _least_squares(surface)
    w = _surfaces._point("w", w, surface.dim)
    sizes = np.array([_validate.integer("batch_sizes", b, low=1, high=surface.n)
                      for b in np.atleast_1d(batch_sizes)], dtype=np.float64)
    per_example = _per_example_gradients(surface, w)
    trace = np.sum(per_example.var(axis=0))
    n = surface.n
    return (trace / sizes * (n - sizes) / (n - 1)).reshape(np.shape(batch_sizes))


def power_norms(W, steps) -> np.ndarray:
    r"""The spectral norms :math:`\|W^t\|_2` for t = 0, ..., ``steps`` (shape (steps + 1,)).

    A path that multiplies by the same square matrix W t times multiplies by
    :math:`W^t = V\operatorname{diag}(\lambda)^t V^{-1}` (W diagonalisable): the norm grows or shrinks
    like :math:`|\lambda_{\max}|^t`, exploding if the largest :math:`|\lambda| > 1` and vanishing if it
    is < 1. Values that overflow are ``inf``.
    """
    W = _validate.array("W", W)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square matrix, got shape {W.shape}")
    steps = _validate.integer("steps", steps, low=0)
    out = np.empty(steps + 1)
    power = np.eye(W.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            out[t] = np.linalg.norm(power, 2) if np.all(np.isfinite(power)) else np.inf
            power = power @ W
    return out


def least_squares_step(w, X, y, batch, lr) -> np.ndarray:
    r"""One SGD step on the mean squared error of the rows ``batch`` (a new array; nothing modified):

    .. math:: g = \frac{1}{|\mathcal B|}\sum_{i\in\mathcal B} x_i\,(x_i^\top w - y_i), \qquad
              w' = w - \alpha\, g

    the average of the per-example gradients of :math:`L_i = \tfrac12(x_i^\top w - y_i)^2`.
    Shapes: w (d,), X (n, d), y (n,), batch: 1-D integer row indices, lr >= 0.
    """
    w = _validate.array("w", w)
    X = _validate.array("X", X)
    y = _validate.array("y", y)
    if w.ndim != 1 or X.ndim != 2 or X.shape[1] != w.size or y.shape != (X.shape[0],):
        raise ValueError(f"shapes must be w (d,), X (n, d), y (n,); got {w.shape}, {X.shape}, {y.shape}")
    rows = _surfaces._rows("batch", batch, X.shape[0])
    lr = _validate.real("lr", lr, low=0.0)
    Xb, yb = X[rows], y[rows]
    return w - lr * Xb.T @ (Xb @ w - yb) / rows.size
