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

Nesterov's momentum (``nesterov=True``) has its own matrix :math:`T_N`, and gradient noise leaves a
stationary variance per eigen-direction; both are here too, so that the chapters' experiments only
run things and compare them with this module.

Public names
------------
``iteration_matrix``, ``spectral_radius``, ``rate``, ``rate_map`` (vectorised, for heatmaps),
``converges`` (the region :math:`0 < \alpha\lambda < 2(1+\beta)`, :math:`0 \le \beta < 1`),
``stability_limit`` (its edge, :math:`\alpha = 2(1+\beta)/\lambda`),
``regime`` (under-, critically, over-damped, sign-flipping, diverging),
``critical_momentum`` (:math:`(1 - \sqrt{\alpha\lambda})^2`), ``optimal_gd``, ``optimal_momentum``,
``gd_rate`` (:math:`(\kappa-1)/(\kappa+1)`), ``momentum_rate`` (:math:`(\sqrt\kappa-1)/(\sqrt\kappa+1)`),
``max_acceleration`` (:math:`1/(1-\beta)`, source 000), ``fit_rate`` (measure a rate from errors),
``nesterov_iteration_matrix``, ``nesterov_spectral_radius``, ``stationary_variance`` and
``noise_floor`` (SGD with gradient noise, with or without momentum), ``expected_squared_errors``
and ``expected_excess_loss`` (SGD with gradient noise and any sequence of steps, exactly).
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
    "stability_limit",
    "regime",
    "critical_momentum",
    "optimal_gd",
    "optimal_momentum",
    "gd_rate",
    "momentum_rate",
    "max_acceleration",
    "fit_rate",
    "nesterov_iteration_matrix",
    "nesterov_spectral_radius",
    "stationary_variance",
    "noise_floor",
    "expected_squared_errors",
    "expected_excess_loss",
]


def _momentum(beta) -> float:
    return _validate.real("momentum", beta, low=0.0, high=1.0, high_open=True)


def _positive(name, value) -> float:
    return _validate.real(name, value, low=0.0, low_open=True)


def _reject(name, values, bad, allowed):
    """Raise ``{name} must be {allowed}, got v`` with the first offending entry v of ``values``."""
    if np.any(bad):
        raise ValueError(f"{name} must be {allowed}, got {np.broadcast_to(values, np.shape(bad))[bad].flat[0]:g}")


def _eigenvalues(eigenvalues) -> np.ndarray:
    lam = np.atleast_1d(_validate.array("eigenvalues", eigenvalues))
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"eigenvalues must be a non-empty 1-D list of numbers, got shape {lam.shape}")
    _reject("eigenvalues", lam, lam <= 0, "> 0")
    return lam


def _broadcast(step, momentum, eigenvalue):
    """``step`` >= 0, ``momentum`` in [0, 1) and a real ``eigenvalue``, as float arrays that broadcast."""
    alpha = _validate.array("step", step)
    beta = _validate.array("momentum", momentum)
    lam = _validate.array("eigenvalue", eigenvalue)
    _reject("step", alpha, alpha < 0, ">= 0")
    _reject("momentum", beta, (beta < 0) | (beta >= 1), "in [0, 1)")
    try:
        np.broadcast_shapes(alpha.shape, beta.shape, lam.shape)
    except ValueError:
        raise ValueError(f"step, momentum and eigenvalue must broadcast together, got shapes "
                         f"{alpha.shape}, {beta.shape}, {lam.shape}") from None
    return alpha, beta, lam


def _scalar_or_array(out):
    return float(out) if np.ndim(out) == 0 else out


