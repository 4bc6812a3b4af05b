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
``OPTIMIZER_RACE_METHODS``, ``OPTIMIZER_RACE_ARGUMENTS``, ``optimizer_race``, ``gradient_stream``, ``updates``, ``effective_learning_rates``,
``adagrad_rates``, ``rmsprop_rates``, ``adam_steps``, ``online_gradients``, ``projected_path``, ``average_regret``, ``online_adam_problem``,
``SignComparison``, ``adam_against_sign_descent``, ``radam_rho``, ``radam_variance``, ``radam_rectification``,
``inverse_root_variance``, ``adamax_steps``, ``nadam_steps``, ``least_squares_curvature``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from course_lib import _validate, data, ewma, nn, optim, surfaces

__all__ = [
    "OPTIMIZER_RACE_ARGUMENTS",
    "OPTIMIZER_RACE_METHODS",
    "optimizer_race",
    "gradient_stream",
    "updates",
    "effective_learning_rates",
    "adagrad_rates",
    "rmsprop_rates",
    "adam_steps",
    "online_gradients",
    "projected_path",
    "average_regret",
    "online_adam_problem",
    "SignComparison",
    "adam_against_sign_descent",
    "radam_rho",
    "radam_variance",
    "radam_rectification",
    "inverse_root_variance",
    "adamax_steps",
    "nadam_steps",
    "least_squares_curvature",
]

#: The methods of :func:`optimizer_race`, in the order they are drawn.
OPTIMIZER_RACE_METHODS = ("SGD", "momentum", "AdaGrad", "RMSProp", "Adadelta", "Adam")


# the arguments of optimizer_race each method's run depends on (a widget reruns only what a move changes)
OPTIMIZER_RACE_ARGUMENTS = {"SGD": ("sgd_lr",), "momentum": ("sgd_lr", "momentum"), "AdaGrad": ("lr",),
                            "RMSProp": ("lr",), "Adadelta": ("adadelta_lr",), "Adam": ("lr",)}


