r"""Optimizers (chapters "Gradient descent", "Momentum" and "Adaptive learning rates").

Every optimizer is a small object with explicit state, in the style of optax, and the exact
update rules of ``torch.optim`` (PyTorch 2.13, single-tensor code path), so the same
hyperparameters give the same numbers::

    opt = adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False)
    state = opt.init(params)                          # params: ndarray, or dict of ndarrays
    params, state = opt.step(params, grads, state)    # returns new objects
    updates, state = opt.update(grads, state, params) # composable: new params = params + updates

``state`` is a NamedTuple named after the maths (``AdamState(step, m, v, v_max)``); ``step`` counts
the steps taken so far (0 after ``init``). ``opt.hyperparams`` is a dict of the hyperparameters.
``lr`` may be a float or a schedule (any callable of the step count from 0, see
:mod:`course_lib.schedules`); step ``t`` (counting from 0) uses ``lr(t)``. Nothing passed in is
ever modified. ``opt.lookahead(params, state)`` is the point at which the method wants the next
gradient: ``params`` itself, except for the look-ahead (Nesterov) forms.

Public names
------------
torch.optim's methods, same names, defaults and validation:
    ``sgd``, ``adagrad``, ``rmsprop``, ``adadelta`` (Zeiler 2012), ``adam``, ``adamw``
The sources' other formulations (each proven equal, or shown to differ, in tests/test_optim_formulations.py):
    ``momentum_scaled``    V <- a V + eps g,           W <- W - V           (sources 000, 002)
    ``momentum_ewma``      v <- rho v + (1 - rho) g,   theta <- theta - eps v (sources 001, 002)
    ``momentum_velocity``  v <- rho v - alpha g,       theta <- theta + v   (003, 004; Goodfellow Alg. 8.2)
    ``nesterov_lookahead`` gradient at theta + beta v  (003, 004; Goodfellow Alg. 8.3)
    ``rmsprop_nesterov``   RMSProp with Nesterov momentum (004; Goodfellow Alg. 8.6)
    ``appendix_b_adadelta`` the method source 002 calls "adadelta" (it is RMSProp, eps inside the root)
    ``eps_inside_sqrt=True`` on adagrad/rmsprop/adam/adamw: 1/sqrt(v + eps) instead of 1/(sqrt(v) + eps)

Plumbing: ``Optimizer``, ``apply_updates``, the state types ``*State``.

Where the sources differ from one another or from the literature (each checked in tests)
-----------------------------------------------------------------------------------------
* Source 000 swaps the names: its "RMSProp" (a running *sum* of g^2) is AdaGrad, its "Adagrad"
  (a moving average of g^2) is RMSProp. It expands V^(3) as a(a(V^(0) + eps G) + eps G) + eps G;
  the inner term is a V^(0) + eps G. Adam stands for "adaptive moment estimation", not "adaptive momentum".
* Source 001 calls RMSProp's r "the zero-centered variance" and source 002 calls Adam's v an estimate
  of "the variance": both are the uncentred second moment E[g^2] (``rmsprop(centered=True)`` subtracts
  the squared mean). 001's "r_i = delta + r_i", read as an assignment, would add delta to the state
  every step; it means sqrt(delta + r) in the denominator.
* Source 002's "adadelta" is RMSProp with eps inside the square root; Zeiler's Adadelta also keeps an
  EWMA of the squared steps and needs no learning rate (torch's ``lr`` defaults to 1).
* Sources 002 (Adam, eps inside the root of the bias-corrected v) and 001 (RMSProp) place epsilon
  inside the root; torch, Kingma & Ba and source 003 place it outside. 001's Adam has no epsilon.
* Source 003's first code blocks ascend: ``x += learning_rate * dx`` and ``x += learning_rate * vx``
  need ``-=``. Its "running mean of gradients" v <- rho v + dx is an unnormalised sum that tends to
  dx / (1 - rho). Its first Adam loop, ``for t in range(num_iterations)``, divides by
  1 - beta1**0 = 0 (the next slide starts at 1), and ``... + 1e-7))`` has an unbalanced parenthesis.
* Source 004's footnote calls Keras' (and torch's) ``nesterov=True`` "an approximation"; with a constant
  learning rate it is exact: its iterates are the look-ahead points theta + beta v (tested). Its
  RMSProp with Nesterov momentum divides by sqrt(r) with no delta (as Goodfellow Alg. 8.6 does).
  AdaGrad is not "difficult to use due to gradient storage": it stores one running sum, the size of
  theta, like RMSProp; its practical problem is that the sum only grows, so the steps decay to zero.
"""
from __future__ import annotations

import numbers
from typing import Any, Callable, NamedTuple

import numpy as np

from course_lib import _validate
from course_lib.ewma import ewma_update

