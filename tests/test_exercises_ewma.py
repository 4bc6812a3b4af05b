"""The EWMA chapter's checkers: pass the reference, reject each typical mistake with its hint,
never crash on the student's code. The wrong versions below are written as a student would."""
import numpy as np
import pytest

from course_lib.exercises.ewma import check_bias_corrected, check_ewma, check_weights


def correct_ewma(y, rho):
    out, s = np.empty(len(y)), 0.0
    for t, value in enumerate(y):
        s = rho * s + (1 - rho) * value
        out[t] = s
    return out


def correct_corrected(y, rho):
    return correct_ewma(y, rho) / (1 - rho ** np.arange(1, len(y) + 1))


def test_reference_solutions_pass(capsys):
    assert check_ewma.evaluate(correct_ewma).status == "pass"
    assert check_bias_corrected.evaluate(correct_corrected).status == "pass"
    assert check_weights.evaluate(lambda rho, t: (1 - rho) * rho ** np.arange(t)).status == "pass"
    check_ewma(correct_ewma)
    assert capsys.readouterr().out == "[pass] ewma: correct on all 4 test cases.\n"


def test_not_done_yet(capsys):
    def stub(y, rho):
        raise NotImplementedError("Exercise: replace this line with your code.")

    result = check_ewma.evaluate(stub)
    assert result.status == "not done"
    check_ewma(stub)
    assert capsys.readouterr().out.startswith("[not done] ewma:")


# --- my_ewma: wrong versions ------------------------------------------------------------------

def swapped(y, rho):
    out, s = [], 0.0
    for v in y:
        s = (1 - rho) * s + rho * v
        out.append(s)
    return out


def starts_at_y1(y, rho):
    out = [y[0]]
    for v in y[1:]:
        out.append(rho * out[-1] + (1 - rho) * v)
    return np.array(out)


def no_one_minus_rho(y, rho):
    out, s = [], 0.0
    for v in y:
        s = rho * s + v
        out.append(s)
    return np.array(out)


def stored_too_early(y, rho):
    out, s = np.zeros(len(y)), 0.0
    for t, v in enumerate(y):
        out[t] = s
        s = rho * s + (1 - rho) * v
    return out


def last_only(y, rho):
    s = 0.0
    for v in y:
        s = rho * s + (1 - rho) * v
    return s


def in_place(y, rho):
    s = 0.0
    for t in range(len(y)):
        s = rho * s + (1 - rho) * y[t]
        y[t] = s
    return y


@pytest.mark.parametrize("wrong, hint", [
    (swapped, "the weights are swapped"),
    (starts_at_y1, "start from S_0 = 0"),
    (no_one_minus_rho, "weighted by (1 - rho)"),
    (stored_too_early, "store the average after adding y_t"),
    (last_only, "return the whole series"),
    (in_place, "do not modify the inputs"),
])
def test_ewma_mistakes_get_their_hint(wrong, hint):
    result = check_ewma.evaluate(wrong)
    assert result.status == "fail"
    assert hint in result.hint
    assert result.message.startswith("[fail] ewma: on case '") and "Hint: " in result.message


def test_an_unknown_mistake_gets_the_generic_hint():
    result = check_ewma.evaluate(lambda y, rho: correct_ewma(y, rho) + 0.5)
    assert result.status == "fail" and "S_t = rho * S_{t-1}" in result.hint


# --- bias correction: wrong versions --------------------------------------------------------

@pytest.mark.parametrize("wrong, hint", [
    (lambda y, rho: correct_ewma(y, rho) / (1 - rho ** np.arange(len(y))), "t counts from 1"),
    (lambda y, rho: correct_ewma(y, rho) / (1 - rho ** np.arange(2, len(y) + 2)), "off by one"),
    (lambda y, rho: correct_ewma(y, rho), "your values are the uncorrected EWMA"),
    (lambda y, rho: correct_ewma(y, rho) / (1 - rho), "constant 1 - rho"),
])
def test_bias_correction_mistakes_get_their_hint(wrong, hint):
    with np.errstate(divide="ignore", invalid="ignore"):
        result = check_bias_corrected.evaluate(wrong)
    assert result.status == "fail" and hint in result.hint


def test_correction_fed_back_into_the_recursion():
    def fed_back(y, rho):
        out, s = [], 0.0
        for t, v in enumerate(y, start=1):
            s = (rho * s + (1 - rho) * v) / (1 - rho**t)
            out.append(s)
        return out

    result = check_bias_corrected.evaluate(fed_back)
    assert result.status == "fail" and "must not feed back" in result.hint


# --- weights: wrong versions ------------------------------------------------------------------

@pytest.mark.parametrize("wrong, hint", [
    (lambda rho, t: (1 - rho) * rho ** np.arange(1, t + 1), "start the powers at k = 0"),
    (lambda rho, t: rho ** np.arange(t), "factor (1 - rho)"),
    (lambda rho, t: ((1 - rho) * rho ** np.arange(t))[::-1], "oldest first"),
])
def test_weights_mistakes_get_their_hint(wrong, hint):
    result = check_weights.evaluate(wrong)
    assert result.status == "fail" and hint in result.hint


# --- never crash on the student's code --------------------------------------------------------

@pytest.mark.parametrize("student, expected", [
    (lambda y, rho: 1 / 0, "raised ZeroDivisionError: division by zero"),
    (lambda y, rho: "not numbers", "expected numbers, got str"),
    (lambda y, rho: np.zeros((len(y), 2)), "expected shape"),
    (lambda y, rho: None, "returned None (is a `return` missing?)"),
    (lambda y: y, "raised TypeError"),
    (42, "expected a function, got int"),
])
def test_student_errors_are_reported_not_raised(student, expected):
    result = check_ewma.evaluate(student)
    assert result.status == "fail" and expected in result.message
    assert "\n" not in result.message


def test_messages_are_deterministic():
    assert check_ewma.evaluate(swapped).message == check_ewma.evaluate(swapped).message
