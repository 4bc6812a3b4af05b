"""Checkers for the exercises of the chapter "Batch normalization".

The student writes three pure functions of numpy arrays, batch first (``x`` is ``(N, D)``):

* ``batchnorm_forward_train(x, gamma, beta, eps)`` -> ``out`` ``(N, D)``: training mode, batch
  statistics, ε inside the square root (torch, sources 000 and 003);
* ``batchnorm_backward_train(dout, x, gamma, eps)`` -> ``(dx, dgamma, dbeta)``: the gradients of
  that forward pass;
* ``running_update(running_mean, running_var, x, momentum)`` -> ``(mean, var)``: torch's update of
  the running statistics after one training batch ``x`` (momentum weights the NEW batch; the
  stored variance is the unbiased one).

Each checker compares with :mod:`course_lib.layers` (tested against ``torch.nn``) and recognises
the common mistakes below by reproducing them.
"""
from __future__ import annotations

import numpy as np

from course_lib import layers
from course_lib.exercises._core import Case, Checker, Mistake

_rng = np.random.default_rng(12)
# Five examples of three features with very different spreads; the third is almost constant, so
# the place of eps matters (its variance 1e-4 is comparable with eps = 1e-3).
_X = np.round(_rng.standard_normal((5, 3)) * np.array([2.0, 0.5, 0.01]) + np.array([1.0, -3.0, 0.5]), 4)
_X_WIDE = np.round(_rng.standard_normal((8, 4)) * 1.5 + 0.3, 4)
_GAMMA = np.array([1.5, -0.7, 2.0])
_BETA = np.array([0.1, 0.0, -1.0])
_DOUT = np.round(_rng.standard_normal((5, 3)), 4)
_DOUT_WIDE = np.round(_rng.standard_normal((8, 4)), 4)
_GAMMA_WIDE = np.array([1.0, 0.5, -2.0, 1.2])


# --------------------------------------------------------------------------------------------
# Forward pass in training mode
# --------------------------------------------------------------------------------------------

def _forward(x, gamma, beta, eps):
    d = x.shape[1]
    return layers.batchnorm_forward(x, gamma, beta, np.zeros(d), np.ones(d), eps=eps, training=True)[0]


def _forward_variant(x, gamma, beta, eps, *, axis=0, ddof=0, denominator="inside"):
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, ddof=ddof, keepdims=True)
    if denominator == "inside":
        scale = np.sqrt(var + eps)
    elif denominator == "outside":
        scale = np.sqrt(var) + eps
    else:  # the variance itself
        scale = var + eps
    return gamma * (x - mean) / scale + beta


check_batchnorm_forward = Checker(
    "batchnorm_forward_train",
    reference=_forward,
    cases=(
        Case("5 examples, 3 features, eps = 1e-5", (_X, _GAMMA, _BETA, 1e-5)),
        Case("a feature with variance 1e-4 and eps = 1e-3", (_X, _GAMMA, _BETA, 1e-3)),
        Case("8 examples, 4 features, gamma = 1, beta = 0", (_X_WIDE, np.ones(4), np.zeros(4), 1e-5)),
    ),
    mistakes=(
        Mistake("divide by the standard deviation sqrt(var + eps), not by the variance.",
                lambda x, g, b, eps: _forward_variant(x, g, b, eps, denominator="variance")),
        Mistake("eps goes inside the square root, sqrt(var + eps) (torch, sources 000 and 003); you wrote "
                "sqrt(var) + eps, source 002's placement.",
                lambda x, g, b, eps: _forward_variant(x, g, b, eps, denominator="outside")),
        Mistake("the statistics are per feature, over the examples of the batch: mean and variance along "
                "axis 0 (you used axis 1, the features of each example: that is layer norm).",
                lambda x, g, b, eps: _forward_variant(x, g, b, eps, axis=1)),
        Mistake("normalize with the biased variance (divide by N, np.var's default ddof=0); the unbiased "
                "one (N - 1) is only what torch stores in running_var.",
                lambda x, g, b, eps: _forward_variant(x, g, b, eps, ddof=1)),
        Mistake("eps is missing: divide by np.sqrt(var + eps), not np.sqrt(var) (it matters for a feature "
                "that hardly varies).",
                lambda x, g, b, eps: _forward_variant(x, g, b, 0.0)),
    ),
    generic_hint="mu = x.mean(axis=0); var = x.var(axis=0); x_hat = (x - mu) / np.sqrt(var + eps); "
                 "return gamma * x_hat + beta. Compute in float64 (numpy's default): the checker "
                 "compares to about 7 significant digits, more than float32 holds.",
)


# --------------------------------------------------------------------------------------------
# Backward pass in training mode
# --------------------------------------------------------------------------------------------

def _backward(dout, x, gamma, eps):
    d = x.shape[1]
    cache = layers.batchnorm_forward(x, gamma, np.zeros(d), np.zeros(d), np.ones(d), eps=eps, training=True)[3]
    return layers.batchnorm_backward(dout, cache)


