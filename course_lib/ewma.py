r"""Exponentially weighted moving averages (chapter "Exponentially weighted moving averages").

The EWMA of a series :math:`y_1, y_2, \dots` with decay :math:`\rho \in [0, 1)` is

.. math::

    S_0 = 0, \qquad S_t = \rho\,S_{t-1} + (1-\rho)\,y_t \quad (t = 1, 2, \dots)

and, unrolled,

.. math::

    S_t = \sum_{k=0}^{t-1} (1-\rho)\rho^k\, y_{t-k}.

The weights :math:`(1-\rho)\rho^k` sum to :math:`1-\rho^t`, not 1: the missing :math:`\rho^t`
is the weight of :math:`S_0 = 0`. Dividing by it gives the bias-corrected average
:math:`\hat S_t = S_t / (1-\rho^t)`, whose weights sum to exactly 1.

Time runs along axis 0; further axes are carried along, so a series of gradient arrays
(momentum, RMSProp, Adam) or of per-feature batch statistics (batch norm) is averaged
elementwise by the same code.
"""
from __future__ import annotations

import numpy as np

from course_lib import _validate

__all__ = [
    "ewma",
    "ewma_update",
    "ewma_weights",
    "running_average",
    "running_mean",
    "effective_window",
    "lag",
    "start_up_bias",
]


def _rho(rho) -> float:
    return _validate.real("rho", rho, low=0.0, high=1.0, high_open=True)


def _common_float_dtype(average, value) -> np.dtype:
    """The dtype of rho * average + (1 - rho) * value: integers become float64; object if not numbers."""
    if any(v is None or isinstance(v, (str, bytes)) for v in (average, value)):  # read as dtype names otherwise
        return np.dtype(object)
    try:
        return np.result_type(average, value, 1.0)  # the (weak) Python float only turns integers into floats
    except TypeError:
        return np.dtype(object)


def ewma_update(average, value, rho):
    r"""One EWMA step, :math:`S \leftarrow \rho S + (1-\rho) y`. Returns a new array.

    The building block the optimizers and batch norm reuse. ``average`` and ``value`` are
    arrays of one shape (or scalars); neither is modified. The result has their common float
    dtype (float32 stays float32, for float32 training; integers and Python numbers give float64).
    """
    if not (type(rho) is float and 0.0 <= rho < 1.0):  # the common case needs no further checks
        rho = _rho(rho)
    if type(average) is np.ndarray and type(value) is np.ndarray and average.dtype == value.dtype \
            and average.dtype.kind == "f" and average.shape == value.shape:
        # the optimizers' and batch norm's case: two arrays of one shape and dtype, nothing to work out
        dtype, shape = average.dtype, average.shape
    else:
        dtype = _common_float_dtype(average, value)
        shape = np.broadcast_shapes(np.shape(average), np.shape(value))
    if dtype.kind != "f":
        raise TypeError(f"average and value must be real numbers or arrays of them, got "
                        f"{type(average).__name__} and {type(value).__name__} (dtype {dtype})")
    new = np.empty(shape, dtype)  # always an array, even 0-d
    np.multiply(rho, average, out=new)                         # rho S ...
    new += np.multiply(1.0 - rho, value, dtype=dtype)          # ... + (1 - rho) y, added in place
    return new


def ewma(y, rho, *, bias_correction: bool = False) -> np.ndarray:
    r"""The EWMA of the series ``y`` along axis 0.

    .. math::

        S_0 = 0,\quad S_t = \rho S_{t-1} + (1-\rho) y_t,\qquad
        \hat S_t = \frac{S_t}{1-\rho^t}\ \text{(if bias_correction)}

    Parameters
    ----------
    y : array_like, shape (T, ...)
        The series, time first; T >= 1, finite values.
    rho : float in [0, 1)
        The decay. ``rho = 0`` returns ``y`` itself; larger values average over longer windows.
    bias_correction : bool
        Divide :math:`S_t` by :math:`1-\rho^t` so that the weights sum to one.

    Returns
    -------
    ndarray, shape (T, ...), float64
        ``out[t-1]`` is :math:`S_t` (or :math:`\hat S_t`), for t = 1..T.
    """
    y = _validate.series("y", y)
    rho = _rho(rho)
    bias_correction = _validate.boolean("bias_correction", bias_correction)
    out = np.empty_like(y)
    average = np.zeros_like(y[0])
    for t in range(len(y)):
        average = rho * average + (1.0 - rho) * y[t]
        out[t] = average
    if bias_correction:
        steps = np.arange(1, len(y) + 1, dtype=np.float64)
        out /= (1.0 - rho**steps).reshape((-1,) + (1,) * (y.ndim - 1))
    return out


