"""course_lib.augment: whole-pixel and fractional shifts, rotations, random augmentation; layouts,
no mutation, bad input."""
import numpy as np
import pytest

from course_lib import augment, data


def _images(n=3):
    return np.random.default_rng(0).uniform(0, 1, (n, 8, 8))


def test_integer_shift_moves_pixels_and_fills_zeros():
    img = _images(1)
    out = augment.shift(img, 1, -2)
    np.testing.assert_allclose(out[0, 1:, :-2], img[0, :-1, 2:], atol=1e-15)
    assert np.all(out[0, 0, :] == 0) and np.all(out[0, :, -2:] == 0)
    flat = augment.shift(img.reshape(1, 64), 1, -2)
    assert flat.shape == (1, 64)
    np.testing.assert_allclose(flat.reshape(1, 8, 8), out)


def test_per_image_shifts_and_no_mutation():
    img = _images(2)
    before = img.copy()
    out = augment.shift(img, np.array([0, 1]), np.array([0, 0]))
    np.testing.assert_allclose(out[0], img[0], atol=1e-15)
    np.testing.assert_allclose(out[1, 1:], img[1, :-1], atol=1e-15)
    np.testing.assert_array_equal(img, before)


def test_rotation_by_multiples_of_90_degrees_is_exact():
    img = _images()
    np.testing.assert_allclose(augment.rotate(img, 0), img, atol=1e-12)
    np.testing.assert_allclose(augment.rotate(img, 90), np.rot90(img, 1, axes=(1, 2)), atol=1e-12)
    np.testing.assert_allclose(augment.rotate(img, -90), np.rot90(img, -1, axes=(1, 2)), atol=1e-12)
    np.testing.assert_allclose(augment.rotate(img, 180), img[:, ::-1, ::-1], atol=1e-12)


def test_small_rotation_keeps_the_image_close_and_mass_roughly_constant():
    split = data.load_digits()
    x = split.x_train[:50]
    rotated = augment.rotate(x, 10)
    assert rotated.shape == x.shape
    assert np.all(np.abs(rotated.sum(axis=1) / x.sum(axis=1) - 1) < 0.2)
    assert 0 < np.mean(np.abs(rotated - x)) < np.mean(np.abs(augment.rotate(x, 45) - x))


def test_random_augment_is_seeded():
    x = data.load_digits().x_train[:20]
    a = augment.random_augment(x, rng=1)
    np.testing.assert_array_equal(a, augment.random_augment(x, rng=1))
    assert a.shape == x.shape and not np.allclose(a, x)
    with pytest.raises(ValueError, match="images must have shape"):
        augment.rotate(np.zeros((2, 7)), 10)


@pytest.mark.parametrize("call, error, message", [
    (lambda: augment.random_augment(np.zeros((2, 64)), rng="x"), TypeError, "rng must be a numpy.random.Generator or an integer seed"),
    (lambda: augment.random_augment(np.zeros(5), rng=0), ValueError, "images must have shape \\(N, 8, 8\\) or \\(N, 64\\), got \\(5,\\)"),
    (lambda: augment.shift(np.zeros((2, 64)), "a", 0), TypeError, "dy must be a number or an array of numbers, got str"),
    (lambda: augment.shift(np.zeros((2, 64)), [1, 2, 3], 0), ValueError, "dy must be a number or an array of shape \\(2,\\) .* got shape \\(3,\\)"),
    (lambda: augment.rotate(np.zeros((2, 64)), np.nan), ValueError, "degrees must contain only finite numbers"),
])
def test_bad_arguments_name_themselves_and_what_was_given(call, error, message):
    with pytest.raises(error, match=message):
        call()
