"""Demonstrations for book/appendix/errata.md: each test reproduces a source's formula or code as
printed, and shows where it differs from the correct statement (computed with course_lib).

The test names follow the labels of the appendix (err-000-unroll-parens -> test_err_000_...).
"""
import numpy as np
import pytest

from course_lib import data, ewma, gradcheck, init, nn, optim, regularization, surfaces
from course_lib.optim import VelocityState


def test_err_000_unrolled_velocity():
    """V <- a V + eps G from V0 != 0: V3 = a^3 V0 + (1 + a + a^2) eps G, not a^2 V0 + ..."""
    a, eps, G, V0 = 0.9, 0.1, np.array([1.0, -2.0]), np.array([0.5, 0.25])
    opt = optim.momentum_scaled(eps, a)
    w, state = np.zeros(2), VelocityState(0, V0)
    for _ in range(3):
        w, state = opt.step(w, G, state)
    correct = a**3 * V0 + (1 + a + a**2) * eps * G
    as_printed = a * (a * (V0 + eps * G) + eps * G) + eps * G
    np.testing.assert_allclose(state.v, correct, rtol=1e-12)
    assert np.max(np.abs(as_printed - correct)) > 1e-2
    # with V0 = 0, as in the source, the slip does not matter and V tends to eps G / (1 - a)
    state = opt.init(w)
    for _ in range(400):
        w, state = opt.step(w, G, state)
    np.testing.assert_allclose(state.v, eps * G / (1 - a), rtol=1e-12)


@pytest.mark.parametrize("make", [lambda: optim.adagrad(0.1, eps=0.0), lambda: optim.rmsprop(0.1, eps=0.0),
                                  lambda: optim.adam(0.1, eps=0.0)])
def test_err_000_square_root_makes_the_step_scale_invariant(make):
    """Scaling the loss by c scales every gradient by c: dividing by sqrt(r) leaves the steps unchanged,
    dividing by r (a literal diagonal 'Newton' step with the outer-product approximation) scales them by 1/c."""
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((20, 3))

    def steps(scale):
        opt = make()
        x = np.zeros(3)
        state = opt.init(x)
        out = []
        for g in grads:
            update, state = opt.update(scale * g, state, x)
            out.append(update)
        return np.array(out)

    np.testing.assert_allclose(steps(1.0), steps(100.0), rtol=1e-10)
    # the diagonal-Newton analogue: g / mean(g^2), with the running mean of g^2
    r = np.cumsum(grads**2, axis=0) / np.arange(1, 21)[:, None]
    newton_1, newton_100 = grads / r, (100 * grads) / (100**2 * r)
    np.testing.assert_allclose(newton_100, newton_1 / 100, rtol=1e-12)


def test_err_000_covariance_printouts():
    """Whitening with a regulariser eps = 0.01 turns the printed raw covariance into diag(0.953, 0.999);
    z-scoring with 1/n printed with numpy.cov's 1/(n-1) gives 1000/999 = 1.001001."""
    raw = np.array([[6.81764404, -3.86103353], [-3.86103353, 2.45930235]])
    n = 1000
    z = np.random.default_rng(1).standard_normal((n, 2))
    z = data.whiten(z, ddof=1)[0]                      # sample covariance exactly I
    x = z @ np.linalg.cholesky(raw).T                  # sample covariance exactly `raw`
    np.testing.assert_allclose(np.cov(x, rowvar=False), raw, rtol=1e-10)

    regularised = np.cov(data.whiten(x, eps=0.01, ddof=1)[0], rowvar=False)
    np.testing.assert_allclose(np.sort(np.diag(regularised)), [0.953471754, 0.998898924], rtol=1e-6)
    assert abs(regularised[0, 1]) < 1e-12
    np.testing.assert_allclose(np.cov(data.whiten(x, ddof=1)[0], rowvar=False), np.eye(2), atol=1e-12)

    zscored = np.cov(data.standardize(x, ddof=0)[0], rowvar=False)
    np.testing.assert_allclose(np.diag(zscored), [n / (n - 1)] * 2, rtol=1e-12)
    np.testing.assert_allclose(zscored[0, 1], -0.94387604, rtol=1e-6)


def test_err_000_batchnorm_keeps_correlation_and_shape():
    rng = np.random.default_rng(2)
    u = rng.exponential(size=(4000, 1))                          # skewed
    x = np.hstack([u, u + 0.3 * rng.standard_normal((4000, 1))])  # correlated
    y = nn.BatchNorm1d(2).forward(x, "train")
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=0), 1.0, rtol=1e-4)
    assert np.corrcoef(y, rowvar=False)[0, 1] > 0.9             # not I-covariance
    skew = np.mean(y[:, 0] ** 3)
    assert skew > 1.5                                           # a standard Gaussian has 0


