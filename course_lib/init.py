r"""Weight initializers and fan computation (chapter "Initialization and data preprocessing").

Every initializer draws an array of a given ``shape`` with zero mean and a variance chosen so
that signals keep their scale from layer to layer. With :math:`n_\text{in}` (fan-in) and
:math:`n_\text{out}` (fan-out), the variance of each weight is:

- ``small_normal``: :math:`0.01^2` (source 003's "small random numbers");
- ``lecun_normal``: :math:`1/n_\text{in}` (what source 003 calls "Xavier");
- ``xavier_normal`` (``glorot_normal``): :math:`2/(n_\text{in}+n_\text{out})` (source 004's "Xavier", Glorot & Bengio 2010);
- ``xavier_uniform``: the same variance from :math:`U(-a, a)`, :math:`a=\sqrt{6/(n_\text{in}+n_\text{out})}`;
- ``kaiming_normal`` (``he_normal``): :math:`2/n_\text{in}` (He et al. 2015, source 003);
- ``kaiming_uniform``: the same variance from :math:`U(-a, a)`, :math:`a=\sqrt{6/n_\text{in}}`.

Source 003 calls ``W = randn(fan_in, fan_out) / sqrt(fan_in)`` "Xavier initialization"; Glorot and
Bengio's (2010) proposal is the variance :math:`2/(n_\text{in}+n_\text{out})` that source 004 gives.
Variance :math:`1/n_\text{in}` is LeCun's (1998); the two coincide only when
:math:`n_\text{in} = n_\text{out}`.

Shapes follow torch: a dense weight is ``(out_features, in_features)`` (source 003's numpy code
stores the transpose, ``(fan_in, fan_out)``), a convolution kernel ``(C_out, C_in, k_h, k_w)``.
Randomness comes from the ``rng`` argument: a ``numpy.random.Generator`` or an integer seed.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from course_lib import _validate

__all__ = [
    "generator",
    "compute_fans",
    "zeros",
    "constant",
    "small_normal",
    "lecun_normal",
    "xavier_normal",
    "xavier_uniform",
    "kaiming_normal",
    "kaiming_uniform",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "INITIALIZERS",
]


def generator(rng, name: str = "rng") -> np.random.Generator:
    """Return ``rng`` as a Generator (see :func:`course_lib._validate.rng`); ``name`` is the caller's keyword."""
    return _validate.rng(name, rng)


def _shape(shape) -> tuple[int, ...]:
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not shape:
        raise TypeError(f"shape must be a non-empty tuple of positive integers, got {shape!r}")
    return tuple(_validate.integer("shape entries", s, low=1) for s in shape)


def compute_fans(shape) -> tuple[int, int]:
    r"""The fan-in and fan-out of a weight of the given shape, as torch computes them.

    - dense ``(out_features, in_features)``: :math:`n_\text{in}` = in_features, :math:`n_\text{out}` = out_features;
    - convolution ``(C_out, C_in, k_1, ..., k_d)``: with receptive field :math:`r = k_1\cdots k_d`,
      :math:`n_\text{in} = r\,C_\text{in}` (source 003: filter_size² · input_channels) and
      :math:`n_\text{out} = r\,C_\text{out}`.

    Returns
    -------
    (fan_in, fan_out) : tuple of int
    """
    shape = _shape(shape)
    if len(shape) < 2:
        raise ValueError(f"shape must have at least 2 dimensions to define fans, got {shape}")
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _fan(shape, mode: str) -> int:
    fan_in, fan_out = compute_fans(shape)
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")


def zeros(shape, rng=None) -> np.ndarray:
    """All zeros. For weights this makes every unit of a layer identical (the symmetry problem);
    for biases it is the usual choice. ``rng`` is accepted and ignored, so all initializers share a signature."""
    return np.zeros(_shape(shape))


def constant(shape, value: float = 0.0, rng=None) -> np.ndarray:
    """Every entry equal to ``value``: units stay identical forever under gradient descent."""
    return np.full(_shape(shape), _validate.real("value", value))


def small_normal(shape, rng, std: float = 0.01) -> np.ndarray:
    r""":math:`W_{ij} \sim \mathcal N(0, \text{std}^2)`, std = 0.01 (source 003's ``0.01 * np.random.randn``).

    Activations shrink by a factor of about :math:`\text{std}\sqrt{n_\text{in}}` per layer, so deep
    networks see vanishing signals.
    """
    std = _validate.real("std", std, low=0.0)
    return std * generator(rng).standard_normal(_shape(shape))


