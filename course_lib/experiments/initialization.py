r"""Experiments of the chapter "Initialization and data preprocessing".

The maths lives in :mod:`course_lib.diagnostics` (per-layer statistics, mean-field theory,
least-squares conditioning, LSUV), :mod:`course_lib.init`, :mod:`course_lib.data` and
:mod:`course_lib.nn`; this module puts them together into what the chapter's figures, tables and
widgets show::

    runs = depth_experiment()                        # source 003's 10 x 500 network, 4 scales x 2 activations
    runs[("tanh", "0.01")].act_std                   # measured std of each layer's output
    ratio = signal_map(np.linspace(0.5, 4, 15), 40, "relu")   # Var(z_L)/Var(z_1) over (sigma_w^2 n, L)
    table = preprocessing_table(data.load_digits(scale=False))
    histories = train_deep(split, {"He": "kaiming_normal"})

Public names
------------
``SCALES``, ``DepthRun``, ``deep_network``, ``depth_experiment``, ``signal_map``, ``preprocess``,
``one_hot``, ``preprocessing_table``, ``cloud``, ``preprocessing_path``, ``symmetry_run``,
``train_deep``, ``deep_linear``, ``linear_learning_times``, ``UpdateRatios``, ``update_ratio_run``.
"""
from __future__ import annotations

import functools
import math
import numbers
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np

from course_lib import _validate, data, diagnostics, init, nn, optim, parallel, train
from course_lib.experiments.gradient_descent import fit_batches

__all__ = [
    "SCALES",
    "DepthRun",
    "deep_network",
    "propagation_statistics",
    "depth_experiment",
    "signal_map",
    "preprocess",
    "PREPROCESSING",
    "one_hot",
    "preprocessing_table",
    "cloud",
    "PathResult",
    "preprocessing_path",
    "symmetry_run",
    "train_deep",
    "deep_linear",
    "linear_learning_times",
    "UpdateRatios",
    "update_ratio_run",
]

#: The weight scales of source 003's experiment, as a function of the fan-in n: the standard
#: deviation of each weight. "LeCun" is the 1/sqrt(n) that source 003 calls Xavier; for these
#: square layers Glorot and Bengio's 2/(n_in + n_out) is the same number.
SCALES = {
    "0.01": lambda n: 0.01,
    "1.0": lambda n: 1.0,
    "LeCun/Xavier": lambda n: 1.0 / math.sqrt(n),
    "He": lambda n: math.sqrt(2.0 / n),
}

_ACTIVATION_LAYERS = {"tanh": nn.Tanh, "relu": nn.ReLU, "linear": None}


_one_thread = train._with_one_blas_thread   # numpy's BLAS on one thread, as train.train runs it


def deep_network(width: int, depth: int, std: float, activation: str, *, rng=0, dtype=np.float64) -> nn.Sequential:
    r"""``depth`` blocks ``Linear(width, width, bias=False) -> activation``, weights
    :math:`\mathcal N(0, \text{std}^2)` (source 003's ``np.random.randn(fan_in, fan_out) * std``,
    stored in torch's (out, in) layout). ``activation``: ``"tanh"``, ``"relu"`` or ``"linear"``.
    ``dtype=np.float32`` stores the weights in single precision (twice as fast; fed float32 inputs,
    the whole pass is float32). Layer l's weights are ``std`` times the standard normal draws of
    the l-th stream spawned from ``rng``, so networks of one seed and several stds share their draws
    (made once per seed: :func:`_unit_weights`)."""
    width = _validate.integer("width", width, low=1)
    depth = _validate.integer("depth", depth, low=1)
    std = _validate.real("std", std, low=0.0)
    if activation not in _ACTIVATION_LAYERS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATION_LAYERS)}, got {activation!r}")
    if isinstance(rng, numbers.Integral) and not isinstance(rng, (bool, np.bool_)) and rng >= 0:
        units = _unit_weights(width, depth, int(rng))
    else:
        units = _draw_unit_weights(width, depth, rng)
    layers = []
    for unit in units:
        layer = nn.Linear(width, width, rng=0, init="zeros", bias=False)
        layer.params["weight"] = (std * unit).astype(dtype, copy=False)
        layers.append(layer)
        if _ACTIVATION_LAYERS[activation] is not None:
            layers.append(_ACTIVATION_LAYERS[activation]())
    return nn.Sequential(*layers)


