r"""Probes of the loss landscape along the gradient (chapter "Batch normalization").

Santurkar et al. (2018) explain batch norm's benefit by the smoothness of the loss it trains: at a
point :math:`\theta` of a training run, with the mini-batch gradient :math:`g = \nabla L(\theta)`,
they move along it and record, for step sizes :math:`\eta`,

- the loss :math:`L(\theta - \eta g)` (its spread over :math:`\eta`: "variation of the loss");
- the change of the gradient :math:`\|\nabla L(\theta - \eta g) - g\|` ("gradient predictiveness");
- the largest ratio :math:`\|\nabla L(\theta - \eta g) - g\| / \|\eta g\|` ("effective
  :math:`\beta`-smoothness", a local Lipschitz constant of the gradient).

:func:`probe_along_gradient` measures all three on one mini-batch, with the model in training
mode (batch norm uses the batch's statistics, as during the step) on a copy, so the model and its
running statistics are untouched.
"""
from __future__ import annotations

import copy
from typing import NamedTuple

import numpy as np

from course_lib import _validate
from course_lib.nn import CrossEntropyLoss, Sequential

__all__ = ["GradientProbe", "probe_along_gradient"]


class GradientProbe(NamedTuple):
    """What :func:`probe_along_gradient` measured: arrays over the step sizes ``etas``."""

    etas: np.ndarray  # (S,) step sizes
    losses: np.ndarray  # (S,) L(theta - eta g)
    grad_changes: np.ndarray  # (S,) ||grad L(theta - eta g) - g||
    grad_norm: float  # ||g||
    loss: float  # L(theta)

    @property
    def beta_smoothness(self) -> float:
        """max over eta of ||grad L(theta - eta g) - g|| / (eta ||g||)."""
        return float(np.max(self.grad_changes / (self.etas * self.grad_norm)))


def _loss_and_grad(model, x, y, loss):
    value = loss.forward(model.forward(x, "train"), y)
    model.backward(loss.backward())
    grads = model.grads
    return value, np.concatenate([grads[k].ravel() for k in model.params])


def probe_along_gradient(model: Sequential, x, y, etas, *, loss=None) -> GradientProbe:
    r"""Loss and gradient change along :math:`-g` at the model's current parameters (see the module doc).

    ``x`` ``(N, D)`` and ``y`` ``(N,)`` are the mini-batch; ``etas`` the positive step sizes. Every
    evaluation uses the same batch in training mode on a deep copy of ``model``.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a course_lib.nn.Sequential, got {type(model).__name__}")
    etas = _validate.array("etas", etas)
    if etas.ndim != 1 or etas.size == 0 or np.any(etas <= 0):
        raise ValueError(f"etas must be a non-empty 1-D array of positive step sizes, got {etas!r}")
    loss = CrossEntropyLoss() if loss is None else loss
    probe = copy.deepcopy(model)
    names = list(probe.params)
    theta = {k: v.copy() for k, v in probe.params.items()}
    base_loss, g = _loss_and_grad(probe, x, y, loss)
    sizes = np.cumsum([theta[k].size for k in names])[:-1]
    g_parts = dict(zip(names, np.split(g, sizes)))
    losses, changes = np.empty(etas.size), np.empty(etas.size)
    for i, eta in enumerate(etas):
        probe.params = {k: theta[k] - eta * g_parts[k].reshape(theta[k].shape) for k in names}
        losses[i], g_new = _loss_and_grad(probe, x, y, loss)
        changes[i] = np.linalg.norm(g_new - g)
    return GradientProbe(etas, losses, changes, float(np.linalg.norm(g)), float(base_loss))