__all__ = [
    "Optimizer",
    "apply_updates",
    "sgd",
    "adagrad",
    "rmsprop",
    "adadelta",
    "adam",
    "adamw",
    "momentum_scaled",
    "momentum_ewma",
    "momentum_velocity",
    "nesterov_lookahead",
    "rmsprop_nesterov",
    "appendix_b_adadelta",
    "SGDState",
    "AdagradState",
    "RMSpropState",
    "AdadeltaState",
    "AdamState",
    "VelocityState",
    "RMSpropNesterovState",
]


# --------------------------------------------------------------------------------------------
# State types: one NamedTuple per method, its fields named after the maths.
# Each array field has the structure of params (an ndarray, or a dict of them), or is None.
# --------------------------------------------------------------------------------------------

class SGDState(NamedTuple):
    """``step``: steps taken; ``b``: momentum buffer (torch's ``momentum_buffer``; None without momentum)."""
    step: int
    b: Any


class AdagradState(NamedTuple):
    """``step``; ``r``: running sum of squared gradients (torch's ``sum``)."""
    step: int
    r: Any


class RMSpropState(NamedTuple):
    """``step``; ``v``: EWMA of g^2 (``square_avg``); ``g_avg``: EWMA of g (``grad_avg``, centered only);
    ``b``: momentum buffer (``momentum_buffer``, momentum > 0 only)."""
    step: int
    v: Any
    g_avg: Any
    b: Any


class AdadeltaState(NamedTuple):
    """``step``; ``v``: EWMA of g^2 (``square_avg``); ``u``: EWMA of the squared steps (``acc_delta``)."""
    step: int
    v: Any
    u: Any


class AdamState(NamedTuple):
    """``step``; ``m``: EWMA of g (``exp_avg``); ``v``: EWMA of g^2 (``exp_avg_sq``);
    ``v_max``: running maximum of v (``max_exp_avg_sq``, AMSGrad only, else None)."""
    step: int
    m: Any
    v: Any
    v_max: Any


class VelocityState(NamedTuple):
    """``step``; ``v``: the velocity of a momentum method (its meaning depends on the formulation)."""
    step: int
    v: Any


class RMSpropNesterovState(NamedTuple):
    """``step``; ``r``: EWMA of g^2; ``v``: velocity."""
    step: int
    r: Any
    v: Any


# --------------------------------------------------------------------------------------------
# Parameter trees: an ndarray, or a dict of ndarrays.
# --------------------------------------------------------------------------------------------

def _leaf(name: str, value) -> np.ndarray:
    if isinstance(value, np.ndarray) and value.dtype == np.float64:
        return value
    if isinstance(value, (str, bytes, dict, set)) or value is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}")
    array = np.asarray(value)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"{name} must be an array of real numbers, got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise TypeError(f"{name} must contain real numbers, got complex values")
    return array.astype(np.float64)


def _tree(name: str, value):
    """``value`` as float64 arrays: an ndarray (or array-like) or a dict of them (str keys)."""
    if isinstance(value, dict):
        if not value:
            raise ValueError(f"{name} must not be an empty dict")
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"{name} keys must be strings, got {key!r}")
        return {key: _leaf(f"{name}[{key!r}]", item) for key, item in value.items()}
    return _leaf(name, value)


def _matching(grads, params):
    """Check that ``grads`` has the structure of ``params`` (type, keys, shapes); return it as arrays."""
    grads = _tree("grads", grads)
    if isinstance(params, dict) != isinstance(grads, dict):
        kind = lambda x: "a dict" if isinstance(x, dict) else "an array"  # noqa: E731
        raise TypeError(f"grads must have the structure of params: params is {kind(params)}, grads is {kind(grads)}")
    if isinstance(params, dict):
        if set(grads) != set(params):
            raise ValueError(
                f"grads must have the keys of params: missing {sorted(set(params) - set(grads))}, "
                f"unexpected {sorted(set(grads) - set(params))}"
            )
        for key in params:
            if grads[key].shape != params[key].shape:
                raise ValueError(
                    f"grads[{key!r}] must have the shape of params[{key!r}], "
                    f"{params[key].shape}, got {grads[key].shape}"
                )
        return {key: grads[key] for key in params}
    if grads.shape != params.shape:
        raise ValueError(f"grads must have the shape of params, {params.shape}, got {grads.shape}")
    return grads


def _check_state(state, state_type, params):
    if not isinstance(state, state_type):
        raise TypeError(f"state must be the {state_type.__name__} returned by init, got {type(state).__name__}")
    for field, value in zip(state._fields[1:], state[1:]):
        if value is None:
            continue
        if isinstance(value, dict) != isinstance(params, dict) or (
            isinstance(params, dict) and set(value) != set(params)
        ):
            raise ValueError(f"state.{field} does not match the structure of params; was state made by init(params)?")


def _zeros_like(params, fill=0.0):
    if isinstance(params, dict):
        return {key: np.full_like(value, fill) for key, value in params.items()}
    return np.full_like(params, fill)


