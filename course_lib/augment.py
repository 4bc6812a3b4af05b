r"""Data augmentation for the 8x8 digit images, in numpy (chapter "Regularization").

Source 004: "in object recognition, we may generate new input images by rotating/translating the
existing ones". A digit shifted by a pixel or rotated by a few degrees is still the same digit, so
these transformations add plausible training examples.

Images are ``(N, 8, 8)`` arrays or flattened rows ``(N, 64)`` (the layout of
``course_lib.data.load_digits``); every function returns the same layout it was given, as a new
array. Pixels that come from outside the image are 0 (background).
"""
from __future__ import annotations

import numpy as np

from course_lib import _validate

__all__ = ["shift", "rotate", "random_augment"]


def _as_images(images, side):
    images = _validate.array("images", images)
    flat = images.ndim == 2 and images.shape[1] == side * side
    if flat:
        images = images.reshape(-1, side, side)
    if images.ndim != 3 or images.shape[1:] != (side, side):
        raise ValueError(f"images must have shape (N, {side}, {side}) or (N, {side * side}), got {images.shape}")
    return images, flat


def _per_image(name, value, n):
    value = _validate.array(name, value)  # finite real numbers
    if value.ndim == 0:
        value = np.full(n, float(value))
    if value.shape != (n,):
        raise ValueError(f"{name} must be a number or an array of shape ({n},) (one per image), got shape {value.shape}")
    return value


def _sample(images, rows, cols):
    r"""Bilinear interpolation of ``images`` (N, H, W) at real coordinates ``rows``, ``cols`` (N, H, W); 0 outside.

    The value at (r, c) is the sum over the four pixels around it, weighted by
    :math:`(1 - f_r)(1 - f_c)`, :math:`(1 - f_r) f_c`, :math:`f_r (1 - f_c)` and :math:`f_r f_c`
    with :math:`f = r - \lfloor r \rfloor`. The pixels are read from the images on a zero frame
    two pixels wide, so a corner outside the image reads 0 (a corner farther out is moved onto the
    frame: its weight stays what it was, its value 0); one gather per corner, for all images at once.
    """
    n, h, w = images.shape
    r0, c0 = np.floor(rows).astype(int), np.floor(cols).astype(int)
    fr, fc = rows - r0, cols - c0
    framed = np.zeros((n, h + 4, w + 4), dtype=images.dtype)
    framed[:, 2:h + 2, 2:w + 2] = images
    width = w + 4
    # index of each top-left corner in the framed images, flattened
    top_left = ((np.arange(n) * (h + 4))[:, None, None] + np.clip(r0, -2, h) + 2) * width + np.clip(c0, -2, w) + 2
    pixels = framed.reshape(-1)
    out = np.zeros_like(rows)
    for offset, wr, wc in ((0, 1.0 - fr, 1.0 - fc), (1, 1.0 - fr, fc), (width, fr, 1.0 - fc), (width + 1, fr, fc)):
        out += wr * wc * pixels[top_left + offset]
    return out


def shift(images, dy, dx, *, side: int = 8) -> np.ndarray:
    """Translate each image by ``dy`` rows (down) and ``dx`` columns (right), zero fill.

    ``dy``, ``dx``: numbers or arrays of shape (N,), one per image; integers move whole pixels,
    fractions interpolate bilinearly.
    """
    side = _validate.integer("side", side, low=1)
    images, flat = _as_images(images, side)
    n = len(images)
    dy, dx = _per_image("dy", dy, n), _per_image("dx", dx, n)
    grid_r, grid_c = np.meshgrid(np.arange(side, dtype=np.float64), np.arange(side, dtype=np.float64), indexing="ij")
    out = _sample(images, grid_r - dy[:, None, None], grid_c - dx[:, None, None])
    return out.reshape(n, -1) if flat else out


def rotate(images, degrees, *, side: int = 8) -> np.ndarray:
    r"""Rotate each image by ``degrees`` (counter-clockwise as displayed, rows pointing down) about its
    centre, with bilinear interpolation and zero fill.

    Each output pixel p takes the value of the input at :math:`R(-\theta)(p - c) + c`, c the centre.
    ``degrees``: a number or an array of shape (N,).
    """
    side = _validate.integer("side", side, low=1)
    images, flat = _as_images(images, side)
    n = len(images)
    theta = np.deg2rad(_per_image("degrees", degrees, n))[:, None, None]
    centre = (side - 1) / 2.0
    grid_r, grid_c = np.meshgrid(np.arange(side) - centre, np.arange(side) - centre, indexing="ij")
    # (x, y) = (col, -row) is the usual upward frame; rotate by -theta to find the source pixel.
    x, y = grid_c[None], -grid_r[None]
    cos, sin = np.cos(theta), np.sin(theta)
    src_x = cos * x + sin * y
    src_y = -sin * x + cos * y
    out = _sample(images, -src_y + centre, src_x + centre)
    return out.reshape(n, -1) if flat else out


def random_augment(images, rng, *, max_shift: int = 1, max_degrees: float = 10.0, side: int = 8) -> np.ndarray:
    """A random rotation in ``[-max_degrees, max_degrees]`` then a random whole-pixel shift in
    ``{-max_shift, ..., max_shift}`` per image (both uniform), drawn from ``rng`` (a Generator or an
    int seed). Same layout out as in.

    Use as ``train(..., augment=lambda x, rng: random_augment(x, rng))``.
    """
    max_shift = _validate.integer("max_shift", max_shift, low=0)
    max_degrees = _validate.real("max_degrees", max_degrees, low=0.0, high=180.0)
    rng = _validate.rng("rng", rng)
    side = _validate.integer("side", side, low=1)
    n = len(_as_images(images, side)[0])
    degrees = rng.uniform(-max_degrees, max_degrees, n)
    dy = rng.integers(-max_shift, max_shift + 1, n)
    dx = rng.integers(-max_shift, max_shift + 1, n)
    return shift(rotate(images, degrees, side=side), dy, dx, side=side)