def test_err_002_start_up_bias_is_large():
    """Without correction, v_1 = (1 - beta2) g^2 and v_1000 misses beta2^1000 of its weight."""
    g2 = np.full(1000, 4.0)
    v = ewma.ewma(g2, 0.999)
    assert v[0] == pytest.approx(0.001 * 4.0)
    assert v[-1] / 4.0 == pytest.approx(1 - 0.999**1000) and 0.999**1000 > 0.36
    np.testing.assert_allclose(ewma.ewma(g2, 0.999, bias_correction=True), 4.0, rtol=1e-12)
    # and v estimates the uncentred second moment, mean^2 + variance, not the variance
    g = np.random.default_rng(3).normal(2.0, 1.0, 200_000)
    v_hat = ewma.ewma(g**2, 0.999, bias_correction=True)[-1]
    assert v_hat == pytest.approx(5.0, rel=0.1) and abs(v_hat - 1.0) > 3


def _batchnorm_002(Z, eps):
    """Source 002's forward pass, features x batch: Zbar = (Z - mu) / (sigma + eps)."""
    mu = Z.mean(axis=1, keepdims=True)
    sigma = np.sqrt(((Z - mu) ** 2).mean(axis=1, keepdims=True))
    return (Z - mu) / (sigma + eps), mu, sigma


def _backward_002(dZhat, Z, G, eps_in_backward):
    """Source 002's final formula for dL/dZ_ij, with 1/sigma replaced by 1/(sigma + eps_in_backward)."""
    n, K = Z.shape
    _, mu, sigma = _batchnorm_002(Z, 0.0)
    s = sigma + eps_in_backward
    c = Z - mu
    out = np.zeros_like(Z)
    for i in range(n):
        for j in range(K):
            total = 0.0
            for k in range(K):
                dzbar = ((j == k) - 1 / K) / s[i, 0] - c[i, k] / s[i, 0] ** 2 * c[i, j] / (K * sigma[i, 0])
                total += dZhat[i, k] * G[i, 0] * dzbar
            out[i, j] = total
    return out


