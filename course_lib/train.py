r"""The training loop (chapter "Gradient descent and the learning rate", and every chapter after).

One epoch of mini-batch training, as sources 001, 003 and 004 write it::

    for each mini-batch (x_B, y_B) of a fresh random permutation of the training set:
        forward (mode "train") -> loss;  backward -> gradients (+ regularizer gradients)
        params, state = optimizer.step(params, grads, state)

then the validation loss and accuracy in mode "eval". :func:`train` returns a :class:`History`.
Everything random (the batch order, augmentation, weight noise) comes from ``seed``; dropout masks
come from the model's own generators, so a freshly built model plus the same seed reproduces a run
exactly.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np

from course_lib import _validate
from course_lib.init import generator
from course_lib.nn import BatchNorm1d, CrossEntropyLoss, Sequential
from course_lib.regularization import EarlyStopping, perturb_weights

__all__ = ["History", "train", "evaluate", "accuracy", "Progress"]


@dataclass
class History:
    """Per-epoch curves of a :func:`train` run.

    ``train_loss``/``train_acc``: averages over the epoch's mini-batches, measured in training mode
    as the batches went by (the data loss, without the penalty, which is in ``penalty``);
    ``batch_loss``: the loss of every mini-batch, one per optimizer step (the noisy SGD curve).
    ``val_loss``/``val_acc``: on the validation set in evaluation mode after the epoch (empty when
    there is no validation set). ``steps``: the optimizer steps taken. With early stopping,
    ``best_epoch`` and ``best_step`` (:math:`i^*`) locate the restored parameters, and
    ``stopped_early`` says whether patience ran out before ``epochs``.
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

    @property
    def epochs(self) -> int:
        return len(self.train_loss)


def accuracy(logits, y) -> float:
    """Fraction of rows whose largest logit is at the true label. logits (N, C), y (N,)."""
    return float(np.mean(np.argmax(logits, axis=1) == y))


def evaluate(model, x, y, loss=None, batch_size: int = 1024):
    """``(loss, accuracy)`` of ``model`` on ``(x, y)`` in evaluation mode (batched, no side effects)."""
    loss = CrossEntropyLoss() if loss is None else loss
    x, y = np.asarray(x), np.asarray(y)
    total_loss, correct = 0.0, 0
    for start in range(0, len(x), batch_size):
        out = model.forward(x[start:start + batch_size], "eval")
        total_loss += loss.forward(out, y[start:start + batch_size]) * len(out)
        correct += int(np.sum(np.argmax(out, axis=1) == y[start:start + batch_size]))
    return total_loss / len(x), correct / len(x)


class Progress:
    """A progress bar: an ipywidgets bar in a notebook, else one plain-text line per epoch.

    Shows the epoch and the latest losses/accuracies (never timings, so outputs are reproducible).
    ``kind`` is ``"widget"``, ``"text"`` or ``"auto"`` (widget in a Jupyter kernel, text otherwise).
    """

    def __init__(self, total: int, kind: str = "auto"):
        if kind not in ("auto", "widget", "text"):
            raise ValueError(f"progress must be True, False, 'auto', 'widget' or 'text', got {kind!r}")
        if kind == "auto":
            kind = "widget" if _in_notebook() else "text"
        self.total, self.kind = total, kind
        if kind == "widget":
            import ipywidgets
            from IPython.display import display

            self.bar = ipywidgets.IntProgress(value=0, min=0, max=total, description="epoch")
            self.label = ipywidgets.Label(value="")
            display(ipywidgets.HBox([self.bar, self.label]))

    def update(self, epoch: int, message: str):
        if self.kind == "widget":
            self.bar.value = epoch
            self.label.value = f"{epoch}/{self.total}  {message}"
        else:
            print(f"epoch {epoch}/{self.total}  {message}", flush=True)


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class _Flat:
    """The model's parameters as one vector, for the optimizer.

    Every update rule of ``course_lib.optim`` acts elementwise, so stepping the concatenation of
    all parameters is the same computation as stepping the dict ``{"0.weight": ..., ...}``, in one
    call instead of one per array (tests/test_train.py checks this). ``arrays(theta)`` gives the
    dict back as views of ``theta``. ``grads()`` and ``set_params(theta)`` do what
    ``vector(model.grads)`` and ``model.params = arrays(theta)`` do, straight from and to the layers
    (no dicts built on every step).
    """

    def __init__(self, model: Sequential):
        params = model.params
        self.names = list(params)
        self.shapes = [params[k].shape for k in self.names]
        self.ends = np.cumsum([params[k].size for k in self.names]).tolist()
        self.starts = [0] + self.ends[:-1]
        self.slots = [(layer, name) for layer in model.layers for name in layer.params]  # in the order of names

    def vector(self, arrays: dict) -> np.ndarray:
        return np.concatenate([arrays[k].ravel() for k in self.names])

    def arrays(self, theta: np.ndarray) -> dict:
        return {k: theta[a:b].reshape(shape) for k, shape, a, b in zip(self.names, self.shapes, self.starts, self.ends)}

    def grads(self) -> np.ndarray:
        return np.concatenate([layer.grads[name].ravel() for layer, name in self.slots])

    def set_params(self, theta: np.ndarray):
        for (layer, name), shape, a, b in zip(self.slots, self.shapes, self.starts, self.ends):
            layer.params[name] = theta[a:b].reshape(shape)


