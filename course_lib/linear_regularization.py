r"""Regularization on linear models in closed form (chapter "Regularization", Goodfellow et al. ch. 7).

The chapter measures every classical equivalence of regularization on a model where it can be
computed exactly. The model is least squares with the design matrix X (N, D) and targets y (N,):

.. math:: J(w) = \frac{1}{2N}\|Xw - y\|^2, \qquad H = \frac1N X^\top X = Q\Lambda Q^\top,
          \qquad w^* = H^{-1}\tfrac1N X^\top y .

Notation of Goodfellow et al. §7.1 and §7.8: :math:`\alpha` is the weight of the penalty
:math:`\tfrac\alpha2\|w\|^2` (source 004's :math:`\lambda`), :math:`\lambda_i` the eigenvalues of
H, :math:`\varepsilon` the learning rate, :math:`\tau` the number of steps.

- L2 rescales :math:`w^*` along the eigenvectors of H: :math:`\tilde w = Q\,\mathrm{diag}
  (\lambda_i/(\lambda_i+\alpha))\,Q^\top w^*` (:func:`ridge`, :func:`l2_filter`).
- L1 with a diagonal H soft-thresholds: :math:`\tilde w_i = \operatorname{sign}(w^*_i)
  \max(|w^*_i| - \alpha/H_{ii}, 0)` (:func:`soft_threshold`, :func:`lasso_diagonal`); for any H,
  :func:`lasso` solves the problem by coordinate descent.
- Gradient descent from 0 stopped after τ steps: :math:`w_\tau = Q\,\mathrm{diag}(1-(1-\varepsilon
  \lambda_i)^\tau)\,Q^\top w^*` (:func:`gd_filter`, :func:`gradient_descent`), close to L2 with
  :math:`\alpha \approx 1/(\varepsilon\tau)` (:func:`matching_alpha`).
- Gaussian input noise of variance σ² is, in expectation, L2 with α = σ² (Bishop 1995):
  :func:`noisy_least_squares` solves least squares on noisy copies of the data.
- Dropout on the inputs of softmax regression: the weight-scaled model is *exactly* the normalized
  geometric mean of all :math:`2^D` masked models (:func:`dropout_softmax_ensemble`).
- Ensembles: the variance of an average of k models (:func:`average_variance`) and the expected
  fraction of distinct examples in a bootstrap sample (:func:`bootstrap_unique_fraction`).
"""
from __future__ import annotations

import itertools

import numpy as np

from course_lib import _validate

__all__ = [
    "hessian", "least_squares", "ridge", "l2_filter", "gd_filter", "spectral_solution", "gradient_descent",
    "matching_alpha", "matching_alpha_spectral", "soft_threshold", "lasso_diagonal", "lasso", "noisy_least_squares",
    "dropout_softmax_ensemble", "average_variance", "bootstrap_unique_fraction",
]


def _design(x, y):
    x = _validate.array("x", x)
    y = _validate.array("y", y)
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"x must have shape (N, D) with N >= 1, got {x.shape}")
    if y.shape != (x.shape[0],):
        raise ValueError(f"y must have shape ({x.shape[0]},) (one target per row of x), got {y.shape}")
    return x, y


def hessian(x) -> np.ndarray:
    r""":math:`H = X^\top X / N`, the Hessian of :math:`J(w) = \frac{1}{2N}\|Xw-y\|^2`. Shape (D, D)."""
    x = _validate.array("x", x)
    if x.ndim != 2:
        raise ValueError(f"x must have shape (N, D), got {x.shape}")
    return x.T @ x / len(x)


def ridge(x, y, alpha: float) -> np.ndarray:
    r"""The minimizer of :math:`\frac{1}{2N}\|Xw-y\|^2 + \frac\alpha2\|w\|^2`:
    :math:`(H + \alpha I)^{-1} X^\top y / N`. ``alpha`` = 0 is ordinary least squares (H must then be
    invertible). Shape (D,)."""
    x, y = _design(x, y)
    alpha = _validate.real("alpha", alpha, low=0.0)
    return np.linalg.solve(hessian(x) + alpha * np.eye(x.shape[1]), x.T @ y / len(x))


def least_squares(x, y) -> np.ndarray:
    r""":math:`w^* = H^{-1} X^\top y/N`, the unregularized minimizer (H must be invertible)."""
    return ridge(x, y, 0.0)


def l2_filter(eigenvalues, alpha: float) -> np.ndarray:
    r"""L2's factor along each eigenvector of H: :math:`\lambda_i/(\lambda_i + \alpha)`."""
    lam = _validate.array("eigenvalues", eigenvalues)
    alpha = _validate.real("alpha", alpha, low=0.0)
    return lam / (lam + alpha)


def gd_filter(eigenvalues, lr: float, steps: int) -> np.ndarray:
    r"""Early stopping's factor: gradient descent from :math:`w_0 = 0` with rate ε for τ steps reaches
    :math:`1 - (1-\varepsilon\lambda_i)^\tau` of :math:`w^*` along eigenvector i."""
    lam = _validate.array("eigenvalues", eigenvalues)
    lr = _validate.real("lr", lr, low=0.0)
    steps = _validate.integer("steps", steps, low=0)
    return 1.0 - (1.0 - lr * lam) ** steps


