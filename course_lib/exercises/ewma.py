"""Checkers for the exercises of the chapter "Exponentially weighted moving averages".

Each checker compares the student's function with :mod:`course_lib.ewma` and, when the answer
is wrong, recognises the common mistakes below by reproducing them.
"""
from __future__ import annotations

import numpy as np

from course_lib import ewma as reference
from course_lib.exercises._core import Case, Checker, Mistake

_rng = np.random.default_rng(2)
_NOISY = np.round(np.sin(np.linspace(0, 3, 12)) + 0.3 * _rng.standard_normal(12), 3)

_SERIES_CASES = (
    Case("y = [1, 2, 3], rho = 0.5", (np.array([1.0, 2.0, 3.0]), 0.5)),
    Case("constant y = 4 (5 steps), rho = 0.9", (np.full(5, 4.0), 0.9)),
    Case("rho = 0 (no memory)", (np.array([3.0, -1.0, 2.0]), 0.0)),
    Case("a noisy series of 12 values, rho = 0.8", (_NOISY, 0.8)),
)


def _swapped_weights(y, rho):
    out, s = [], 0.0
    for value in y:
        s = (1 - rho) * s + rho * value
        out.append(s)
    return np.array(out)


def _starts_at_first_value(y, rho):
    out, s = [], None
    for value in y:
        s = value if s is None else rho * s + (1 - rho) * value
        out.append(s)
    return np.array(out)


def _no_one_minus_rho(y, rho):
    out, s = [], 0.0
    for value in y:
        s = rho * s + value
        out.append(s)
    return np.array(out)


def _stores_before_update(y, rho):
    out, s = [], 0.0
    for value in y:
        out.append(s)
        s = rho * s + (1 - rho) * value
    return np.array(out)


def _last_value_only(y, rho):
    return reference.ewma(y, rho)[-1]


check_ewma = Checker(
    "ewma",
    reference=lambda y, rho: reference.ewma(y, rho),
    cases=_SERIES_CASES,
    mistakes=(
        Mistake("the weights are swapped: rho multiplies the previous average S_{t-1}, "
                "(1 - rho) the new value y_t.", _swapped_weights),
        Mistake("start from S_0 = 0, not from the first value y_1 (the start-up bias is part of "
                "the plain EWMA; the next exercise corrects it).", _starts_at_first_value),
        Mistake("the new value is weighted by (1 - rho); without that factor the average of a "
                "constant series grows towards y / (1 - rho).", _no_one_minus_rho),
        Mistake("out[t-1] must be S_t: store the average after adding y_t, not before.", _stores_before_update),
        Mistake("return the whole series S_1, ..., S_T (one value per input), not only the last.",
                _last_value_only),
    ),
    generic_hint="apply S_t = rho * S_{t-1} + (1 - rho) * y_t with S_0 = 0, and keep every S_t.",
)


def _corrected(y, rho, power_offset=0, correction=None):
    s = reference.ewma(y, rho)
    t = np.arange(1, len(s) + 1) + power_offset
    with np.errstate(divide="ignore", invalid="ignore"):
        return s / (1 - rho**t) if correction is None else s / correction


def _corrected_inside_recursion(y, rho):
    out, s = [], 0.0
    for t, value in enumerate(y, start=1):
        s = rho * s + (1 - rho) * value
        s = s / (1 - rho**t)
        out.append(s)
    return np.array(out)


check_bias_corrected = Checker(
    "bias_corrected_ewma",
    reference=lambda y, rho: reference.ewma(y, rho, bias_correction=True),
    cases=(
        Case("y = [1, 2, 3], rho = 0.5", (np.array([1.0, 2.0, 3.0]), 0.5)),
        Case("constant y = 4 (5 steps), rho = 0.9: every corrected value is 4", (np.full(5, 4.0), 0.9)),
        Case("a noisy series of 12 values, rho = 0.8", (_NOISY, 0.8)),
    ),
    mistakes=(
        Mistake("t counts from 1: S_1 is divided by 1 - rho, not by 1 - rho**0 = 0.",
                lambda y, rho: _corrected(y, rho, power_offset=-1)),
        Mistake("off by one: S_t is divided by 1 - rho**t; you used rho**(t + 1).",
                lambda y, rho: _corrected(y, rho, power_offset=+1)),
        Mistake("divide each S_t by 1 - rho**t; your values are the uncorrected EWMA.",
                lambda y, rho: reference.ewma(y, rho)),
        Mistake("the correction 1 - rho**t changes with t; you divided by the constant 1 - rho.",
                lambda y, rho: _corrected(y, rho, correction=1 - rho)),
        Mistake("correct only the output: the recursion must keep running on the uncorrected S_t "
                "(corrected values must not feed back into the average).", _corrected_inside_recursion),
    ),
    generic_hint="compute S_t as before, then return S_t / (1 - rho**t) for t = 1, ..., T.",
)


check_weights = Checker(
    "ewma_weights",
    reference=lambda rho, t: reference.ewma_weights(rho, t),
    cases=(
        Case("rho = 0.5, t = 4", (0.5, 4)),
        Case("rho = 0.9, t = 6", (0.9, 6)),
        Case("rho = 0.95, t = 30", (0.95, 30)),
    ),
    mistakes=(
        Mistake("the newest value y_t gets weight (1 - rho) * rho**0 = 1 - rho: start the powers at k = 0.",
                lambda rho, t: (1 - rho) * rho ** np.arange(1, t + 1)),
        Mistake("each weight carries the factor (1 - rho).", lambda rho, t: rho ** np.arange(t)),
        Mistake("w[0] belongs to the newest value y_t (the largest weight); you listed the oldest first.",
                lambda rho, t: ((1 - rho) * rho ** np.arange(t))[::-1]),
    ),
    generic_hint="w_k = (1 - rho) * rho**k for k = 0, ..., t - 1.",
)