def iteration_matrix(step, momentum, eigenvalue) -> np.ndarray:
    r"""The 2x2 matrix :math:`T = \begin{pmatrix} 1+\beta-\alpha\lambda & -\beta \\ 1 & 0\end{pmatrix}`
    mapping :math:`(x_k, x_{k-1})` to :math:`(x_{k+1}, x_k)` along one eigen-direction."""
    alpha = _validate.real("step", step, low=0.0)
    beta = _momentum(momentum)
    lam = _validate.real("eigenvalue", eigenvalue)
    return np.array([[1.0 + beta - alpha * lam, -beta], [1.0, 0.0]])


def _companion_radius(a, b):
    r"""Spectral radius of :math:`\begin{pmatrix} a & -b \\ 1 & 0\end{pmatrix}`, the largest :math:`|z|`
    with :math:`z^2 - a z + b = 0`, elementwise over broadcast arrays (no checks)."""
    disc = a * a - 4.0 * b
    root = np.sqrt(np.abs(disc))
    real_roots = np.maximum(np.abs(a + root), np.abs(a - root)) / 2.0
    # complex pair (then b > 0): |z|^2 = z * conj(z) = b, the determinant
    return np.where(disc >= 0, real_roots, np.sqrt(np.abs(b)))


def _radius(alpha, beta, lam):
    """Heavy ball's spectral radius: trace 1 + beta - alpha lambda, determinant beta."""
    return _companion_radius(1.0 + beta - alpha * lam, beta)


def spectral_radius(step, momentum, eigenvalue):
    r""":math:`\rho(T(\alpha, \beta, \lambda))`: the factor by which the error along the eigen-direction
    shrinks per step (asymptotically). Arguments broadcast (arrays allowed): ``step`` >= 0, ``momentum``
    in [0, 1), ``eigenvalue`` real. Complex roots (:math:`(1+\beta-\alpha\lambda)^2 < 4\beta`, the
    under-damped, oscillating regime) have :math:`|z| = \sqrt\beta`."""
    return _scalar_or_array(_radius(*_broadcast(step, momentum, eigenvalue)))


def rate(step, momentum, eigenvalues) -> float:
    """The convergence rate on the whole quadratic: the largest spectral radius over ``eigenvalues``."""
    lam = _eigenvalues(eigenvalues)
    return float(np.max(_radius(_validate.real("step", step, low=0.0), _momentum(momentum), lam)))


def rate_map(step_sizes, momenta, eigenvalues) -> np.ndarray:
    """The rate on a grid: ``out[i, j]`` is ``rate(step_sizes[j], momenta[i], eigenvalues)``.

    Shapes: step_sizes (S,), momenta (M,) -> (M, S), ready for ``imshow``/``pcolormesh`` with the step
    size on the x axis. Values >= 1 diverge (or do not converge). Vectorised: a 200 x 200 map of a
    2-eigenvalue quadratic takes about a millisecond.
    """
    alpha = _validate.array("step_sizes", step_sizes)
    beta = _validate.array("momenta", momenta)
    for name, values in (("step_sizes", alpha), ("momenta", beta)):
        if values.ndim != 1:
            raise ValueError(f"{name} must be a 1-D array, got shape {values.shape}")
    _reject("step_sizes", alpha, alpha < 0, ">= 0")
    _reject("momenta", beta, (beta < 0) | (beta >= 1), "in [0, 1)")
    lam = _eigenvalues(eigenvalues)
    out = np.zeros((beta.size, alpha.size))
    for value in lam:
        np.maximum(out, _radius(alpha[None, :], beta[:, None], value), out=out)
    return out


def converges(step, momentum, eigenvalue):
    r"""Whether heavy ball converges along an eigen-direction: :math:`0 < \alpha\lambda < 2(1+\beta)`
    (the region where :math:`\rho(T) < 1`), for ``step`` >= 0 and ``momentum`` in [0, 1). Broadcasts."""
    alpha, beta, lam = _broadcast(step, momentum, eigenvalue)
    product = alpha * lam
    out = (product > 0) & (product < 2.0 * (1.0 + beta))
    return bool(out) if out.ndim == 0 else out


