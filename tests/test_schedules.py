"""course_lib.schedules: the formulas, torch's schedulers, and the Robbins–Monro classification."""
import math

import numpy as np
import pytest
import torch

from course_lib import schedules as S

T = np.arange(0, 400)


@pytest.mark.parametrize("schedule, formula", [
    (S.constant(0.3), lambda t: 0.3),
    (S.step_decay(0.1, 7, gamma=0.5), lambda t: 0.1 * 0.5 ** (t // 7)),
    (S.step_decay(0.1, milestones=(30, 60, 90)), lambda t: 0.1 * 0.1 ** sum(t >= m for m in (30, 60, 90))),
    (S.exponential(0.2, 0.01), lambda t: 0.2 * math.exp(-0.01 * t)),
    (S.inverse_time(0.2, 0.05), lambda t: 0.2 / (1 + 0.05 * t)),
    (S.cosine(0.2, 300), lambda t: 0.5 * 0.2 * (1 + math.cos(math.pi * t / 300)) if t <= 300 else 0.0),
    (S.cosine(0.2, 300, floor=0.02), lambda t: 0.02 + 0.5 * 0.18 * (1 + math.cos(math.pi * min(t, 300) / 300))),
    (S.linear(0.2, 250), lambda t: 0.2 * (1 - t / 250) if t <= 250 else 0.0),
    (S.linear_to_floor(0.2, 100, 0.002), lambda t: 0.2 - t / 100 * (0.2 - 0.002) if t <= 100 else 0.002),
    (S.inverse_sqrt(0.2), lambda t: 0.2 / math.sqrt(t + 1)),
    (S.warmup(S.linear(0.2, 250), 50), lambda t: 0.2 * t / 50 if t < 50 else 0.2 * (1 - min(t - 50, 250) / 250)),
])
def test_schedule_matches_its_formula_scalar_and_vectorised(schedule, formula):
    expected = np.array([formula(int(t)) for t in T])
    np.testing.assert_allclose(schedule(T), expected, rtol=1e-12, atol=1e-15)
    assert isinstance(schedule(7), float) and schedule(7) == pytest.approx(formula(7), rel=1e-12, abs=1e-15)


def _torch_lrs(make_scheduler, steps, lr=0.1):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make_scheduler(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return np.array(out)


@pytest.mark.parametrize("ours, make", [
    (S.step_decay(0.1, 10, gamma=0.5), lambda o: torch.optim.lr_scheduler.StepLR(o, 10, gamma=0.5)),
    (S.step_decay(0.1, milestones=(30, 60, 90)),
     lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [30, 60, 90], gamma=0.1)),
    (S.exponential(0.1, 0.02), lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=math.exp(-0.02))),
    (S.cosine(0.1, 80, floor=0.001), lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 80, eta_min=0.001)),
])
def test_same_rates_as_torch_schedulers(ours, make):
    steps = 81 if ours.name == "cosine" else 120  # torch's cosine goes back up after T; ours stays at the floor
    np.testing.assert_allclose(ours(np.arange(steps)), _torch_lrs(make, steps), rtol=1e-9, atol=1e-15)


def test_resnet_milestones_and_source_004_floor():
    lr = S.step_decay(0.1, milestones=(30, 60, 90))
    assert lr(29) == 0.1 and lr(30) == pytest.approx(0.01) and lr(90) == pytest.approx(1e-4)
    floor = S.linear_to_floor(1.0, tau=100, floor=0.01)
    assert floor(0) == 1.0 and floor(100) == pytest.approx(0.01) and floor(10**6) == pytest.approx(0.01)


def test_inverse_sqrt_is_the_sources_sequence_shifted_by_one():
    """003 writes a0 / sqrt(t), undefined at t = 0; ours at t is the source's at t + 1."""
    t = np.arange(50)
    np.testing.assert_allclose(S.inverse_sqrt(0.5)(t), 0.5 / np.sqrt(t + 1))


def test_warmup_rises_linearly_from_zero_and_hands_over():
    lr = S.warmup(S.cosine(1.0, 100), warmup_steps=10)
    np.testing.assert_allclose(lr(np.arange(10)), np.arange(10) / 10)
    assert lr(10) == 1.0 and lr(60) == pytest.approx(0.5) and lr(110) == pytest.approx(0.0, abs=1e-15)


# ------------------------------------------------------------------ Robbins–Monro

