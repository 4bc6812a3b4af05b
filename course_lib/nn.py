r"""Layers with hand-written backward passes, losses and a sequential model.

In the style of the cs231n assignments: each layer is a small class whose
``forward(x, mode)`` returns the output and caches what the backward pass needs, and whose
``backward(dout)`` returns :math:`\partial L/\partial x` and fills ``layer.grads`` with
:math:`\partial L/\partial \theta` for each parameter in ``layer.params``. ``mode`` is ``"train"``
or ``"eval"`` and must be given explicitly (batch norm and dropout behave differently).

Shapes are batch first, like torch: ``x`` is ``(N, D)``, N examples of D features.

A :class:`Sequential` model exposes ``params`` and ``grads`` as ``dict[str, ndarray]`` with torch's
names (``"0.weight"``, ``"0.bias"``, ``"1.gamma"``, ...): exactly what ``course_lib.optim``
optimizers take::

    model = nn.mlp([64, 128, 128, 10], batchnorm=True, dropout=0.2, rng=0)
    loss_fn = nn.CrossEntropyLoss()
    loss = loss_fn.forward(model.forward(x, "train"), y)
    model.backward(loss_fn.backward())
    params, state = opt.step(model.params, model.grads, state)
    model.params = params

Every backward pass here is checked against centred differences (``course_lib.gradcheck``) and
against torch.nn in the tests.
"""
from __future__ import annotations

import numpy as np

from course_lib import _validate
from course_lib import init as _init
from course_lib.ewma import ewma_update

__all__ = [
    "Layer",
    "Linear",
    "ReLU",
    "LeakyReLU",
    "Tanh",
    "Sigmoid",
    "BatchNorm1d",
    "Dropout",
    "CrossEntropyLoss",
    "MSELoss",
    "Sequential",
    "mlp",
    "fuse_batchnorm",
    "softmax",
]

_MODES = ("train", "eval")


def _check_mode(mode):
    if mode not in _MODES:
        raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")


def _check_input(x, features, name="x"):
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of shape (N, {features}), got {type(x).__name__}")
    if x.ndim != 2 or x.shape[1] != features:
        raise ValueError(f"{name} must have shape (N, {features}), got {x.shape}")


class Layer:
    """Base class: no parameters; ``params``, ``grads`` and ``buffers`` are dicts of arrays."""

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.cache = None

    def forward(self, x: np.ndarray, mode: str) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def _need_cache(self):
        if self.cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")

    def __repr__(self):
        return f"{type(self).__name__}()"


class Linear(Layer):
    r"""Fully connected layer, :math:`y = x W^\top + b` (torch's layout).

    Parameters: ``weight`` W of shape ``(out_features, in_features)``, ``bias`` b of shape
    ``(out_features,)``. Shapes: x ``(N, in_features)`` -> y ``(N, out_features)``.

    Backward, with upstream gradient :math:`G = \partial L/\partial y`:
    :math:`\partial L/\partial x = G W`, :math:`\partial L/\partial W = G^\top x`,
    :math:`\partial L/\partial b = \sum_n G_n`.

    ``init`` names an initializer of ``course_lib.init`` (default He/Kaiming normal, variance
    2/in_features, suited to ReLU) or is a callable ``init(shape, rng)``; biases start at 0.
    (torch's ``nn.Linear`` draws both from :math:`U(\pm 1/\sqrt{\text{in\_features}})` instead.)
    """

    def __init__(self, in_features: int, out_features: int, *, rng, init="kaiming_normal", bias: bool = True):
        super().__init__()
        self.in_features = _validate.integer("in_features", in_features, low=1)
        self.out_features = _validate.integer("out_features", out_features, low=1)
        if isinstance(init, str):
            if init not in _init.INITIALIZERS:
                raise ValueError(f"init must be one of {sorted(_init.INITIALIZERS)} or a callable, got {init!r}")
            init = _init.INITIALIZERS[init]
        elif not callable(init):
            raise TypeError(f"init must be a name or a callable init(shape, rng), got {type(init).__name__}")
        self.params["weight"] = np.asarray(init((out_features, in_features), _init.generator(rng)), dtype=np.float64)
        if _validate.boolean("bias", bias):
            self.params["bias"] = np.zeros(out_features)

    def forward(self, x, mode):
        _check_mode(mode)
        _check_input(x, self.in_features)
        self.cache = x
        out = x @ self.params["weight"].T
        if "bias" in self.params:
            out += self.params["bias"]
        return out

    def backward(self, dout, input_grad: bool = True):
        """Fill ``grads``; return dx (N, in_features), or None if ``input_grad`` is False (saves a matmul)."""
        self._need_cache()
        x = self.cache
        self.grads["weight"] = dout.T @ x
        if "bias" in self.params:
            self.grads["bias"] = dout.sum(axis=0)
        return dout @ self.params["weight"] if input_grad else None

    def __repr__(self):
        return f"Linear({self.in_features}, {self.out_features}, bias={'bias' in self.params})"