def spectral_solution(h, w_star, factors) -> np.ndarray:
    r""":math:`Q\,\mathrm{diag}(f)\,Q^\top w^*` for H = QΛQᵀ (eigenvalues ascending, as
    ``numpy.linalg.eigh`` returns them) and one factor per eigenvalue."""
    h = _validate.array("h", h)
    w_star = _validate.array("w_star", w_star)
    factors = _validate.array("factors", factors)
    if h.ndim != 2 or h.shape[0] != h.shape[1] or w_star.shape != (h.shape[0],) or factors.shape != w_star.shape:
        raise ValueError(f"h must be (D, D), w_star and factors (D,); got {h.shape}, {w_star.shape}, {factors.shape}")
    _, q = np.linalg.eigh(h)
    return q @ (factors * (q.T @ w_star))


def gradient_descent(x, y, lr: float, steps: int, w0=None) -> np.ndarray:
    r"""``steps`` iterations :math:`w \leftarrow w - \varepsilon\,\tfrac1N X^\top(Xw-y)` from ``w0``
    (default 0); returns every iterate, shape (steps + 1, D)."""
    x, y = _design(x, y)
    lr = _validate.real("lr", lr, low=0.0)
    steps = _validate.integer("steps", steps, low=0)
    w = np.zeros(x.shape[1]) if w0 is None else _validate.array("w0", w0).copy()
    h, b = hessian(x), x.T @ y / len(x)
    path = [w]
    for _ in range(steps):
        w = w - lr * (h @ w - b)
        path.append(w)
    return np.array(path)


def matching_alpha(h, w_star, lr: float, steps: int, grid=None) -> float:
    r"""The α whose L2 solution is closest to early stopping's: the minimizer over ``grid`` (default
    400 values from :math:`10^{-6}` to :math:`10^{3}`, log-spaced) of
    :math:`\|Q\,\mathrm{diag}(\lambda_i/(\lambda_i+\alpha) - 1 + (1-\varepsilon\lambda_i)^\tau)Q^\top w^*\|`,
    refined by a parabola through the three best grid points on the log scale. See
    :func:`matching_alpha_spectral` for the same with H's eigen-decomposition given."""
    lam, q = np.linalg.eigh(_validate.array("h", h))
    return matching_alpha_spectral(lam, q.T @ _validate.array("w_star", w_star), lr, steps, grid)


def matching_alpha_spectral(eigenvalues, coefficients, lr: float, steps: int, grid=None) -> float:
    r""":func:`matching_alpha` from the eigenvalues :math:`\lambda_i` of H and the coordinates
    :math:`Q^\top w^*` of :math:`w^*` in its eigenbasis (in the same order)."""
    lam = _validate.array("eigenvalues", eigenvalues)
    coef = _validate.array("coefficients", coefficients)
    grid = np.logspace(-6, 3, 400) if grid is None else _validate.array("grid", grid)
    target = gd_filter(lam, lr, steps) * coef
    gaps = np.linalg.norm(lam / (lam + grid[:, None]) * coef - target, axis=1)      # one row per alpha
    i = int(np.clip(np.argmin(gaps), 1, len(grid) - 2))
    u = np.log(grid[i - 1:i + 2])
    fit = np.polyfit(u, gaps[i - 1:i + 2], 2)
    best = -fit[1] / (2 * fit[0]) if fit[0] > 0 else u[1]
    return float(np.exp(np.clip(best, u[0], u[2])))


def soft_threshold(w, threshold) -> np.ndarray:
    r""":math:`\operatorname{sign}(w)\max(|w| - t, 0)`, elementwise (the proximal map of :math:`t\|w\|_1`)."""
    w = _validate.array("w", w)
    threshold = _validate.array("threshold", threshold)
    if np.any(threshold < 0):
        raise ValueError("threshold must be >= 0")
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)


def lasso_diagonal(w_star, h_diagonal, alpha: float) -> np.ndarray:
    r"""Goodfellow's (7.22): with a diagonal Hessian, the minimizer of
    :math:`\frac12 (w-w^*)^\top H (w-w^*) + \alpha\|w\|_1` is
    :math:`\operatorname{sign}(w^*_i)\max(|w^*_i| - \alpha/H_{ii}, 0)`."""
    h_diagonal = _validate.array("h_diagonal", h_diagonal)
    if np.any(h_diagonal <= 0):
        raise ValueError("h_diagonal must be > 0 in every entry")
    alpha = _validate.real("alpha", alpha, low=0.0)
    return soft_threshold(w_star, alpha / h_diagonal)