ALL = {
    "constant": S.constant(0.1),
    "step_every_k": S.step_decay(0.1, 50, gamma=0.5),
    "step_milestones": S.step_decay(0.1, milestones=(30, 60, 90)),
    "exponential": S.exponential(0.1, 0.001),
    "inverse_time": S.inverse_time(0.1, 0.01),
    "cosine": S.cosine(0.1, 1000),
    "cosine_floor": S.cosine(0.1, 1000, floor=0.001),
    "linear": S.linear(0.1, 1000),
    "linear_to_floor": S.linear_to_floor(0.1, 1000, 0.001),
    "inverse_sqrt": S.inverse_sqrt(0.1),
    "warmup_inverse_time": S.warmup(S.inverse_time(0.1, 0.01), 100),
}
# (sum diverges, sum of squares converges), derived by hand
EXPECTED = {
    "constant": (True, False), "step_every_k": (False, True), "step_milestones": (True, False),
    "exponential": (False, True), "inverse_time": (True, True), "cosine": (False, True),
    "cosine_floor": (True, False), "linear": (False, True), "linear_to_floor": (True, False),
    "inverse_sqrt": (True, False), "warmup_inverse_time": (True, True),
}


@pytest.mark.parametrize("name", sorted(ALL))
def test_robbins_monro_classification(name):
    result = S.robbins_monro(ALL[name])
    assert (result.sum_diverges, result.sum_of_squares_converges) == EXPECTED[name]
    assert result.meets == (name in ("inverse_time", "warmup_inverse_time"))
    assert result.reason


def _grows(partial, n=10**5):
    """Numeric evidence of divergence: over the last decade the partial sum still grows by >= 1%."""
    return partial[10 * n - 1] - partial[n - 1] > 0.01 * partial[n - 1]


@pytest.mark.parametrize("name", sorted(ALL))
def test_partial_sums_agree_with_the_analytic_classification(name):
    sums, squares = S.partial_sums(ALL[name], 10**6)
    assert sums.shape == squares.shape == (10**6,)
    assert _grows(sums) == ALL[name].robbins_monro.sum_diverges
    assert _grows(squares) != ALL[name].robbins_monro.sum_of_squares_converges


def test_partial_sums_by_hand():
    sums, squares = S.partial_sums(S.inverse_time(1.0, 1.0), 4)
    np.testing.assert_allclose(sums, np.cumsum([1, 1 / 2, 1 / 3, 1 / 4]))
    np.testing.assert_allclose(squares, np.cumsum([1, 1 / 4, 1 / 9, 1 / 16]))


def test_degenerate_parameters_are_classified_too():
    assert S.exponential(0.1, 0.0).robbins_monro.sum_diverges            # k = 0: constant
    assert not S.inverse_time(0.1, 0.0).robbins_monro.meets
    assert not S.step_decay(0.1, 5, gamma=1.0).robbins_monro.sum_of_squares_converges
    assert not S.constant(0.0).robbins_monro.sum_diverges


# ------------------------------------------------------------------ validation

@pytest.mark.parametrize("call, error, name", [
    (lambda: S.constant(-1.0), ValueError, "lr"),
    (lambda: S.step_decay(0.1), ValueError, "step_size and milestones, got step_size=None and milestones=None"),
    (lambda: S.step_decay(0.1, 10, milestones=(5,)), ValueError, "step_size and milestones, got step_size=10 and milestones=\\(5,\\)"),
    (lambda: S.step_decay(0.1, 0), ValueError, "step_size"),
    (lambda: S.step_decay(0.1, milestones=(60, 30)), ValueError, "milestones"),
    (lambda: S.step_decay(0.1, 10, gamma=1.5), ValueError, "gamma"),
    (lambda: S.exponential(0.1, -1.0), ValueError, "k"),
    (lambda: S.cosine(0.1, 0), ValueError, "total_steps"),
    (lambda: S.cosine(0.1, 10, floor=0.5), ValueError, "floor"),
    (lambda: S.linear(0.1, 2.5), TypeError, "total_steps"),
    (lambda: S.linear_to_floor(0.1, 10, -0.1), ValueError, "floor"),
    (lambda: S.warmup(lambda t: 0.1, 10), TypeError, "schedule"),
    (lambda: S.warmup(S.constant(0.1), 0), ValueError, "warmup_steps"),
    (lambda: S.constant(0.1)(-1), ValueError, "t must be >= 0"),
    (lambda: S.constant(0.1)("3"), TypeError, "t must be a step count"),
    (lambda: S.partial_sums(S.constant(0.1), 0), ValueError, "horizon"),
    (lambda: S.partial_sums(lambda t: 0.1, 5), ValueError, "schedule must map an array of 5 step counts to 5 rates, got shape \\(\\)"),
    (lambda: S.constant(-1.0), ValueError, "lr must be in \\[0, inf\\], got -1"),
    (lambda: S.cosine(0.1, 10, floor=0.5), ValueError, "floor must be in \\[0, 0.1\\], got 0.5"),
])
def test_bad_arguments_name_themselves(call, error, name):
    with pytest.raises(error, match=name):
        call()
