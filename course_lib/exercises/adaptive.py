"""Checkers for the exercises of the chapter "Adaptive learning rates".

The student writes one update step of AdaGrad, RMSProp and Adam as a pure function of numpy
arrays. Each checker compares it with :mod:`course_lib.optim` (which matches ``torch.optim``) and,
when the answer is wrong, recognises the common mistakes below by reproducing them.

Signatures (every function returns new arrays and leaves its inputs alone):

* ``adagrad_update(theta, g, r, lr, eps)`` -> ``(theta, r)``
* ``rmsprop_update(theta, g, r, lr, rho, eps)`` -> ``(theta, r)``
* ``adam_update(theta, g, m, v, t, lr, beta1, beta2, eps)`` -> ``(theta, m, v)``, t = 1 for the first step
"""
from __future__ import annotations

import numpy as np

from course_lib import optim
from course_lib.exercises._core import Case, Checker, Mistake

_rng = np.random.default_rng(6)
_THETA = np.round(_rng.standard_normal(4), 3)
_G = np.round(np.array([2.0, -0.5, 1e-3, 30.0]) * (1 + 0.2 * _rng.standard_normal(4)), 4)
_R = np.round(np.array([4.0, 0.3, 1e-6, 500.0]) * (1 + 0.2 * _rng.random(4)), 6)
_M = np.round(np.array([1.5, -0.4, 2e-3, 20.0]) * (1 + 0.2 * _rng.random(4)), 5)


# --------------------------------------------------------------------------------------------
# AdaGrad
# --------------------------------------------------------------------------------------------

def _adagrad(theta, g, r, lr, eps):
    new, state = optim.adagrad(lr, eps=eps).step(theta, g, optim.AdagradState(0, r))
    return new, state.r


def _adagrad_variant(theta, g, r, lr, eps, *, inside=False, use_old_r=False, no_sqrt=False, average=False):
    new_r = 0.9 * r + 0.1 * g * g if average else r + g * g
    used = r if use_old_r else new_r
    if inside:
        denominator = np.sqrt(used + eps)
    elif no_sqrt:
        denominator = used + eps
    else:
        denominator = np.sqrt(used) + eps
    return theta - lr * g / denominator, new_r


check_adagrad = Checker(
    "adagrad_update",
    reference=_adagrad,
    cases=(
        Case("first step, r = 0: every weight moves by lr * sign(g)", (_THETA, _G, np.zeros(4), 0.1, 1e-10)),
        Case("r from earlier steps", (_THETA, _G, _R, 0.1, 1e-10)),
        Case("eps = 0.01, a tiny gradient in weight 3", (_THETA, _G, _R, 0.5, 1e-2)),
    ),
    mistakes=(
        Mistake("add g * g to r first, then divide by the square root of the NEW r "
                "(on the first step the old r is 0).",
                lambda th, g, r, lr, eps: _adagrad_variant(th, g, r, lr, eps, use_old_r=True)),
        Mistake("epsilon goes outside the square root, sqrt(r) + eps (as in torch and source 003); "
                "you wrote sqrt(r + eps).",
                lambda th, g, r, lr, eps: _adagrad_variant(th, g, r, lr, eps, inside=True)),
        Mistake("divide by the square ROOT of r, not by r itself.",
                lambda th, g, r, lr, eps: _adagrad_variant(th, g, r, lr, eps, no_sqrt=True)),
        Mistake("AdaGrad keeps a running SUM, r + g * g; a moving average is RMSProp.",
                lambda th, g, r, lr, eps: _adagrad_variant(th, g, r, lr, eps, average=True)),
    ),
    generic_hint="r_new = r + g * g, then theta_new = theta - lr * g / (sqrt(r_new) + eps); return (theta_new, r_new).",
)


# --------------------------------------------------------------------------------------------
# RMSProp
# --------------------------------------------------------------------------------------------

def _rmsprop(theta, g, r, lr, rho, eps):
    state = optim.RMSpropState(0, r, None, None)
    new, state = optim.rmsprop(lr, alpha=rho, eps=eps).step(theta, g, state)
    return new, state.v


def _rmsprop_variant(theta, g, r, lr, rho, eps, *, inside=False, swapped=False, no_one_minus=False,
                     corrected_t1=False, use_old_r=False):
    if swapped:
        new_r = (1 - rho) * r + rho * g * g
    elif no_one_minus:
        new_r = rho * r + g * g
    else:
        new_r = rho * r + (1 - rho) * g * g
    used = r if use_old_r else new_r
    if corrected_t1:
        used = used / (1 - rho)
    denominator = np.sqrt(used + eps) if inside else np.sqrt(used) + eps
    return theta - lr * g / denominator, new_r


