"""The gradient-descent chapter's checkers: pass the reference, reject each typical mistake with its
hint, never crash on the student's code. The wrong versions below are written as a student would."""
import numpy as np
import pytest

from course_lib.exercises.gradient_descent import check_sgd_step, check_warmup_cosine


# --- one SGD step -------------------------------------------------------------------------------

def correct_step(w, X, y, batch, lr):
    g = np.zeros_like(w)
    for i in batch:
        g += X[i] * (X[i] @ w - y[i])
    return w - lr * g / len(batch)


def test_reference_step_passes(capsys):
    assert check_sgd_step.evaluate(correct_step).status == "pass"
    check_sgd_step(correct_step)
    assert capsys.readouterr().out == "[pass] sgd_step: correct on all 4 test cases.\n"


def test_step_not_done_yet():
    def stub(w, X, y, batch, lr):
        raise NotImplementedError

    assert check_sgd_step.evaluate(stub).status == "not done"


def climbs(w, X, y, batch, lr):
    Xb, yb = X[batch], y[batch]
    return w + lr * Xb.T @ (Xb @ w - yb) / len(batch)


def residual_reversed(w, X, y, batch, lr):
    Xb, yb = X[batch], y[batch]
    return w - lr * Xb.T @ (yb - Xb @ w) / len(batch)


def no_lr(w, X, y, batch, lr):
    Xb, yb = X[batch], y[batch]
    return w - Xb.T @ (Xb @ w - yb) / len(batch)


def summed(w, X, y, batch, lr):  # source 004's g <- (1/|B|) grad J read as "the gradient of the sum"
    Xb, yb = X[batch], y[batch]
    return w - lr * Xb.T @ (Xb @ w - yb)


def divides_by_n(w, X, y, batch, lr):
    Xb, yb = X[batch], y[batch]
    return w - lr * Xb.T @ (Xb @ w - yb) / len(X)


def full_data(w, X, y, batch, lr):
    return w - lr * X.T @ (X @ w - y) / len(X)


def returns_update(w, X, y, batch, lr):
    Xb, yb = X[batch], y[batch]
    return -lr * Xb.T @ (Xb @ w - yb) / len(batch)


def factor_two(w, X, y, batch, lr):
    Xb, yb = X[batch], y[batch]
    return w - lr * 2 * Xb.T @ (Xb @ w - yb) / len(batch)


def in_place(w, X, y, batch, lr):
    Xb, yb = X[batch], y[batch]
    w -= lr * Xb.T @ (Xb @ w - yb) / len(batch)
    return w


@pytest.mark.parametrize("wrong, hint", [
    (climbs, "sign error"),
    (residual_reversed, "sign error"),
    (no_lr, "learning rate is missing"),
    (summed, "average the per-example gradients"),
    (divides_by_n, "not by the number of rows"),
    (full_data, "whole data set"),
    (returns_update, "not the update"),
    (factor_two, "without a factor 2"),
    (in_place, "do not modify the inputs"),
])
def test_step_mistakes_get_their_hint(wrong, hint):
    result = check_sgd_step.evaluate(wrong)
    assert result.status == "fail" and hint in result.hint
    assert result.message.startswith("[fail] sgd_step: on case '")


def test_step_unknown_mistake_gets_the_generic_hint():
    result = check_sgd_step.evaluate(lambda w, X, y, batch, lr: correct_step(w, X, y, batch, lr) + 1.0)
    assert result.status == "fail" and "X_B^T (X_B w - y_B)" in result.hint


# --- warmup + cosine ------------------------------------------------------------------------------

def correct_schedule(t, lr, warmup_steps, total_steps):
    t = np.asarray(t, dtype=float)
    progress = np.clip((t - warmup_steps) / (total_steps - warmup_steps), 0, 1)
    cosine = lr * 0.5 * (1 + np.cos(np.pi * progress))
    return np.where(t < warmup_steps, lr * t / warmup_steps, cosine)


def correct_loop(t, lr, warmup_steps, total_steps):  # a scalar loop is just as good
    out = []
    for step in t:
        if step < warmup_steps:
            out.append(lr * step / warmup_steps)
        elif step <= total_steps:
            out.append(lr / 2 * (1 + np.cos(np.pi * (step - warmup_steps) / (total_steps - warmup_steps))))
        else:
            out.append(0.0)
    return np.array(out)


def test_reference_schedules_pass():
    assert check_warmup_cosine.evaluate(correct_schedule).status == "pass"
    assert check_warmup_cosine.evaluate(correct_loop).status == "pass"


def off_by_one(t, lr, W, T):
    t = np.asarray(t, dtype=float)
    return np.where(t < W, lr * (t + 1) / W, correct_schedule(t, lr, W, T))


def no_warmup(t, lr, W, T):
    t = np.asarray(t, dtype=float)
    return lr * 0.5 * (1 + np.cos(np.pi * np.clip(t / T, 0, 1)))


def no_warmup_but_shifted(t, lr, W, T):
    t = np.asarray(t, dtype=float)
    return lr * 0.5 * (1 + np.cos(np.pi * np.clip((t - W) / (T - W), 0, 1)))


def horizon_total(t, lr, W, T):
    t = np.asarray(t, dtype=float)
    return np.where(t < W, lr * t / W, lr * 0.5 * (1 + np.cos(np.pi * np.clip((t - W) / T, 0, 1))))


def not_shifted(t, lr, W, T):
    t = np.asarray(t, dtype=float)
    return np.where(t < W, lr * t / W, lr * 0.5 * (1 + np.cos(np.pi * np.clip(t / T, 0, 1))))


def no_clip(t, lr, W, T):
    t = np.asarray(t, dtype=float)
    return np.where(t < W, lr * t / W, lr * 0.5 * (1 + np.cos(np.pi * (t - W) / (T - W))))


def no_half(t, lr, W, T):
    return 2 * correct_schedule(t, lr, W, T) * (np.asarray(t) >= W) + correct_schedule(t, lr, W, T) * (np.asarray(t) < W)


@pytest.mark.parametrize("wrong, hint", [
    (off_by_one, "off by one in the warmup"),
    (no_warmup, "the warmup is missing"),
    (no_warmup_but_shifted, "the warmup is missing"),
    (horizon_total, "wrong horizon"),
    (not_shifted, "use (t - warmup_steps)"),
    (no_clip, "clip the progress"),
    (no_half, "forget the 1/2"),
])
def test_schedule_mistakes_get_their_hint(wrong, hint):
    result = check_warmup_cosine.evaluate(wrong)
    assert result.status == "fail" and hint in result.hint, result.message


@pytest.mark.parametrize("student, expected", [
    (lambda t, lr, W, T: 1 / 0, "raised ZeroDivisionError"),
    (lambda t, lr, W, T: "rates", "expected numbers, got str"),
    (lambda t, lr, W, T: np.zeros(3), "expected shape"),
    (lambda t, lr, W, T: None, "returned None"),
    (lambda t: t, "raised TypeError"),
])
def test_student_errors_are_reported_not_raised(student, expected):
    result = check_warmup_cosine.evaluate(student)
    assert result.status == "fail" and expected in result.message and "\n" not in result.message


def test_step_errors_are_reported_not_raised():
    result = check_sgd_step.evaluate(lambda w, X, y, batch, lr: X @ w)
    assert result.status == "fail" and "expected shape" in result.message