def lasso(x, y, alpha: float, *, sweeps: int = 200, w0=None) -> np.ndarray:
    r"""The minimizer of :math:`\frac{1}{2N}\|Xw-y\|^2 + \alpha\|w\|_1` by cyclic coordinate descent:
    each coordinate in turn is set to its exact one-dimensional minimizer
    :math:`w_j = S(b_j - \sum_{k\ne j} H_{jk}w_k,\ \alpha)/H_{jj}` (S the soft threshold). ``sweeps``
    passes over the coordinates, from ``w0`` (default 0, or a previous solution: a warm start)."""
    x, y = _design(x, y)
    alpha = _validate.real("alpha", alpha, low=0.0)
    sweeps = _validate.integer("sweeps", sweeps, low=1)
    h, b = hessian(x), x.T @ y / len(x)
    if np.any(np.diag(h) <= 0):
        raise ValueError("every column of x must be nonzero")
    w = np.zeros(x.shape[1]) if w0 is None else _validate.array("w0", w0).copy()
    for _ in range(sweeps):
        for j in range(len(w)):
            rest = b[j] - h[j] @ w + h[j, j] * w[j]
            w[j] = np.sign(rest) * max(abs(rest) - alpha, 0.0) / h[j, j]
    return w


def noisy_least_squares(x, y, std: float, copies: int, rng) -> np.ndarray:
    r"""Least squares on ``copies`` noisy versions of the data, :math:`x_n + \sigma\xi`, each row
    repeated with fresh noise. As the copies grow this tends to :func:`ridge` with α = σ²:
    :math:`\mathbb E\,\frac1{2}(w^\top(x+\sigma\xi) - y)^2 = \frac12(w^\top x - y)^2 + \frac{\sigma^2}{2}\|w\|^2`."""
    x, y = _design(x, y)
    std = _validate.real("std", std, low=0.0)
    copies = _validate.integer("copies", copies, low=1)
    rng = _validate.rng("rng", rng)
    h, b = np.zeros((x.shape[1], x.shape[1])), np.zeros(x.shape[1])
    for _ in range(copies):        # accumulate X~^T X~ and X~^T y copy by copy: no (copies * N, D) matrix
        noisy = x + std * rng.standard_normal(x.shape)
        h += noisy.T @ noisy
        b += noisy.T @ y
    return np.linalg.solve(h, b)


def _softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def dropout_softmax_ensemble(w, b, x, keep: float):
    r"""Every dropout mask on the D inputs of softmax regression :math:`p(y|x) = \operatorname{softmax}(Wx+b)`.

    Enumerates the :math:`2^D` masks m, with probabilities :math:`\pi(m) = q^{|m|}(1-q)^{D-|m|}`
    (q = ``keep``), and returns three (N, C) arrays of class probabilities:

    - ``geometric``: the normalized weighted geometric mean :math:`\propto \prod_m p(y|m\odot x)^{\pi(m)}`;
    - ``arithmetic``: the ensemble average :math:`\sum_m \pi(m)\,p(y|m\odot x)`;
    - ``scaled``: the weight-scaled model :math:`\operatorname{softmax}(qWx + b)`.

    Goodfellow et al. §7.12 prove ``geometric == scaled`` exactly: the log of the geometric mean is
    :math:`\sum_m \pi(m)(W(m\odot x)+b) + \text{const} = qWx + b + \text{const}`. W (C, D), b (C,), x (N, D); D <= 16.
    """
    w, b, x = _validate.array("w", w), _validate.array("b", b), _validate.array("x", x)
    keep = _validate.real("keep", keep, low=0.0, high=1.0)
    if w.ndim != 2 or b.shape != (w.shape[0],) or x.ndim != 2 or x.shape[1] != w.shape[1]:
        raise ValueError(f"need w (C, D), b (C,), x (N, D); got {w.shape}, {b.shape}, {x.shape}")
    d = w.shape[1]
    if d > 16:
        raise ValueError(f"x has {d} features: 2^{d} masks are too many to enumerate (at most 16)")
    masks = np.array(list(itertools.product([0.0, 1.0], repeat=d)))            # (2^D, D)
    kept = masks.sum(axis=1)
    prob = keep**kept * (1 - keep) ** (d - kept)                               # (2^D,)
    logits = np.einsum("md,nd,cd->mnc", masks, x, w) + b                       # (2^D, N, C)
    log_p = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True)) \
        - logits.max(-1, keepdims=True)
    geometric = _softmax(np.einsum("m,mnc->nc", prob, log_p))
    arithmetic = np.einsum("m,mnc->nc", prob, np.exp(log_p))
    scaled = _softmax(keep * x @ w.T + b)
    return geometric, arithmetic, scaled


def average_variance(v: float, c: float, k: int) -> float:
    r"""The variance of the average of k predictors, each of variance v, pairwise covariance c:
    :math:`\frac vk + \frac{k-1}{k}c` (Goodfellow et al. §7.11)."""
    v = _validate.real("v", v, low=0.0)
    c = _validate.real("c", c)
    k = _validate.integer("k", k, low=1)
    return v / k + (k - 1) * c / k


def bootstrap_unique_fraction(n: int) -> float:
    r"""The expected fraction of distinct examples in a bootstrap sample of n from n:
    :math:`1 - (1 - 1/n)^n \to 1 - 1/e \approx 0.632`."""
    n = _validate.integer("n", n, low=1)
    return 1.0 - (1.0 - 1.0 / n) ** n