def test_err_002_batchnorm_parameter_gradients():
    """dL/dB_i and dL/dG_i sum over the batch index j (the columns in 002's layout)."""
    rng = np.random.default_rng(4)
    Z, dZhat = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    bn = nn.BatchNorm1d(3)
    bn.forward(Z.T, "train")                     # course_lib's layout is batch x features
    Zbar = bn.cache.x_hat.T
    bn.backward(dZhat.T)
    np.testing.assert_allclose(bn.grads["beta"], dZhat.sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(bn.grads["gamma"], (dZhat * Zbar).sum(axis=1), rtol=1e-12)
    assert not np.allclose(bn.grads["beta"][:3], dZhat.sum(axis=0)[:3])   # summing over i is wrong


def test_err_002_batchnorm_backward_needs_epsilon():
    rng = np.random.default_rng(5)
    Z = 0.05 * rng.standard_normal((2, 6))       # spread comparable to eps
    G, dZhat, eps = np.array([[1.5], [0.7]]), rng.standard_normal((2, 6)), 0.02

    def loss(z):
        return np.sum(dZhat * (G * _batchnorm_002(z, eps)[0]))

    numeric = gradcheck.numerical_gradient(loss, Z)
    assert gradcheck.relative_error(_backward_002(dZhat, Z, G, eps_in_backward=eps), numeric) < 1e-6
    assert gradcheck.relative_error(_backward_002(dZhat, Z, G, eps_in_backward=0.0), numeric) > 0.05
    # with eps = 0 the source's formula is right
    numeric0 = gradcheck.numerical_gradient(lambda z: np.sum(dZhat * (G * _batchnorm_002(z, 0.0)[0])), Z)
    assert gradcheck.relative_error(_backward_002(dZhat, Z, G, eps_in_backward=0.0), numeric0) < 1e-6


def test_err_003_leftover_line_changes_the_path():
    surface = surfaces.quadratic(condition_number=10.0, angle=0.3)
    rho, lr = 0.9, 0.05

    def with_leftover(x, steps=60):
        v = np.zeros(2)
        for _ in range(steps):
            v = rho * v - lr * surface.grad(x)
            x = x + v
            x = x - lr * v
        return x

    x0 = np.array([2.0, -1.5])
    correct = surfaces.run(optim.momentum_velocity(lr, rho), surface, x0, 60).params[-1]
    assert np.max(np.abs(with_leftover(x0) - correct)) > 1e-3


def test_err_003_velocity_is_a_sum():
    """003's v <- rho v + g tends to g / (1 - rho): ten times a mean of the gradients for rho = 0.9."""
    g, rho = np.array([1.0, -3.0]), 0.9
    opt = optim.sgd(0.01, momentum=rho)
    x, state = np.zeros(2), opt.init(np.zeros(2))
    for _ in range(400):
        x, state = opt.step(x, g, state)
    np.testing.assert_allclose(state.b, g / (1 - rho), rtol=1e-12)
    # 001's form (1 - rho) g is the running mean
    ewma_form = optim.momentum_ewma(0.01, rho)
    s = ewma_form.init(np.zeros(2))
    for _ in range(400):
        _, s = ewma_form.step(np.zeros(2), g, s)
    np.testing.assert_allclose(s.v, g, rtol=1e-12)


def test_err_003_xavier_and_lecun_variances():
    fan_in, fan_out = 400, 100
    lecun = init.lecun_normal((fan_out, fan_in), 0)     # torch layout (out, in)
    xavier = init.xavier_normal((fan_out, fan_in), 0)
    assert lecun.var() == pytest.approx(1 / fan_in, rel=0.02)
    assert xavier.var() == pytest.approx(2 / (fan_in + fan_out), rel=0.02)
    assert xavier.var() / lecun.var() == pytest.approx(2 * fan_in / (fan_in + fan_out), rel=0.03)


def test_err_003_local_gradients_small_but_gradients_grow():
    """003's tanh network with std 1 weights: local gradients near 0, back-propagated gradients explode."""
    from course_lib import diagnostics
    width, depth = 200, 10
    model = nn.mlp([width] * (depth + 1), rng=0, activation="tanh",
                   init=lambda shape, rng: rng.standard_normal(shape))
    x = np.random.default_rng(1).standard_normal((200, width))
    records = diagnostics.layer_statistics(model, x, grad_output=2, mode="eval")
    tanh_out = [r.output for r in records if not isinstance(r.layer, nn.Linear)]
    grads = [r.grad_output.std() for r in records if isinstance(r.layer, nn.Linear)]
    assert np.mean(1 - tanh_out[4] ** 2) < 0.15                        # "local gradients all zero"
    assert grads[0] / grads[-1] > 2.0 ** (depth - 1)                   # yet the gradients grow towards the input
    assert all(a > b for a, b in zip(grads, grads[1:]))


def test_err_003_batchnorm_identity():
    rng = np.random.default_rng(6)
    x = 0.01 * rng.standard_normal((8, 3)) + 1.0          # small spread: eps matters
    bn = nn.BatchNorm1d(3, eps=1e-5)
    mu, var = x.mean(axis=0), x.var(axis=0)
    bn.params["beta"] = mu
    bn.params["gamma"] = np.sqrt(var + bn.eps)
    np.testing.assert_allclose(bn.forward(x, "train"), x, rtol=1e-12)
    bn.params["gamma"] = np.sqrt(var)                     # 003's gamma = sigma
    assert np.max(np.abs(bn.forward(x, "train") - x)) > 5e-4  # about 5 % of the spread


def test_err_004_dropout_sum_changes_on_each_draw():
    x = np.ones((1, 100))
    layer = nn.Dropout(0.5, rng=7)
    sums = np.array([layer.forward(x, "train").sum() for _ in range(2000)])
    assert np.std(sums) > 5                               # not unchanged on any given step
    assert np.mean(sums) == pytest.approx(100, rel=0.01)  # unchanged in expectation


def test_err_004_adagrad_state_is_one_array():
    opt = optim.adagrad(0.1)
    x = np.zeros((4, 3))
    state = opt.init(x)
    for t in range(50):
        x, state = opt.step(x, np.full((4, 3), 1.0 + t), state)
    arrays = [f for f in state if isinstance(f, np.ndarray)]
    assert len(arrays) == 1 and arrays[0].shape == x.shape
    np.testing.assert_allclose(arrays[0], sum((1.0 + t) ** 2 for t in range(50)))


def test_err_004_batchnorm_needs_epsilon():
    x = np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 2.0]])   # the second feature is constant
    with np.errstate(divide="ignore", invalid="ignore"):
        source_004 = (x - x.mean(axis=0)) / x.std(axis=0)
    assert np.all(np.isnan(source_004[:, 1]))
    y = nn.BatchNorm1d(2).forward(x, "train")
    assert np.all(np.isfinite(y)) and np.all(y[:, 1] == 0.0)


