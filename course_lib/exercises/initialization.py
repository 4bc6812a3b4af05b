"""Checkers for the exercises of the chapter "Initialization and data preprocessing".

Signatures (every function returns new values and leaves its inputs alone):

* ``fans(shape)`` -> ``(fan_in, fan_out)`` for a dense ``(out, in)`` or conv ``(C_out, C_in, k_h, k_w)``
  (or 1-D ``(C_out, C_in, k)``) weight
* ``init_scales(fan_in, fan_out)`` -> ``{"he_std", "glorot_std", "he_bound", "glorot_bound"}``:
  He's and Glorot's standard deviations for normal weights and the bounds ``a`` of the uniform
  ``U(-a, a)`` with the same variance
* ``standardize_splits(x_train, x_test)`` -> ``(z_train, z_test)``, both z-scored with the
  training split's mean and standard deviation (1/N), constant features divided by 1
"""
from __future__ import annotations

import math

import numpy as np

from course_lib import data, init
from course_lib.exercises._core import Case, Checker, Mistake

# --------------------------------------------------------------------------------------------
# Fans
# --------------------------------------------------------------------------------------------

check_fans = Checker(
    "fans",
    reference=lambda shape: init.compute_fans(shape),
    cases=(
        Case("dense layer 64 -> 10, weight (10, 64)", ((10, 64),)),
        Case("conv 3 -> 64 channels, 3x3 kernel, weight (64, 3, 3, 3)", ((64, 3, 3, 3),)),
        Case("conv 64 -> 128 channels, 5x5 kernel", ((128, 64, 5, 5),)),
        Case("1x1 conv 256 -> 32 channels", ((32, 256, 1, 1),)),
        Case("conv 8 -> 16 channels, non-square 3x5 kernel, weight (16, 8, 3, 5)", ((16, 8, 3, 5),)),
        Case("1-D conv 8 -> 16 channels, kernel 7, weight (16, 8, 7)", ((16, 8, 7),)),
    ),
    mistakes=(
        Mistake("the weight is stored (out, in), as in torch: fan_in is shape[1], fan_out is shape[0] "
                "(source 003's numpy code stores the transpose).",
                lambda shape: (shape[0] * math.prod(shape[2:]), shape[1] * math.prod(shape[2:]))),
        Mistake("a conv unit sees k x k pixels of every input channel: multiply both fans by the "
                "receptive field k_h * k_w (source 003: filter_size² * input_channels).",
                lambda shape: (shape[1], shape[0])),
        Mistake("the receptive field is k_h * k_w = k², not k.",
                lambda shape: (shape[1] * shape[2], shape[0] * shape[2]) if len(shape) > 2 else (shape[1], shape[0])),
        Mistake("the receptive field is the product of ALL the kernel sizes, k_h * k_w (a 3x5 kernel sees "
                "15 pixels, a 1-D kernel of 7 sees 7), not the first size squared.",
                lambda shape: (shape[1] * shape[2] ** 2, shape[0] * shape[2] ** 2) if len(shape) > 2
                else (shape[1], shape[0])),
    ),
    generic_hint="fan_in = shape[1] * (product of the kernel sizes), fan_out = shape[0] * (the same product).",
)


# --------------------------------------------------------------------------------------------
# He and Glorot scales
# --------------------------------------------------------------------------------------------

def _scales(fan_in, fan_out):
    he_std = init.calculate_gain("relu") / math.sqrt(fan_in)
    glorot_std = math.sqrt(2.0 / (fan_in + fan_out))
    # U(-a, a) has variance a^2 / 3: the bound with the same variance is sqrt(3) * std
    return {"he_std": he_std, "glorot_std": glorot_std,
            "he_bound": math.sqrt(3.0) * he_std, "glorot_bound": math.sqrt(3.0) * glorot_std}


