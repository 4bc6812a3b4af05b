r"""Small measurements behind the figures of the chapter "Gradient descent and the learning rate".

Each function computes one thing the chapter plots, and is tested against an independent route
(``surfaces.run`` with ``optim.sgd``, ``numpy.linalg.matrix_power``, a closed form):

``minibatch_indices``   the mini-batches ``surfaces.run(..., rng=s)`` draws on a least-squares surface
``sgd_least_squares``   SGD on those mini-batches, vectorised over several seeds (fast enough for widgets)
``gradient_noise``      the measured mean squared error of mini-batch gradients, per batch size
``gradient_noise_theory`` its exact value, :math:`\operatorname{tr}\Sigma/B \cdot (n-B)/(n-1)`
``power_norms``         :math:`\|W^t\|_2` for t = 0..steps (vanishing and exploding products)
``least_squares_step``  one SGD step on a mini-batch of a least-squares problem (the chapter's exercise)
``noisy_sgd``           seeded SGD runs on a noisy quadratic, all at once (= ``surfaces.run`` per seed)
``iterate_averages``    Polyak–Ruppert averages or an EMA of a run's iterates
``gradient_noise_scale`` McCandlish et al.'s :math:`B_{\rm simple}` and :math:`B_{\rm noise}`, exactly
``best_step_gain``      the best step and the expected loss decrease per batch size, exactly
``logistic_loss``, ``logistic_smoothness``, ``logistic_minimum``  a smooth non-quadratic loss, its L, its minimum
``gradient_descent_path`` gradient descent with optional clipping (``optim.clip_grad_norm``)
``fit_batches``         a network trained on given mini-batches (the XOR restarts: the full batch every step)

The stationary excess loss of constant-rate SGD with gradient noise, which the chapter compares
with long noisy runs, is theory: :func:`course_lib.quadratic_theory.noise_floor`.
"""
from __future__ import annotations

from typing import NamedTuple

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
    "noisy_sgd",
    "iterate_averages",
    "NoiseScale",
    "gradient_noise_scale",
    "best_step_gain",
    "logistic_loss",
    "logistic_smoothness",
    "logistic_minimum",
    "gradient_descent_path",
]
# fit_batches is public too; the API reference documents it where it was first listed,
# with course_lib.experiments.batchnorm, which imports it from here


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
    :math:`f(w_0), \dots, f(w_{steps})` of shape (steps + 1,) or (S, steps + 1): what
    ``surfaces.run(optim.sgd(lr), surface, x0, steps, rng=s).losses`` gives on
    ``minibatch_indices(surface, steps, s)`` (the same path; the losses to rounding, from
    :math:`f(w) = f(w^*) + \tfrac12 (w - w^*)^\top H (w - w^*)`), computed for all runs at once. A
    run that diverges gives ``inf`` from then on (no overflow warnings).
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
    rates = _rates("lr", lr, steps)
    X, y = surface.X, surface.y
    path = np.empty((steps + 1, n_runs, surface.dim))             # w_k of every run
    path[0] = w
    X_batches, y_batches = X[runs], y[runs]                       # (S, steps, B, d), (S, steps, B): gathered once
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps):
            W = path[k]
            Xb = X_batches[:, k]                                  # (S, B, d)
            residual = np.einsum("sbd,sd->sb", Xb, W) - y_batches[:, k]
            path[k + 1] = W - rates[k] * np.einsum("sbd,sb->sd", Xb, residual) / size
        # all the losses at once, f(w) = f(w*) + (w - w*)^T H (w - w*) / 2 exactly for least squares
        # (H = X^T X / n, w* the minimum): 3 numbers a point instead of a pass over the n rows
        offset = path - surface.minimum
        losses = surface._value(surface.minimum) + 0.5 * np.einsum("ksi,ij,ksj->sk", offset, surface.hessian, offset)
        # near overflow the mean over the rows decides, as surfaces.run computes it: inf once a row's
        # squared residual overflows (below 1e300 no row's can, the mean being >= the largest / n)
        huge = ~(losses < 1e300)
        losses[huge] = surface._value(path.transpose(1, 0, 2)[huge])
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


# --------------------------------------------------------------------------------------------
# Noisy quadratics: many seeded runs at once (Robbins-Monro and iterate averaging)
# --------------------------------------------------------------------------------------------