def optimizer_race(surface, x0, steps, lr=0.1, sgd_lr=0.1, momentum=0.9, adadelta_lr=1.0, *,
                   methods=OPTIMIZER_RACE_METHODS) -> dict:
    r"""Run the six methods of the chapter from the same start, with exact gradients.

    ``SGD`` is ``optim.sgd(sgd_lr)``, ``momentum`` is ``optim.sgd(sgd_lr, momentum)``; ``AdaGrad``,
    ``RMSProp`` and ``Adam`` use the same ``lr`` (their steps have the units of the parameters,
    so one value is comparable across them) with torch's defaults otherwise; ``Adadelta`` is
    Zeiler's, ``optim.adadelta(adadelta_lr)`` (it needs no learning rate: torch's default 1).
    Returns ``{name: surfaces.Run}`` for the ``methods`` asked for (default all), in the order of
    :data:`OPTIMIZER_RACE_METHODS`; a run that diverges (overflow, or farther than 1e6 from ``x0``)
    has NaN from that point on. Each run depends only on its ``OPTIMIZER_RACE_ARGUMENTS``.
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
    if isinstance(methods, str) or not all(m in optimizers for m in methods) or not methods:
        raise ValueError(f"methods must be a non-empty sequence of names from {OPTIMIZER_RACE_METHODS}, got {methods!r}")
    return surfaces.race({name: opt for name, opt in optimizers.items() if name in methods}, surface, x0, steps)


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
    update = optimizer.update  # the first call checks the arguments
    for k, g in enumerate(grads):
        u, state = update(g, state, x)
        if k == 0 and hasattr(optimizer, "flat_step"):
            # the same rule without the checks, its hyperparameters looked up once
            step = optimizer.flat_step(None, apply=False)
            update = lambda g, state, x: step(x, g, state)  # noqa: E731
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


def adagrad_rates(grads, lr=1e-2, eps=1e-10) -> np.ndarray:
    r"""AdaGrad's effective learning rate on a fixed gradient stream, shape (T, d), in closed form:

    .. math:: \frac{\alpha}{\sqrt{r_{t,i}} + \epsilon}, \qquad r_{t,i} = \sum_{s \le t} g_{s,i}^2

    :func:`effective_learning_rates` of ``optim.adagrad(lr, eps=eps)`` where the gradient is not zero
    (tested), with one cumulative sum instead of T optimizer steps: a widget redraws it on every move.
    """
    grads = _grads(grads)
    lr, eps = _validate.real("lr", lr, low=0.0), _validate.real("eps", eps, low=0.0)
    return lr / (np.sqrt(np.cumsum(grads * grads, axis=0)) + eps)


def rmsprop_rates(grads, lr=1e-2, alpha=0.99, eps=1e-8) -> np.ndarray:
    r"""RMSProp's effective learning rate on a fixed gradient stream, shape (T, d), in closed form:

    .. math:: \frac{\alpha_{\rm lr}}{\sqrt{v_{t,i}} + \epsilon}, \qquad v_t = \text{EWMA of } g_t^2 \text{ with decay } \alpha

    :func:`effective_learning_rates` of ``optim.rmsprop(lr, alpha, eps)`` where the gradient is not
    zero (tested), with :func:`course_lib.ewma.ewma` instead of T optimizer steps.
    """
    grads = _grads(grads)
    lr, eps = _validate.real("lr", lr, low=0.0), _validate.real("eps", eps, low=0.0)
    alpha = _validate.real("alpha", alpha, low=0.0, high=1.0, high_open=True)
    return lr / (np.sqrt(ewma.ewma(grads * grads, alpha)) + eps)


def _rates(lr, steps) -> np.ndarray:
    """The step sizes of steps 1..``steps`` as a column (steps, 1): a float, or a schedule of the step count from 0."""
    if callable(lr):
        rates = np.asarray(lr(np.arange(steps, dtype=np.float64)), dtype=np.float64)
        rates = np.broadcast_to(rates, (steps,))
        if not np.all(np.isfinite(rates)) or np.any(rates < 0):
            raise ValueError("the lr schedule must return finite values >= 0")
        return rates[:, None]
    return np.full((steps, 1), _validate.real("lr", lr, low=0.0))


def adam_steps(grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, *, bias_correction=True, amsgrad=False) -> np.ndarray:
    r"""Adam's updates on a fixed gradient stream, with or without bias correction and AMSGrad. Shape (T, d).

    .. math::

        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\quad
        \Delta\theta_t = -\alpha_t\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    with :math:`\hat m_t = m_t/(1-\beta_1^t)`, :math:`\hat v_t = v_t/(1-\beta_2^t)`, or
    :math:`\hat m_t = m_t`, :math:`\hat v_t = v_t` when ``bias_correction=False``. ``amsgrad=True``
    replaces :math:`v_t` by its running maximum :math:`\max_{s \le t} v_s` *before* the correction, as
    torch does; without correction that is Reddi et al.'s AMSGrad. ``lr``: a float or a schedule
    (a function of the step count from 0, as in :mod:`course_lib.optim`). With the correction this
    is :func:`updates` of ``optim.adam(lr, betas, eps, amsgrad=amsgrad)`` (tested); without it, the
    first step is :math:`\alpha(1-\beta_1)/\sqrt{1-\beta_2}\,\mathrm{sign}(g_1)`, about 3.16 α for the
    defaults. The moments are :func:`course_lib.ewma.ewma` of g and g².
    """
    grads = _grads(grads)
    rates = _rates(lr, grads.shape[0])
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    beta1 = _validate.real("betas[0]", betas[0], low=0.0, high=1.0, high_open=True)
    beta2 = _validate.real("betas[1]", betas[1], low=0.0, high=1.0, high_open=True)
    eps = _validate.real("eps", eps, low=0.0)
    bias_correction = _validate.boolean("bias_correction", bias_correction)
    amsgrad = _validate.boolean("amsgrad", amsgrad)
    t = np.arange(1, grads.shape[0] + 1)[:, None]
    m, v = ewma.ewma(grads, beta1), ewma.ewma(grads * grads, beta2)
    if amsgrad:
        v = np.maximum.accumulate(v, axis=0)
    if bias_correction:
        m, v = m / (1 - beta1**t), v / (1 - beta2**t)
    return -rates * m / (np.sqrt(v) + eps)


def online_gradients(steps, *, big=1010.0, small=-10.0, period=101) -> np.ndarray:
    r"""The gradients of Reddi, Kale and Kumar's (2018) online linear losses, shape (steps,):
    :math:`f_t(x) = \text{big}\cdot x` when :math:`t \bmod \text{period} = 1`, :math:`\text{small}\cdot x`
    otherwise, for t = 1..steps. Their synthetic experiment is (1010, -10, 101), the construction of
    their Theorem 1 is (C, -1, 3). The gradients do not depend on x."""
    steps = _validate.integer("steps", steps, low=1)
    big, small = _validate.real("big", big), _validate.real("small", small)
    period = _validate.integer("period", period, low=2)
    t = np.arange(1, steps + 1)
    return np.where(t % period == 1, big, small)


def projected_path(steps, x0=0.0, *, low=-1.0, high=1.0) -> np.ndarray:
    r"""Apply 1-D updates one after the other, projecting onto :math:`[\text{low}, \text{high}]` after each:
    :math:`x_t = \Pi(x_{t-1} + \Delta_t)`. ``steps``: shape (T,) or (T, 1). Returns :math:`x_1..x_T`, shape (T,).
    On linear losses the optimizer's state does not depend on x, so this is the projected run exactly."""
    deltas = _grads(steps)
    if deltas.shape[1] != 1:
        raise ValueError(f"steps must be 1-D updates, shape (T,) or (T, 1), got {deltas.shape}")
    x = _validate.real("x0", x0, low=low, high=high)
    out = np.empty(deltas.shape[0])
    for k, delta in enumerate(deltas[:, 0].tolist()):
        x = min(max(x + delta, low), high)
        out[k] = x
    return out


