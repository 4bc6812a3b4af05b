r"""Experiments of the chapter "Momentum": races, eigen-coordinates, regimes, noise floors.

The optimizers live in :mod:`course_lib.optim`, the surfaces in :mod:`course_lib.surfaces` and the
exact theory of heavy ball on a quadratic in :mod:`course_lib.quadratic_theory`; this module
puts them together into what the chapter's figures and widgets show::

    runs = race(surfaces.quadratic(50), lr=1.0, momentum=0.9, x0=(-2.0, 1.5), steps=100)
    runs["Nesterov"].losses                      # f(x_0) .. f(x_100), NaN after a divergence
    x = eigen_trajectory(1.0, 0.9, 0.02, 200)    # one eigen-coordinate x_0 .. x_200 (x_0 = 1)
    regime(1.0, 0.9, 0.02)                       # 'under-damped'
    noise_floor(0.1, 0.9, [1.0, 0.02], 0.5)      # expected loss of momentum at stationarity

Public names
------------
``race``, ``eigen_trajectory``, ``measured_rate``, ``regime``, ``stationary_variance``,
``noise_floor``, ``nesterov_iteration_matrix``, ``nesterov_spectral_radius``.
"""
from __future__ import annotations

import numpy as np

from course_lib import _validate, optim, quadratic_theory, surfaces

__all__ = [
    "race",
    "eigen_trajectory",
    "measured_rate",
    "regime",
    "stationary_variance",
    "noise_floor",
    "nesterov_iteration_matrix",
    "nesterov_spectral_radius",
]

def race(surface, lr, momentum, x0, steps) -> dict:
    r"""Run SGD, heavy-ball momentum and Nesterov momentum side by side (exact gradients).

    The three are ``optim.sgd(lr)``, ``optim.sgd(lr, momentum)`` and
    ``optim.sgd(lr, momentum, nesterov=True)``, each run with :func:`course_lib.surfaces.run` from
    ``x0`` for ``steps`` steps. Returns ``{"SGD": Run, "momentum": Run, "Nesterov": Run}`` with
    ``params`` of shape (steps + 1, d) and ``losses`` (steps + 1,); a run that diverges (overflow,
    or farther than 1e6 from ``x0``) has NaN from that point on, so plots simply stop there.
    """
    lr = _validate.real("lr", lr, low=0.0, low_open=True)
    momentum = _validate.real("momentum", momentum, low=0.0, high=1.0, high_open=True)
    steps = _validate.integer("steps", steps, low=1)
    optimizers = {"SGD": optim.sgd(lr)}
    if momentum > 0:
        optimizers["momentum"] = optim.sgd(lr, momentum=momentum)
        optimizers["Nesterov"] = optim.sgd(lr, momentum=momentum, nesterov=True)
    else:  # momentum 0: both are plain SGD
        optimizers["momentum"] = optimizers["Nesterov"] = optimizers["SGD"]
    return surfaces.race(optimizers, surface, x0, steps)


def eigen_trajectory(step, momentum, eigenvalue, steps, x0=1.0) -> np.ndarray:
    r"""One eigen-coordinate of heavy ball on a quadratic, measured on a real run.

    Runs ``optim.sgd(lr=step, momentum=momentum)`` on the 1-D quadratic
    :math:`f(x) = \tfrac12 \lambda x^2` from ``x0`` and returns :math:`x_0, \dots, x_{\text{steps}}`,
    shape (steps + 1,). Along an eigenvector of H the coordinates of any quadratic follow exactly
    this recurrence, :math:`x_{k+1} = (1 + \beta - \alpha\lambda) x_k - \beta x_{k-1}`. A divergent run
    is cut (NaN) once :math:`|x_k|` exceeds 1e6 :math:`|x_0|`.
    """
    step = _validate.real("step", step, low=0.0)
    momentum = _validate.real("momentum", momentum, low=0.0, high=1.0, high_open=True)
    eigenvalue = _validate.real("eigenvalue", eigenvalue, low=0.0, low_open=True)
    steps = _validate.integer("steps", steps, low=1)
    x0 = _validate.real("x0", x0)
    if x0 == 0:
        raise ValueError("x0 must be nonzero (at 0 the coordinate never moves)")
    with np.errstate(over="ignore", invalid="ignore"):
        result = surfaces.run(optim.sgd(lr=step, momentum=momentum), surfaces.Quadratic([[eigenvalue]]),
                              [x0], steps)
        x = result.params[:, 0].copy()
        bad = ~np.isfinite(x) | (np.abs(x) > surfaces.DIVERGED * abs(x0))
    if bad.any():
        x[int(np.argmax(bad)):] = np.nan
    return x


