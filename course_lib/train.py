r"""The training loop (chapter "Gradient descent and the learning rate", and every chapter after).

One epoch of mini-batch training, as sources 001, 003 and 004 write it::

    for each mini-batch (x_B, y_B) of a fresh random permutation of the training set:
        forward (mode "train") -> loss;  backward -> gradients (+ regularizer gradients)
        params, state = optimizer.step(params, grads, state)

then the validation loss and accuracy in mode "eval". :func:`train` returns a :class:`History`
whose ``state`` (a :class:`TrainState`: the optimizer's state, the generator of the batch order,
the epochs so far) can be passed back as ``state=``: the second call continues the same run, with
the same Adam moments, the schedule at the right step and the batch order going on, so two calls
of 5 epochs give exactly the run of one call of 10 (tests/test_train.py).

Everything random in the loop (batch order, augmentation, weight noise) comes from ``rng``;
dropout masks come from the model's own generators, so a freshly built model plus the same
``rng`` reproduces a run exactly.

Hooks are objects with an ``on_step(info)`` and/or ``on_epoch(info)`` method (:class:`StepInfo`,
:class:`EpochInfo`); :class:`WeightEMA` and :class:`LayerStats` are ready ones, and the progress
display is ``course_lib.plotting.Progress``. The loop itself has no UI code.
"""
from __future__ import annotations

import contextlib
import copy
import ctypes
import functools
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from course_lib import _validate
from course_lib.ewma import ewma_update
from course_lib.nn import BatchNorm1d, CrossEntropyLoss, Sequential
from course_lib.optim import Layout, Optimizer, clip_grad_norm as _clip
from course_lib.regularization import EarlyStopping, max_norm as _max_norm, perturb_weights

__all__ = ["History", "TrainState", "StepInfo", "EpochInfo", "WeightEMA", "LayerStats", "train", "evaluate",
           "accuracy", "keep_freed_memory"]


class TrainState(NamedTuple):
    """What a second :func:`train` call needs to continue the same run.

    ``optimizer``: the optimizer's state over ``model.params`` (a dict per field, as
    ``optimizer.init(model.params)`` makes it; ``optimizer.step`` is the number of steps so far);
    ``rng``: the generator of the batch order, augmentation and weight noise, where it stopped;
    ``epoch``: the epochs trained so far.
    """
    optimizer: Any
    rng: np.random.Generator
    epoch: int


@dataclass
class History:
    """Per-epoch curves of a :func:`train` run.

    ``train_loss``/``train_acc``: averages over the epoch's mini-batches, measured in training mode
    as the batches went by (the data loss, without the penalty, which is in ``penalty``);
    ``batch_loss``: the loss of every mini-batch, one per optimizer step (the noisy SGD curve).
    ``val_loss``/``val_acc``: on the validation set in evaluation mode after the epoch (empty when
    there is no validation set). ``steps``: the optimizer steps taken in this call. With early
    stopping, ``best_epoch`` and ``best_step`` (:math:`i^*`, counted in this call) locate the restored
    parameters, and ``stopped_early`` says whether patience ran out before ``epochs``. ``state``:
    the :class:`TrainState` to pass back as ``train(..., state=history.state)``.
    """

    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    batch_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    penalty: list = field(default_factory=list)
    steps: int = 0
    best_epoch: int | None = None
    best_step: int | None = None
    stopped_early: bool = False
    state: TrainState | None = field(default=None, compare=False, repr=False)

    @property
    def epochs(self) -> int:
        return len(self.train_loss)


