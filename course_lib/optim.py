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

One step, in three pieces
-------------------------
Each method is its *rule*, written once as the chapter writes it: from the gradient g and the
state to the update (``-lr * m_hat / (sqrt(v_hat) + eps)`` for Adam). Weight decay is a separate
piece around the rule (:class:`WeightDecay`):

* coupled (torch's ``weight_decay``, an L2 penalty :math:`\tfrac\lambda2\|\theta\|^2`): the rule
  sees :math:`g + \lambda\theta`;
* decoupled (AdamW, Loshchilov & Hutter 2019): the rule sees g, and :math:`-\eta\lambda\theta` is
  added to its update.

``mask`` (a callable ``name -> bool`` or a dict ``{name: bool}``) says which parameters decay;
:func:`weights_only` leaves biases and batch norm's gamma/beta out. ``groups`` gives parameter
groups their own ``lr`` (and ``weight_decay``), as torch's ``param_groups``::

    adamw(lr=1e-3, weight_decay=1e-2, mask=weights_only,
          groups=[{"params": lambda name: name.startswith("4."), "lr": 1e-2}])

Masks and groups select parameters by name, so they need params as a dict. :class:`Layout`
lays such a dict out as one flat vector (the idea of JAX's ``ravel_pytree``); ``course_lib.train``
steps that vector, with the per-parameter learning rates and decay rates as flat vectors too.

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

Weight decay, masks, clipping: ``WeightDecay``, ``with_weight_decay``, ``weights_only``, ``clip_grad_norm``.
Plumbing: ``Optimizer``, ``Layout``, ``apply_updates``, the state types ``*State``.

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

import itertools
import math
import numbers
from typing import Any, Callable, NamedTuple

import numpy as np

from course_lib import _validate
from course_lib.ewma import ewma_update

__all__ = [
    "Optimizer",
    "Layout",
    "WeightDecay",
    "apply_updates",
    "weights_only",
    "with_weight_decay",
    "clip_grad_norm",
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
# Parameter trees: an ndarray, or a dict of ndarrays (float64, or float32 kept as float32).
# --------------------------------------------------------------------------------------------

_FLOATS = (np.float64, np.float32)


def _leaf(name: str, value) -> np.ndarray:
    if isinstance(value, np.ndarray) and value.dtype in _FLOATS:
        return value
    if isinstance(value, (str, bytes, dict, set)) or value is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}")
    array = np.asarray(value)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"{name} must be an array of real numbers, got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise TypeError(f"{name} must contain real numbers, got complex values")
    return array if array.dtype in _FLOATS else array.astype(np.float64)


def _tree(name: str, value):
    """``value`` as float arrays: an ndarray (or array-like) or a dict of them (str keys)."""
    if isinstance(value, dict):
        if not value:
            raise ValueError(f"{name} must not be an empty dict")
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"{name} keys must be strings, got {key!r}")
        arrays = {key: _leaf(f"{name}[{key!r}]", item) for key, item in value.items()}
        # the same dict when nothing needed converting (it may be a Layout's views: no copy to step it)
        return value if all(arrays[key] is item for key, item in value.items()) else arrays
    return _leaf(name, value)


def _kind(tree) -> str:
    return "a dict" if isinstance(tree, dict) else "an array"


def _matching(name: str, tree, params):
    """Check that ``tree`` has the structure of ``params`` (type, keys, shapes); return it as arrays."""
    tree = _tree(name, tree)
    if isinstance(params, dict) != isinstance(tree, dict):
        raise TypeError(f"{name} must have the structure of params: params is {_kind(params)}, {name} is {_kind(tree)}")
    if isinstance(params, dict):
        if set(tree) != set(params):
            raise ValueError(
                f"{name} must have the keys of params: missing {sorted(set(params) - set(tree))}, "
                f"unexpected {sorted(set(tree) - set(params))}"
            )
        for key in params:
            if tree[key].shape != params[key].shape:
                raise ValueError(
                    f"{name}[{key!r}] must have the shape of params[{key!r}], "
                    f"{params[key].shape}, got {tree[key].shape}"
                )
        return {key: tree[key] for key in params}
    if tree.shape != params.shape:
        raise ValueError(f"{name} must have the shape of params, {params.shape}, got {tree.shape}")
    return tree


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


def apply_updates(params, updates):
    """``params + updates``, elementwise over the tree; new arrays."""
    if isinstance(params, dict):
        return {key: params[key] + updates[key] for key in params}
    return params + updates


class _Views(dict):
    """:meth:`Layout.unravel`'s dict, which remembers the vector its arrays are views of."""

    def __init__(self, items, *, vector, names, views):
        super().__init__(items)
        self.vector, self.names, self.views = vector, names, views

    def __reduce__(self):  # copies and pickles are plain dicts
        return dict, (dict(self),)


class Layout:
    r"""Where each array of a dict of parameters sits in one flat vector (JAX's ``ravel_pytree`` idea).

    ``Layout(params)`` records the names (in order), shapes and sizes; ``ravel(tree)`` concatenates a
    dict of that structure into one vector of ``size`` entries, ``unravel(vector)`` gives the dict
    back as *views* of the vector (no copies), and ``expand({name: value})`` repeats one value per
    parameter over its entries (a per-parameter learning rate as a flat vector). Every update rule
    here is elementwise, so stepping the ravelled vector is the same computation as stepping the dict
    (tests/test_train.py checks it), in one numpy call per operation instead of one per array.
    """

    def __init__(self, params: dict):
        if not isinstance(params, dict) or not params:
            raise TypeError(f"params must be a non-empty dict of arrays, got {type(params).__name__}")
        self.names = list(params)
        self.shapes = [np.shape(params[k]) for k in self.names]
        self.sizes = [math.prod(shape) for shape in self.shapes]
        self.ends = list(itertools.accumulate(self.sizes))
        self.starts = [0] + self.ends[:-1]
        self.size = self.ends[-1]

    def ravel(self, tree: dict, dtype=None) -> np.ndarray:
        """The arrays of ``tree`` (same names and shapes) in order, as one vector.

        A new vector, unless ``tree`` is a dict :meth:`unravel` made (as the parameters and states an
        optimizer returns are) still holding its views: then the vector they view, without a copy.
        """
        if isinstance(tree, _Views) and tree.names == self.names and tree.vector.size == self.size and all(
                tree.get(k) is view for k, view in zip(self.names, tree.views)):
            vector = tree.vector
        elif tree.keys() != set(self.names):
            raise ValueError(f"tree must have the keys {self.names}, got {sorted(tree)}")
        else:
            vector = np.concatenate([np.asarray(tree[k]).reshape(-1) for k in self.names])
        return vector if dtype is None else vector.astype(dtype, copy=False)

    def unravel(self, vector: np.ndarray) -> dict:
        """``{name: view of vector reshaped}``, the inverse of :meth:`ravel`."""
        views = [vector[a:b].reshape(shape) for shape, a, b in zip(self.shapes, self.starts, self.ends)]
        return _Views(zip(self.names, views), vector=vector, names=self.names, views=views)

    def expand(self, values) -> np.ndarray:
        """A vector with ``values[name]`` (or ``values[i]``, in the order of names) at each entry of that parameter."""
        if isinstance(values, dict):
            values = [values[k] for k in self.names]
        return np.repeat(np.asarray(values, dtype=np.float64), self.sizes)

    def ravel_state(self, state, dtype=None):
        """An optimizer state over the dict, its array fields ravelled (None stays None)."""
        return type(state)(state[0], *(None if f is None else self.ravel(f, dtype) for f in state[1:]))

    def unravel_state(self, state):
        """The inverse of :meth:`ravel_state`: the array fields as dicts of views."""
        return type(state)(state[0], *(None if f is None else self.unravel(f) for f in state[1:]))


# --------------------------------------------------------------------------------------------
# Hyperparameters
# --------------------------------------------------------------------------------------------

def _nonnegative(name, value) -> float:
    return _validate.real(name, value, low=0.0)


def _learning_rate(lr, name="lr"):
    """A float >= 0, or a schedule (callable of the step count)."""
    if callable(lr):
        return lr
    return _nonnegative(name, lr)


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


# --------------------------------------------------------------------------------------------
# Weight decay: one piece, coupled or decoupled, with a mask
# --------------------------------------------------------------------------------------------

def weights_only(name: str) -> bool:
    """The usual decay mask: True for weight matrices (``"0.weight"``), False for biases and batch
    norm's ``gamma``/``beta`` (names not ending in ``"weight"``)."""
    return name.split(".")[-1] == "weight"


def _selector(name: str, value):
    """A callable ``param_name -> bool`` from a callable, a dict of booleans or a collection of names.

    Returns ``(select, listed)``: ``listed`` are the names a dict or collection mentions, checked
    against the parameters when the optimizer meets them.
    """
    if callable(value):
        return value, ()
    if isinstance(value, dict):
        for key, flag in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{name} keys must be parameter names (str), got {key!r}")
            _validate.boolean(f"{name}[{key!r}]", flag)
        flags = dict(value)  # a copy: later changes to the caller's dict change nothing
        return (lambda param: bool(flags[param])), tuple(flags)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a callable name -> bool, a dict of booleans or a list of names, got {value!r}")
    names = tuple(value)
    for key in names:
        if not isinstance(key, str):
            raise TypeError(f"{name} must list parameter names (str), got {key!r}")
    chosen = frozenset(names)
    return (lambda param: param in chosen), names


class WeightDecay:
    r"""Weight decay with rate :math:`\lambda`, the one piece every optimizer here shares.

    * coupled (``decoupled=False``; torch's ``weight_decay``): the gradient the rule sees is
      :math:`g + \lambda\theta`, the gradient of the penalty :math:`\tfrac\lambda2\|\theta\|^2` added
      to the loss's. Under plain SGD this is :math:`\theta \leftarrow (1-\eta\lambda)\theta - \eta g`;
      under an adaptive method :math:`\lambda\theta` is rescaled like the gradient.
    * decoupled (``decoupled=True``; AdamW, Loshchilov & Hutter 2019): the rule sees g and
      :math:`-\eta\lambda\theta` is added to its update, so every weight shrinks by the factor
      :math:`1-\eta\lambda` per step whatever the rule does (torch's ``p.mul_(1 - lr * wd)``).

    ``mask`` (None: every parameter): a callable ``name -> bool`` or a dict ``{name: bool}``; a
    parameter decays where it is True (:func:`weights_only` leaves biases and gamma/beta out).
    """

    def __init__(self, weight_decay: float, *, decoupled: bool = False, mask=None):
        self.rate = _nonnegative("weight_decay", weight_decay)
        self.decoupled = _validate.boolean("decoupled", decoupled)
        self.mask = mask
        self._select, self._listed = (None, ()) if mask is None else _selector("mask", mask)

    def rate_for(self, name: str | None, rate: float | None = None) -> float:
        """The decay rate of parameter ``name`` (``rate``, default :attr:`rate`, or 0 where masked out)."""
        rate = self.rate if rate is None else rate
        if self._select is None:
            return rate
        if name is None:
            raise TypeError("mask selects parameters by name: params must be a dict of named arrays, got an array")
        if self._listed and name not in self._listed:
            raise ValueError(f"mask has no entry for parameter {name!r}")
        return rate if self._select(name) else 0.0

    @staticmethod
    def gradient(g, p, wd):
        r"""Coupled decay: :math:`g + \lambda\theta`."""
        return g + wd * p

    @staticmethod
    def update(update, p, lr, wd):
        r"""Decoupled decay: :math:`u - \eta\lambda\theta`."""
        return update - (lr * wd) * p

    def __repr__(self):
        mask = "" if self.mask is None else f", mask={getattr(self.mask, '__name__', self.mask)!r}"
        return f"WeightDecay({self.rate}, decoupled={self.decoupled}{mask})"


def clip_grad_norm(grads, max_norm: float, norm_type: float = 2.0):
    r"""Gradient clipping by the global norm, as ``torch.nn.utils.clip_grad_norm_``.

    .. math::

        n = \Big\|\big(\|g_1\|_p, \|g_2\|_p, \dots\big)\Big\|_p, \qquad
        g \leftarrow g \cdot \min\Big(1, \frac{c}{n + 10^{-6}}\Big)

    over every array of ``grads`` (an ndarray or a dict of them), with ``max_norm`` c and
    ``norm_type`` p (``float("inf")``: the largest absolute entry). Like torch, the gradients are
    always multiplied by the clamped coefficient (by 1 when n is small enough) and the 1e-6 keeps a
    zero gradient finite. Returns ``(clipped_grads, n)``: new arrays and the norm *before* clipping.
    """
    max_norm = _validate.real("max_norm", max_norm, low=0.0)
    if norm_type != float("inf"):
        norm_type = _validate.real("norm_type", norm_type, low=0.0, low_open=True)
    grads = _tree("grads", grads)
    arrays = list(grads.values()) if isinstance(grads, dict) else [grads]
    norms = np.array([np.linalg.norm(np.ravel(g), ord=norm_type) for g in arrays])
    total = float(np.max(norms) if norm_type == float("inf") else np.linalg.norm(norms, ord=norm_type))
    coef = min(max_norm / (total + 1e-6), 1.0)
    if isinstance(grads, dict):
        return {key: g * coef for key, g in grads.items()}, total
    return grads * coef, total


# --------------------------------------------------------------------------------------------
# Parameter groups
# --------------------------------------------------------------------------------------------

class _Group(NamedTuple):
    select: Callable
    listed: tuple
    lr: Any          # None: the optimizer's lr
    weight_decay: Any  # None: the optimizer's weight_decay


def _groups(groups) -> tuple:
    """``[{"params": selector, "lr": ..., "weight_decay": ...}, ...]`` checked (torch's param_groups form)."""
    if groups is None:
        return ()
    if isinstance(groups, dict) or not isinstance(groups, (list, tuple)):
        raise TypeError(f"groups must be a list of dicts like {{'params': ..., 'lr': ...}}, got {type(groups).__name__}")
    out = []
    for i, group in enumerate(groups):
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"groups[{i}] must be a dict with a 'params' entry, got {group!r}")
        unknown = set(group) - {"params", "lr", "weight_decay"}
        if unknown:
            raise ValueError(f"groups[{i}] may set 'params', 'lr' and 'weight_decay', got {sorted(unknown)}")
        select, listed = _selector(f"groups[{i}]['params']", group["params"])
        lr = group.get("lr")
        wd = group.get("weight_decay")
        out.append(_Group(select, listed, None if lr is None else _learning_rate(lr, f"groups[{i}]['lr']"),
                          None if wd is None else _nonnegative(f"groups[{i}]['weight_decay']", wd)))
    return tuple(out)


