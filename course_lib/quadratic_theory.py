r"""Gradient descent and momentum on a quadratic, exactly (chapter "Momentum").

On :math:`f(x) = \tfrac12 x^\top H x` with H's eigenvalues :math:`\lambda`, heavy-ball momentum
(``optim.sgd(lr=alpha, momentum=beta)``, Polyak 1964)

.. math:: x_{k+1} = x_k - \alpha \nabla f(x_k) + \beta (x_k - x_{k-1})

splits into one independent 2-D linear recurrence per eigen-direction:

.. math::

    \begin{pmatrix} x_{k+1} \\ x_k \end{pmatrix}
    = \underbrace{\begin{pmatrix} 1 + \beta - \alpha\lambda & -\beta \\ 1 & 0 \end{pmatrix}}_{T(\alpha, \beta, \lambda)}
      \begin{pmatrix} x_k \\ x_{k-1} \end{pmatrix}

(torch's first momentum buffer :math:`b_1 = g_1` is the start :math:`x_{-1} = x_0`). The error
shrinks per step by the spectral radius :math:`\rho(T)`, the largest :math:`|z|` among the roots
of :math:`z^2 - (1 + \beta - \alpha\lambda) z + \beta = 0`; the method's rate is the worst
:math:`\rho` over the eigenvalues. Plain gradient descent is :math:`\beta = 0`,
:math:`\rho = |1 - \alpha\lambda|`.

Public names
------------
``iteration_matrix``, ``spectral_radius``, ``rate``, ``rate_map`` (vectorised, for heatmaps),
``converges`` (the region :math:`0 < \alpha\lambda < 2(1+\beta)`, :math:`0 \le \beta < 1`),
``critical_momentum`` (:math:`(1 - \sqrt{\alpha\lambda})^2`), ``optimal_gd``, ``optimal_momentum``,
``gd_rate`` (:math:`(\kappa-1)/(\kappa+1)`), ``momentum_rate`` (:math:`(\sqrt\kappa-1)/(\sqrt\kappa+1)`),
``max_acceleration`` (:math:`1/(1-\beta)`, source 000), ``fit_rate`` (measure a rate from errors).
"""
from __future__ import annotations

import numpy as np

from course_lib import _validate

__all__ = [
    "iteration_matrix",
    "spectral_radius",
    "rate",
    "rate_map",
    "converges",
    "critical_momentum",
    "optimal_gd",
    "optimal_momentum",
    "gd_rate",
    "momentum_rate",
    "max_acceleration",
    "fit_rate",
]


def _momentum(beta) -> float:
    return _validate.real("momentum", beta, low=0.0, high=1.0, high_open=True)


def _positive(name, value) -> float:
    return _validate.real(name, value, low=0.0, low_open=True)


def _eigenvalues(eigenvalues) -> np.ndarray:
    lam = np.atleast_1d(_validate.array("eigenvalues", eigenvalues))
    if lam.ndim != 1 or lam.size == 0 or np.any(lam <= 0):
        raise ValueError("eigenvalues must be a non-empty list of positive numbers")
    return lam


def iteration_matrix(step, momentum, eigenvalue) -> np.ndarray:
    r"""The 2x2 matrix :math:`T = \begin{pmatrix} 1+\beta-\alpha\lambda & -\beta \\ 1 & 0\end{pmatrix}`
    mapping :math:`(x_k, x_{k-1})` to :math:`(x_{k+1}, x_k)` along one eigen-direction."""
    alpha = _validate.real("step", step, low=0.0)
    beta = _momentum(momentum)
    lam = _validate.real("eigenvalue", eigenvalue)
    return np.array([[1.0 + beta - alpha * lam, -beta], [1.0, 0.0]])


def _radius(alpha, beta, lam):
    """Spectral radius of T, elementwise over broadcast arrays (no checks)."""
    trace = 1.0 + beta - alpha * lam
    disc = trace * trace - 4.0 * beta
    root = np.sqrt(np.abs(disc))
    real_roots = np.maximum(np.abs(trace + root), np.abs(trace - root)) / 2.0
    # complex pair: |z|^2 = z * conj(z) = beta (the determinant of T)
    return np.where(disc >= 0, real_roots, np.sqrt(beta))


def spectral_radius(step, momentum, eigenvalue):
    r""":math:`\rho(T(\alpha, \beta, \lambda))`: the factor by which the error along the eigen-direction
    shrinks per step (asymptotically). Arguments broadcast (arrays allowed): ``step`` >= 0, ``momentum``
    in [0, 1), ``eigenvalue`` real. Complex roots (:math:`(1+\beta-\alpha\lambda)^2 < 4\beta`, the
    under-damped, oscillating regime) have :math:`|z| = \sqrt\beta`."""
    alpha = _validate.array("step", step)
    beta = _validate.array("momentum", momentum)
    lam = _validate.array("eigenvalue", eigenvalue)
    if np.any(alpha < 0):
        raise ValueError("step must be >= 0")
    if np.any(beta < 0) or np.any(beta >= 1):
        raise ValueError("momentum must be in [0, 1)")
    out = _radius(alpha, beta, lam)
    return float(out) if out.ndim == 0 else out


def rate(step, momentum, eigenvalues) -> float:
    """The convergence rate on the whole quadratic: the largest spectral radius over ``eigenvalues``."""
    lam = _eigenvalues(eigenvalues)
    return float(np.max(_radius(_validate.real("step", step, low=0.0), _momentum(momentum), lam)))


