"""course_lib.ewma: closed forms, the unrolled sum, pandas agreement, properties, bad input."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.signal import lfilter

from course_lib.ewma import (effective_window, ewma, ewma_update, ewma_weights, lag, running_average,
                             running_mean, start_up_bias)

rhos = st.floats(min_value=0.0, max_value=0.99)
series = arrays(np.float64, st.integers(1, 60), elements=st.floats(-1e3, 1e3))


# --- tier 1: closed forms ------------------------------------------------------------------

@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9, 0.999])
def test_constant_series_plain_and_corrected(rho):
    c, t = 3.5, np.arange(1, 41)
    assert np.allclose(ewma(np.full(40, c), rho), (1 - rho**t) * c, rtol=1e-12)
    assert np.allclose(ewma(np.full(40, c), rho, bias_correction=True), c, rtol=1e-12)


def test_first_steps_of_source_001_example():
    # rho = 0.95: S_1 = 0.05 y1, S_2 = 0.0475 y1 + 0.05 y2, corrected by 1 - 0.95^2 = 0.0975.
    y1, y2 = 10.0, 12.0
    s = ewma([y1, y2], 0.95)
    assert s[0] == pytest.approx(0.05 * y1)
    assert s[1] == pytest.approx(0.0475 * y1 + 0.05 * y2)
    corrected = ewma([y1, y2], 0.95, bias_correction=True)
    assert corrected[0] == pytest.approx(y1)
    assert corrected[1] == pytest.approx((0.0475 * y1 + 0.05 * y2) / 0.0975)


def test_rho_zero_is_identity():
    y = np.array([3.0, -1.0, 2.5])
    assert np.array_equal(ewma(y, 0.0), y)


@given(series, rhos)
def test_unrolled_sum_equals_recursion(y, rho):
    t = len(y)
    unrolled = np.array([np.dot(ewma_weights(rho, s), y[:s][::-1]) for s in range(1, t + 1)])
    assert np.allclose(ewma(y, rho), unrolled, rtol=1e-9, atol=1e-9)


def test_weights_sum_and_correction():
    for rho, t in [(0.5, 4), (0.9, 10), (0.95, 30)]:
        assert ewma_weights(rho, t).sum() == pytest.approx(1 - rho**t)
        assert ewma_weights(rho, t, bias_correction=True).sum() == pytest.approx(1.0)
    assert np.allclose(ewma_weights(0.5, 4), [0.5, 0.25, 0.125, 0.0625])


def test_gamma_t_running_average_is_the_arithmetic_mean_exactly():
    c = np.array([4.0, 8.0, 6.0, 2.0, 5.0, 11.0])
    assert np.array_equal(running_mean(c), [4.0, 6.0, 6.0, 5.0, 5.0, 6.0])
    rng = np.random.default_rng(0)
    c = rng.normal(size=(500, 3))
    assert np.allclose(running_mean(c), np.cumsum(c, axis=0) / np.arange(1, 501)[:, None], rtol=1e-12)


def test_constant_gamma_running_average_is_the_ewma():
    y = np.random.default_rng(1).normal(size=30)
    assert np.allclose(running_average(y, np.full(30, 0.8)), ewma(y, 0.8), rtol=1e-14)


def test_bias_corrected_ewma_is_a_running_average_with_the_derived_gamma():
    # Exercise 1.5 of the chapter: gamma_t = rho (1 - rho^(t-1)) / (1 - rho^t).
    rho, t = 0.9, np.arange(1, 51)
    gammas = rho * (1 - rho ** (t - 1)) / (1 - rho**t)
    y = np.random.default_rng(2).normal(size=50)
    assert np.allclose(running_average(y, gammas), ewma(y, rho, bias_correction=True), rtol=1e-12)


def test_window_lag_and_bias_formulas():
    assert effective_window(0.9) == pytest.approx(10.0)
    assert lag(0.9) == pytest.approx(9.0)
    assert np.allclose(start_up_bias(0.9, np.array([1, 2, 3])), [0.9, 0.81, 0.729])
    # The lag is the mean age of the weights, and the steady-state delay on a ramp.
    k = np.arange(5000)
    assert np.sum(k * ewma_weights(0.9, 5000)) == pytest.approx(lag(0.9), rel=1e-9)
    t = np.arange(1, 501, dtype=float)
    assert 2 * t[-1] - ewma(2 * t, 0.9)[-1] == pytest.approx(2 * lag(0.9), rel=1e-9)


def test_alternating_series_is_damped_by_the_filter_gain():
    rho = 0.9
    alternating = (-1.0) ** np.arange(1, 401)
    assert abs(ewma(alternating, rho)[-1]) == pytest.approx((1 - rho) / (1 + rho), rel=1e-9)


def test_is_the_first_order_iir_filter():
    y = np.random.default_rng(3).normal(size=300)
    assert np.allclose(ewma(y, 0.7), lfilter([0.3], [1, -0.7], y), rtol=1e-12, atol=1e-14)


def test_series_of_arrays_is_averaged_elementwise():
    y = np.random.default_rng(4).normal(size=(20, 3, 2))
    out = ewma(y, 0.8, bias_correction=True)
    assert out.shape == y.shape
    for i in range(3):
        for j in range(2):
            assert np.allclose(out[:, i, j], ewma(y[:, i, j], 0.8, bias_correction=True))


def test_update_step_matches_series_and_does_not_mutate():
    average, value = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    before = average.copy()
    new = ewma_update(average, value, 0.75)
    assert np.allclose(new, [1.5, 1.25])
    assert np.array_equal(average, before) and new is not average


def test_update_step_keeps_the_inputs_float_dtype():
    """float32 training stays float32 (its EWMA state too); anything else is computed in float64."""
    a32, y32 = np.array([1.0, 2.0], np.float32), np.array([3.0, -1.0], np.float32)
    new = ewma_update(a32, y32, 0.75)
    assert new.dtype == np.float32
    np.testing.assert_allclose(new, ewma_update(a32.astype(np.float64), y32.astype(np.float64), 0.75), rtol=1e-7)
    assert ewma_update(a32, y32.astype(np.float64), 0.75).dtype == np.float64
    assert ewma_update(np.array([1, 2]), np.array([3, 4]), 0.5).dtype == np.float64
    scalar = ewma_update(0.0, 1.0, 0.9)
    assert scalar.dtype == np.float64 and scalar.shape == () and scalar == pytest.approx(0.1)


# --- tier 3: parity with pandas ---------------------------------------------------------------

@given(series, st.floats(min_value=0.01, max_value=0.99))
@settings(max_examples=60)
def test_bias_corrected_matches_pandas_ewm_adjust_true(y, rho):
    # pandas' adjust=True divides by the sum of the weights used: exactly S_t / (1 - rho^t).
    expected = pd.Series(y).ewm(alpha=1 - rho, adjust=True).mean().to_numpy()
    assert np.allclose(ewma(y, rho, bias_correction=True), expected, rtol=1e-9, atol=1e-9)


def test_plain_matches_pandas_adjust_false_with_a_zero_prepended():
    y = np.random.default_rng(5).normal(size=40)
    expected = pd.Series(np.r_[0.0, y]).ewm(alpha=0.25, adjust=False).mean().to_numpy()[1:]
    assert np.allclose(ewma(y, 0.75), expected, rtol=1e-12)


# --- tier 4: properties ------------------------------------------------------------------------

@given(series, rhos)
def test_corrected_average_stays_within_the_range_of_the_data(y, rho):
    out = ewma(y, rho, bias_correction=True)
    scale = 1e-9 * max(1.0, np.abs(y).max())
    assert np.all(out >= y.min() - scale) and np.all(out <= y.max() + scale)


@given(series, rhos, st.floats(-5, 5), st.floats(-5, 5))
def test_linear_in_the_data(y, rho, a, b):
    z = np.random.default_rng(0).normal(size=y.shape)
    assert np.allclose(ewma(a * y + b * z, rho), a * ewma(y, rho) + b * ewma(z, rho), rtol=1e-9, atol=1e-6)


@given(series, rhos)
def test_input_not_mutated(y, rho):
    before = y.copy()
    ewma(y, rho, bias_correction=True)
    assert np.array_equal(y, before)


# --- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("rho", [-0.1, 1.0, 1.5])
def test_rho_out_of_range(rho):
    with pytest.raises(ValueError, match=r"rho must be in \[0, 1\)"):
        ewma([1.0, 2.0], rho)


@pytest.mark.parametrize("rho", [float("nan"), float("inf")])
def test_rho_not_finite(rho):
    with pytest.raises(ValueError, match="rho must be finite"):
        ewma([1.0], rho)


@pytest.mark.parametrize("rho", ["0.9", None, True, [0.9]])
def test_rho_wrong_type(rho):
    with pytest.raises(TypeError, match="rho must be a real number"):
        ewma([1.0], rho)


def test_empty_series():
    with pytest.raises(ValueError, match="y must have at least 1 entries"):
        ewma([], 0.9)


def test_scalar_series():
    with pytest.raises(ValueError, match="y must be a series"):
        ewma(3.0, 0.9)


@pytest.mark.parametrize("bad", [[1.0, float("nan")], [float("inf")]])
def test_non_finite_series(bad):
    with pytest.raises(ValueError, match="y must contain only finite numbers"):
        ewma(bad, 0.9)


@pytest.mark.parametrize("bad", ["abc", {"a": 1}, None, [[1.0], [2.0, 3.0]], ["a", "b"], [1 + 2j]])
def test_series_wrong_type(bad):
    with pytest.raises(TypeError, match="^y must"):
        ewma(bad, 0.9)


def test_bias_correction_must_be_bool():
    with pytest.raises(TypeError, match="bias_correction must be True or False"):
        ewma([1.0], 0.9, bias_correction=1)


def test_other_functions_validate():
    with pytest.raises(ValueError, match="t must be an integer in"):
        ewma_weights(0.9, 0)
    with pytest.raises(TypeError, match="t must be an integer"):
        ewma_weights(0.9, 2.5)
    with pytest.raises(ValueError, match="gammas must have shape"):
        running_average([1.0, 2.0], [0.5])
    with pytest.raises(ValueError, match=r"gammas must lie in \[0, 1\], got 1.5 at index 1"):
        running_average([1.0, 2.0], [0.5, 1.5])
    with pytest.raises(ValueError, match="t must be an integer .* got 0"):
        start_up_bias(0.9, 0)
    with pytest.raises(TypeError, match="t must be an integer .* got str 'a'"):
        start_up_bias(0.9, "a")
    with pytest.raises(ValueError, match="rho must be in"):
        effective_window(1.0)
    with pytest.raises(ValueError, match="rho must be in"):
        ewma_update(0.0, 1.0, -0.5)
    with pytest.raises(TypeError, match="average and value must be real numbers .* got str and float"):
        ewma_update("a", 1.0, 0.5)
    with pytest.raises(TypeError, match=r"average and value must be real numbers .* \(dtype complex128\)"):
        ewma_update(np.zeros(2), np.ones(2) * 1j, 0.5)
    with pytest.raises(TypeError, match="got dict and float"):
        ewma_update({"w": 1.0}, 1.0, 0.5)
    with pytest.raises(TypeError, match="got float and NoneType"):
        ewma_update(0.0, None, 0.5)