def _scales_variant(fan_in, fan_out, *, he_var=None, glorot_var=None, bound_factor=math.sqrt(3.0), variance=False):
    he_var = 2.0 / fan_in if he_var is None else he_var(fan_in, fan_out)
    glorot_var = 2.0 / (fan_in + fan_out) if glorot_var is None else glorot_var(fan_in, fan_out)
    he, glorot = (he_var, glorot_var) if variance else (math.sqrt(he_var), math.sqrt(glorot_var))
    return {"he_std": he, "glorot_std": glorot, "he_bound": bound_factor * he, "glorot_bound": bound_factor * glorot}


check_init_scales = Checker(
    "init_scales",
    reference=_scales,
    cases=(
        Case("fan_in 500, fan_out 500 (source 003's layers)", (500, 500)),
        Case("fan_in 64, fan_out 10", (64, 10)),
        Case("fan_in 27, fan_out 576 (a 3x3 conv, 3 -> 64 channels)", (27, 576)),
    ),
    mistakes=(
        Mistake("return standard deviations, the square roots of the variances 2/fan_in and "
                "2/(fan_in + fan_out).", lambda a, b: _scales_variant(a, b, variance=True)),
        Mistake("U(-a, a) has variance a²/3, so the bound is sqrt(3) times the standard deviation, "
                "not the standard deviation itself.", lambda a, b: _scales_variant(a, b, bound_factor=1.0)),
        Mistake("the bound is sqrt(3) times the std (variance a²/3), not sqrt(6) times.",
                lambda a, b: _scales_variant(a, b, bound_factor=math.sqrt(6.0))),
        Mistake("He's variance is 2/fan_in (a ReLU zeroes half of its input); 1/fan_in is LeCun's, "
                "the one source 003 calls Xavier.", lambda a, b: _scales_variant(a, b, he_var=lambda i, o: 1.0 / i)),
        Mistake("He's variance divides by fan_in (the forward pass), not by fan_out.",
                lambda a, b: _scales_variant(a, b, he_var=lambda i, o: 2.0 / o)),
        Mistake("Glorot's variance is 2/(fan_in + fan_out), the harmonic mean of 1/fan_in and 1/fan_out; "
                "the 2 is missing.", lambda a, b: _scales_variant(a, b, glorot_var=lambda i, o: 1.0 / (i + o))),
        Mistake("Glorot's variance averages fan_in and fan_out: 2/(fan_in + fan_out), not 1/fan_in "
                "(which is LeCun's).", lambda a, b: _scales_variant(a, b, glorot_var=lambda i, o: 1.0 / i)),
    ),
    generic_hint="he_std = sqrt(2/fan_in), glorot_std = sqrt(2/(fan_in + fan_out)), each bound = sqrt(3) * std.",
)


# --------------------------------------------------------------------------------------------
# Standardization with training statistics
# --------------------------------------------------------------------------------------------

def _standardize_splits(x_train, x_test):
    z_train, mean, std = data.standardize(x_train)
    return z_train, data.standardize(x_test, mean, std)[0]


def _own_statistics(x_train, x_test):
    return data.standardize(x_train)[0], data.standardize(x_test)[0]


def _pooled_statistics(x_train, x_test):
    _, mean, std = data.standardize(np.concatenate([x_train, x_test]))
    return data.standardize(x_train, mean, std)[0], data.standardize(x_test, mean, std)[0]


def _by_variance(x_train, x_test):
    mean, var = x_train.mean(axis=0), x_train.var(axis=0)
    var = np.where(var > 0, var, 1.0)
    return (x_train - mean) / var, (x_test - mean) / var


def _epsilon_for_constant(eps):
    def wrong(x_train, x_test):
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
        std = np.where(std > 0, std, eps)
        return (x_train - mean) / std, (x_test - mean) / std
    return wrong


def _epsilon_added(x_train, x_test):
    mean, std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-8
    return (x_train - mean) / std, (x_test - mean) / std


def _own_mean_train_std(x_train, x_test):
    _, mean, std = data.standardize(x_train)
    return (x_train - mean) / std, (x_test - x_test.mean(axis=0)) / std


