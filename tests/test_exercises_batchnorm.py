"""The batch-norm chapter's checkers: pass the reference, reject each typical mistake with its hint,
never crash on the student's code. The wrong versions below are written as a student would."""
import numpy as np
import pytest

from course_lib.exercises.batchnorm import check_batchnorm_backward, check_batchnorm_forward, check_running_update


# --- correct student solutions ----------------------------------------------------------------

def forward(x, gamma, beta, eps):
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def backward_graph(dout, x, gamma, eps):
    """cs231n's staged backward pass, written out."""
    n = x.shape[0]
    mu = x.mean(axis=0)
    c = x - mu
    var = (c**2).mean(axis=0)
    s = np.sqrt(var + eps)
    x_hat = c / s
    dx_hat = dout * gamma
    dvar = np.sum(dx_hat * c, axis=0) * -0.5 / s**3
    dmu = -np.sum(dx_hat / s, axis=0) + dvar * -2.0 * c.mean(axis=0)
    dx = dx_hat / s + dvar * 2.0 * c / n + dmu / n
    return dx, np.sum(dout * x_hat, axis=0), dout.sum(axis=0)


def running(running_mean, running_var, x, momentum):
    return ((1 - momentum) * running_mean + momentum * x.mean(axis=0),
            (1 - momentum) * running_var + momentum * x.var(axis=0, ddof=1))


def test_reference_solutions_pass(capsys):
    assert check_batchnorm_forward.evaluate(forward).status == "pass"
    assert check_batchnorm_backward.evaluate(backward_graph).status == "pass"
    assert check_running_update.evaluate(running).status == "pass"
    check_running_update(running)
    assert capsys.readouterr().out == "[pass] running_update: correct on all 3 test cases.\n"


@pytest.mark.parametrize("checker", [check_batchnorm_forward, check_batchnorm_backward, check_running_update])
def test_not_done_yet(checker):
    def stub(*args):
        raise NotImplementedError("Exercise: replace this line with your code.")

    result = checker.evaluate(stub)
    assert result.status == "not done" and result.message.startswith("[not done]")


@pytest.mark.parametrize("checker", [check_batchnorm_forward, check_batchnorm_backward, check_running_update])
def test_a_crashing_or_shapeless_answer_is_reported(checker):
    def crash(*args):
        raise IndexError("oops")

    assert checker.evaluate(crash).status == "fail"
    assert "shape" in checker.evaluate(lambda *a: np.zeros(7) if checker is check_batchnorm_forward
                                       else (np.zeros(7),) * (3 if checker is check_batchnorm_backward else 2)).message


# --- forward: wrong versions ------------------------------------------------------------------

def forward_variance(x, gamma, beta, eps):
    return gamma * (x - x.mean(axis=0)) / (x.var(axis=0) + eps) + beta


def forward_eps_outside(x, gamma, beta, eps):
    return gamma * (x - x.mean(axis=0)) / (x.std(axis=0) + eps) + beta


def forward_wrong_axis(x, gamma, beta, eps):
    mu = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def forward_unbiased(x, gamma, beta, eps):
    return gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0, ddof=1) + eps) + beta


def forward_no_eps(x, gamma, beta, eps):
    return gamma * (x - x.mean(axis=0)) / x.std(axis=0) + beta


def forward_float32(x, gamma, beta, eps):
    x = x.astype(np.float32)
    return (gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) + beta).astype(np.float32)


@pytest.mark.parametrize("wrong, hint", [
    (forward_no_eps, "eps is missing"),
    (forward_float32, "float64"),
    (forward_variance, "not by the variance"),
    (forward_eps_outside, "eps goes inside the square root"),
    (forward_wrong_axis, "over the examples of the batch"),
    (forward_unbiased, "biased variance"),
])
def test_forward_mistakes_get_their_hint(wrong, hint):
    result = check_batchnorm_forward.evaluate(wrong)
    assert result.status == "fail" and hint in result.hint, result.message


def test_forward_in_place_is_caught():
    def in_place(x, gamma, beta, eps):
        x -= x.mean(axis=0)
        x /= np.sqrt(x.var(axis=0) + eps)
        return gamma * x + beta

    result = check_batchnorm_forward.evaluate(in_place)
    assert result.status == "fail" and "do not modify the inputs" in result.hint


# --- backward: wrong versions -----------------------------------------------------------------

def backward_without(dout, x, gamma, eps, *, mu_branch=True, var_branch=True):
    n = x.shape[0]
    c = x - x.mean(axis=0)
    s = np.sqrt((c**2).mean(axis=0) + eps)
    dx_hat = dout * gamma
    dx = dx_hat / s
    if var_branch:
        dx = dx - c * np.sum(dx_hat * c, axis=0) / (n * s**3)
    if mu_branch:
        dx = dx - np.sum(dx_hat, axis=0) / (n * s)
    return dx, np.sum(dout * c / s, axis=0), dout.sum(axis=0)


def backward_sums_over_features(dout, x, gamma, eps):
    dx, _, _ = backward_graph(dout, x, gamma, eps)
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
    return dx, np.sum(dout * x_hat, axis=1), dout.sum(axis=1)


@pytest.mark.parametrize("wrong, hint", [
    (lambda *a: backward_without(*a, mu_branch=False), "branch through the mean is missing"),
    (lambda *a: backward_without(*a, var_branch=False), "branch through the variance is missing"),
    (lambda *a: backward_without(*a, mu_branch=False, var_branch=False), "both branches are missing"),
    (backward_sums_over_features, "sum over the examples"),
    (lambda dout, x, gamma, eps: backward_without(dout, x, gamma, 0.0), "eps is missing"),
])
def test_backward_mistakes_get_their_hint(wrong, hint):
    result = check_batchnorm_backward.evaluate(wrong)
    assert result.status == "fail" and hint in result.hint, result.message


# --- running averages: wrong versions ---------------------------------------------------------

def running_flipped(running_mean, running_var, x, momentum):
    return (momentum * running_mean + (1 - momentum) * x.mean(axis=0),
            momentum * running_var + (1 - momentum) * x.var(axis=0, ddof=1))


def running_biased(running_mean, running_var, x, momentum):
    return ((1 - momentum) * running_mean + momentum * x.mean(axis=0),
            (1 - momentum) * running_var + momentum * x.var(axis=0))


@pytest.mark.parametrize("wrong, hint", [
    (running_flipped, "the convention is flipped"),
    (running_biased, "UNBIASED batch variance"),
])
def test_running_mistakes_get_their_hint(wrong, hint):
    result = check_running_update.evaluate(wrong)
    assert result.status == "fail" and hint in result.hint, result.message


def test_running_reference_is_torch():
    import torch
    x = np.random.default_rng(3).standard_normal((8, 4))
    bn = torch.nn.BatchNorm1d(4, momentum=0.3).double()
    bn.running_mean[:] = torch.tensor([0.5, -1.0, 0.2, 0.0], dtype=torch.float64)
    bn.train()(torch.tensor(x))
    mean, var = check_running_update.reference(np.array([0.5, -1.0, 0.2, 0.0]), np.ones(4), x, 0.3)
    assert np.allclose(mean, bn.running_mean.numpy(), atol=1e-14) and np.allclose(var, bn.running_var.numpy(), atol=1e-14)
