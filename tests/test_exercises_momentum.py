"""The momentum chapter's checkers: pass the reference, reject each typical mistake with its hint,
never crash on the student's code. The wrong versions below are written as a student would."""
import numpy as np
import pytest

from course_lib.exercises.momentum import check_momentum_step, check_nesterov_step


def momentum_step(theta, v, g, lr, momentum):
    v = momentum * v + g
    theta = theta - lr * v
    return theta, v


def nesterov_step(theta, v, grad, lr, momentum):
    g = grad(theta + momentum * v)
    v = momentum * v - lr * g
    return theta + v, v


def test_reference_solutions_pass(capsys):
    assert check_momentum_step.evaluate(momentum_step).status == "pass"
    assert check_nesterov_step.evaluate(nesterov_step).status == "pass"
    check_momentum_step(momentum_step)
    check_nesterov_step(nesterov_step)
    assert capsys.readouterr().out == ("[pass] momentum_step: correct on all 3 test cases.\n"
                                       "[pass] nesterov_step: correct on all 3 test cases.\n")


def test_a_list_instead_of_a_tuple_also_passes():
    assert check_momentum_step.evaluate(lambda *a: list(momentum_step(*a))).status == "pass"


def test_not_done_yet():
    def stub(*args):
        raise NotImplementedError

    assert check_momentum_step.evaluate(stub).status == "not done"
    assert check_nesterov_step.evaluate(stub).message.startswith("[not done] nesterov_step:")


# --- momentum: wrong versions ---------------------------------------------------------------------

def climbs(theta, v, g, lr, momentum):
    v = momentum * v + g
    theta += lr * v  # source 003's sign; also modifies theta in place -> use a copy below
    return theta, v


def climbs_copy(theta, v, g, lr, momentum):
    v = momentum * v + g
    return theta + lr * v, v


def old_velocity(theta, v, g, lr, momentum):
    new_theta = theta - lr * v
    v = momentum * v + g
    return new_theta, v


def minus_in_velocity(theta, v, g, lr, momentum):
    v = momentum * v - g
    return theta - lr * v, v


def lr_twice(theta, v, g, lr, momentum):
    v = momentum * v + lr * g
    return theta - lr * v, v


def ewma_form(theta, v, g, lr, momentum):
    v = momentum * v + (1 - momentum) * g
    return theta - lr * v, v


def no_decay(theta, v, g, lr, momentum):
    v = v + g
    return theta - lr * v, v


@pytest.mark.parametrize("wrong, hint", [
    (climbs_copy, "sign error"),
    (old_velocity, "wrong order"),
    (minus_in_velocity, "the gradient is ADDED to the velocity"),
    (lr_twice, "the learning rate appears once"),
    (ewma_form, "that is the EWMA form"),
    (no_decay, "the old velocity decays"),
])
def test_momentum_mistakes_get_their_hint(wrong, hint):
    result = check_momentum_step.evaluate(wrong)
    assert result.status == "fail" and hint in result.hint
    assert result.message.startswith("[fail] momentum_step: on case '")


def test_in_place_update_is_reported():
    result = check_momentum_step.evaluate(climbs)
    assert result.status == "fail" and "do not modify the inputs" in result.hint


def test_only_theta_returned():
    result = check_momentum_step.evaluate(lambda theta, v, g, lr, momentum: theta - lr * (momentum * v + g))
    assert result.status == "fail" and "expected a tuple of 2 values" in result.message


# --- Nesterov: wrong versions ---------------------------------------------------------------------

def grad_at_theta(theta, v, grad, lr, momentum):
    v = momentum * v - lr * grad(theta)
    return theta + v, v


def looks_back(theta, v, grad, lr, momentum):
    v = momentum * v - lr * grad(theta - momentum * v)
    return theta + v, v


def uphill(theta, v, grad, lr, momentum):
    v = momentum * v + lr * grad(theta + momentum * v)
    return theta + v, v


def moves_with_old_v(theta, v, grad, lr, momentum):
    new_theta = theta + v
    v = momentum * v - lr * grad(theta + momentum * v)
    return new_theta, v


def theta_minus_v(theta, v, grad, lr, momentum):
    v = momentum * v - lr * grad(theta + momentum * v)
    return theta - v, v


@pytest.mark.parametrize("wrong, hint", [
    (grad_at_theta, "take the gradient at the look-ahead point"),
    (looks_back, "the look-ahead point is theta + momentum * v"),
    (uphill, "sign error"),
    (moves_with_old_v, "wrong order"),
    (theta_minus_v, "theta moves by +v"),
])
def test_nesterov_mistakes_get_their_hint(wrong, hint):
    result = check_nesterov_step.evaluate(wrong)
    assert result.status == "fail" and hint in result.hint


def test_an_unknown_mistake_gets_the_generic_hint():
    result = check_nesterov_step.evaluate(lambda *a: tuple(x + 1.0 for x in nesterov_step(*a)))
    assert result.status == "fail" and "grad(theta + momentum * v)" in result.hint


@pytest.mark.parametrize("student, expected", [
    (lambda theta, v, g, lr, momentum: 1 / 0, "raised ZeroDivisionError"),
    (lambda theta, v, g, lr, momentum: None, "returned None"),
    (lambda theta, v, g, lr, momentum: ("a", "b"), "expected numbers, got str"),
    (lambda theta, v: (theta, v), "raised TypeError"),
    ("momentum", "expected a function, got str"),
])
def test_student_errors_are_reported_not_raised(student, expected):
    result = check_momentum_step.evaluate(student)
    assert result.status == "fail" and expected in result.message and "\n" not in result.message


def test_the_checkers_agree_with_the_library_over_several_steps():
    """Repeated reference steps reproduce optim.sgd(momentum) and its Nesterov look-ahead form on a run."""
    from course_lib import optim, surfaces

    bowl = surfaces.Quadratic(np.array([[3.0, 1.0], [1.0, 2.0]]))
    theta, v = np.array([1.0, 1.0]), np.zeros(2)
    for _ in range(20):
        theta, v = momentum_step(theta, v, bowl.grad(theta), 0.1, 0.8)
    run = surfaces.run(optim.sgd(0.1, momentum=0.8), bowl, [1.0, 1.0], 20)
    assert np.allclose(theta, run.params[-1], rtol=0, atol=1e-12)
    theta, v = np.array([1.0, 1.0]), np.zeros(2)
    for _ in range(20):
        theta, v = nesterov_step(theta, v, bowl.grad, 0.1, 0.8)
    run = surfaces.run(optim.nesterov_lookahead(0.1, momentum=0.8), bowl, [1.0, 1.0], 20)
    assert np.allclose(theta, run.params[-1], rtol=0, atol=1e-12)
