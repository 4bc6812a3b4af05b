r"""Learning-rate schedules (chapter "Gradient descent and the learning rate").

A schedule is a function of the step count :math:`t = 0, 1, 2, \dots` (the number of steps taken
before the current one) that returns the learning rate :math:`\alpha_t`. Every optimizer of
:mod:`course_lib.optim` accepts one as ``lr``: step ``t`` uses ``lr(t)``. Schedules also take
an array of step counts and return an array, for plots::

    lr = warmup(cosine(0.1, total_steps=1000), warmup_steps=50)
    lr(0), lr(np.arange(1050))

Public names
------------
``constant``, ``step_decay`` (every k steps, or at milestones), ``exponential``, ``inverse_time``
(1/t decay), ``cosine``, ``linear``, ``linear_to_floor`` (source 004), ``inverse_sqrt``,
``warmup`` (linear warmup in front of any schedule); the Robbins–Monro helpers
``robbins_monro`` (analytic classification) and ``partial_sums`` (numeric evidence);
the types ``Schedule`` and ``RobbinsMonro``.

Robbins–Monro conditions (source 004)
-------------------------------------
SGD converges (under the usual assumptions) if :math:`\sum_t \alpha_t = \infty` (the steps can
travel any distance) and :math:`\sum_t \alpha_t^2 < \infty` (the accumulated noise stays finite).
The conditions are sufficient, not necessary: on a strongly convex problem any rate with
:math:`\alpha_t \to 0` and :math:`\sum_t\alpha_t = \infty` (e.g. :func:`inverse_sqrt`) converges in
expectation, its error tracking :math:`\alpha_t` (:func:`course_lib.quadratic_theory.expected_excess_loss`).
Of the schedules here only :func:`inverse_time` meets both. A constant rate, step decay at
milestones, :func:`linear_to_floor` and :func:`inverse_sqrt` (:math:`\sum 1/t` diverges) break the
second; exponential decay, decay every k steps, and cosine or linear decay to zero break the
first (their sum is finite: the iterate cannot travel further than it). Source 004 states the
conditions and then recommends the linear decay to a floor :math:`\alpha_\tau > 0`, which breaks
the second: in practice one stops after finitely many steps and the conditions are a guide.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from course_lib import _validate

__all__ = [
    "Schedule",
    "RobbinsMonro",
    "constant",
    "step_decay",
    "exponential",
    "inverse_time",
    "cosine",
    "linear",
    "linear_to_floor",
    "inverse_sqrt",
    "warmup",
    "robbins_monro",
    "partial_sums",
]


class RobbinsMonro(NamedTuple):
    """Whether a schedule meets the Robbins–Monro conditions, and why.

    ``sum_diverges``: :math:`\\sum_t \\alpha_t = \\infty`; ``sum_of_squares_converges``:
    :math:`\\sum_t \\alpha_t^2 < \\infty`; ``meets``: both; ``reason``: one sentence.
    """
    sum_diverges: bool
    sum_of_squares_converges: bool
    meets: bool
    reason: str


def _rm(sum_diverges: bool, squares_converge: bool, reason: str) -> RobbinsMonro:
    return RobbinsMonro(sum_diverges, squares_converge, sum_diverges and squares_converge, reason)


class Schedule:
    """A learning-rate schedule: ``schedule(t)`` for a step count t >= 0 (an int, or an array of them).

    ``name`` and ``params`` describe it; ``robbins_monro`` is its analytic classification.
    """

    def __init__(self, name: str, params: dict, formula: Callable[[np.ndarray], np.ndarray],
                 robbins_monro: RobbinsMonro):
        self.name = name
        self.params = dict(params)
        self._formula = formula
        self.robbins_monro = robbins_monro

    def __call__(self, t):
        steps = np.asarray(t)
        if steps.dtype == object or not (np.issubdtype(steps.dtype, np.integer) or np.issubdtype(steps.dtype, np.floating)) \
                or isinstance(t, bool):
            raise TypeError(f"t must be a step count (an int >= 0, or an array of them), got {t!r}")
        if np.any(~np.isfinite(steps)) or np.any(steps < 0):
            raise ValueError(f"t must be >= 0 (steps are counted from 0), got {t!r}")
        values = self._formula(steps.astype(np.float64))
        return float(values) if steps.ndim == 0 else values

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.params.items())
        return f"{self.name}({args})"


def _lr(lr) -> float:
    return _validate.real("lr", lr, low=0.0)


def constant(lr) -> Schedule:
    r""":math:`\alpha_t = \alpha_0`. Breaks :math:`\sum\alpha_t^2 < \infty` (unless :math:`\alpha_0 = 0`)."""
    lr = _lr(lr)
    rm = _rm(lr > 0, lr == 0, "a constant rate > 0 sums to infinity, and so do its squares" if lr > 0
             else "a zero rate never moves")
    return Schedule("constant", dict(lr=lr), lambda t: np.full_like(t, lr), rm)


def step_decay(lr, step_size=None, gamma=0.1, *, milestones=None) -> Schedule:
    r"""Multiply the rate by ``gamma`` every ``step_size`` steps, or at each of the ``milestones``.

    .. math::

        \alpha_t = \alpha_0 \gamma^{\lfloor t / k \rfloor}
        \quad\text{or}\quad \alpha_t = \alpha_0 \gamma^{\#\{m \in \text{milestones} : m \le t\}}

    (torch's ``StepLR`` and ``MultiStepLR``). Source 003: halve every few epochs, or multiply by 0.1
    at epochs 30, 60 and 90 (ResNet): ``step_decay(0.1, milestones=(30, 60, 90))`` with t in epochs.
    Give exactly one of ``step_size`` (an int >= 1) and ``milestones`` (increasing ints >= 1).
    """
    lr = _lr(lr)
    gamma = _validate.real("gamma", gamma, low=0.0, high=1.0)
    if (step_size is None) == (milestones is None):
        raise ValueError(f"give exactly one of step_size and milestones, got step_size={step_size!r} "
                         f"and milestones={milestones!r}")
    if step_size is not None:
        step_size = _validate.integer("step_size", step_size, low=1)
        if lr == 0 or gamma == 0:
            rm = _rm(False, True, "the rate is zero after the first decay")
        elif gamma == 1:
            rm = _rm(True, False, "gamma = 1 is a constant rate")
        else:
            rm = _rm(False, True, "decay every k steps is geometric: both sums are finite")
        return Schedule("step_decay", dict(lr=lr, step_size=step_size, gamma=gamma),
                        lambda t: lr * gamma ** np.floor(t / step_size), rm)
    if isinstance(milestones, (str, bytes)) or not hasattr(milestones, "__iter__"):
        raise TypeError(f"milestones must be a sequence of ints, got {milestones!r}")
    milestones = tuple(_validate.integer("milestones", m, low=1) for m in milestones)
    if not milestones or any(b <= a for a, b in zip(milestones, milestones[1:])):
        raise ValueError(f"milestones must be a non-empty increasing sequence of ints >= 1, got {milestones}")
    final = lr * gamma ** len(milestones)
    rm = _rm(final > 0, final == 0, "after the last milestone the rate is a constant > 0" if final > 0
             else "after the last milestone the rate is zero")
    edges = np.asarray(milestones, dtype=np.float64)
    return Schedule("step_decay", dict(lr=lr, milestones=milestones, gamma=gamma),
                    lambda t: lr * gamma ** np.searchsorted(edges, t, side="right").astype(np.float64), rm)


def exponential(lr, k) -> Schedule:
    r""":math:`\alpha_t = \alpha_0 e^{-kt}` (source 003). For k > 0 both sums are finite (geometric):
    breaks :math:`\sum\alpha_t = \infty`."""
    lr = _lr(lr)
    k = _validate.real("k", k, low=0.0)
    if lr > 0 and k == 0:
        rm = _rm(True, False, "k = 0 is a constant rate")
    else:
        rm = _rm(False, True, "exponential decay is geometric: both sums are finite")
    return Schedule("exponential", dict(lr=lr, k=k), lambda t: lr * np.exp(-k * t), rm)


def inverse_time(lr, k) -> Schedule:
    r""":math:`\alpha_t = \alpha_0 / (1 + kt)` (source 003's "1/t decay"). For k > 0 the only schedule
    here that meets both Robbins–Monro conditions: :math:`\sum 1/t = \infty`, :math:`\sum 1/t^2 < \infty`."""
    lr = _lr(lr)
    k = _validate.real("k", k, low=0.0)
    if lr == 0:
        rm = _rm(False, True, "a zero rate never moves")
    elif k == 0:
        rm = _rm(True, False, "k = 0 is a constant rate")
    else:
        rm = _rm(True, True, "like 1/t: the harmonic series diverges, the sum of 1/t^2 converges")
    return Schedule("inverse_time", dict(lr=lr, k=k), lambda t: lr / (1.0 + k * t), rm)


def cosine(lr, total_steps, floor=0.0) -> Schedule:
    r"""Cosine decay (Loshchilov & Hutter 2017; source 003), then ``floor`` for :math:`t > T`.

    .. math::

        \alpha_t = \alpha_{\min} + \tfrac12(\alpha_0 - \alpha_{\min})\bigl(1 + \cos(\pi t / T)\bigr)
        \quad (t \le T), \qquad \alpha_t = \alpha_{\min} \quad (t > T)

    Source 003 writes the case :math:`\alpha_{\min} = 0`, where the sum over an infinite horizon is
    finite (breaks :math:`\sum\alpha_t = \infty`); a floor > 0 breaks the other condition.
    """
    lr = _lr(lr)
    total_steps = _validate.integer("total_steps", total_steps, low=1)
    floor = _validate.real("floor", floor, low=0.0, high=lr)
    rm = (_rm(True, False, "after T the rate is the constant floor > 0") if floor > 0
          else _rm(False, True, "the rate is zero after T steps: finitely many nonzero terms"))

    def formula(t):
        return floor + 0.5 * (lr - floor) * (1.0 + np.cos(np.pi * np.minimum(t, total_steps) / total_steps))

    return Schedule("cosine", dict(lr=lr, total_steps=total_steps, floor=floor), formula, rm)


def linear(lr, total_steps) -> Schedule:
    r""":math:`\alpha_t = \alpha_0 (1 - t/T)` for :math:`t \le T`, 0 after (source 003).
    Finitely many nonzero terms: breaks :math:`\sum\alpha_t = \infty`."""
    lr = _lr(lr)
    total_steps = _validate.integer("total_steps", total_steps, low=1)
    rm = _rm(False, True, "the rate is zero after T steps: finitely many nonzero terms")
    return Schedule("linear", dict(lr=lr, total_steps=total_steps),
                    lambda t: lr * (1.0 - np.minimum(t, total_steps) / total_steps), rm)


def linear_to_floor(lr, tau, floor) -> Schedule:
    r"""Linear decay to a floor (source 004; Goodfellow et al. Sec. 8.3.1).

    .. math::

        \alpha_t = \alpha_0 - \frac{t}{\tau}(\alpha_0 - \alpha_\tau) \quad (t \le \tau), \qquad
        \alpha_t = \alpha_\tau \quad (t > \tau)

    Source 004 suggests :math:`\alpha_\tau \approx 0.01\,\alpha_0`. With a floor > 0 the squares
    sum to infinity: it breaks the second Robbins–Monro condition that the same slide states.
    """
    lr = _lr(lr)
    tau = _validate.integer("tau", tau, low=1)
    floor = _validate.real("floor", floor, low=0.0, high=lr)
    rm = (_rm(True, False, "after tau the rate is the constant floor > 0") if floor > 0
          else _rm(False, True, "the rate is zero after tau steps: finitely many nonzero terms"))
    return Schedule("linear_to_floor", dict(lr=lr, tau=tau, floor=floor),
                    lambda t: lr - np.minimum(t, tau) / tau * (lr - floor), rm)


def inverse_sqrt(lr) -> Schedule:
    r"""Inverse square-root decay, :math:`\alpha_t = \alpha_0 / \sqrt{t + 1}`.

    Source 003 writes :math:`\alpha_0/\sqrt t`, undefined at the first step t = 0; we count from
    t + 1, so :math:`\alpha_0` is the first rate (the same sequence as the source's, shifted by one
    step). :math:`\sum 1/\sqrt t = \infty` but :math:`\sum 1/t = \infty` too: breaks the second
    Robbins–Monro condition. Usually used after a warmup (:func:`warmup`; Vaswani et al. 2017).
    """
    lr = _lr(lr)
    rm = (_rm(True, False, "like 1/sqrt(t): the sum diverges, and so does the sum of 1/t")
          if lr > 0 else _rm(False, True, "a zero rate never moves"))
    return Schedule("inverse_sqrt", dict(lr=lr), lambda t: lr / np.sqrt(t + 1.0), rm)


def warmup(schedule, warmup_steps) -> Schedule:
    r"""Linear warmup from 0 in front of ``schedule`` (source 003; Goyal et al. 2017).

    .. math::

        \alpha_t = \frac{t}{W}\,s(0) \quad (t < W), \qquad \alpha_t = s(t - W) \quad (t \ge W)

    The wrapped schedule starts after the warmup, so ``warmup(cosine(lr, T), W)`` lasts W + T steps.
    A finite prefix changes no infinite sum: the Robbins–Monro classification is the wrapped one's.
    """
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a Schedule from course_lib.schedules, got {type(schedule).__name__}")
    warmup_steps = _validate.integer("warmup_steps", warmup_steps, low=1)
    peak = schedule(0)

    def formula(t):
        inside = schedule._formula(np.maximum(t - warmup_steps, 0.0))
        return np.where(t < warmup_steps, peak * t / warmup_steps, inside)

    return Schedule("warmup", dict(schedule=schedule, warmup_steps=warmup_steps), formula, schedule.robbins_monro)


def robbins_monro(schedule) -> RobbinsMonro:
    """The analytic Robbins–Monro classification of ``schedule`` (derived per schedule type).

    ``partial_sums`` gives the numeric evidence over a finite horizon.
    """
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a Schedule from course_lib.schedules, got {type(schedule).__name__}")
    return schedule.robbins_monro


def partial_sums(schedule, horizon):
    r"""The partial sums :math:`S_n = \sum_{t<n} \alpha_t` and :math:`Q_n = \sum_{t<n} \alpha_t^2`, n = 1..horizon.

    Returns two arrays of shape (horizon,). On a log axis, a divergent sum keeps growing (like
    :math:`\log n` for 1/t, :math:`\sqrt n` for :math:`1/\sqrt t`, n for a constant) while a
    convergent one flattens.
    """
    if not callable(schedule):
        raise TypeError(f"schedule must be callable, got {type(schedule).__name__}")
    horizon = _validate.integer("horizon", horizon, low=1)
    rates = np.asarray(schedule(np.arange(horizon)), dtype=np.float64)
    if rates.shape != (horizon,):
        raise ValueError(f"schedule must map an array of {horizon} step counts to {horizon} rates, "
                         f"got shape {rates.shape}")
    return np.cumsum(rates), np.cumsum(rates * rates)

