r"""Experiments of the chapter "Adaptive learning rates": races, effective steps, Adam's start.

The optimizers live in :mod:`course_lib.optim` and the surfaces in :mod:`course_lib.surfaces`;
this module puts them together into what the chapter's figures and widgets show::

    runs = optimizer_race(surfaces.quadratic(50), x0=(-2.0, 1.5), steps=200, lr=0.1, sgd_lr=1.0)
    runs["Adam"].losses                          # f(x_0) .. f(x_200), NaN after a divergence
    g = gradient_stream(500, scales=(1.0, 0.01), rng=0)
    updates(optim.adagrad(0.1), g)               # the steps an optimizer takes on that stream
    adam_steps(g, lr=0.1, bias_correction=False) # Adam's steps without bias correction
    online_adam_problem(optim.adam(0.1), 5000)   # Reddi et al.'s example: x_1 .. x_5000

Public names
------------
``OPTIMIZER_RACE_METHODS``, ``optimizer_race``, ``gradient_stream``, ``updates``, ``effective_learning_rates``,
``adam_steps``, ``online_adam_problem``, ``least_squares_curvature``.
"""
from __future__ import annotations

import numpy as np

from course_lib import _validate, optim, surfaces

__all__ = [
    "OPTIMIZER_RACE_METHODS",
    "optimizer_race",
    "gradient_stream",
    "updates",
    "effective_learning_rates",
    "adam_steps",
    "online_adam_problem",
    "least_squares_curvature",
]

#: The methods of :func:`optimizer_race`, in the order they are drawn.
OPTIMIZER_RACE_METHODS = ("SGD", "momentum", "AdaGrad", "RMSProp", "Adadelta", "Adam")


def optimizer_race(surface, x0, steps, lr=0.1, sgd_lr=0.1, momentum=0.9, adadelta_lr=1.0) -> dict:
    r"""Run the six methods of the chapter from the same start, with exact gradients.

    ``SGD`` is ``optim.sgd(sgd_lr)``, ``momentum`` is ``optim.sgd(sgd_lr, momentum)``; ``AdaGrad``,
    ``RMSProp`` and ``Adam`` use the same ``lr`` (their steps have the units of the parameters,
    so one value is comparable across them) with torch's defaults otherwise; ``Adadelta`` is
    Zeiler's, ``optim.adadelta(adadelta_lr)`` (it needs no learning rate: torch's default 1).
    Returns ``{name: surfaces.Run}`` in the order of :data:`OPTIMIZER_RACE_METHODS`; a run that diverges
    (overflow, or farther than 1e6 from ``x0``) has NaN from that point on.
    """
    lr = _validate.real("lr", lr, low=0.0, low_open=True)
    sgd_lr = _validate.real("sgd_lr", sgd_lr, low=0.0, low_open=True)
    momentum = _validate.real("momentum", momentum, low=0.0, high=1.0, high_open=True)
    adadelta_lr = _validate.real("adadelta_lr", adadelta_lr, low=0.0, low_open=True)
    steps = _validate.integer("steps", steps, low=1)
    optimizers = {
        "SGD": optim.sgd(sgd_lr),
        "momentum": optim.sgd(sgd_lr, momentum=momentum),
        "AdaGrad": optim.adagrad(lr),
        "RMSProp": optim.rmsprop(lr),
        "Adadelta": optim.adadelta(adadelta_lr),
        "Adam": optim.adam(lr),
    }
    return surfaces.race(optimizers, surface, x0, steps)


