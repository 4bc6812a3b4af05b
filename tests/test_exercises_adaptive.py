"""The adaptive chapter's checkers: pass the reference, reject each typical mistake with its hint,
never crash on the student's code. The wrong versions below are written as a student would."""
import numpy as np
import pytest

from course_lib.exercises.adaptive import check_adagrad, check_adam, check_rmsprop


# --- correct student solutions ----------------------------------------------------------------

def adagrad_update(theta, g, r, lr, eps):
    r = r + g * g
    return theta - lr * g / (np.sqrt(r) + eps), r


def rmsprop_update(theta, g, r, lr, rho, eps):
    r = rho * r + (1 - rho) * g**2
    return theta - lr * g / (np.sqrt(r) + eps), r


def adam_update(theta, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def test_reference_solutions_pass(capsys):
    assert check_adagrad.evaluate(adagrad_update).status == "pass"
    assert check_rmsprop.evaluate(rmsprop_update).status == "pass"
    assert check_adam.evaluate(adam_update).status == "pass"
    check_adam(adam_update)
    assert capsys.readouterr().out == "[pass] adam_update: correct on all 4 test cases.\n"


def test_a_loop_over_the_weights_also_passes():
    def adam_loop(theta, g, m, v, t, lr, beta1, beta2, eps):
        theta, m, v = theta.copy(), m.copy(), v.copy()
        for i in range(len(theta)):
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] ** 2
            theta[i] -= lr * (m[i] / (1 - beta1**t)) / ((v[i] / (1 - beta2**t)) ** 0.5 + eps)
        return theta, m, v

    assert check_adam.evaluate(adam_loop).status == "pass"


@pytest.mark.parametrize("checker", [check_adagrad, check_rmsprop, check_adam])
def test_not_done_yet(checker):
    def stub(*args):
        raise NotImplementedError("Exercise: replace this line with your code.")

    result = checker.evaluate(stub)
    assert result.status == "not done" and result.message.startswith("[not done]")


# --- AdaGrad: wrong versions ------------------------------------------------------------------

def adagrad_old_r(theta, g, r, lr, eps):
    step = theta - lr * g / (np.sqrt(r) + eps)
    return step, r + g * g


def adagrad_eps_inside(theta, g, r, lr, eps):
    r = r + g * g
    return theta - lr * g / np.sqrt(r + eps), r


def adagrad_no_sqrt(theta, g, r, lr, eps):
    r = r + g * g
    return theta - lr * g / (r + eps), r


def adagrad_average(theta, g, r, lr, eps):
    r = 0.9 * r + 0.1 * g * g
    return theta - lr * g / (np.sqrt(r) + eps), r


@pytest.mark.parametrize("wrong, hint", [
    (adagrad_old_r, "divide by the square root of the NEW r"),
    (adagrad_eps_inside, "epsilon goes outside the square root"),
    (adagrad_no_sqrt, "square ROOT of r"),
    (adagrad_average, "running SUM"),
])
def test_adagrad_mistakes_get_their_hint(wrong, hint):
    with np.errstate(divide="ignore", invalid="ignore"):
        result = check_adagrad.evaluate(wrong)
    assert result.status == "fail" and hint in result.hint, result.message


def test_adagrad_in_place_update_is_caught():
    def in_place(theta, g, r, lr, eps):
        r += g * g
        theta -= lr * g / (np.sqrt(r) + eps)
        return theta, r

    result = check_adagrad.evaluate(in_place)
    assert result.status == "fail" and "do not modify the inputs" in result.hint


# --- RMSProp: wrong versions ------------------------------------------------------------------

def rmsprop_swapped(theta, g, r, lr, rho, eps):
    r = (1 - rho) * r + rho * g**2
    return theta - lr * g / (np.sqrt(r) + eps), r


def rmsprop_no_one_minus(theta, g, r, lr, rho, eps):
    r = rho * r + g**2
    return theta - lr * g / (np.sqrt(r) + eps), r


def rmsprop_old_r(theta, g, r, lr, rho, eps):
    new_theta = theta - lr * g / (np.sqrt(r) + eps)
    return new_theta, rho * r + (1 - rho) * g**2


def rmsprop_eps_inside(theta, g, r, lr, rho, eps):
    r = rho * r + (1 - rho) * g**2
    return theta - lr * g / np.sqrt(r + eps), r