def rate_map(steps, momenta, eigenvalues) -> np.ndarray:
    """The rate on a grid: ``out[i, j]`` is ``rate(steps[j], momenta[i], eigenvalues)``.

    Shapes: steps (S,), momenta (M,) -> (M, S), ready for ``imshow``/``pcolormesh`` with the step on
    the x axis. Values >= 1 diverge (or do not converge). Vectorised: a 200 x 200 map of a
    2-eigenvalue quadratic takes about a millisecond.
    """
    alpha = _validate.array("steps", steps)
    beta = _validate.array("momenta", momenta)
    if alpha.ndim != 1 or beta.ndim != 1:
        raise ValueError("steps and momenta must be 1-D arrays")
    if np.any(alpha < 0) or np.any(beta < 0) or np.any(beta >= 1):
        raise ValueError("steps must be >= 0 and momenta in [0, 1)")
    lam = _eigenvalues(eigenvalues)
    out = np.zeros((beta.size, alpha.size))
    for value in lam:
        np.maximum(out, _radius(alpha[None, :], beta[:, None], value), out=out)
    return out


def converges(step, momentum, eigenvalue):
    r"""Whether heavy ball converges along an eigen-direction: :math:`0 < \alpha\lambda < 2(1+\beta)`
    with :math:`0 \le \beta < 1` (the region where :math:`\rho(T) < 1`). Broadcasts."""
    alpha = np.asarray(step, dtype=np.float64)
    beta = np.asarray(momentum, dtype=np.float64)
    product = alpha * np.asarray(eigenvalue, dtype=np.float64)
    out = (product > 0) & (product < 2.0 * (1.0 + beta)) & (beta >= 0) & (beta < 1)
    return bool(out) if out.ndim == 0 else out


def critical_momentum(step, eigenvalue) -> float:
    r"""The momentum :math:`\beta = (1 - \sqrt{\alpha\lambda})^2` at which the eigen-direction is
    critically damped (double root, fastest non-oscillating decay) for :math:`0 < \alpha\lambda \le 1`.
    Less momentum over-damps (slow creep), more under-damps (oscillation with :math:`|z| = \sqrt\beta`)."""
    product = _validate.real("step", step, low=0.0) * _positive("eigenvalue", eigenvalue)
    if not 0 < product <= 1:
        raise ValueError(f"step * eigenvalue must be in (0, 1] for a critical momentum, got {product:g}")
    return (1.0 - np.sqrt(product)) ** 2


def _mu_L(mu, L):
    mu, L = _positive("mu", mu), _positive("L", L)
    if mu > L:
        raise ValueError(f"mu (the smallest eigenvalue) must be <= L (the largest), got mu={mu:g}, L={L:g}")
    return mu, L


def optimal_gd(mu, L):
    r"""Gradient descent's best step :math:`\alpha = 2/(L + \mu)` and its rate :math:`(\kappa-1)/(\kappa+1)`.

    Returns ``(step, rate)``; :math:`\kappa = L/\mu`."""
    mu, L = _mu_L(mu, L)
    return 2.0 / (L + mu), gd_rate(L / mu)


def optimal_momentum(mu, L):
    r"""Heavy ball's best parameters (Polyak 1964) and rate, for eigenvalues in :math:`[\mu, L]`:

    .. math::

        \alpha^* = \Bigl(\frac{2}{\sqrt L + \sqrt\mu}\Bigr)^2, \qquad
        \beta^* = \Bigl(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\Bigr)^2, \qquad
        \rho^* = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}

    Returns ``(step, momentum, rate)``. Both extreme directions are then critically damped.
    """
    mu, L = _mu_L(mu, L)
    kappa = L / mu
    return (2.0 / (np.sqrt(L) + np.sqrt(mu))) ** 2, momentum_rate(kappa) ** 2, momentum_rate(kappa)


def gd_rate(condition_number) -> float:
    r""":math:`(\kappa - 1)/(\kappa + 1)`: gradient descent's rate with its best step; about
    :math:`\kappa/2` steps per factor e."""
    kappa = _validate.real("condition_number", condition_number, low=1.0)
    return (kappa - 1.0) / (kappa + 1.0)


def momentum_rate(condition_number) -> float:
    r""":math:`(\sqrt\kappa - 1)/(\sqrt\kappa + 1)`: heavy ball's rate with its best parameters; about
    :math:`\sqrt\kappa/2` steps per factor e (for :math:`\kappa = 100`: 5 instead of 50)."""
    root = np.sqrt(_validate.real("condition_number", condition_number, low=1.0))
    return (root - 1.0) / (root + 1.0)


def max_acceleration(momentum) -> float:
    r"""The maximum acceleration :math:`1/(1-\beta)` of momentum (source 000).

    If every gradient equals G, the velocity :math:`V \leftarrow \beta V + \epsilon G` tends to
    :math:`\epsilon G/(1-\beta)`: steps :math:`1/(1-\beta)` times plain SGD's (100 for 0.99).
    """
    return 1.0 / (1.0 - _momentum(momentum))


def fit_rate(errors, *, skip=0) -> float:
    r"""Measure a linear convergence rate: :math:`\exp` of the least-squares slope of
    :math:`\log e_k` against k, over ``errors[skip:]`` (positive numbers, e.g. :math:`\|x_k - x^*\|`).

    For a double root (critical damping) the error decays like :math:`k\rho^k` and the fit over a
    finite window slightly overestimates :math:`\rho`; skip the start and use a long window.
    """
    errors = _validate.series("errors", errors, min_length=2)
    skip = _validate.integer("skip", skip, low=0, high=len(errors) - 2)
    tail = errors[skip:]
    if tail.ndim != 1 or np.any(tail <= 0):
        raise ValueError("errors must be a 1-D series of positive numbers")
    k = np.arange(tail.size, dtype=np.float64)
    slope = np.polyfit(k, np.log(tail), 1)[0]
    return float(np.exp(slope))