def measured_rate(trajectory, *, skip=None) -> float:
    r"""The rate per step read off a run: ``fit_rate`` of :math:`e_k = \sqrt{x_k^2 + x_{k-1}^2}`.

    ``trajectory``: shape (K + 1,) (one coordinate) or (K + 1, d), e.g. errors from the minimiser.
    Using the pair :math:`(x_k, x_{k-1})`, the state of the 2-D recurrence, keeps :math:`e_k` away
    from zero when an oscillating coordinate crosses zero. The fit skips the first ``skip`` errors
    (default: a quarter, the transient) and stops before the numbers underflow (< 1e-250) or blow up
    (NaN). Returns 0.0 if the run reaches exactly 0, which happens for :math:`\alpha\lambda = 1`,
    :math:`\beta = 0`.
    """
    if isinstance(trajectory, (str, bytes, dict, set)) or trajectory is None:
        raise TypeError(f"trajectory must be an array of numbers, got {type(trajectory).__name__}")
    x = np.asarray(trajectory, dtype=np.float64)  # NaN allowed: a cut, divergent run
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] < 4:
        raise ValueError(f"trajectory must have shape (K + 1,) or (K + 1, d) with K >= 3, got {x.shape}")
    errors = np.sqrt(np.sum(x[1:] ** 2 + x[:-1] ** 2, axis=1))
    keep = np.isfinite(errors) & (errors > 1e-250)
    if not keep.all():
        errors = errors[:int(np.argmin(keep))]
        if errors.size < 2:
            return float("inf") if np.isnan(x).any() else 0.0
    skip = errors.size // 4 if skip is None else _validate.integer("skip", skip, low=0)
    skip = min(skip, errors.size - 2)
    return quadratic_theory.fit_rate(errors, skip=skip)


def regime(step, momentum, eigenvalue) -> str:
    r"""How heavy ball moves along one eigen-direction (roots of :math:`z^2 - (1+\beta-\alpha\lambda)z + \beta`).

    ``"diverges"`` outside :math:`0 < \alpha\lambda < 2(1+\beta)` (``"stuck"`` at :math:`\alpha\lambda = 0`);
    otherwise, with discriminant :math:`D = (1+\beta-\alpha\lambda)^2 - 4\beta`:
    ``"under-damped"`` for :math:`D < 0` (complex roots: ripples shrinking by :math:`\sqrt\beta`),
    ``"critically damped"`` for :math:`D = 0` (to a relative 1e-9), and for :math:`D > 0`
    ``"over-damped"`` if the dominant root is positive (monotone creep) or ``"sign-flipping"`` if it is
    negative (the sign flips every step, as gradient descent with :math:`\alpha\lambda > 1`).
    """
    alpha = _validate.real("step", step, low=0.0)
    beta = _validate.real("momentum", momentum, low=0.0, high=1.0, high_open=True)
    lam = _validate.real("eigenvalue", eigenvalue, low=0.0, low_open=True)
    product = alpha * lam
    if product == 0:
        return "stuck"
    if not quadratic_theory.converges(alpha, beta, lam):
        return "diverges"
    trace = 1.0 + beta - product
    disc = trace * trace - 4.0 * beta
    if abs(disc) <= 1e-9 * max(1.0, trace * trace):
        return "critically damped"
    if disc < 0:
        return "under-damped"
    return "over-damped" if trace > 0 else "sign-flipping"