def _draw_unit_weights(width, depth, rng):
    """One standard normal (width, width) matrix from each of ``depth`` streams spawned from ``rng``
    (what ``nn.Linear(width, width, rng=stream, init=...)`` draws for a normal initializer)."""
    return [stream.standard_normal((width, width)) for stream in _validate.rng("rng", rng).spawn(depth)]


@functools.lru_cache(maxsize=4)
def _unit_weights(width, depth, seed):
    """:func:`_draw_unit_weights` for an int seed, drawn once and kept (read-only): the depth
    experiment and the signal map build many networks from one seed, differing only in std."""
    units = tuple(_draw_unit_weights(width, depth, seed))
    for unit in units:
        unit.flags.writeable = False
    return units


class DepthRun(NamedTuple):
    """One network of the depth experiment, layer l = 1..depth (arrays of length depth):
    ``act_mean``/``act_std`` of the layer outputs h_l, ``grad_std`` of dL/dz_l (the gradient at
    the pre-activations, as in Glorot and Bengio's figures), ``act_hist``/``grad_hist``
    (depth, bins) histograms (fractions of the entries; values outside the range counted in the
    end bins) over ``act_edges`` and ``grad_edges`` (the gradients in units of the top layer's
    std), and ``theory``, the :class:`~course_lib.diagnostics.MeanField` prediction."""

    act_mean: np.ndarray
    act_std: np.ndarray
    grad_std: np.ndarray
    act_hist: np.ndarray
    grad_hist: np.ndarray
    act_edges: np.ndarray
    grad_edges: np.ndarray
    theory: diagnostics.MeanField


def _histograms(values, edges):
    """Fractions of each row of ``values`` (layers, entries) in the bins, clipped into the end bins."""
    bins = len(edges) - 1  # equally spaced edges: the bin of v is floor((v - edges[0]) / width)
    index = np.clip(((values - edges[0]) * (bins / (edges[-1] - edges[0]))).astype(np.int64), 0, bins - 1)
    index += bins * np.arange(values.shape[0])[:, None]
    counts = np.bincount(index.ravel(), minlength=bins * values.shape[0]).reshape(values.shape[0], bins)
    return counts / values.shape[1]


_HIST_VALUES = 100_000


