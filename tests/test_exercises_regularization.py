"""The regularization chapter's checkers: pass the reference, reject each typical mistake with its
hint, never crash on the student's code. The wrong versions below are written as a student would."""
import math

import numpy as np
import pytest

from course_lib.exercises.regularization import (check_early_stopping, check_l2_penalty, evaluate_dropout,
                                                 evaluate_early_stopping)


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
    assert capsys.readouterr().out == "[pass] l2_penalty: correct on all 4 test cases.\n"


@pytest.mark.parametrize("wrong, words", [(l2_with_biases, "weights only"), (l2_without_half, "with the 1/2"),
                                          (l2_gradient_twice, "the 2 of the square cancels")])
def test_l2_mistakes_get_their_hint(wrong, words):
    result = check_l2_penalty.evaluate(wrong)
    assert result.status == "fail" and words in result.hint


def l2_keras(params, lam):
    value, grads = l2_without_half(params, lam)
    return value, {k: 2 * g for k, g in grads.items()}


def l2_any_name_with_w(params, lam):
    chosen = [k for k in params if "w" in k]
    return 0.5 * lam * sum(np.sum(params[k]**2) for k in chosen), \
        {k: lam * w if k in chosen else np.zeros_like(w) for k, w in params.items()}


def test_l2_keras_convention_gets_the_half_factor_hint():
    result = check_l2_penalty.evaluate(l2_keras)
    assert result.status == "fail" and "Keras's convention" in result.hint and "1/2" in result.hint


def test_l2_selecting_names_that_contain_w_is_rejected():
    result = check_l2_penalty.evaluate(l2_any_name_with_w)
    assert result.status == "fail" and "down" in result.case


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


def _es(restore=True, worsening=False, previous=False, ties=False, extra=0, late_count=False, unbounded=False,
        double=False):
    def f(train_steps, validation_error, theta0, n, patience, max_steps):
        theta = best_theta = theta0
        i = best_i = j = 0
        best = last = math.inf
        limit = 2 * patience if double else patience + extra
        while j < limit and (unbounded or i < max_steps):
            theta = train_steps(theta, n)
            i += n
            error = validation_error(theta)
            if late_count:
                pass
            elif worsening:
                if error > last:
                    j += 1
            elif previous:
                j = 0 if error < last else j + 1
            else:
                j += 1
            if error < best or (ties and error == best):
                j, best_theta, best_i, best = 0, theta, i, error
            if late_count:
                j += 1
            last = error
        return (best_theta if restore else theta), best_i, best
    return f


def test_early_stopping_reference_passes(capsys):
    assert evaluate_early_stopping(early_stopping).status == "pass"
    check_early_stopping(early_stopping)
    assert capsys.readouterr().out == "[pass] early_stopping: correct on all 7 test cases.\n"


@pytest.mark.parametrize("wrong, words", [
    (_es(restore=False), "BEST parameters"),
    (_es(worsening=True), "EVERY evaluation"),
    (_es(previous=True), "beats the best"),
    (_es(ties=True), "strict"),
    (_es(extra=1), "you waited for P + 1"),
    (_es(late_count=True), "P - 1 evaluations"),
    (_es(unbounded=True), "i >= max_steps"),
])
def test_early_stopping_mistakes_get_their_hint(wrong, words):
    result = evaluate_early_stopping(wrong)
    assert result.status == "fail" and words in result.hint, result.message


def test_early_stopping_not_done():
    def stub(*args):
        raise NotImplementedError

    assert evaluate_early_stopping(stub).status == "not done"


def test_early_stopping_twice_the_patience_is_rejected_without_a_wrong_hint():
    result = evaluate_early_stopping(_es(double=True))
    assert result.status == "fail" and "steps trained" in result.message
    assert "EVERY evaluation" not in result.hint, result.message


def test_early_stopping_wrong_return_is_reported():
    result = evaluate_early_stopping(lambda *args: 1.0)
    assert result.status == "fail" and "tuple (best_theta, best_step, best_error)" in result.message


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
