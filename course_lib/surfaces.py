r"""Loss surfaces with value and gradient, and the loop that runs an optimizer on them.

The chapters on gradient descent, momentum and adaptive methods draw every trajectory with these:

    surface = quadratic(condition_number=10, angle=np.pi / 6)
    result = run(optim.sgd(lr=0.15, momentum=0.5), surface, x0=(-2.0, 1.5), steps=200)
    result.params   # (201, 2): x_0 .. x_200
    result.losses   # (201,):   f(x_0) .. f(x_200)
    X, Y, Z = surface.grid((-3, 3), (-2, 2), 101)   # for plt.contour

Every surface has ``value(x)`` (x of shape (..., d); returns shape (...)), ``grad(x)`` (shape (d,)
in and out), ``hessian_at(x)`` (shape (d, d)), ``dim``, and, where known, ``minimum`` (the minimiser). The
stochastic ones also have ``stochastic_grad(x, rng)``: :func:`run` uses it when given an ``rng``
(a ``numpy.random.Generator`` or an int seed).

Public names
------------
``Quadratic``, ``quadratic`` (rotated, chosen condition number, with ``hessian``), ``rosenbrock``,
``saddle``, ``local_minima`` (a poor local minimum beside the global one), ``linear_slope``
(for momentum's maximum acceleration), ``noisy`` (additive gradient noise, as from mini-batches),
``least_squares`` (linear regression on scikit-learn's bundled diabetes data, with real mini-batches),
``run`` and its result ``Run``, ``race`` (several optimizers from one start), ``DIVERGED``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from course_lib import _validate, data, optim

__all__ = [
    "Surface",
    "Quadratic",
    "quadratic",
    "rosenbrock",
    "saddle",
    "local_minima",
    "linear_slope",
    "noisy",
    "least_squares",
    "Run",
    "run",
    "race",
    "DIVERGED",
]


def _point(name, x, dim):
    x = _validate.array(name, x)
    if x.shape != (dim,):
        raise ValueError(f"{name} must have shape ({dim},), got {x.shape}")
    return x


def _optimizer(name, optimizer, methods=("init", "step", "lookahead")):
    """Check that ``optimizer`` has the methods of a course_lib.optim optimizer that the caller uses."""
    if not all(hasattr(optimizer, method) for method in methods):
        raise TypeError(f"{name} must be a course_lib.optim optimizer, got {type(optimizer).__name__}")
    return optimizer


def _rows(name, batch, n):
    """``batch`` as a non-empty 1-D integer array of row indices in [0, n)."""
    rows = np.asarray(batch)
    if rows.ndim != 1 or rows.size == 0 or not np.issubdtype(rows.dtype, np.integer):
        raise ValueError(f"{name} must be a non-empty 1-D array of integer row indices, "
                         f"got dtype {rows.dtype} and shape {rows.shape}")
    if rows.min() < 0 or rows.max() >= n:
        raise ValueError(f"{name} must hold row indices in [0, {n}), got {rows.min() if rows.min() < 0 else rows.max()}")
    return rows


class Surface:
    """Base class: a function of ``x`` of shape (d,) with its gradient. Subclasses define
    ``_value(x)`` (vectorised over leading axes) and ``_grad(x)``."""

    dim = 2
    minimum = None

    def value(self, x):
        """f(x) for x of shape (..., d); returns a float or an array of shape (...)."""
        x = _validate.array("x", x)
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(f"x must have shape (..., {self.dim}), got {x.shape}")
        out = self._value(x)
        return float(out) if np.ndim(out) == 0 else out

    def grad(self, x):
        """The gradient at x, shape (d,)."""
        return self._grad(_point("x", x, self.dim))

    def value_and_grad(self, x):
        """``(f(x), gradient)`` at x of shape (d,): ``value`` and ``grad`` with x checked once, for
        loops that take both at every step (``experiments.gradient_descent.gradient_descent_path``)."""
        x = _point("x", x, self.dim)
        return float(self._value(x)), self._grad(x)

    def hessian_at(self, x):
        """The Hessian (matrix of second derivatives) at x, shape (d, d)."""
        return self._hessian(_point("x", x, self.dim))

    def __call__(self, x):
        return self.value(x)

    def grid(self, xlim=(-2.0, 2.0), ylim=(-2.0, 2.0), n=101):
        """``X, Y, Z`` of shape (n, n) for a contour plot of a 2-D surface (``Z = f(X, Y)``)."""
        if self.dim != 2:
            raise ValueError(f"grid needs a 2-D surface, this one has dim {self.dim}")
        n = _validate.integer("n", n, low=2)
        limits = []
        for name, lim in (("xlim", xlim), ("ylim", ylim)):
            lim = _validate.array(name, lim)
            if lim.shape != (2,) or not lim[0] < lim[1]:
                raise ValueError(f"{name} must be a pair (low, high) with low < high, got {lim}")
            limits.append(lim)
        X, Y = np.meshgrid(np.linspace(*limits[0], n), np.linspace(*limits[1], n))
        return X, Y, self._value(np.stack([X, Y], axis=-1))


class Quadratic(Surface):
    r"""The quadratic :math:`f(x) = \tfrac12 (x - c)^\top H (x - c)` with symmetric H, shape (d, d).

    ``grad`` is :math:`H(x - c)`; ``hessian`` is H; ``eigenvalues`` are H's, ascending; ``minimum`` is c
    when H is positive definite. Its condition number :math:`\kappa = \lambda_{\max}/\lambda_{\min}`
    governs gradient descent (chapter "Momentum", :mod:`course_lib.quadratic_theory`).
    """

    def __init__(self, hessian, center=None):
        hessian = _validate.array("hessian", hessian)
        if hessian.ndim != 2 or hessian.shape[0] != hessian.shape[1] or not np.allclose(hessian, hessian.T):
            raise ValueError(f"hessian must be a symmetric square matrix, got shape {hessian.shape}")
        self.dim = hessian.shape[0]
        self.hessian = hessian
        self.center = np.zeros(self.dim) if center is None else _point("center", center, self.dim)
        self.eigenvalues = np.linalg.eigvalsh(hessian)
        self.minimum = self.center if self.eigenvalues[0] > 0 else None

    @property
    def condition_number(self) -> float:
        return float(self.eigenvalues[-1] / self.eigenvalues[0])

    def _value(self, x):
        d = x - self.center
        return 0.5 * np.einsum("...i,ij,...j->...", d, self.hessian, d)

    def _grad(self, x):
        return self.hessian @ (x - self.center)

    def _hessian(self, x):
        return self.hessian.copy()


def quadratic(condition_number=10.0, *, largest=1.0, angle=0.0, center=(0.0, 0.0)) -> Quadratic:
    r"""A 2-D quadratic bowl with eigenvalues :math:`L` = ``largest`` and :math:`\mu = L/\kappa`.

    :math:`H = R(\phi)\,\mathrm{diag}(L, \mu)\,R(\phi)^\top` with :math:`R(\phi)` the rotation by
    ``angle`` (radians): at angle 0 the steep direction is the x axis.
    """
    kappa = _validate.real("condition_number", condition_number, low=1.0)
    largest = _validate.real("largest", largest, low=0.0, low_open=True)
    angle = _validate.real("angle", angle)
    c, s = np.cos(angle), np.sin(angle)
    rotation = np.array([[c, -s], [s, c]])
    hessian = rotation @ np.diag([largest, largest / kappa]) @ rotation.T
    return Quadratic(0.5 * (hessian + hessian.T), center)


class _Rosenbrock(Surface):
    def __init__(self, a, b):
        self.a, self.b = a, b
        self.minimum = np.array([a, a * a])

    def _value(self, x):
        return (self.a - x[..., 0]) ** 2 + self.b * (x[..., 1] - x[..., 0] ** 2) ** 2

    def _grad(self, x):
        u, w = x
        return np.array([-2.0 * (self.a - u) - 4.0 * self.b * u * (w - u * u), 2.0 * self.b * (w - u * u)])

    def _hessian(self, x):
        u, w = x
        return np.array([[2.0 - 4.0 * self.b * (w - u * u) + 8.0 * self.b * u * u, -4.0 * self.b * u],
                         [-4.0 * self.b * u, 2.0 * self.b]])


def rosenbrock(a=1.0, b=100.0) -> Surface:
    r"""Rosenbrock's banana :math:`f(x, y) = (a - x)^2 + b(y - x^2)^2`; minimum 0 at :math:`(a, a^2)`,
    at the bottom of a curved, nearly flat valley.

    Hessian :math:`\begin{pmatrix} 2 - 4b(y - x^2) + 8bx^2 & -4bx \\ -4bx & 2b \end{pmatrix}`: at the
    minimum of the default banana (a = 1, b = 100) it is [[802, -400], [-400, 200]], condition
    number about 2500."""
    return _Rosenbrock(_validate.real("a", a), _validate.real("b", b, low=0.0, low_open=True))


class _Saddle(Surface):
    def __init__(self, curvature):
        self.curvature = curvature
        self.minimum = np.array([0.0, 1.0])
        self.saddle_point = np.zeros(2)

    def _value(self, x):
        y = x[..., 1]
        return 0.5 * self.curvature * x[..., 0] ** 2 + 0.25 * y**4 - 0.5 * y**2

    def _grad(self, x):
        return np.array([self.curvature * x[0], x[1] ** 3 - x[1]])

    def _hessian(self, x):
        return np.diag([self.curvature, 3.0 * x[1] ** 2 - 1.0])


def saddle(curvature=1.0) -> Surface:
    r"""A saddle point at the origin on a surface that is bounded below:

    .. math:: f(x, y) = \tfrac{a}{2} x^2 + \tfrac14 y^4 - \tfrac12 y^2

    Hessian diag(a, -1) at (0, 0); two minima, :math:`(0, \pm 1)` with :math:`f = -1/4`
    (``minimum`` is (0, 1)). Started on the x axis, gradient descent stops at the saddle; a tiny
    y offset (or gradient noise) escapes, slowly at first (source 003, 004: saddle points).
    """
    return _Saddle(_validate.real("curvature", curvature, low=0.0, low_open=True))


class _LocalMinima(Surface):
    def __init__(self, tilt, curvature):
        self.tilt, self.curvature = tilt, curvature
        roots = np.sort(np.roots([1.0, 0.0, -1.0, tilt]).real)   # h'(x) = x^3 - x + tilt
        self.global_minimum = np.array([roots[0], 0.0])
        self.local_maximum = np.array([roots[1], 0.0])
        self.local_minimum = np.array([roots[2], 0.0])
        self.minimum = self.global_minimum

    def _value(self, x):
        u = x[..., 0]
        return 0.25 * u**4 - 0.5 * u**2 + self.tilt * u + 0.5 * self.curvature * x[..., 1] ** 2

    def _grad(self, x):
        return np.array([x[0] ** 3 - x[0] + self.tilt, self.curvature * x[1]])

    def _hessian(self, x):
        return np.diag([3.0 * x[0] ** 2 - 1.0, self.curvature])


def local_minima(tilt=0.25, curvature=1.0) -> Surface:
    r"""A tilted double well: a poor local minimum beside a better global one.

    .. math:: f(x, y) = \tfrac14 x^4 - \tfrac12 x^2 + s\,x + \tfrac{a}{2} y^2

    With tilt :math:`0 < s < 2/(3\sqrt3) \approx 0.385` the well at negative x (``global_minimum``) is
    deeper than the one at positive x (``local_minimum``); ``local_maximum`` is the ridge between.
    Gradient descent started at x > ``local_maximum[0]`` ends in the poor minimum; enough momentum
    can carry it over the ridge.
    """
    tilt = _validate.real("tilt", tilt, low=0.0, high=2.0 / (3.0 * np.sqrt(3.0)), low_open=True, high_open=True)
    return _LocalMinima(tilt, _validate.real("curvature", curvature, low=0.0, low_open=True))


class _LinearSlope(Surface):
    def __init__(self, slope):
        self.slope = slope
        self.dim = slope.size

    def _value(self, x):
        return x @ self.slope

    def _grad(self, x):
        return self.slope.copy()

    def _hessian(self, x):
        return np.zeros((self.dim, self.dim))


def linear_slope(slope=(1.0, 0.0)) -> Surface:
    r"""The plane :math:`f(x) = s^\top x`: a constant gradient s everywhere, no minimum.

    On it every gradient points the same way, so momentum's velocity grows to its limit
    :math:`\epsilon s/(1-\alpha)`: the maximum acceleration :math:`1/(1-\alpha)` of source 000.
    """
    slope = _validate.array("slope", slope)
    if slope.ndim != 1 or slope.size < 1:
        raise ValueError(f"slope must be a vector, got shape {slope.shape}")
    return _LinearSlope(slope)


class _Noisy(Surface):
    def __init__(self, surface, sigma):
        self.surface, self.sigma = surface, sigma
        self.dim, self.minimum = surface.dim, surface.minimum

    def _value(self, x):
        return self.surface._value(x)

    def _grad(self, x):
        return self.surface._grad(x)

    def _hessian(self, x):
        return self.surface._hessian(x)

    def stochastic_grad(self, x, rng):
        """The exact gradient plus independent Gaussian noise of standard deviation sigma per component."""
        return self.surface._grad(x) + self.sigma * rng.standard_normal(self.dim)

    def grid(self, *args, **kwargs):
        return self.surface.grid(*args, **kwargs)


def noisy(surface, sigma) -> Surface:
    r"""``surface`` with noisy gradients: :math:`\tilde g = \nabla f(x) + \sigma\,\xi`, :math:`\xi \sim N(0, I)`.

    A model of mini-batch noise (unbiased, variance :math:`\sigma^2` per component). ``value`` and
    ``grad`` stay exact; ``stochastic_grad(x, rng)`` draws the noisy one; ``run(..., rng=s)`` uses it.
    """
    if not isinstance(surface, Surface):
        raise TypeError(f"surface must be a Surface, got {type(surface).__name__}")
    return _Noisy(surface, _validate.real("sigma", sigma, low=0.0))


class _LeastSquares(Surface):
    def __init__(self, X, y, batch_size):
        self.X, self.y, self.batch_size = X, y, batch_size
        self.n, self.dim = X.shape
        self.hessian = X.T @ X / self.n
        self.eigenvalues = np.linalg.eigvalsh(self.hessian)
        self.minimum = np.linalg.lstsq(X, y, rcond=None)[0]

    def _value(self, w):
        residual = w @ self.X.T - self.y
        return 0.5 * np.mean(residual**2, axis=-1)

    def _grad(self, w, rows=None):
        X, y = (self.X, self.y) if rows is None else (self.X[rows], self.y[rows])
        return X.T @ (X @ w - y) / len(y)

    def _hessian(self, w):
        return self.hessian.copy()

    def grad(self, w, batch=None):
        """The gradient of the mean loss over all rows, or over the rows ``batch`` (an index array)."""
        w = _point("w", w, self.dim)
        if batch is None:
            return self._grad(w)
        return self._grad(w, _rows("batch", batch, self.n))

    def batches(self, rng, batch_size=None):
        """An endless iterator of mini-batches (index arrays): each epoch a fresh shuffle drawn from
        ``rng`` (a Generator or an int seed), cut into batches of ``batch_size`` (the last, shorter
        one of an epoch is kept)."""
        batch_size = self.batch_size if batch_size is None else _validate.integer("batch_size", batch_size, low=1)
        rng = _validate.rng("rng", rng)  # checked now, not at the first next()

        def endless():
            while True:
                order = rng.permutation(self.n)
                for start in range(0, self.n, batch_size):
                    yield order[start:start + batch_size]

        return endless()

    def stochastic_grad(self, w, rng):
        """The gradient on a batch of ``batch_size`` rows drawn without replacement with ``rng``."""
        return self._grad(w, rng.choice(self.n, size=self.batch_size, replace=False))


def least_squares(batch_size=32, *, features=None) -> Surface:
    r"""Linear regression on real data: scikit-learn's bundled diabetes set (442 patients, 10 features).

    .. math:: f(w) = \frac{1}{2n} \sum_{i=1}^n (x_i^\top w - y_i)^2, \qquad
              \nabla f(w) = \frac1n X^\top (Xw - y)

    Features and target are z-scored (so no intercept is needed and the scale is comparable to the
    other surfaces). ``features`` picks columns (e.g. ``(2, 8)``, BMI and S5, for a 2-D picture).
    ``grad(w, batch)`` is the gradient on the rows ``batch``; ``batches(rng)`` yields shuffled
    mini-batches; ``hessian`` is :math:`X^\top X/n`; ``minimum`` the least-squares solution.
    """
    batch_size = _validate.integer("batch_size", batch_size, low=1, high=442)
    X, y = data._load_diabetes()  # load_diabetes()'s arrays, without importing scikit-learn (1-2 s)
    X, y = X.astype(np.float64), y.astype(np.float64)
    if features is not None:
        if isinstance(features, (str, bytes)) or not hasattr(features, "__iter__"):
            raise TypeError(f"features must be a sequence of column indices, got {features!r}")
        columns = [_validate.integer("features", c, low=0, high=X.shape[1] - 1) for c in features]
        if not columns or len(set(columns)) != len(columns):
            raise ValueError(f"features must be distinct column indices in [0, {X.shape[1] - 1}], got {features!r}")
        X = X[:, columns]
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = (y - y.mean()) / y.std()
    return _LeastSquares(X, y, batch_size)


class Run(NamedTuple):
    """The result of :func:`run`: ``params`` of shape (steps + 1, d), ``losses`` of shape (steps + 1,)."""
    params: np.ndarray
    losses: np.ndarray


def run(optimizer, surface, x0, steps, *, rng=None) -> Run:
    """Run ``optimizer`` on ``surface`` from ``x0`` for ``steps`` steps.

    Each step takes the gradient at ``optimizer.lookahead(x, state)`` (x itself, except for the
    Nesterov look-ahead forms) and calls ``optimizer.step``. With an ``rng`` (a Generator or an int
    seed), stochastic surfaces (``noisy``, ``least_squares``) give noisy / mini-batch gradients drawn
    from it; without one, exact ones.
    Returns :class:`Run` with the trajectory ``params`` (x_0 .. x_steps) and the ``losses`` f(x_k).
    """
    if not isinstance(surface, Surface):
        raise TypeError(f"surface must be a Surface, got {type(surface).__name__}")
    _optimizer("optimizer", optimizer)
    x = _point("x0", x0, surface.dim)
    steps = _validate.integer("steps", steps, low=0)
    if rng is None:
        gradient = surface._grad
    else:
        rng = _validate.rng("rng", rng)
        if not hasattr(surface, "stochastic_grad"):
            raise ValueError(f"rng is only meaningful for a stochastic surface (noisy, least_squares), "
                             f"got a {type(surface).__name__.lstrip('_')} surface")
        gradient = lambda point: surface.stochastic_grad(point, rng)  # noqa: E731
    trajectory = np.empty((steps + 1, surface.dim))
    trajectory[0] = x
    state = optimizer.init(x)
    step, lookahead = _unchecked(optimizer)
    for k in range(steps):
        g = gradient(x if lookahead is None else lookahead(x, state))
        x, state = step(x, g, state)
        trajectory[k + 1] = x
    return Run(trajectory, np.asarray(surface._value(trajectory), dtype=np.float64))


def _unchecked(optimizer):
    """``(step, lookahead)`` of ``optimizer`` for :func:`run`'s loop, which builds x and the state
    itself: for a course_lib.optim Optimizer its ``flat_step`` (the same update rule, with the learning
    rate and decay worked out once instead of on every step, and no argument checks) and its raw
    look-ahead (None: the gradient is taken at x); for any other object its public methods."""
    if isinstance(optimizer, optim.Optimizer):
        return optimizer.flat_step(None), optimizer._lookahead
    return optimizer.step, optimizer.lookahead


#: A run farther than this from its start counts as diverged (see :func:`race`).
DIVERGED = 1e6


def race(optimizers, surface, x0, steps, *, rng=None) -> dict:
    """Run every optimizer of ``optimizers`` (a dict ``{name: optimizer}``) from the same start.

    Each entry is :func:`run` ``(optimizer, surface, x0, steps, rng=...)``; returns ``{name: Run}``
    in the same order. With an ``rng``, every optimizer sees the same noise: an int seeds each run
    afresh, a Generator gives one seed that each run starts from. A run that diverges (overflow, or
    farther than :data:`DIVERGED` from ``x0``) has NaN from that point on, so that plots simply stop there.
    """
    if not isinstance(optimizers, dict) or not optimizers:
        raise TypeError(f"optimizers must be a non-empty dict {{name: optimizer}}, got {optimizers!r}")
    for name, optimizer in optimizers.items():
        _optimizer(f"optimizers[{name!r}]", optimizer)
    if not isinstance(surface, Surface):
        raise TypeError(f"surface must be a Surface, got {type(surface).__name__}")
    start = _point("x0", x0, surface.dim)
    if isinstance(rng, np.random.Generator):
        rng = int(rng.integers(2**63))  # one seed, so that every run draws the same noise
    runs = {}
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is a result here, not an accident
        for name, optimizer in optimizers.items():
            params, losses = run(optimizer, surface, start, steps, rng=rng)
            distance = np.linalg.norm(params - start, axis=1)
            diverged = ~np.isfinite(distance) | (distance > DIVERGED) | ~np.isfinite(losses)
            if diverged.any():
                first = int(np.argmax(diverged))
                params[first:], losses[first:] = np.nan, np.nan
            runs[name] = Run(params, losses)
    return runs