def _sample(values):
    flat = values.ravel()
    return flat[::max(1, flat.size // _HIST_VALUES)][:_HIST_VALUES]


def _mean_std(values):
    """Mean and standard deviation of all entries, accumulated in float64."""
    flat = values.ravel().astype(np.float64)
    mean = flat.mean()
    centred = flat - mean
    return mean, math.sqrt(np.dot(centred, centred) / flat.size)


def propagation_statistics(model, x, grad_output, activation: str, gain: float, *, depth: int | None = None,
                           bins: int = 41, act_range: float | None = None) -> DepthRun:
    r"""The :class:`DepthRun` of the first ``depth`` blocks of a :func:`deep_network` ``model``
    (all of them by default) on inputs ``x``, back-propagating ``grad_output`` (an array of the
    output's shape, or a Generator/seed for a standard normal one) from the top of those blocks.
    ``gain`` is :math:`\sigma_w^2 n`, for the mean-field ``theory``. The activation histograms span
    ``[-act_range, act_range]`` (default 1 for tanh, 3 otherwise); the gradients' span [-3, 3]."""
    per_block = 1 if activation == "linear" else 2
    blocks = len(model.layers) // per_block
    depth = blocks if depth is None else _validate.integer("depth", depth, low=1, high=blocks)
    with train._one_blas_thread():
        return _propagation_statistics(model, x, grad_output, activation, gain, depth, bins, per_block, act_range)


def _propagation_statistics(model, x, grad_output, activation, gain, depth, bins, per_block, act_range):
    records = diagnostics.layer_statistics(nn.Sequential(*model.layers[:per_block * depth]), x, grad_output=grad_output)
    linear = [r for r in records if isinstance(r.layer, nn.Linear)]
    outputs = [records[r.index + 1].output if activation != "linear" else r.output for r in linear]
    grads = [r.grad_output for r in linear]  # dL/dz_l
    act_mean, act_std = np.array([_mean_std(h) for h in outputs]).T
    grad_std = np.array([_mean_std(g)[1] for g in grads])
    if act_range is None:
        act_range = 1.0 if activation == "tanh" else 3.0
    act_edges = np.linspace(-act_range, act_range, bins + 1)
    grad_edges = np.linspace(-3.0, 3.0, bins + 1)
    scale = grad_std[-1] if grad_std[-1] > 0 else 1.0
    # histograms of (at most) _HIST_VALUES entries per layer, an evenly strided sample: plenty for a picture
    act_hist = _histograms(np.stack([_sample(h) for h in outputs]), act_edges)
    grad_hist = _histograms(np.stack([_sample(g) for g in grads]) / scale, grad_edges)
    theory = diagnostics.mean_field(gain, depth, activation, input_second_moment=float(np.mean(x**2)))
    return DepthRun(act_mean, act_std, grad_std, act_hist, grad_hist, act_edges, grad_edges, theory)


def depth_experiment(scales=None, activations=("tanh", "relu"), *, n: int = 500, width: int = 500,
                     depth: int = 10, bins: int = 41, rng=0) -> dict:
    r"""Source 003's motivating example, done for several weight scales and activations.

    The input is ``n`` examples of ``width`` = 500 unit-Gaussian features (source 003's
    ``D = np.random.randn(1000, 500)``, which its comment calls "10-D", has n = 1000; the default 500
    halves the time, and 250 000 values per layer are plenty for the statistics), pushed through ``depth`` = 10
    layers of 500 units without bias. The backward pass starts from a standard normal gradient
    at the top output (a stand-in for a loss gradient). ``scales``: name -> std as a function of
    the fan-in (default :data:`SCALES`). Every network draws its weights from the same seed.
    Returns ``{(activation, scale name): DepthRun}``.
    """
    scales = SCALES if scales is None else scales
    with train._one_blas_thread():  # these matrices are small for threads on a busy machine
        return _depth_experiment(scales, activations, n, width, depth, bins, rng)


def _depth_experiment(scales, activations, n, width, depth, bins, rng):
    generator = _validate.rng("rng", rng)
    x = generator.standard_normal((n, width)).astype(np.float32)
    seed = int(generator.integers(2**32))
    out = {}
    for activation in activations:
        for name, std_of in scales.items():
            std = std_of(width)
            model = deep_network(width, depth, std, activation, rng=seed, dtype=np.float32)
            out[(activation, name)] = propagation_statistics(model, x, seed + 1, activation, std**2 * width,
                                                             bins=bins)
    return out


def signal_map(gains, depth: int, activation: str, *, width: int = 100, n: int = 200, rng=0):
    r"""The ratio :math:`\operatorname{Var}(z_L)/\operatorname{Var}(z_1)` of the pre-activations of
    layer L and layer 1, measured for every :math:`\sigma_w^2 n` in ``gains`` and every L =
    1..``depth`` (one network of ``depth`` layers per gain: the first L layers of a deeper network
    are a network of depth L), next to the mean-field prediction.

    Returns ``(measured, theory)``, each of shape (len(gains), depth).
    """
    gains = _validate.array("gains", gains)
    if gains.ndim != 1 or np.any(gains <= 0):
        raise ValueError("gains must be a vector of positive numbers")
    depth = _validate.integer("depth", depth, low=1)
    with train._one_blas_thread():
        return _signal_map(gains, depth, activation, width, n, rng)


def _signal_map(gains, depth, activation, width, n, rng):
    generator = _validate.rng("rng", rng)
    x = generator.standard_normal((n, width))
    seed = int(generator.integers(2**32))
    measured = np.empty((gains.size, depth))
    theory = np.empty_like(measured)
    for i, gain in enumerate(gains):
        model = deep_network(width, depth, math.sqrt(gain / width), activation, rng=seed)
        records = diagnostics.layer_statistics(model, x, mode="eval")
        var = np.array([r.output.var() for r in records if isinstance(r.layer, nn.Linear)])
        measured[i] = var / var[0]
        q = diagnostics.mean_field(float(gain), depth, activation).preact_var
        theory[i] = q / q[0]
    return measured, theory


# --------------------------------------------------------------------------------------------
# Preprocessing
# --------------------------------------------------------------------------------------------

#: The preprocessing methods of :func:`preprocess`, in the order of the chapter.
PREPROCESSING = ("raw", "centred", "standardized", "whitened")


def preprocess(x_train, x_other, method: str, *, eps: float = 0.0):
    r"""Transform ``x_train`` and ``x_other`` with statistics of ``x_train`` only.

    ``"raw"``: unchanged; ``"centred"``: minus the training mean; ``"standardized"``: z-scored with
    the training mean and std (:func:`course_lib.data.standardize`; constant features divided by
    1); ``"whitened"``: PCA-whitened with the training covariance, :math:`(\Lambda+\varepsilon
    I)^{-1/2}\Phi^\top(x-\mu)` (:func:`course_lib.data.whiten`), after dropping the training set's
    constant features (their eigenvalue is 0). Returns ``(train, other)``.
    """
    x_train = _validate.array("x_train", x_train)
    x_other = _validate.array("x_other", x_other)
    if method == "raw":
        return x_train, x_other
    if method == "centred":
        mean = x_train.mean(axis=0)
        return x_train - mean, x_other - mean
    if method == "standardized":
        z, mean, std = data.standardize(x_train)
        return z, data.standardize(x_other, mean, std)[0]
    if method == "whitened":
        keep = x_train.std(axis=0) > 0
        w, p = data.whiten(x_train[:, keep], eps=eps)
        # the same map applied to the other split: (x - mean) Phi / sqrt(lambda + eps)
        other = (x_other[:, keep] - p.mean) @ p.components / np.sqrt(p.eigenvalues + eps)
        return w, other
    raise ValueError(f"method must be one of {PREPROCESSING}, got {method!r}")


def one_hot(y, num_classes: int = 10) -> np.ndarray:
    """Integer labels (N,) -> one-hot rows (N, num_classes), the least-squares targets."""
    y = np.asarray(y)
    return np.eye(num_classes)[y]


@_one_thread
def preprocessing_table(split, *, eps_values=(0.0, 0.1), tol: float = 1e-6) -> list:
    r"""For each preprocessing of the digits' training set, the least-squares problem of fitting the
    one-hot labels: the Hessian's condition number (over its non-zero eigenvalues), the number of
    gradient-descent steps with :math:`\alpha = 1/\lambda_\max` to reduce the excess loss by ``tol``,
    the largest eigenvalue of the training Hessian, and that of the *test* split's Hessian under
    the same transform (which shows what whitening does to directions the training set barely
    varies in: for the training split it is 1). Whitening is done for
    each ``eps`` in ``eps_values``. Returns a list of dicts (one row per method).
    """
    targets = one_hot(split.y_train)
    rows = []
    methods = [(m, 0.0) for m in PREPROCESSING[:-1]] + [("whitened", e) for e in eps_values]
    for method, eps in methods:
        train_x, test_x = preprocess(split.x_train, split.x_test, method, eps=eps)
        h = diagnostics.least_squares_hessian(train_x)
        rows.append({
            "method": method if method != "whitened" else f"whitened, eps = {eps:g}",
            "kappa": diagnostics.condition_number(h),
            "steps": diagnostics.gd_steps(train_x, targets, tol=tol),
            "lambda_max": float(np.linalg.eigvalsh(h)[-1]),
            "test_lambda_max": float(np.linalg.eigvalsh(diagnostics.least_squares_hessian(test_x))[-1]),
        })
    return rows


def cloud(n: int = 200, *, correlation: float = 0.8, mean=(4.0, 2.0), std=(2.0, 0.5), rng=0):
    r"""A 2-D Gaussian data cloud with a regression target, for the preprocessing widget:
    ``x`` (n, 2) with the given means, standard deviations and correlation, and
    :math:`y = x w^\dagger + 0.3\,\xi` with :math:`w^\dagger = (1, -2)`. Returns ``(x, y)``."""
    n = _validate.integer("n", n, low=2)
    correlation = _validate.real("correlation", correlation, low=-1.0, high=1.0, low_open=True, high_open=True)
    generator = _validate.rng("rng", rng)
    z = generator.standard_normal((n, 2))
    z[:, 1] = correlation * z[:, 0] + math.sqrt(1 - correlation**2) * z[:, 1]
    x = np.asarray(mean) + z * np.asarray(std)
    y = x @ np.array([1.0, -2.0]) + 0.3 * generator.standard_normal(n)
    return x, y


class PathResult(NamedTuple):
    """Gradient descent on the 2-D least squares of :func:`preprocessing_path`: the transformed
    inputs ``x``, the path ``w`` (steps + 1, 2), the minimizer ``w_star``, the Hessian's condition
    number ``kappa``, the exact number of ``steps_needed`` to the tolerance, a ``grid``
    (W1, W2, J) of the loss for contours, and the ``losses`` along the path."""

    x: np.ndarray
    w: np.ndarray
    w_star: np.ndarray
    kappa: float
    steps_needed: int
    grid: tuple
    losses: np.ndarray


@_one_thread
def preprocessing_path(x, y, method: str, *, steps: int = 300, tol: float = 1e-6, span: float = 3.0,
                       start=(-1.6, 2.4), resolution: int = 81) -> PathResult:
    r"""Least squares without bias, :math:`J(w) = \frac1{2n}\|Xw - y\|^2` over two weights, on the
    inputs transformed by ``method`` (:func:`preprocess`; the target is centred when the inputs
    are). Gradient descent with :math:`\alpha = 1/\lambda_\max` from the point
    :math:`w^* + s\cdot\text{start}` (s the largest :math:`|w^*_i|`, at least 1), ``steps``
    steps (``optim.sgd`` on the exact gradient); the grid spans :math:`w^* \pm s\cdot\text{span}`. Without centring the Hessian is the second-moment
    matrix :math:`\frac1n X^\top X`, whose largest eigenvector points along the mean: source 003's
    all-positive inputs.
    """
    x = _validate.array("x", x)
    y = _validate.array("y", y)
    xt, _ = preprocess(x, x, method)
    yt = y if method == "raw" else y - y.mean()
    n = xt.shape[0]
    h = diagnostics.least_squares_hessian(xt, bias=False)
    lam_max = float(np.linalg.eigvalsh(h)[-1])
    w_star = np.linalg.lstsq(xt, yt, rcond=None)[0]
    size = max(1.0, float(np.abs(w_star).max()))
    w0 = w_star + size * _validate.array("start", start)

    def grad(w):
        return xt.T @ (xt @ w - yt) / n

    opt = optim.sgd(1.0 / lam_max)
    w = w0.copy()
    state = opt.init(w)
    path = [w]
    for _ in range(steps):
        w, state = opt.step(w, grad(w), state)
        path.append(w)
    half = span * size
    g1 = np.linspace(w_star[0] - half, w_star[0] + half, resolution)
    g2 = np.linspace(w_star[1] - half, w_star[1] + half, resolution)
    W1, W2 = np.meshgrid(g1, g2)
    flat = np.stack([W1.ravel(), W2.ravel()], axis=1)
    def loss(ws):
        return 0.5 * np.mean((ws @ xt.T - yt) ** 2, axis=1)

    J = loss(flat).reshape(W1.shape)
    path = np.array(path)
    return PathResult(xt, path, w_star, diagnostics.condition_number(h),
                      diagnostics.gd_steps(xt, yt, tol=tol, bias=False, w0=w0), (W1, W2, J), loss(path))


# --------------------------------------------------------------------------------------------
# Symmetry
# --------------------------------------------------------------------------------------------

def symmetry_run(noise: float, *, value: float = 0.5, hidden: int = 5, steps: int = 200, lr: float = 0.5,
                 rng=0) -> np.ndarray:
    r"""A 2-``hidden``-2 tanh network on the two moons, every weight started at ``value`` plus
    ``noise`` times a standard normal draw (biases at 0), trained by full-batch gradient descent
    (``optim.sgd``).

    Returns the first layer's weights over training, shape (steps + 1, hidden, 2): with
    ``noise = 0`` all hidden units receive the same gradient at every step and stay identical.
    For an int seed ``rng`` the run is made once and kept (read-only): the chapter and its
    symmetry widget show the same runs.
    """
    noise = _validate.real("noise", noise, low=0.0)
    value = _validate.real("value", value)
    hidden = _validate.integer("hidden", hidden, low=1)
    steps = _validate.integer("steps", steps, low=1)
    lr = _validate.real("lr", lr, low=0.0)
    if isinstance(rng, numbers.Integral) and not isinstance(rng, (bool, np.bool_)) and rng >= 0:
        return _symmetry_run_kept(noise, value, hidden, steps, lr, int(rng))
    return _symmetry_run(noise, value, hidden, steps, lr, rng)


@functools.lru_cache(maxsize=16)
def _symmetry_run_kept(noise, value, hidden, steps, lr, seed):
    weights = _symmetry_run(noise, value, hidden, steps, lr, seed)
    weights.flags.writeable = False
    return weights


def _symmetry_run(noise, value, hidden, steps, lr, rng):
    x, y = data.make_moons(100, noise=0.1)

    def constant_plus_noise(shape, generator):
        return value + noise * generator.standard_normal(shape)

    model = nn.mlp([2, hidden, 2], rng=rng, activation="tanh", init=constant_plus_noise)
    weights = [model.params["0.weight"]]
    record = SimpleNamespace(on_step=lambda info: weights.append(info.model.params["0.weight"].copy()))
    # full-batch gradient descent: the whole data set is every step's batch
    fit_batches(model, optim.sgd(lr), x, y, [np.arange(len(x))] * steps, hooks=[record])
    return np.array(weights)


# --------------------------------------------------------------------------------------------
# Training consequences
# --------------------------------------------------------------------------------------------

def train_deep(split, inits: dict, *, depth: int = 30, width: int = 64, epochs: int = 8,
               batch_size: int = 32, lr: float = 0.002, momentum: float = 0.9, rng=0) -> dict:
    r"""A deep ReLU MLP (``depth`` hidden layers of ``width`` units) on ``split`` (standardize the
    inputs first) from each initialization in ``inits`` (name -> ``init`` argument of
    :func:`course_lib.nn.mlp`, or a ready model), SGD with momentum. Returns
    ``{name: History}``. Every model starts from the same seed, so only the scale differs. A ready
    model is trained here, in place; the models built from names are trained side by side
    (``parallel.run_all``), with the same results.
    """
    def run(name):
        how = inits[name]
        if isinstance(how, nn.Sequential):
            model = how
        else:
            model = nn.mlp([split.x_train.shape[1]] + [width] * depth + [10], rng=rng, init=how)
        return train.train(model, optim.sgd(lr, momentum=momentum), split, epochs, batch_size)

    named = [name for name, how in inits.items() if not isinstance(how, nn.Sequential)]
    built = dict(zip(named, parallel.run_all(run, named)))   # independent runs, on two cores where free
    return {name: built[name] if name in built else run(name) for name in inits}


def deep_linear(depth: int, init_name: str, *, width: int = 64, n_in: int = 64, n_out: int = 10,
                rng=0) -> nn.Sequential:
    r"""A deep *linear* network: ``depth`` Linear layers (no activation) ``n_in -> width -> ... ->
    n_out``, without activations. ``init_name``: a name of :mod:`course_lib.init`, such as
    ``"orthogonal"`` (Saxe et al. 2013; rectangular layers get orthonormal rows or columns) or
    ``"lecun_normal"`` (their "scaled Gaussian", variance 1/n_in)."""
    depth = _validate.integer("depth", depth, low=1)
    sizes = [n_in] + [width] * (depth - 1) + [n_out]
    streams = _validate.rng("rng", rng).spawn(depth)
    return nn.Sequential(*[nn.Linear(a, b, rng=s, init=init_name) for s, a, b in zip(streams, sizes[:-1], sizes[1:])])


@_one_thread
def linear_learning_times(split, depths, inits=("lecun_normal", "orthogonal"), *, lr: float = 0.05,
                          epochs: int = 8, batch_size: int = 64, threshold: float = 0.6, rng=0) -> dict:
    r"""Deep linear networks of each depth in ``depths`` trained with SGD at learning rate
    ``lr / depth`` (softmax cross-entropy on ``split``'s training set). The rate is divided by
    the depth because each of the L layers contributes a change of the same size to the
    end-to-end map :math:`W_L\cdots W_1`: with ``lr / depth`` that map moves as fast at every
    depth. Returns ``{(init, depth): (train_loss per epoch, epochs to reach threshold or None)}``.
    """
    def run(name_and_depth):
        name, depth = name_and_depth
        model = deep_linear(depth, name, rng=rng)
        history = train.train(model, optim.sgd(lr / depth), (split.x_train, split.y_train), epochs, batch_size)
        losses = np.array(history.train_loss)
        hit = np.flatnonzero(losses < threshold)
        return losses, int(hit[0]) + 1 if hit.size else None

    keys = [(name, depth) for name in inits for depth in depths]
    return dict(zip(keys, parallel.run_all(run, keys)))   # independent runs, on two cores where free


class UpdateRatios:
    r"""A :func:`course_lib.train.train` hook recording :func:`course_lib.diagnostics.update_ratios`
    (:math:`\|\Delta\theta\|/\|\theta\|`, with :math:`\theta` before the step) of every parameter at
    every step: ``rows`` is a list of dicts name -> ratio."""

    def __init__(self):
        self.rows = []

    def on_step(self, info):
        updates = info.updates
        before = {name: value - updates[name] for name, value in info.params.items()}
        self.rows.append(diagnostics.update_ratios(before, updates))


def update_ratio_run(model, split, optimizer, *, steps: int = 100, batch_size: int = 64, rng=0) -> dict:
    r"""Train ``model`` (in place) on ``split``'s training set with :func:`course_lib.train.train` for
    the whole epochs that cover ``steps`` steps, recording the :class:`UpdateRatios`; returns
    ``{name: array (steps,)}`` for the ``*.weight`` parameters, over the first ``steps`` steps."""
    steps = _validate.integer("steps", steps, low=1)
    per_epoch = math.ceil(len(split.x_train) / batch_size)
    hook = UpdateRatios()
    train.train(model, optimizer, (split.x_train, split.y_train), math.ceil(steps / per_epoch), batch_size,
                rng=rng, hooks=[hook])
    names = [name for name in model.params if name.endswith("weight")]
    return {name: np.array([row[name] for row in hook.rows[:steps]]) for name in names}
