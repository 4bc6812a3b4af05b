r"""Centred-difference gradient checking, in float64 (cs231n style).

For a scalar function f of an array x, each partial derivative is estimated by

.. math:: \frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h},

whose error is :math:`O(h^2)` (one-sided differences are only :math:`O(h)`). With float64 and
:math:`h = 10^{-6}` the truncation error (:math:`\sim h^2 f'''`) and the rounding error
(:math:`\sim 10^{-16} |f| / h`) are both around :math:`10^{-10}` relative, so a correct backward
pass agrees to about 1e-8 or better and a wrong one is off by far more.

A layer is checked through the scalar :math:`f(x) = \sum_i G_i\, y_i(x)` for a fixed random
:math:`G`: its gradient is exactly what ``layer.backward(G)`` must return. :func:`check_pair` does
this for a pure pair of :mod:`course_lib.layers` (or a student's), :func:`check_layer` for a layer
object of :mod:`course_lib.nn` or a whole model.
"""
from __future__ import annotations

import copy

import numpy as np

from course_lib import _validate
from course_lib.init import generator

__all__ = ["numerical_gradient", "relative_error", "check_pair", "check_layer", "check_loss"]


def numerical_gradient(f, x, h: float = 1e-6) -> np.ndarray:
    """Centred-difference gradient of the scalar function ``f`` at ``x`` (any shape), in float64.

    ``f`` is called with float64 arrays of ``x``'s shape; ``x`` itself is not modified.
    """
    h = _validate.real("h", h, low=0.0, low_open=True)
    x = np.array(x, dtype=np.float64, copy=True)
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        f_plus = float(f(x))
        flat[i] = old - h
        f_minus = float(f(x))
        flat[i] = old
        gflat[i] = (f_plus - f_minus) / (2.0 * h)
    return grad


def relative_error(a, b) -> float:
    r"""Normwise relative error :math:`\|a-b\|_2 / (\|a\|_2 + \|b\|_2)` (0 when both are zero)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denominator == 0 else float(np.linalg.norm(a - b) / denominator)


def check_pair(forward, backward, inputs: dict, wrt=None, *, kwargs=None, rng=2024, h: float = 1e-6) -> dict[str, float]:
    """Compare a pure backward function with centred differences of its forward function.

    ``forward(**inputs, **kwargs)`` returns ``(out, cache)`` or, like batch norm, ``(out, ..., cache)``:
    the first item is the output, the last the cache. ``backward(G, cache)`` returns the gradient of
    each name of ``wrt`` (default: every name of ``inputs``), in that order (one array alone when
    there is one name). ``kwargs`` are further keyword arguments of ``forward`` (a random layer's
    ``rng`` as a seed, so every evaluation draws the same mask); ``rng`` draws G. Returns the
    relative error per name. ``inputs`` are not modified.
    """
    kwargs = {} if kwargs is None else dict(kwargs)
    if not isinstance(inputs, dict) or not inputs:
        raise TypeError(f"inputs must be a non-empty dict of arrays by argument name, got {type(inputs).__name__}")
    wrt = list(inputs) if wrt is None else [wrt] if isinstance(wrt, str) else list(wrt)
    for name in wrt:
        if name not in inputs:
            raise ValueError(f"wrt names {name!r}, which is not one of the inputs {list(inputs)}")
    inputs = {k: np.array(v, dtype=np.float64, copy=True) if isinstance(v, np.ndarray) else v for k, v in inputs.items()}
    result = forward(**inputs, **kwargs)
    upstream = generator(rng).standard_normal(np.shape(result[0]))
    grads = backward(upstream, result[-1])
    if len(wrt) == 1 and not isinstance(grads, tuple):
        grads = (grads,)
    if not isinstance(grads, tuple) or len(grads) < len(wrt):
        raise ValueError(f"backward must return one gradient per name of wrt {wrt}, got {type(grads).__name__}")
    errors = {}
    for name, analytic in zip(wrt, grads):
        def f(v, name=name):
            return np.sum(forward(**{**inputs, name: v}, **kwargs)[0] * upstream)

        errors[name] = relative_error(analytic, numerical_gradient(f, inputs[name], h))
    return errors


def check_layer(layer, x, *, mode: str = "train", rng=2024, h: float = 1e-6) -> dict[str, float]:
    """Compare ``layer.backward`` with centred differences; return the relative error per gradient.

    ``layer`` is a Layer or a whole ``Sequential``. Keys: ``"x"`` for the input gradient and each
    parameter name (``"weight"``, ``"gamma"``, ... or ``"0.weight"``, ...).
    Every evaluation runs on a fresh deep copy of ``layer``, so dropout draws the same mask each
    time and batch norm's running statistics are never touched. ``x`` (N, D) is not modified.
    """
    x = np.array(x, dtype=np.float64, copy=True)
    probe = copy.deepcopy(layer)
    for part in getattr(probe, "layers", [probe]):  # forget pending passes: backward must differentiate this one
        part.cache = part.eval_cache = None
    out = probe.forward(x, mode)
    upstream = generator(rng).standard_normal(out.shape)
    dx = probe.backward(upstream)
    errors = {"x": relative_error(dx, numerical_gradient(lambda z: np.sum(copy.deepcopy(layer).forward(z, mode) * upstream), x, h))}
    for name, value in layer.params.items():
        def f(v, name=name):
            trial = copy.deepcopy(layer)
            trial.params = {**trial.params, name: v}  # works for a Layer and for a Sequential
            return np.sum(trial.forward(x, mode) * upstream)

        errors[name] = relative_error(probe.grads[name], numerical_gradient(f, value, h))
    return errors


def check_loss(loss, pred, target, *, h: float = 1e-6) -> float:
    """Relative error between ``loss.backward()`` and centred differences of ``loss.forward(., target)``."""
    pred = np.array(pred, dtype=np.float64, copy=True)
    loss.forward(pred, target)
    analytic = loss.backward()
    numeric = numerical_gradient(lambda p: loss.forward(p, target), pred, h)
    return relative_error(analytic, numeric)