# --------------------------------------------------------------------------------------------
# The optimizer object
# --------------------------------------------------------------------------------------------

def _uniform(values):
    """The common value of ``values`` if they are all the same float, else None."""
    first = values[0]
    if callable(first) or any(callable(v) or v != first for v in values[1:]):
        return None
    return first


class Optimizer:
    """An optimizer: ``init``, ``update``, ``step`` and ``lookahead`` around one update rule.

    Built by the factories of this module (``adam(...)`` etc.), not directly. ``name`` is the
    factory's name, ``hyperparams`` a dict of its arguments, ``decay`` its :class:`WeightDecay`
    (or None) and ``groups`` its parameter groups. ``rule(g, *state_fields, t=t, lr=lr)`` returns
    ``(update, *new_state_fields)`` for one array (``lr`` a float, or a vector in a flat layout).
    """

    def __init__(self, name: str, hyperparams: dict, state_type, init: Callable, rule: Callable,
                 lookahead: Callable | None = None, *, decay: WeightDecay | None = None, groups=None):
        self.name = name
        self.hyperparams = dict(hyperparams)
        self.state_type = state_type
        self.decay = decay
        self.groups = _groups(groups)
        self._init = init
        self._rule = rule
        self._lookahead = lookahead
        if self.decay is None and any(g.weight_decay is not None for g in self.groups):
            raise ValueError(f"{name} has no weight decay: its groups cannot set 'weight_decay'")

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.hyperparams.items())
        if self.decay is not None and self.decay.mask is not None:
            args += f", mask={getattr(self.decay.mask, '__name__', self.decay.mask)!r}"
        if self.groups:
            args += f", groups=<{len(self.groups)}>"
        return f"{self.name}({args})"

    def init(self, params):
        """The initial state for ``params`` (an ndarray, or a dict of ndarrays); ``step`` is 0."""
        return self._init(_tree("params", params))

    # ---- hyperparameters per parameter: (lr or schedule, weight decay rate)

    def _per_name(self, names):
        """``[(lr, wd), ...]`` for each parameter name (None: params is one unnamed array)."""
        if self.groups and names == [None]:
            raise TypeError("groups select parameters by name: params must be a dict of named arrays, got an array")
        for i, group in enumerate(self.groups):
            missing = [k for k in group.listed if k not in names]
            if missing:
                raise ValueError(f"groups[{i}]['params'] names {missing} that are not parameters; available: {list(names)}")
        if self.decay is not None and self.decay._listed:
            unknown = [k for k in self.decay._listed if k not in names]
            if unknown:
                raise ValueError(f"mask names {unknown} that are not parameters; available: {list(names)}")
        out = []
        for name in names:
            chosen = [i for i, group in enumerate(self.groups) if group.select(name)]
            if len(chosen) > 1:
                raise ValueError(f"parameter {name!r} is in groups {chosen}: each parameter may be in one group only")
            group = self.groups[chosen[0]] if chosen else None
            lr = self.hyperparams["lr"] if group is None or group.lr is None else group.lr
            wd = 0.0 if self.decay is None else self.decay.rate_for(name, None if group is None else group.weight_decay)
            out.append((lr, wd))
        return out

    # ---- one array: decay, rule, decay

    def _leaf(self, p, g, fields, t, lr, wd, apply):
        decay = self.decay
        if decay is not None and not decay.decoupled and _nonzero(wd):
            g = decay.gradient(g, p, wd)                 # coupled: the rule sees g + lambda theta
        update, *fields = self._rule(g, *fields, t=t, lr=lr)
        if decay is not None and decay.decoupled and _nonzero(wd):
            update = decay.update(update, p, lr, wd)     # decoupled: - lr lambda theta after the rule
        return _finish(p, update, apply), fields

    def _hyper(self, layout: Layout | None):
        """``(lr_at, wd)`` for the vectors of ``layout`` (None: one unnamed array): ``lr_at(t)`` is the
        learning rate of step t and ``wd`` the decay rate, each a float, or a flat vector where the
        parameters' values differ (groups, mask)."""
        per_name = self._per_name([None] if layout is None else layout.names)
        lrs = [lr for lr, _ in per_name]
        wds = [wd for _, wd in per_name]
        wd = _uniform(wds)
        wd = layout.expand(wds) if wd is None else wd
        if all(v is lrs[0] for v in lrs) or _uniform(lrs) is not None:
            return (lambda t: _lr_at(lrs[0], t)), wd
        if not any(callable(v) for v in lrs):
            vector = layout.expand(lrs)
            return (lambda t: vector), wd
        return (lambda t: layout.expand([_lr_at(v, t) for v in lrs])), wd

    def _vector_step(self, theta, grads, state, hyper, apply):
        lr_at, wd = hyper
        t = state.step
        out, fields = self._leaf(theta, grads, state[1:], t, lr_at(t), wd, apply)
        return out, self.state_type(t + 1, *fields)

    def _raw(self, params, grads, state, apply):
        if not isinstance(params, dict):
            return self._vector_step(params, grads, state, self._hyper(None), apply)
        # A dict is stepped as one vector (see Layout): one numpy call per operation, not one per array.
        layout = Layout(params)
        out, state = self._vector_step(layout.ravel(params), layout.ravel(grads), layout.ravel_state(state),
                                       self._hyper(layout), apply)
        out = layout.unravel(out)
        for key, value in out.items():  # a dict mixing float32 and float64 arrays was stepped in float64
            if value.dtype != params[key].dtype:
                out[key] = value.astype(params[key].dtype)
        return out, layout.unravel_state(state)

    def _run(self, grads, state, params, apply: bool):
        params = _tree("params", params)
        grads = _matching("grads", grads, params)
        _check_state(state, self.state_type, params)
        return self._raw(params, grads, state, apply)

    def _raw_step(self, params, grads, state):
        """``step`` without the argument checks, for loops that built params and state themselves."""
        return self._raw(params, grads, state, True)

    def flat_step(self, layout: Layout | None, *, apply: bool = True) -> Callable:
        r"""``step(theta, grads, state)`` for the flat vectors of ``layout`` (see :class:`Layout`).

        What ``step`` does for a dict, without ravelling and checking on every call: the
        per-parameter learning rates and decay rates (groups, mask) are expanded into flat vectors
        once (a schedule is still evaluated at each step's t). ``state`` is
        ``layout.ravel_state(opt.init(params))``. ``layout=None``: one unnamed array. With
        ``apply=False`` it returns ``(updates, new_state)`` as ``update`` does. For training loops.
        """
        hyper = self._hyper(layout)
        return lambda theta, grads, state: self._vector_step(theta, grads, state, hyper, apply)

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