check_rmsprop = Checker(
    "rmsprop_update",
    reference=_rmsprop,
    cases=(
        Case("r from earlier steps, rho = 0.9", (_THETA, _G, _R, 0.01, 0.9, 1e-8)),
        Case("first step, r = 0, rho = 0.99", (_THETA, _G, np.zeros(4), 0.01, 0.99, 1e-8)),
        Case("eps = 0.01, a tiny gradient in weight 3", (_THETA, _G, _R, 0.01, 0.9, 1e-2)),
    ),
    mistakes=(
        Mistake("the weights are swapped: rho multiplies the old average r, (1 - rho) the new g * g.",
                lambda *a: _rmsprop_variant(*a, swapped=True)),
        Mistake("the new g * g is weighted by (1 - rho); without it r is not an average (that "
                "would make it a discounted sum).", lambda *a: _rmsprop_variant(*a, no_one_minus=True)),
        Mistake("update r first, then divide by the square root of the NEW r.",
                lambda *a: _rmsprop_variant(*a, use_old_r=True)),
        Mistake("epsilon goes outside the square root, sqrt(r) + eps (torch's RMSprop); you wrote "
                "sqrt(r + eps), source 002's placement.", lambda *a: _rmsprop_variant(*a, inside=True)),
        Mistake("RMSProp (as torch implements it) has no bias correction: do not divide r by 1 - rho.",
                lambda *a: _rmsprop_variant(*a, corrected_t1=True)),
    ),
    generic_hint="r_new = rho * r + (1 - rho) * g * g, theta_new = theta - lr * g / (sqrt(r_new) + eps).",
)


# --------------------------------------------------------------------------------------------
# Adam
# --------------------------------------------------------------------------------------------

def _adam(theta, g, m, v, t, lr, beta1, beta2, eps):
    state = optim.AdamState(t - 1, m, v, None)
    new, state = optim.adam(lr, betas=(beta1, beta2), eps=eps).step(theta, g, state)
    return new, state.m, state.v


def _adam_variant(theta, g, m, v, t, lr, beta1, beta2, eps, *, correct_m=True, correct_v=True, t_shift=0,
                  inside=False, swapped=False, uncorrected_update=False, no_sqrt=False):
    if swapped:
        m_new = (1 - beta1) * m + beta1 * g
        v_new = (1 - beta2) * v + beta2 * g * g
    else:
        m_new = beta1 * m + (1 - beta1) * g
        v_new = beta2 * v + (1 - beta2) * g * g
    n = t + t_shift
    with np.errstate(divide="ignore", invalid="ignore"):
        m_hat = m_new / (1 - beta1**n) if correct_m else m_new
        v_hat = v_new / (1 - beta2**n) if correct_v else v_new
        if no_sqrt:
            denominator = v_hat + eps
        else:
            denominator = np.sqrt(v_hat + eps) if inside else np.sqrt(v_hat) + eps
        new_theta = theta - lr * m_hat / denominator
    if uncorrected_update:  # corrected values fed back into the state
        return new_theta, m_hat, v_hat
    return new_theta, m_new, v_new


def _mistake(**options):
    return lambda *args: _adam_variant(*args, **options)


check_adam = Checker(
    "adam_update",
    reference=_adam,
    cases=(
        Case("step t = 5, state from earlier steps", (_THETA, _G, _M, _R, 5, 1e-3, 0.9, 0.999, 1e-8)),
        Case("first step t = 1, m = v = 0", (_THETA, _G, np.zeros(4), np.zeros(4), 1, 1e-3, 0.9, 0.999, 1e-8)),
        Case("t = 2, beta1 = 0.5, beta2 = 0.9, eps = 0.01", (_THETA, _G, _M, _R, 2, 0.1, 0.5, 0.9, 1e-2)),
        Case("late step t = 10000: the corrections are almost 1", (_THETA, _G, _M, _R, 10000, 1e-3, 0.9, 0.999, 1e-8)),
    ),
    mistakes=(
        Mistake("no bias correction: divide m by 1 - beta1**t and v by 1 - beta2**t before the update.",
                _mistake(correct_m=False, correct_v=False)),
        Mistake("correct BOTH moments: v needs v / (1 - beta2**t) as well as m / (1 - beta1**t).",
                _mistake(correct_v=False)),
        Mistake("correct BOTH moments: m needs m / (1 - beta1**t) as well as v / (1 - beta2**t).",
                _mistake(correct_m=False)),
        Mistake("wrong step count: t is the number of THIS step (1 for the first), use beta**t, not beta**(t - 1).",
                _mistake(t_shift=-1)),
        Mistake("wrong step count: t is already the number of this step; use beta**t, not beta**(t + 1).",
                _mistake(t_shift=+1)),
        Mistake("epsilon goes outside the square root, sqrt(v_hat) + eps (Kingma & Ba, torch); you wrote "
                "sqrt(v_hat + eps), source 002's placement.", _mistake(inside=True)),
        Mistake("the weights are swapped: beta multiplies the old average, (1 - beta) the new gradient.",
                _mistake(swapped=True)),
        Mistake("return the uncorrected m and v as the new state; the bias correction is applied only "
                "in the update of theta.", _mistake(uncorrected_update=True)),
        Mistake("divide by the square ROOT of v_hat.", _mistake(no_sqrt=True)),
    ),
    generic_hint="m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; m_hat = m/(1-b1^t); v_hat = v/(1-b2^t); "
                 "theta -= lr m_hat / (sqrt(v_hat) + eps).",
)
