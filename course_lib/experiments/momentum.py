r"""Experiments of the chapter "Momentum": races and eigen-coordinates, measured on real runs.

The optimizers live in :mod:`course_lib.optim`, the surfaces in :mod:`course_lib.surfaces` and the
exact theory of heavy ball and Nesterov on a quadratic (rates, regimes, noise floors) in
:mod:`course_lib.quadratic_theory`; this module runs the optimizers so that the chapter's figures
and widgets can show what happens beside what the theory predicts::

    runs = momentum_race(surfaces.quadratic(50), x0=(-2.0, 1.5), steps=100, lr=1.0, momentum=0.9)
    runs["Nesterov"].losses                      # f(x_0) .. f(x_100), NaN after a divergence
    x = eigen_trajectory(1.0, 0.9, 0.02, 200)    # one eigen-coordinate x_0 .. x_200 (x_0 = 1)
    measured_rate(x)                             # compare with quadratic_theory.spectral_radius

The lower bound (Nesterov's worst-case quadratic) and the noisy races::

    bowl = worst_case_quadratic(0.01, 1.0, 200)  # tridiagonal: x_k of any first-order method from 0
    krylov_lower_bound(bowl, 60)                 # lies in span(e_1..e_k): ||x_k - x*|| >= this
    noisy_mean_losses({"SGD": optim.sgd(0.2)}, surfaces.quadratic(10), 0.3, (2, -2), 3000, seeds=10)

Public names
------------
``momentum_race``, ``eigen_trajectory``, ``measured_rate``, ``worst_case_quadratic``,
``krylov_lower_bound``, ``conjugate_gradient``, ``noisy_mean_losses``, ``steps_to_floor``.
"""
from __future__ import annotations

import numpy as np

from course_lib import _validate, optim, quadratic_theory, surfaces

__all__ = [
    "momentum_race",
    "eigen_trajectory",
    "measured_rate",
    "worst_case_quadratic",
    "krylov_lower_bound",
    "conjugate_gradient",
    "noisy_mean_losses",
    "steps_to_floor",
]


def momentum_race(surface, x0, steps, lr, momentum) -> dict:
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
        raise ValueError(f"x0 must be nonzero (at 0 the coordinate never moves), got {x0:g}")
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
    try:
        x = np.asarray(trajectory, dtype=np.float64)  # NaN allowed: a cut, divergent run
    except (TypeError, ValueError) as error:
        raise TypeError(f"trajectory must be an array of real numbers: {error}") from None
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


# --------------------------------------------------------------------------------------------
# The lower bound: no first-order method beats (sqrt(kappa) - 1)/(sqrt(kappa) + 1)
# --------------------------------------------------------------------------------------------

def worst_case_quadratic(mu, L, dim) -> surfaces.Quadratic:
    r"""Nesterov's worst strongly convex quadratic (*Introductory Lectures*, §2.1.4), in ``dim`` coordinates.

    .. math::

        f(x) = \frac{L-\mu}{8}\bigl(x^\top A x - 2x_1\bigr) + \frac\mu2\|x\|^2, \qquad
        A = \mathrm{tridiag}(-1, 2, -1),

    so :math:`H = \frac{L-\mu}4 A + \mu I` has its eigenvalues in :math:`(\mu, L)`. Returned as
    ``surfaces.Quadratic(H, center=x*)`` (the same f up to a constant), :math:`x^* = H^{-1}\frac{L-\mu}4 e_1`;
    for :math:`\text{dim}\to\infty`, :math:`x^*_i = q^i` with :math:`q = (\sqrt\kappa-1)/(\sqrt\kappa+1)`.
    """
    mu, L = quadratic_theory._mu_L(mu, L)
    dim = _validate.integer("dim", dim, low=2)
    A = 2.0 * np.eye(dim) - np.eye(dim, k=1) - np.eye(dim, k=-1)
    H = (L - mu) / 4.0 * A + mu * np.eye(dim)
    b = np.zeros(dim)
    b[0] = (L - mu) / 4.0
    return surfaces.Quadratic(H, center=np.linalg.solve(H, b))