class StepInfo:
    """What ``hook.on_step(info)`` sees after an optimizer step.

    ``model``; ``step`` (steps of the run so far, this one included: 1 after the first); ``epoch``
    (from 1, counting earlier calls); ``batch_loss``; ``params``, ``grads`` (the gradient the
    optimizer was given: after regularizers and clipping) and ``updates`` (new minus old
    parameters) as dicts of arrays named like ``model.params``; ``theta``, the new parameters as one
    flat vector (``layout.unravel(theta)`` is ``params``). ``records``: when a hook has the
    attribute ``record = True``, the batch's forward pass is recorded and ``records`` is
    ``model.records`` (per layer: input, output, grad_output, grad_input); else None. The arrays are
    the loop's own and are never changed afterwards, so a hook may keep them, but must not write
    into them.
    """

    def __init__(self, model, step, epoch, batch_loss, layout, theta, grad, old_theta, records=None):
        self.model, self.step, self.epoch, self.batch_loss = model, step, epoch, batch_loss
        self.layout, self.theta, self._grad, self._old = layout, theta, grad, old_theta
        self.records = records

    @property
    def params(self) -> dict:
        return self.layout.unravel(self.theta)

    @property
    def grads(self) -> dict:
        return self.layout.unravel(self._grad)

    @property
    def updates(self) -> dict:
        return self.layout.unravel(self.theta - self._old)


class EpochInfo(NamedTuple):
    """What ``hook.on_epoch(info)`` sees after an epoch (and its validation): ``model``, ``epoch``
    (from 1, counting earlier calls), ``epochs`` (the last epoch this call will reach), ``step``
    (steps of the run so far) and the :class:`History` of this call so far."""
    model: Any
    epoch: int
    epochs: int
    step: int
    history: History


class WeightEMA:
    r"""A hook keeping an exponential moving average of the weights (Polyak averaging with a window).

    After every step :math:`S_t = \rho S_{t-1} + (1-\rho)\theta_t` with
    :func:`course_lib.ewma.ewma_update`, the EWMA chapter's primitive applied to the parameter vector.
    ``bias_correction=True``: :math:`S_0 = 0` and :attr:`params` is :math:`S_t/(1-\rho^t)`;
    ``False``: the average starts at the first weights seen, :math:`S_1 = \theta_1` (the usual
    "EMA model"), and :attr:`params` is :math:`S_t`. The buffers (batch norm's running statistics) are
    not averaged. Evaluate the average with ``model.params = ema.params`` (keep a copy of the
    training weights first). Passing the same hook to a second ``train`` call continues the average.
    """

    def __init__(self, rho: float = 0.999, *, bias_correction: bool = True):
        self.rho = _validate.real("rho", rho, low=0.0, high=1.0, high_open=True)
        self.bias_correction = _validate.boolean("bias_correction", bias_correction)
        self.steps = 0
        self.average = None   # S_t, one flat vector
        self.layout = None

    def on_step(self, info: StepInfo):
        if self.average is None:
            self.layout = info.layout
            self.average = np.zeros_like(info.theta) if self.bias_correction else info.theta.copy()
            if not self.bias_correction:
                self.steps = 1
                return
        self.average = ewma_update(self.average, info.theta, self.rho)
        self.steps += 1

    @property
    def params(self) -> dict:
        """The averaged parameters (bias-corrected if asked), new arrays named like ``model.params``."""
        if self.average is None:
            raise RuntimeError("WeightEMA has seen no step yet")
        average = self.average / (1.0 - self.rho**self.steps) if self.bias_correction else self.average.copy()
        return self.layout.unravel(average)

    def __repr__(self):
        return f"WeightEMA(rho={self.rho}, bias_correction={self.bias_correction}, steps={self.steps})"