def gradient_stream(steps, scales=(1.0, 0.01), *, noise=0.5, shrink_at=None, shrink=0.1, rng=0) -> np.ndarray:
    r"""A random stream of gradients drawn from ``rng`` (a Generator or an int seed), shape (steps, d), d = ``len(scales)``:

    .. math:: g_{t,i} = s_i\,(1 + \sigma z_{t,i})\,c_t, \qquad z_{t,i} \sim \mathcal N(0, 1),

    with :math:`s_i` = ``scales[i]`` (a steep and a flat direction, say), :math:`\sigma` = ``noise``,
    and :math:`c_t = 1`, or :math:`c_t` = ``shrink`` from step ``shrink_at`` on (steps count from 1):
    the landscape becomes flatter, as when training leaves a steep region.
    """
    steps = _validate.integer("steps", steps, low=1)
    scales = _validate.array("scales", scales)
    if scales.ndim != 1 or scales.size < 1:
        raise ValueError(f"scales must be a non-empty vector, got shape {scales.shape}")
    noise = _validate.real("noise", noise, low=0.0)
    shrink = _validate.real("shrink", shrink, low=0.0, low_open=True)
    if shrink_at is not None:
        shrink_at = _validate.integer("shrink_at", shrink_at, low=1)
    rng = _validate.rng("rng", rng)
    g = scales * (1.0 + noise * rng.standard_normal((steps, scales.size)))
    if shrink_at is not None:
        g[shrink_at - 1:] *= shrink
    return g


def _grads(grads) -> np.ndarray:
    grads = _validate.series("grads", grads)
    if grads.ndim == 1:
        grads = grads[:, None]
    if grads.ndim != 2:
        raise ValueError(f"grads must have shape (steps,) or (steps, d), got {grads.shape}")
    return grads


def updates(optimizer, grads, params=None) -> np.ndarray:
    r"""The updates :math:`\Delta\theta_t` an optimizer makes on a given stream of gradients.

    ``grads``: shape (T, d) (or (T,)); ``params`` the starting point (default zeros), which only
    matters for weight decay. Returns shape (T, d): row t-1 is :math:`\theta_t - \theta_{t-1}`.
    The gradients do not depend on the parameters here: the stream is fixed, so different
    optimizers can be compared on exactly the same gradients.
    """
    surfaces._optimizer("optimizer", optimizer, ("init", "update"))
    grads = _grads(grads)
    x = np.zeros(grads.shape[1]) if params is None else _validate.array("params", params)
    if x.shape != grads.shape[1:]:
        raise ValueError(f"params must have shape {grads.shape[1:]}, got {x.shape}")
    state = optimizer.init(x)
    out = np.empty_like(grads)
    for k, g in enumerate(grads):
        if k == 0 or not hasattr(optimizer, "_raw"):
            u, state = optimizer.update(g, state, x)      # checks the arguments once
        else:
            u, state = optimizer._raw(x, g, state, False)  # the same rule without the checks
        out[k] = u
        x = x + u
    return out


def effective_learning_rates(optimizer, grads) -> np.ndarray:
    r"""The per-parameter effective learning rate :math:`-\Delta\theta_{t,i}/g_{t,i}`, shape (T, d).

    For AdaGrad and RMSProp (no momentum) this is exactly :math:`\alpha/(\sqrt{r_{t,i}} + \epsilon)`,
    the learning rate that plain SGD would need to take the same step. Entries with a zero
    gradient are NaN.
    """
    grads = _grads(grads)
    steps = updates(optimizer, grads)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(grads != 0, -steps / grads, np.nan)