def krylov_lower_bound(surface, steps) -> np.ndarray:
    r""":math:`\min_{x \in \mathrm{span}(e_1, \dots, e_k)} \|x - x^*\| / \|x^*\|` for k = 0..``steps``, shape (steps + 1,).

    On :func:`worst_case_quadratic` started at :math:`x_0 = 0`, the gradient :math:`H(x - x^*)` of a
    point supported on the first k coordinates is supported on the first k + 1 (H is tridiagonal), so
    every method whose iterate lies in :math:`x_0 + \mathrm{span}(\nabla f(x_0), \dots, \nabla f(x_{k-1}))`
    (gradient descent, heavy ball, Nesterov, conjugate gradients, any step sizes) has
    :math:`x_k \in \mathrm{span}(e_1..e_k)` and :math:`\|x_k - x^*\| \ge \|(x^*_{k+1}, \dots, x^*_d)\|`.
    """
    if not isinstance(surface, surfaces.Quadratic):
        raise TypeError(f"surface must be a surfaces.Quadratic (worst_case_quadratic), got {type(surface).__name__}")
    steps = _validate.integer("steps", steps, low=0, high=surface.dim - 1)
    x_star = surface.center
    tails = np.sqrt(np.cumsum((x_star**2)[::-1])[::-1])      # ||x*_{k+1:}|| for k = 0..d-1
    return tails[:steps + 1] / tails[0]


def conjugate_gradient(surface, x0, steps) -> np.ndarray:
    r"""Conjugate gradients on a quadratic: the best point of the Krylov subspace in the H-norm, per step.

    The textbook recursion (Hestenes and Stiefel 1952) with residual :math:`r = -\nabla f(x)`:
    :math:`a = r^\top r / p^\top H p`, :math:`x \leftarrow x + a p`, :math:`r' = r - a H p`,
    :math:`p \leftarrow r' + (r'^\top r'/r^\top r)\,p`. A first-order method in the sense of
    :func:`krylov_lower_bound`. Returns the iterates, shape (steps + 1, d).
    """
    if not isinstance(surface, surfaces.Quadratic):
        raise TypeError(f"surface must be a surfaces.Quadratic, got {type(surface).__name__}")
    steps = _validate.integer("steps", steps, low=0)
    x = surfaces._point("x0", x0, surface.dim)
    H = surface.hessian
    out = np.empty((steps + 1, surface.dim))
    out[0] = x
    r = -surface.grad(x)
    p = r.copy()
    for k in range(steps):
        rr = r @ r
        if rr == 0.0:                     # solved exactly: stay
            out[k + 1:] = x
            break
        Hp = H @ p
        a = rr / (p @ Hp)
        x = x + a * p
        r = r - a * Hp
        p = r + (r @ r / rr) * p
        out[k + 1] = x
    return out


# --------------------------------------------------------------------------------------------
# Noise: equal effective steps, equal floors
# --------------------------------------------------------------------------------------------

def noisy_mean_losses(optimizers, surface, sigma, x0, steps, seeds) -> dict:
    r"""The loss curves :math:`f(x_k)`, k = 0..``steps``, averaged over ``seeds`` runs with noisy gradients.

    Each optimizer of the dict ``optimizers`` runs with :func:`course_lib.surfaces.run` on
    ``surfaces.noisy(surface, sigma)`` with the seeds 0..seeds-1 (the same noise for every optimizer).
    Returns ``{name: mean losses}``, each shape (steps + 1,): an estimate of :math:`\mathbb E f(x_k)`, to
    compare with :func:`course_lib.quadratic_theory.noise_floor`.
    """
    if not isinstance(optimizers, dict) or not optimizers:
        raise TypeError(f"optimizers must be a non-empty dict name -> optimizer, got {type(optimizers).__name__}")
    seeds = _validate.integer("seeds", seeds, low=1)
    noisy = surfaces.noisy(surface, sigma)
    return {name: np.mean([surfaces.run(opt, noisy, x0, steps, rng=seed).losses for seed in range(seeds)], axis=0)
            for name, opt in optimizers.items()}


def steps_to_floor(losses, floor, factor=1.5) -> int:
    r"""The first k with ``losses[k]`` <= ``factor`` * ``floor``: how long a run takes to reach its noise
    floor (``losses`` a mean curve from :func:`noisy_mean_losses`). -1 if it never does."""
    losses = _validate.series("losses", losses)
    floor = _validate.real("floor", floor, low=0.0, low_open=True)
    factor = _validate.real("factor", factor, low=1.0)
    below = losses <= factor * floor
    return int(np.argmax(below)) if below.any() else -1