def _map(leaf_fn, params, grads, fields, **kwargs):
    """Apply ``leaf_fn(p, g, *fields)`` to every array; returns the tuple of output trees."""
    if not isinstance(params, dict):
        return leaf_fn(params, grads, *fields, **kwargs)
    columns = {key: leaf_fn(params[key], grads[key], *(None if f is None else f[key] for f in fields), **kwargs)
               for key in params}
    n_out = len(next(iter(columns.values())))
    outs = []
    for i in range(n_out):
        values = {key: out[i] for key, out in columns.items()}
        outs.append(None if all(v is None for v in values.values()) else values)
    return tuple(outs)


def apply_updates(params, updates):
    """``params + updates``, elementwise over the tree; new arrays."""
    if isinstance(params, dict):
        return {key: params[key] + updates[key] for key in params}
    return params + updates


# --------------------------------------------------------------------------------------------
# Hyperparameters and the optimizer object
# --------------------------------------------------------------------------------------------

def _nonnegative(name, value) -> float:
    return _validate.real(name, value, low=0.0)


def _learning_rate(lr):
    """A float >= 0, or a schedule (callable of the step count)."""
    if callable(lr):
        return lr
    return _nonnegative("lr", lr)


def _lr_at(lr, t: int) -> float:
    if not callable(lr):
        return lr
    value = lr(t)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
        raise ValueError(f"the lr schedule must return a finite float >= 0, got {value!r} at step {t}")
    return float(value)


def _decay_rate(name, value, *, closed=False) -> float:
    return _validate.real(name, value, low=0.0, high=1.0, high_open=not closed)


class Optimizer:
    """An optimizer: ``init``, ``update``, ``step`` and ``lookahead`` around one update rule.

    Built by the factories of this module (``adam(...)`` etc.), not directly.
    ``name`` is the factory's name and ``hyperparams`` a dict of its arguments.
    """

    def __init__(self, name: str, hyperparams: dict, state_type, init: Callable, leaf: Callable,
                 lookahead: Callable | None = None):
        self.name = name
        self.hyperparams = dict(hyperparams)
        self.state_type = state_type
        self._init = init
        self._leaf = leaf
        self._lookahead = lookahead

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.hyperparams.items())
        return f"{self.name}({args})"

    def init(self, params):
        """The initial state for ``params`` (an ndarray, or a dict of ndarrays); ``step`` is 0."""
        return self._init(_tree("params", params))

    def _run(self, grads, state, params, apply: bool):
        params = _tree("params", params)
        grads = _matching(grads, params)
        _check_state(state, self.state_type, params)
        return self._raw(params, grads, state, apply)

    def _raw(self, params, grads, state, apply):
        t = state.step
        lr = _lr_at(self.hyperparams["lr"], t)
        outs = _map(self._leaf, params, grads, state[1:], t=t, lr=lr, apply=apply)
        return outs[0], self.state_type(t + 1, *outs[1:])

    def _raw_step(self, params, grads, state):
        """``step`` without the argument checks, for loops that built params and state themselves."""
        return self._raw(params, grads, state, True)

    def update(self, grads, state, params):
        """``(updates, new_state)`` with ``params + updates`` the new parameters (optax's form)."""
        return self._run(grads, state, params, apply=False)

    def step(self, params, grads, state):
        """``(new_params, new_state)``: one step of the method. Nothing passed in is modified."""
        return self._run(grads, state, params, apply=True)

    def lookahead(self, params, state):
        """Where the method evaluates the next gradient: ``params``, or theta + beta v for Nesterov forms."""
        if self._lookahead is None:
            return params
        params = _tree("params", params)
        _check_state(state, self.state_type, params)
        return self._lookahead(params, state)


def _finish(p, direction, apply):
    """The step's output: the update ``direction`` itself, or (``apply``) ``p + direction``.

    ``direction`` is always a fresh array owned by the optimizer, so it may be overwritten.
    """
    direction = np.asarray(direction)  # arithmetic on 0-d arrays returns numpy scalars
    if apply:
        return np.add(p, direction, out=direction)
    return direction


# --------------------------------------------------------------------------------------------
# SGD (with momentum, dampening, Nesterov, weight decay)
# --------------------------------------------------------------------------------------------

# Arrays at least this large take the fast paths at the end of the sections (same maths, computed
# block by block with in-place numpy operations: no temporaries, and each block stays in cache).
_FAST_MIN_SIZE = 1 << 16
_BLOCK = 1 << 14  # 128 KB of float64 per array and block