def _backward_variant(dout, x, gamma, eps, *, through_mu=True, through_var=True, param_axis=0):
    n = x.shape[0]
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    inv = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv
    dx_hat = dout * gamma
    dx = dx_hat * inv
    if through_var:
        dvar = np.sum(dx_hat * (x - mu), axis=0) * -0.5 * inv**3
        dx = dx + dvar * 2.0 * (x - mu) / n
    if through_mu:
        dmu = -np.sum(dx_hat * inv, axis=0)  # the term through var vanishes: sum(x - mu) = 0
        dx = dx + dmu / n
    if param_axis == 0:
        return dx, np.sum(dout * x_hat, axis=0), dout.sum(axis=0)
    return dx, np.sum(dout * x_hat, axis=1), dout.sum(axis=1)


check_batchnorm_backward = Checker(
    "batchnorm_backward_train",
    reference=_backward,
    cases=(
        Case("5 examples, 3 features, eps = 1e-5", (_DOUT, _X, _GAMMA, 1e-5)),
        Case("8 examples, 4 features", (_DOUT_WIDE, _X_WIDE, _GAMMA_WIDE, 1e-5)),
        Case("eps = 1e-3, comparable with a feature's variance", (_DOUT, _X, _GAMMA, 1e-3)),
    ),
    mistakes=(
        Mistake("the branch through the mean is missing: mu depends on every x_i, so dL/dx_i gets "
                "dL/dmu / N with dL/dmu = -sum_k dx_hat_k / sqrt(var + eps).",
                lambda *a: _backward_variant(*a, through_mu=False)),
        Mistake("the branch through the variance is missing: var depends on every x_i, so dL/dx_i gets "
                "dL/dvar * 2 (x_i - mu) / N with dL/dvar = -1/2 sum_k dx_hat_k (x_k - mu) (var + eps)^(-3/2).",
                lambda *a: _backward_variant(*a, through_var=False)),
        Mistake("both branches are missing: x_hat depends on x_i through mu and var as well as directly.",
                lambda *a: _backward_variant(*a, through_mu=False, through_var=False)),
        Mistake("dgamma and dbeta sum over the examples (axis 0), one value per feature (source 002 writes "
                "the wrong index too).", lambda *a: _backward_variant(*a, param_axis=1)),
        Mistake("eps is missing: the forward pass divides by sqrt(var + eps), so x_hat and every factor "
                "1 / sqrt(var + eps) of the backward pass keep eps.",
                lambda dout, x, gamma, eps: _backward_variant(dout, x, gamma, 0.0)),
    ),
    generic_hint="dx = gamma / sqrt(var + eps) * (dout - dout.mean(0) - x_hat * (dout * x_hat).mean(0)); "
                 "dgamma = (dout * x_hat).sum(0); dbeta = dout.sum(0). Compute in float64 (numpy's "
                 "default): the checker compares to about 7 significant digits, more than float32 holds.",
)


# --------------------------------------------------------------------------------------------
# Running statistics, torch's momentum
# --------------------------------------------------------------------------------------------

def _running(running_mean, running_var, x, momentum):
    d = x.shape[1]
    _, mean, var, _ = layers.batchnorm_forward(x, np.ones(d), np.zeros(d), running_mean, running_var,
                                               momentum=momentum, training=True)
    return mean, var


def _running_variant(running_mean, running_var, x, momentum, *, flipped=False, ddof=1):
    keep = momentum if flipped else 1.0 - momentum
    return (keep * running_mean + (1.0 - keep) * x.mean(axis=0),
            keep * running_var + (1.0 - keep) * x.var(axis=0, ddof=ddof))


_RUNNING_MEAN = np.array([0.5, -1.0, 0.2])
_RUNNING_VAR = np.array([2.0, 0.3, 1.0])

check_running_update = Checker(
    "running_update",
    reference=_running,
    cases=(
        Case("from the initial state (0, 1), momentum 0.1", (np.zeros(3), np.ones(3), _X, 0.1)),
        Case("from earlier averages, momentum 0.1", (_RUNNING_MEAN, _RUNNING_VAR, _X, 0.1)),
        Case("momentum 0.3, 8 examples", (np.zeros(4), np.ones(4), _X_WIDE, 0.3)),
    ),
    mistakes=(
        Mistake("the convention is flipped: torch's momentum weights the NEW batch statistic, "
                "(1 - momentum) * running + momentum * batch; momentum = 0.1 is the EWMA decay rho = 0.9 "
                "(Keras's momentum=0.99 is the decay itself).",
                lambda *a: _running_variant(*a, flipped=True)),
        Mistake("torch stores the UNBIASED batch variance in running_var (divide by N - 1, ddof=1), "
                "although it normalizes with the biased one.",
                lambda *a: _running_variant(*a, ddof=0)),
        Mistake("two slips: momentum weights the new batch statistic, and the stored variance is the "
                "unbiased one (ddof=1).", lambda *a: _running_variant(*a, flipped=True, ddof=0)),
    ),
    generic_hint="new = (1 - momentum) * running + momentum * batch_statistic, with x.mean(0) and x.var(0, ddof=1).",
)
