r"""Layers that hold parameters, losses and a sequential model: thin classes over :mod:`course_lib.layers`.

The arithmetic of every layer is a pure forward/backward pair in :mod:`course_lib.layers`
(cs231n style); a class here keeps the layer's parameters (``layer.params``), the gradients of
its last backward pass (``layer.grads``), its buffers (batch norm's running statistics) and the
cache of its pending forward pass. ``forward(x, mode)`` takes ``mode`` ``"train"`` or ``"eval"``
explicitly (batch norm and dropout behave differently); ``backward(dout)`` returns
:math:`\partial L/\partial x` and fills ``layer.grads``.

A forward pass can be differentiated once, like torch's graph: ``backward`` consumes the cache.
Training and evaluation passes keep separate caches, so an evaluation in the middle of a training
step (a validation loss, early stopping's check) never disturbs the pending training backward.
``backward(dout)`` differentiates the pending training pass if there is one, otherwise the pending
evaluation pass; ``backward(dout, mode)`` says which.

Shapes are batch first, like torch: ``x`` is ``(N, D)``. A :class:`Sequential` model exposes
``params`` and ``grads`` as ``dict[str, ndarray]`` with torch's names (``"0.weight"``,
``"0.bias"``, ``"1.gamma"``, ...): exactly what ``course_lib.optim`` optimizers take::

    model = nn.mlp([64, 128, 128, 10], batchnorm=True, dropout=0.2, rng=0)
    loss_fn = nn.CrossEntropyLoss()
    loss = loss_fn.forward(model.forward(x, "train"), y)
    model.backward(loss_fn.backward())
    params, state = opt.step(model.params, model.grads, state)
    model.params = params
"""
from __future__ import annotations

import functools

import numpy as np

from course_lib import _validate
from course_lib import init as _init
from course_lib import layers

__all__ = [
    "Layer",
    "Linear",
    "ReLU",
    "LeakyReLU",
    "Tanh",
    "Sigmoid",
    "BatchNorm1d",
    "LayerNorm",
    "GroupNorm",
    "Dropout",
    "CrossEntropyLoss",
    "MSELoss",
    "Sequential",
    "mlp",
    "fuse_batchnorm",
    "softmax",
]

softmax = layers.softmax

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
    """Base class: ``params``, ``grads`` and ``buffers`` are dicts of arrays (empty here).

    A subclass writes ``_forward(x, training) -> (out, cache)`` and ``_backward(dout, cache) -> dx``
    (filling ``self.grads``), usually one call each to :mod:`course_lib.layers`. ``cache`` holds the
    pending training pass, ``eval_cache`` the pending evaluation pass.
    """

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.cache = None
        self.eval_cache = None

    def forward(self, x: np.ndarray, mode: str) -> np.ndarray:
        if mode == "train":
            out, self.cache = self._forward(x, True)
        elif mode == "eval":
            out, self.eval_cache = self._forward(x, False)
        else:
            _check_mode(mode)
        return out

    def backward(self, dout: np.ndarray, mode: str | None = None) -> np.ndarray:
        if mode is None and self.cache is not None:  # the pending training pass (the common case, inlined)
            cache, self.cache = self.cache, None
            return self._backward(dout, cache)
        return self._backward(dout, self._take_cache(mode))

    def _take_cache(self, mode):
        """The cache of the pass to differentiate (see the module docstring), removed from the layer."""
        asked = mode
        if mode is None:
            mode = "train" if self.cache is not None else "eval"
        else:
            _check_mode(mode)
        if mode == "train":
            cache, self.cache = self.cache, None
        else:
            cache, self.eval_cache = self.eval_cache, None
        if cache is None:
            which = "forward pass" if asked is None else f"forward pass in mode {mode!r}"
            raise RuntimeError(f"{type(self).__name__}.backward called before forward: no pending {which} "
                               "(each forward pass can be differentiated once)")
        return cache

    def _forward(self, x, training):  # pragma: no cover - interface
        raise NotImplementedError

    def _backward(self, dout, cache):  # pragma: no cover - interface
        raise NotImplementedError

    def _need_cache(self):
        """For subclasses that override ``forward``/``backward`` and keep ``self.cache`` themselves."""
        if self.cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")

    def __repr__(self):
        return f"{type(self).__name__}()"