def stability_limit(momentum, eigenvalue):
    r"""The edge of the convergence region, :math:`2(1+\beta)/\lambda`: heavy ball converges along an
    eigen-direction of curvature :math:`\lambda > 0` for the steps :math:`0 < \alpha < 2(1+\beta)/\lambda`
    (plain gradient descent, :math:`\beta = 0`: :math:`\alpha < 2/\lambda`). Broadcasts."""
    _, beta, lam = _broadcast(0.0, momentum, eigenvalue)
    _reject("eigenvalue", lam, lam <= 0, "> 0")
    return _scalar_or_array(2.0 * (1.0 + beta) / lam)


def regime(step, momentum, eigenvalue) -> str:
    r"""How heavy ball moves along one eigen-direction (roots of :math:`z^2 - (1+\beta-\alpha\lambda)z + \beta`).

    ``"diverges"`` outside :math:`0 < \alpha\lambda < 2(1+\beta)` (``"stuck"`` at :math:`\alpha\lambda = 0`);
    otherwise, with discriminant :math:`D = (1+\beta-\alpha\lambda)^2 - 4\beta`:
    ``"under-damped"`` for :math:`D < 0` (complex roots: ripples shrinking by :math:`\sqrt\beta`),
    for :math:`D = 0` (to a relative 1e-9) ``"critically damped"`` if the double root is
    :math:`+\sqrt\beta` (:math:`\alpha\lambda \le 1`) and ``"sign-flipping double root"`` if it is
    :math:`-\sqrt\beta` (:math:`\alpha\lambda > 1`, the border of the sign-flipping regime, where
    Polyak's optimum puts the steepest direction), and for :math:`D > 0`
    ``"over-damped"`` if the dominant root is positive (monotone creep) or ``"sign-flipping"`` if it is
    negative (the sign flips every step, as gradient descent with :math:`\alpha\lambda > 1`).
    """
    alpha = _validate.real("step", step, low=0.0)
    beta = _momentum(momentum)
    lam = _positive("eigenvalue", eigenvalue)
    product = alpha * lam
    if product == 0:
        return "stuck"
    if not converges(alpha, beta, lam):
        return "diverges"
    trace = 1.0 + beta - product
    disc = trace * trace - 4.0 * beta
    if abs(disc) <= 1e-9 * max(1.0, trace * trace):
        return "critically damped" if trace > 0 else "sign-flipping double root"
    if disc < 0:
        return "under-damped"
    return "over-damped" if trace > 0 else "sign-flipping"


def critical_momentum(step, eigenvalue):
    r"""The momentum :math:`\beta = (1 - \sqrt{\alpha\lambda})^2` at which the eigen-direction has a
    double root (discriminant zero), for :math:`0 < \alpha\lambda < 4`.

    For :math:`\alpha\lambda \le 1` the root is :math:`+\sqrt\beta = 1 - \sqrt{\alpha\lambda}`: critical
    damping, the fastest non-oscillating decay; less momentum over-damps (slow creep), more
    under-damps (oscillation with :math:`|z| = \sqrt\beta`). For :math:`1 < \alpha\lambda < 4` the same
    formula, :math:`\beta = (\sqrt{\alpha\lambda} - 1)^2`, gives the root :math:`-\sqrt\beta`: less momentum
    flips the sign every step, more under-damps. Broadcasts: arrays of steps give the curve that
    separates the regimes in the (step, momentum) plane."""
    product = _validate.array("step", step) * _validate.array("eigenvalue", eigenvalue)
    _reject("step * eigenvalue", product, (product <= 0) | (product >= 4), "in (0, 4) for a critical momentum")
    return _scalar_or_array((1.0 - np.sqrt(product)) ** 2)


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

    Returns ``(step, momentum, rate)``. Both extreme directions then have a double root: the flattest
    (:math:`\mu`) at :math:`+\sqrt\beta`, critically damped, the steepest (:math:`L`) at :math:`-\sqrt\beta`,
    on the border of the sign flips (:func:`regime`: "sign-flipping double root").
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
    if errors.ndim != 1:
        raise ValueError(f"errors must be a 1-D series, got shape {errors.shape}")
    skip = _validate.integer("skip", skip, low=0, high=len(errors) - 2)
    tail = errors[skip:]
    _reject("errors", tail, tail <= 0, "> 0 (a rate is fitted to log errors)")
    k = np.arange(tail.size, dtype=np.float64)
    slope = np.polyfit(k, np.log(tail), 1)[0]
    return float(np.exp(slope))


