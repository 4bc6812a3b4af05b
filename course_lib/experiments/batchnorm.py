r"""Experiments of the chapter "Batch normalization": small networks on the digits, trained with
and without batch norm, and what the chapter's figures and widgets show of them.

The layers live in :mod:`course_lib.nn` (and :mod:`course_lib.batchnorm_tools`), the training loop
in :mod:`course_lib.train`, the landscape probe in :mod:`course_lib.landscape`; this module only
puts them together::

    runs = smoothness_runs()                     # Santurkar et al.'s probe along the gradient
    sweep = weight_scale_sweep()                 # cs231n's experiment: accuracy against the init scale
    record = preactivation_record()              # a layer's pre-activations during training

Every function is deterministic (seeded) and small enough for the chapter's 30-second budget.
Results that the chapter and a widget share are cached (:func:`functools.lru_cache`): treat them as
read-only.
"""
from __future__ import annotations

import copy
import functools
from types import SimpleNamespace

import numpy as np

from course_lib import _validate, batchnorm_tools, data, landscape, nn, optim, parallel, train
from course_lib.ewma import ewma_update
from course_lib.experiments.gradient_descent import fit_batches  # the batch orders train.train does not make

__all__ = [
    "digits",
    "make_net",
    "fit",
    "fit_batches",
    "class_sorted_batches",
    "evaluation_batches",
    "shuffled_batches",
    "accuracy_in_mode",
    "smoothness_runs",
    "noisy_batchnorm_runs",
    "preactivation_record",
    "batch_statistics_from_running",
    "running_average_trace",
    "batch_dependence",
    "batch_size_sweep",
    "batch_size_sweeps",
    "class_sorted_run",
    "calibration",
    "weight_scale_sweep",
    "learning_rate_sweep",
    "weight_norm_runs",
]


_one_thread = train._with_one_blas_thread   # numpy's BLAS on one thread, as train.train runs it


@functools.lru_cache(maxsize=1)
def digits() -> data.Split:
    """The digits split of the whole book (``data.load_digits()``), pixel values in [0, 1]."""
    return data.load_digits()


NORMS = (None, "batch", "layer", "group", "ghost", "noisy")


def make_net(hidden, *, norm=None, rng=0, init="kaiming_normal", bias=True, noisy=None, ghost=16, groups=8,
             momentum=0.1):
    r"""``Linear -> [norm] -> ReLU`` for each width in ``hidden``, then ``Linear`` to 10 logits (64 inputs).

    ``norm``: None, ``"batch"`` (:class:`~course_lib.nn.BatchNorm1d` with ``momentum``), ``"layer"``
    (:class:`~course_lib.nn.LayerNorm`), ``"group"`` (:class:`~course_lib.nn.GroupNorm` with ``groups``
    groups), ``"ghost"`` (:class:`~course_lib.batchnorm_tools.GhostBatchNorm1d` with ``ghost``
    examples per ghost batch) or ``"noisy"`` (:class:`~course_lib.batchnorm_tools.NoisyBatchNorm1d`,
    keyword arguments ``noisy``).
    ``init`` is a name of ``course_lib.init`` or a callable ``init(shape, rng)``; ``bias=False``
    drops the biases of the hidden Linear layers (useless before batch norm).
    """
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
    streams = iter(_validate.rng("rng", rng).spawn(2 * len(hidden) + 2))
    sizes = [64, *hidden]
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers.append(nn.Linear(n_in, n_out, rng=next(streams), init=init, bias=bias))
        if norm == "batch":
            layers.append(nn.BatchNorm1d(n_out, momentum=momentum))
        elif norm == "layer":
            layers.append(nn.LayerNorm(n_out))
        elif norm == "group":
            layers.append(nn.GroupNorm(groups, n_out))
        elif norm == "ghost":
            layers.append(batchnorm_tools.GhostBatchNorm1d(n_out, ghost))
        elif norm == "noisy":
            layers.append(batchnorm_tools.NoisyBatchNorm1d(n_out, rng=next(streams), **(noisy or {})))
        layers.append(nn.ReLU())
    layers.append(nn.Linear(sizes[-1], 10, rng=next(streams), init=init))
    return nn.Sequential(*layers)