def adam_steps(grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, *, bias_correction=True) -> np.ndarray:
    r"""Adam's updates on a fixed gradient stream, with or without bias correction. Shape (T, d).

    .. math::

        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\quad
        \Delta\theta_t = -\alpha\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    with :math:`\hat m_t = m_t/(1-\beta_1^t)`, :math:`\hat v_t = v_t/(1-\beta_2^t)`, or
    :math:`\hat m_t = m_t`, :math:`\hat v_t = v_t` when ``bias_correction=False``. With the
    correction this is :func:`updates` of ``optim.adam`` (tested); without it, the first step is
    :math:`\alpha(1-\beta_1)/\sqrt{1-\beta_2}\,\mathrm{sign}(g_1)`, about 3.16 α for the defaults.
    """
    grads = _grads(grads)
    lr = _validate.real("lr", lr, low=0.0)
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    beta1 = _validate.real("betas[0]", betas[0], low=0.0, high=1.0, high_open=True)
    beta2 = _validate.real("betas[1]", betas[1], low=0.0, high=1.0, high_open=True)
    eps = _validate.real("eps", eps, low=0.0)
    bias_correction = _validate.boolean("bias_correction", bias_correction)
    t = np.arange(1, grads.shape[0] + 1)[:, None]
    m, v = np.empty_like(grads), np.empty_like(grads)
    m_prev = v_prev = np.zeros(grads.shape[1])
    for k, g in enumerate(grads):
        m_prev = beta1 * m_prev + (1 - beta1) * g
        v_prev = beta2 * v_prev + (1 - beta2) * g * g
        m[k], v[k] = m_prev, v_prev
    if bias_correction:
        m, v = m / (1 - beta1**t), v / (1 - beta2**t)
    return -lr * m / (np.sqrt(v) + eps)


def online_adam_problem(optimizer, steps, *, big=1010.0, small=-10.0, period=101) -> np.ndarray:
    r"""Reddi, Kale and Kumar's (2018) online problem on which Adam fails to converge.

    On the interval :math:`[-1, 1]` the losses are :math:`f_t(x) = \text{big}\cdot x` when
    :math:`t \bmod \text{period} = 1` and :math:`\text{small}\cdot x` otherwise (t from 1). Over one
    period the total gradient is :math:`1010 - 100\cdot 10 = 10 > 0`, so the best point is
    :math:`x = -1`. Each step takes the optimizer's step and projects back onto :math:`[-1, 1]`.
    Returns :math:`x_1, \dots, x_\text{steps}`, shape (steps,), starting from :math:`x_0 = 0`.
    """
    surfaces._optimizer("optimizer", optimizer, ("init", "step"))
    steps = _validate.integer("steps", steps, low=1)
    big, small = _validate.real("big", big), _validate.real("small", small)
    period = _validate.integer("period", period, low=2)
    step = getattr(optimizer, "_raw_step", optimizer.step)
    x = np.zeros(1)
    state = optimizer.init(x)
    out = np.empty(steps)
    for t in range(1, steps + 1):
        g = np.array([big if t % period == 1 else small])
        x, state = step(x, g, state)
        x = np.clip(x, -1.0, 1.0)
        out[t - 1] = x[0]
    return out


def least_squares_curvature(x, y, w):
    r"""The Hessian and the outer-product approximation for least squares, at weights ``w``.

    For :math:`J(w) = \frac{1}{2n}\sum_i (x_i^\top w - y_i)^2` with per-example gradients
    :math:`g_i = (x_i^\top w - y_i)\,x_i`:

    .. math:: H = \frac1n X^\top X, \qquad F(w) = \frac1n \sum_i g_i g_i^\top .

    ``x``: (n, d), ``y``: (n,), ``w``: (d,). Returns ``(H, F)``, each (d, d). Near a good fit with
    residuals of variance :math:`\sigma^2`, independent of x, :math:`F \approx \sigma^2 H`; far from
    it F is dominated by the error :math:`w - w^*` and does not resemble H (source 000's
    approximation holds only near a good fit, and only up to the factor :math:`\sigma^2`).
    """
    x = _validate.array("x", x)
    y = _validate.array("y", y)
    w = _validate.array("w", w)
    if x.ndim != 2 or y.shape != (x.shape[0],) or w.shape != (x.shape[1],):
        raise ValueError(f"expected x (n, d), y (n,), w (d,); got {x.shape}, {y.shape}, {w.shape}")
    n = x.shape[0]
    residual = x @ w - y
    g = residual[:, None] * x
    return x.T @ x / n, g.T @ g / n