def average_regret(path, grads, x0=0.0) -> np.ndarray:
    r"""Reddi et al.'s average regret :math:`R_t/t` for linear losses :math:`f_s(x) = g_s x` on [-1, 1], t = 1..T.

    The point played at step s is the iterate before its update (:math:`x_0` = ``x0``, then
    ``path[:-1]``), and :math:`R_t = \sum_{s \le t} g_s x_{s-1} - \min_{x \in [-1, 1]} \sum_{s \le t} g_s x`
    (the minimum is :math:`-|\sum_s g_s|`). ``path``, ``grads``: shape (T,)."""
    path, grads = _validate.series("path", path), _validate.series("grads", grads)
    if path.shape != grads.shape or path.ndim != 1:
        raise ValueError(f"path and grads must be 1-D of the same length, got {path.shape} and {grads.shape}")
    played = np.concatenate([[_validate.real("x0", x0)], path[:-1]])
    regret = np.cumsum(grads * played) + np.abs(np.cumsum(grads))
    return regret / np.arange(1, path.size + 1)


def online_adam_problem(optimizer, steps, *, big=1010.0, small=-10.0, period=101, x0=0.0) -> np.ndarray:
    r"""Run ``optimizer`` (one of :mod:`course_lib.optim`) on Reddi, Kale and Kumar's (2018) online problem.

    The losses are :func:`online_gradients`' (``big``, ``small``, ``period``) on :math:`[-1, 1]`; over one
    period of the default problem the total gradient is :math:`1010 - 100\cdot 10 = 10 > 0`, so the best
    point is :math:`x = -1`. Each step takes the optimizer's step and projects back onto [-1, 1].
    Returns :math:`x_1, \dots, x_\text{steps}`, shape (steps,), from :math:`x_0` = ``x0``. (For long runs
    :func:`adam_steps` + :func:`projected_path` compute the same for Adam, vectorised.)
    """
    surfaces._optimizer("optimizer", optimizer, ("init", "step"))
    grads = online_gradients(steps, big=big, small=small, period=period)
    step = getattr(optimizer, "_raw_step", optimizer.step)
    x = np.array([_validate.real("x0", x0, low=-1.0, high=1.0)])
    state = optimizer.init(x)
    out = np.empty(grads.size)
    for k, g in enumerate(grads):
        x, state = step(x, np.array([g]), state)
        x = np.clip(x, -1.0, 1.0)
        out[k] = x[0]
    return out


# --------------------------------------------------------------------------------------------
# Adam as sign descent, measured on a real network
# --------------------------------------------------------------------------------------------

class SignComparison(NamedTuple):
    """What :func:`adam_against_sign_descent` measures, per step t = 1..T."""

    cosine: np.ndarray   # (T,): cosine between Adam's update and -lr sign(m_t), all weights together
    ratio: np.ndarray    # (T, P): |update| / lr per weight (1 = sign descent's step; NaN where m_t = 0)
    loss: np.ndarray     # (T,): the mini-batch loss before the step


