r"""Data sets and preprocessing (chapter "Initialization and data preprocessing").

- :func:`load_digits`: scikit-learn's 8x8 handwritten digits (1797 images, shipped with the
  package, no download), split into train/validation/test by a seeded shuffle.
- :func:`make_moons`, :func:`make_spirals`: random 2-D sets for decision-boundary plots.

Every random function takes ``rng``: a ``numpy.random.Generator``, or an int seed.
- :func:`standardize`, :func:`pca`, :func:`whiten`: the preprocessing of sources 000 and 003.

Rows are examples: ``x`` has shape ``(N, D)`` ("each example in a row", source 003).

On ``1/n`` versus ``1/(n-1)``: :func:`standardize` divides by the standard deviation with
``ddof=0`` (``1/n``, as source 000's z-score formula, batch norm and scikit-learn), while
``numpy.cov`` normalizes by ``1/(n-1)``. Measuring the covariance of z-scored data with
``numpy.cov`` therefore gives a diagonal of exactly :math:`n/(n-1)`, not 1: source 000's
"Z-Scored" matrix has diagonal 1.001001 = 1000/999, so its data had n = 1000 points, and its
off-diagonal -0.94387604 is the correlation -0.94293216 times 1000/999. Its "Whitened" diagonal
(0.953, 0.999) is not 1 either, for another reason: it is exactly
:math:`\lambda_i/(\lambda_i+\varepsilon)` with the raw covariance's eigenvalues
:math:`\lambda = (0.2049, 9.0720)` and :math:`\varepsilon = 0.01`, i.e. the whitening divided by
:math:`\sqrt{\lambda_i + \varepsilon}` (``whiten(x, eps=0.01, ddof=1)``).
"""
from __future__ import annotations

import functools
import gzip
import importlib.util
from pathlib import Path
from typing import NamedTuple

import numpy as np

from course_lib import _validate

__all__ = [
    "Split",
    "load_digits",
    "make_moons",
    "make_spirals",
    "standardize",
    "pca",
    "whiten",
    "PCA",
]