def noisy_sgd(surface, lr, x0, steps, seeds) -> _surfaces.Run:
    r"""Plain SGD on ``surfaces.noisy(Quadratic)``, one run per seed, all at once.

    .. math:: x_{k+1} = x_k - \alpha_k\bigl(H(x_k - c) + \sigma\xi_k\bigr)

    Run s draws its noise exactly as ``surfaces.run(optim.sgd(lr), surface, x0, steps, rng=seeds[s])``
    does (``default_rng(seed).standard_normal(d)`` per step), so each run is that run, computed for all
    seeds in one vectorised loop. ``lr``: a float or a schedule. Returns a ``surfaces.Run`` with
    ``params`` (S, steps + 1, d) and ``losses`` (S, steps + 1).
    """
    if not (isinstance(surface, _surfaces._Noisy) and isinstance(surface.surface, _surfaces.Quadratic)):
        raise TypeError(f"surface must be surfaces.noisy(surfaces.Quadratic(...), sigma), got {type(surface).__name__}")
    quadratic, sigma = surface.surface, surface.sigma
    x = np.array(_surfaces._point("x0", x0, quadratic.dim), dtype=np.float64)
    steps = _validate.integer("steps", steps, low=0)
    seeds = [_validate.integer("seeds", s, low=0) for s in np.atleast_1d(seeds)]
    rates = _rates("lr", lr, steps)
    noise = np.stack([np.random.default_rng(s).standard_normal((steps, quadratic.dim)) for s in seeds], axis=1)
    noise *= sigma                                   # sigma xi_k for every step at once (the same products)
    center, hessian = quadratic.center, quadratic.hessian
    params = np.empty((steps + 1, len(seeds), quadratic.dim))
    params[0] = x
    for k in range(steps):
        gradient = (params[k] - center) @ hessian + noise[k]   # H symmetric
        params[k + 1] = params[k] - rates[k] * gradient
    params = params.transpose(1, 0, 2)
    return _surfaces.Run(params, quadratic._value(params))


def iterate_averages(params, *, start=0, rho=None) -> np.ndarray:
    r"""Averages of the iterates of a run: Polyak–Ruppert or an EMA (chapter section on averaging).

    ``rho=None``: the running mean :math:`\bar x_k = \frac{1}{k - s + 1}\sum_{j=s}^{k} x_j` of the iterates
    from ``start`` = s on (Polyak & Juditsky 1992; Ruppert 1988); otherwise the bias-corrected EWMA
    :math:`\hat S_k` of :func:`course_lib.ewma.ewma` with decay ``rho`` (what ``train.WeightEMA`` keeps
    for a network). ``params``: (..., steps + 1, d), time on the second-to-last axis. Returns the
    averages for k = start..steps, shape (..., steps + 1 - start, d). Nothing changes the iterates:
    the average is only read out.
    """
    from course_lib.ewma import ewma

    params = _validate.array("params", params)
    if params.ndim < 2:
        raise ValueError(f"params must have shape (..., steps + 1, d), got shape {params.shape}")
    start = _validate.integer("start", start, low=0, high=params.shape[-2] - 1)
    tail = np.moveaxis(params[..., start:, :], -2, 0)          # time first, as ewma expects
    if rho is None:
        counts = np.arange(1, tail.shape[0] + 1).reshape((-1,) + (1,) * (tail.ndim - 1))
        averaged = np.cumsum(tail, axis=0) / counts
    else:
        averaged = ewma(tail, rho, bias_correction=True)
    return np.moveaxis(averaged, 0, -2)


def _rates(name, lr, steps) -> np.ndarray:
    if callable(lr):
        rates = np.asarray(lr(np.arange(steps)), dtype=np.float64).reshape(steps)
        bad = ~np.isfinite(rates) | (rates < 0)
        if np.any(bad):
            raise ValueError(f"{name} (a schedule) must return finite rates >= 0, got {rates[bad][0]:g} "
                             f"at step {int(np.argmax(bad))}")
        return rates
    return np.full(steps, _validate.real(name, lr, low=0.0))


# --------------------------------------------------------------------------------------------
# The gradient noise scale and the critical batch size (McCandlish et al. 2018)
# --------------------------------------------------------------------------------------------

class NoiseScale(NamedTuple):
    r"""The gradient noise scale at one point of a least-squares surface.

    ``grad_sq`` :math:`|G|^2`; ``trace`` :math:`\operatorname{tr}\Sigma` (per-example covariance);
    ``simple`` :math:`B_{\rm simple} = \operatorname{tr}\Sigma/|G|^2`; ``noise``
    :math:`B_{\rm noise} = \operatorname{tr}(H\Sigma)/(G^\top H G)`, the critical batch size.
    """
    grad_sq: float
    trace: float
    simple: float
    noise: float


def _gradient_moments(surface, w):
    per_example = _per_example_gradients(surface, w)
    full = per_example.mean(axis=0)
    centred = per_example - full
    sigma = centred.T @ centred / surface.n                      # (d, d), the 1/n covariance
    return full, sigma


