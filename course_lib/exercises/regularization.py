"""Checkers for the exercises of the chapter "Regularization".

Signatures (every function returns new objects and leaves its inputs alone):

* ``l2_penalty(params, lam)`` -> ``(value, grads)``: :math:`\\tfrac\\lambda2\\sum\\|W\\|^2` over the
  weights only (names ending in ``"weight"``) and a gradient for *every* parameter (zeros elsewhere);
* ``dropout_forward(x, p, rng, training)`` -> ``(out, cache)`` and ``dropout_backward(dout, cache)`` -> ``dx``:
  inverted dropout, p the probability of *dropping*, the mask ``rng.random(x.shape, dtype=np.float32) < 1 - p``;
* ``early_stopping(train_steps, validation_error, theta0, n, patience, max_steps)`` ->
  ``(best_theta, best_step, best_error)``: source 004's meta-algorithm.

Each checker compares with :mod:`course_lib` (``regularization.l2_penalty``, ``layers.dropout_forward``/
``dropout_backward``, ``regularization.early_stopping``) and recognises the mistakes below by reproducing them.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from course_lib import layers, regularization
from course_lib.exercises._core import Case, Checker, Mistake

_rng = np.random.default_rng(13)


def _params(*names_shapes):
    return {name: np.round(_rng.standard_normal(shape), 3) for name, shape in names_shapes}


# --------------------------------------------------------------------------------------------
# L2 penalty on the weights only
# --------------------------------------------------------------------------------------------

_MLP = _params(("0.weight", (3, 4)), ("0.bias", (3,)), ("2.weight", (2, 3)), ("2.bias", (2,)))
_BN = _params(("0.weight", (3, 4)), ("0.bias", (3,)), ("1.gamma", (3,)), ("1.beta", (3,)), ("3.weight", (2, 3)),
              ("3.bias", (2,)))
# a layer named "down": its bias contains a "w" but is not a weight (catches `'w' in name`)
_DOWN = _params(("down.weight", (2, 3)), ("down.bias", (2,)))


def _l2_variant(params, lam, *, all_params=False, value_factor=0.5, grad_factor=1.0):
    chosen = [k for k in params if all_params or k.endswith("weight")]
    value = value_factor * lam * sum(float(np.sum(params[k] ** 2)) for k in chosen)
    grads = {k: grad_factor * lam * v if k in chosen else np.zeros_like(v) for k, v in params.items()}
    return value, grads


check_l2_penalty = Checker(
    "l2_penalty",
    reference=lambda params, lam: regularization.l2_penalty(params, lam),
    cases=(
        Case("a two-layer network, lam = 0.1", (_MLP, 0.1)),
        Case("with batch norm's gamma and beta, lam = 0.01", (_BN, 0.01)),
        Case("lam = 0: no penalty", (_MLP, 0.0)),
        Case("a layer named 'down' (its bias 'down.bias' is not a weight), lam = 0.1", (_DOWN, 0.1)),
    ),
    mistakes=(
        Mistake("the penalty is on the weights only: leave the biases (and batch norm's gamma and beta) out "
                "of the sum, and give them a zero gradient.", lambda p, lam: _l2_variant(p, lam, all_params=True)),
        Mistake("the penalty is (lam / 2) * sum of squares, with the 1/2 (source 004's and torch's convention); "
                "its gradient is then lam * W.", lambda p, lam: _l2_variant(p, lam, value_factor=1.0)),
        Mistake("that is Keras's convention (value lam * sum W**2, gradient 2 * lam * W); this exercise uses "
                "source 004's and torch's, with the 1/2 factor: value (lam / 2) * sum W**2, gradient lam * W.",
                lambda p, lam: _l2_variant(p, lam, value_factor=1.0, grad_factor=2.0)),
        Mistake("the gradient of (lam / 2) * ||W||^2 is lam * W: the 2 of the square cancels the 1/2.",
                lambda p, lam: _l2_variant(p, lam, grad_factor=2.0)),
        Mistake("the value is (lam / 2) * ||W||^2 and its gradient lam * W; you used (lam / 2) * W.",
                lambda p, lam: _l2_variant(p, lam, grad_factor=0.5)),
    ),
    generic_hint="value = 0.5 * lam * sum of W**2 over the weights; grads = {name: lam * W for weights, zeros otherwise}.",
)


# --------------------------------------------------------------------------------------------
# Inverted dropout, forward and backward
# --------------------------------------------------------------------------------------------

def _dropout_reference(x, dout, p, seed, training):
    out, cache = layers.dropout_forward(x, p, rng=np.random.default_rng(seed), training=training)
    return out, layers.dropout_backward(dout, cache)


def _dropout_variant(x, dout, p, seed, training, *, keep_is_p=False, randn=False, no_scale=False,
                     test_scale=None, float64=False, backward_unscaled=False):
    keep = p if keep_is_p else 1.0 - p
    if not training:
        scale = {None: 1.0, "divide": 1.0 / (1.0 - p) if p < 1 else 0.0, "multiply": 1.0 - p}[test_scale]
        return x * scale, dout * scale
    rng = np.random.default_rng(seed)
    if randn:
        mask = rng.standard_normal(x.shape, dtype=np.float32) < keep
    elif float64:
        mask = rng.random(x.shape) < keep
    else:
        mask = rng.random(x.shape, dtype=np.float32) < keep
    scale = mask.astype(float) if no_scale else mask / keep
    return x * scale, dout * (mask.astype(float) if backward_unscaled else scale)


_X = np.round(_rng.standard_normal((4, 5)), 3)
_DOUT = np.round(_rng.standard_normal((4, 5)), 3)

_check_dropout = Checker(
    "dropout_forward / dropout_backward",
    reference=_dropout_reference,
    cases=(
        Case("training, p = 0.5", (_X, _DOUT, 0.5, 0, True)),
        Case("training, p = 0.2 (keep 80%)", (_X, _DOUT, 0.2, 1, True)),
        Case("evaluation, p = 0.5", (_X, _DOUT, 0.5, 2, False)),
        Case("training, p = 0.8", (_X, _DOUT, 0.8, 3, True)),
    ),
    mistakes=(
        Mistake("p is the probability of DROPPING a unit (torch's convention): keep a unit where "
                "u < 1 - p and divide by 1 - p (source 004's p is the keep probability).",
                lambda *a: _dropout_variant(*a, keep_is_p=True)),
        Mistake("draw the mask from a uniform distribution, rng.random(x.shape, dtype=np.float32), "
                "not from a normal one (rng.standard_normal).", lambda *a: _dropout_variant(*a, randn=True)),
        Mistake("inverted dropout divides the kept units by 1 - p during training, so that the expected "
                "output equals x; you forgot to scale.", lambda *a: _dropout_variant(*a, no_scale=True)),
        Mistake("inverted dropout does nothing at test time (out = x, dx = dout): the scaling was "
                "already done during training.", lambda *a: _dropout_variant(*a, test_scale="divide")),
        Mistake("inverted dropout does nothing at test time; multiplying by 1 - p is source 004's "
                "other form, which does NOT scale during training.",
                lambda *a: _dropout_variant(*a, test_scale="multiply")),
        Mistake("the backward pass multiplies dout by the same scaled mask as the forward pass (mask / (1 - p)).",
                lambda *a: _dropout_variant(*a, backward_unscaled=True)),
        Mistake("draw the uniforms with dtype=np.float32, as the statement says (course_lib draws float32 "
                "uniforms; float64 ones give another mask).",
                lambda *a: _dropout_variant(*a, float64=True)),
    ),
    generic_hint="mask = rng.random(x.shape, dtype=np.float32) < 1 - p; out = x * mask / (1 - p) in training, "
                 "x in evaluation; dx = dout * mask / (1 - p) (dout in evaluation).",
)


def _pair(dropout_forward, dropout_backward):
    """The student's two functions as one, ``(x, dout, p, seed, training) -> (out, dx)``, for the checker."""
    def both(x, dout, p, seed, training):
        result = dropout_forward(x, p, np.random.default_rng(seed), training)
        if not isinstance(result, tuple) or len(result) != 2:
            raise TypeError("dropout_forward must return a tuple (out, cache)")
        out, cache = result
        return out, dropout_backward(dout, cache)

    return both