def adam_against_sign_descent(steps=300, *, lr=1e-3, betas=(0.9, 0.999), hidden=32, batch_size=32, rng=0):
    r"""Train an MLP (64-``hidden``-10, ReLU) on scikit-learn's digits with ``optim.adam`` and compare each
    update :math:`u_t = -\alpha\,\hat m_t/(\sqrt{\hat v_t}+\varepsilon)` with sign descent's
    :math:`-\alpha\,\mathrm{sign}(m_t)` (Balles and Hennig 2018: Adam is sign descent whose step per weight
    is scaled by :math:`|\hat m_t|/\sqrt{\hat v_t} \le` a few, small where the gradient's sign is noisy).

    Mini-batches of ``batch_size`` drawn with replacement from ``rng`` (one seed for the model, the data
    split and the batches). Returns :class:`SignComparison`.
    """
    steps = _validate.integer("steps", steps, low=1)
    batch_size = _validate.integer("batch_size", batch_size, low=1)
    hidden = _validate.integer("hidden", hidden, low=1)
    gen = _validate.rng("rng", rng)
    split = data.load_digits(rng=gen)
    model = nn.mlp([split.x_train.shape[1], hidden, 10], rng=gen)
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.adam(lr, betas=betas)
    params = model.params
    state = opt.init(params)
    cosine, ratio, losses = np.empty(steps), [], np.empty(steps)
    for k in range(steps):
        batch = gen.integers(0, split.x_train.shape[0], batch_size)
        losses[k] = loss_fn.forward(model.forward(split.x_train[batch], "train"), split.y_train[batch])
        model.backward(loss_fn.backward())
        new, state = opt.step(params, model.grads, state)
        u = np.concatenate([(new[n] - params[n]).ravel() for n in params])
        m = np.concatenate([state.m[n].ravel() for n in params])
        sign_step = -lr * np.sign(m)
        cosine[k] = u @ sign_step / (np.linalg.norm(u) * np.linalg.norm(sign_step))
        ratio.append(np.where(m != 0, np.abs(u) / lr, np.nan))  # weights never touched by a gradient: no sign
        model.params = params = new
    return SignComparison(cosine, np.array(ratio), losses)


# --------------------------------------------------------------------------------------------
# Warmup and RAdam (Liu et al. 2020)
# --------------------------------------------------------------------------------------------

def radam_rho(t, beta2=0.999):
    r"""RAdam's length of the approximated simple moving average,
    :math:`\rho_t = \rho_\infty - 2t\beta_2^t/(1-\beta_2^t)`, :math:`\rho_\infty = 2/(1-\beta_2) - 1`.

    The adaptive rate :math:`\psi_t = 1/\sqrt{\hat v_t}` of i.i.d. gradients behaves like the inverse
    root of a scaled :math:`\chi^2` with :math:`\rho_t` degrees of freedom; its variance is infinite for
    :math:`\rho_t \le 4` (the first 4 steps for :math:`\beta_2 = 0.999`) and about
    :math:`\rho_t/(2(\rho_t-2)(\rho_t-4)\sigma^2)` beyond (:func:`radam_variance`). ``t``: steps from 1 (broadcasts).
    """
    t = _validate.array("t", t)
    _reject_below_one(t)
    beta2 = _validate.real("beta2", beta2, low=0.0, high=1.0, low_open=True, high_open=True)
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    out = rho_inf - 2.0 * t * beta2**t / (1.0 - beta2**t)
    return float(out) if out.ndim == 0 else out


def _reject_below_one(t):
    if np.any(t < 1):
        raise ValueError(f"t must count steps from 1, got {np.min(t):g}")


def radam_variance(t, beta2=0.999, sigma=1.0):
    r"""Liu et al.'s first-order approximation of :math:`\operatorname{Var}[1/\sqrt{\hat v_t}]` for i.i.d.
    gradients of standard deviation ``sigma``: :math:`\rho_t/(2(\rho_t-2)(\rho_t-4)\sigma^2)`, ``inf`` where
    :math:`\rho_t \le 4`. Broadcasts over ``t``."""
    rho = np.asarray(radam_rho(t, beta2))
    sigma = _validate.real("sigma", sigma, low=0.0, low_open=True)
    ok = rho > 4
    out = np.where(ok, rho / (2.0 * np.where(ok, (rho - 2) * (rho - 4), 1.0) * sigma**2), np.inf)
    return float(out) if out.ndim == 0 else out


def radam_rectification(t, beta2=0.999):
    r"""RAdam's rectification :math:`r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}`,
    :math:`\sqrt{\operatorname{Var}_\infty/\operatorname{Var}_t}` of :func:`radam_variance`: it scales the adaptive
    step down while the variance is large, a warmup computed from :math:`\beta_2`. NaN where
    :math:`\rho_t \le 4` (torch's ``RAdam`` takes the un-adapted step :math:`\alpha\hat m_t` while
    :math:`\rho_t \le 5`). Broadcasts over ``t``."""
    rho = np.asarray(radam_rho(t, beta2))
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    with np.errstate(invalid="ignore"):
        out = np.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
    out = np.where(rho > 4, out, np.nan)
    return float(out) if out.ndim == 0 else out