def _nonzero(wd) -> bool:
    """A decay rate that does something: a vector (only made when rates differ) or a float != 0."""
    return isinstance(wd, np.ndarray) or wd != 0.0


def _finish(p, update, apply):
    """The step's output in the dtype of ``p``: the ``update`` itself, or (``apply``) ``p + update``.

    ``update`` is always a fresh array owned by the optimizer, so it may be overwritten.
    """
    update = np.asarray(update)  # arithmetic on 0-d arrays returns numpy scalars
    if apply:
        update = np.add(p, update, out=update) if update.dtype == p.dtype else p + update
    return update if update.dtype == p.dtype else update.astype(p.dtype)


def with_weight_decay(optimizer: Optimizer, weight_decay: float, *, decoupled: bool = False, mask=None) -> Optimizer:
    r"""A copy of ``optimizer`` with the :class:`WeightDecay` piece ``(weight_decay, decoupled, mask)``.

    The composable form of the constructors' ``weight_decay`` argument: for example
    ``with_weight_decay(sgd(0.1, momentum=0.9), 5e-4, decoupled=True)`` is SGD with decoupled decay
    (SGDW, Loshchilov & Hutter 2019), and ``with_weight_decay(adam(), 1e-2, decoupled=True)`` is
    ``adamw()``. It replaces the optimizer's own decay.
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a course_lib.optim Optimizer, got {type(optimizer).__name__}")
    decay = WeightDecay(weight_decay, decoupled=decoupled, mask=mask)
    hyperparams = dict(optimizer.hyperparams, weight_decay=decay.rate)
    new = Optimizer(optimizer.name, hyperparams, optimizer.state_type, optimizer._init, optimizer._rule,
                    optimizer._lookahead, decay=decay)
    new.groups = optimizer.groups
    return new


# --------------------------------------------------------------------------------------------
# SGD (with momentum, dampening, Nesterov)
# --------------------------------------------------------------------------------------------

def sgd(lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0, *, mask=None, groups=None) -> Optimizer:
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

    ``lr`` is required (as in torch). ``mask``: which parameters decay (see :class:`WeightDecay`);
    ``groups``: per-group ``lr``/``weight_decay`` (see the module docstring).
    State: :class:`SGDState` ``(step, b)``, shapes of params.
    """
    lr = _learning_rate(lr)
    momentum = _nonnegative("momentum", momentum)
    dampening = _validate.real("dampening", dampening)
    nesterov = _validate.boolean("nesterov", nesterov)
    decay = WeightDecay(weight_decay, mask=mask)
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError("nesterov=True requires momentum > 0 and dampening = 0")

    def init(params):
        return SGDState(0, _zeros_like(params) if momentum else None)

    def rule(g, b, *, t, lr):
        if momentum:
            b = g.copy() if t == 0 else momentum * b + (1.0 - dampening) * g
            g = g + momentum * b if nesterov else b
        return -lr * g, b

    return Optimizer("sgd", dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                                 weight_decay=decay.rate), SGDState, init, rule, decay=decay, groups=groups)


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
            *, eps_inside_sqrt=False, mask=None, groups=None) -> Optimizer:
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
    decay = WeightDecay(weight_decay, mask=mask)
    initial_accumulator_value = _nonnegative("initial_accumulator_value", initial_accumulator_value)
    eps = _nonnegative("eps", eps)
    eps_inside_sqrt = _validate.boolean("eps_inside_sqrt", eps_inside_sqrt)

    def init(params):
        return AdagradState(0, _zeros_like(params, initial_accumulator_value))

    def rule(g, r, *, t, lr):
        clr = lr / (1.0 + t * lr_decay)          # t steps taken before this one
        r = r + g * g                             # running sum of g^2
        return -clr * g / _denominator(r, eps, eps_inside_sqrt), r

    return Optimizer("adagrad", dict(lr=lr, lr_decay=lr_decay, weight_decay=decay.rate,
                                     initial_accumulator_value=initial_accumulator_value, eps=eps,
                                     eps_inside_sqrt=eps_inside_sqrt), AdagradState, init, rule,
                     decay=decay, groups=groups)


