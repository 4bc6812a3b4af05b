"""The regularization chapter's checkers: pass the reference, reject each typical mistake with its
hint, never crash on the student's code. The wrong versions below are written as a student would."""
import math

import numpy as np
import pytest

from course_lib.exercises.regularization import (check_early_stopping, check_l2_penalty, evaluate_dropout)


# --- L2 penalty ---------------------------------------------------------------------------------

def l2_penalty(params, lam):
    value = 0.5 * lam * sum(np.sum(w**2) for k, w in params.items() if k.endswith("weight"))
    return value, {k: lam * w if k.endswith("weight") else np.zeros_like(w) for k, w in params.items()}


def l2_with_biases(params, lam):
    return 0.5 * lam * sum(np.sum(w**2) for w in params.values()), {k: lam * w for k, w in params.items()}


def l2_without_half(params, lam):
    value = lam * sum(np.sum(w**2) for k, w in params.items() if k.endswith("weight"))
    return value, {k: lam * w if k.endswith("weight") else np.zeros_like(w) for k, w in params.items()}


def l2_gradient_twice(params, lam):
    value, grads = l2_penalty(params, lam)
    return value, {k: 2 * g for k, g in grads.items()}


def test_l2_reference_passes(capsys):
    assert check_l2_penalty.evaluate(l2_penalty).status == "pass"
    check_l2_penalty(l2_penalty)
    assert capsys.readouterr().out == "[pass] l2_penalty: correct on all 3 test cases.\n"


@pytest.mark.parametrize("wrong, words", [(l2_with_biases, "weights only"), (l2_without_half, "with the 1/2"),
                                          (l2_gradient_twice, "the 2 of the square cancels")])
def test_l2_mistakes_get_their_hint(wrong, words):
    result = check_l2_penalty.evaluate(wrong)
    assert result.status == "fail" and words in result.hint


def test_l2_missing_bias_gradients_is_reported():
    def only_weights(params, lam):
        return l2_penalty(params, lam)[0], {k: lam * w for k, w in params.items() if k.endswith("weight")}

    result = check_l2_penalty.evaluate(only_weights)
    assert result.status == "fail" and "expected keys" in result.message


# --- dropout ------------------------------------------------------------------------------------

def forward(x, p, rng, training):
    if not training:
        return x, np.ones_like(x)
    mask = rng.random(x.shape, dtype=np.float32) < 1 - p
    return x * mask / (1 - p), mask / (1 - p)


def backward(dout, cache):
    return dout * cache


def test_dropout_reference_passes():
    assert evaluate_dropout(forward, backward).status == "pass"


def _forward(keep_is_p=False, randn=False, no_scale=False, test=None, float64=False):
    def f(x, p, rng, training):
        if not training:
            factor = {None: 1.0, "divide": 1 / (1 - p), "multiply": 1 - p}[test]
            return x * factor, factor
        keep = p if keep_is_p else 1 - p
        u = rng.standard_normal(x.shape, dtype=np.float32) if randn else (
            rng.random(x.shape) if float64 else rng.random(x.shape, dtype=np.float32))
        mask = (u < keep).astype(float)
        scale = mask if no_scale else mask / keep
        return x * scale, scale
    return f


@pytest.mark.parametrize("wrong, words", [
    (_forward(keep_is_p=True), "DROPPING"),
    (_forward(randn=True), "uniform"),
    (_forward(no_scale=True), "forgot to scale"),
    (_forward(test="divide"), "nothing at test time"),
    (_forward(test="multiply"), "source 004's"),
    (_forward(float64=True), "float32"),
])
def test_dropout_mistakes_get_their_hint(wrong, words):
    result = evaluate_dropout(wrong, backward)
    assert result.status == "fail" and words in result.hint, result.message


def test_dropout_backward_with_the_unscaled_mask():
    def f(x, p, rng, training):
        if not training:
            return x, (np.ones_like(x), 1.0)
        mask = (rng.random(x.shape, dtype=np.float32) < 1 - p).astype(float)
        return x * mask / (1 - p), (mask, 1 - p)

    result = evaluate_dropout(f, lambda dout, cache: dout * cache[0])
    assert result.status == "fail" and "same scaled mask" in result.hint


def test_dropout_not_done_and_crashes_are_reported():
    def stub(*args):
        raise NotImplementedError

    assert evaluate_dropout(stub, backward).status == "not done"
    result = evaluate_dropout(lambda x, p, rng, training: x, backward)
    assert result.status == "fail" and "tuple (out, cache)" in result.message


# --- early stopping -----------------------------------------------------------------------------

def early_stopping(train_steps, validation_error, theta0, n, patience, max_steps):
    theta = best_theta = theta0
    i = best_i = j = 0
    best = math.inf
    while j < patience:
        theta = train_steps(theta, n)
        i += n
        j += 1
        error = validation_error(theta)
        if error < best:
            j, best_theta, best_i, best = 0, theta, i, error
        if i >= max_steps:
            break
    return best_theta, best_i, best


def _es(restore=True, worsening=False, previous=False, ties=False):
    def f(train_steps, validation_error, theta0, n, patience, max_steps):
        theta = best_theta = theta0
        i = best_i = j = 0
        best = last = math.inf
        while j < patience and i < max_steps:
            theta = train_steps(theta, n)
            i += n
            error = validation_error(theta)
            if worsening:
                if error > last:
                    j += 1
            elif previous:
                j = 0 if error < last else j + 1
            else:
                j += 1
            if error < best or (ties and error == best):
                j, best_theta, best_i, best = 0, theta, i, error
            last = error
        return (best_theta if restore else theta), best_i, best
    return f


def test_early_stopping_reference_passes():
    assert check_early_stopping.evaluate(early_stopping).status == "pass"


@pytest.mark.parametrize("wrong, words", [
    (_es(restore=False), "BEST parameters"),
    (_es(worsening=True), "EVERY evaluation"),
    (_es(previous=True), "beats the best"),
    (_es(ties=True), "strict"),
])
def test_early_stopping_mistakes_get_their_hint(wrong, words):
    result = check_early_stopping.evaluate(wrong)
    assert result.status == "fail" and words in result.hint, result.message


def test_early_stopping_not_done():
    def stub(*args):
        raise NotImplementedError

    assert check_early_stopping.evaluate(stub).status == "not done"


def test_grading_mode_fails_an_unfinished_or_wrong_pair(monkeypatch, capsys):
    from course_lib.exercises._core import ExerciseNotPassed
    from course_lib.exercises.regularization import check_dropout

    monkeypatch.setenv("COURSE_LIB_GRADING", "1")
    check_dropout(forward, backward)                      # a pass raises nothing
    with pytest.raises(ExerciseNotPassed):
        check_dropout(_forward(no_scale=True), backward)
    with pytest.raises(ExerciseNotPassed):
        check_dropout(None, backward)
    assert capsys.readouterr().out.startswith("[pass]")