def fit(model, opt, epochs, batch_size, *, rng=0, hooks=(), validation=False):
    """Train ``model`` on the digits' training set with :func:`course_lib.train.train` (batches in a fresh
    random order each epoch, from ``rng``); ``validation=True`` also evaluates on the validation set
    after every epoch. Returns the History."""
    split = digits()
    sets = (split.x_train, split.y_train) + ((split.x_val, split.y_val) if validation else ())
    return train.train(model, opt, sets, epochs, batch_size, rng=rng, hooks=hooks)


def shuffled_batches(n, batch_size, epochs, *, rng=0):
    """Index arrays of ``epochs`` passes over ``range(n)``, reshuffled each pass, batches of ``batch_size``
    (a last batch shorter than 2 is dropped: batch norm cannot train on one example)."""
    rng = _validate.rng("rng", rng)
    out = []
    for _ in range(epochs):
        order = rng.permutation(n)
        out += [order[a:a + batch_size] for a in range(0, n, batch_size) if len(order[a:a + batch_size]) >= 2]
    return out


def evaluation_batches(n, batch_size, *, rng=1):
    """A random partition of ``range(n)`` into ``n // batch_size`` batches of ``batch_size`` or
    ``batch_size + 1`` indices (no example left out, none of size 1): for evaluating in training mode."""
    order = _validate.rng("rng", rng).permutation(n)
    return np.array_split(order, max(n // batch_size, 1))


def class_sorted_batches(y, batch_size, epochs, *, rng=0):
    """Batches that each hold one class only (non-i.i.d.), in a random order each epoch: what a data
    set sorted by label gives without shuffling. Each class is split into ``len // batch_size``
    batches (of ``batch_size`` or a few more examples), so no example is left out."""
    rng = _validate.rng("rng", rng)
    y = np.asarray(y)
    out = []
    for _ in range(epochs):
        epoch = []
        for label in np.unique(y):
            idx = rng.permutation(np.flatnonzero(y == label))
            epoch += np.array_split(idx, max(len(idx) // batch_size, 1))  # sizes batch_size or a little more
        out += [epoch[i] for i in rng.permutation(len(epoch))]
    return out


@_one_thread
def accuracy_in_mode(model, x, y, *, mode="eval", batch_size=None, batches=None):
    """Accuracy of ``model`` on ``(x, y)`` with the forward pass in ``mode``.

    In ``"train"`` mode (forgetting to switch to evaluation) each batch is normalized with its own
    statistics: the batches are consecutive chunks of ``batch_size`` rows (default: all of x at
    once), or the given index arrays ``batches``. Runs on a copy: the model's running statistics
    are untouched.
    """
    model = copy.deepcopy(model)
    if batches is None:
        size = len(x) if batch_size is None else batch_size
        batches = [np.arange(a, min(a + size, len(x))) for a in range(0, len(x), size)]
    correct = sum(int(np.sum(model.forward(x[idx], mode).argmax(axis=1) == y[idx])) for idx in batches)
    return correct / sum(len(idx) for idx in batches)


# --------------------------------------------------------------------------------------------
# Santurkar et al.: smoothness and noisy batch norm
# --------------------------------------------------------------------------------------------

SMOOTHNESS_ETAS = np.geomspace(0.05, 4.0, 13)


class _ProbeHook:
    """Every ``every`` steps, probe the loss along the gradient on a fixed batch."""

    def __init__(self, every, x, y, etas):
        self.every, self.x, self.y, self.etas = every, x, y, etas
        self.steps, self.probes = [], []

    def on_step(self, info):
        if info.step % self.every == 0:
            self.steps.append(info.step)
            self.probes.append(landscape.probe_along_gradient(info.model, self.x, self.y, self.etas))


@functools.lru_cache(maxsize=4)
@_one_thread
def smoothness_runs(depth: int = 6, width: int = 64, lr: float = 0.1, epochs: int = 5, batch_size: int = 64,
                    every: int = 10, rng: int = 0) -> dict:
    r"""Santurkar et al.'s measurements on a deep network on the digits, without and with batch norm.

    Both networks (``depth`` hidden layers of ``width`` units, same initial weights) train with SGD
    at ``lr`` on the same batches; every ``every`` steps the loss and the gradient are probed along
    the gradient direction for the step sizes :data:`SMOOTHNESS_ETAS`, on a fixed batch of 256
    training examples (:func:`course_lib.landscape.probe_along_gradient`).

    Returns ``{"standard": run, "batch norm": run}``, each run with ``steps`` (S,), ``etas``,
    ``losses`` (S, E) = :math:`L(\theta - \eta g)`, ``grad_changes`` (S, E), ``beta`` (S,) the
    effective smoothness, ``loss_range`` (S,) the spread of the loss over the step sizes, and the
    batch-loss curve ``train_loss``.
    """
    split = digits()
    probe_x, probe_y = split.x_train[:256], split.y_train[:256]

    def run(norm):
        model = make_net([width] * depth, norm=norm, rng=rng)
        hook = _ProbeHook(every, probe_x, probe_y, SMOOTHNESS_ETAS)
        losses = np.array(fit(model, optim.sgd(lr), epochs, batch_size, rng=rng, hooks=[hook]).batch_loss)
        return SimpleNamespace(
            steps=np.array(hook.steps), etas=SMOOTHNESS_ETAS,
            losses=np.array([p.losses for p in hook.probes]),
            grad_changes=np.array([p.grad_changes for p in hook.probes]),
            beta=np.array([p.beta_smoothness for p in hook.probes]),
            loss_range=np.array([np.ptp(p.losses) for p in hook.probes]),
            train_loss=losses, val_acc=accuracy_in_mode(model, split.x_val, split.y_val))

    norms = {"standard": None, "batch norm": "batch"}
    return dict(zip(norms, parallel.run_all(run, norms.values())))   # independent runs, on two cores where free


class _DistributionHook:
    """Record the mean and standard deviation of every unit of one layer's output, each step, with
    the injected noise (``means``, ``stds``) and without it (``clean_means``).

    A noisy network is measured on a copy: a training-mode forward of the live one would draw from
    its noise stream and so change the run being measured."""

    def __init__(self, index, x):
        self.index, self.x = index, x
        self.means, self.stds, self.clean_means = [], [], []

    def on_step(self, info):
        noisy = any(isinstance(layer, batchnorm_tools.NoisyBatchNorm1d) for layer in info.model.layers)
        # without noisy layers a training-mode pass draws nothing (and _train_forward restores the
        # running statistics): the live model serves, and the pass without noise is the same pass
        probe = copy.deepcopy(info.model) if noisy else info.model
        h = _train_forward(probe, self.x, self.index)
        self.means.append(h.mean(axis=0))
        self.stds.append(h.std(axis=0))
        if not noisy:
            self.clean_means.append(self.means[-1])
            return
        for layer in probe.layers:
            if isinstance(layer, batchnorm_tools.NoisyBatchNorm1d):
                layer.noise_mean, layer.noise_std = 0.0, (0.0, 0.0)   # the network's own drift, no noise
        self.clean_means.append(_train_forward(probe, self.x, self.index).mean(axis=0))


@_one_thread
def noisy_batchnorm_runs(depth: int = 4, width: int = 64, lr: float = 0.1, epochs: int = 6, batch_size: int = 64,
                         noise: dict | None = None, rng: int = 0) -> dict:
    r"""Santurkar et al.'s "noisy batch norm": standard, batch-norm and noisy-batch-norm networks.

    The three networks share the initial weights and the batches (SGD at ``lr``). The noisy one adds,
    after every batch-norm layer, noise whose mean and variance change at every step
    (:class:`~course_lib.batchnorm_tools.NoisyBatchNorm1d` with ``noise``). For each run: the
    validation accuracy after every epoch (``val_acc``), the batch losses, and the mean and standard
    deviation of the units of the third layer's input over training (``means``, ``stds``, (T, width)),
    and the means with the noise switched off (``clean_means``), measured on 256 training examples in
    training mode on a copy of the network (the measurement does not touch the run).
    """
    split = digits()

    def run(norm):
        model = make_net([width] * depth, norm=norm, rng=rng, noisy=noise)
        # the input of the third Linear layer: the output of the second hidden block (after its ReLU)
        block = 3 if norm else 2
        hook = _DistributionHook(2 * block - 1, split.x_train[:256])
        history = fit(model, optim.sgd(lr), epochs, batch_size, rng=rng, hooks=[hook], validation=True)
        return SimpleNamespace(val_acc=np.array(history.val_acc), batch_loss=np.array(history.batch_loss),
                               means=np.array(hook.means), stds=np.array(hook.stds),
                               clean_means=np.array(hook.clean_means))

    norms = {"standard": None, "batch norm": "batch", "noisy batch norm": "noisy"}
    return dict(zip(norms, parallel.run_all(run, norms.values())))   # independent runs, on two cores where free


# --------------------------------------------------------------------------------------------
# Running statistics, batch dependence
# --------------------------------------------------------------------------------------------

def _train_outputs(model, x, last):
    """The outputs of layers 0..``last`` of ``model`` for ``x`` in training mode (batch statistics), a
    list, with the running statistics restored afterwards: a look at the network between two steps."""
    saved = [{k: np.array(v, copy=True) for k, v in layer.buffers.items()} for layer in model.layers]
    outputs, h = [], x
    for layer in model.layers[: last + 1]:
        h = layer.forward(h, "train")
        outputs.append(h)
    for layer, buffers in zip(model.layers, saved):
        layer.buffers.update(buffers)
    return outputs


def _train_forward(model, x, last):
    """The output of layer ``last`` of ``model`` for ``x`` in training mode (see :func:`_train_outputs`)."""
    return _train_outputs(model, x, last)[-1]


def _counts(values, bins):
    """``np.histogram(values, bins)[0]`` for equally spaced ``bins``, without its sort (values outside are dropped)."""
    n = len(bins) - 1
    index = np.floor((values.ravel() - bins[0]) * (n / (bins[-1] - bins[0]))).astype(np.int64)
    return np.bincount(index[(index >= 0) & (index < n)], minlength=n)


class _HistogramHook:
    """At every step, for each layer index in ``indices``, the histogram of the layer's output for all
    of ``x`` (one training-mode pass for all of them), and the mean and variance of its unit ``unit``;
    by index: ``histograms[i]``, ``population_means[i]``, ``population_vars[i]``."""

    def __init__(self, indices, x, unit, bins):
        self.indices, self.x, self.unit, self.bins = tuple(indices), x, unit, bins
        self.histograms = {i: [] for i in self.indices}
        self.population_means = {i: [] for i in self.indices}
        self.population_vars = {i: [] for i in self.indices}

    def on_step(self, info):
        outputs = _train_outputs(info.model, self.x, max(self.indices))
        for i in self.indices:
            h = outputs[i]
            self.histograms[i].append(_counts(h, self.bins))
            self.population_means[i].append(h[:, self.unit].mean())
            self.population_vars[i].append(h[:, self.unit].var())


class _BufferHook:
    """At every step, the running mean and running variance of one unit of a batch-norm layer."""

    def __init__(self, index, unit):
        self.index, self.unit = index, unit
        self.means, self.variances = [], []

    def on_step(self, info):
        buffers = info.model.layers[self.index].buffers
        self.means.append(float(buffers["running_mean"][self.unit]))
        self.variances.append(float(buffers["running_var"][self.unit]))


def batch_statistics_from_running(running, momentum, initial):
    r"""Invert torch's update :math:`r_t = (1-m) r_{t-1} + m\,b_t`: the batch values
    :math:`b_t = (r_t - (1-m) r_{t-1})/m` from the stored running averages ``running`` (T,), starting
    from ``initial`` (0 for the mean, 1 for the variance)."""
    running = _validate.array("running", running)
    previous = np.concatenate([[initial], running[:-1]])
    return (running - (1.0 - momentum) * previous) / momentum


@functools.lru_cache(maxsize=2)
@_one_thread
def preactivation_record(epochs: int = 4, batch_size: int = 32, lr: float = 0.1, layer: int = 3, unit: int = 4,
                         rng: int = 0) -> dict:
    r"""The pre-activations of hidden layer ``layer`` (1-based) during training, without and with batch norm.

    Two networks (4 hidden layers of 64, same initial weights and batches, SGD at ``lr``) train for
    ``epochs`` epochs with batches of ``batch_size``. After every step, for 256 training examples passed
    in training mode: the histogram of the layer's pre-activations (its Linear output, ``histograms``
    (T, bins) on the common ``bins``) and the mean and variance of unit ``unit`` (``population_means``,
    ``population_vars``); with batch
    norm also the histogram after normalization (``normalized``), and the batch means and unbiased
    batch variances of that unit as the batch-norm layer saw them (``batch_means``, ``batch_vars``
    (T,)), recovered exactly from its running averages (:func:`batch_statistics_from_running`).
    """
    split = digits()
    x, y = split.x_train, split.y_train
    bins = np.linspace(-6.0, 6.0, 49)

    def run(norm):
        model = make_net([64] * 4, norm=norm, rng=rng)
        linear_index = (3 if norm else 2) * (layer - 1)
        # the Linear output and (with batch norm) the batch-norm output after it, from one pass per step
        histograms = _HistogramHook((linear_index, linear_index + 1) if norm else (linear_index,), x[:256], unit, bins)
        hooks = [histograms] + ([_BufferHook(linear_index + 1, unit)] if norm else [])
        fit(model, optim.sgd(lr), epochs, batch_size, rng=rng, hooks=hooks)
        record = SimpleNamespace(histograms=np.array(histograms.histograms[linear_index]), bins=bins,
                                 batch_size=batch_size, unit=unit, layer=layer,
                                 population_means=np.array(histograms.population_means[linear_index]),
                                 population_vars=np.array(histograms.population_vars[linear_index]))
        if norm:
            momentum = model.layers[linear_index + 1].momentum
            record.normalized = np.array(histograms.histograms[linear_index + 1])
            record.running_means, record.running_vars = np.array(hooks[1].means), np.array(hooks[1].variances)
            record.batch_means = batch_statistics_from_running(record.running_means, momentum, 0.0)
            record.batch_vars = batch_statistics_from_running(record.running_vars, momentum, 1.0)
        return record

    norms = {"standard": None, "batch norm": "batch"}
    return dict(zip(norms, parallel.run_all(run, norms.values())))   # independent runs, on two cores where free


def running_average_trace(batch_values, momentum, initial=0.0):
    r"""The running average batch norm keeps of ``batch_values`` (T,), torch's convention:
    :math:`\bar\mu_t = (1-m)\bar\mu_{t-1} + m\,\mu_t`, i.e. an EWMA with decay :math:`\rho = 1-m`,
    from ``initial`` (0 for the mean, 1 for the variance). ``momentum=None``: cumulative average."""
    batch_values = _validate.array("batch_values", batch_values)
    out = np.empty_like(batch_values)
    average = float(initial)
    for t, value in enumerate(batch_values, start=1):
        m = 1.0 / t if momentum is None else momentum
        average = float(ewma_update(average, value, 1.0 - m))
        out[t - 1] = average
    return out


@functools.lru_cache(maxsize=2)
@_one_thread
def trained_batchnorm_net(epochs: int = 10, batch_size: int = 32, rng: int = 0):
    """A 3-hidden-layer batch-norm network trained on the digits (SGD with momentum 0.9, lr 0.1), for the test-time sections."""
    model = make_net([64] * 3, norm="batch", rng=rng)
    split = digits()
    fit(model, optim.sgd(0.1, momentum=0.9), epochs, batch_size, rng=rng)
    return model


BATCH_SIZES = (2, 4, 8, 16, 32, 64, 128, 256)


@functools.lru_cache(maxsize=2)
@_one_thread
def batch_dependence(example: int = 0, draws: int = 200, rng: int = 0) -> dict:
    r"""How the output for one test example depends on the batch around it (training-mode forward).

    For each batch size B in :data:`BATCH_SIZES`, ``draws`` batches of the test example number
    ``example`` plus B-1 other random test examples go through :func:`trained_batchnorm_net` in
    training mode. Returns ``{"prob": (len(B), draws)`` the probability of the true class,
    ``"means": (len(B), draws)`` the batch mean of unit 0 of the first batch-norm layer,
    ``"eval_prob"`` the evaluation-mode probability, ``"running_mean"`` and ``"population_mean"``
    of that unit (test set), ``"batch_sizes"``}.
    """
    model = trained_batchnorm_net()
    split = digits()
    x, y = split.x_test, split.y_test
    gen = _validate.rng("rng", rng)
    others = np.delete(np.arange(len(x)), example)
    probe = copy.deepcopy(model)
    rest = nn.Sequential(*probe.layers[1:])     # the layers after the first Linear, which is done once per batch
    prob = np.empty((len(BATCH_SIZES), draws))
    means = np.empty((len(BATCH_SIZES), draws))
    for i, size in enumerate(BATCH_SIZES):
        for d in range(draws):
            idx = np.concatenate([[example], gen.choice(others, size - 1, replace=False)])
            h0 = probe.layers[0].forward(x[idx], "train")
            means[i, d] = h0[:, 0].mean()
            prob[i, d] = nn.softmax(rest.forward(h0, "train"))[0, y[example]]
    eval_prob = nn.softmax(model.forward(x[[example]], "eval"))[0, y[example]]
    return dict(prob=prob, means=means, eval_prob=float(eval_prob), batch_sizes=BATCH_SIZES,
                running_mean=float(model.layers[1].buffers["running_mean"][0]),
                population_mean=float(model.layers[0].forward(x, "eval")[:, 0].mean()))


# --------------------------------------------------------------------------------------------
# Batch size, weight scale, learning rate, weight norm
# --------------------------------------------------------------------------------------------

def batch_size_sweep(sizes=BATCH_SIZES, steps: int = 200, lr: float = 3e-3, norm="batch", rng: int = 0, **net) -> dict:
    r"""For each batch size: train a 3-hidden-layer network with normalization ``norm`` (see
    :func:`make_net`, extra keywords ``net``; ``steps`` steps of Adam at ``lr``, whatever the batch size) and
    measure the test accuracy in evaluation mode (``"eval"``) and in training mode with test batches
    of the same size (``"train_mode"``), and the training accuracy in evaluation mode (``"train"``).
    Returns ``{"sizes", "eval", "train_mode", "train"}`` (arrays over the sizes)."""
    return batch_size_sweeps(sizes, (norm,), steps=steps, lr=lr, rng=rng, **net)[0]


@_one_thread
def batch_size_sweeps(sizes, norms, steps: int = 200, lr: float = 3e-3, rng: int = 0, **net) -> list:
    r""":func:`batch_size_sweep` for each normalization of ``norms``, a list in that order; all the
    runs are shared out among the free cores at once (one sweep's few runs would leave one core
    waiting for the largest batch, a sweep at a time)."""
    if isinstance(norms, str) or not isinstance(norms, (tuple, list)) or not norms:
        raise TypeError(f"norms must be a non-empty list or tuple of normalizations (see make_net), got {norms!r}")
    split = digits()

    def run(norm_and_size):   # one network: (eval, train_mode, train) accuracies
        norm, size = norm_and_size
        model = make_net([64] * 3, norm=norm, rng=rng, **net)
        epochs = -(-steps * size // len(split.x_train)) + 1
        batches = shuffled_batches(len(split.x_train), size, epochs, rng=rng)[:steps]
        fit_batches(model, optim.adam(lr), split.x_train, split.y_train, batches)
        return (accuracy_in_mode(model, split.x_test, split.y_test),
                accuracy_in_mode(model, split.x_test, split.y_test, mode="train",
                                 batches=evaluation_batches(len(split.x_test), size)),
                accuracy_in_mode(model, split.x_train, split.y_train))

    sizes = tuple(sizes)
    results = iter(parallel.run_all(run, [(norm, size) for norm in norms for size in sizes]))  # seeded, independent
    sweeps = []
    for _ in norms:
        columns = zip(*[next(results) for _ in sizes])
        sweeps.append({"sizes": np.asarray(sizes),
                       **{k: np.array(v) for k, v in zip(("eval", "train_mode", "train"), columns)}})
    return sweeps


@_one_thread
def class_sorted_run(epochs: int = 3, batch_size: int = 32, lr: float = 0.05, rng: int = 0) -> dict:
    r"""Batch norm trained on batches of one class each (:func:`class_sorted_batches`) against the same
    network trained on shuffled batches. For each: test accuracy in evaluation mode, and in training
    mode on shuffled and on class-sorted test batches. Returns ``{"shuffled": {...}, "class-sorted": {...}}``."""
    split = digits()
    x, y = split.x_train, split.y_train
    out = {}
    for name, batches in (("shuffled", shuffled_batches(len(x), batch_size, epochs, rng=rng)),
                          ("class-sorted", class_sorted_batches(y, batch_size, epochs, rng=rng))):
        model = make_net([64] * 3, norm="batch", rng=rng)
        fit_batches(model, optim.sgd(lr, momentum=0.9), x, y, batches)
        out[name] = {
            "eval": accuracy_in_mode(model, split.x_test, split.y_test),
            "train mode, shuffled batches": accuracy_in_mode(
                model, split.x_test, split.y_test, mode="train",
                batches=evaluation_batches(len(split.x_test), batch_size)),
            "train mode, class-sorted batches": accuracy_in_mode(
                model, split.x_test, split.y_test, mode="train",
                batches=class_sorted_batches(split.y_test, batch_size, 1, rng=1)),
        }
    return out


@_one_thread
def calibration(momenta=(0.1, 0.01), epochs: int = 1, batch_size: int = 32, rng: int = 0) -> dict:
    r"""Running averages against population statistics after a short training run.

    For each torch ``momentum`` (0.1: torch's default, :math:`\rho = 0.9`; 0.01: Keras's default
    ``momentum=0.99``, which is the decay :math:`\rho`), a 3-hidden-layer batch-norm network trains for
    ``epochs`` epochs (SGD with momentum 0.9, lr 0.1). Returns, per momentum, the validation accuracy in
    evaluation mode with the running averages (``"running"``) and after
    :func:`~course_lib.batchnorm_tools.calibrate_batchnorm` on the training set (``"calibrated"``), and
    the largest relative gap between the running and the population variance of the first layer (``"var_gap"``)."""
    split = digits()
    out = {}
    for momentum in momenta:
        model = make_net([64] * 3, norm="batch", rng=rng, momentum=momentum)
        fit(model, optim.sgd(0.1, momentum=0.9), epochs, batch_size, rng=rng)
        calibrated = batchnorm_tools.calibrate_batchnorm(model, split.x_train)
        running = model.layers[1].buffers["running_var"]
        population = calibrated.layers[1].buffers["running_var"]
        out[momentum] = {"running": accuracy_in_mode(model, split.x_val, split.y_val),
                         "calibrated": accuracy_in_mode(calibrated, split.x_val, split.y_val),
                         "var_gap": float(np.max(np.abs(running - population) / population))}
    return out


@_one_thread
def weight_scale_sweep(scales=None, hidden=(50,) * 7, epochs: int = 5, batch_size: int = 50, lr: float = 1e-3,
                       rng: int = 0) -> dict:
    r"""cs231n's weight-scale experiment: weights drawn from :math:`\mathcal N(0, s^2)` for each scale s,
    8 layers (7 hidden of 50), Adam at ``lr``, ``epochs`` passes with batches of ``batch_size``, with and
    without batch norm. Returns ``{"scales", "standard": {...}, "batch norm": {...}}`` with the final
    ``train_acc``, ``val_acc`` and ``loss`` (last batch loss, NaN if it diverged) per scale."""
    scales = np.logspace(-4, 0, 7) if scales is None else np.asarray(scales, dtype=float)
    split = digits()
    norms = (("standard", None), ("batch norm", "batch"))

    def run(norm_and_scale):   # one network: (train_acc, val_acc, last batch loss)
        norm, s = norm_and_scale

        def init(shape, gen):
            return s * gen.standard_normal(shape)

        model = make_net(list(hidden), norm=norm, rng=rng, init=init)
        with np.errstate(all="ignore"):
            losses = fit(model, optim.adam(lr), epochs, batch_size, rng=rng).batch_loss
            return (accuracy_in_mode(model, split.x_train, split.y_train),
                    accuracy_in_mode(model, split.x_val, split.y_val), losses[-1])

    results = iter(parallel.run_all(run, [(norm, s) for _, norm in norms for s in scales]))
    out = {"scales": scales}
    for name, _ in norms:
        columns = zip(*[next(results) for _ in scales])
        out[name] = {k: np.array(v) for k, v in zip(("train_acc", "val_acc", "loss"), columns)}
    return out


@_one_thread
def learning_rate_sweep(lrs=(0.03, 0.1, 0.3, 1.0, 3.0), depth: int = 6, epochs: int = 4, batch_size: int = 64,
                        rng: int = 0) -> dict:
    r"""Plain SGD at each learning rate, ``depth`` hidden layers of 64, with and without batch norm.
    Returns ``{"lrs", name: {"val_acc": (len(lrs),), "curves": (len(lrs), steps) batch losses}}``;
    a run that diverged has NaN losses and accuracy 0.1 or so (a constant prediction)."""
    split = digits()
    norms = (("standard", None), ("batch norm", "batch"))

    def run(norm_and_lr):   # one network: (val_acc, batch losses)
        norm, lr = norm_and_lr
        model = make_net([64] * depth, norm=norm, rng=rng)
        with np.errstate(all="ignore"):
            curve = fit(model, optim.sgd(lr), epochs, batch_size, rng=rng).batch_loss
            return accuracy_in_mode(model, split.x_val, split.y_val), curve

    results = iter(parallel.run_all(run, [(norm, lr) for _, norm in norms for lr in lrs]))
    out = {"lrs": np.asarray(lrs)}
    for name, _ in norms:
        accs, curves = zip(*[next(results) for _ in lrs])
        out[name] = {"val_acc": np.array(accs), "curves": np.array(curves)}
    return out


class _WeightNormHook:
    """The norm of parameter ``key`` before training (``initial``) and after every step."""

    def __init__(self, key, initial):
        self.key, self.norms = key, [float(np.linalg.norm(initial))]

    def on_step(self, info):
        self.norms.append(float(np.linalg.norm(info.model.params[self.key])))


def _decay_mask(model):
    """``{name: True}`` for the weight of every Linear layer followed by a batch-norm layer, False elsewhere."""
    normalized = {f"{i}.weight" for i, (layer, after) in enumerate(zip(model.layers, model.layers[1:]))
                  if isinstance(layer, nn.Linear) and isinstance(after, nn.BatchNorm1d)}
    return {name: name in normalized for name in model.params}


@_one_thread
def weight_norm_runs(lr: float = 0.1, weight_decays=(0.0, 1e-2, 5e-2), epochs: int = 8, batch_size: int = 64,
                     rng: int = 0) -> dict:
    r"""The norm of a batch-normalized layer's weights during SGD training, for each weight decay.

    The first Linear layer of a 3-hidden-layer batch-norm network feeds a batch-norm layer, so the
    loss does not depend on its scale and its gradient is orthogonal to it: without weight decay
    :math:`\|W\|` can only grow, and the effective learning rate :math:`\alpha/\|W\|^2` falls. The decay
    (torch's coupled ``weight_decay``) acts only on the weights of the three hidden Linear layers,
    each followed by batch norm (:func:`_decay_mask`): the output layer, whose scale does matter, is
    not decayed. Returns ``{wd: {"norms": (T + 1,) from before the first step, "val_acc": float}}``."""
    split = digits()
    out = {}
    for wd in weight_decays:
        model = make_net([64] * 3, norm="batch", rng=rng)
        hook = _WeightNormHook("0.weight", model.params["0.weight"])
        fit(model, optim.sgd(lr, weight_decay=wd, mask=_decay_mask(model)), epochs, batch_size, rng=rng, hooks=[hook])
        out[wd] = SimpleNamespace(norms=np.array(hook.norms), val_acc=accuracy_in_mode(model, split.x_val, split.y_val))
    return out