class LayerStats:
    r"""A hook recording, every ``every`` steps, the size of each parameter, its gradient and its update.

    :attr:`rows` holds one dict per parameter and recorded step, with the keys ``"step"``,
    ``"name"``, ``"weight_norm"`` (:math:`\|\theta\|_2`), ``"grad_norm"`` (:math:`\|g\|_2`),
    ``"update_norm"`` (:math:`\|\Delta\theta\|_2`) and ``"update_ratio"``
    (:math:`\|\Delta\theta\|/\|\theta\|`, which the cs231n notes suggest keeping near 1e-3).
    With ``buffers=True`` it adds one row per buffer (``"name"``, ``"mean"``, ``"std"``: batch
    norm's running statistics); with ``activations=True`` one row per layer of the batch's forward
    pass (``"name"`` such as ``"1.BatchNorm1d"``, ``"mean"`` and ``"std"`` of its output,
    ``"grad_mean"`` and ``"grad_std"`` of :math:`\partial L/\partial\,\text{output}`): the
    statistics the initialization and batch-norm chapters plot layer by layer. :meth:`series` gives
    one statistic of one name as an array over the recorded steps.
    """

    def __init__(self, every: int = 1, *, buffers: bool = False, activations: bool = False):
        self.every = _validate.integer("every", every, low=1)
        self.buffers = _validate.boolean("buffers", buffers)
        self.record = _validate.boolean("activations", activations)  # train records the forward pass
        self.rows: list[dict] = []

    def on_step(self, info: StepInfo):
        if info.step % self.every:
            return
        params, grads, updates = info.params, info.grads, info.updates
        for name, value in params.items():
            weight_norm = float(np.linalg.norm(value))
            update_norm = float(np.linalg.norm(updates[name]))
            self.rows.append({"step": info.step, "name": name, "weight_norm": weight_norm,
                              "grad_norm": float(np.linalg.norm(grads[name])), "update_norm": update_norm,
                              "update_ratio": update_norm / weight_norm if weight_norm else float("inf")})
        if self.buffers:
            for name, value in info.model.buffers.items():
                if np.issubdtype(np.asarray(value).dtype, np.floating):
                    self.rows.append({"step": info.step, "name": name, "mean": float(np.mean(value)),
                                      "std": float(np.std(value))})
        for entry in info.records or ():
            self.rows.append({"step": info.step, "name": f"{entry['index']}.{type(entry['layer']).__name__}",
                              "mean": float(np.mean(entry["output"])), "std": float(np.std(entry["output"])),
                              "grad_mean": float(np.mean(entry["grad_output"])),
                              "grad_std": float(np.std(entry["grad_output"]))})

    def series(self, name: str, stat: str) -> np.ndarray:
        """``stat`` of parameter (or buffer) ``name`` at every recorded step, shape (recorded steps,)."""
        values = [row[stat] for row in self.rows if row["name"] == name and stat in row]
        if not values:
            raise ValueError(f"no recorded {stat!r} for {name!r}; names: {sorted({r['name'] for r in self.rows})}")
        return np.array(values)


def accuracy(logits, y) -> float:
    """Fraction of rows whose largest logit is at the true label. logits (N, C), y (N,)."""
    return float(np.mean(np.argmax(logits, axis=1) == y))