def sgd(lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0) -> Optimizer:
    r"""Stochastic gradient descent with momentum, as ``torch.optim.SGD``.

    .. math::

        g &\leftarrow g + \lambda\theta \quad\text{(weight_decay } \lambda)\\
        b_1 &= g_1, \qquad b_t = \mu b_{t-1} + (1-\tau) g_t \quad (t>1)\\
        d &= g + \mu b_t \ \text{(nesterov)}, \quad\text{else } d = b_t\\
        \theta &\leftarrow \theta - \eta\, d

    with momentum :math:`\mu`, dampening :math:`\tau`. Without momentum, :math:`d = g`. The first
    buffer is the gradient itself, *not* :math:`(1-\tau)g_1`; with :math:`\tau = \mu` the buffer is
    therefore not the EWMA of :func:`momentum_ewma` (they differ by :math:`\mu^t g_1`). This is
    source 003's ``v <- rho v + dx; x -= lr v`` and, with the change of variable
    :math:`\tilde x = x + \rho v`, its Nesterov form (see :func:`nesterov_lookahead`).

    ``lr`` is required (as in torch). State: :class:`SGDState` ``(step, b)``, shapes of params.
    """
    lr = _learning_rate(lr)
    momentum = _nonnegative("momentum", momentum)
    dampening = _validate.real("dampening", dampening)
    nesterov = _validate.boolean("nesterov", nesterov)
    weight_decay = _nonnegative("weight_decay", weight_decay)
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError("nesterov=True requires momentum > 0 and dampening = 0")

    def init(params):
        return SGDState(0, _zeros_like(params) if momentum else None)

    def leaf(p, g, b, *, t, lr, apply):
        if momentum and not nesterov and p.size >= _FAST_MIN_SIZE:
            return _sgd_momentum_fast(p, g, b, t, lr, momentum, dampening, weight_decay, apply)
        if weight_decay:
            g = g + weight_decay * p
        if momentum:
            b = g.copy() if t == 0 else momentum * b + (1.0 - dampening) * g
            g = g + momentum * b if nesterov else b
        return _finish(p, -lr * g, apply), b

    return Optimizer("sgd", dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                                 weight_decay=weight_decay), SGDState, init, leaf)


def _blocks(n):
    """Slices of ``_BLOCK`` elements covering range(n)."""
    return (slice(start, min(start + _BLOCK, n)) for start in range(0, n, _BLOCK))


def _flat(*arrays):
    return [None if a is None else a.reshape(-1) for a in arrays]


def _sgd_momentum_fast(p, g, b, t, lr, momentum, dampening, weight_decay, apply):
    """:func:`sgd`'s momentum step, block by block with in-place work on fresh arrays.

    Same arithmetic as the readable path (so the same numbers); the blocks keep each pass in cache.
    """
    if weight_decay:
        g = g + weight_decay * p
    shape = p.shape
    p, g, b = _flat(p, g, b)
    new_b, out = np.empty_like(p), np.empty_like(p)
    for k in _blocks(p.size):
        if t == 0:
            np.copyto(new_b[k], g[k])                                 # b_1 = g_1
        else:
            np.multiply(b[k], momentum, out=new_b[k])                 # b = mu b + (1 - tau) g
            new_b[k] += g[k] if dampening == 0 else (1.0 - dampening) * g[k]
        np.multiply(new_b[k], -lr, out=out[k])                        # -lr b
        if apply:
            out[k] += p[k]
    return out.reshape(shape), new_b.reshape(shape)


# --------------------------------------------------------------------------------------------
# AdaGrad
# --------------------------------------------------------------------------------------------

def _denominator(v, eps, eps_inside_sqrt, out=None):
    """:math:`\\sqrt{v} + \\epsilon` (torch), or :math:`\\sqrt{v + \\epsilon}` (``eps_inside_sqrt``).

    ``out``: an array to write the result into (``v`` itself if the caller owns ``v``), else a new one.
    """
    if eps_inside_sqrt:
        return np.sqrt(np.add(v, eps, out=out), out=out)
    return np.add(np.sqrt(v, out=out), eps, out=out)


def adagrad(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
            *, eps_inside_sqrt=False) -> Optimizer:
    r"""AdaGrad (Duchi et al. 2011), as ``torch.optim.Adagrad``.

    .. math::

        g &\leftarrow g + \lambda\theta, \qquad
        \tilde\eta_t = \frac{\eta}{1 + (t-1)\,\text{lr_decay}}\\
        r &\leftarrow r + g\odot g \qquad (r_0 = \text{initial_accumulator_value})\\
        \theta &\leftarrow \theta - \tilde\eta_t\, \frac{g}{\sqrt{r} + \epsilon}

    A running *sum*, not an average: the steps shrink like :math:`1/\sqrt t` even on a constant
    gradient. Sources 003 and 004 (Goodfellow Alg. 8.4, :math:`\delta + \sqrt r`) agree; source 000
    calls this method "RMSProp". ``eps_inside_sqrt=True`` uses :math:`\sqrt{r + \epsilon}`.
    State: :class:`AdagradState` ``(step, r)``.
    """
    lr = _learning_rate(lr)
    lr_decay = _nonnegative("lr_decay", lr_decay)
    weight_decay = _nonnegative("weight_decay", weight_decay)
    initial_accumulator_value = _nonnegative("initial_accumulator_value", initial_accumulator_value)
    eps = _nonnegative("eps", eps)
    eps_inside_sqrt = _validate.boolean("eps_inside_sqrt", eps_inside_sqrt)

    def init(params):
        return AdagradState(0, _zeros_like(params, initial_accumulator_value))

    def leaf(p, g, r, *, t, lr, apply):
        if weight_decay:
            g = g + weight_decay * p
        clr = lr / (1.0 + t * lr_decay)          # t steps taken before this one
        r = r + g * g                             # running sum of g^2
        return _finish(p, -clr * g / _denominator(r, eps, eps_inside_sqrt), apply), r

    return Optimizer("adagrad", dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                     initial_accumulator_value=initial_accumulator_value, eps=eps,
                                     eps_inside_sqrt=eps_inside_sqrt), AdagradState, init, leaf)