# --------------------------------------------------------------------------------------------
# RMSProp
# --------------------------------------------------------------------------------------------

def rmsprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
            *, eps_inside_sqrt=False, mask=None, groups=None) -> Optimizer:
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
    decay = WeightDecay(weight_decay, mask=mask)
    momentum = _nonnegative("momentum", momentum)
    centered = _validate.boolean("centered", centered)
    eps_inside_sqrt = _validate.boolean("eps_inside_sqrt", eps_inside_sqrt)

    def init(params):
        zeros = lambda: _zeros_like(params)  # noqa: E731
        return RMSpropState(0, zeros(), zeros() if centered else None, zeros() if momentum > 0 else None)

    def rule(g, v, g_avg, b, *, t, lr):
        v = ewma_update(v, g * g, alpha)                   # EWMA of g^2
        if centered:
            g_avg = ewma_update(g_avg, g, alpha)           # EWMA of g
            s = v - g_avg * g_avg                          # an estimate of the variance of g
        else:
            s = v
        scaled = g / _denominator(s, eps, eps_inside_sqrt)
        if momentum > 0:
            b = momentum * b + scaled
            return -lr * b, v, g_avg, b
        return -lr * scaled, v, g_avg, b

    return Optimizer("rmsprop", dict(lr=lr, alpha=alpha, eps=eps, weight_decay=decay.rate, momentum=momentum,
                                     centered=centered, eps_inside_sqrt=eps_inside_sqrt), RMSpropState, init, rule,
                     decay=decay, groups=groups)


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