def evaluate(model, x, y, loss=None, batch_size: int = 1024):
    """``(loss, accuracy)`` of ``model`` on ``(x, y)`` in evaluation mode, in batches.

    No side effects: evaluation mode changes no parameter and no running statistic, and the caches
    the forward passes leave in the layers (and in ``loss``) are put back as they were, so an
    evaluation between a training forward and its backward changes nothing.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a course_lib.nn.Sequential, got {type(model).__name__}")
    batch_size = _validate.integer("batch_size", batch_size, low=1)
    loss = CrossEntropyLoss() if loss is None else copy.copy(loss)  # a copy: the caller's cache stays
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 2 or len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x must be (N, D) with N = len(y) >= 1, got {x.shape} and {y.shape}")
    saved = [dict(vars(layer)) for layer in model.layers]
    try:
        total_loss, correct = 0.0, 0
        for start in range(0, len(x), batch_size):
            out = model.forward(x[start:start + batch_size], "eval")
            total_loss += loss.forward(out, y[start:start + batch_size]) * len(out)
            correct += int(np.sum(np.argmax(out, axis=1) == y[start:start + batch_size]))
    finally:
        for layer, attributes in zip(model.layers, saved):
            vars(layer).clear()
            vars(layer).update(attributes)
    return total_loss / len(x), correct / len(x)


def _unpack(data, dtype):
    if isinstance(data, dict):
        data = (data["x_train"], data["y_train"], data.get("x_val"), data.get("y_val"))
    elif hasattr(data, "x_train"):
        data = (data.x_train, data.y_train, getattr(data, "x_val", None), getattr(data, "y_val", None))
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 4):
        raise TypeError("data must be a Split, a dict with x_train/y_train[/x_val/y_val], "
                        f"or a tuple (x_train, y_train[, x_val, y_val]), got {type(data).__name__}")
    x_train, y_train = np.asarray(data[0], dtype=dtype), np.asarray(data[1])
    x_val = y_val = None
    if len(data) == 4 and data[2] is not None:
        x_val, y_val = np.asarray(data[2], dtype=dtype), np.asarray(data[3])
    if x_train.ndim != 2 or len(x_train) != len(y_train) or len(x_train) == 0:
        raise ValueError(f"x_train must be (N, D) with N = len(y_train) >= 1, got {x_train.shape} and {y_train.shape}")
    for name, x in (("x_train", x_train), ("x_val", x_val)):
        if x is not None and not np.all(np.isfinite(x)):
            rows = np.flatnonzero(~np.all(np.isfinite(x), axis=1))
            raise ValueError(f"{name} must contain only finite numbers: rows {rows[:5].tolist()} have NaN or inf")
    return x_train, y_train, x_val, y_val


def _one_blas_thread():
    """A context in which numpy's BLAS uses one thread (threadpoolctl, installed with scikit-learn).

    The book's networks multiply matrices of a few hundred entries a side: threads cost more than
    they save, and on a busy machine a multi-threaded BLAS can be ten times slower.
    """
    try:
        from threadpoolctl import get_cached_controller
    except ImportError:  # pragma: no cover - threadpoolctl (>= 3.8) ships with scikit-learn
        return contextlib.nullcontext()
    # threadpoolctl's cached view of the loaded libraries: no rescan of /proc/self/maps per call
    return get_cached_controller().limit(limits=1, user_api="blas")


def _with_one_blas_thread(function):
    """``function`` run inside :func:`_one_blas_thread` (the chapters' experiments are decorated
    with it: their matrices are small too)."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with _one_blas_thread():
            return function(*args, **kwargs)
    return wrapper


_MEMORY_KEPT = False


def keep_freed_memory():
    """Ask glibc's malloc to keep freed memory for reuse (Linux; elsewhere nothing happens).

    numpy asks malloc for every new array. glibc may serve arrays above 128 KB (here every vector
    of the 26,634 parameters) with fresh pages from the operating system and give them back when
    they are freed, and then the next array page-faults anew: a lone ``ewma_update`` on such vectors,
    repeated, ran ten times slower than its arithmetic (measured here); a whole training epoch,
    whose arrays mostly find reusable memory anyway, gains a few percent. With the thresholds
    raised, freed blocks are reused (the process keeps up to 128 MB it no longer needs). Called once
    by :func:`train`; affects the whole process, not the numbers computed.
    """
    global _MEMORY_KEPT
    if _MEMORY_KEPT:
        return
    _MEMORY_KEPT = True
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # pragma: no cover - not glibc
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # from <malloc.h>
    libc.mallopt(m_mmap_threshold, 32 << 20)
    libc.mallopt(m_trim_threshold, 128 << 20)