def _unbiased(x_train, x_test):
    _, mean, std = data.standardize(x_train, ddof=1)
    return data.standardize(x_train, mean, std)[0], data.standardize(x_test, mean, std)[0]


_rng = np.random.default_rng(11)
_TRAIN = np.round(_rng.normal([5.0, -2.0, 0.5], [3.0, 0.5, 0.01], size=(12, 3)), 4)
_TEST = np.round(_rng.normal([6.0, -1.0, 0.5], [2.0, 1.0, 0.02], size=(5, 3)), 4)
_PIXELS_TRAIN = np.column_stack([np.zeros(10), np.round(_rng.uniform(0, 16, size=(10, 2)))])  # column 0: always blank
_PIXELS_TEST = np.column_stack([[0.0, 0.0, 3.0, 0.0], np.round(_rng.uniform(0, 16, size=(4, 2)))])

_checker_standardize = Checker(
    "standardize_splits",
    reference=_standardize_splits,
    cases=(
        Case("three features; the test split comes from a shifted distribution", (_TRAIN, _TEST)),
        Case("pixels, the first always 0 in the training split (sigma = 0)", (_PIXELS_TRAIN, _PIXELS_TEST)),
    ),
    mistakes=(
        Mistake("the test split must be transformed with the TRAINING mean and std: computing them on the "
                "test split itself uses information a deployed model never has, and maps the two splits "
                "differently.", _own_statistics),
        Mistake("compute the mean and std on the training split only: pooling the test split into them "
                "leaks test information into the preprocessing.", _pooled_statistics),
        Mistake("the test split is centred with its OWN mean: use the training mean too (a deployed model "
                "sees one input at a time and has only the training statistics).", _own_mean_train_std),
        Mistake("a constant feature (sigma = 0) must be divided by 1, not by a tiny epsilon: a test value "
                "that differs from the constant training value is then multiplied by 1/epsilon.",
                _epsilon_for_constant(1e-12)),
        Mistake("a constant feature (sigma = 0) must be divided by 1, not by a tiny epsilon: a test value "
                "that differs from the constant training value is then multiplied by 1/epsilon.",
                _epsilon_for_constant(1e-8)),
        Mistake("do not add an epsilon to every std: it changes every feature slightly and turns a constant "
                "feature's test deviation into a huge number; replace sigma = 0 by 1 instead.", _epsilon_added),
        Mistake("divide by the standard deviation, the square root of the variance.", _by_variance),
        Mistake("use the 1/N standard deviation (numpy's default ddof=0, as batch norm and scikit-learn), "
                "not 1/(N-1).", _unbiased),
    ),
    generic_hint="mean and std (ddof=0) of x_train along axis 0; std = 1 where it is 0; "
                 "return ((x_train - mean) / std, (x_test - mean) / std).",
)


def _finite(student):
    """The student's function, raising a readable error when its result is not finite (a division
    by a zero standard deviation), which the checker then reports."""
    def wrapped(x_train, x_test):
        result = student(x_train, x_test)
        try:
            finite = all(np.all(np.isfinite(np.asarray(part, dtype=np.float64))) for part in result)
        except (TypeError, ValueError):
            return result  # the checker reports the wrong type itself
        if not finite:
            raise FloatingPointError("the result contains NaN or inf. Hint: a feature that is constant in "
                                     "the training split has sigma = 0; divide it by 1 instead (it is 0 "
                                     "after centring anyway), as course_lib.data.standardize and "
                                     "scikit-learn do.")
        return result
    return wrapped


def check_standardize(student) -> None:
    """Check ``standardize_splits(x_train, x_test)``; prints one line."""
    print(evaluate_standardize(student).message)


def evaluate_standardize(student):
    """The :class:`~course_lib.exercises._core.CheckResult` of :func:`check_standardize`."""
    if not callable(student):
        return _checker_standardize.evaluate(student)
    return _checker_standardize.evaluate(_finite(student))