def ewma_weights(rho, t: int, *, bias_correction: bool = False) -> np.ndarray:
    r"""The weights :math:`w_k = (1-\rho)\rho^k` that :math:`S_t` gives to :math:`y_{t-k}`, k = 0..t-1.

    ``w[0]`` belongs to the newest value. Without correction they sum to :math:`1-\rho^t`;
    with ``bias_correction`` they are divided by that sum and so sum to one.

    Returns
    -------
    ndarray, shape (t,)
    """
    rho = _rho(rho)
    t = _validate.integer("t", t, low=1)
    bias_correction = _validate.boolean("bias_correction", bias_correction)
    weights = (1.0 - rho) * rho ** np.arange(t, dtype=np.float64)
    if bias_correction:
        weights /= 1.0 - rho**t
    return weights


def running_average(c, gammas) -> np.ndarray:
    r"""The general running average of source 002, :math:`C_0 = 0,\ C_t = \gamma_t C_{t-1} + (1-\gamma_t) c_t`.

    ``gammas[t-1]`` is :math:`\gamma_t`, each in [0, 1]. A constant :math:`\gamma` gives the EWMA;
    :math:`\gamma_t = (t-1)/t` gives the arithmetic mean (see :func:`running_mean`).

    Parameters
    ----------
    c : array_like, shape (T, ...)
    gammas : array_like, shape (T,)

    Returns
    -------
    ndarray, shape (T, ...)
    """
    c = _validate.series("c", c)
    gammas = _validate.series("gammas", gammas)
    if gammas.ndim != 1 or len(gammas) != len(c):
        raise ValueError(f"gammas must have shape ({len(c)},) to match c, got {gammas.shape}")
    bad = (gammas < 0) | (gammas > 1)
    if np.any(bad):
        raise ValueError(f"gammas must lie in [0, 1], got {gammas[bad][0]:g} at index {int(np.argmax(bad))}")
    out = np.empty_like(c)
    average = np.zeros_like(c[0])
    for t in range(len(c)):
        average = gammas[t] * average + (1.0 - gammas[t]) * c[t]
        out[t] = average
    return out


def running_mean(c) -> np.ndarray:
    r"""The arithmetic mean of :math:`c_1..c_t` for every t, computed online with :math:`\gamma_t = (t-1)/t`.

    :math:`C_t = \frac{t-1}{t} C_{t-1} + \frac{1}{t} c_t = \frac{1}{t}\sum_{i=1}^t c_i`: one number of
    memory, yet every value gets the same weight. Shape (T, ...) in, (T, ...) out.
    """
    c = _validate.series("c", c)
    steps = np.arange(1, len(c) + 1, dtype=np.float64)
    return running_average(c, (steps - 1.0) / steps)


def effective_window(rho) -> float:
    r"""The effective window :math:`1/(1-\rho)`: the number of equal weights :math:`1-\rho` that sum to one.

    Also the sum of all weights relative to the newest, :math:`\sum_k \rho^k`. For
    :math:`\rho = 0.9` it is 10 steps; after that many steps the weight has fallen to
    :math:`\rho^{1/(1-\rho)} \approx 1/e` of the newest.
    """
    return 1.0 / (1.0 - _rho(rho))


def lag(rho) -> float:
    r"""The mean age of the EWMA's weights, :math:`\sum_k k(1-\rho)\rho^k = \rho/(1-\rho)` steps.

    On a series that rises linearly, the (steady-state) EWMA trails the series by exactly this
    many steps: the price of smoothing.
    """
    rho = _rho(rho)
    return rho / (1.0 - rho)


def start_up_bias(rho, t) -> np.ndarray:
    r"""The weight :math:`\rho^t` missing from :math:`S_t` because :math:`S_0 = 0`.

    On a constant series :math:`y_t = c`, :math:`S_t = (1-\rho^t)\,c`: the relative shortfall is
    :math:`\rho^t`. ``t`` may be an int or an array of ints >= 1.
    """
    rho = _rho(rho)
    steps = np.asarray(t)
    if not np.issubdtype(steps.dtype, np.integer):
        raise TypeError(f"t must be an integer (or array of integers) >= 1, got {type(t).__name__} {t!r}")
    if np.any(steps < 1):
        raise ValueError(f"t must be an integer (or array of integers) >= 1, got {t!r}")
    return rho ** steps.astype(np.float64)
