r"""Experiments of the chapter "Momentum": races and eigen-coordinates, measured on real runs.

The optimizers live in :mod:`course_lib.optim`, the surfaces in :mod:`course_lib.surfaces` and the
exact theory of heavy ball and Nesterov on a quadratic (rates, regimes, noise floors) in
:mod:`course_lib.quadratic_theory`; this module runs the optimizers so that the chapter's figures
and widgets can show what happens beside what the theory predicts::

    runs = momentum_race(surfaces.quadratic(50), x0=(-2.0, 1.5), steps=100, lr=1.0, momentum=0.9)
    runs["Nesterov"].losses                      # f(x_0) .. f(x_100), NaN after a divergence
    x = eigen_trajectory(1.0, 0.9, 0.02, 200)    # one eigen-coordinate x_0 .. x_200 (x_0 = 1)
    measured_rate(x)                             # compare with quadratic_theory.spectral_radius

Public names
------------
``momentum_race``, ``eigen_trajectory``, ``measured_rate``.
"""
from __future__ import annotations

import numpy as np

from course_lib import _validate, optim, quadratic_theory, surfaces

__all__ = [
    "momentum_race",
    "eigen_trajectory",
    "measured_rate",
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