def rmsprop_bias_corrected(theta, g, r, lr, rho, eps):
    r = rho * r + (1 - rho) * g**2
    return theta - lr * g / (np.sqrt(r / (1 - rho)) + eps), r


@pytest.mark.parametrize("wrong, hint", [
    (rmsprop_swapped, "the weights are swapped"),
    (rmsprop_no_one_minus, "weighted by (1 - rho)"),
    (rmsprop_old_r, "divide by the square root of the NEW r"),
    (rmsprop_eps_inside, "epsilon goes outside the square root"),
    (rmsprop_bias_corrected, "no bias correction"),
])
def test_rmsprop_mistakes_get_their_hint(wrong, hint):
    with np.errstate(divide="ignore", invalid="ignore"):
        result = check_rmsprop.evaluate(wrong)
    assert result.status == "fail" and hint in result.hint, result.message


# --- Adam: wrong versions ---------------------------------------------------------------------

def adam_no_correction(theta, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    return theta - lr * m / (np.sqrt(v) + eps), m, v


def adam_only_m_corrected(theta, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    return theta - lr * (m / (1 - beta1**t)) / (np.sqrt(v) + eps), m, v


def adam_only_v_corrected(theta, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    return theta - lr * m / (np.sqrt(v / (1 - beta2**t)) + eps), m, v


def adam_t_minus_one(theta, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    k = t - 1  # "the number of steps taken before"
    return theta - lr * (m / (1 - beta1**k)) / (np.sqrt(v / (1 - beta2**k)) + eps), m, v


def adam_t_plus_one(theta, g, m, v, t, lr, beta1, beta2, eps):
    t = t + 1
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    return theta - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps), m, v


def adam_eps_inside(theta, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    return theta - lr * (m / (1 - beta1**t)) / np.sqrt(v / (1 - beta2**t) + eps), m, v


def adam_swapped(theta, g, m, v, t, lr, beta1, beta2, eps):
    m = (1 - beta1) * m + beta1 * g
    v = (1 - beta2) * v + beta2 * g**2
    return theta - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps), m, v


def adam_stores_corrected(theta, g, m, v, t, lr, beta1, beta2, eps):
    m = (beta1 * m + (1 - beta1) * g) / (1 - beta1**t)
    v = (beta2 * v + (1 - beta2) * g**2) / (1 - beta2**t)
    return theta - lr * m / (np.sqrt(v) + eps), m, v


def adam_no_sqrt(theta, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    return theta - lr * (m / (1 - beta1**t)) / (v / (1 - beta2**t) + eps), m, v


@pytest.mark.parametrize("wrong, hint", [
    (adam_no_correction, "no bias correction"),
    (adam_only_m_corrected, "v needs v / (1 - beta2**t)"),
    (adam_only_v_corrected, "m needs m / (1 - beta1**t)"),
    (adam_t_minus_one, "not beta**(t - 1)"),
    (adam_t_plus_one, "not beta**(t + 1)"),
    (adam_eps_inside, "epsilon goes outside the square root"),
    (adam_swapped, "the weights are swapped"),
    (adam_stores_corrected, "return the uncorrected m and v"),
    (adam_no_sqrt, "square ROOT of v_hat"),
])
def test_adam_mistakes_get_their_hint(wrong, hint):
    with np.errstate(divide="ignore", invalid="ignore"):
        result = check_adam.evaluate(wrong)
    assert result.status == "fail" and hint in result.hint, result.message
    assert result.message.startswith("[fail] adam_update: on case '")


def test_an_unknown_mistake_gets_the_generic_hint():
    result = check_adam.evaluate(lambda *a: tuple(x + 1.0 for x in adam_update(*a)))
    assert result.status == "fail" and "m_hat = m/(1-b1^t)" in result.hint


# --- never crash on the student's code --------------------------------------------------------

@pytest.mark.parametrize("student, expected", [
    (lambda *a: 1 / 0, "raised ZeroDivisionError"),
    (lambda *a: None, "returned None"),
    (lambda *a: (np.zeros(4), np.zeros(4)), "expected a tuple of 3 values"),
    (lambda *a: (np.zeros(3), np.zeros(4), np.zeros(4)), "expected shape"),
    (lambda theta, g: theta, "raised TypeError"),
    ("adam", "expected a function, got str"),
])
def test_student_errors_are_reported_not_raised(student, expected):
    result = check_adam.evaluate(student)
    assert result.status == "fail" and expected in result.message
    assert "\n" not in result.message