class ReLU(Layer):
    r""":math:`y = \max(0, x)`; :math:`\partial L/\partial x = G \odot [x > 0]` (0 at x = 0, as torch). Any shape."""

    def forward(self, x, mode):
        _check_mode(mode)
        y = np.maximum(x, 0.0)
        self.cache = y
        return y

    def backward(self, dout):
        self._need_cache()
        return dout * (self.cache > 0)


class LeakyReLU(Layer):
    r""":math:`y = x` for :math:`x > 0`, :math:`y = a x` otherwise (``negative_slope`` a = 0.01, torch's default).
    Backward: :math:`G \odot (1 \text{ if } x>0 \text{ else } a)`. Any shape."""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = _validate.real("negative_slope", negative_slope)

    def forward(self, x, mode):
        _check_mode(mode)
        slope = np.where(x > 0, 1.0, self.negative_slope)
        self.cache = slope
        return x * slope

    def backward(self, dout):
        self._need_cache()
        return dout * self.cache

    def __repr__(self):
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class Tanh(Layer):
    r""":math:`y = \tanh x`; :math:`\partial L/\partial x = G \odot (1 - y^2)`. Any shape."""

    def forward(self, x, mode):
        _check_mode(mode)
        y = np.tanh(x)
        self.cache = y
        return y

    def backward(self, dout):
        self._need_cache()
        return dout * (1.0 - self.cache**2)


class Sigmoid(Layer):
    r""":math:`y = \sigma(x) = 1/(1+e^{-x})`; :math:`\partial L/\partial x = G \odot y(1-y)`. Any shape.

    Computed as :math:`(1 + \tanh(x/2))/2`, which never overflows.
    """

    def forward(self, x, mode):
        _check_mode(mode)
        y = 0.5 * (1.0 + np.tanh(0.5 * x))
        self.cache = y
        return y

    def backward(self, dout):
        self._need_cache()
        y = self.cache
        return dout * y * (1.0 - y)