def _unpack(data):
    if isinstance(data, dict):
        data = (data["x_train"], data["y_train"], data.get("x_val"), data.get("y_val"))
    elif hasattr(data, "x_train"):
        data = (data.x_train, data.y_train, getattr(data, "x_val", None), getattr(data, "y_val", None))
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 4):
        raise TypeError("data must be a Split, a dict with x_train/y_train[/x_val/y_val], "
                        "or a tuple (x_train, y_train[, x_val, y_val])")
    x_train, y_train = np.asarray(data[0], dtype=np.float64), np.asarray(data[1])
    x_val = y_val = None
    if len(data) == 4 and data[2] is not None:
        x_val, y_val = np.asarray(data[2], dtype=np.float64), np.asarray(data[3])
    if x_train.ndim != 2 or len(x_train) != len(y_train) or len(x_train) == 0:
        raise ValueError(f"x_train must be (N, D) with N = len(y_train) >= 1, got {x_train.shape} and {y_train.shape}")
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


def train(model: Sequential, optimizer, data, epochs: int, batch_size: int, *, loss=None,
          regularizers=(), augment=None, weight_noise: float = 0.0, early_stopping: EarlyStopping | None = None,
          seed=0, progress=False, drop_last: bool = False) -> History:
    r"""Train ``model`` with mini-batches; return the :class:`History`. The model is updated in place.

    Parameters
    ----------
    model : Sequential
    optimizer : a ``course_lib.optim`` optimizer (``init``/``step``); its ``lr`` may be a schedule
        (a function of the step count).
    data : ``course_lib.data.Split`` (its test part is not used), dict, or tuple
        ``(x_train, y_train[, x_val, y_val])``; x of shape (N, D).
    epochs, batch_size : int
        The last batch of an epoch is smaller unless ``drop_last``. In a model with batch norm,
        a last batch of one example is skipped (batch norm cannot train on it) and
        ``batch_size=1`` is an error; without batch norm, ``batch_size=1`` is plain SGD.
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
    seed : int or Generator, for the batch order and augmentation.
    progress : False, True/"auto", "widget" or "text".

    numpy's BLAS runs on one thread during training (faster for these small matrices).
    """
    with _one_blas_thread():
        return _train(model, optimizer, data, epochs, batch_size, loss, regularizers, augment, weight_noise,
                      early_stopping, seed, progress, drop_last)


def _train(model, optimizer, data, epochs, batch_size, loss, regularizers, augment, weight_noise,
           early_stopping, seed, progress, drop_last):
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a course_lib.nn.Sequential, got {type(model).__name__}")
    epochs = _validate.integer("epochs", epochs, low=0)
    batch_size = _validate.integer("batch_size", batch_size, low=1)
    weight_noise = _validate.real("weight_noise", weight_noise, low=0.0)
    drop_last = _validate.boolean("drop_last", drop_last)
    x_train, y_train, x_val, y_val = _unpack(data)
    min_batch = 2 if any(isinstance(layer, BatchNorm1d) for layer in model.layers) else 1
    if batch_size < min_batch:
        raise ValueError("batch_size must be >= 2 for a model with batch norm, got 1")
    loss = CrossEntropyLoss() if loss is None else loss
    for reg in regularizers:
        if not hasattr(reg, "penalty"):
            raise TypeError(f"regularizers must have a penalty(params) method, got {reg!r}")
    if early_stopping is not None:
        if x_val is None:
            raise ValueError("early_stopping needs validation data (x_val, y_val)")
        early_stopping.reset(model.state_dict())
    if progress is True:
        progress = "auto"
    bar = Progress(epochs, progress) if progress else None
    rng = generator(seed)

    history = History()
    flat = _Flat(model)
    theta = flat.vector(model.params)
    state = optimizer.init(theta)
    n = len(x_train)
    steps_since_check = 0
    for epoch in range(1, epochs + 1):
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
            out = model.forward(xb, "train")
            batch_loss = loss.forward(out, yb)
            model.backward(loss.backward(), input_grad=False)
            grad = flat.grads()
            for reg in regularizers:
                value, reg_grads = reg.penalty(flat.arrays(theta))
                sum_penalty += value * len(idx)
                grad += flat.vector(reg_grads)
            theta, state = optimizer.step(theta, grad, state)
            flat.set_params(theta)  # model.params = flat.arrays(theta)
            history.steps += 1
            steps_since_check += 1
            history.batch_loss.append(batch_loss)
            sum_loss += batch_loss * len(idx)
            sum_correct += np.count_nonzero(out.argmax(axis=1) == yb)
            seen += len(idx)
            if early_stopping is not None and early_stopping.every == steps_since_check:
                val_loss, _ = evaluate(model, x_val, y_val, loss)
                if early_stopping.observe(steps_since_check, val_loss, model.state_dict()):
                    history.best_epoch = epoch
                steps_since_check = 0
                if early_stopping.should_stop:
                    break
        history.train_loss.append(sum_loss / max(seen, 1))
        history.train_acc.append(sum_correct / max(seen, 1))
        history.penalty.append(sum_penalty / max(seen, 1))
        if x_val is not None:
            val_loss, val_acc = evaluate(model, x_val, y_val, loss)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
            if early_stopping is not None and early_stopping.every is None:
                if early_stopping.observe(steps_since_check, val_loss, model.state_dict()):
                    history.best_epoch = epoch
                steps_since_check = 0
        if bar is not None:
            message = f"train loss {history.train_loss[-1]:.4f}  train acc {history.train_acc[-1]:.4f}"
            if x_val is not None:
                message += f"  val loss {history.val_loss[-1]:.4f}  val acc {history.val_acc[-1]:.4f}"
            bar.update(epoch, message)
        if early_stopping is not None and early_stopping.should_stop:
            history.stopped_early = True
            break
    if early_stopping is not None:
        model.load_state_dict(early_stopping.best_params)
        history.best_step = early_stopping.best_step
    return history
