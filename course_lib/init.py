r"""Weight initializers and fan computation (chapter "Initialization and data preprocessing").

Every initializer draws an array of a given ``shape`` with zero mean and a variance chosen so
that signals keep their scale from layer to layer. With :math:`n_\text{in}` (fan-in) and
:math:`n_\text{out}` (fan-out), the variance of each weight is:

- ``small_normal``: :math:`0.01^2` (source 003's "small random numbers");
- ``lecun_normal``: :math:`1/n_\text{in}` (what source 003 calls "Xavier");
- ``xavier_normal`` (``glorot_normal``): :math:`2/(n_\text{in}+n_\text{out})` (source 004's "Xavier", Glorot & Bengio 2010);
- ``xavier_uniform``: the same variance from :math:`U(-a, a)`, :math:`a=\sqrt{6/(n_\text{in}+n_\text{out})}`;
- ``kaiming_normal`` (``he_normal``): :math:`2/n_\text{in}` (He et al. 2015, source 003);
- ``kaiming_uniform``: the same variance from :math:`U(-a, a)`, :math:`a=\sqrt{6/n_\text{in}}`;
- ``torch_linear_default``: :math:`U(\pm 1/\sqrt{n_\text{in}})`, variance :math:`1/(3 n_\text{in})`
  (torch's ``nn.Linear`` default, for weights and biases);
- ``orthogonal``: a random orthogonal matrix times a gain (Saxe et al. 2013), variance
  :math:`\text{gain}^2/\max(n_\text{in}, n_\text{out})` per entry.

The gains of :func:`calculate_gain` (torch's values) scale these to a nonlinearity.

Source 003 calls ``W = randn(fan_in, fan_out) / sqrt(fan_in)`` "Xavier initialization"; Glorot and
Bengio's (2010) proposal is the variance :math:`2/(n_\text{in}+n_\text{out})` that source 004 gives.
Variance :math:`1/n_\text{in}` is LeCun's (1998); the two coincide only when
:math:`n_\text{in} = n_\text{out}`.

Shapes follow torch: a dense weight is ``(out_features, in_features)`` (source 003's numpy code
stores the transpose, ``(fan_in, fan_out)``), a convolution kernel ``(C_out, C_in, k_h, k_w)``.
Every initializer has one signature, ``init(shape, rng) -> ndarray`` (float64), plus optional
keywords of its own (``gain``, ``mode``, ...): that is what ``nn.Linear(init=...)`` calls.
Initializers that need a value are built by a function: ``constant(0.3)`` returns an initializer.
Randomness comes from the ``rng`` argument: a ``numpy.random.Generator`` or an integer seed.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from course_lib import _validate

__all__ = [
    "generator",
    "calculate_gain",
    "compute_fans",
    "get",
    "draw",
    "zeros",
    "ones",
    "constant",
    "torch_linear_default",
    "orthogonal",
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


def calculate_gain(nonlinearity: str, param=None) -> float:
    r"""The gain torch's ``nn.init.calculate_gain`` recommends for a nonlinearity: the factor by
    which an initializer's standard deviation is scaled.

    - 1 for ``"linear"``, the convolutions (``"conv1d"`` ... ``"conv_transpose3d"``) and ``"sigmoid"``;
    - 5/3 for ``"tanh"``;
    - :math:`\sqrt 2` for ``"relu"``;
    - :math:`\sqrt{2/(1+a^2)}` for ``"leaky_relu"``, a = ``param`` (default 0.01);
    - 3/4 for ``"selu"``.

    The ReLU gain is He et al.'s (2015): a ReLU zeroes half of a symmetric input, so the weights
    need twice the variance to keep the second moment of the signal; the leaky ReLU's
    :math:`2/(1+a^2)` interpolates between it (a = 0) and a linear unit (a = 1). The other values are
    torch's conventions (tests/test_init.py checks every one against torch).
    """
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                        "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else _validate.real("param", param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"nonlinearity must be one of linear, conv1d, conv2d, conv3d, conv_transpose1d, "
                     f"conv_transpose2d, conv_transpose3d, sigmoid, tanh, relu, leaky_relu, selu; got {nonlinearity!r}")


def _ignored(rng):
    """Deterministic initializers accept ``rng`` (one signature for all) and only check it."""
    if rng is not None:
        _validate.rng("rng", rng)


def zeros(shape, rng=None) -> np.ndarray:
    """All zeros. For weights this makes every unit of a layer identical (the symmetry problem);
    for biases it is the usual choice."""
    _ignored(rng)
    return np.zeros(_shape(shape))


def ones(shape, rng=None) -> np.ndarray:
    """All ones (batch norm's gamma starts here)."""
    _ignored(rng)
    return np.ones(_shape(shape))


def constant(value: float):
    """An initializer ``init(shape, rng)`` that fills every entry with ``value``:
    ``nn.Linear(4, 3, rng=0, init=init.constant(0.3))``. Units so initialized stay identical
    forever under gradient descent (the symmetry problem)."""
    value = _validate.real("value", value)

    def initializer(shape, rng=None) -> np.ndarray:
        _ignored(rng)
        return np.full(_shape(shape), value)

    initializer.__name__ = initializer.__qualname__ = f"constant({value!r})"
    return initializer


def small_normal(shape, rng, std: float = 0.01) -> np.ndarray:
    r""":math:`W_{ij} \sim \mathcal N(0, \text{std}^2)`, std = 0.01 (source 003's ``0.01 * np.random.randn``).

    Activations shrink by a factor of about :math:`\text{std}\sqrt{n_\text{in}}` per layer, so deep
    networks see vanishing signals.
    """
    std = _validate.real("std", std, low=0.0)
    return std * _validate.rng("rng", rng).standard_normal(_shape(shape))


def lecun_normal(shape, rng, mode: str = "fan_in") -> np.ndarray:
    r""":math:`\mathcal N(0, 1/n_\text{in})`: the ``randn(fan_in, fan_out) / sqrt(fan_in)`` that source 003
    calls "Xavier". Keeps :math:`\operatorname{Var}(y) = n_\text{in}\operatorname{Var}(W)\operatorname{Var}(x)
    = \operatorname{Var}(x)` for a linear unit with zero-mean inputs (source 003's argument)."""
    return math.sqrt(1.0 / _fan(shape, mode)) * _validate.rng("rng", rng).standard_normal(_shape(shape))


def xavier_normal(shape, rng, gain: float = 1.0) -> np.ndarray:
    r"""Glorot/Xavier normal: :math:`\mathcal N\big(0,\ \text{gain}^2 \cdot 2/(n_\text{in}+n_\text{out})\big)`
    (source 004; torch ``nn.init.xavier_normal_``). A compromise between keeping the forward
    variance (:math:`1/n_\text{in}`) and the backward variance (:math:`1/n_\text{out}`)."""
    gain = _validate.real("gain", gain, low=0.0)
    fan_in, fan_out = compute_fans(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return std * _validate.rng("rng", rng).standard_normal(_shape(shape))


def xavier_uniform(shape, rng, gain: float = 1.0) -> np.ndarray:
    r"""Glorot/Xavier uniform: :math:`U(-a, a)`, :math:`a = \text{gain}\sqrt{6/(n_\text{in}+n_\text{out})}`,
    whose variance :math:`a^2/3` equals the normal version's (torch ``nn.init.xavier_uniform_``)."""
    gain = _validate.real("gain", gain, low=0.0)
    fan_in, fan_out = compute_fans(shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _validate.rng("rng", rng).uniform(-bound, bound, _shape(shape))


def _kaiming_gain(a, nonlinearity):
    a = _validate.real("a", a, low=0.0)
    if nonlinearity not in ("leaky_relu", "relu", "linear", "tanh", "sigmoid", "selu"):
        raise ValueError(f"nonlinearity must be one of leaky_relu, relu, linear, tanh, sigmoid, selu; got {nonlinearity!r}")
    return calculate_gain(nonlinearity, a)


def kaiming_normal(shape, rng, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> np.ndarray:
    r"""He/Kaiming normal: :math:`\mathcal N(0,\ \text{gain}^2/n)`, :math:`n` = fan-in (or fan-out with
    ``mode="fan_out"``), gain = ``calculate_gain(nonlinearity, a)``. The defaults (torch's
    ``nn.init.kaiming_normal_``: a leaky ReLU of slope ``a = 0``) give :math:`\text{gain}^2 = 2`, the
    variance :math:`2/n_\text{in}` of a ReLU network: half of the units are zeroed, so the weights
    need twice LeCun's variance (source 003, ``randn(fan_in, fan_out) / sqrt(fan_in / 2)``)."""
    std = _kaiming_gain(a, nonlinearity) / math.sqrt(_fan(shape, mode))
    return std * _validate.rng("rng", rng).standard_normal(_shape(shape))


def kaiming_uniform(shape, rng, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> np.ndarray:
    r"""He/Kaiming uniform: :math:`U(-b, b)`, :math:`b = \text{gain}\sqrt{3/n}`, variance :math:`\text{gain}^2/n`
    (torch ``nn.init.kaiming_uniform_``). With ``a = sqrt(5)`` it is :func:`torch_linear_default`'s
    :math:`U(\pm 1/\sqrt{n_\text{in}})`, which is how torch writes its ``nn.Linear`` default."""
    bound = _kaiming_gain(a, nonlinearity) * math.sqrt(3.0 / _fan(shape, mode))
    return _validate.rng("rng", rng).uniform(-bound, bound, _shape(shape))


def torch_linear_default(shape, rng, fan_in: int | None = None) -> np.ndarray:
    r"""torch's ``nn.Linear`` initialization, for weights *and* biases: :math:`U(-b, b)` with
    :math:`b = 1/\sqrt{n_\text{in}}`, variance :math:`b^2/3 = 1/(3 n_\text{in})`.

    That is a third of LeCun's variance and a sixth of He's: a deep ReLU network so initialized
    sees its signal shrink layer by layer. A weight's fan-in comes from its shape; a bias ``(M,)``
    has none of its own, so pass its weight's ``fan_in`` (``nn.Linear`` does).
    """
    shape = _shape(shape)
    if fan_in is None:
        if len(shape) < 2:
            raise ValueError(f"a bias of shape {shape} has no fan-in: pass fan_in, the in_features of its weight")
        fan_in = compute_fans(shape)[0]
    fan_in = _validate.integer("fan_in", fan_in, low=1)
    bound = 1.0 / math.sqrt(fan_in)
    return _validate.rng("rng", rng).uniform(-bound, bound, shape)


def orthogonal(shape, rng, gain: float = 1.0) -> np.ndarray:
    r"""A random orthogonal matrix times ``gain`` (Saxe, McClelland and Ganguli 2013; torch ``nn.init.orthogonal_``).

    The weight is seen as a ``(rows, cols)`` matrix, rows = ``shape[0]``, cols = the product of the
    rest. With :math:`A` standard normal (transposed when rows < cols) and :math:`A = QR`, the signs
    of :math:`Q`'s columns are fixed by :math:`\operatorname{sign}(\operatorname{diag} R)`, which makes
    :math:`Q` uniformly (Haar) distributed. Then :math:`W W^\top = \text{gain}^2 I` (rows ≤ cols) or
    :math:`W^\top W = \text{gain}^2 I` (rows ≥ cols): every singular value is the gain, so a deep
    *linear* network neither amplifies nor damps any direction (Saxe et al.'s dynamical isometry).
    """
    gain = _validate.real("gain", gain)
    shape = _shape(shape)
    if len(shape) < 2:
        raise ValueError(f"shape must have at least 2 dimensions for an orthogonal matrix, got {shape}")
    rows, cols = shape[0], math.prod(shape[1:])
    a = _validate.rng("rng", rng).standard_normal((rows, cols))
    if rows < cols:
        a = a.T
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return gain * q.reshape(shape)


glorot_normal = xavier_normal
glorot_uniform = xavier_uniform
he_normal = kaiming_normal
he_uniform = kaiming_uniform

#: Initializers by name, for ``nn.Linear(..., init="kaiming_normal")``.
INITIALIZERS = {
    "zeros": zeros,
    "ones": ones,
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
    "torch_linear_default": torch_linear_default,
    "orthogonal": orthogonal,
}


def get(init, name: str = "init"):
    """The initializer ``init`` names (a key of :data:`INITIALIZERS`), or ``init`` itself if it is a
    callable ``init(shape, rng)``. ``name`` is the caller's keyword, for the error messages."""
    if isinstance(init, str):
        if init not in INITIALIZERS:
            raise ValueError(f"{name} must be one of {sorted(INITIALIZERS)} or a callable init(shape, rng), got {init!r}")
        return INITIALIZERS[init]
    if init is constant:
        raise TypeError(f"{name}=init.constant needs its value first, e.g. {name}=init.constant(0.3)")
    if not callable(init):
        raise TypeError(f"{name} must be a name or a callable init(shape, rng), got {type(init).__name__}")
    return init


def draw(init, shape, rng, name: str = "init") -> np.ndarray:
    """``init(shape, rng)`` as a float64 array, checked to have the asked-for shape."""
    shape = _shape(shape)
    value = np.asarray(init(shape, rng), dtype=np.float64)
    if value.shape != shape:
        raise ValueError(f"{name} must return an array of shape {shape}, got {value.shape}")
    return value