# --------------------------------------------------------------------------------------------
# RMSProp
# --------------------------------------------------------------------------------------------

def rmsprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
            *, eps_inside_sqrt=False) -> Optimizer:
    r"""RMSProp (Tieleman & Hinton 2012), as ``torch.optim.RMSprop``.

    .. math::

        g &\leftarrow g + \lambda\theta\\
        v &\leftarrow \alpha v + (1-\alpha)\, g\odot g \qquad\text{(an EWMA of } g^2)\\
        \bar g &\leftarrow \alpha \bar g + (1-\alpha)\, g,\quad s = v - \bar g^2
            \ \text{(centered)}, \quad\text{else } s = v\\
        b &\leftarrow \mu b + \frac{g}{\sqrt{s} + \epsilon},\quad \theta \leftarrow \theta - \eta b
            \ \text{(momentum } \mu > 0),\quad\text{else } \theta \leftarrow \theta - \eta \frac{g}{\sqrt s + \epsilon}

    No bias correction (v starts at 0, so the first steps are large: :math:`g/\sqrt{1-\alpha}`).
    Source 000 calls this method "Adagrad"; source 002 calls it "adadelta" (with
    :math:`\sqrt{v + \epsilon}`: ``eps_inside_sqrt=True``, see :func:`appendix_b_adadelta`).
    ``alpha`` must lie in [0, 1) (torch accepts any alpha >= 0, but then v is no average).
    State: :class:`RMSpropState` ``(step, v, g_avg, b)``.
    """
    lr = _learning_rate(lr)
    alpha = _decay_rate("alpha", alpha)
    eps = _nonnegative("eps", eps)
    weight_decay = _nonnegative("weight_decay", weight_decay)
    momentum = _nonnegative("momentum", momentum)
    centered = _validate.boolean("centered", centered)
    eps_inside_sqrt = _validate.boolean("eps_inside_sqrt", eps_inside_sqrt)

    def init(params):
        zeros = lambda: _zeros_like(params)  # noqa: E731
        return RMSpropState(0, zeros(), zeros() if centered else None, zeros() if momentum > 0 else None)

    def leaf(p, g, v, g_avg, b, *, t, lr, apply):
        if weight_decay:
            g = g + weight_decay * p
        v = ewma_update(v, g * g, alpha)                   # EWMA of g^2
        if centered:
            g_avg = ewma_update(g_avg, g, alpha)           # EWMA of g
            s = v - g_avg * g_avg                          # an estimate of the variance of g
        else:
            s = v
        scaled = g / _denominator(s, eps, eps_inside_sqrt)
        if momentum > 0:
            b = momentum * b + scaled
            return _finish(p, -lr * b, apply), v, g_avg, b
        return _finish(p, -lr * scaled, apply), v, g_avg, b

    return Optimizer("rmsprop", dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                     centered=centered, eps_inside_sqrt=eps_inside_sqrt), RMSpropState, init, leaf)


def appendix_b_adadelta(lr, gamma=0.9, eps=1e-8) -> Optimizer:
    r"""The method source 002 (Appendix B) calls "adadelta": RMSProp with epsilon inside the root.

    .. math::

        G_t = \gamma G_{t-1} + (1-\gamma) g_t^2, \qquad
        W_t = W_{t-1} - \frac{\eta}{\sqrt{G_t + \varepsilon}}\, g_t

    This is ``rmsprop(lr, alpha=gamma, eps=eps, eps_inside_sqrt=True)``; it is *not* Zeiler's
    Adadelta (:func:`adadelta`), which also averages the squared steps and has no learning rate.
    Source 002 gives no value for :math:`\varepsilon`; 1e-8 is our choice.
    """
    opt = rmsprop(lr, alpha=gamma, eps=eps, eps_inside_sqrt=True)
    opt.name = "appendix_b_adadelta"
    opt.hyperparams = dict(lr=opt.hyperparams["lr"], gamma=opt.hyperparams["alpha"], eps=opt.hyperparams["eps"])
    return opt


# --------------------------------------------------------------------------------------------
# Adadelta (Zeiler 2012)
# --------------------------------------------------------------------------------------------