def check_dropout(dropout_forward, dropout_backward) -> None:
    """Check the pair ``dropout_forward(x, p, rng, training)`` / ``dropout_backward(dout, cache)``:
    one printed line (and, in grading mode, an error unless it passes), as every checker."""
    _check_dropout(_pair(dropout_forward, dropout_backward))


def evaluate_dropout(dropout_forward, dropout_backward):
    """The :class:`~course_lib.exercises._core.CheckResult` of the pair (for tests)."""
    return _check_dropout.evaluate(_pair(dropout_forward, dropout_backward))


# --------------------------------------------------------------------------------------------
# Source 004's early-stopping meta-algorithm
# --------------------------------------------------------------------------------------------

def _train_steps(theta, n):
    """The toy "training algorithm": theta is the number of steps taken, as an array."""
    return theta + n


def _curve(values, every):
    """A validation error that is ``values[k]`` after k evaluations of ``every`` steps (then flat)."""
    values = tuple(float(v) for v in values)
    return lambda theta: values[min(int(theta[0]) // every, len(values) - 1)]


def _counted(early_stopping):
    """The student's (or a reference's) function as one that also reports how many steps it trained:
    ``(...) -> {"best_theta", "best_step", "best_error", "steps trained"}``. The stop step is what
    shows a patience off by one or an ignored ``max_steps``; the best alone often cannot."""
    def run(train_steps, validation_error, theta0, n, patience, max_steps):
        calls = []

        def counted_train_steps(theta, steps):
            calls.append(steps)
            return train_steps(theta, steps)

        result = early_stopping(counted_train_steps, validation_error, theta0, n, patience, max_steps)
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            raise TypeError("early_stopping must return a tuple (best_theta, best_step, best_error)")
        best_theta, best_step, best_error = result
        return {"best_theta": best_theta, "best_step": best_step, "best_error": best_error,
                "steps trained": sum(calls)}

    return run


def _reference_es(train_steps, validation_error, theta0, n, patience, max_steps):
    r = regularization.early_stopping(train_steps, validation_error, theta0, n=n, patience=patience,
                                      max_steps=max_steps)
    return r.best_params, r.best_step, r.best_error


def _es_variant(train_steps, validation_error, theta0, n, patience, max_steps, *, restore=True,
                count_worsening=False, count_vs_previous=False, tie_resets=False, one_more=False,
                count_after_reset=False, ignore_max_steps=False):
    theta, best_theta = theta0, theta0
    i = best_i = j = 0
    best, previous = math.inf, math.inf
    while (j <= patience) if one_more else (j < patience):
        theta = train_steps(theta, n)
        i += n
        error = validation_error(theta)
        if count_worsening:
            j += error > previous          # only a rise counts
        elif count_vs_previous:
            j = 0 if error < previous else j + 1
        elif not count_after_reset:
            j += 1
        if error < best or (tie_resets and error == best):
            j, best_theta, best_i, best = 0, theta, i, error
        if count_after_reset:
            j += 1                         # a new best leaves j = 1: P - 1 evaluations of patience
        previous = error
        if i >= max_steps and not ignore_max_steps:
            break
    return (best_theta if restore else theta), best_i, best


_U = (1.0, 0.8, 0.6, 0.5, 0.45, 0.47, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9)
_ZIGZAG = (1.0, 0.7, 0.5, 0.6, 0.55, 0.62, 0.58, 0.64, 0.6, 0.45, 0.5, 0.6, 0.7, 0.8)
_UPDOWN = (1.0, 0.5, 0.6, 0.7, 0.65, 0.75, 0.7, 0.8, 0.75, 0.4, 0.5, 0.6, 0.7, 0.8)
_TIE = (1.0, 0.8, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6)
_FLAT = (0.9, 0.9, 0.9, 0.9, 0.9, 0.9)
# best at evaluation 2, a lower one exactly P = 3 evaluations later (found), then one P + 1 = 4
# evaluations after that (not found): a patience of P - 1 or P + 1 ends elsewhere.
_EDGE = (1.0, 0.5, 0.6, 0.7, 0.4, 0.5, 0.6, 0.7, 0.3, 0.2, 0.1)
_FALLING = tuple(1.0 - 0.05 * k for k in range(20))   # improves at every evaluation: max_steps stops it

_check_early_stopping = Checker(
    "early_stopping",
    reference=_counted(_reference_es),
    cases=(
        Case("a U-shaped validation curve, n = 10, P = 3",
             (_train_steps, _curve(_U, 10), np.array([0.0]), 10, 3, 1000)),
        Case("up and down above the best of step 1, a lower dip at step 9 after the patience ran out; n = 1, P = 3",
             (_train_steps, _curve(_UPDOWN, 1), np.array([0.0]), 1, 3, 1000)),
        Case("a zig-zag above the best of step 10, a lower dip at step 45 after the patience ran out; n = 5, P = 4",
             (_train_steps, _curve(_ZIGZAG, 5), np.array([0.0]), 5, 4, 1000)),
        Case("a plateau of equal errors (a tie is not an improvement), n = 2, P = 3",
             (_train_steps, _curve(_TIE, 2), np.array([0.0]), 2, 3, 1000)),
        Case("a flat curve, n = 1, P = 2", (_train_steps, _curve(_FLAT, 1), np.array([0.0]), 1, 2, 1000)),
        Case("a new best exactly P evaluations after the previous one (found), the next one P + 1 after "
             "(not found); n = 1, P = 3", (_train_steps, _curve(_EDGE, 1), np.array([0.0]), 1, 3, 1000)),
        Case("a curve that improves at every evaluation, stopped by max_steps = 60; n = 10, P = 3",
             (_train_steps, _curve(_FALLING, 10), np.array([0.0]), 10, 3, 60)),
    ),
    mistakes=tuple(Mistake(hint, _counted(functools.partial(_es_variant, **flags))) for hint, flags in (
        ("return the BEST parameters theta* (stored when the validation error improved), not the "
         "last ones: the P evaluations after the best are wasted training.", {"restore": False}),
        ("j counts evaluations without improvement on the best error, whether or not the error "
         "rose since the previous evaluation (source 004's 'times validation error worsens' is "
         "misleading): add 1 to j at EVERY evaluation and reset it to 0 only on a new best.",
         {"count_worsening": True}),
        ("reset j only when the error beats the best so far, v' < v, not when it improves on the "
         "previous evaluation.", {"count_vs_previous": True}),
        ("an improvement is strict, v' < v: an equal error is not better and must not reset j.",
         {"tie_resets": True}),
        ("the loop runs while j < P: stop as soon as P evaluations in a row brought no new best "
         "(you waited for P + 1; check `while j < patience`).", {"one_more": True}),
        ("add 1 to j BEFORE testing for a new best (or only when there is none): adding it after the "
         "reset leaves j = 1 after a best, so you stop after P - 1 evaluations without improvement.",
         {"count_after_reset": True}),
        ("stop also when i >= max_steps, even if the validation error is still improving (source 004's "
         "loop has no bound; the exercise's max_steps is one).", {"ignore_max_steps": True}),
    )),
    generic_hint="follow source 004 line by line: i += n and j += 1 after each block of n steps; on v' < v "
                 "set j = 0, theta* = theta, i* = i, v = v'; stop when j >= P (or i >= max_steps).",
)


def check_early_stopping(early_stopping) -> None:
    """Check ``early_stopping(train_steps, validation_error, theta0, n, patience, max_steps)``: the
    returned ``(best_theta, best_step, best_error)`` and the number of steps it trained (how many
    times it called ``train_steps``, times n). One printed line, as every checker."""
    _check_early_stopping(_counted(early_stopping))


def evaluate_early_stopping(early_stopping):
    """The :class:`~course_lib.exercises._core.CheckResult` of ``early_stopping`` (for tests)."""
    return _check_early_stopping.evaluate(_counted(early_stopping))