def test_err_004_patience_counts_evaluations_without_improvement():
    """Validation errors 1.0, 0.5, then 0.5, 0.6, 0.55, 0.58: the error never 'worsens' P = 3 times in a
    row (it falls from 0.6 to 0.55), but three evaluations in a row fail to improve on 0.5, so the
    algorithm stops there, keeping the parameters of the second evaluation."""
    errors = iter([1.0, 0.5, 0.5, 0.6, 0.55, 0.58, 0.1, 0.1])
    result = regularization.early_stopping(lambda theta, n: theta + n, lambda theta: next(errors), 0,
                                           n=10, patience=3)
    assert result.errors == [1.0, 0.5, 0.5, 0.6, 0.55]
    assert result.best_step == 20 and result.best_params == 20 and result.best_error == 0.5
    worsenings = sum(b > a for a, b in zip(result.errors[1:], result.errors[2:]))
    assert worsenings == 1


def test_err_001_adam_literal_delta_is_a_large_eps_inside_the_root():
    """001's Adam slide repeats 'add delta ... r_i = delta + r_i'. Read as an assignment to the state,
    delta piles up as delta (1 - rho2^i) / (1 - rho2); bias correction divides by (1 - rho2^i), so the
    corrected r-hat carries exactly delta / (1 - rho2) at every step: Adam with eps = delta / (1 - rho2)
    *inside* the root (1e-3 for delta = 1e-6, rho2 = 0.999), not a tiny delta."""
    rho1, rho2, delta, lr = 0.9, 0.999, 1e-6, 1e-3
    grads = np.random.default_rng(1).standard_normal((50, 4)) * 1e-2
    theta, v, r = np.zeros(4), np.zeros(4), np.zeros(4)
    literal = []
    for i, g in enumerate(grads, start=1):
        v = rho1 * v + (1 - rho1) * g
        r = rho2 * r + (1 - rho2) * g * g
        r = delta + r                       # the slide's line, as an assignment
        theta = theta - lr * (v / (1 - rho1**i)) / np.sqrt(r / (1 - rho2**i))
        literal.append(theta)
    opt = optim.adam(lr, betas=(rho1, rho2), eps=delta / (1 - rho2), eps_inside_sqrt=True)
    x, state, equivalent = np.zeros(4), None, []
    state = opt.init(x)
    for g in grads:
        x, state = opt.step(x, g, state)
        equivalent.append(x)
    np.testing.assert_allclose(literal, equivalent, rtol=1e-10, atol=1e-15)
    # and it is far from Adam with the small delta the slide intends (gradients ~1e-2, sqrt(1e-3) ~ 0.03)
    opt = optim.adam(lr, betas=(rho1, rho2), eps=delta)
    x, state = np.zeros(4), opt.init(np.zeros(4))
    for g in grads:
        x, state = opt.step(x, g, state)
    assert np.max(np.abs(x - literal[-1])) > 0.3 * np.max(np.abs(x))


def test_err_000_outer_product_of_loss_gradients_is_not_gauss_newton():
    """Least squares, L_i = (x_i.w - y_i)^2 / 2: the Hessian is X^T X / n, which is exactly Bishop's
    outer-product (Gauss-Newton) matrix of the *output* gradients x_i. Source 000's E[grad f grad f^T] of
    the *loss* gradients r_i x_i (the empirical Fisher) weights each example by its squared residual:
    it differs from the Hessian, and at a perfect fit it is 0 while the curvature is not."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3)) * np.array([1.0, 3.0, 0.3])
    w_true = np.array([1.0, -2.0, 0.5])
    y = X @ w_true + 0.1 * rng.standard_normal(200)
    hessian = X.T @ X / len(X)
    gauss_newton = np.mean([np.outer(x, x) for x in X], axis=0)          # output gradients d(x.w)/dw = x
    np.testing.assert_allclose(gauss_newton, hessian, rtol=1e-12)

    def empirical_fisher(w, targets):
        residual = X @ w - targets
        return np.mean([np.outer(r * x, r * x) for r, x in zip(residual, X)], axis=0)

    w_fit = np.linalg.lstsq(X, y, rcond=None)[0]
    # near the fit it is about the residual variance (0.1^2) times the Hessian, nowhere near the Hessian
    assert np.linalg.norm(empirical_fisher(w_fit, y)) < 0.05 * np.linalg.norm(hessian)
    # a noiseless perfect fit: the empirical Fisher vanishes, the curvature does not
    assert np.all(empirical_fisher(w_true, X @ w_true) == 0.0)
    # far from the fit it is much larger than the Hessian
    assert np.linalg.norm(empirical_fisher(w_fit + np.array([3.0, 0.0, 0.0]), y)) > 5 * np.linalg.norm(hessian)
