r"""Regularization (chapter "Regularization"), following source 004 and Goodfellow et al. ch. 7.

- Norm penalties :math:`\tilde J = J + \lambda\,\Omega(w)`: :func:`l2_penalty`
  (:math:`\Omega = \tfrac12\|w\|_2^2`, gradient :math:`\lambda w`) and :func:`l1_penalty`
  (:math:`\Omega = \|w\|_1`, gradient :math:`\lambda\,\operatorname{sign} w`), on the weights and
  not the biases unless asked. Under plain SGD the L2 penalty *is* weight decay,
  :math:`w \leftarrow w - \eta(g + \lambda w) = (1-\eta\lambda)w - \eta g`; under Adam it is not,
  because :math:`\lambda w` then passes through the adaptive scaling: decoupled decay is AdamW.
  The decay itself (coupled or decoupled, with a mask) is one piece of the optimizers,
  :class:`course_lib.optim.WeightDecay`; the default selection here, "weights", is its mask
  :func:`course_lib.optim.weights_only`.
- The max-norm constraint (Srivastava et al. 2014): :func:`max_norm`.
- Noise injection on inputs, hidden units (:class:`GaussianNoise`) or weights (:func:`perturb_weights`).
- Bagging: models trained on bootstrap samples, predictions averaged.
- Early stopping: the meta-algorithm of source 004 (Goodfellow Alg. 7.1), and the two ways of
  using the validation data afterwards (Alg. 7.2 and 7.3).

Data augmentation for the digit images is in :mod:`course_lib.augment`.
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np

from course_lib import _validate
from course_lib.nn import Layer, softmax
from course_lib.optim import weights_only

__all__ = [
    "l2_penalty",
    "l1_penalty",
    "L2",
    "L1",
    "select",
    "max_norm",
    "gaussian_noise",
    "GaussianNoise",
    "perturb_weights",
    "bootstrap_indices",
    "bagging",
    "ensemble_predict",
    "EarlyStopping",
    "EarlyStoppingResult",
    "early_stopping",
    "retrain_for",
    "continue_until",
]


def select(params: dict, apply_to="weights") -> list[str]:
    """The names a penalty applies to.

    ``"weights"``: names ending in ``"weight"`` (``"0.weight"``, not biases nor batch norm's
    gamma/beta: the mask :func:`course_lib.optim.weights_only`); ``"all"``: every parameter (what
    torch's ``weight_decay`` does); a callable ``name -> bool`` (an optimizer's ``mask``); or an
    iterable of names.
    """
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays, got {type(params).__name__}")
    if isinstance(apply_to, str) and apply_to not in ("weights", "all"):
        raise ValueError(f"apply_to must be 'weights', 'all', a callable or a list of parameter names, got {apply_to!r}")
    if apply_to == "weights":
        return [k for k in params if weights_only(k)]
    if apply_to == "all":
        return list(params)
    if callable(apply_to):
        return [k for k in params if apply_to(k)]
    if not hasattr(apply_to, "__iter__"):
        raise TypeError(f"apply_to must be 'weights', 'all', a callable or a list of parameter names, got {apply_to!r}")
    names = list(apply_to)
    missing = [k for k in names if k not in params]
    if missing:
        raise ValueError(f"apply_to names {missing} are not parameters; available: {sorted(params)}")
    return names


def l2_penalty(params: dict, lam: float, apply_to="weights"):
    r""":math:`\lambda\,\tfrac12 \sum_w \|w\|_2^2` and its gradient :math:`\lambda w` (source 004's L2).

    Returns
    -------
    value : float
    grads : dict with an array (the parameter's shape) for *every* key of ``params``, zero where the
        penalty does not apply, so it can be added to the loss gradients directly.
    """
    lam = _validate.real("lam", lam, low=0.0)
    names = set(select(params, apply_to))
    value = 0.5 * lam * sum(float(np.sum(params[k] ** 2)) for k in names)
    grads = {k: lam * v if k in names else np.zeros_like(v) for k, v in params.items()}
    return value, grads


def l1_penalty(params: dict, lam: float, apply_to="weights"):
    r""":math:`\lambda \sum_w \|w\|_1` and its (sub)gradient :math:`\lambda\,\operatorname{sign}(w)` (0 at w = 0).

    Returns ``(value, grads)`` like :func:`l2_penalty`.
    """
    lam = _validate.real("lam", lam, low=0.0)
    names = set(select(params, apply_to))
    value = lam * sum(float(np.sum(np.abs(params[k]))) for k in names)
    grads = {k: lam * np.sign(v) if k in names else np.zeros_like(v) for k, v in params.items()}
    return value, grads


class L2:
    r"""The penalty :math:`\tfrac{\lambda}{2}\|w\|^2` as an object for ``train(..., regularizers=[L2(1e-3)])``.

    ``penalty(params)`` returns ``(value, grads)`` as :func:`l2_penalty`. Under SGD this is
    ``sgd(weight_decay=lam, mask=optim.weights_only)`` (tested); under Adam it is Adam's coupled
    ``weight_decay``, not AdamW's.
    """

    def __init__(self, lam: float, apply_to="weights"):
        self.lam = _validate.real("lam", lam, low=0.0)
        self.apply_to = apply_to

    def penalty(self, params):
        return l2_penalty(params, self.lam, self.apply_to)

    def __repr__(self):
        return f"L2(lam={self.lam}, apply_to={self.apply_to!r})"


class L1:
    r"""The penalty :math:`\lambda\|w\|_1` as an object for ``train(..., regularizers=[L1(1e-4)])``.

    ``penalty(params)`` returns ``(value, grads)`` as :func:`l1_penalty`. No optimizer's weight decay
    equals it: its gradient :math:`\lambda\operatorname{sign}(w)` has the same size for every weight,
    which drives small weights to exactly zero (sparsity) where L2 only shrinks them.
    """

    def __init__(self, lam: float, apply_to="weights"):
        self.lam = _validate.real("lam", lam, low=0.0)
        self.apply_to = apply_to

    def penalty(self, params):
        return l1_penalty(params, self.lam, self.apply_to)

    def __repr__(self):
        return f"L1(lam={self.lam}, apply_to={self.apply_to!r})"


def max_norm(params: dict, c: float, apply_to="weights") -> dict:
    r"""The max-norm constraint of Srivastava et al. (2014): each unit's incoming weight vector
    projected onto the ball :math:`\|w\|_2 \le c`.

    For a weight matrix W of shape (out, in) (torch's layout) row j holds the weights into unit j:

    .. math:: w_j \leftarrow w_j \cdot \min\Big(1, \frac{c}{\|w_j\|_2}\Big)

    (unchanged inside the ball, scaled onto its surface outside). Applied after each optimizer step
    (``train(..., max_norm=c)``); Srivastava et al. use c between 3 and 4 with dropout. Only the
    selected (``apply_to``, default the weights) arrays of two or more axes are constrained; the
    others are passed through. Returns a new dict; ``params`` is not modified. (torch's
    ``torch.renorm(w, 2, 0, c)`` does the same with :math:`c/(\|w_j\| + 10^{-7})`.)
    """
    c = _validate.real("c", c, low=0.0, low_open=True)
    names = set(select(params, apply_to))
    out = {}
    for key, w in params.items():
        if key in names and np.ndim(w) >= 2:
            norms = np.sqrt(np.sum(np.reshape(w, (len(w), -1)) ** 2, axis=1))
            scale = np.minimum(1.0, c / np.maximum(norms, np.finfo(np.float64).tiny))
            w = w * scale.reshape((-1,) + (1,) * (np.ndim(w) - 1)).astype(np.asarray(w).dtype)
        out[key] = w
    return out


def gaussian_noise(x, std: float, rng) -> np.ndarray:
    r"""``x + std * N(0, 1)``, a new array: noise injection on inputs (a form of data augmentation)."""
    std = _validate.real("std", std, low=0.0)
    x = np.asarray(x, dtype=np.float64)
    return x + std * _validate.rng("rng", rng).standard_normal(x.shape)


class GaussianNoise(Layer):
    r"""Additive Gaussian noise on hidden units (Keras ``GaussianNoise``), any shape.

    Training: :math:`y = x + \sigma\,\xi`, :math:`\xi \sim \mathcal N(0, I)` drawn anew each call;
    evaluation: :math:`y = x`. Backward: :math:`\partial L/\partial x = G` in both modes.
    """

    def __init__(self, std: float, *, rng):
        super().__init__()
        self.std = _validate.real("std", std, low=0.0)
        self.rng = _validate.rng("rng", rng)

    def _forward(self, x, training):
        if not training or self.std == 0:
            return x, True
        return x + (self.std * self.rng.standard_normal(x.shape)).astype(x.dtype, copy=False), True

    def _backward(self, dout, cache):
        return dout

    def __repr__(self):
        return f"GaussianNoise(std={self.std})"


def perturb_weights(params: dict, std: float, rng, apply_to="weights") -> dict:
    r"""Weight noise (Keras ``NoisyDense``): a new dict with :math:`w + \sigma\,\xi` on the selected
    parameters. Training evaluates the gradient at the perturbed weights and applies it to the clean
    ones (``train(..., weight_noise=std)``)."""
    std = _validate.real("std", std, low=0.0)
    rng = _validate.rng("rng", rng)
    names = set(select(params, apply_to))
    return {k: v + std * rng.standard_normal(v.shape) if k in names else v for k, v in params.items()}


def bootstrap_indices(n: int, rng, size: int | None = None) -> np.ndarray:
    r"""``size`` (default n) indices drawn uniformly *with replacement* from ``range(n)``.

    A bootstrap sample of size n contains on average a fraction :math:`1-(1-1/n)^n \approx 1 - 1/e
    \approx 63.2\%` of the distinct examples; the others are repeats.
    """
    n = _validate.integer("n", n, low=1)
    size = n if size is None else _validate.integer("size", size, low=1)
    return _validate.rng("rng", rng).integers(0, n, size=size)


def bagging(fit: Callable, x, y, n_models: int, *, rng=0) -> list:
    """Bagging (source 004): ``n_models`` models, model k fitted by ``fit(x_k, y_k, rng_k)`` on its own
    bootstrap sample ``(x_k, y_k)``, with an independent generator ``rng_k`` (for its initial
    weights, batch order, ...), spawned from ``rng`` (Generator or int seed). Returns the list of
    fitted models; combine with :func:`ensemble_predict`.
    """
    if not callable(fit):
        raise TypeError(f"fit must be a callable fit(x, y, rng) -> model, got {type(fit).__name__}")
    n_models = _validate.integer("n_models", n_models, low=1)
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    models = []
    for stream in _validate.rng("rng", rng).spawn(n_models):
        idx = bootstrap_indices(len(x), stream)
        models.append(fit(x[idx], y[idx], stream))
    return models


def ensemble_predict(models, x) -> np.ndarray:
    r"""The bagged prediction: the average of the models' class probabilities,
    :math:`\frac1K\sum_k \operatorname{softmax}(f_k(x))` (models run in ``"eval"`` mode). Shape (N, C)."""
    if isinstance(models, (str, bytes)) or not hasattr(models, "__len__") or len(models) == 0:
        raise ValueError(f"models must be a non-empty list of models, got {models!r}")
    return np.mean([softmax(model.forward(x, "eval")) for model in models], axis=0)


# --------------------------------------------------------------------------------------------
# Early stopping
# --------------------------------------------------------------------------------------------

class EarlyStopping:
    r"""The bookkeeping of source 004's early-stopping meta-algorithm (Goodfellow et al. Alg. 7.1).

    Initially :math:`i = i^* = j = 0`, :math:`v = \infty`, :math:`\theta^* = \theta_0`. After each
    block of ``n`` training steps, :meth:`observe` does lines 5-11::

        i <- i + n;  j <- j + 1;  v' <- validation error
        if v' < v:  j <- 0;  theta* <- theta;  i* <- i;  v <- v'

    and training goes on ``while j < P`` (:attr:`should_stop` is ``j >= P``). So P counts
    evaluations *without improvement* since the best one (strict improvement; a tie does not reset
    j), not times the error "worsens" as source 004 words it. ``patience`` is P; ``every`` is n (in
    ``train``, counted in epochs when ``every=None``).
    """

    def __init__(self, patience: int, every: int | None = None):
        self.patience = _validate.integer("patience", patience, low=1)
        self.every = None if every is None else _validate.integer("every", every, low=1)
        self.reset(None)

    def reset(self, theta0):
        """Line 1-2: :math:`\\theta^* = \\theta_0`, :math:`i = i^* = j = 0`, :math:`v = \\infty`."""
        self.best_params = theta0
        self.step = 0
        self.best_step = 0
        self.bad_evaluations = 0
        self.best_error = math.inf

    def observe(self, n_steps: int, error: float, params) -> bool:
        """Record ``n_steps`` more steps and the validation ``error`` at ``params``; True if it improved.

        ``params`` is stored as given when it improves: pass a copy (``model.state_dict()``).
        """
        self.step += n_steps
        self.bad_evaluations += 1
        if error < self.best_error:
            self.bad_evaluations = 0
            self.best_params = params
            self.best_step = self.step
            self.best_error = float(error)
            return True
        return False

    @property
    def should_stop(self) -> bool:
        return self.bad_evaluations >= self.patience

    def __repr__(self):
        return f"EarlyStopping(patience={self.patience}, every={self.every})"


class EarlyStoppingResult(NamedTuple):
    """``best_params`` (:math:`\\theta^*`), ``best_step`` (:math:`i^*`), ``best_error`` (:math:`v`),
    ``steps`` (the final :math:`i`), ``errors`` (every validation error, in order)."""

    best_params: object
    best_step: int
    best_error: float
    steps: int
    errors: list


def early_stopping(train_steps: Callable, validation_error: Callable, theta0, *, n: int, patience: int,
                   max_steps: int | None = None) -> EarlyStoppingResult:
    r"""Source 004's early-stopping meta-algorithm, line by line.

    ``train_steps(theta, n)`` runs the training algorithm for n steps from theta and returns the
    new parameters (it must not modify theta); ``validation_error(theta)`` returns a float.
    ``max_steps`` (optional) bounds :math:`i`; the source's loop has no such bound and would run
    forever if the validation error kept improving.
    """
    if not callable(train_steps):
        raise TypeError(f"train_steps must be a callable train_steps(theta, n), got {type(train_steps).__name__}")
    if not callable(validation_error):
        raise TypeError(f"validation_error must be a callable validation_error(theta), "
                        f"got {type(validation_error).__name__}")
    n = _validate.integer("n", n, low=1)
    if max_steps is not None:
        max_steps = _validate.integer("max_steps", max_steps, low=1)
    stopper = EarlyStopping(patience, every=n)
    stopper.reset(theta0)                                       # lines 1-2
    theta, errors = theta0, []
    while not stopper.should_stop:                              # line 3: while j < P
        theta = train_steps(theta, n)                           # line 4
        error = float(validation_error(theta))                  # line 6
        errors.append(error)
        stopper.observe(n, error, theta)                        # lines 5, 7-11
        if max_steps is not None and stopper.step >= max_steps:
            break
    return EarlyStoppingResult(stopper.best_params, stopper.best_step, stopper.best_error, stopper.step, errors)


def _callable(name, value, form):
    if not callable(value):
        raise TypeError(f"{name} must be a callable {form}, got {type(value).__name__}")


def retrain_for(train_steps_all: Callable, theta0, best_step: int):
    r"""First way to use the validation data afterwards (Goodfellow Alg. 7.2, source 004's "common
    approach"): start again from :math:`\theta_0` and train on *all* the data (training + validation)
    for :math:`i^*` steps, the number early stopping found. ``train_steps_all(theta, n)`` trains on
    all the data. (Whether to keep the number of steps or the number of epochs is a choice: with
    more data an epoch has more steps.)"""
    _callable("train_steps_all", train_steps_all, "train_steps_all(theta, n)")
    best_step = _validate.integer("best_step", best_step, low=0)
    return train_steps_all(theta0, best_step) if best_step else theta0


def continue_until(train_steps_all: Callable, monitored_loss: Callable, theta_best, target: float, *,
                   n: int, max_steps: int):
    r"""Second way (Goodfellow Alg. 7.3, source 004's "alternative"): keep :math:`\theta^*` and go on
    training on all the data, ``n`` steps at a time, while ``monitored_loss(theta) > target``.

    Goodfellow sets ``target`` :math:`= \varepsilon = J(\theta^*; X_\text{subtrain})`, the training
    loss at the best step, and monitors the loss on the validation set, which now is part of the
    training data. ``max_steps`` bounds the loop (the target may never be reached).

    With :func:`course_lib.train.train`, ``train_steps_all`` can be a closure that passes the
    previous call's ``history.state`` back as ``state=``: the optimizer then goes on with its
    moments and schedule instead of restarting (tests/test_train.py does this).

    Returns ``(theta, steps)``.
    """
    _callable("train_steps_all", train_steps_all, "train_steps_all(theta, n)")
    _callable("monitored_loss", monitored_loss, "monitored_loss(theta)")
    n = _validate.integer("n", n, low=1)
    max_steps = _validate.integer("max_steps", max_steps, low=1)
    target = _validate.real("target", target)
    theta, steps = theta_best, 0
    while monitored_loss(theta) > target and steps < max_steps:
        theta = train_steps_all(theta, n)
        steps += n
    return theta, steps