def stationary_variance(step, momentum, eigenvalue, sigma):
    r"""The variance that gradient noise leaves in one eigen-coordinate, at stationarity.

    With noisy gradients :math:`\lambda x_k + \sigma\xi_k` (:math:`\xi_k \sim N(0,1)`), heavy ball is
    the AR(2) process :math:`x_{k+1} = (1+\beta-\alpha\lambda)x_k - \beta x_{k-1} - \alpha\sigma\xi_k`,
    whose stationary variance is

    .. math::

        \operatorname{Var} x = \frac{\alpha\,\sigma^2\,(1+\beta)}
                                    {\lambda\,(1-\beta)\,\bigl(2(1+\beta) - \alpha\lambda\bigr)}
        \;\approx\; \frac{\alpha}{1-\beta}\cdot\frac{\sigma^2}{2\lambda}
        \quad(\alpha\lambda \ll 1).

    :math:`\beta = 0` gives SGD's :math:`\alpha\sigma^2/(\lambda(2-\alpha\lambda))`. Momentum acts like
    SGD with the step :math:`\alpha/(1-\beta)`. ``inf`` outside the convergence region. Broadcasts.
    """
    alpha = np.asarray(_validate.array("step", step))
    beta = np.asarray(_validate.array("momentum", momentum))
    lam = np.asarray(_validate.array("eigenvalue", eigenvalue))
    sigma = _validate.real("sigma", sigma, low=0.0)
    if np.any(alpha <= 0) or np.any(beta < 0) or np.any(beta >= 1) or np.any(lam <= 0):
        raise ValueError("step and eigenvalue must be > 0 and momentum in [0, 1)")
    denominator = lam * (1.0 - beta) * (2.0 * (1.0 + beta) - alpha * lam)
    with np.errstate(divide="ignore"):
        out = np.where(denominator > 0, alpha * sigma**2 * (1.0 + beta) / np.where(denominator > 0, denominator, 1.0),
                       np.inf)
    return float(out) if out.ndim == 0 else out


def noise_floor(step, momentum, eigenvalues, sigma) -> float:
    r"""The expected loss :math:`\mathbb E f = \tfrac12\sum_i \lambda_i \operatorname{Var} x_i` at
    stationarity, for :math:`f = \tfrac12 x^\top H x` with eigenvalues ``eigenvalues`` and isotropic
    gradient noise of standard deviation ``sigma`` per component (:func:`course_lib.surfaces.noisy`).
    For small steps it is about :math:`d\,\sigma^2\alpha / (4(1-\beta))`, d = number of eigenvalues."""
    lam = np.atleast_1d(_validate.array("eigenvalues", eigenvalues))
    if lam.ndim != 1 or lam.size == 0 or np.any(lam <= 0):
        raise ValueError("eigenvalues must be a non-empty list of positive numbers")
    variances = np.atleast_1d(stationary_variance(step, momentum, lam, sigma))
    return float(0.5 * np.sum(lam * variances))


def nesterov_iteration_matrix(step, momentum, eigenvalue) -> np.ndarray:
    r"""Nesterov's 2x2 matrix along one eigen-direction, on :math:`(y_k, y_{k-1})` for torch's iterates y:

    .. math::

        y_{k+1} = (1+\beta)(1-\alpha\lambda)\,y_k - \beta(1-\alpha\lambda)\,y_{k-1}, \qquad
        T_N = \begin{pmatrix} (1+\beta)(1-\alpha\lambda) & -\beta(1-\alpha\lambda) \\ 1 & 0 \end{pmatrix}

    (``optim.sgd(step, momentum, nesterov=True)`` on :math:`\tfrac12\lambda y^2`). Compared with heavy
    ball's :math:`T`, the momentum term is multiplied by :math:`1 - \alpha\lambda`: it shrinks in
    directions of high curvature, which damps their oscillations.
    """
    alpha = _validate.real("step", step, low=0.0)
    beta = _validate.real("momentum", momentum, low=0.0, high=1.0, high_open=True)
    lam = _validate.real("eigenvalue", eigenvalue)
    c = 1.0 - alpha * lam
    return np.array([[(1.0 + beta) * c, -beta * c], [1.0, 0.0]])


def nesterov_spectral_radius(step, momentum, eigenvalue) -> float:
    r"""The spectral radius of :func:`nesterov_iteration_matrix`: Nesterov's rate along one direction."""
    return float(np.max(np.abs(np.linalg.eigvals(nesterov_iteration_matrix(step, momentum, eigenvalue)))))