class Linear(Layer):
    r"""Fully connected layer, :math:`y = x W^\top + b` (torch's layout; :func:`~course_lib.layers.linear_forward`).

    Parameters: ``weight`` W ``(out_features, in_features)``, ``bias`` b ``(out_features,)``.
    Shapes: x ``(N, in_features)`` -> y ``(N, out_features)``.

    ``init`` and ``bias_init`` name an initializer of ``course_lib.init`` or are callables
    ``init(shape, rng)``; both draw from ``rng``, the weight first. The defaults are He/Kaiming
    normal (variance 2/in_features, suited to ReLU) and zero biases. torch's ``nn.Linear`` draws
    both from :math:`U(\pm 1/\sqrt{\text{in\_features}})`: ``init="torch_linear_default",
    bias_init="torch_linear_default"`` (a bias has no fan-in of its own; it gets the weight's).
    """

    def __init__(self, in_features: int, out_features: int, *, rng, init="kaiming_normal", bias: bool = True,
                 bias_init="zeros"):
        super().__init__()
        self.in_features = _validate.integer("in_features", in_features, low=1)
        self.out_features = _validate.integer("out_features", out_features, low=1)
        rng = _validate.rng("rng", rng)
        self.params["weight"] = _init.draw(_init.get(init, "init"), (out_features, in_features), rng, "init")
        if _validate.boolean("bias", bias):
            bias_init = _init.get(bias_init, "bias_init")
            if bias_init is _init.torch_linear_default:
                bias_init = functools.partial(bias_init, fan_in=in_features)
            self.params["bias"] = _init.draw(bias_init, (out_features,), rng, "bias_init")

    def _forward(self, x, training):
        return layers.linear_forward(x, self.params["weight"], self.params.get("bias"))

    def backward(self, dout, mode=None, *, input_grad: bool = True):
        """Fill ``grads``; return dx (N, in_features), or None if ``input_grad`` is False (saves a matmul)."""
        if mode is None and self.cache is not None:  # as in Layer.backward
            cache, self.cache = self.cache, None
        else:
            cache = self._take_cache(mode)
        dx, self.grads["weight"], db = layers.linear_backward(dout, cache, input_grad=input_grad)
        if db is not None:
            self.grads["bias"] = db
        return dx

    def __repr__(self):
        return f"Linear({self.in_features}, {self.out_features}, bias={'bias' in self.params})"


class ReLU(Layer):
    r""":math:`y = \max(0, x)`; :math:`\partial L/\partial x = G \odot [x > 0]` (0 at x = 0, as torch). Any shape."""

    def _forward(self, x, training):
        return layers.relu_forward(x)

    def _backward(self, dout, cache):
        return layers.relu_backward(dout, cache)


class LeakyReLU(Layer):
    r""":math:`y = x` for :math:`x > 0`, :math:`y = a x` otherwise (``negative_slope`` a = 0.01, torch's default). Any shape."""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = _validate.real("negative_slope", negative_slope)

    def _forward(self, x, training):
        return layers.leaky_relu_forward(x, self.negative_slope)

    def _backward(self, dout, cache):
        return layers.leaky_relu_backward(dout, cache)

    def __repr__(self):
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class Tanh(Layer):
    r""":math:`y = \tanh x`; :math:`\partial L/\partial x = G \odot (1 - y^2)`. Any shape."""

    def _forward(self, x, training):
        return layers.tanh_forward(x)

    def _backward(self, dout, cache):
        return layers.tanh_backward(dout, cache)


class Sigmoid(Layer):
    r""":math:`y = \sigma(x) = 1/(1+e^{-x})`; :math:`\partial L/\partial x = G \odot y(1-y)`. Any shape."""

    def _forward(self, x, training):
        return layers.sigmoid_forward(x)

    def _backward(self, dout, cache):
        return layers.sigmoid_backward(dout, cache)


class _Normalization(Layer):
    """gamma (ones) and beta (zeros), one per feature; the gradient step shared by the norm layers."""

    def __init__(self, num_features, eps, name="num_features"):
        super().__init__()
        self.num_features = _validate.integer(name, num_features, low=1)
        self.eps = _validate.real("eps", eps, low=0.0, low_open=True)
        self.params["gamma"] = np.ones(num_features)
        self.params["beta"] = np.zeros(num_features)

    def _backward(self, dout, cache):
        dx, self.grads["gamma"], self.grads["beta"] = self._backward_fn(dout, cache)
        return dx