def gradient_noise_scale(surface, w) -> NoiseScale:
    r"""McCandlish et al.'s noise scales at ``w`` (shape (d,)) of a least-squares surface, exactly.

    With G the full gradient, :math:`\Sigma` the covariance of the per-example gradients and H the
    Hessian :math:`X^\top X/n`:

    .. math:: B_{\rm noise} = \frac{\operatorname{tr}(H\Sigma)}{G^\top H G}, \qquad
              B_{\rm simple} = \frac{\operatorname{tr}\Sigma}{|G|^2}

    (equal when H is a multiple of I). Batches much smaller than :math:`B_{\rm noise}` are noise
    dominated, much larger ones waste examples (:func:`best_step_gain`).
    """
    surface = _least_squares(surface)
    w = _surfaces._point("w", w, surface.dim)
    G, sigma = _gradient_moments(surface, w)
    H = surface.hessian
    grad_sq, curvature = float(G @ G), float(G @ H @ G)
    trace, weighted = float(np.trace(sigma)), float(np.sum(H * sigma))
    if grad_sq == 0:
        return NoiseScale(0.0, trace, np.inf, np.inf)
    return NoiseScale(grad_sq, trace, trace / grad_sq, weighted / curvature)


def best_step_gain(surface, w, batch_sizes):
    r"""The best step for a mini-batch of each size and the expected loss decrease it buys, exactly.

    One SGD step from ``w`` with a batch of B rows drawn without replacement,
    :math:`\mathbb E f(w - \alpha g_B) = f(w) - \alpha|G|^2 + \tfrac{\alpha^2}{2}\bigl(G^\top H G
    + \operatorname{tr}(H\Sigma)\,c_B\bigr)`, :math:`c_B = \frac{n - B}{B(n-1)}` (f is quadratic, so
    this is exact). It is largest at

    .. math:: \alpha^*(B) = \frac{|G|^2}{G^\top H G + \operatorname{tr}(H\Sigma)\,c_B}
              = \frac{\alpha_{\max}}{1 + B_{\rm noise}\,B\,c_B}, \qquad
              \Delta(B) = \tfrac12\alpha^*(B)\,|G|^2

    (:math:`B\,c_B \approx 1` for B much smaller than n: McCandlish et al.'s
    :math:`\alpha_{\max}/(1 + B_{\rm noise}/B)`). Returns ``(steps, gains)``, arrays shaped like ``batch_sizes``.
    """
    surface = _least_squares(surface)
    w = _surfaces._point("w", w, surface.dim)
    sizes = np.array([_validate.integer("batch_sizes", b, low=1, high=surface.n)
                      for b in np.atleast_1d(batch_sizes)], dtype=np.float64)
    G, sigma = _gradient_moments(surface, w)
    H, n = surface.hessian, surface.n
    c = (n - sizes) / (sizes * (n - 1))
    steps = (G @ G) / (G @ H @ G + np.sum(H * sigma) * c)
    gains = 0.5 * steps * (G @ G)
    return steps.reshape(np.shape(batch_sizes)), gains.reshape(np.shape(batch_sizes))


# --------------------------------------------------------------------------------------------
# Beyond quadratics: L-smoothness and the descent lemma; gradient clipping
# --------------------------------------------------------------------------------------------

def logistic_loss(w, X, labels):
    r"""The mean logistic loss and its gradient, labels :math:`s_i \in \{-1, +1\}`:

    .. math:: f(w) = \frac1n\sum_i \log\bigl(1 + e^{-s_i x_i^\top w}\bigr), \qquad
              \nabla f(w) = -\frac1n\sum_i s_i\,\sigma(-s_i x_i^\top w)\, x_i

    Its Hessian :math:`\frac1n\sum_i \sigma(1-\sigma)\, x_i x_i^\top \preceq \frac14 X^\top X/n`: f is
    L-smooth with :math:`L = \lambda_{\max}(X^\top X/n)/4` (:func:`logistic_smoothness`), but not a
    quadratic. Shapes: w (d,), X (n, d), labels (n,). Returns ``(value, grad)``.
    """
    margins = labels * (X @ w)
    value = float(np.mean(np.logaddexp(0.0, -margins)))
    weights = 0.5 * (1.0 - np.tanh(0.5 * margins))               # sigma(-margin), without overflow
    return value, -(X.T @ (labels * weights)) / len(labels)


