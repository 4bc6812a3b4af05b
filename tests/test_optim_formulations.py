"""The sources' formulations of momentum and the adaptive methods: equal under their
reparametrisation, or shown to differ where they do.

Each source's algorithm is transcribed literally below (plain loops, the source's symbols) and
compared with course_lib.optim, which test_optim_torch.py ties to torch.optim.
"""
import numpy as np
import pytest
import torch

from course_lib import optim, schedules, surfaces

SURFACE = surfaces.quadratic(condition_number=20.0, angle=0.4, center=(1.0, -0.5))
X0 = np.array([-2.0, 2.5])
STEPS = 150
# Far from the minimum: the sign-like adaptive methods stay in transit for all STEPS. Near the
# minimum they hop about chaotically, and two transcriptions that round differently part ways
# (see test_optim_torch.py); that would test the rounding, not the rule.
X_FAR = np.array([-20.0, 25.0])


def grad(x):
    return SURFACE.grad(x)


def path(opt, surface=SURFACE, x0=X0, steps=STEPS):
    return surfaces.run(opt, surface, x0, steps).params


def same(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def differ(a, b, by=1e-3):
    assert np.max(np.abs(a - b)) > by


def literal(update, state, x0=X0, steps=STEPS):
    """Run a transcribed algorithm: ``x, state = update(x, state, t)`` for t = 1..steps."""
    x, out = np.array(x0, dtype=float), [np.array(x0, dtype=float)]
    for t in range(1, steps + 1):
        x, state = update(x, state, t)
        out.append(x)
    return np.array(out)


# ------------------------------------------------------------------ momentum

def test_sources_000_002_velocity_with_lr_inside_equals_torch_sgd():
    """V <- a V + eps g, W <- W - V: V = eps * b for torch's buffer b."""
    def source_000(w, v, t):
        v = 0.9 * v + 0.05 * grad(w)
        return w - v, v

    same(path(optim.momentum_scaled(0.05, 0.9)), path(optim.sgd(0.05, momentum=0.9)))
    same(literal(source_000, np.zeros(2)), path(optim.sgd(0.05, momentum=0.9)))


def test_velocity_with_lr_inside_differs_from_sgd_under_a_schedule():
    """With a decaying lr, V remembers the old, larger rates; torch's b does not carry lr."""
    lr = schedules.step_decay(0.05, step_size=20, gamma=0.2)
    differ(path(optim.momentum_scaled(lr, 0.9)), path(optim.sgd(lr, momentum=0.9)))


def test_source_002_averaged_form_is_the_velocity_form_with_eta_times_one_minus_gamma():
    """002: with eta = eta'(1 - gamma), V_t = gamma V + eta g and M_t = gamma M + (1 - gamma) g,
    W -= eta' M give the same W."""
    eta_prime, gamma = 0.5, 0.9

    def source_002(w, m, t):
        m = gamma * m + (1 - gamma) * grad(w)
        return w - eta_prime * m, m

    ewma_form = path(optim.momentum_ewma(eta_prime, gamma))
    same(ewma_form, literal(source_002, np.zeros(2)))
    same(ewma_form, path(optim.momentum_scaled(eta_prime * (1 - gamma), gamma)))
    same(ewma_form, path(optim.sgd(eta_prime * (1 - gamma), momentum=gamma)))


def test_averaged_form_is_not_torch_dampening():
    """torch's sgd(dampening=rho) starts its buffer at g_1, the EWMA at (1 - rho) g_1: on the same
    gradients the two differ by exactly rho^t g_1."""
    rho = 0.8
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((30, 3))
    ewma_opt, torch_like = optim.momentum_ewma(0.1, rho), optim.sgd(0.1, momentum=rho, dampening=rho)
    x = np.zeros(3)
    s1, s2 = ewma_opt.init(x), torch_like.init(x)
    for t, g in enumerate(grads, start=1):
        _, s1 = ewma_opt.step(x, g, s1)
        _, s2 = torch_like.step(x, g, s2)
        np.testing.assert_allclose(s2.b - s1.v, rho**t * grads[0], rtol=1e-9, atol=1e-14)
    differ(path(ewma_opt), path(torch_like), by=1e-2)


def test_sources_003_004_negative_velocity_form_equals_torch_sgd():
    """v <- rho v - alpha g, theta <- theta + v (003's second form; Goodfellow Alg. 8.2 in 004)."""
    def source_003(x, vx, t):
        vx = 0.9 * vx - 0.05 * grad(x)
        return x + vx, vx

    def source_003_first_form(x, vx, t):  # v <- rho v + dx; x -= lr v  (with the sign fixed)
        vx = 0.9 * vx + grad(x)
        return x - 0.05 * vx, vx

    torch_form = path(optim.sgd(0.05, momentum=0.9))
    same(path(optim.momentum_velocity(0.05, 0.9)), torch_form)
    same(literal(source_003, np.zeros(2)), torch_form)
    same(literal(source_003_first_form, np.zeros(2)), torch_form)


def test_source_003_first_code_block_ascends():
    """003's code ``x += learning_rate * dx`` (and ``x += learning_rate * vx``) has the wrong sign."""
    def as_printed(x, _, t):
        return x + 0.05 * grad(x), None

    losses = SURFACE.value(literal(as_printed, None, steps=20))
    assert np.all(np.diff(losses) > 0)


# ------------------------------------------------------------------ Nesterov

@pytest.mark.parametrize("surface, x0, lr", [(SURFACE, X0, 0.05), (surfaces.rosenbrock(), np.array([-1.2, 1.0]), 5e-4)])
def test_torch_nesterov_iterates_are_the_lookahead_points(surface, x0, lr):
    """Source 004 calls Keras' (= torch's) nesterov=True an approximation. It is exact: torch's iterates
    are the look-ahead points theta_t + beta v_t of Goodfellow's Alg. 8.3 (003's change of variable)."""
    beta, steps = 0.9, 200
    lookahead = optim.nesterov_lookahead(lr, beta)
    x, state, points = x0, lookahead.init(x0), [x0]
    for _ in range(steps):
        x, state = lookahead.step(x, surface.grad(lookahead.lookahead(x, state)), state)
        points.append(lookahead.lookahead(x, state))
    p = torch.tensor(x0, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, momentum=beta, nesterov=True)
    torch_points = [x0]
    for _ in range(steps):
        p.grad = torch.tensor(surface.grad(p.detach().numpy()))
        opt.step()
        torch_points.append(p.detach().numpy().copy())
    same(np.array(points), np.array(torch_points))
    # and not the heavy-ball points
    differ(path(optim.nesterov_lookahead(lr, beta), surface, x0, steps), path(optim.sgd(lr, momentum=beta), surface, x0, steps))


def test_source_003_nesterov_code_equals_torch_nesterov():
    def source_003(x, v, t):
        dx = grad(x)
        old_v = v
        v = 0.9 * v - 0.05 * dx
        return x + (-0.9 * old_v + (1 + 0.9) * v), v

    same(literal(source_003, np.zeros(2)), path(optim.sgd(0.05, momentum=0.9, nesterov=True)))


def test_source_004_lookahead_algorithm_literally():
    def goodfellow_8_3(theta, v, t):
        g = grad(theta + 0.9 * v)
        v = 0.9 * v - 0.05 * g
        return theta + v, v

    same(literal(goodfellow_8_3, np.zeros(2)), path(optim.nesterov_lookahead(0.05, 0.9)))


def test_rmsprop_with_nesterov_momentum_goodfellow_8_6():
    rho, beta, alpha = 0.9, 0.8, 0.01

    def goodfellow_8_6(theta, state, t):
        r, v = state
        g = grad(theta + beta * v)
        r = rho * r + (1 - rho) * g * g
        v = beta * v - alpha / np.sqrt(r) * g
        return theta + v, (r, v)

    same(literal(goodfellow_8_6, (np.zeros(2), np.zeros(2)), x0=X_FAR),
         path(optim.rmsprop_nesterov(alpha, rho, beta, eps=0.0), x0=X_FAR))
    # without momentum it is plain RMSProp
    same(path(optim.rmsprop_nesterov(alpha, rho, 0.0, eps=1e-8), x0=X_FAR),
         path(optim.rmsprop(alpha, alpha=rho, eps=1e-8), x0=X_FAR))
    differ(path(optim.rmsprop_nesterov(alpha, rho, beta)), path(optim.rmsprop(alpha, alpha=rho, momentum=beta)), by=1e-4)


# ------------------------------------------------------------------ epsilon, and the names of the adaptive methods

def test_source_002_adam_has_eps_inside_the_root():
    eta, b1, b2, eps = 0.05, 0.9, 0.999, 1e-4

    def source_002(w, state, t):
        m, v = state
        g = grad(w)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        return w - eta / np.sqrt(v_hat + eps) * m_hat, (m, v)

    inside = path(optim.adam(eta, eps=eps, eps_inside_sqrt=True))
    same(literal(source_002, (np.zeros(2), np.zeros(2))), inside)
    differ(inside, path(optim.adam(eta, eps=eps)), by=1e-4)
    same(path(optim.adam(eta, eps=0.0, eps_inside_sqrt=True)), path(optim.adam(eta, eps=0.0)))


def test_source_002_adadelta_is_rmsprop_with_eps_inside_not_zeilers_adadelta():
    eta, gamma, eps = 0.05, 0.9, 1e-6

    def source_002(w, G, t):
        g = grad(w)
        G = gamma * G + (1 - gamma) * g * g
        return w - eta / np.sqrt(G + eps) * g, G

    def zeiler_algorithm_1(x, state, t):
        Eg2, Edx2 = state
        g = grad(x)
        Eg2 = gamma * Eg2 + (1 - gamma) * g * g
        dx = -np.sqrt(Edx2 + eps) / np.sqrt(Eg2 + eps) * g
        Edx2 = gamma * Edx2 + (1 - gamma) * dx * dx
        return x + dx, (Eg2, Edx2)

    appendix_b = path(optim.appendix_b_adadelta(eta, gamma, eps), x0=X_FAR)
    same(literal(source_002, np.zeros(2), x0=X_FAR), appendix_b)
    same(appendix_b, path(optim.rmsprop(eta, alpha=gamma, eps=eps, eps_inside_sqrt=True), x0=X_FAR))
    zeiler = path(optim.adadelta(lr=1.0, rho=gamma, eps=eps), x0=X_FAR)
    same(literal(zeiler_algorithm_1, (np.zeros(2), np.zeros(2)), x0=X_FAR), zeiler)
    differ(appendix_b, zeiler, by=1e-2)


def test_source_000_swaps_the_names_rmsprop_and_adagrad():
    eps, delta, rho = 0.3, 1e-7, 0.9

    def rmsprop_of_000(w, r, t):  # a running SUM: this is AdaGrad
        g = grad(w)
        r = r + g * g
        return w - eps / (delta + np.sqrt(r)) * g, r

    def adagrad_of_000(w, r, t):  # a moving AVERAGE: this is RMSProp
        g = grad(w)
        r = rho * r + (1 - rho) * g * g
        return w - eps / (delta + np.sqrt(r)) * g, r

    same(literal(rmsprop_of_000, np.zeros(2)), path(optim.adagrad(eps, eps=delta)))
    same(literal(adagrad_of_000, np.zeros(2)), path(optim.rmsprop(eps, alpha=rho, eps=delta)))


def test_source_003_numpy_code():
    lr = 0.05

    def adagrad_003(x, grad_squared, t):
        dx = grad(x)
        grad_squared = grad_squared + dx * dx
        return x - lr * dx / (np.sqrt(grad_squared) + 1e-7), grad_squared

    def rmsprop_003(x, grad_squared, t):
        dx = grad(x)
        grad_squared = 0.99 * grad_squared + (1 - 0.99) * dx * dx
        return x - lr * dx / (np.sqrt(grad_squared) + 1e-7), grad_squared

    def adam_003(x, moments, t):  # "for t in range(1, num_iterations)": t counts from 1
        first_moment, second_moment = moments
        dx = grad(x)
        first_moment = 0.9 * first_moment + (1 - 0.9) * dx
        second_moment = 0.999 * second_moment + (1 - 0.999) * dx * dx
        first_unbias = first_moment / (1 - 0.9**t)
        second_unbias = second_moment / (1 - 0.999**t)
        return x - lr * first_unbias / (np.sqrt(second_unbias) + 1e-7), (first_moment, second_moment)

    same(literal(adagrad_003, np.zeros(2)), path(optim.adagrad(lr, eps=1e-7)))
    same(literal(rmsprop_003, np.zeros(2)), path(optim.rmsprop(lr, alpha=0.99, eps=1e-7)))
    same(literal(adam_003, (np.zeros(2), np.zeros(2))), path(optim.adam(lr, eps=1e-7)))
    # 003's first version, "for t in range(num_iterations)", divides by 1 - beta1**0 = 0 on the first step
    with pytest.raises(ZeroDivisionError):
        0.1 / (1 - 0.9**0)


def test_source_001_literal_r_plus_delta_drifts():
    """001 writes "add delta to the denominator: r_i = delta + r_i". Read as an assignment to the
    state, delta accumulates: r tends to its EWMA plus delta / (1 - rho). As a denominator only, it
    is RMSProp with eps inside the root."""
    rho, delta, eps_lr = 0.9, 1e-2, 0.05

    def as_assignment(theta, r, t):
        g = grad(theta)
        r = rho * r + (1 - rho) * g * g
        r = delta + r
        return theta - eps_lr * g / np.sqrt(r), r

    def in_denominator(theta, r, t):
        g = grad(theta)
        r = rho * r + (1 - rho) * g * g
        return theta - eps_lr * g / np.sqrt(delta + r), r

    inside = path(optim.rmsprop(eps_lr, alpha=rho, eps=delta, eps_inside_sqrt=True))
    same(literal(in_denominator, np.zeros(2)), inside)
    differ(literal(as_assignment, np.zeros(2)), inside, by=1e-3)