def adadelta(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0) -> Optimizer:
    r"""Adadelta (Zeiler 2012), as ``torch.optim.Adadelta``.

    .. math::

        g &\leftarrow g + \lambda\theta\\
        v &\leftarrow \rho v + (1-\rho)\, g^2 \qquad\text{(EWMA of } g^2)\\
        \Delta &= \frac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}}\, g \qquad
            \text{(RMS of past steps / RMS of gradients)}\\
        u &\leftarrow \rho u + (1-\rho)\, \Delta^2 \qquad\text{(EWMA of the squared steps)}\\
        \theta &\leftarrow \theta - \eta\, \Delta

    The ratio of RMS values gives the step the units of :math:`\theta` (Zeiler's argument), so
    no learning rate is needed: Zeiler's method is ``lr=1`` (torch's default). Not the method source
    002 calls "adadelta" (that one is :func:`appendix_b_adadelta`). ``rho`` must lie in [0, 1)
    (torch also accepts 1, which freezes v and u). State: :class:`AdadeltaState` ``(step, v, u)``.
    """
    lr = _learning_rate(lr)
    rho = _decay_rate("rho", rho)
    eps = _nonnegative("eps", eps)
    weight_decay = _nonnegative("weight_decay", weight_decay)

    def init(params):
        return AdadeltaState(0, _zeros_like(params), _zeros_like(params))

    def leaf(p, g, v, u, *, t, lr, apply):
        if weight_decay:
            g = g + weight_decay * p
        v = ewma_update(v, g * g, rho)                      # EWMA of g^2
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = ewma_update(u, delta * delta, rho)              # EWMA of the squared steps
        return _finish(p, -lr * delta, apply), v, u

    return Optimizer("adadelta", dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay), AdadeltaState, init, leaf)


# --------------------------------------------------------------------------------------------
# Adam, AdamW, AMSGrad
# --------------------------------------------------------------------------------------------

def _betas(betas):
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    return (_validate.real("betas[0]", betas[0], low=0.0, high=1.0, high_open=True),
            _validate.real("betas[1]", betas[1], low=0.0, high=1.0, high_open=True))


def _adam_like(name, lr, betas, eps, weight_decay, amsgrad, eps_inside_sqrt, decoupled) -> Optimizer:
    lr = _learning_rate(lr)
    beta1, beta2 = _betas(betas)
    eps = _nonnegative("eps", eps)
    weight_decay = _nonnegative("weight_decay", weight_decay)
    amsgrad = _validate.boolean("amsgrad", amsgrad)
    eps_inside_sqrt = _validate.boolean("eps_inside_sqrt", eps_inside_sqrt)

    def init(params):
        return AdamState(0, _zeros_like(params), _zeros_like(params), _zeros_like(params) if amsgrad else None)

    def leaf(p, g, m, v, v_max, *, t, lr, apply):
        if p.size >= _FAST_MIN_SIZE and not eps_inside_sqrt:
            return _adam_fast(p, g, m, v, v_max, t + 1, lr, beta1, beta2, eps, weight_decay, decoupled, apply)
        t = t + 1                                            # the number of this step, from 1
        if weight_decay and not decoupled:
            g = g + weight_decay * p                         # L2 penalty in the gradient (Adam)
        m = ewma_update(m, g, beta1)                         # an EWMA of g ...
        v = ewma_update(v, g * g, beta2)                     # ... an EWMA of g^2 ...
        if amsgrad:
            v_max = np.maximum(v_max, v)                     # (AMSGrad: never let v shrink)
        m_hat = np.divide(m, 1.0 - beta1**t, out=np.empty_like(m))   # ... and bias correction
        v_hat = np.divide(v_max if amsgrad else v, 1.0 - beta2**t, out=np.empty_like(v))
        # direction = -lr m_hat / (sqrt(v_hat) + eps), computed in place in the fresh arrays m_hat, v_hat
        direction = np.multiply(-lr, m_hat, out=m_hat)
        direction /= _denominator(v_hat, eps, eps_inside_sqrt, out=v_hat)
        if weight_decay and decoupled:
            direction -= lr * weight_decay * p               # decoupled decay (AdamW)
        return _finish(p, direction, apply), m, v, v_max

    hyperparams = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                       eps_inside_sqrt=eps_inside_sqrt)
    return Optimizer(name, hyperparams, AdamState, init, leaf)


def adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *, eps_inside_sqrt=False) -> Optimizer:
    r"""Adam (Kingma & Ba 2015), as ``torch.optim.Adam``: an EWMA of g, an EWMA of g², bias correction.

    .. math::

        g &\leftarrow g + \lambda\theta \qquad\text{(weight_decay: an L2 penalty, coupled)}\\
        m &\leftarrow \beta_1 m + (1-\beta_1)\, g, \qquad v \leftarrow \beta_2 v + (1-\beta_2)\, g^2\\
        \hat m &= m / (1-\beta_1^t), \qquad \hat v = v / (1-\beta_2^t)
            \qquad (\hat v = v_{\max}/(1-\beta_2^t),\ v_{\max} \leftarrow \max(v_{\max}, v) \text{ with amsgrad})\\
        \theta &\leftarrow \theta - \eta\, \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    with t the number of the step (1 for the first). On the first step :math:`\hat m = g` and
    :math:`\hat v = g^2`, so every weight moves by :math:`\eta\,\mathrm{sign}(g)` (up to epsilon).
    Source 002 writes :math:`\eta/\sqrt{\hat v + \varepsilon}` (``eps_inside_sqrt=True``); source 003
    (and torch) :math:`\hat m/(\sqrt{\hat v} + \epsilon)`; source 001 omits epsilon.
    State: :class:`AdamState` ``(step, m, v, v_max)``.
    """
    return _adam_like("adam", lr, betas, eps, weight_decay, amsgrad, eps_inside_sqrt, decoupled=False)