def logistic_minimum(X, labels, *, iterations=30) -> np.ndarray:
    r"""The minimiser of :func:`logistic_loss` by Newton's method (exact to rounding; data not separable).

    :math:`w \leftarrow w - \bigl(\tfrac1n\sum_i \sigma_i(1-\sigma_i)x_i x_i^\top\bigr)^{-1}\nabla f(w)`
    from w = 0, ``iterations`` times. Returns :math:`w^*`, shape (d,).
    """
    X = _validate.array("X", X)
    labels = _validate.array("labels", labels)
    iterations = _validate.integer("iterations", iterations, low=1)
    w = np.zeros(X.shape[1])
    for _ in range(iterations):
        _, g = logistic_loss(w, X, labels)
        p = 0.5 * (1.0 - np.tanh(0.5 * labels * (X @ w)))
        w = w - np.linalg.solve((X * (p * (1.0 - p))[:, None]).T @ X / len(X), g)
    return w


def logistic_smoothness(X) -> float:
    r""":math:`L = \lambda_{\max}(X^\top X/n)/4`, a smoothness constant of :func:`logistic_loss`."""
    X = _validate.array("X", X)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n, d), got shape {X.shape}")
    return float(np.linalg.eigvalsh(X.T @ X / len(X))[-1] / 4.0)


def gradient_descent_path(value_and_grad, x0, lr, steps, *, max_norm=None):
    r"""Gradient descent :math:`x_{k+1} = x_k - \alpha\,\mathrm{clip}(\nabla f(x_k))` with ``optim.sgd``.

    ``value_and_grad(x) -> (f(x), grad)``. ``max_norm``: clip each gradient to this 2-norm first
    (``optim.clip_grad_norm``, torch's ``clip_grad_norm_``); None: no clipping. Returns
    ``(values, grad_norms)``, both shape (steps + 1,): :math:`f(x_k)` and :math:`\|\nabla f(x_k)\|`
    (before clipping). A run that overflows gives ``inf`` from then on.
    """
    from course_lib import optim

    x = np.array(_validate.array("x0", x0), dtype=np.float64)
    steps = _validate.integer("steps", steps, low=0)
    opt = optim.sgd(lr=_validate.real("lr", lr, low=0.0))
    state = opt.init(x)
    step = opt.flat_step(None)              # optim.sgd's rule without the per-step checks, as surfaces.run uses
    values, norms = np.full(steps + 1, np.inf), np.full(steps + 1, np.inf)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps + 1):
            value, g = value_and_grad(x)
            norm = float(np.sqrt(np.dot(g, g)))
            if not (np.isfinite(value) and np.isfinite(norm)):
                break
            values[k], norms[k] = value, norm
            if k < steps:
                if max_norm is not None:
                    g, _ = optim.clip_grad_norm(g, max_norm)
                x, state = step(x, g, state)
    return values, norms


def fit_batches(model, opt, x, y, batches, *, hooks=()):
    """Train ``model`` (a ``course_lib.nn.Sequential``, in place) with the optimizer ``opt`` on the
    given mini-batches, index arrays into ``x`` (N, D) and ``y`` (N,) labels, one step each, with
    the cross-entropy loss: for batch orders :func:`course_lib.train.train` does not make (the same
    full batch every step, as the chapter's ``train_xor`` loop; batches of one class only, in the
    batch-norm chapter).

    Each step is what ``train_xor`` does (forward in mode ``"train"``, loss, backward,
    ``opt.step``), with the parameters kept as one flat vector that the layers view, as ``train``
    keeps them: the same arithmetic without a dict per step, so the same numbers bit for bit
    (``tests/test_experiments_gradient_descent.py``). numpy's BLAS runs on one thread, as in
    ``train``.
    Each hook's ``on_step(info)`` is called after every step with ``info.model``, ``info.step``
    (from 1) and ``info.batch_loss``. Returns the batch losses, shape (len(batches),).
    """
    from types import SimpleNamespace

    from course_lib import nn, optim, train
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be a course_lib.nn.Sequential, got {type(model).__name__}")
    loss = nn.CrossEntropyLoss()
    layout = optim.Layout(model.params)
    theta = layout.ravel(model.params)
    state = layout.ravel_state(opt.init(model.params))
    step_fn = opt.flat_step(layout)
    gradient_vector, to_layers = train._flat_access(model, layout, theta.dtype)
    to_layers(theta)
    losses = []
    with train._one_blas_thread():
        for step, idx in enumerate(batches, start=1):
            value = loss.forward(model.forward(x[idx], "train"), y[idx])
            model.backward(loss.backward(), input_grad=False)
            theta, state = step_fn(theta, gradient_vector(), state)
            to_layers(theta)
            losses.append(value)
            info = SimpleNamespace(model=model, step=step, batch_loss=value)
            for hook in hooks:
                hook.on_step(info)
    return np.array(losses)