class BatchNorm1d(_Normalization):
    r"""Batch normalization over the features of x ``(N, D)`` (torch ``nn.BatchNorm1d``).

    The formulas, the running statistics (``buffers``: ``running_mean`` starts at 0,
    ``running_var`` at 1, ``num_batches_tracked``) and the three places of epsilon (``eps_mode``
    ``"inside"``: torch, sources 000/003; ``"std"``: source 002; ``"none"``: source 004) are those
    of :func:`~course_lib.layers.batchnorm_forward`. torch's ``momentum=0.1`` is source 001's EWMA
    with :math:`\rho = 0.9`; ``momentum=None`` is the plain average of all batches so far.
    Evaluation mode uses the running statistics: the layer is then an affine map, which
    :func:`fuse_batchnorm` folds into the preceding Linear (source 003). A training batch of one
    example raises a ``ValueError``, as in torch.

    ``backward_form="closed"`` (default) or ``"graph"`` picks
    :func:`~course_lib.layers.batchnorm_backward` or :func:`~course_lib.layers.batchnorm_backward_graph`
    (equal to rounding).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, *,
                 eps_mode: str = "inside", backward_form: str = "closed"):
        super().__init__(num_features, eps)
        if momentum is not None:
            momentum = _validate.real("momentum", momentum, low=0.0, high=1.0, low_open=True)
        self.momentum = momentum
        if eps_mode not in layers.EPS_MODES:
            raise ValueError(f"eps_mode must be one of {layers.EPS_MODES}, got {eps_mode!r}")
        self.eps_mode = eps_mode
        forms = {"closed": layers.batchnorm_backward, "graph": layers.batchnorm_backward_graph}
        if backward_form not in forms:
            raise ValueError(f"backward_form must be 'closed' or 'graph', got {backward_form!r}")
        self.backward_form = backward_form
        self._backward_fn = forms[backward_form]
        self.buffers["running_mean"] = np.zeros(num_features)
        self.buffers["running_var"] = np.ones(num_features)
        self.buffers["num_batches_tracked"] = np.zeros((), dtype=np.int64)

    def _forward(self, x, training):
        buffers = self.buffers
        count = buffers["num_batches_tracked"]
        out, mean, var, cache = layers.batchnorm_forward(
            x, self.params["gamma"], self.params["beta"], buffers["running_mean"], buffers["running_var"],
            momentum=self.momentum, eps=self.eps, training=training, eps_mode=self.eps_mode,
            num_batches_tracked=int(count) if self.momentum is None else 0)
        if training:
            buffers["running_mean"], buffers["running_var"] = mean, var
            buffers["num_batches_tracked"] = count + 1
        return out, cache

    def __repr__(self):
        return f"BatchNorm1d({self.num_features}, eps={self.eps}, momentum={self.momentum}, eps_mode={self.eps_mode!r})"


class LayerNorm(_Normalization):
    r"""Layer normalization of each example over its ``num_features`` features (torch ``nn.LayerNorm``;
    :func:`~course_lib.layers.layernorm_forward`). No running statistics: both modes agree."""

    _backward_fn = staticmethod(layers.layernorm_backward)

    def __init__(self, num_features: int, eps: float = 1e-5):
        super().__init__(num_features, eps)

    def _forward(self, x, training):
        return layers.layernorm_forward(x, self.params["gamma"], self.params["beta"], eps=self.eps)

    def __repr__(self):
        return f"LayerNorm({self.num_features}, eps={self.eps})"


class GroupNorm(_Normalization):
    r"""Group normalization (torch ``nn.GroupNorm(num_groups, num_channels)``;
    :func:`~course_lib.layers.groupnorm_forward`): x ``(N, C)`` or ``(N, C, ...)``, each example
    standardized within each of ``num_groups`` groups of channels. Both modes agree."""

    _backward_fn = staticmethod(layers.groupnorm_backward)

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5):
        super().__init__(num_channels, eps, name="num_channels")
        self.num_groups = _validate.integer("num_groups", num_groups, low=1)
        if num_channels % num_groups:
            raise ValueError(f"num_groups must divide num_channels = {num_channels}, got {num_groups}")

    def _forward(self, x, training):
        return layers.groupnorm_forward(x, self.params["gamma"], self.params["beta"], self.num_groups, eps=self.eps)

    def __repr__(self):
        return f"GroupNorm({self.num_groups}, {self.num_features}, eps={self.eps})"


class Dropout(Layer):
    r"""Dropout with torch's ``p`` = the probability of *dropping* a unit (default 0.5). Any shape.

    ``inverted=True`` (torch): training :math:`y = x \odot m/q`, :math:`m_i \sim \text{Bernoulli}(q)`,
    :math:`q = 1-p`; evaluation :math:`y = x`. ``inverted=False`` (source 004): training
    :math:`y = x \odot m`, evaluation :math:`y = q x`. See :func:`~course_lib.layers.dropout_forward`
    (source 004's :math:`p` is the probability of *keeping* a unit). ``rng`` (Generator or seed)
    draws a new mask on each training pass.
    """

    def __init__(self, p: float = 0.5, *, rng, inverted: bool = True):
        super().__init__()
        self.p = _validate.real("p", p, low=0.0, high=1.0)
        self.inverted = _validate.boolean("inverted", inverted)
        self.rng = _validate.rng("rng", rng)

    def _forward(self, x, training):
        return layers.dropout_forward(x, self.p, rng=self.rng, training=training, inverted=self.inverted)

    def _backward(self, dout, cache):
        return layers.dropout_backward(dout, cache)

    def __repr__(self):
        return f"Dropout(p={self.p}, inverted={self.inverted})"


class _Loss:
    """``forward(...)`` returns the loss and keeps its gradient for ``backward()``."""

    def __init__(self):
        self.grad = None

    def backward(self):
        if self.grad is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return self.grad


class CrossEntropyLoss(_Loss):
    r"""Softmax cross-entropy averaged over the batch (torch ``nn.CrossEntropyLoss``;
    :func:`~course_lib.layers.softmax_cross_entropy`, with torch's ``label_smoothing``).

    ``forward(logits, y)``: logits ``(N, C)``, integer labels y ``(N,)`` in ``[0, C)``;
    ``backward()`` returns :math:`\partial L/\partial z = (\operatorname{softmax}(z) - q)/N` (q the
    one-hot, or smoothed, targets).
    """

    def __init__(self, label_smoothing: float = 0.0):
        super().__init__()
        self.label_smoothing = _validate.real("label_smoothing", label_smoothing, low=0.0, high=1.0)

    def forward(self, logits, y):
        loss, self.grad = layers.softmax_cross_entropy(logits, y, label_smoothing=self.label_smoothing)
        return loss


class MSELoss(_Loss):
    r"""Mean squared error over all entries (torch ``nn.MSELoss``; :func:`~course_lib.layers.mse`).

    ``forward(pred, target)``: :math:`\frac1M \sum_i (\hat y_i - y_i)^2`; ``backward()``: :math:`2(\hat y - y)/M`.
    """

    def forward(self, pred, target):
        loss, self.grad = layers.mse(pred, target)
        return loss


class Sequential:
    """Layers applied in order; ``params``/``grads``/``buffers`` are flat dicts named ``"<index>.<name>"``.

    ``model.params`` returns the layers' arrays (not copies); assigning ``model.params = new``
    hands each layer its new arrays (the optimizers return new objects), after checking every key
    and shape. ``state_dict()`` and ``load_state_dict()`` copy parameters *and* buffers (batch
    norm's running statistics), as early stopping needs.

    ``forward(x, mode, record=True)`` keeps every layer's view of the pass in ``model.records``:
    one dict per layer, ``{"index", "layer", "input", "output", "grad_output", "grad_input"}``
    (the arrays themselves, not copies); the next ``backward`` of that pass fills ``grad_output``
    (:math:`\\partial L/\\partial` output) and ``grad_input`` (:math:`\\partial L/\\partial` input).
    """

    def __init__(self, *layers: Layer):
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {i} must be a course_lib.nn Layer, got {type(layer).__name__}")
        self.layers = list(layers)
        self.records = None
        self._recorded_mode = None  # the mode of the pass in self.records, until it is differentiated

    def forward(self, x, mode, record: bool = False):
        """x ``(N, D_in)`` -> output ``(N, D_out)``, through every layer in ``mode``."""
        _check_mode(mode)
        if record is not False and _validate.boolean("record", record):
            self.records = []
            for i, layer in enumerate(self.layers):
                out = layer.forward(x, mode)
                self.records.append({"index": i, "layer": layer, "input": x, "output": out,
                                     "grad_output": None, "grad_input": None})
                x = out
            self._recorded_mode = mode
            return x
        if self._recorded_mode == mode:  # a newer pass of the same mode: the records are history
            self._recorded_mode = None
        for layer in self.layers:
            x = layer.forward(x, mode)
        return x

    def backward(self, dout, *, input_grad: bool = True, mode: str | None = None):
        """dout ``(N, D_out)`` -> dx ``(N, D_in)``; fills every layer's ``grads``.

        ``mode``: which pass to differentiate (default: the pending training pass, else the pending
        evaluation pass). With ``input_grad=False`` (training: nobody needs dL/dx of the data) a
        first Linear layer skips computing it and None is returned.
        """
        if mode is None:
            mode = "train" if self.layers[-1].cache is not None else "eval"
        _check_mode(mode)
        records = self.records if self._recorded_mode == mode else None
        self._recorded_mode = None
        first = self.layers[0]
        if records is None and mode == "train":  # the training loop's case, with the least overhead
            for layer in reversed(self.layers[1:]):
                dout = layer.backward(dout)
            if isinstance(first, Linear):
                return first.backward(dout, input_grad=input_grad)
            return first.backward(dout)
        args = () if mode == "train" else (mode,)  # layers written before modes were passed take (dout)
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            if records:
                records[i]["grad_output"] = dout
            if i == 0 and isinstance(first, Linear):
                dout = layer.backward(dout, mode, input_grad=input_grad)
            else:
                dout = layer.backward(dout, *args)
            if records:
                records[i]["grad_input"] = dout
        return dout

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
        slots = [(key, getattr(layer, attr), name) for i, layer in enumerate(self.layers)
                 for name in getattr(layer, attr) for key in (f"{i}.{name}",)]
        if len(new) != len(slots) or any(key not in new for key, _, _ in slots):
            raise ValueError(f"{attr} must have the keys {sorted(k for k, _, _ in slots)}, got {sorted(new)}")
        for key, current, name in slots:  # check everything before changing anything
            value = new[key]
            if not isinstance(value, (np.ndarray, np.generic)) or value.dtype.kind not in "fiub":
                raise TypeError(f"{attr}[{key!r}] must be a real numpy array, got {type(value).__name__} "
                                f"{getattr(value, 'dtype', '')}")
            if value.shape != np.shape(current[name]):
                raise ValueError(f"{attr}[{key!r}] must have shape {np.shape(current[name])}, got {value.shape}")
        for key, current, name in slots:
            current[name] = new[key]

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer."""
        return {k: np.array(v, copy=True) for k, v in {**self.params, **self.buffers}.items()}

    def load_state_dict(self, state: dict[str, np.ndarray]):
        """Set parameters and buffers from copies of ``state`` (as returned by :meth:`state_dict`)."""
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict of arrays, got {type(state).__name__}")
        expected = {**self.params, **self.buffers}
        if set(state) != set(expected):
            raise ValueError(f"state must have the keys {sorted(expected)}, got {sorted(state)}")
        params = {k: np.array(state[k], copy=True) for k in self.params}
        buffers = {k: np.array(state[k], copy=True) for k in self.buffers}
        self._assign("params", params)
        self._assign("buffers", buffers)

    def __repr__(self):
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"


_ACTIVATIONS = {"relu": ReLU, "leaky_relu": LeakyReLU, "tanh": Tanh, "sigmoid": Sigmoid}
_NORMS = {"batch": BatchNorm1d, "layer": LayerNorm}


def _rates(dropout, hidden):
    """One dropout rate per hidden layer, from a float or a list."""
    if isinstance(dropout, (list, tuple)):
        if len(dropout) != hidden:
            raise ValueError(f"dropout must be a float or a list of {hidden} rates (one per hidden layer), "
                             f"got {len(dropout)} rates")
        return [_validate.real("dropout entries", p, low=0.0, high=1.0, high_open=True) for p in dropout]
    return [_validate.real("dropout", dropout, low=0.0, high=1.0, high_open=True)] * hidden


def mlp(sizes, *, rng, activation: str = "relu", batchnorm: bool = False, dropout=0.0, input_dropout: float = 0.0,
        init="kaiming_normal", bias_init="zeros", norm: str | None = None) -> Sequential:
    """A multilayer perceptron: ``[Dropout] -> Linear -> [norm] -> activation -> [Dropout]`` per hidden layer.

    ``sizes = [64, 128, 128, 10]`` gives two hidden layers of 128 units and 10 outputs (logits, no
    activation after the last Linear). ``norm`` is None, ``"batch"`` (:class:`BatchNorm1d`; also
    ``batchnorm=True``) or ``"layer"`` (:class:`LayerNorm`). ``dropout`` is a drop probability for
    every hidden layer or a list with one per hidden layer; ``input_dropout`` drops inputs (source
    004 keeps them with probability 0.8: ``input_dropout=0.2``). ``rng`` (Generator or seed) is
    split into one independent stream per random layer (weights, dropout masks), so the whole model
    is reproducible.
    """
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
        raise ValueError(f"sizes must be a list of at least 2 layer widths, got {sizes!r}")
    sizes = [_validate.integer("sizes entries", s, low=1) for s in sizes]
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    if _validate.boolean("batchnorm", batchnorm):
        if norm not in (None, "batch"):
            raise ValueError(f"batchnorm=True asks for norm='batch', got norm={norm!r}")
        norm = "batch"
    if norm is not None and norm not in _NORMS:
        raise ValueError(f"norm must be None, 'batch' or 'layer', got {norm!r}")
    rates = _rates(dropout, len(sizes) - 2)
    input_dropout = _validate.real("input_dropout", input_dropout, low=0.0, high=1.0, high_open=True)
    # spawn(k) gives the same first children whatever k: the input-dropout stream is the last one,
    # so models without it keep the weights they had before it existed
    streams = _validate.rng("rng", rng).spawn(2 * len(sizes) + 1)
    hidden_streams = iter(streams[:-1])
    layers: list[Layer] = [Dropout(input_dropout, rng=streams[-1])] if input_dropout > 0 else []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(n_in, n_out, rng=next(hidden_streams), init=init, bias_init=bias_init))
        if i == len(sizes) - 2:
            break
        if norm is not None:
            layers.append(_NORMS[norm](n_out))
        layers.append(_ACTIVATIONS[activation]())
        if rates[i] > 0:
            layers.append(Dropout(rates[i], rng=next(hidden_streams)))
    return Sequential(*layers)


def fuse_batchnorm(linear: Linear, bn: BatchNorm1d) -> Linear:
    r"""Fold an evaluation-mode batch norm into the preceding linear layer (source 003).

    In evaluation mode ``bn(linear(x))`` is affine in x: with :math:`s = \gamma/d` and the
    denominator :math:`d = \sqrt{\bar\sigma^2+\varepsilon}` (or the layer's other ``eps_mode``),

    .. math:: y = s \odot (x W^\top + b - \bar\mu) + \beta = x (\operatorname{diag}(s) W)^\top + \big(s \odot (b - \bar\mu) + \beta\big),

    so one Linear with :math:`W' = \operatorname{diag}(s) W` and :math:`b' = s\odot(b-\bar\mu)+\beta`
    gives the same outputs at no extra cost. Returns a new Linear; the inputs are unchanged.
    """
    if not isinstance(linear, Linear) or not isinstance(bn, BatchNorm1d):
        raise TypeError("fuse_batchnorm expects (Linear, BatchNorm1d)")
    if linear.out_features != bn.num_features:
        raise ValueError(f"bn.num_features must equal linear.out_features={linear.out_features}, got {bn.num_features}")
    scale = bn.params["gamma"] / layers._denominator(bn.buffers["running_var"], bn.eps, bn.eps_mode)
    bias = linear.params.get("bias", 0.0)
    fused = Linear(linear.in_features, linear.out_features, rng=0, init="zeros")
    fused.params["weight"] = scale[:, None] * linear.params["weight"]
    fused.params["bias"] = scale * (bias - bn.buffers["running_mean"]) + bn.params["beta"]
    return fused