def inverse_root_variance(steps, seeds, beta2=0.999, *, rng=0) -> np.ndarray:
    r"""The empirical variance, across ``seeds`` runs, of Adam's adaptive rate :math:`1/\sqrt{\hat v_t}`
    for i.i.d. N(0, 1) gradients drawn from ``rng``, t = 1..``steps``; shape (steps,). To compare with
    :func:`radam_variance` (infinite in theory for the first steps: the sample variance is then huge
    and erratic)."""
    steps = _validate.integer("steps", steps, low=1)
    seeds = _validate.integer("seeds", seeds, low=2)
    gen = _validate.rng("rng", rng)
    g = gen.standard_normal((steps, seeds))
    v_hat = ewma.ewma(g * g, beta2, bias_correction=True)
    return np.var(1.0 / np.sqrt(v_hat), axis=1, ddof=1)


# --------------------------------------------------------------------------------------------
# NAdam and AdaMax: short reference implementations (tested against torch.optim.NAdam / Adamax)
# --------------------------------------------------------------------------------------------

def adamax_steps(grads, lr=2e-3, betas=(0.9, 0.999), eps=1e-8) -> np.ndarray:
    r"""AdaMax (Kingma and Ba 2015, §7.1), as ``torch.optim.Adamax``, on a fixed gradient stream. Shape (T, d).

    .. math::

        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        u_t = \max(\beta_2 u_{t-1}, |g_t| + \varepsilon), \qquad
        \Delta\theta_t = -\frac{\alpha}{1-\beta_1^t}\,\frac{m_t}{u_t}

    Adam with the :math:`L^2` average of the gradients replaced by an exponentially weighted
    :math:`L^\infty` norm: no bias correction is needed for u, and the step is at most :math:`\alpha/(1-\beta_1^t)\cdot|m_t|/u_t \le \alpha` roughly.
    """
    grads = _grads(grads)
    lr = _validate.real("lr", lr, low=0.0)
    beta1, beta2 = optim._betas(betas)
    eps = _validate.real("eps", eps, low=0.0)
    m = ewma.ewma(grads, beta1)
    u = np.empty_like(grads)
    u_prev = np.zeros(grads.shape[1])
    for k, g in enumerate(grads):
        u_prev = np.maximum(beta2 * u_prev, np.abs(g) + eps)
        u[k] = u_prev
    t = np.arange(1, grads.shape[0] + 1)[:, None]
    return -lr / (1 - beta1**t) * m / u


def nadam_steps(grads, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, momentum_decay=4e-3) -> np.ndarray:
    r"""NAdam (Dozat 2016), as ``torch.optim.NAdam``, on a fixed gradient stream. Shape (T, d).

    Adam with Nesterov's look-ahead in the first moment: with the momentum schedule
    :math:`\mu_t = \beta_1(1 - \tfrac12\,0.96^{t\psi})` (:math:`\psi` = ``momentum_decay``) and
    :math:`\hat v_t = v_t/(1-\beta_2^t)`,

    .. math::

        \Delta\theta_t = -\alpha\Bigl(\frac{(1-\mu_t)\, g_t}{1-\prod_{s\le t}\mu_s}
            + \frac{\mu_{t+1}\, m_t}{1-\prod_{s\le t+1}\mu_s}\Bigr)\frac{1}{\sqrt{\hat v_t}+\varepsilon}

    (m, v the EWMAs of Adam): the current gradient enters twice, as in Nesterov's step
    :math:`g + \beta b` of the momentum chapter.
    """
    grads = _grads(grads)
    lr = _validate.real("lr", lr, low=0.0)
    beta1, beta2 = optim._betas(betas)
    eps = _validate.real("eps", eps, low=0.0)
    momentum_decay = _validate.real("momentum_decay", momentum_decay, low=0.0)
    t = np.arange(1, grads.shape[0] + 2, dtype=np.float64)[:, None]
    mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))     # mu_1 .. mu_{T+1}
    product = np.cumprod(mu, axis=0)
    m = ewma.ewma(grads, beta1)
    v_hat = ewma.ewma(grads * grads, beta2) / (1 - beta2 ** t[:-1])
    denominator = np.sqrt(v_hat) + eps
    return -lr * ((1 - mu[:-1]) / (1 - product[:-1]) * grads + mu[1:] / (1 - product[1:]) * m) / denominator


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