# --------------------------------------------------------------------------------------------
# Nesterov's momentum on a quadratic
# --------------------------------------------------------------------------------------------

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
    beta = _momentum(momentum)
    lam = _validate.real("eigenvalue", eigenvalue)
    c = 1.0 - alpha * lam
    return np.array([[(1.0 + beta) * c, -beta * c], [1.0, 0.0]])


def nesterov_spectral_radius(step, momentum, eigenvalue):
    r"""The spectral radius of :func:`nesterov_iteration_matrix`: Nesterov's rate along one direction,
    the largest :math:`|z|` with :math:`z^2 - (1+\beta)c\,z + \beta c = 0`, :math:`c = 1 - \alpha\lambda`.
    Broadcasts like :func:`spectral_radius`."""
    alpha, beta, lam = _broadcast(step, momentum, eigenvalue)
    c = 1.0 - alpha * lam
    return _scalar_or_array(_companion_radius((1.0 + beta) * c, beta * c))


# --------------------------------------------------------------------------------------------
# Gradient noise: the stationary state of SGD and heavy ball
# --------------------------------------------------------------------------------------------

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
    SGD with the step :math:`\alpha/(1-\beta)`. ``inf`` outside the convergence region. Broadcasts:
    ``step`` > 0, ``momentum`` in [0, 1), ``eigenvalue`` > 0, ``sigma`` >= 0.
    """
    alpha, beta, lam = _broadcast(step, momentum, eigenvalue)
    _reject("step", alpha, alpha <= 0, "> 0")
    _reject("eigenvalue", lam, lam <= 0, "> 0")
    sigma = _validate.real("sigma", sigma, low=0.0)
    denominator = lam * (1.0 - beta) * (2.0 * (1.0 + beta) - alpha * lam)
    inside = denominator > 0
    out = np.where(inside, alpha * sigma**2 * (1.0 + beta) / np.where(inside, denominator, 1.0), np.inf)
    return _scalar_or_array(out)


def noise_floor(step, momentum, eigenvalues, sigma) -> float:
    r"""The expected excess loss :math:`\lim_k \mathbb E[f(x_k) - f^*]` of SGD with a constant step,
    with or without heavy-ball momentum, on :math:`f = \tfrac12 (x-x^*)^\top H (x-x^*)` with the
    eigenvalues ``eigenvalues``, when every gradient carries independent noise :math:`\sigma\xi`,
    :math:`\xi \sim N(0, I)` (:func:`course_lib.surfaces.noisy`):

    .. math::

        \mathbb E f - f^* = \tfrac12\sum_i \lambda_i \operatorname{Var} x_i
        = \sum_i \frac{\alpha\sigma^2 (1+\beta)}{2(1-\beta)\bigl(2(1+\beta) - \alpha\lambda_i\bigr)}
        \;\approx\; \frac{d\,\alpha\sigma^2}{4(1-\beta)} \quad (\alpha\lambda_i \ll 1)

    with :func:`stationary_variance` per eigen-direction; plain SGD is ``momentum = 0``,
    :math:`\sum_i \alpha\sigma^2/(2(2 - \alpha\lambda_i))`. Proportional to :math:`\alpha`: halving the
    step halves the floor. ``inf`` when some direction diverges (:math:`\alpha\lambda_i \ge 2(1+\beta)`).
    """
    lam = _eigenvalues(eigenvalues)
    alpha = _positive("step", step)
    beta = _momentum(momentum)
    return float(0.5 * np.sum(lam * np.atleast_1d(stationary_variance(alpha, beta, lam, sigma))))


def _rates(rates) -> np.ndarray:
    steps = _validate.array("rates", rates)
    if steps.ndim != 1:
        raise ValueError(f"rates must be a 1-D array of step sizes (one per step), got shape {steps.shape}")
    _reject("rates", steps, steps < 0, ">= 0")
    return steps


def expected_squared_errors(rates, eigenvalues, sigma, initial_errors) -> np.ndarray:
    r"""The exact mean squared error per eigen-direction of SGD with the steps ``rates`` and gradient noise.

    Plain SGD with the step :math:`\alpha_k` at step k, on :math:`f = \tfrac12 (x-x^*)^\top H (x-x^*)`
    with gradients :math:`H(x_k - x^*) + \sigma\xi_k`, :math:`\xi_k \sim N(0, I)`
    (``surfaces.run(optim.sgd(lr=schedule), surfaces.noisy(surface, sigma), ...)``), moves the error
    :math:`e_k` along an eigen-direction of curvature :math:`\lambda` by
    :math:`e_{k+1} = (1 - \alpha_k\lambda) e_k - \alpha_k\sigma\xi_k`, so

    .. math:: \mathbb E e_{k+1}^2 = (1 - \alpha_k\lambda)^2\, \mathbb E e_k^2 + \alpha_k^2 \sigma^2 .

    ``rates``: shape (T,), the steps :math:`\alpha_0, \dots, \alpha_{T-1}` (``schedule(np.arange(T))``);
    ``eigenvalues`` (d,) and ``initial_errors`` (d,): :math:`e_0` along each eigen-direction, in the
    same order (for a diagonal H, the entries of :math:`x_0 - x^*` in the order of the eigenvalues).
    Returns :math:`\mathbb E e_k^2` for k = 0..T, shape (T + 1, d). A constant step reproduces
    :func:`stationary_variance` in the limit.
    """
    steps = _rates(rates)
    lam = _eigenvalues(eigenvalues)
    sigma = _validate.real("sigma", sigma, low=0.0)
    e0 = np.atleast_1d(_validate.array("initial_errors", initial_errors))
    if e0.shape != lam.shape:
        raise ValueError(f"initial_errors must have one entry per eigenvalue, shape {lam.shape}, got shape {e0.shape}")
    with np.errstate(over="ignore", invalid="ignore"):  # a step beyond 2/lambda diverges: inf is the answer
        contraction = (1.0 - steps[:, None] * lam) ** 2    # (T, d)
        added = (steps * sigma) ** 2                        # (T,)
    out = np.empty((steps.size + 1, lam.size))
    out[0] = e0 * e0
    # The recursion runs over Python floats, one direction at a time: the same IEEE products and
    # sums as numpy's (overflow gives inf here too), without a numpy call per step.
    for i in range(lam.size):
        value, column = float(out[0, i]), [float(out[0, i])]
        for c, a in zip(contraction[:, i].tolist(), added.tolist()):
            value = c * value + a
            column.append(value)
        out[:, i] = column
    return out


def expected_excess_loss(rates, eigenvalues, sigma, initial_errors) -> np.ndarray:
    r""":math:`\mathbb E[f(x_k) - f^*] = \tfrac12\sum_i \lambda_i\, \mathbb E e_{k,i}^2` for k = 0..T, shape (T + 1,),
    with :func:`expected_squared_errors` (same arguments). For a constant step it tends to
    :func:`noise_floor`; for steps that tend to 0 with :math:`\sum_k\alpha_k = \infty` it tends to 0.
    """
    lam = _eigenvalues(eigenvalues)
    return 0.5 * expected_squared_errors(rates, lam, sigma, initial_errors) @ lam