def _flat_access(model: Sequential, layout: Layout, dtype):
    """``(gradient_vector, to_layers)`` for a training loop stepping ``model``'s parameters as one vector.

    ``gradient_vector()`` gathers the gradients of the last backward pass straight from the layers
    into one vector of ``dtype``, in the order of ``layout.names``; ``to_layers(vector)`` hands each
    layer its parameters as views of ``vector``. What ``layout.ravel(model.grads)`` and
    ``model.params = layout.unravel(vector)`` do, without their dicts and checks: the names and
    shapes are right by construction (``layout = Layout(model.params)``).
    """
    slots = [(layer.params, layer.grads, name) for layer in model.layers for name in layer.params]

    def gradient_vector():
        return np.concatenate([grads[name].reshape(-1) for _, grads, name in slots]).astype(dtype, copy=False)

    def to_layers(vector):
        for (params, _, name), shape, a, b in zip(slots, layout.shapes, layout.starts, layout.ends):
            params[name] = vector[a:b].reshape(shape)

    return gradient_vector, to_layers


def train(model: Sequential, optimizer: Optimizer, data, epochs: int, batch_size: int, *, state=None, rng=None,
          hooks=(), clip_grad_norm=None, max_norm=None, dtype=None, loss=None, regularizers=(), augment=None,
          weight_noise: float = 0.0, early_stopping: EarlyStopping | None = None, drop_last: bool = False) -> History:
    r"""Train ``model`` with mini-batches; return the :class:`History`. The model is updated in place.

    Parameters
    ----------
    model : Sequential
    optimizer : a ``course_lib.optim`` optimizer; its ``lr`` may be a schedule (of the step count of
        the whole run), its ``mask`` and ``groups`` name parameters as ``model.params`` does.
    data : ``course_lib.data.Split`` (its test part is not used), dict, or tuple
        ``(x_train, y_train[, x_val, y_val])``; x of shape (N, D), finite.
    epochs, batch_size : int
        The last batch of an epoch is smaller unless ``drop_last``. In a model with batch norm,
        a last batch of one example is skipped (batch norm cannot train on it) and
        ``batch_size=1`` is an error; without batch norm, ``batch_size=1`` is plain SGD.
    state : a :class:`TrainState` (``history.state`` of an earlier call on this model and optimizer)
        to continue that run; None starts a new one (``optimizer.init``).
    rng : int or Generator for the batch order, augmentation and weight noise (default 0); not
        with ``state``, which carries its own.
    hooks : objects with ``on_step(info)`` and/or ``on_epoch(info)`` (:class:`StepInfo`,
        :class:`EpochInfo`), called in order after every step / epoch.
    clip_grad_norm : None, or c: the gradient is clipped to global 2-norm c before each step
        (``course_lib.optim.clip_grad_norm``, torch's ``clip_grad_norm_``).
    max_norm : None, or c: after each step every unit's incoming weight vector is projected onto
        :math:`\|w\|_2 \le c` (``course_lib.regularization.max_norm``; Srivastava et al. 2014).
    dtype : None (keep the model's), ``"float32"`` or ``"float64"``: the parameters, data and
        optimizer state are cast to it (the model keeps that dtype afterwards).
    loss : a loss object with ``forward(out, y)``/``backward()`` (default ``CrossEntropyLoss``).
    regularizers : objects with ``penalty(params) -> (value, grads)`` (``regularization.L2``, ``L1``),
        added to the loss and its gradients.
    augment : ``augment(x_batch, rng) -> x_batch`` applied to each training batch (data
        augmentation, input noise), or None.
    weight_noise : std of Gaussian noise added to the weights for each gradient evaluation
        (the step is applied to the clean weights).
    early_stopping : an :class:`~course_lib.regularization.EarlyStopping`: the validation loss is
        evaluated every ``every`` steps (every epoch if ``every`` is None); training stops when it
        has not improved for ``patience`` evaluations, and the model is restored to the best
        parameters (and batch-norm statistics), source 004's :math:`\theta^*`.

    Notes
    -----
    numpy's BLAS runs on one thread during training (faster for these small matrices), and freed
    arrays are reused (:func:`keep_freed_memory`). With early stopping, ``history.state`` is the
    state after the last step taken, while the model holds the (older) best parameters.
    """
    keep_freed_memory()
    with _one_blas_thread():
        return _train(model, optimizer, data, epochs, batch_size, state, rng, hooks, clip_grad_norm, max_norm,
                      dtype, loss, regularizers, augment, weight_noise, early_stopping, drop_last)