class BatchNorm1d(Layer):
    r"""Batch normalization over the features of ``x`` ``(N, D)`` (torch ``nn.BatchNorm1d``).

    Training mode, with the batch mean and *biased* batch variance of each feature j:

    .. math::

        \mu_j = \frac1N \sum_n x_{nj},\quad
        \sigma_j^2 = \frac1N \sum_n (x_{nj}-\mu_j)^2,\quad
        \hat x_{nj} = \frac{x_{nj}-\mu_j}{\sqrt{\sigma_j^2+\varepsilon}},\quad
        y_{nj} = \gamma_j \hat x_{nj} + \beta_j .

    Evaluation mode uses the running statistics instead of the batch's, so the layer becomes
    the affine map :math:`y = \gamma (x - \bar\mu)/\sqrt{\bar\sigma^2+\varepsilon} + \beta` (which
    :func:`fuse_batchnorm` folds into the preceding linear layer, source 003).

    Running statistics (``buffers``: ``running_mean`` starts at 0, ``running_var`` at 1) follow
    torch's ``momentum`` convention:

    .. math::

        \bar\mu \leftarrow (1-m)\,\bar\mu + m\,\mu_\mathcal{B},\qquad
        \bar\sigma^2 \leftarrow (1-m)\,\bar\sigma^2 + m\,\tfrac{N}{N-1}\sigma_\mathcal{B}^2,

    i.e. an EWMA (``course_lib.ewma.ewma_update``) with decay :math:`\rho = 1 - m`: torch's
    ``momentum=0.1`` is source 001's EWMA with :math:`\rho = 0.9`. The running variance uses the
    *unbiased* batch variance (factor N/(N-1)), while the normalization itself uses the biased one,
    exactly as torch does. ``momentum=None`` gives the plain running mean of all batches so far
    (:math:`m = 1/t`, source 002's :math:`\gamma_t = (t-1)/t`).

    Conventions in the sources: sources 001, 003 and 000 write :math:`\sqrt{\sigma^2+\varepsilon}`
    as here; source 002 divides by :math:`\sigma+\varepsilon` and stores the batch as an
    ``(features, K)`` matrix (features x batch), the transpose of this layout; source 004 divides by
    :math:`\hat\sigma_\mathcal{B}` with no :math:`\varepsilon` at all. The outputs differ by
    :math:`O(\varepsilon/\sigma)`.

    A batch of one example in training mode has zero variance and nothing to normalize with:
    like torch, this raises a ``ValueError``.

    Backward (training mode), with :math:`\hat G = G \odot \gamma`:

    .. math::

        \frac{\partial L}{\partial x_{nj}} = \frac{1}{N\sqrt{\sigma_j^2+\varepsilon}}
        \Big(N \hat G_{nj} - \sum_k \hat G_{kj} - \hat x_{nj} \sum_k \hat G_{kj} \hat x_{kj}\Big),\quad
        \frac{\partial L}{\partial \gamma_j} = \sum_n G_{nj}\hat x_{nj},\quad
        \frac{\partial L}{\partial \beta_j} = \sum_n G_{nj},

    which simplifies to :math:`\frac{\gamma_j}{\sqrt{\sigma_j^2+\varepsilon}}\big(G_{nj} - \frac1N(\partial_{\beta_j} L
    + \hat x_{nj}\,\partial_{\gamma_j} L)\big)`. Source 002 derives the same (its last formula, with
    :math:`\sigma` in place of :math:`\sqrt{\sigma^2+\varepsilon}` and its ``features x batch`` indices).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1):
        super().__init__()
        self.num_features = _validate.integer("num_features", num_features, low=1)
        self.eps = _validate.real("eps", eps, low=0.0, low_open=True)
        if momentum is not None:
            momentum = _validate.real("momentum", momentum, low=0.0, high=1.0, low_open=True)
        self.momentum = momentum
        self.params["gamma"] = np.ones(num_features)
        self.params["beta"] = np.zeros(num_features)
        self.buffers["running_mean"] = np.zeros(num_features)
        self.buffers["running_var"] = np.ones(num_features)
        self.buffers["num_batches_tracked"] = np.zeros((), dtype=np.int64)

    def forward(self, x, mode):
        _check_mode(mode)
        _check_input(x, self.num_features)
        gamma, beta = self.params["gamma"], self.params["beta"]
        if mode == "train":
            n = x.shape[0]
            if n < 2:
                raise ValueError(
                    f"BatchNorm1d in training mode needs more than 1 example per batch, got x of shape {x.shape}"
                )
            mean = x.sum(axis=0) / n
            centred = x - mean
            var = np.einsum("nj,nj->j", centred, centred) / n
            self._update_running(mean, var * (n / (n - 1)))
        else:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
            centred = x - mean
        inv_std = 1.0 / np.sqrt(var + self.eps)
        x_hat = np.multiply(centred, inv_std, out=centred)  # centred * inv_std (in place: centred is ours)
        self.cache = (x_hat, inv_std, mode)
        out = x_hat * gamma
        out += beta
        return out

    def _update_running(self, mean, unbiased_var):
        count = self.buffers["num_batches_tracked"] + 1
        self.buffers["num_batches_tracked"] = count
        momentum = 1.0 / count if self.momentum is None else self.momentum
        rho = 1.0 - momentum  # the EWMA decay of source 001
        self.buffers["running_mean"] = ewma_update(self.buffers["running_mean"], mean, rho)
        self.buffers["running_var"] = ewma_update(self.buffers["running_var"], unbiased_var, rho)

    def backward(self, dout):
        self._need_cache()
        x_hat, inv_std, mode = self.cache
        scale = self.params["gamma"] * inv_std
        dgamma = np.einsum("nj,nj->j", dout, x_hat)
        dbeta = dout.sum(axis=0)
        self.grads["gamma"], self.grads["beta"] = dgamma, dbeta
        if mode == "eval":  # the statistics are constants
            return dout * scale
        # The formula above, with sum_k G_kj gamma_j = gamma_j dbeta_j and sum_k G_kj gamma_j x_hat_kj = gamma_j dgamma_j:
        n = dout.shape[0]
        return (dout - (dbeta + x_hat * dgamma) / n) * scale

    def __repr__(self):
        return f"BatchNorm1d({self.num_features}, eps={self.eps}, momentum={self.momentum})"


class Dropout(Layer):
    r"""Dropout with torch's ``p`` = the probability of *dropping* a unit (default 0.5). Any shape.

    ``inverted=True`` (torch, Keras): in training each entry is kept with probability
    :math:`q = 1-p` and scaled by :math:`1/q`, :math:`y = x \odot m / q`, :math:`m_i \sim
    \text{Bernoulli}(q)`; in evaluation :math:`y = x`. Then :math:`\mathbb E[y] = x` in both modes.

    ``inverted=False`` is source 004's form: training keeps units with probability :math:`q`
    without scaling, :math:`y = x \odot m`, and at test time scales by :math:`q` (equivalently, the
    next layer's weights, :math:`W_\text{test} = q W`). Again the training-time expectation equals
    the evaluation output: :math:`\mathbb E[y] = q x`. Source 004 calls its :math:`p` the "dropout
    probability", but in its formula :math:`p` is the probability of *keeping* a unit (its "0.8 for
    the input layer, 0.5 for hidden units" are keep probabilities, as in Srivastava et al. 2014).
    Here ``p`` always means dropping; source 004's :math:`p` is ``1 - p``.

    Backward: :math:`\partial L/\partial x = G \odot m / q` (inverted) or :math:`G \odot m`, in
    training; :math:`G` (inverted) or :math:`q\,G` in evaluation.

    ``rng`` (Generator or seed) draws the masks; each training forward pass draws a new mask.
    """

    def __init__(self, p: float = 0.5, *, rng, inverted: bool = True):
        super().__init__()
        self.p = _validate.real("p", p, low=0.0, high=1.0)
        self.inverted = _validate.boolean("inverted", inverted)
        self.rng = _init.generator(rng)

    def forward(self, x, mode):
        _check_mode(mode)
        keep = 1.0 - self.p
        if mode == "eval":
            scale = 1.0 if self.inverted else keep
            self.cache = scale
            return x * scale
        mask = (self.rng.random(x.shape, dtype=np.float32) < keep).astype(np.float64)
        if self.inverted:
            mask *= (1.0 / keep) if keep > 0 else 0.0
        self.cache = mask
        return x * mask

    def backward(self, dout):
        self._need_cache()
        return dout * self.cache

    def __repr__(self):
        return f"Dropout(p={self.p}, inverted={self.inverted})"


def softmax(logits: np.ndarray) -> np.ndarray:
    r"""Row-wise softmax of ``logits`` ``(N, C)``, :math:`\operatorname{softmax}(z)_c = e^{z_c - \max z}/\sum_k e^{z_k - \max z}`."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


class CrossEntropyLoss:
    r"""Softmax cross-entropy averaged over the batch (torch ``nn.CrossEntropyLoss``).

    ``forward(logits, y)``: logits ``(N, C)``, integer labels y ``(N,)`` in ``[0, C)``;

    .. math:: L = -\frac1N \sum_n \log \operatorname{softmax}(z_n)_{y_n}
              = \frac1N \sum_n \Big(\log\sum_c e^{z_{nc}} - z_{n y_n}\Big).

    ``backward()`` returns :math:`\partial L/\partial z = (\operatorname{softmax}(z) - \text{onehot}(y))/N`.
    """

    def __init__(self):
        self.cache = None

    def forward(self, logits, y):
        if not isinstance(logits, np.ndarray) or logits.ndim != 2:
            raise ValueError(f"logits must be an array of shape (N, C), got {getattr(logits, 'shape', type(logits))}")
        y = np.asarray(y)
        if y.shape != (logits.shape[0],) or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"y must be integer labels of shape ({logits.shape[0]},), got {y.dtype} {y.shape}")
        if y.size and (y.min() < 0 or y.max() >= logits.shape[1]):
            raise ValueError(f"y must lie in [0, {logits.shape[1] - 1}]")
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_sum = np.log(np.exp(shifted).sum(axis=1))
        rows = np.arange(len(y))
        log_probs_y = shifted[rows, y] - log_sum
        self.cache = (shifted, log_sum, y)
        return float(-log_probs_y.mean())

    def backward(self):
        if self.cache is None:
            raise RuntimeError("CrossEntropyLoss.backward called before forward")
        shifted, log_sum, y = self.cache
        n = len(y)
        dlogits = np.exp(shifted - log_sum[:, None])
        dlogits[np.arange(n), y] -= 1.0
        dlogits /= n
        return dlogits


