"""course_lib.gradcheck: centred differences, relative errors and the layer/pair checkers."""
import numpy as np
import pytest

from course_lib import gradcheck, layers, nn


def test_numerical_gradient_of_a_known_function_and_its_order():
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    f = lambda v: np.sum(np.sin(v) * v**2)  # noqa: E731
    exact = np.cos(x) * x**2 + 2 * x * np.sin(x)
    assert gradcheck.relative_error(gradcheck.numerical_gradient(f, x), exact) < 1e-9
    # centred differences are O(h^2): ten times smaller h, about a hundred times smaller error
    coarse = np.max(np.abs(gradcheck.numerical_gradient(f, x, h=1e-2) - exact))
    fine = np.max(np.abs(gradcheck.numerical_gradient(f, x, h=1e-3) - exact))
    assert 50 < coarse / fine < 200
    np.testing.assert_array_equal(x, [[0.3, -1.2], [2.0, 0.5]])  # x untouched


def test_relative_error():
    assert gradcheck.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert gradcheck.relative_error(np.ones(2), -np.ones(2)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="a and b must have the same shape"):
        gradcheck.relative_error(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="h must be in"):
        gradcheck.numerical_gradient(np.sum, np.ones(2), h=0.0)


def test_check_layer_in_both_modes_and_check_pair_names():
    x = np.random.default_rng(0).standard_normal((6, 4))
    bn = nn.BatchNorm1d(4)
    bn.forward(x + 1, "train")  # a pending training pass must not be what an eval check differentiates
    for mode in ("train", "eval"):
        errors = gradcheck.check_layer(bn, x, mode=mode)
        assert set(errors) == {"x", "gamma", "beta"} and max(errors.values()) < 1e-7
    errors = gradcheck.check_pair(layers.linear_forward, layers.linear_backward,
                                  {"x": x, "w": np.ones((3, 4)), "b": np.zeros(3)}, ("x", "w"))
    assert set(errors) == {"x", "w"} and max(errors.values()) < 1e-7


def test_check_pair_bad_arguments():
    with pytest.raises(TypeError, match="inputs must be a non-empty dict"):
        gradcheck.check_pair(layers.relu_forward, layers.relu_backward, [np.ones(2)])
    with pytest.raises(ValueError, match="wrt names 'y'"):
        gradcheck.check_pair(layers.relu_forward, layers.relu_backward, {"x": np.ones(2)}, "y")
    with pytest.raises(ValueError, match="backward must return one gradient per name of wrt"):
        gradcheck.check_pair(layers.linear_forward, lambda g, c: layers.linear_backward(g, c)[0],
                             {"x": np.ones((2, 3)), "w": np.ones((1, 3))})
