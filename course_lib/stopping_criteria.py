r"""Prechelt's stopping criteria (chapter "Regularization"; Prechelt 1998).

Given the training error :math:`E_{tr}(t)` and validation error :math:`E_{va}(t)` after each epoch
t = 1, 2, ..., with :math:`E_{opt}(t) = \min_{t' \le t} E_{va}(t')`:

- generalization loss :math:`GL(t) = 100\,(E_{va}(t)/E_{opt}(t) - 1)`, in percent;
  :math:`GL_\alpha` stops after the first epoch with :math:`GL(t) > \alpha`;
- training progress over a strip of k epochs ending at t,
  :math:`P_k(t) = 1000\,\big(\sum_{t'=t-k+1}^{t} E_{tr}(t') / (k \min_{t'} E_{tr}(t')) - 1\big)`
  (per mille: how much the strip's average exceeds its minimum); :math:`PQ_\alpha` stops after the
  first end of a strip with :math:`GL(t)/P_k(t) > \alpha`;
- :math:`UP_s` stops after the first end of a strip t at which the validation error has risen in each
  of the last s strips: :math:`E_{va}(t - ik) > E_{va}(t-(i+1)k)` for i = 0..s-1.

Strips end at epochs k, 2k, 3k, ... Each stopper returns the epoch (1-based) after which it
stops, or None if it never does. Source 004's patience rule is :func:`course_lib.regularization.early_stopping`.
"""
from __future__ import annotations

import numpy as np

from course_lib import _validate

__all__ = ["generalization_loss", "training_progress", "stop_gl", "stop_pq", "stop_up"]


def _errors(name, values):
    values = _validate.series(name, values)
    if np.any(values <= 0):
        raise ValueError(f"{name} must be > 0 (errors or losses), got a minimum of {values.min():g}")
    return values


def generalization_loss(val_errors) -> np.ndarray:
    r""":math:`GL(t) = 100\,(E_{va}(t)/\min_{t'\le t}E_{va}(t') - 1)` for every epoch. Shape (T,)."""
    e = _errors("val_errors", val_errors)
    return 100.0 * (e / np.minimum.accumulate(e) - 1.0)


def training_progress(train_errors, k: int = 5) -> np.ndarray:
    r""":math:`P_k(t)` for every epoch t >= k (NaN before the first full strip). Shape (T,)."""
    e = _errors("train_errors", train_errors)
    k = _validate.integer("k", k, low=1)
    out = np.full(len(e), np.nan)
    for t in range(k - 1, len(e)):
        strip = e[t - k + 1:t + 1]
        out[t] = 1000.0 * (strip.mean() / strip.min() - 1.0)
    return out


def stop_gl(val_errors, alpha: float) -> int | None:
    """:math:`GL_\\alpha`: the first epoch with GL(t) > alpha (1-based), or None."""
    alpha = _validate.real("alpha", alpha, low=0.0)
    hits = np.flatnonzero(generalization_loss(val_errors) > alpha)
    return int(hits[0]) + 1 if hits.size else None


def stop_pq(train_errors, val_errors, alpha: float, k: int = 5) -> int | None:
    """:math:`PQ_\\alpha`: the first end of a strip with GL(t) / P_k(t) > alpha, or None."""
    alpha = _validate.real("alpha", alpha, low=0.0)
    gl = generalization_loss(val_errors)
    progress = training_progress(train_errors, k)
    if len(progress) != len(gl):
        raise ValueError(f"train_errors and val_errors must have the same length, got {len(progress)} and {len(gl)}")
    for t in range(k - 1, len(gl), k):
        if progress[t] > 0 and gl[t] / progress[t] > alpha or progress[t] == 0 and gl[t] > 0:
            return t + 1
    return None


def stop_up(val_errors, s: int, k: int = 5) -> int | None:
    """:math:`UP_s`: the first end of a strip after s successive strips of rising validation error, or None."""
    e = _errors("val_errors", val_errors)
    s = _validate.integer("s", s, low=1)
    k = _validate.integer("k", k, low=1)
    ends = e[k - 1::k]                      # E_va at the ends of the strips
    run = 0
    for i in range(1, len(ends)):
        run = run + 1 if ends[i] > ends[i - 1] else 0
        if run >= s:
            return (i + 1) * k
    return None