class Split(NamedTuple):
    """A train/validation/test split; x arrays are ``(N, D)`` float64, y arrays ``(N,)`` int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@functools.cache
def _bundled(name: str, delimiter=None) -> np.ndarray:
    """One of scikit-learn's bundled ``sklearn/datasets/data/<name>`` tables, read as its loaders
    read it (``np.loadtxt``) but without importing scikit-learn, whose import (scipy.stats,
    pandas) takes longer than everything else in a chapter's first cell. Read once per process;
    the array is read-only."""
    spec = importlib.util.find_spec("sklearn")  # finds the package without running it
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"the bundled {name} needs scikit-learn installed")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / name
    with gzip.open(path, mode="rt", encoding="utf-8") as file:
        table = np.loadtxt(file, delimiter=delimiter)
    table.flags.writeable = False
    return table


def _digits_table() -> np.ndarray:
    """``digits.csv.gz``: 1797 rows of 64 pixels (0..16), then the label."""
    return _bundled("digits.csv.gz", ",")


def _load_diabetes() -> tuple[np.ndarray, np.ndarray]:
    r"""scikit-learn's diabetes set, exactly as ``sklearn.datasets.load_diabetes()`` gives it
    (``.data``, ``.target``), without importing scikit-learn: 442 patients, 10 features, each
    centred and divided by its standard deviation times :math:`\sqrt{442}` (``scaled=True``: its
    ``preprocessing.scale`` then ``/ sqrt(n)``, the same operations in the same order), and the
    disease progression a year later. New arrays: ``(x (442, 10), y (442,))``."""
    x = np.array(_bundled("diabetes_data_raw.csv.gz"))
    mean, std = np.nanmean(x, axis=0), np.nanstd(x, axis=0)   # sklearn's scale(x, copy=False)
    x -= mean
    if not np.allclose(np.nanmean(x, axis=0), 0):  # pragma: no cover - scale's numerical safeguard
        x -= np.nanmean(x, axis=0)
    std[std < 10 * np.finfo(std.dtype).eps] = 1.0
    x /= std
    if not np.allclose(np.nanmean(x, axis=0), 0):  # pragma: no cover - its second safeguard
        x -= np.nanmean(x, axis=0)
    x /= x.shape[0] ** 0.5
    return x, np.array(_bundled("diabetes_target.csv.gz"))


def load_digits(*, val_fraction: float = 0.2, test_fraction: float = 0.2, rng=0,
                scale: bool = True) -> Split:
    """scikit-learn's handwritten digits, split class by class (stratified) by a shuffle drawn from ``rng``.

    Each class is shuffled by ``rng`` (a Generator, or an int seed for ``numpy.random.default_rng``)
    and cut into test, validation and training parts of the given fractions, so the split for a
    given seed is the same on every machine.
    ``scale=True`` divides the pixel values 0..16 by 16 (to [0, 1]); standardize with the
    *training* statistics afterwards if wanted (:func:`standardize`).

    Returns
    -------
    Split
        ``x_*`` of shape ``(N, 64)`` (an 8x8 image per row, row-major), ``y_*`` of shape ``(N,)``.
    """
    val_fraction = _validate.real("val_fraction", val_fraction, low=0.0, high=1.0)
    test_fraction = _validate.real("test_fraction", test_fraction, low=0.0, high=1.0)
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(f"val_fraction + test_fraction must be < 1, got {val_fraction} + {test_fraction} "
                         f"= {val_fraction + test_fraction:g}")
    scale = _validate.boolean("scale", scale)
    rng = _validate.rng("rng", rng)
    table = _digits_table()
    x = table[:, :-1] / (16.0 if scale else 1.0)
    y = table[:, -1].astype(np.int64)
    parts = {"train": [], "val": [], "test": []}
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        n_test = int(round(test_fraction * len(idx)))
        n_val = int(round(val_fraction * len(idx)))
        parts["test"].append(idx[:n_test])
        parts["val"].append(idx[n_test:n_test + n_val])
        parts["train"].append(idx[n_test + n_val:])
    out = []
    for name in ("train", "val", "test"):
        idx = rng.permutation(np.concatenate(parts[name]))
        out += [x[idx], y[idx]]
    return Split(*out)


def make_moons(n_samples: int = 200, *, noise: float = 0.1, rng=0):
    r"""Two interleaving half circles (as scikit-learn's ``make_moons``), with Gaussian noise.

    Class 0: :math:`(\cos t, \sin t)`, class 1: :math:`(1 - \cos t, 1/2 - \sin t)`, :math:`t \in [0, \pi]`.
    The noise and the order are drawn from ``rng`` (a Generator or an int seed).

    Returns
    -------
    x : ndarray (n_samples, 2), y : ndarray (n_samples,) of 0/1, in shuffled order.
    """
    n_samples = _validate.integer("n_samples", n_samples, low=2)
    noise = _validate.real("noise", noise, low=0.0)
    rng = _validate.rng("rng", rng)
    n0 = n_samples // 2
    t0 = np.linspace(0.0, np.pi, n0)
    t1 = np.linspace(0.0, np.pi, n_samples - n0)
    x = np.concatenate([np.c_[np.cos(t0), np.sin(t0)], np.c_[1.0 - np.cos(t1), 0.5 - np.sin(t1)]])
    y = np.r_[np.zeros(n0, dtype=np.int64), np.ones(n_samples - n0, dtype=np.int64)]
    x = x + noise * rng.standard_normal(x.shape)
    order = rng.permutation(n_samples)
    return x[order], y[order]


def make_spirals(n_per_class: int = 100, n_classes: int = 3, *, noise: float = 0.2, rng=0):
    r"""The cs231n spirals: class k has points :math:`r(\sin\theta, \cos\theta)`, :math:`r \in [0, 1]`,
    :math:`\theta = 4(k + r) + \text{noise}\cdot\mathcal N(0,1)` (radians). Not linearly separable.
    The noise and the order are drawn from ``rng`` (a Generator or an int seed).

    Returns
    -------
    x : ndarray (n_per_class * n_classes, 2), y : ndarray of labels 0..n_classes-1, shuffled.
    """
    n_per_class = _validate.integer("n_per_class", n_per_class, low=1)
    n_classes = _validate.integer("n_classes", n_classes, low=2)
    noise = _validate.real("noise", noise, low=0.0)
    rng = _validate.rng("rng", rng)
    r = np.tile(np.linspace(0.0, 1.0, n_per_class), n_classes)
    y = np.repeat(np.arange(n_classes, dtype=np.int64), n_per_class)
    theta = 4.0 * (y + r) + noise * rng.standard_normal(r.shape)
    x = np.c_[r * np.sin(theta), r * np.cos(theta)]
    order = rng.permutation(len(y))
    return x[order], y[order]


def _data(name, x):
    x = _validate.array(name, x)
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"{name} must have shape (N, D) with N >= 1, got {x.shape}")
    return x


def _per_feature(name, value, d):
    """A statistic given by the caller: a number, or one value per feature, as an array of shape (d,)."""
    value = _validate.array(name, value)
    if value.shape not in ((), (d,)):
        raise ValueError(f"{name} must be a number or have shape ({d},) (one value per feature), got shape {value.shape}")
    return np.broadcast_to(value, (d,)).copy()


def standardize(x, mean=None, std=None, *, ddof: int = 0):
    r"""Z-score each feature: :math:`z_{nj} = (x_{nj} - \mu_j)/s_j` (source 000's z-scoring, source 003's
    "zero mean and unit variance").

    With ``mean``/``std`` omitted they are computed from ``x`` (``std`` with ``ddof``, default 0,
    i.e. :math:`1/n`). Pass the training set's ``mean`` and ``std`` to transform validation and test
    data the same way. Features with zero spread (the digits' always-blank corner pixels) get
    :math:`s_j = 1` instead of a division by zero, as in scikit-learn.

    Returns
    -------
    z : ndarray (N, D), mean : ndarray (D,), std : ndarray (D,)
    """
    x = _data("x", x)
    ddof = _validate.integer("ddof", ddof, low=0, high=x.shape[0] - 1)
    mean = x.mean(axis=0) if mean is None else _per_feature("mean", mean, x.shape[1])
    if std is None:
        std = x.std(axis=0, ddof=ddof)
        std = np.where(std > 0, std, 1.0)
    else:
        std = _per_feature("std", std, x.shape[1])
        if np.any(std <= 0):
            raise ValueError(f"std must be > 0 in every feature, got {std[std <= 0][0]:g} "
                             f"(feature {int(np.argmax(std <= 0))})")
    return (x - mean) / std, mean, std


class PCA(NamedTuple):
    r"""The eigendecomposition of a covariance: ``mean`` (D,), ``eigenvalues`` (K,) in decreasing
    order, ``components`` (D, K) whose columns are the unit eigenvectors :math:`\Phi`."""

    mean: np.ndarray
    eigenvalues: np.ndarray
    components: np.ndarray


def pca(x, n_components: int | None = None, *, ddof: int = 0) -> PCA:
    r"""Principal components of ``x`` (N, D): :math:`\Sigma = \frac{1}{N-\text{ddof}}(X-\mu)^\top(X-\mu) = \Phi\Lambda\Phi^\top`.

    Project with ``(x - p.mean) @ p.components`` (source 003's "decorrelated data").
    """
    x = _data("x", x)
    ddof = _validate.integer("ddof", ddof, low=0, high=x.shape[0] - 1)
    d = x.shape[1]
    n_components = d if n_components is None else _validate.integer("n_components", n_components, low=1, high=d)
    mean = x.mean(axis=0)
    centred = x - mean
    cov = centred.T @ centred / (x.shape[0] - ddof)
    eigenvalues, vectors = np.linalg.eigh(cov)
    order = np.argsort(eigenvalues)[::-1][:n_components]
    vectors = vectors[:, order]
    # A fixed sign per component (largest entry positive) makes the result reproducible.
    signs = np.sign(vectors[np.argmax(np.abs(vectors), axis=0), np.arange(n_components)])
    return PCA(mean, np.maximum(eigenvalues[order], 0.0), vectors * signs)


def whiten(x, *, eps: float = 0.0, ddof: int = 0, zca: bool = False):
    r"""PCA whitening, source 000's :math:`\Lambda^{-1/2}\Phi^\top(h-\mu)` per example, with a regularizer:

    .. math:: w_n = (\Lambda + \varepsilon I)^{-1/2}\,\Phi^\top (x_n - \mu)

    (rows: ``(x - mean) @ components / sqrt(eigenvalues + eps)``). The covariance of the result
    (same ``ddof``) is :math:`\operatorname{diag}(\lambda_i/(\lambda_i+\varepsilon))`: the identity for
    ``eps = 0``, slightly less on the small-variance directions otherwise (source 000's example
    used ``eps = 0.01``, ``ddof = 1``). ``zca=True`` rotates back with :math:`\Phi` (ZCA whitening),
    which keeps the data as close as possible to the original. Requires a full-rank covariance
    when ``eps = 0``.

    Returns
    -------
    w : ndarray (N, D), p : PCA
    """
    x = _data("x", x)
    eps = _validate.real("eps", eps, low=0.0)
    zca = _validate.boolean("zca", zca)
    p = pca(x, ddof=ddof)
    scale = p.eigenvalues + eps
    if np.any(scale <= 0):
        raise ValueError(f"the covariance of x is singular (smallest eigenvalue {p.eigenvalues.min():g}): "
                         f"pass eps > 0 to whiten, got eps = {eps:g}")
    w = (x - p.mean) @ p.components / np.sqrt(scale)
    if zca:
        w = w @ p.components.T
    return w, p