class MSELoss:
    r"""Mean squared error over all entries (torch ``nn.MSELoss``, ``reduction="mean"``).

    ``forward(pred, target)``, both of shape S with M entries: :math:`L = \frac1M \sum_i (\hat y_i - y_i)^2`;
    ``backward()`` returns :math:`\partial L/\partial \hat y = 2(\hat y - y)/M`.
    """

    def __init__(self):
        self.cache = None

    def forward(self, pred, target):
        pred = np.asarray(pred, dtype=np.float64)
        target = np.asarray(target, dtype=np.float64)
        if pred.shape != target.shape:
            raise ValueError(f"pred and target must have the same shape, got {pred.shape} and {target.shape}")
        diff = pred - target
        self.cache = diff
        return float(np.mean(diff**2))

    def backward(self):
        if self.cache is None:
            raise RuntimeError("MSELoss.backward called before forward")
        return 2.0 * self.cache / self.cache.size


class Sequential:
    """Layers applied in order; ``params``/``grads``/``buffers`` are flat dicts named ``"<index>.<name>"``.

    ``model.params`` returns the layers' arrays (not copies); assigning ``model.params = new``
    hands each layer its new arrays (the optimizers return new objects). ``state_dict()`` and
    ``load_state_dict()`` copy parameters *and* buffers (batch norm's running statistics), as
    early stopping needs.
    """

    def __init__(self, *layers: Layer):
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {i} must be a course_lib.nn Layer, got {type(layer).__name__}")
        self.layers = list(layers)

    def forward(self, x, mode):
        """x ``(N, D_in)`` -> output ``(N, D_out)``, through every layer in ``mode``."""
        _check_mode(mode)
        for layer in self.layers:
            x = layer.forward(x, mode)
        return x

    def backward(self, dout, *, input_grad: bool = True):
        """dout ``(N, D_out)`` -> dx ``(N, D_in)``; fills every layer's ``grads``.

        With ``input_grad=False`` (training: nobody needs dL/dx of the data) a first Linear layer
        skips computing it and None is returned.
        """
        for layer in reversed(self.layers[1:]):
            dout = layer.backward(dout)
        first = self.layers[0]
        if isinstance(first, Linear):
            return first.backward(dout, input_grad=input_grad)
        return first.backward(dout)

    def _collect(self, attr):
        return {f"{i}.{name}": value for i, layer in enumerate(self.layers) for name, value in getattr(layer, attr).items()}

    @property
    def params(self) -> dict[str, np.ndarray]:
        return self._collect("params")

    @params.setter
    def params(self, new: dict[str, np.ndarray]):
        self._assign("params", new)

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return self._collect("grads")

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        return self._collect("buffers")

    def _assign(self, attr, new):
        if not isinstance(new, dict):
            raise TypeError(f"{attr} must be a dict of arrays, got {type(new).__name__}")
        if set(new) != set(self._collect(attr)):
            raise ValueError(f"{attr} must have the keys {sorted(self._collect(attr))}, got {sorted(new)}")
        for key, value in new.items():
            index, name = key.split(".", 1)
            getattr(self.layers[int(index)], attr)[name] = value

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer."""
        return {k: np.array(v, copy=True) for k, v in {**self.params, **self.buffers}.items()}

    def load_state_dict(self, state: dict[str, np.ndarray]):
        """Set parameters and buffers from copies of ``state`` (as returned by :meth:`state_dict`)."""
        params = {k: np.array(state[k], copy=True) for k in self.params}
        buffers = {k: np.array(state[k], copy=True) for k in self.buffers}
        self.params = params
        self._assign("buffers", buffers)

    def __repr__(self):
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"


_ACTIVATIONS = {"relu": ReLU, "leaky_relu": LeakyReLU, "tanh": Tanh, "sigmoid": Sigmoid}


def mlp(sizes, *, rng, activation: str = "relu", batchnorm: bool = False, dropout: float = 0.0,
        init="kaiming_normal") -> Sequential:
    """A multilayer perceptron ``Linear -> [BatchNorm1d] -> activation -> [Dropout]`` per hidden layer.

    ``sizes = [64, 128, 128, 10]`` gives two hidden layers of 128 units and 10 outputs (logits, no
    activation after the last Linear). ``rng`` (Generator or seed) is split into one independent
    stream per random layer (weights, dropout masks), so the whole model is reproducible.
    """
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
        raise ValueError(f"sizes must be a list of at least 2 layer widths, got {sizes!r}")
    sizes = [_validate.integer("sizes entries", s, low=1) for s in sizes]
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    batchnorm = _validate.boolean("batchnorm", batchnorm)
    dropout = _validate.real("dropout", dropout, low=0.0, high=1.0, high_open=True)
    streams = iter(_init.generator(rng).spawn(2 * len(sizes)))
    layers: list[Layer] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(n_in, n_out, rng=next(streams), init=init))
        if i == len(sizes) - 2:
            break
        if batchnorm:
            layers.append(BatchNorm1d(n_out))
        layers.append(_ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(Dropout(dropout, rng=next(streams)))
    return Sequential(*layers)


def fuse_batchnorm(linear: Linear, bn: BatchNorm1d) -> Linear:
    r"""Fold an evaluation-mode batch norm into the preceding linear layer (source 003).

    In evaluation mode ``bn(linear(x))`` is affine in x: with :math:`s = \gamma/\sqrt{\bar\sigma^2+\varepsilon}`,

    .. math:: y = s \odot (x W^\top + b - \bar\mu) + \beta = x (\operatorname{diag}(s) W)^\top + \big(s \odot (b - \bar\mu) + \beta\big),

    so one Linear with :math:`W' = \operatorname{diag}(s) W` and :math:`b' = s\odot(b-\bar\mu)+\beta`
    gives the same outputs at no extra cost. Returns a new Linear; the inputs are unchanged.
    """
    if not isinstance(linear, Linear) or not isinstance(bn, BatchNorm1d):
        raise TypeError("fuse_batchnorm expects (Linear, BatchNorm1d)")
    if linear.out_features != bn.num_features:
        raise ValueError(f"bn.num_features must equal linear.out_features={linear.out_features}, got {bn.num_features}")
    scale = bn.params["gamma"] / np.sqrt(bn.buffers["running_var"] + bn.eps)
    bias = linear.params.get("bias", 0.0)
    fused = Linear(linear.in_features, linear.out_features, rng=0, init="zeros")
    fused.params["weight"] = scale[:, None] * linear.params["weight"]
    fused.params["bias"] = scale * (bias - bn.buffers["running_mean"]) + bn.params["beta"]
    return fused
