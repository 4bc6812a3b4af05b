"""Checkers for the exercises of the chapter "Momentum".

``check_momentum_step`` compares one heavy-ball step with :func:`course_lib.optim.sgd` (torch's
rule), ``check_nesterov_step`` one look-ahead Nesterov step with
:func:`course_lib.optim.nesterov_lookahead`. Wrong answers are diagnosed by reproducing the usual
mistakes: a sign error, the position updated with the old velocity, the learning rate in the wrong
place, the gradient taken at the wrong point.
"""
from __future__ import annotations

import numpy as np

from course_lib import optim, surfaces
from course_lib.exercises._core import Case, Checker, Mistake


def _reference_momentum(theta, v, g, lr, momentum):
    """torch's heavy ball, b <- momentum b + g, theta <- theta - lr b, from the buffer v."""
    params, state = optim.sgd(lr, momentum=momentum).step(theta, g, optim.SGDState(1, v))
    return params, state.b


_MOMENTUM_CASES = (
    Case("first step: v = 0, theta = [1, -2], g = [0.5, 1], lr = 0.2, momentum = 0.9",
         (np.array([1.0, -2.0]), np.zeros(2), np.array([0.5, 1.0]), 0.2, 0.9)),
    Case("a later step: v = [2, -1], g = [0.5, 1], lr = 0.2, momentum = 0.9",
         (np.array([1.0, -2.0]), np.array([2.0, -1.0]), np.array([0.5, 1.0]), 0.2, 0.9)),
    Case("3 parameters, lr = 0.05, momentum = 0.5",
         (np.array([0.3, 0.0, -1.2]), np.array([-0.4, 0.8, 0.1]), np.array([1.5, -0.2, 0.7]), 0.05, 0.5)),
)


def _momentum_sign(theta, v, g, lr, momentum):
    v = momentum * v + g
    return theta + lr * v, v


def _momentum_old_velocity(theta, v, g, lr, momentum):
    return theta - lr * v, momentum * v + g


def _momentum_velocity_minus(theta, v, g, lr, momentum):
    v = momentum * v - g
    return theta - lr * v, v


def _momentum_lr_twice(theta, v, g, lr, momentum):
    v = momentum * v + lr * g
    return theta - lr * v, v


def _momentum_ewma(theta, v, g, lr, momentum):
    v = momentum * v + (1 - momentum) * g
    return theta - lr * v, v


def _momentum_no_decay(theta, v, g, lr, momentum):
    v = v + g
    return theta - lr * v, v


check_momentum_step = Checker(
    "momentum_step",
    reference=_reference_momentum,
    cases=_MOMENTUM_CASES,
    mistakes=(
        Mistake("sign error: the step goes against the gradient, theta - lr * v (a plus sign climbs "
                "the loss, like source 003's `x += learning_rate * vx`).", _momentum_sign),
        Mistake("wrong order: update the velocity first, then move theta with the NEW velocity "
                "(you moved theta with the old one).", _momentum_old_velocity),
        Mistake("in this form the gradient is ADDED to the velocity, v = momentum * v + g, and the "
                "minus sign sits in the position update.", _momentum_velocity_minus),
        Mistake("the learning rate appears once, in theta - lr * v; you also multiplied g by lr "
                "inside the velocity (that is the form V = momentum V + lr g, theta - V).", _momentum_lr_twice),
        Mistake("that is the EWMA form v = momentum v + (1 - momentum) g; this exercise uses "
                "torch's v = momentum * v + g (no factor 1 - momentum).", _momentum_ewma),
        Mistake("the old velocity decays: multiply it by momentum before adding g.", _momentum_no_decay),
    ),
    generic_hint="v_new = momentum * v + g, then theta_new = theta - lr * v_new; return (theta_new, v_new).",
)


# --- Nesterov ---------------------------------------------------------------------------------

_BOWL = surfaces.Quadratic(np.array([[3.0, 1.0], [1.0, 2.0]]), center=np.array([0.5, -0.5]))


def _reference_nesterov(theta, v, grad, lr, momentum):
    opt = optim.nesterov_lookahead(lr, momentum=momentum)
    state = optim.VelocityState(1, v)
    params, state = opt.step(theta, grad(opt.lookahead(theta, state)), state)
    return params, state.v


def _nesterov_grad_at_theta(theta, v, grad, lr, momentum):
    v = momentum * v - lr * grad(theta)
    return theta + v, v


def _nesterov_lookahead_minus(theta, v, grad, lr, momentum):
    v = momentum * v - lr * grad(theta - momentum * v)
    return theta + v, v


def _nesterov_sign(theta, v, grad, lr, momentum):
    v = momentum * v + lr * grad(theta + momentum * v)
    return theta + v, v


def _nesterov_old_velocity(theta, v, grad, lr, momentum):
    return theta + v, momentum * v - lr * grad(theta + momentum * v)


def _nesterov_theta_minus(theta, v, grad, lr, momentum):
    v = momentum * v - lr * grad(theta + momentum * v)
    return theta - v, v


_NESTEROV_CASES = (
    Case("v = 0 (the look-ahead point is theta itself), lr = 0.1, momentum = 0.9",
         (np.array([2.0, 1.0]), np.zeros(2), _BOWL.grad, 0.1, 0.9)),
    Case("v = [-0.5, 0.3], lr = 0.1, momentum = 0.9",
         (np.array([2.0, 1.0]), np.array([-0.5, 0.3]), _BOWL.grad, 0.1, 0.9)),
    Case("v = [0.4, 0.6], theta = [-1, 0.5], lr = 0.2, momentum = 0.5",
         (np.array([-1.0, 0.5]), np.array([0.4, 0.6]), _BOWL.grad, 0.2, 0.5)),
)

check_nesterov_step = Checker(
    "nesterov_step",
    reference=_reference_nesterov,
    cases=_NESTEROV_CASES,
    mistakes=(
        Mistake("take the gradient at the look-ahead point theta + momentum * v, not at theta "
                "(at theta this is plain momentum).", _nesterov_grad_at_theta),
        Mistake("the look-ahead point is theta + momentum * v: in this form v is the actual "
                "displacement, so looking ahead ADDS it.", _nesterov_lookahead_minus),
        Mistake("sign error: v = momentum * v - lr * g (the velocity points downhill).", _nesterov_sign),
        Mistake("wrong order: update v first, then theta = theta + v with the NEW velocity.",
                _nesterov_old_velocity),
        Mistake("in this form theta moves by +v: v already points downhill.", _nesterov_theta_minus),
    ),
    generic_hint="g = grad(theta + momentum * v); v_new = momentum * v - lr * g; theta_new = theta + v_new.",
)