def adadelta(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, *, mask=None, groups=None) -> Optimizer:
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
    decay = WeightDecay(weight_decay, mask=mask)

    def init(params):
        return AdadeltaState(0, _zeros_like(params), _zeros_like(params))

    def rule(g, v, u, *, t, lr):
        v = ewma_update(v, g * g, rho)                      # EWMA of g^2
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = ewma_update(u, delta * delta, rho)              # EWMA of the squared steps
        return -lr * delta, v, u

    return Optimizer("adadelta", dict(lr=lr, rho=rho, eps=eps, weight_decay=decay.rate), AdadeltaState, init, rule,
                     decay=decay, groups=groups)


# --------------------------------------------------------------------------------------------
# Adam, AdamW, AMSGrad
# --------------------------------------------------------------------------------------------

def _betas(betas):
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    return (_validate.real("betas[0]", betas[0], low=0.0, high=1.0, high_open=True),
            _validate.real("betas[1]", betas[1], low=0.0, high=1.0, high_open=True))


def _adam_like(name, lr, betas, eps, weight_decay, amsgrad, eps_inside_sqrt, decoupled, mask, groups) -> Optimizer:
    lr = _learning_rate(lr)
    beta1, beta2 = _betas(betas)
    eps = _nonnegative("eps", eps)
    decay = WeightDecay(weight_decay, decoupled=decoupled, mask=mask)
    amsgrad = _validate.boolean("amsgrad", amsgrad)
    eps_inside_sqrt = _validate.boolean("eps_inside_sqrt", eps_inside_sqrt)

    def init(params):
        return AdamState(0, _zeros_like(params), _zeros_like(params), _zeros_like(params) if amsgrad else None)

    def rule(g, m, v, v_max, *, t, lr):
        t = t + 1                                            # the number of this step, from 1
        m = ewma_update(m, g, beta1)                         # an EWMA of g ...
        v = ewma_update(v, g * g, beta2)                     # ... an EWMA of g^2 ...
        if amsgrad:
            v_max = np.maximum(v_max, v)                     # (AMSGrad: never let v shrink)
        m_hat = np.divide(m, 1.0 - beta1**t, out=np.empty_like(m))   # ... and bias correction
        v_hat = np.divide(v_max if amsgrad else v, 1.0 - beta2**t, out=np.empty_like(v))
        # -lr m_hat / (sqrt(v_hat) + eps), in place in the fresh arrays m_hat and v_hat
        update = np.multiply(-lr, m_hat, out=m_hat)
        update /= _denominator(v_hat, eps, eps_inside_sqrt, out=v_hat)
        return update, m, v, v_max

    hyperparams = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=decay.rate, amsgrad=amsgrad,
                       eps_inside_sqrt=eps_inside_sqrt)
    return Optimizer(name, hyperparams, AdamState, init, rule, decay=decay, groups=groups)


def adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *, eps_inside_sqrt=False,
         decoupled_weight_decay=False, mask=None, groups=None) -> Optimizer:
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
    ``decoupled_weight_decay=True`` (torch's keyword) is :func:`adamw`.
    State: :class:`AdamState` ``(step, m, v, v_max)``.
    """
    decoupled = _validate.boolean("decoupled_weight_decay", decoupled_weight_decay)
    return _adam_like("adam", lr, betas, eps, weight_decay, amsgrad, eps_inside_sqrt, decoupled, mask, groups)


def adamw(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *, eps_inside_sqrt=False,
          mask=None, groups=None) -> Optimizer:
    r"""AdamW (Loshchilov & Hutter 2019), as ``torch.optim.AdamW``: Adam with decoupled weight decay.

    .. math::

        \theta \leftarrow \theta - \eta\lambda\theta - \eta\, \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    with m, v, the bias correction and AMSGrad as in :func:`adam`, computed from the *raw* gradient:
    the decay does not pass through the adaptive scaling, so every weight shrinks by the same
    factor :math:`1 - \eta\lambda` per step. State: :class:`AdamState`.
    """
    return _adam_like("adamw", lr, betas, eps, weight_decay, amsgrad, eps_inside_sqrt, True, mask, groups)


# --------------------------------------------------------------------------------------------
# The sources' other formulations of momentum
# --------------------------------------------------------------------------------------------

def _velocity_method(name, lr, momentum_name, momentum, rule, lookahead=None) -> Optimizer:
    lr = _learning_rate(lr)
    momentum = _decay_rate(momentum_name, momentum)

    def init(params):
        return VelocityState(0, _zeros_like(params))

    return Optimizer(name, {"lr": lr, momentum_name: momentum}, VelocityState, init,
                     lambda g, v, *, t, lr: rule(g, v, lr, momentum),
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
    def rule(g, v, lr, momentum):
        v = momentum * v + lr * g
        return -v, v

    return _velocity_method("momentum_scaled", lr, "momentum", momentum, rule)


def momentum_ewma(lr, rho=0.9) -> Optimizer:
    r"""Momentum as an EWMA of the gradients (sources 001, 002).

    .. math::

        v \leftarrow \rho v + (1-\rho)\, g, \qquad \theta \leftarrow \theta - \epsilon v \qquad (v_0 = 0)

    Source 002's reparametrisation: equal to :func:`momentum_scaled` with
    :math:`\epsilon_{\text{scaled}} = (1-\rho)\,\epsilon` and so to ``sgd(lr=(1 - rho) * eps,
    momentum=rho)``. Not equal to ``sgd(lr=eps, momentum=rho, dampening=rho)``, whose first buffer is
    :math:`g_1` rather than :math:`(1-\rho) g_1`. No bias correction (001: "it does catch up quick").
    """
    def rule(g, v, lr, rho):
        v = ewma_update(v, g, rho)                     # EWMA of g
        return -lr * v, v

    return _velocity_method("momentum_ewma", lr, "rho", rho, rule)


def momentum_velocity(lr, momentum=0.9) -> Optimizer:
    r"""Momentum with the velocity as the actual displacement (sources 003, 004; Goodfellow Alg. 8.2).

    .. math::

        v \leftarrow \beta v - \alpha g, \qquad \theta \leftarrow \theta + v \qquad (v_0 = 0)

    :math:`v = -\alpha b` for torch's buffer b: exactly ``sgd(lr, momentum)`` with a constant lr
    (source 003: "they are equivalent - give same sequence of x").
    """
    def rule(g, v, lr, momentum):
        v = momentum * v - lr * g
        return v.copy(), v

    return _velocity_method("momentum_velocity", lr, "momentum", momentum, rule)


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
    def rule(g, v, lr, momentum):
        v = momentum * v - lr * g
        return v.copy(), v

    def lookahead(params, state, momentum):
        return apply_updates(params, _scale(state.v, momentum))

    return _velocity_method("nesterov_lookahead", lr, "momentum", momentum, rule, lookahead)


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

    def rule(g, r, v, *, t, lr):
        r = ewma_update(r, g * g, rho)                      # EWMA of g^2
        v = momentum * v - lr * g / (np.sqrt(r) + eps)
        return v.copy(), r, v

    def lookahead(params, state):
        return apply_updates(params, _scale(state.v, momentum))

    return Optimizer("rmsprop_nesterov", dict(lr=lr, rho=rho, momentum=momentum, eps=eps),
                     RMSpropNesterovState, init, rule, lookahead)