def lecun_normal(shape, rng, mode: str = "fan_in") -> np.ndarray:
    r""":math:`\mathcal N(0, 1/n_\text{in})`: the ``randn(fan_in, fan_out) / sqrt(fan_in)`` that source 003
    calls "Xavier". Keeps :math:`\operatorname{Var}(y) = n_\text{in}\operatorname{Var}(W)\operatorname{Var}(x)
    = \operatorname{Var}(x)` for a linear unit with zero-mean inputs (source 003's argument)."""
    return math.sqrt(1.0 / _fan(shape, mode)) * generator(rng).standard_normal(_shape(shape))


def xavier_normal(shape, rng, gain: float = 1.0) -> np.ndarray:
    r"""Glorot/Xavier normal: :math:`\mathcal N\big(0,\ \text{gain}^2 \cdot 2/(n_\text{in}+n_\text{out})\big)`
    (source 004; torch ``nn.init.xavier_normal_``). A compromise between keeping the forward
    variance (:math:`1/n_\text{in}`) and the backward variance (:math:`1/n_\text{out}`)."""
    gain = _validate.real("gain", gain, low=0.0)
    fan_in, fan_out = compute_fans(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return std * generator(rng).standard_normal(_shape(shape))


def xavier_uniform(shape, rng, gain: float = 1.0) -> np.ndarray:
    r"""Glorot/Xavier uniform: :math:`U(-a, a)`, :math:`a = \text{gain}\sqrt{6/(n_\text{in}+n_\text{out})}`,
    whose variance :math:`a^2/3` equals the normal version's (torch ``nn.init.xavier_uniform_``)."""
    gain = _validate.real("gain", gain, low=0.0)
    fan_in, fan_out = compute_fans(shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return generator(rng).uniform(-bound, bound, _shape(shape))


def _kaiming_gain(a: float) -> float:
    a = _validate.real("a", a, low=0.0)
    return math.sqrt(2.0 / (1.0 + a * a))


def kaiming_normal(shape, rng, a: float = 0.0, mode: str = "fan_in") -> np.ndarray:
    r"""He/Kaiming normal: :math:`\mathcal N(0,\ \text{gain}^2/n)` with :math:`\text{gain}^2 = 2/(1+a^2)`,
    :math:`n` = fan-in (or fan-out with ``mode="fan_out"``). For ReLU (``a = 0``) the variance is
    :math:`2/n_\text{in}`: half of the units are zeroed, so the weights need twice LeCun's variance
    (source 003, ``randn(fan_in, fan_out) / sqrt(fan_in / 2)``). ``a`` is a leaky ReLU's negative
    slope. Same defaults as torch ``nn.init.kaiming_normal_``."""
    std = _kaiming_gain(a) / math.sqrt(_fan(shape, mode))
    return std * generator(rng).standard_normal(_shape(shape))


def kaiming_uniform(shape, rng, a: float = 0.0, mode: str = "fan_in") -> np.ndarray:
    r"""He/Kaiming uniform: :math:`U(-b, b)`, :math:`b = \text{gain}\sqrt{3/n}`, variance :math:`\text{gain}^2/n`
    (torch ``nn.init.kaiming_uniform_``; torch's own ``nn.Linear`` default is this with ``a = sqrt(5)``,
    i.e. :math:`U(-1/\sqrt{n_\text{in}}, 1/\sqrt{n_\text{in}})`)."""
    bound = _kaiming_gain(a) * math.sqrt(3.0 / _fan(shape, mode))
    return generator(rng).uniform(-bound, bound, _shape(shape))


glorot_normal = xavier_normal
glorot_uniform = xavier_uniform
he_normal = kaiming_normal
he_uniform = kaiming_uniform

#: Initializers by name, for ``nn.Linear(..., init="kaiming_normal")``.
INITIALIZERS = {
    "zeros": zeros,
    "small_normal": small_normal,
    "lecun_normal": lecun_normal,
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "glorot_normal": xavier_normal,
    "glorot_uniform": xavier_uniform,
    "kaiming_normal": kaiming_normal,
    "kaiming_uniform": kaiming_uniform,
    "he_normal": kaiming_normal,
    "he_uniform": kaiming_uniform,
}
