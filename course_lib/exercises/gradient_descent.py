"""Checkers for the exercises of the chapter "Gradient descent and the learning rate".

``check_sgd_step(f)``: ``f(w, X, y, batch, lr)`` is one mini-batch SGD step on a least-squares loss
(reference :func:`course_lib.experiments.gradient_descent.least_squares_step`).
``check_warmup_cosine(f)``: ``f(t, lr, warmup_steps, total_steps)`` is a linear warmup followed by
cosine decay to 0 at ``total_steps`` (reference: ``schedules.warmup(schedules.cosine(...))``).
Each recognises the common mistakes by reproducing them.
"""
from __future__ import annotations

import numpy as np

from course_lib import schedules
from course_lib.experiments import gradient_descent as experiments
from course_lib.exercises._core import Case, Checker, Mistake

# --- one SGD step ----------------------------------------------------------------------------

_X = np.array([[1.0, 2.0], [0.5, -1.0], [-1.5, 0.5], [2.0, 1.0]])
_Y = np.array([1.0, -2.0, 0.5, 3.0])
_rng = np.random.default_rng(5)
_X3 = np.round(_rng.standard_normal((12, 3)), 3)
_Y3 = np.round(_X3 @ np.array([0.5, -1.0, 2.0]) + 0.3 * _rng.standard_normal(12), 3)

_STEP_CASES = (
    Case("one row (x = [1, 2], y = 1), w = 0, lr = 0.1",
         (np.zeros(2), _X[:1], _Y[:1], np.array([0]), 0.1)),
    Case("a batch of rows [0, 2] out of 4, lr = 0.1",
         (np.array([0.5, -0.5]), _X, _Y, np.array([0, 2]), 0.1)),
    Case("the full batch [0, 1, 2, 3], lr = 0.2",
         (np.array([1.0, 1.0]), _X, _Y, np.arange(4), 0.2)),
    Case("12 rows of 3 features, batch [7, 1, 4, 10, 2], lr = 0.05",
         (np.array([0.1, 0.2, -0.3]), _X3, _Y3, np.array([7, 1, 4, 10, 2]), 0.05)),
)


def _batch_gradient(w, X, y, batch):
    Xb = X[batch]
    return Xb.T @ (Xb @ w - y[batch]) / len(batch)


check_sgd_step = Checker(
    "sgd_step",
    reference=experiments.least_squares_step,
    cases=_STEP_CASES,
    mistakes=(
        Mistake("sign error: the step goes *against* the gradient, w - lr * g (source 003's code writes "
                "`x += learning_rate * dx`, which climbs the loss). Also check the residual is x.w - y, not y - x.w.",
                lambda w, X, y, batch, lr: w + lr * _batch_gradient(w, X, y, batch)),
        Mistake("the learning rate is missing: multiply the gradient by lr before subtracting it.",
                lambda w, X, y, batch, lr: w - _batch_gradient(w, X, y, batch)),
        Mistake("average the per-example gradients over the batch: divide the sum by len(batch), not by nothing.",
                lambda w, X, y, batch, lr: w - lr * _batch_gradient(w, X, y, batch) * len(batch)),
        Mistake("divide by the batch size len(batch), not by the number of rows of X.",
                lambda w, X, y, batch, lr: w - lr * _batch_gradient(w, X, y, batch) * len(batch) / len(y)),
        Mistake("use only the rows in `batch`: you computed the gradient over the whole data set.",
                lambda w, X, y, batch, lr: w - lr * _batch_gradient(w, X, y, np.arange(len(y)))),
        Mistake("return the new parameters w - lr * g, not the update -lr * g.",
                lambda w, X, y, batch, lr: -lr * _batch_gradient(w, X, y, batch)),
        Mistake("the gradient of 1/2 (x.w - y)^2 is x (x.w - y), without a factor 2.",
                lambda w, X, y, batch, lr: w - 2 * lr * _batch_gradient(w, X, y, batch)),
    ),
    generic_hint="g = X_B^T (X_B w - y_B) / |B| over the rows B of the batch; return w - lr * g.",
)