def _check_hooks(hooks):
    if isinstance(hooks, (str, bytes)) or not hasattr(hooks, "__iter__"):
        raise TypeError(f"hooks must be a list of objects with on_step/on_epoch methods, got {hooks!r}")
    hooks = list(hooks)
    for i, hook in enumerate(hooks):
        if not (callable(getattr(hook, "on_step", None)) or callable(getattr(hook, "on_epoch", None))):
            raise TypeError(f"hooks[{i}] must have an on_step(info) or on_epoch(info) method, got {hook!r}")
    return ([h.on_step for h in hooks if callable(getattr(h, "on_step", None))],
            [h.on_epoch for h in hooks if callable(getattr(h, "on_epoch", None))],
            any(getattr(h, "record", False) is True for h in hooks))


def _start(model, optimizer, state, rng, layout, dtype):
    """The optimizer state (flat), the generator and the epoch count to start from."""
    if state is None:
        opt_state = optimizer.init(model.params)
        return layout.ravel_state(opt_state, dtype), _validate.rng("rng", 0 if rng is None else rng), 0
    if not isinstance(state, TrainState):
        raise TypeError(f"state must be the TrainState of an earlier train call (history.state), "
                        f"got {type(state).__name__}")
    if rng is not None:
        raise ValueError("give rng or state, not both: the state carries the generator of the run it continues")
    if not isinstance(state.optimizer, optimizer.state_type):
        raise TypeError(f"state.optimizer must be a {optimizer.state_type.__name__} for {optimizer.name}, "
                        f"got {type(state.optimizer).__name__}")
    for name, value in zip(state.optimizer._fields[1:], state.optimizer[1:]):
        if value is not None and (not isinstance(value, dict) or set(value) != set(layout.names)):
            raise ValueError(f"state.optimizer.{name} must be a dict over the model's parameters {layout.names}")
    return layout.ravel_state(state.optimizer, dtype), copy.deepcopy(state.rng), state.epoch