def adamw(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *, eps_inside_sqrt=False) -> Optimizer:
    r"""AdamW (Loshchilov & Hutter 2019), as ``torch.optim.AdamW``: Adam with decoupled weight decay.

    .. math::

        \theta \leftarrow \theta - \eta\lambda\theta - \eta\, \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    with m, v, the bias correction and AMSGrad as in :func:`adam`, computed from the *raw* gradient:
    the decay does not pass through the adaptive scaling, so every weight shrinks by the same
    factor :math:`1 - \eta\lambda` per step. State: :class:`AdamState`.
    """
    return _adam_like("adamw", lr, betas, eps, weight_decay, amsgrad, eps_inside_sqrt, decoupled=True)


def _adam_fast(p, g, m, v, v_max, t, lr, beta1, beta2, eps, weight_decay, decoupled, apply):
    """:func:`adam`'s step, block by block with in-place work on fresh arrays: same maths, no temporaries.

    The EWMAs are written as :math:`m + (1-\\beta)(g - m)` (torch's ``lerp``), and
    :math:`\\hat m/(\\sqrt{\\hat v}+\\epsilon) = m/(\\sqrt v + \\epsilon\\sqrt{1-\\beta_2^t})\\cdot
    \\sqrt{1-\\beta_2^t}/(1-\\beta_1^t)`.
    """
    if weight_decay and not decoupled:
        g = g + weight_decay * p
    shape = p.shape
    p, g, m, v, v_max = _flat(p, g, m, v, v_max)
    new_m, new_v, out = np.empty_like(p), np.empty_like(p), np.empty_like(p)
    new_v_max = None if v_max is None else np.empty_like(p)
    bc1, bc2_sqrt = 1.0 - beta1**t, (1.0 - beta2**t) ** 0.5
    scale, eps_scaled = -lr * bc2_sqrt / bc1, eps * bc2_sqrt
    for k in _blocks(p.size):
        mk, vk, ok = new_m[k], new_v[k], out[k]
        np.subtract(g[k], m[k], out=mk)           # m + (1 - beta1)(g - m): the EWMA of g
        mk *= 1.0 - beta1
        mk += m[k]
        np.multiply(g[k], g[k], out=vk)           # v + (1 - beta2)(g^2 - v): the EWMA of g^2
        vk -= v[k]
        vk *= 1.0 - beta2
        vk += v[k]
        if v_max is not None:
            vk = np.maximum(v_max[k], vk, out=new_v_max[k])
        np.sqrt(vk, out=ok)                       # scale * m / (sqrt(v) + eps * sqrt(bc2))
        ok += eps_scaled
        np.divide(mk, ok, out=ok)
        ok *= scale
        if weight_decay and decoupled:
            ok -= (lr * weight_decay) * p[k]
        if apply:
            ok += p[k]
    reshape = lambda a: None if a is None else a.reshape(shape)  # noqa: E731
    return reshape(out), reshape(new_m), reshape(new_v), reshape(new_v_max)


# --------------------------------------------------------------------------------------------
# The sources' other formulations of momentum
# --------------------------------------------------------------------------------------------

def _velocity_method(name, lr, momentum_name, momentum, leaf, lookahead=None, *, closed=False) -> Optimizer:
    lr = _learning_rate(lr)
    momentum = _decay_rate(momentum_name, momentum, closed=closed)

    def init(params):
        return VelocityState(0, _zeros_like(params))

    return Optimizer(name, {"lr": lr, momentum_name: momentum}, VelocityState, init,
                     lambda p, g, v, *, t, lr, apply: leaf(p, g, v, lr, momentum, apply),
                     None if lookahead is None else (lambda params, state: lookahead(params, state, momentum)))


def momentum_scaled(lr, momentum=0.9) -> Optimizer:
    r"""Momentum as sources 000 and 002 write it: the velocity carries the learning rate.

    .. math::

        V \leftarrow \alpha V + \epsilon\, g, \qquad W \leftarrow W - V \qquad (V_0 = 0)

    (000: :math:`\alpha, \epsilon`; 002: :math:`\gamma, \eta`). With a constant lr,
    :math:`V = \epsilon b` for torch's buffer b, so it is exactly ``sgd(lr, momentum)``. With a
    schedule they differ: here V remembers the old, larger learning rates. On a constant gradient
    V tends to :math:`\epsilon g/(1-\alpha)`: the "maximum acceleration" :math:`1/(1-\alpha)` (000).
    """
    def leaf(p, g, v, lr, momentum, apply):
        v = momentum * v + lr * g
        return _finish(p, -v, apply), v

    return _velocity_method("momentum_scaled", lr, "momentum", momentum, leaf)