# --- warmup + cosine ---------------------------------------------------------------------------


def _reference_warmup_cosine(t, lr, warmup_steps, total_steps):
    return schedules.warmup(schedules.cosine(lr, total_steps - warmup_steps), warmup_steps)(t)


def _cosine_part(t, lr, start, horizon):
    progress = np.clip((t - start) / horizon, 0.0, 1.0)
    return 0.5 * lr * (1.0 + np.cos(np.pi * progress))


def _with_warmup(t, lr, W, after, ramp=None):
    t = np.asarray(t, dtype=np.float64)
    ramp = lr * t / W if ramp is None else ramp
    return np.where(t < W, ramp, after)


_WARMUP_CASES = (
    Case("t = 0..12, lr = 1, warmup 3 steps, total 10 steps", (np.arange(13), 1.0, 3, 10)),
    Case("t = 0..59, lr = 0.5, warmup 5, total 50", (np.arange(60), 0.5, 5, 50)),
    Case("t = [0, 1, 99, 100, 500, 1000], lr = 0.1, warmup 100, total 1000",
         (np.array([0, 1, 99, 100, 500, 1000]), 0.1, 100, 1000)),
)

check_warmup_cosine = Checker(
    "warmup_cosine",
    reference=_reference_warmup_cosine,
    cases=_WARMUP_CASES,
    mistakes=(
        Mistake("off by one in the warmup: at t = 0 the rate is 0 and it reaches lr at t = warmup_steps; "
                "use lr * t / warmup_steps (not (t + 1)).",
                lambda t, lr, W, T: _with_warmup(t, lr, W, _cosine_part(t, lr, W, T - W),
                                                 ramp=lr * (np.asarray(t) + 1.0) / W)),
        Mistake("the warmup is missing: for t < warmup_steps the rate rises linearly from 0 to lr.",
                lambda t, lr, W, T: _cosine_part(np.asarray(t, dtype=np.float64), lr, W, T - W)),
        Mistake("the warmup is missing: for t < warmup_steps the rate rises linearly from 0 to lr "
                "(your cosine also starts at t = 0).",
                lambda t, lr, W, T: _cosine_part(np.asarray(t, dtype=np.float64), lr, 0, T)),
        Mistake("cosine over the wrong horizon: after the warmup, the cosine runs from t = warmup_steps to "
                "t = total_steps, i.e. over total_steps - warmup_steps steps; you used total_steps.",
                lambda t, lr, W, T: _with_warmup(t, lr, W, _cosine_part(t, lr, W, T))),
        Mistake("the cosine must start at its peak when the warmup ends: use (t - warmup_steps) in the cosine, "
                "not t.",
                lambda t, lr, W, T: _with_warmup(t, lr, W, _cosine_part(t, lr, 0, T))),
        Mistake("the cosine must start at its peak when the warmup ends: use (t - warmup_steps) in the cosine, "
                "not t.",
                lambda t, lr, W, T: _with_warmup(t, lr, W, _cosine_part(t, lr, 0, T - W))),
        Mistake("after total_steps the rate stays at 0: clip the progress (t - W) / (T - W) at 1, otherwise "
                "the cosine rises again.",
                lambda t, lr, W, T: _with_warmup(
                    t, lr, W, 0.5 * lr * (1 + np.cos(np.pi * (np.asarray(t, dtype=np.float64) - W) / (T - W))))),
        Mistake("the cosine factor is (1 + cos(pi * progress)) / 2: it goes from 1 to 0. Did you forget the "
                "1/2 or the 1 +?",
                lambda t, lr, W, T: _with_warmup(t, lr, W, 2.0 * _cosine_part(t, lr, W, T - W))),
    ),
    generic_hint="t < W: lr * t / W; W <= t <= T: lr * (1 + cos(pi * (t - W) / (T - W))) / 2; after T: 0.",
)
