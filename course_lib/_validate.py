"""Argument checks shared by every public function.

Each check raises a ``TypeError`` (wrong kind of value) or ``ValueError`` (right kind, wrong
range) whose message names the argument and says what is allowed, so a student who passes
``rho=1.2`` reads ``rho must be in [0, 1), got 1.2`` instead of a NaN three cells later.
"""
from __future__ import annotations

import numbers

import numpy as np


def real(name: str, value, *, low=None, high=None, low_open=False, high_open=False) -> float:
    """Return ``value`` as a float after checking it is a finite real number in the given range.

    ``low``/``high`` are the bounds (``None`` = unbounded); ``*_open`` excludes the bound.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise ValueError(f"{name} must be in {left}{lo}, {hi}{right}, got {value:g}")
    return value


def integer(name: str, value, *, low=None, high=None) -> int:
    """Return ``value`` as an int after checking it is an integer in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value}")
    return value


def boolean(name: str, value) -> bool:
    """Check that ``value`` is a bool (not 0/1, not a string)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def series(name: str, value, *, min_length: int = 1) -> np.ndarray:
    """Return ``value`` as a finite float64 array with at least one axis of ``min_length``+ entries.

    Axis 0 is time; any further axes are carried along (a series of arrays).
    """
    if isinstance(value, (str, bytes, dict, set)) or value is None:
        raise TypeError(f"{name} must be a sequence or array of numbers, got {type(value).__name__}")
    try:
        array = np.asarray(value)
    except Exception as error:  # ragged lists and the like
        raise TypeError(f"{name} must be a sequence or array of numbers: {error}") from None
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must contain numbers, got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise TypeError(f"{name} must contain real numbers, got complex values")
    if array.ndim == 0:
        raise ValueError(f"{name} must be a series (at least one axis, time first), got a scalar")
    if array.shape[0] < min_length:
        raise ValueError(f"{name} must have at least {min_length} entries along axis 0, got {array.shape[0]}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf)")
    return array


def array(name: str, value) -> np.ndarray:
    """Return ``value`` as a finite float64 array of any shape (scalars allowed)."""
    if isinstance(value, (str, bytes, dict, set)) or value is None:
        raise TypeError(f"{name} must be a number or an array of numbers, got {type(value).__name__}")
    try:
        out = np.asarray(value)
    except Exception as error:
        raise TypeError(f"{name} must be a number or an array of numbers: {error}") from None
    if out.dtype == object or not (np.issubdtype(out.dtype, np.number) or np.issubdtype(out.dtype, np.bool_)):
        raise TypeError(f"{name} must contain numbers, got dtype {out.dtype}")
    if np.iscomplexobj(out):
        raise TypeError(f"{name} must contain real numbers, got complex values")
    out = out.astype(np.float64)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf)")
    return out


def rng(name: str, value) -> np.random.Generator:
    """Return ``value`` if it is a ``numpy.random.Generator``, or a new one seeded with the int ``value``.

    Every random function in course_lib takes its randomness by the keyword ``rng`` and passes it
    through here with the name the caller used, so ``load_digits(rng="a")`` reads
    ``rng must be a numpy.random.Generator or an integer seed >= 0, got str 'a'``.
    """
    if isinstance(value, np.random.Generator):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        if value < 0:
            raise ValueError(f"{name} must be a numpy.random.Generator or an integer seed >= 0, got {value}")
        return np.random.default_rng(int(value))
    raise TypeError(f"{name} must be a numpy.random.Generator or an integer seed >= 0, "
                    f"got {type(value).__name__} {value!r}")