def _train(model, optimizer, data, epochs, batch_size, state, rng, hooks, clip, max_norm, dtype, loss,
           regularizers, augment, weight_noise, early_stopping, drop_last):
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a course_lib.nn.Sequential, got {type(model).__name__}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a course_lib.optim optimizer (optim.adam(...) etc.), "
                        f"got {type(optimizer).__name__}")
    epochs = _validate.integer("epochs", epochs, low=0)
    batch_size = _validate.integer("batch_size", batch_size, low=1)
    weight_noise = _validate.real("weight_noise", weight_noise, low=0.0)
    drop_last = _validate.boolean("drop_last", drop_last)
    clip = None if clip is None else _validate.real("clip_grad_norm", clip, low=0.0, low_open=True)
    max_norm = None if max_norm is None else _validate.real("max_norm", max_norm, low=0.0, low_open=True)
    if dtype is None:
        dtype = next(iter(model.params.values())).dtype
    name = getattr(dtype, "__name__", str(dtype))  # np.float32 -> "float32", np.dtype("float64") -> "float64"
    if name not in ("float32", "float64"):
        raise ValueError(f"dtype must be None, 'float32' or 'float64', got {dtype!r}")
    dtype = np.dtype(name)
    x_train, y_train, x_val, y_val = _unpack(data, dtype)
    min_batch = 2 if any(isinstance(layer, BatchNorm1d) for layer in model.layers) else 1
    if batch_size < min_batch:
        raise ValueError("batch_size must be >= 2 for a model with batch norm, got 1")
    loss = CrossEntropyLoss() if loss is None else loss
    for reg in regularizers:
        if not hasattr(reg, "penalty"):
            raise TypeError(f"regularizers must have a penalty(params) method, got {reg!r}")
    step_hooks, epoch_hooks, record = _check_hooks(hooks)
    if early_stopping is not None:
        if not isinstance(early_stopping, EarlyStopping):
            raise TypeError(f"early_stopping must be a regularization.EarlyStopping, got {type(early_stopping).__name__}")
        if x_val is None:
            raise ValueError("early_stopping needs validation data (x_val, y_val)")

    layout = Layout(model.params)
    theta = layout.ravel(model.params, dtype)
    opt_state, rng, epoch0 = _start(model, optimizer, state, rng, layout, dtype)
    step = optimizer.flat_step(layout)
    model.params = layout.unravel(theta)       # the model's arrays: views of theta, in dtype
    # Every step, the gradients straight from the layers and the new parameters straight to them,
    # in the order of layout.names (what model.grads / model.params = ... do, without their dicts
    # and checks: the shapes are right by construction).
    gradient_vector, to_layers = _flat_access(model, layout, dtype)
    if early_stopping is not None:
        early_stopping.reset(model.state_dict())

    def stop_check(n_steps, val_loss, epoch):
        """Source 004's lines 5-11 after n_steps more steps; True when patience has run out."""
        if early_stopping.observe(n_steps, val_loss, model.state_dict()):
            history.best_epoch = epoch
        return early_stopping.should_stop

    history = History()
    n = len(x_train)
    since_check = 0
    stop = False
    for epoch in range(epoch0 + 1, epoch0 + epochs + 1):
        order = rng.permutation(n)
        sum_loss = sum_correct = sum_penalty = 0.0
        seen = 0
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            if len(idx) < min_batch or (drop_last and len(idx) < batch_size):
                continue
            xb, yb = x_train[idx], y_train[idx]
            if augment is not None:
                xb = augment(xb, rng)
            if weight_noise:
                model.params = perturb_weights(model.params, weight_noise, rng)
            out = model.forward(xb, "train", record=True) if record else model.forward(xb, "train")
            batch_loss = loss.forward(out, yb)
            model.backward(loss.backward(), input_grad=False)
            grad = gradient_vector()
            for reg in regularizers:
                value, reg_grads = reg.penalty(layout.unravel(theta))
                sum_penalty += value * len(idx)
                grad += layout.ravel(reg_grads, dtype)
            if clip is not None:
                grad, _ = _clip(grad, clip)
            old, (theta, opt_state) = theta, step(theta, grad, opt_state)
            if max_norm is not None:
                theta = layout.ravel(_max_norm(layout.unravel(theta), max_norm), dtype)
            to_layers(theta)
            history.steps += 1
            since_check += 1
            history.batch_loss.append(batch_loss)
            sum_loss += batch_loss * len(idx)
            sum_correct += np.count_nonzero(out.argmax(axis=1) == yb)
            seen += len(idx)
            if step_hooks:
                info = StepInfo(model, opt_state.step, epoch, batch_loss, layout, theta, grad, old,
                                model.records if record else None)
                for hook in step_hooks:
                    hook(info)
            if early_stopping is not None and early_stopping.every == since_check:
                stop = stop_check(since_check, evaluate(model, x_val, y_val, loss)[0], epoch)
                since_check = 0
                if stop:
                    break
        history.train_loss.append(sum_loss / max(seen, 1))
        history.train_acc.append(sum_correct / max(seen, 1))
        history.penalty.append(sum_penalty / max(seen, 1))
        if x_val is not None:
            val_loss, val_acc = evaluate(model, x_val, y_val, loss)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
            if early_stopping is not None and early_stopping.every is None:
                stop = stop_check(since_check, val_loss, epoch)
                since_check = 0
        for hook in epoch_hooks:
            hook(EpochInfo(model, epoch, epoch0 + epochs, opt_state.step, history))
        if stop:
            history.stopped_early = True
            break
    if early_stopping is not None:
        model.load_state_dict(early_stopping.best_params)
        history.best_step = early_stopping.best_step
    history.state = TrainState(layout.unravel_state(opt_state), rng, epoch0 + history.epochs)
    return history