def momentum_ewma(lr, rho=0.9) -> Optimizer:
    r"""Momentum as an EWMA of the gradients (sources 001, 002).

    .. math::

        v \leftarrow \rho v + (1-\rho)\, g, \qquad \theta \leftarrow \theta - \epsilon v \qquad (v_0 = 0)

    Source 002's reparametrisation: equal to :func:`momentum_scaled` with
    :math:`\epsilon_{\text{scaled}} = (1-\rho)\,\epsilon` and so to ``sgd(lr=(1 - rho) * eps,
    momentum=rho)``. Not equal to ``sgd(lr=eps, momentum=rho, dampening=rho)``, whose first buffer is
    :math:`g_1` rather than :math:`(1-\rho) g_1`. No bias correction (001: "it does catch up quick").
    """
    def leaf(p, g, v, lr, rho, apply):
        v = ewma_update(v, g, rho)                     # EWMA of g
        return _finish(p, -lr * v, apply), v

    return _velocity_method("momentum_ewma", lr, "rho", rho, leaf)


def momentum_velocity(lr, momentum=0.9) -> Optimizer:
    r"""Momentum with the velocity as the actual displacement (sources 003, 004; Goodfellow Alg. 8.2).

    .. math::

        v \leftarrow \beta v - \alpha g, \qquad \theta \leftarrow \theta + v \qquad (v_0 = 0)

    :math:`v = -\alpha b` for torch's buffer b: exactly ``sgd(lr, momentum)`` with a constant lr
    (source 003: "they are equivalent - give same sequence of x").
    """
    def leaf(p, g, v, lr, momentum, apply):
        v = momentum * v - lr * g
        return _finish(p, v.copy(), apply), v

    return _velocity_method("momentum_velocity", lr, "momentum", momentum, leaf)


def nesterov_lookahead(lr, momentum=0.9) -> Optimizer:
    r"""Nesterov momentum with the gradient at the look-ahead point (sources 003, 004; Goodfellow Alg. 8.3).

    .. math::

        \tilde\theta = \theta + \beta v, \qquad v \leftarrow \beta v - \alpha \nabla f(\tilde\theta),
        \qquad \theta \leftarrow \theta + v

    The gradient passed to ``step``/``update`` must be taken at ``opt.lookahead(params, state)``
    (:func:`course_lib.surfaces.run` does so). In the variable :math:`\tilde\theta` the same method is
    ``sgd(lr, momentum, nesterov=True)`` (source 003's change of variables): with a constant lr the
    torch iterates are exactly the look-ahead points :math:`\theta_t + \beta v_t` of this one.
    """
    def leaf(p, g, v, lr, momentum, apply):
        v = momentum * v - lr * g
        return _finish(p, v.copy(), apply), v

    def lookahead(params, state, momentum):
        return apply_updates(params, _scale(state.v, momentum))

    return _velocity_method("nesterov_lookahead", lr, "momentum", momentum, leaf, lookahead)


def _scale(tree, factor):
    if isinstance(tree, dict):
        return {key: factor * value for key, value in tree.items()}
    return factor * tree


def rmsprop_nesterov(lr, rho=0.9, momentum=0.9, eps=1e-8) -> Optimizer:
    r"""RMSProp with Nesterov momentum (source 004; Goodfellow et al. Alg. 8.6).

    .. math::

        \tilde\theta = \theta + \beta v, \quad g = \nabla f(\tilde\theta), \quad
        r \leftarrow \rho r + (1-\rho) g^2, \quad
        v \leftarrow \beta v - \frac{\alpha}{\sqrt{r} + \epsilon}\, g, \quad \theta \leftarrow \theta + v

    The source has no epsilon (:math:`\alpha/\sqrt r`), which divides 0 by 0 where a gradient
    component is exactly zero on the first step; ``eps=0`` reproduces it. Take the gradient at
    ``opt.lookahead(params, state)``. State: :class:`RMSpropNesterovState` ``(step, r, v)``.
    """
    lr = _learning_rate(lr)
    rho = _decay_rate("rho", rho)
    momentum = _decay_rate("momentum", momentum)
    eps = _nonnegative("eps", eps)

    def init(params):
        return RMSpropNesterovState(0, _zeros_like(params), _zeros_like(params))

    def leaf(p, g, r, v, *, t, lr, apply):
        r = ewma_update(r, g * g, rho)                      # EWMA of g^2
        v = momentum * v - lr * g / (np.sqrt(r) + eps)
        return _finish(p, v.copy(), apply), r, v

    def lookahead(params, state):
        return apply_updates(params, _scale(state.v, momentum))

    return Optimizer("rmsprop_nesterov", dict(lr=lr, rho=rho, momentum=momentum, eps=eps),
                     RMSpropNesterovState, init, leaf, lookahead)
