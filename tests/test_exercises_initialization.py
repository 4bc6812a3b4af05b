"""The initialization chapter's checkers pass the reference and reject each known mistake with its hint."""
import math

import numpy as np
import pytest

from course_lib.exercises import initialization as ex
from course_lib.exercises._core import FAIL, NOT_DONE, PASS


def fans(shape):
    receptive_field = int(np.prod(shape[2:]))
    return shape[1] * receptive_field, shape[0] * receptive_field


def init_scales(fan_in, fan_out):
    he, glorot = math.sqrt(2 / fan_in), math.sqrt(2 / (fan_in + fan_out))
    return {"he_std": he, "glorot_std": glorot, "he_bound": math.sqrt(3) * he, "glorot_bound": math.sqrt(3) * glorot}


def standardize_splits(x_train, x_test):
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (x_train - mean) / std, (x_test - mean) / std


def not_done(*args):
    raise NotImplementedError


@pytest.mark.parametrize("checker, solution", [(ex.check_fans, fans), (ex.check_init_scales, init_scales)])
def test_references_pass_and_unfinished_is_not_done(checker, solution):
    assert checker.evaluate(solution).status == PASS
    assert checker.evaluate(not_done).status == NOT_DONE


def test_standardize_reference_passes():
    assert ex.evaluate_standardize(standardize_splits).status == PASS
    assert ex.evaluate_standardize(not_done).status == NOT_DONE
    assert ex.evaluate_standardize(42).status == FAIL


@pytest.mark.parametrize("wrong, hint", [
    (lambda shape: fans(shape)[::-1], "fan_in is shape[1]"),
    (lambda shape: (shape[1], shape[0]), "receptive field"),
    (lambda shape: (shape[1] * shape[2], shape[0] * shape[2]) if len(shape) > 2 else (shape[1], shape[0]), "k², not k"),
    (lambda shape: (shape[1] * shape[2] ** 2, shape[0] * shape[2] ** 2) if len(shape) > 2 else (shape[1], shape[0]),
     "product of ALL the kernel sizes"),
    (lambda shape: (shape[1] * shape[-1] ** 2, shape[0] * shape[-1] ** 2) if len(shape) > 2 else (shape[1], shape[0]),
     "product of the kernel sizes"),          # rejected by the non-square case, with the generic hint
])
def test_fans_mistakes(wrong, hint):
    result = ex.check_fans.evaluate(wrong)
    assert result.status == FAIL and hint in result.hint


def _scaled(**changes):
    def wrong(fan_in, fan_out):
        out = init_scales(fan_in, fan_out)
        for key, f in changes.items():
            out[key] = f(fan_in, fan_out, out)
        return out
    return wrong


@pytest.mark.parametrize("wrong, hint", [
    (lambda a, b: {"he_std": 2 / a, "glorot_std": 2 / (a + b), "he_bound": math.sqrt(3) * 2 / a,
                   "glorot_bound": math.sqrt(3) * 2 / (a + b)}, "square roots"),
    (_scaled(he_bound=lambda a, b, o: o["he_std"], glorot_bound=lambda a, b, o: o["glorot_std"]), "sqrt(3) times the standard"),
    (_scaled(he_bound=lambda a, b, o: math.sqrt(6) * o["he_std"], glorot_bound=lambda a, b, o: math.sqrt(6) * o["glorot_std"]),
     "not sqrt(6)"),
    (_scaled(he_std=lambda a, b, o: math.sqrt(1 / a), he_bound=lambda a, b, o: math.sqrt(3 / a)), "LeCun"),
    (_scaled(he_std=lambda a, b, o: math.sqrt(2 / b), he_bound=lambda a, b, o: math.sqrt(6 / b)), "not by fan_out"),
    (_scaled(glorot_std=lambda a, b, o: math.sqrt(1 / (a + b)), glorot_bound=lambda a, b, o: math.sqrt(3 / (a + b))),
     "the 2 is missing"),
])
def test_init_scales_mistakes(wrong, hint):
    result = ex.check_init_scales.evaluate(wrong)
    assert result.status == FAIL and hint in result.hint


def test_standardize_mistakes_test_leak_variance_and_sigma_zero():
    def own(x_train, x_test):
        return standardize_splits(x_train, x_train)[0], standardize_splits(x_test, x_test)[0]

    def pooled(x_train, x_test):
        both = np.concatenate([x_train, x_test])
        mean, std = both.mean(axis=0), both.std(axis=0)
        return (x_train - mean) / std, (x_test - mean) / std

    def variance(x_train, x_test):
        mean, var = x_train.mean(axis=0), x_train.var(axis=0)
        var = np.where(var > 0, var, 1.0)
        return (x_train - mean) / var, (x_test - mean) / var

    def sigma_zero(x_train, x_test):
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (x_train - mean) / std, (x_test - mean) / std

    def in_place(x_train, x_test):
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        x_train -= mean
        return x_train / std, (x_test - mean) / std

    def own_mean(x_train, x_test):
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        return (x_train - mean) / std, (x_test - x_test.mean(axis=0)) / std

    def tiny_guard(eps):
        def wrong(x_train, x_test):
            mean, std = x_train.mean(axis=0), x_train.std(axis=0)
            std[std == 0] = eps
            return (x_train - mean) / std, (x_test - mean) / std
        return wrong

    def plus_eps(x_train, x_test):
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
        return (x_train - mean) / (std + 1e-8), (x_test - mean) / (std + 1e-8)

    for wrong, hint in [(own, "TRAINING mean and std"), (pooled, "leaks test information"),
                        (variance, "standard deviation, the square root"), (own_mean, "OWN mean"),
                        (tiny_guard(1e-12), "not by a tiny epsilon"), (tiny_guard(1e-8), "not by a tiny epsilon"),
                        (plus_eps, "do not add an epsilon")]:
        result = ex.evaluate_standardize(wrong)
        assert result.status == FAIL and hint in result.hint, result.message
    result = ex.evaluate_standardize(sigma_zero)
    assert result.status == FAIL and "sigma = 0" in result.message and "sigma = 0" in result.case
    result = ex.evaluate_standardize(in_place)
    assert result.status == FAIL and "modify the inputs" in result.hint


def test_checkers_print_one_line(capsys):
    ex.check_standardize(standardize_splits)
    ex.check_fans(fans)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == ["[pass] standardize_splits: correct on all 2 test cases.", "[pass] fans: correct on all 6 test cases."]
