"""The computations of the chapter "Regularization": every table and figure, from course_lib's core.

Each function trains small models on the digits (``course_lib.data.load_digits``, 8x8 images) or
works on the least-squares problem of :func:`digits_regression`, and returns plain numbers and
arrays for the chapter to print and draw. The maths lives in :mod:`course_lib.regularization`,
:mod:`course_lib.linear_regularization`, :mod:`course_lib.stopping_criteria`,
:mod:`course_lib.augment`, :mod:`course_lib.optim` and :mod:`course_lib.train`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from course_lib import _validate, augment, data, layers, nn, optim, parallel, regularization, train
from course_lib import linear_regularization as lr_theory

_one_thread = train._with_one_blas_thread   # numpy's BLAS on one thread, as train.train runs it


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


def digits(rng=0) -> data.Split:
    """The digits, pixels scaled to [0, 1]: 1079 training, 359 validation, 359 test images."""
    return data.load_digits(rng=rng)


def subset(split: data.Split, n_train: int, rng=0) -> data.Split:
    """The first ``n_train`` training images of ``split`` (a random subset, the split being shuffled)."""
    n_train = _validate.integer("n_train", n_train, low=1, high=len(split.x_train))
    return split._replace(x_train=split.x_train[:n_train], y_train=split.y_train[:n_train])


def corrupt_labels(y, fraction: float, rng, n_classes: int = 10) -> np.ndarray:
    """A copy of ``y`` in which each label, with probability ``fraction``, is replaced by a uniformly
    random class (Zhang et al. 2017's "partially corrupted labels"; 1.0 = random labels)."""
    fraction = _validate.real("fraction", fraction, low=0.0, high=1.0)
    rng = _validate.rng("rng", rng)
    y = np.array(y, copy=True)
    hit = rng.random(len(y)) < fraction
    y[hit] = rng.integers(0, n_classes, int(hit.sum()))
    return y


class Regression(NamedTuple):
    """Least squares on the digits: x in the PCA basis of the training pixels (so H is diagonal),
    y = +1 for a 3 and -1 otherwise, centred with the training mean."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    eigenvalues: np.ndarray     # the diagonal of H = x_train.T x_train / N, descending


@_one_thread
def digits_regression(n_train: int = 200, n_components: int = 40, rng=0) -> Regression:
    """A small, overfitting least-squares problem: ``n_train`` training images (the rest of the
    digits as the test set), the top ``n_components`` principal components of the standardized
    training pixels as features."""
    n_train = _validate.integer("n_train", n_train, low=2)
    split = data.load_digits(val_fraction=0.0, test_fraction=0.5, rng=rng)
    x_tr, y_tr = split.x_train[:n_train], split.y_train[:n_train]
    z_tr, mean, std = data.standardize(x_tr)
    z_te = (split.x_test - mean) / std
    basis = data.pca(z_tr, n_components)
    p_tr, p_te = (z_tr - basis.mean) @ basis.components, (z_te - basis.mean) @ basis.components
    target_tr = np.where(y_tr == 3, 1.0, -1.0)
    target_te = np.where(split.y_test == 3, 1.0, -1.0)
    offset = target_tr.mean()          # the (unpenalized) bias, fitted apart
    return Regression(p_tr, target_tr - offset, p_te, target_te - offset, np.diag(lr_theory.hessian(p_tr)))


def mse(x, y, w) -> float:
    r""":math:`\frac{1}{2N}\|Xw - y\|^2`, the loss J of :mod:`course_lib.linear_regularization`."""
    return float(0.5 * np.mean((x @ w - y) ** 2))


# ---------------------------------------------------------------------------------------------
# Training helpers
# ---------------------------------------------------------------------------------------------


def fit(split, *, hidden=(128,), lr=1e-3, epochs=40, batch_size=64, rng=0, optimizer=None, dropout=0.0,
        input_dropout=0.0, batchnorm=False, **train_kwargs):
    """Build ``mlp([64, *hidden, 10])`` from ``rng`` and train it with Adam(lr) (or ``optimizer``);
    the split's validation part (if any) is evaluated each epoch. Returns ``(model, history)``."""
    gen = _validate.rng("rng", rng)
    model_rng, train_rng = gen.spawn(2)
    sizes = [split.x_train.shape[1], *hidden, 10]
    model = nn.mlp(sizes, rng=model_rng, dropout=dropout, input_dropout=input_dropout, batchnorm=batchnorm)
    opt = optim.adam(lr) if optimizer is None else optimizer
    history = train.train(model, opt, split, epochs, batch_size, rng=train_rng, **train_kwargs)
    return model, history


def test_accuracy(model, split) -> float:
    return train.evaluate(model, split.x_test, split.y_test)[1]


# ---------------------------------------------------------------------------------------------
# What regularization is: memorizing random labels
# ---------------------------------------------------------------------------------------------


@_one_thread
def memorization(split, fractions=(0.0, 0.25, 0.5, 0.75, 1.0), *, n_train=300, hidden=256, steps=120, lr=1e-2,
                 rng=0) -> dict:
    """Zhang et al. 2017 on the digits: an MLP (one hidden layer of ``hidden`` units, no
    regularization) trained full-batch with Adam on ``n_train`` images whose labels are corrupted
    with probability ``fraction``. Returns ``{fraction: (train_acc, test_acc)}``, per-step curves
    (train accuracy on the corrupted labels, test accuracy on the true labels)."""
    base = subset(split, n_train)

    def curves(fraction_and_seed):
        fraction, seed = fraction_and_seed
        y = corrupt_labels(base.y_train, fraction, seed)
        run = (base.x_train, y, split.x_test, split.y_test)
        model = nn.mlp([64, hidden, 10], rng=seed)
        history = train.train(model, optim.adam(lr), run, steps, n_train, rng=seed)
        return np.array(history.train_acc), np.array(history.val_acc)

    runs = list(zip(fractions, np.random.default_rng(rng).spawn(len(fractions))))
    return dict(zip(fractions, parallel.run_all(curves, runs)))


# ---------------------------------------------------------------------------------------------
# Norm penalties against their closed forms
# ---------------------------------------------------------------------------------------------


def train_linear(problem: Regression, penalty, *, lr=0.1, steps=3000):
    """Full-batch gradient descent on ``Linear(D, 1)`` with ``MSELoss`` (torch's mean of squares,
    twice our J) and ``penalty`` (``regularization.L2``/``L1``) through ``course_lib.train``.
    Returns the weight vector (D,) and the bias."""
    x, y = problem.x_train, problem.y_train[:, None]
    model = nn.Sequential(nn.Linear(x.shape[1], 1, rng=0, init="zeros"))
    train.train(model, optim.sgd(lr), (x, y), steps, len(x), loss=nn.MSELoss(), regularizers=[penalty], rng=0)
    return model.params["0.weight"][0].copy(), float(model.params["0.bias"][0])


@_one_thread
def noisy_training_vs_ridge(problem: Regression, std: float, *, lr=0.05, steps=2000, rng=0) -> dict:
    r"""Bishop's statement as training: full-batch SGD on ``Linear(D, 1)`` with ``MSELoss`` (2J), a
    fresh Gaussian noise of standard deviation ``std`` added to the features at every step
    (``train(..., augment=...)``), against ridge with α = std². In expectation the loss is
    :math:`2J + \sigma^2\|w\|^2 = 2(J + \tfrac{\sigma^2}{2}\|w\|^2)`; the last iterate still moves
    with the noise. Returns ``{"w", "ridge", "gap"}`` (gap relative to ‖w_ridge‖)."""
    std = _validate.real("std", std, low=0.0)
    x, y = problem.x_train, problem.y_train[:, None]
    model = nn.Sequential(nn.Linear(x.shape[1], 1, rng=0, init="zeros"))
    train.train(model, optim.sgd(lr), (x, y), steps, len(x), loss=nn.MSELoss(), rng=rng,
                augment=lambda batch, gen: batch + std * gen.standard_normal(batch.shape))
    w = model.params["0.weight"][0].copy()
    ridge = lr_theory.ridge(problem.x_train, problem.y_train, std**2)
    return {"w": w, "ridge": ridge, "gap": float(np.linalg.norm(w - ridge) / np.linalg.norm(ridge))}


@_one_thread
def penalties_against_closed_forms(problem: Regression, alpha: float = 0.5) -> dict:
    """Ridge and lasso on the digits' least-squares problem, trained by ``course_lib.train``
    against Goodfellow's closed forms. ``MSELoss`` is 2J, so the penalty :math:`\\tfrac{\\lambda}{2}\\|w\\|^2`
    on it is :math:`\\tfrac\\alpha2\\|w\\|^2` on J with α = λ/2: we pass λ = 2α (and 2α for L1)."""
    x, y, lam = problem.x_train, problem.y_train, problem.eigenvalues
    w_star = lr_theory.least_squares(x, y)
    ridge_closed = lr_theory.spectral_solution(lr_theory.hessian(x), w_star, lr_theory.l2_filter(np.linalg.eigvalsh(lr_theory.hessian(x)), alpha))
    ridge_direct = lr_theory.ridge(x, y, alpha)
    ridge_trained, ridge_bias = train_linear(problem, regularization.L2(2 * alpha), lr=0.1, steps=300)
    lasso_closed = lr_theory.lasso_diagonal(w_star, lam, alpha * 0.1)
    lasso_trained, lasso_bias = train_linear(problem, regularization.L1(2 * alpha * 0.1), lr=0.02, steps=1500)
    return {
        "w_star": w_star, "ridge_closed": ridge_closed, "ridge_direct": ridge_direct, "ridge_trained": ridge_trained,
        "ridge_bias": ridge_bias, "lasso_closed": lasso_closed, "lasso_trained": lasso_trained,
        "lasso_bias": lasso_bias, "alpha_l2": alpha, "alpha_l1": alpha * 0.1,
    }


def _golden_section(f, low: float, high: float, tol: float = 1e-10) -> tuple[float, float]:
    """The minimizer of a unimodal ``f`` on ``[low, high]`` by golden-section search: two inner points
    split the interval in the golden ratio, the side beyond the worse one is dropped (the interval
    shrinks by 0.618 per evaluation) until it is shorter than ``tol`` plus a few units in the last
    place of its ends (an interval of one or two floats between them could not shrink further).
    Returns ``(x, f(x))``, the better inner point. (Numpy only: importing scipy.optimize for it took
    half a second.)"""
    shrink = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = low, high
    c, d = b - shrink * (b - a), a + shrink * (b - a)
    fc, fd = f(c), f(d)
    while b - a > tol + 4 * np.finfo(float).eps * max(abs(a), abs(b)):
        if fc < fd:                  # the minimum is in [a, d]: the old c becomes the new d
            b, d, fd = d, c, fc
            c = b - shrink * (b - a)
            fc = f(c)
        else:                        # in [c, b]: the old d becomes the new c
            a, c, fc = c, d, fd
            d = a + shrink * (b - a)
            fd = f(d)
    return (c, fc) if fc < fd else (d, fd)


def laplace_map_check(problem: Regression, s2: float, b: float) -> dict:
    r"""The Laplace prior's MAP, checked without its closed form. With the targets' noise variance
    ``s2`` and the prior :math:`p(w_i) \propto e^{-|w_i|/b}`, the negative log-posterior is
    :math:`\|Xw - y\|^2/(2s^2) + \|w\|_1/b` + const, so the MAP should be the lasso with
    :math:`\alpha = s^2/(Nb)`. For each coordinate, a golden-section search (:func:`_golden_section`)
    minimizes that objective along the coordinate within 1 of the lasso solution; for a convex objective whose
    nonsmooth part is separable, a point that no coordinate can improve is the minimizer.
    Returns ``{"alpha", "w_lasso", "largest_move", "largest_decrease"}``: the largest coordinate
    change found, and the largest decrease of the objective it brings, relative to its value."""
    x, y = problem.x_train, problem.y_train
    alpha = s2 / (len(x) * b)
    w = lr_theory.lasso_diagonal(lr_theory.least_squares(x, y), problem.eigenvalues, alpha)

    def neg_log_posterior(v):
        return float(np.sum((x @ v - y) ** 2) / (2 * s2) + np.sum(np.abs(v)) / b)

    moves, decreases, at_lasso = [], [], neg_log_posterior(w)
    for i in range(len(w)):
        def along(t, i=i):
            v = w.copy()
            v[i] = t
            return neg_log_posterior(v)

        best_x, best_value = _golden_section(along, w[i] - 1.0, w[i] + 1.0)
        moves.append(abs(best_x - w[i]))
        decreases.append(max(0.0, at_lasso - best_value) / at_lasso)
    return {"alpha": alpha, "w_lasso": w, "largest_move": float(max(moves)),
            "largest_decrease": float(max(decreases))}


def bias_penalty(problem: Regression, alphas=(0.1, 1.0)) -> dict:
    r"""Why the bias is left out of the penalty, on the least-squares problem with its targets
    *uncentred* (+1 for a 3, -1 otherwise: their mean is far from 0). The model
    :math:`w^\top x + b`, fitted by ridge with α on w only (b free: b is the targets' mean, since the
    features are centred) and with α on w and b (a column of ones in X). ``{α: {"bias free":
    (b, train J, test J), "bias penalized": (...)}}``."""
    # the centred targets are t - mean(t) with t = +-1 and |mean(t)| < 1: their sign is t
    t_train, t_test = np.sign(problem.y_train), np.sign(problem.y_test)
    ones_train, ones_test = np.ones((len(t_train), 1)), np.ones((len(t_test), 1))
    x_train, x_test = np.hstack([problem.x_train, ones_train]), np.hstack([problem.x_test, ones_test])
    out = {}
    for alpha in alphas:
        w = lr_theory.ridge(problem.x_train, t_train - t_train.mean(), alpha)
        free = np.r_[w, t_train.mean()]
        penalized = lr_theory.ridge(x_train, t_train, alpha)
        out[alpha] = {name: (float(v[-1]), mse(x_train, t_train, v), mse(x_test, t_test, v))
                      for name, v in (("bias free", free), ("bias penalized", penalized))}
    return out


@_one_thread
def regularization_path(problem: Regression, alphas) -> dict:
    """Closed-form L2 and L1 solutions for each α: weights (len(alphas), D) and train/test J."""
    w_star = lr_theory.least_squares(problem.x_train, problem.y_train)
    out = {}
    for kind in ("L2", "L1"):
        ws = np.array([lr_theory.ridge(problem.x_train, problem.y_train, a) if kind == "L2"
                       else lr_theory.lasso_diagonal(w_star, problem.eigenvalues, a) for a in alphas])
        out[kind] = {"w": ws,
                     "train": np.array([mse(problem.x_train, problem.y_train, w) for w in ws]),
                     "test": np.array([mse(problem.x_test, problem.y_test, w) for w in ws])}
    return out


# ---------------------------------------------------------------------------------------------
# Weight decay and L2
# ---------------------------------------------------------------------------------------------


@_one_thread
def decay_versus_penalty(split, lam: float = 1e-2, lr: float = 0.05, epochs: int = 3) -> dict:
    """The same network and batches trained three ways per optimizer: an L2 penalty added to the loss
    (``regularizers=[L2(lam, "all")]``), coupled weight decay (torch's ``weight_decay``) and decoupled
    decay (AdamW's form, ``with_weight_decay(..., decoupled=True)``, rate lam, the step multiplied by lr).
    Returns ``{optimizer: (max |L2 - coupled|, max |L2 - decoupled|)}`` over all parameters."""
    makers = {"SGD": lambda: optim.sgd(lr), "SGD + momentum 0.9": lambda: optim.sgd(lr, momentum=0.9),
              "Adam": lambda: optim.adam(lr / 50)}
    out = {}
    for name, make in makers.items():
        runs = {}
        for way in ("penalty", "coupled", "decoupled"):
            model = nn.mlp([64, 32, 10], rng=0)
            opt = make()
            regs = ()
            if way == "penalty":
                regs = [regularization.L2(lam, apply_to="all")]
            else:
                opt = optim.with_weight_decay(opt, lam, decoupled=way == "decoupled")
            train.train(model, opt, split, epochs, 64, rng=1, regularizers=regs)
            runs[way] = np.concatenate([v.ravel() for v in model.params.values()])
        out[name] = (float(np.max(np.abs(runs["penalty"] - runs["coupled"]))),
                     float(np.max(np.abs(runs["penalty"] - runs["decoupled"]))))
    return out


@_one_thread
def adam_l2_vs_adamw(split, lrs, l2s, decays, *, hidden=(64,), epochs=30, batch_size=64, rng=0) -> dict:
    r"""Test accuracy over a (learning rate, λ) grid for Adam + L2 (torch's coupled ``weight_decay=λ``)
    and AdamW in Loshchilov & Hutter 2019's convention, biases and batch-norm parameters not decayed
    (``mask=optim.weights_only``). Their decay step is :math:`\eta_t\lambda\theta` with
    :math:`\eta_t` the schedule multiplier (1 here, no schedule), not the learning rate α, so the
    per-step decay λ does not depend on α; torch's AdamW multiplies by the learning rate
    (:math:`\theta \leftarrow (1 - \alpha\lambda_\text{torch})\theta`), hence
    ``weight_decay = λ / α`` in torch's terms.
    Returns ``{"Adam + L2": (len(lrs), len(l2s)) array, "AdamW": (len(lrs), len(decays)) array}``."""
    grids = {"Adam + L2": (l2s, lambda a, w: optim.adam(a, weight_decay=w, mask=optim.weights_only)),
             "AdamW": (decays, lambda a, w: optim.adamw(a, weight_decay=w / a, mask=optim.weights_only))}

    def accuracy(cell):
        name, a, w = cell
        model, _ = fit(split._replace(x_val=None, y_val=None), hidden=hidden, epochs=epochs,
                       batch_size=batch_size, rng=rng, optimizer=grids[name][1](a, w))
        return test_accuracy(model, split)

    cells = [(name, a, w) for name, (lams, _) in grids.items() for a in lrs for w in lams]
    accs = iter(parallel.run_all(accuracy, cells))
    return {name: np.array([[next(accs) for _ in lams] for _ in lrs]) for name, (lams, _) in grids.items()}


def adam_l2_shrink_steps(lr: float = 1e-3, lams=(1e-2, 1.0), start: float = 1.0, target: float = 1e-3,
                         max_steps: int = 20000) -> dict:
    r"""Exercise ex-reg-adam-l2, measured: a weight with no data gradient under torch's
    ``Adam(lr, weight_decay=λ)`` (gradient λw only). ``{λ: steps until |w| <= target}``, from w = start;
    ``|w|/lr`` would be the count if every step moved it by the full lr."""
    out = {}
    for lam in lams:
        opt = optim.adam(lr, weight_decay=lam)
        w = np.array([float(start)])
        state, step_of = opt.init(w), opt.flat_step(None)   # opt.step without its checks, for one array
        for step in range(1, max_steps + 1):
            w, state = step_of(w, np.zeros(1), state)
            if abs(w[0]) <= target:
                break
        out[lam] = step
    return out


@_one_thread
def batchnorm_scale_invariance(split, scale: float = 10.0) -> dict:
    """A layer followed by batch norm: multiplying its weights by c leaves the training-mode output
    unchanged and divides the weight gradient by c (so L2 on it only changes the effective step).
    Returns the largest output change and the ratio of gradient norms."""
    model = nn.mlp([64, 32, 10], rng=0, batchnorm=True)
    x, y = split.x_train[:128], split.y_train[:128]
    loss = nn.CrossEntropyLoss()
    out = model.forward(x, "train")
    loss.forward(out, y)
    model.backward(loss.backward())
    g = model.grads["0.weight"].copy()
    params = model.params
    params["0.weight"] = scale * params["0.weight"]
    model.params = params
    out_scaled = model.forward(x, "train")
    loss.forward(out_scaled, y)
    model.backward(loss.backward())
    return {"output_change": float(np.max(np.abs(out_scaled - out))),
            "grad_ratio": float(np.linalg.norm(model.grads["0.weight"]) / np.linalg.norm(g))}


@_one_thread
def mask_effect(split, lr=3e-3, weight_decay=0.5, epochs=30, rng=0) -> dict:
    """AdamW on a network with batch norm, decaying every parameter or the weights only: the norm of
    batch norm's gamma afterwards and the test accuracy."""
    out = {}
    for name, mask in (("every parameter", None), ("weights only", optim.weights_only)):
        model, _ = fit(split._replace(x_val=None, y_val=None), hidden=(64,), batchnorm=True, epochs=epochs, rng=rng,
                       optimizer=optim.adamw(lr, weight_decay=weight_decay, mask=mask))
        gammas = [v for k, v in model.params.items() if k.endswith("gamma")]
        out[name] = (float(np.mean(np.abs(np.concatenate(gammas)))), test_accuracy(model, split))
    return out


# ---------------------------------------------------------------------------------------------
# Data augmentation
# ---------------------------------------------------------------------------------------------


MAX_DEGREES, MAX_SHIFT = 10.0, 0.5


def random_shift_rotate(x, rng):
    """A random rotation in [-10°, 10°] and a random sub-pixel shift in [-0.5, 0.5] pixels along each
    axis, per image (``augment.rotate``, ``augment.shift``). A whole-pixel shift would move an 8x8
    digit by an eighth of its width, and the digits are centred (the chapter does not measure such
    shifts)."""
    n = len(x)
    rotated = augment.rotate(x, rng.uniform(-MAX_DEGREES, MAX_DEGREES, n))
    return augment.shift(rotated, rng.uniform(-MAX_SHIFT, MAX_SHIFT, n), rng.uniform(-MAX_SHIFT, MAX_SHIFT, n))


@_one_thread
def augmentation_vs_size(split, sizes=(100, 300, 1079), *, steps=400, copies=4, batch_size=64, rng=0) -> dict:
    """Training without augmentation (``"none"``), with random rotations and shifts
    (:func:`random_shift_rotate`) drawn ``"on the fly"`` for every batch, and on a ``"fixed"`` set
    enlarged once with ``copies`` augmented versions of each image. Every run gets the same budget of
    ``steps * batch_size`` images, rounded to whole epochs of its training set; as each epoch ends with
    a smaller batch, the steps it takes differ from ``steps`` (they are returned). Returns
    ``{size: {kind: run}}``, each ``run`` a dict of its ``"test"`` accuracy, its accuracy on the
    size's original training images (``"train"``) and on one transformed copy of them drawn once for
    all three kinds (``"transformed"``: how much of the augmented task was learned), its ``"epochs"``
    and its ``"steps"``."""
    gen = _validate.rng("rng", rng)
    kinds = ("none", "on the fly", "fixed")
    runs = []
    for size in sizes:
        base = subset(split, size)._replace(x_val=None, y_val=None)
        extra = [random_shift_rotate(base.x_train, gen) for _ in range(copies)]
        enlarged = base._replace(x_train=np.concatenate([base.x_train, *extra]),
                                 y_train=np.tile(base.y_train, copies + 1))
        runs += [(size, base, None), (size, base, random_shift_rotate), (size, enlarged, None)]
    # drawn after all the enlarged sets, so that these keep the draws they had before the probe existed
    transformed = {size: random_shift_rotate(subset(split, size).x_train, gen) for size in sizes}

    def measure(job):
        size, run, aug = job
        epochs = max(1, round(steps * batch_size / len(run.x_train)))
        model, history = fit(run, epochs=epochs, batch_size=batch_size, rng=rng, augment=aug)
        y = split.y_train[:size]
        return {"test": test_accuracy(model, split),
                "train": train.evaluate(model, split.x_train[:size], y)[1],
                "transformed": train.evaluate(model, transformed[size], y)[1],
                "epochs": epochs, "steps": history.steps}

    results = iter(parallel.run_all(measure, runs))
    return {size: {kind: next(results) for kind in kinds} for size in sizes}


@_one_thread
def six_or_nine(split, rng=0) -> dict:
    """A 6 rotated by 180° looks like a 9: what a network trained without rotations predicts for the
    test 6s turned upside down, and the same for the 9s. Returns fractions."""
    model, _ = fit(split._replace(x_val=None, y_val=None), epochs=30, rng=rng)
    out = {}
    for digit in (6, 9):
        x = split.x_test[split.y_test == digit]
        pred = np.argmax(model.forward(augment.rotate(x, 180.0), "eval"), axis=1)
        out[digit] = {d: float(np.mean(pred == d)) for d in (6, 9)}
    return out


# ---------------------------------------------------------------------------------------------
# Noise injection
# ---------------------------------------------------------------------------------------------


@_one_thread
def input_noise_vs_ridge(problem: Regression, std: float, copies=(1, 10, 100), rng=0) -> dict:
    """Least squares on noisy copies of the inputs (noise std σ) against ridge with α = σ²:
    relative distance ‖w_noise - w_ridge‖/‖w_ridge‖ for each number of copies, and the same for
    the unregularized w*."""
    w_ridge = lr_theory.ridge(problem.x_train, problem.y_train, std**2)
    w_star = lr_theory.least_squares(problem.x_train, problem.y_train)
    gaps = {}
    for k, seed in zip(copies, np.random.default_rng(rng).spawn(len(copies))):
        w = lr_theory.noisy_least_squares(problem.x_train, problem.y_train, std, k, seed)
        gaps[k] = float(np.linalg.norm(w - w_ridge) / np.linalg.norm(w_ridge))
    return {"gaps": gaps, "w_star_gap": float(np.linalg.norm(w_star - w_ridge) / np.linalg.norm(w_ridge))}


@_one_thread
def label_smoothing(split, smoothings=(0.0, 0.1, 0.3), rng=0) -> dict:
    """Networks trained with label smoothing ε: test accuracy, mean confidence (largest predicted
    probability) on the test set and the mean logit range. Returns ``{ε: (acc, confidence, logit_range)}``."""
    def measures(eps):
        model, _ = fit(split._replace(x_val=None, y_val=None), epochs=40, rng=rng,
                       loss=nn.CrossEntropyLoss(label_smoothing=eps))
        logits = model.forward(split.x_test, "eval")
        probs = layers.softmax(logits)
        return (test_accuracy(model, split), float(probs.max(axis=1).mean()),
                float(np.mean(logits.max(axis=1) - logits.min(axis=1))))

    return dict(zip(smoothings, parallel.run_all(measures, smoothings)))


@_one_thread
def noise_injection(split, std: float = 0.1, *, n_train=300, hidden=128, epochs=40, seeds=(0, 1), lr=3e-3) -> dict:
    """Source 004's three places for noise, each with Gaussian noise of standard deviation ``std``
    during training only: on the inputs (``augment=gaussian_noise``), on the hidden units (a
    ``regularization.GaussianNoise`` layer after the ReLU) and on the weights (``weight_noise``).
    A 64-``hidden``-10 network on ``n_train`` digits. Returns ``{place: (mean, std) test accuracy}``."""
    base = subset(split, n_train)._replace(x_val=None, y_val=None)
    places = {"none": {}, "inputs": {"augment": lambda x, rng: regularization.gaussian_noise(x, std, rng)},
              "hidden units": {"hidden_noise": True}, "weights": {"weight_noise": std}}
    def accuracy(place_and_seed):
        cfg, seed = places[place_and_seed[0]], place_and_seed[1]
        model_rng, noise_rng, train_rng = np.random.default_rng(seed).spawn(3)
        layers_ = [nn.Linear(64, hidden, rng=model_rng), nn.ReLU()]
        if cfg.get("hidden_noise"):
            layers_.append(regularization.GaussianNoise(std, rng=noise_rng))
        model = nn.Sequential(*layers_, nn.Linear(hidden, 10, rng=model_rng.spawn(1)[0]))
        kwargs = {k: v for k, v in cfg.items() if k != "hidden_noise"}
        train.train(model, optim.adam(lr), base, epochs, 64, rng=train_rng, **kwargs)
        return test_accuracy(model, split)

    accs = iter(parallel.run_all(accuracy, [(name, seed) for name in places for seed in seeds]))
    return {name: _mean_std([next(accs) for _ in seeds]) for name in places}


# ---------------------------------------------------------------------------------------------
# Early stopping
# ---------------------------------------------------------------------------------------------


class Run(NamedTuple):
    """A point of a training run, source 004's θ: the model's parameters and buffers, and the
    training state (optimizer moments, step, batch-order generator) to continue from."""

    model: dict
    state: object


@_one_thread
def early_stopping_runs(split, *, n_train=300, patience=5, epochs_between=1, hidden=(256, 256), lr=1e-3,
                        batch_size=50, max_epochs=200, curve_epochs=None, rng=0) -> dict:
    """Source 004's meta-algorithm (``regularization.early_stopping``) on an overfitting network,
    where "run the training algorithm for n steps" continues the same run (``train(..., state=)``),
    then the two ways to use the validation data afterwards:

    - retrain from θ₀ on training + validation data for i* steps, rounded to whole epochs
      (``regularization.retrain_for``);
    - continue from θ* on training + validation data, the optimizer state carried on, until the
      loss on the validation images falls below the training loss at θ* (``regularization.continue_until``).

    With ``curve_epochs`` (and ``epochs_between=1``), the same run also goes on from where the
    meta-algorithm stopped, without stopping, to ``curve_epochs`` epochs: ``"curves"`` holds its
    training and validation loss per epoch, what :func:`overfitting_curves` computes from scratch
    (the epochs before the stop are not trained twice). The three continuations are independent and
    run side by side (``parallel.run_all``).

    Returns the meta-algorithm's result, the test accuracies of θ* and of both retrainings, and the
    steps they took."""
    base = subset(split, n_train)
    steps_per_epoch = -(-n_train // batch_size)
    n = epochs_between * steps_per_epoch
    gen = _validate.rng("rng", rng)
    model = nn.mlp([64, *hidden, 10], rng=gen.spawn(1)[0])
    opt = optim.adam(lr)
    theta0 = Run(model.state_dict(), None)
    seed = gen.spawn(1)[0]
    if curve_epochs is not None:
        curve_epochs = _validate.integer("curve_epochs", curve_epochs, low=1)
        if epochs_between != 1:
            raise ValueError(f"curve_epochs needs epochs_between=1 (a validation loss per epoch), got {epochs_between}")
    trained = {"last": theta0, "train_loss": []}     # where the meta-algorithm's run is, for the curves

    def train_steps(theta, steps, data=(base.x_train, base.y_train)):
        model.load_state_dict(theta.model)
        kwargs = {"state": theta.state} if theta.state is not None else {"rng": seed}
        history = train.train(model, opt, data, steps // steps_per_epoch, batch_size, **kwargs)
        trained["last"] = Run(model.state_dict(), history.state)
        trained["train_loss"] += history.train_loss
        return trained["last"]

    def validation_error(theta):
        model.load_state_dict(theta.model)
        return train.evaluate(model, base.x_val, base.y_val)[0]

    result = regularization.early_stopping(train_steps, validation_error, theta0, n=n, patience=patience,
                                           max_steps=max_epochs * steps_per_epoch)

    def accuracy(theta):
        model.load_state_dict(theta.model)
        return test_accuracy(model, split)

    best = result.best_params
    model.load_state_dict(best.model)
    train_loss_at_best = train.evaluate(model, base.x_train, base.y_train)[0]
    everything = (np.concatenate([base.x_train, base.x_val]), np.concatenate([base.y_train, base.y_val]))
    all_per_epoch = -(-len(everything[0]) // batch_size)

    def train_all(theta, steps):
        model.load_state_dict(theta.model)
        kwargs = {"state": theta.state} if theta.state is not None else {"rng": seed}
        history = train.train(model, opt, everything, max(1, round(steps / all_per_epoch)), batch_size, **kwargs)
        return Run(model.state_dict(), history.state)

    def retrain():
        return accuracy(regularization.retrain_for(train_all, theta0, result.best_step))

    def continue_from_best():
        # the second way monitors the loss on the validation images, now part of the training data
        continued, extra_steps = regularization.continue_until(
            train_all, validation_error, best, train_loss_at_best, n=all_per_epoch, max_steps=50 * all_per_epoch)
        return accuracy(continued), extra_steps

    def go_on_to_curve_epochs():
        model.load_state_dict(trained["last"].model)
        more = max(0, curve_epochs - len(trained["train_loss"]))
        history = train.train(model, opt, base, more, batch_size, state=trained["last"].state)
        return {"train_loss": np.array(trained["train_loss"] + history.train_loss)[:curve_epochs],
                "val_loss": np.array(result.errors + history.val_loss)[:curve_epochs]}

    jobs = [retrain, continue_from_best] + ([go_on_to_curve_epochs] if curve_epochs is not None else [])
    acc_retrained, (acc_continued, extra_steps), *curves = parallel.run_all(lambda job: job(), jobs)
    out = {"result": result, "steps_per_epoch": steps_per_epoch, "n": n,
           "acc_best": accuracy(best), "acc_retrained": acc_retrained, "acc_continued": acc_continued,
           "continued_steps": extra_steps, "train_loss_at_best": train_loss_at_best,
           "retrain_epochs": max(1, round(result.best_step / all_per_epoch)), "steps_per_epoch_all": all_per_epoch}
    if curves:
        out["curves"] = curves[0]
    return out


@_one_thread
def train_loop_matches_meta_algorithm(split, *, n_train=300, patience=5, hidden=(256, 256), lr=1e-3,
                                      batch_size=50, max_epochs=200, rng=0) -> dict:
    """``train(..., early_stopping=EarlyStopping(patience))`` (evaluation every epoch) against the
    explicit meta-algorithm of :func:`early_stopping_runs` with the same seeds: best step and best
    validation loss of each, and the largest parameter difference of the restored models."""
    base = subset(split, n_train)
    gen = _validate.rng("rng", rng)
    model = nn.mlp([64, *hidden, 10], rng=gen.spawn(1)[0])
    seed = gen.spawn(1)[0]
    stopper = regularization.EarlyStopping(patience)
    history = train.train(model, optim.adam(lr), base, max_epochs, batch_size, rng=seed, early_stopping=stopper)
    return {"best_step": history.best_step, "best_error": stopper.best_error, "model": model,
            "val_loss": np.array(history.val_loss), "train_loss": np.array(history.train_loss)}


@_one_thread
def overfitting_curves(split, *, n_train=300, hidden=(256, 256), lr=1e-3, batch_size=50, epochs=80, rng=0) -> dict:
    """The network of :func:`early_stopping_runs` trained for ``epochs`` epochs without stopping:
    training and validation loss per epoch (for Prechelt's criteria)."""
    base = subset(split, n_train)
    gen = _validate.rng("rng", rng)
    model = nn.mlp([64, *hidden, 10], rng=gen.spawn(1)[0])
    history = train.train(model, optim.adam(lr), base, epochs, batch_size, rng=gen.spawn(1)[0])
    return {"train_loss": np.array(history.train_loss), "val_loss": np.array(history.val_loss)}


@_one_thread
def early_stopping_vs_l2(problem: Regression, lr: float, taus) -> dict:
    """Gradient descent on the least-squares problem from 0 (the spectral filter checked against the
    iterates), and for each τ the L2 weight α* whose solution is closest, against Goodfellow's
    1/(ετ). Returns arrays over ``taus``: ``alpha_best``, ``alpha_rule`` (= 1/(ετ)), the relative
    distances of the early-stopped w_τ to the ridge solutions at α* and at 1/(ετ), and the largest
    gap between the filter formula and the iterates."""
    x, y = problem.x_train, problem.y_train
    h = lr_theory.hessian(x)
    lam = np.linalg.eigvalsh(h)
    w_star = lr_theory.least_squares(x, y)
    taus = np.asarray(taus, dtype=int)
    path = lr_theory.gradient_descent(x, y, lr, int(taus.max()))
    filter_gap = max(float(np.max(np.abs(path[t] - lr_theory.spectral_solution(h, w_star, lr_theory.gd_filter(lam, lr, t)))))
                     for t in taus)
    alpha_best = np.array([lr_theory.matching_alpha(h, w_star, lr, int(t)) for t in taus])
    alpha_rule = 1.0 / (lr * taus)

    def gap(t, a):
        w = lr_theory.ridge(x, y, a)
        return float(np.linalg.norm(path[t] - w) / np.linalg.norm(path[t]))

    return {"taus": taus, "alpha_best": alpha_best, "alpha_rule": alpha_rule,
            "gap_best": np.array([gap(t, a) for t, a in zip(taus, alpha_best)]),
            "gap_rule": np.array([gap(t, a) for t, a in zip(taus, alpha_rule)]),
            "filter_gap": filter_gap, "eigenvalues": lam,
            "test_gd": np.array([mse(problem.x_test, problem.y_test, path[t]) for t in taus]),
            "test_ridge": np.array([mse(problem.x_test, problem.y_test, lr_theory.ridge(x, y, a)) for a in alpha_best])}


@_one_thread
def gd_curves(problem: Regression, lr: float, steps: int) -> dict:
    """Train and test J along gradient descent from 0 on the least-squares problem (every step)."""
    path = lr_theory.gradient_descent(problem.x_train, problem.y_train, lr, steps)
    res_tr = path @ problem.x_train.T - problem.y_train
    res_te = path @ problem.x_test.T - problem.y_test
    return {"path": path, "train": 0.5 * np.mean(res_tr**2, axis=1), "test": 0.5 * np.mean(res_te**2, axis=1)}


def meta_algorithm_on_curve(curve, n: int, patience: int) -> regularization.EarlyStoppingResult:
    """Source 004's meta-algorithm on a precomputed validation curve (``curve[i]`` = error after i
    steps): θ is the step index, "training for n steps" adds n. It stops at the last multiple of n
    on the curve if the patience has not run out by then."""
    curve = np.asarray(curve)
    n = _validate.integer("n", n, low=1, high=len(curve) - 1)
    return regularization.early_stopping(lambda i, k: i + k, lambda i: curve[i], 0, n=n,
                                         patience=patience, max_steps=(len(curve) - 1) // n * n)


# ---------------------------------------------------------------------------------------------
# Bagging and ensembles
# ---------------------------------------------------------------------------------------------


def bootstrap_unique(n: int, draws: int = 200, rng=0) -> tuple[float, float]:
    """Mean and std of the fraction of distinct indices over ``draws`` bootstrap samples of size n."""
    gen = _validate.rng("rng", rng)
    fractions = [len(np.unique(regularization.bootstrap_indices(n, gen))) / n for _ in range(draws)]
    return float(np.mean(fractions)), float(np.std(fractions))


@_one_thread
def ensembles(split, n_models: int = 16, *, hidden=(32,), epochs=15, rng=0) -> dict:
    """``n_models`` networks differing only in their seed (same data), and ``n_models`` trained on
    bootstrap samples (``regularization.bagging``). For each kind: the probabilities of every model
    on the test set (n_models, N, 10), the accuracy of the average of the first k, and
    :func:`_variance_of_averages` (v and c from half the models, tested on the other half)."""
    train_only = split._replace(x_val=None, y_val=None)
    gen = _validate.rng("rng", rng)

    def fit_on(x, y, seed):
        return fit(train_only._replace(x_train=x, y_train=y), hidden=hidden, epochs=epochs, rng=seed)[0]

    seeds, bagging_rng = gen.spawn(n_models), gen.spawn(1)[0]
    kinds = {"seeds": lambda: [fit_on(split.x_train, split.y_train, s) for s in seeds],
             "bootstrap": lambda: regularization.bagging(fit_on, split.x_train, split.y_train, n_models,
                                                         rng=bagging_rng)}

    def test_probabilities(kind):   # the two kinds, as equal halves of the work, side by side
        return np.array([layers.softmax(m.forward(split.x_test, "eval")) for m in kinds[kind]()])

    out = {}
    for name, probs in zip(kinds, parallel.run_all(test_probabilities, kinds)):
        out[name] = {"probs": probs, **_variance_of_averages(probs, split.y_test),
                     "accuracy": [float(np.mean(np.argmax(probs[:k].mean(0), 1) == split.y_test))
                                  for k in range(1, n_models + 1)]}
    return out


def _variance_of_averages(probs, y) -> dict:
    r"""Goodfellow et al. §7.11 on the test set, with the error of model k on image x
    :math:`\epsilon_k(x) = 1 - p_k(y|x) \ge 0` (not zero-mean, unlike the book's setting).

    v (mean of :math:`\epsilon_k^2`) and c (mean of :math:`\epsilon_k\epsilon_l`, k != l) are
    measured on the FIRST half of the models; the mean squared error of averages of k models is
    measured on the OTHER half (disjoint groups of k), next to v/k + (k-1)c/k. (On the same models
    the two would agree by algebra, whatever the errors.) Also: the mean error, the part of v that
    all models share, :math:`\mathbb E_x[\bar\epsilon(x)^2]` with :math:`\bar\epsilon` the mean over
    all models, the spread :math:`\mathbb E_x[\operatorname{Var}_k \epsilon_k(x)]` that averaging can
    remove, and the mean Pearson correlation between two models' errors over the images."""
    err = 1.0 - probs[:, np.arange(len(y)), y]           # (M, N)
    m = len(err)
    half = m // 2
    fit_part, held_out = err[:half], err[half:]
    gram = fit_part @ fit_part.T / err.shape[1]           # E_x[eps_k eps_l], (M/2, M/2)
    v = float(np.mean(np.diag(gram)))
    c = float((gram.sum() - np.trace(gram)) / (half * (half - 1)))
    ks, measured, predicted = [], [], []
    k = 1
    while k <= len(held_out):
        groups = held_out[: (len(held_out) // k) * k].reshape(len(held_out) // k, k, -1).mean(axis=1)
        measured.append(float(np.mean(groups**2)))
        predicted.append(lr_theory.average_variance(v, c, k))
        ks.append(k)
        k *= 2
    corr = np.corrcoef(err)
    return {"v": v, "c": c, "ks": ks, "measured": measured, "predicted": predicted,
            "mean_error": float(err.mean()), "shared": float(np.mean(err.mean(axis=0) ** 2)),
            "spread": float(np.mean(err.var(axis=0))),
            "pearson": float((corr.sum() - np.trace(corr)) / (m * (m - 1)))}


# ---------------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------------


@_one_thread
def dropout_expectations(p: float = 0.5, draws: int = 20000, rng=0) -> dict:
    """Inverted dropout and source 004's keep-probability form on a fixed x: the average of many
    training outputs against each form's evaluation output (largest relative gap)."""
    gen = _validate.rng("rng", rng)
    x = gen.standard_normal(8)
    out = {}
    for name, inverted in (("inverted (torch)", True), ("keep form (source 004)", False)):
        # one mask per row of `draws` copies of x: the masks of `draws` calls on x, drawn at once
        samples = layers.dropout_forward(np.tile(x, (draws, 1)), p, rng=gen, inverted=inverted)[0]
        test = layers.dropout_forward(x, p, rng=gen, training=False, inverted=inverted)[0]
        out[name] = (float(np.max(np.abs(samples.mean(0) - test)) / np.max(np.abs(x))), test / x)
    return out


@_one_thread
def mc_dropout_vs_scaling(model, split, ks=(1, 2, 5, 10, 20, 50, 100), rng=0) -> dict:
    """Test accuracy of weight-scaling inference (``forward(x, "eval")``) against Monte-Carlo averaging
    of the softmax over k dropout masks (``forward(x, "train")``, fresh masks each pass)."""
    x, y = split.x_test, split.y_test
    scaled = float(np.mean(np.argmax(model.forward(x, "eval"), 1) == y))
    total, accs = 0.0, {}
    done = 0
    for k in sorted(ks):
        while done < k:
            total = total + layers.softmax(model.forward(x, "train"))
            done += 1
        accs[k] = float(np.mean(np.argmax(total, 1) == y))
    return {"scaled": scaled, "mc": accs}


@_one_thread
def dropout_softmax_regression(split, n_features: int = 10, keep: float = 0.8, rng=0) -> dict:
    """Softmax regression on the top ``n_features`` principal components of the digits, trained with
    dropout on its inputs (keep probability ``keep``); every one of the 2^D masks enumerated on the
    test set. Returns the largest gaps geometric-vs-scaled and arithmetic-vs-scaled, and the accuracies."""
    z_tr, mean, std = data.standardize(split.x_train)
    basis = data.pca(z_tr, n_features)
    f_tr = (z_tr - basis.mean) @ basis.components
    f_te = ((split.x_test - mean) / std - basis.mean) @ basis.components
    gen = _validate.rng("rng", rng)
    model = nn.Sequential(nn.Dropout(1 - keep, rng=gen.spawn(1)[0], inverted=False), nn.Linear(n_features, 10, rng=0))
    train.train(model, optim.adam(1e-2), (f_tr, split.y_train), 40, 64, rng=gen.spawn(1)[0])
    w, b = model.params["1.weight"], model.params["1.bias"]
    geometric, arithmetic, scaled = lr_theory.dropout_softmax_ensemble(w, b, f_te, keep)
    model_eval = layers.softmax(model.forward(f_te, "eval"))
    acc = {name: float(np.mean(np.argmax(p, 1) == split.y_test))
           for name, p in (("geometric", geometric), ("arithmetic", arithmetic), ("scaled", scaled))}
    return {"geometric_vs_scaled": float(np.max(np.abs(geometric - scaled))),
            "arithmetic_vs_scaled": float(np.max(np.abs(arithmetic - scaled))),
            "model_vs_scaled": float(np.max(np.abs(model_eval - scaled))),
            "n_masks": 2**n_features, "accuracy": acc}


@_one_thread
def dropout_variants(split, *, n_train=300, hidden=(128,), epochs=80, batch_size=32, seeds=(0, 1), lr=1e-3) -> dict:
    """Test accuracy (mean, std over ``seeds``) of ``mlp([64, *hidden, 10])`` on ``n_train`` digits:
    hidden dropout p = 0.5; source 004's rates (keep 0.8 on the inputs, 0.5 hidden); a 10x learning
    rate with and without max-norm c = 2 (Srivastava et al. 2014); batch norm with and without dropout.
    Returns ``{name: (mean, std)}``."""
    base = subset(split, n_train)._replace(x_val=None, y_val=None)
    configs = {
        "no dropout": dict(),
        "hidden p = 0.5": dict(dropout=0.5),
        "inputs p = 0.2, hidden p = 0.5": dict(dropout=0.5, input_dropout=0.2),
        "hidden p = 0.5, lr x10": dict(dropout=0.5, lr=10 * lr),
        "hidden p = 0.5, lr x10, max-norm c = 2": dict(dropout=0.5, lr=10 * lr, max_norm=2.0),
        "batch norm": dict(batchnorm=True),
        "batch norm + hidden p = 0.5": dict(batchnorm=True, dropout=0.5),
    }
    def accuracy(config_and_seed):
        cfg = {"lr": lr, **configs[config_and_seed[0]]}
        model, _ = fit(base, hidden=hidden, epochs=epochs, batch_size=batch_size, rng=config_and_seed[1], **cfg)
        return test_accuracy(model, split)

    accs = iter(parallel.run_all(accuracy, [(name, s) for name in configs for s in seeds]))
    return {name: _mean_std([next(accs) for _ in seeds]) for name in configs}


def _mean_std(values) -> tuple[float, float]:
    return float(np.mean(values)), float(np.std(values))


@_one_thread
def per_layer_penalties(split, lams=(0.0, 1e-2), *, n_train=300, epochs=60, rng=0) -> dict:
    """Source 004's per-layer coefficients λ^(i): an L2 penalty on the first layer only or on the last
    only (``L2(lam, apply_to=[name])``). Returns ``{name: (norm of layer 0, norm of layer 2, test accuracy)}``."""
    base = subset(split, n_train)._replace(x_val=None, y_val=None)
    runs = {"no penalty": [], "first layer, λ = 0.01": [regularization.L2(lams[1], apply_to=["0.weight"])],
            "last layer, λ = 0.01": [regularization.L2(lams[1], apply_to=["2.weight"])],
            "both, λ = 0.01": [regularization.L2(lams[1])]}
    def norms_and_accuracy(regs):
        model, _ = fit(base, epochs=epochs, rng=rng, regularizers=regs)
        return (float(np.linalg.norm(model.params["0.weight"])), float(np.linalg.norm(model.params["2.weight"])),
                test_accuracy(model, split))

    return dict(zip(runs, parallel.run_all(norms_and_accuracy, runs.values())))


# ---------------------------------------------------------------------------------------------
# Everything together
# ---------------------------------------------------------------------------------------------

FINAL_CONFIGS = {
    "none": dict(),
    "weight decay (AdamW, weights only)": dict(optimizer="adamw"),
    "dropout (hidden p = 0.5)": dict(dropout=0.5),
    "augmentation (shift, rotate)": dict(augment=random_shift_rotate),
    "input noise σ = 0.1": dict(augment=lambda x, rng: regularization.gaussian_noise(x, 0.1, rng)),
    "label smoothing 0.1": dict(loss=nn.CrossEntropyLoss(label_smoothing=0.1)),
    "early stopping (P = 5)": dict(early=True),
    "AdamW + dropout + augmentation": dict(optimizer="adamw", dropout=0.5, augment=random_shift_rotate),
}


@_one_thread
def final_table(split, *, n_train=300, epochs=60, hidden=(128,), batch_size=64, seeds=(0, 1, 2), lr=3e-3,
                decay=0.3) -> dict:
    """Each technique alone and combined on ``n_train`` digits, Adam(lr) for ``epochs`` epochs:
    test accuracy per seed and the mean number of epochs trained (early stopping trains fewer).
    Returns ``{name: (accuracies, mean epochs)}`` in the order of :data:`FINAL_CONFIGS`.

    The early-stopping run of a seed is the plain run (``"none"``) up to its stop, since evaluating
    the validation set changes nothing in the run: the plain run is that run continued from its
    last step (``train(..., state=)``) to ``epochs``, not trained again from the start."""
    base = subset(split, n_train)
    plain = base._replace(x_val=None, y_val=None)
    early = next(name for name, cfg in FINAL_CONFIGS.items() if cfg.get("early"))
    if FINAL_CONFIGS["none"] or FINAL_CONFIGS[early] != {"early": True}:  # what the derivation assumes
        raise RuntimeError(f"final_table takes the early-stopping row from the plain run, which needs "
                           f"FINAL_CONFIGS['none'] == {{}} and FINAL_CONFIGS[{early!r}] == {{'early': True}}; "
                           f"got {FINAL_CONFIGS['none']} and {FINAL_CONFIGS[early]}")

    def accuracy_and_epochs(config_and_seed):
        name, seed = config_and_seed
        cfg = FINAL_CONFIGS[name]
        kwargs = {k: v for k, v in cfg.items() if k not in ("early", "optimizer")}
        if cfg.get("optimizer") == "adamw":
            kwargs["optimizer"] = optim.adamw(lr, weight_decay=decay, mask=optim.weights_only)
        if name != "none":
            model, history = fit(plain, hidden=hidden, epochs=epochs, batch_size=batch_size, lr=lr, rng=seed, **kwargs)
            return {name: (test_accuracy(model, split), history.epochs)}
        last = _LastParameters()
        model, history = fit(base, hidden=hidden, epochs=epochs, batch_size=batch_size, lr=lr, rng=seed,
                             early_stopping=regularization.EarlyStopping(5), hooks=[last], **kwargs)
        stopped = (test_accuracy(model, split), history.epochs)
        model.load_state_dict(last.state)
        train.train(model, optim.adam(lr), plain, epochs - history.epochs, batch_size, state=history.state)
        return {"none": (test_accuracy(model, split), epochs), early: stopped}

    runs = {}
    for result in parallel.run_all(accuracy_and_epochs, [(name, s) for name in FINAL_CONFIGS if name != early
                                                         for s in seeds]):
        for name, value in result.items():
            runs.setdefault(name, []).append(value)
    out = {}
    for name in FINAL_CONFIGS:
        accs, epochs_run = zip(*runs[name])
        out[name] = (np.array(accs), float(np.mean(epochs_run)))
    return out


class _LastParameters:
    """A ``train`` hook keeping a copy of the parameters after every epoch (the last one at the end)."""

    def on_epoch(self, info):
        self.state = info.model.state_dict()


# ---------------------------------------------------------------------------------------------
# For the widgets (computed once, at construction)
# ---------------------------------------------------------------------------------------------


def moons_split(n: int = 200, noise: float = 0.25, rng=0):
    """Two moons, half for training and half for testing: ``(x_train, y_train, x_test, y_test)``."""
    x, y = data.make_moons(2 * n, noise=noise, rng=rng)
    return x[:n], y[:n], x[n:], y[n:]


@_one_thread
def dropout_boundaries(ps=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6), ks=(1, 2, 4, 8, 16, 32), *, grid=40,
                       hidden=64, epochs=60, rng=0) -> dict:
    """For each drop probability p, a 2-64-64-2 network with dropout p after each hidden layer, trained
    on the two moons; on a ``grid`` x ``grid`` square and on the test points, the probability of class
    1 under weight scaling (``"eval"``) and under Monte-Carlo averaging over the first k masks.
    Returns ``{"x": ..., "extent": ..., p: {"scaled": (G, G), "mc": {k: (G, G)}, "acc": {...}}}``."""
    x_tr, y_tr, x_te, y_te = moons_split(rng=rng)
    extent = (-1.6, 2.6, -1.3, 1.8)
    gx, gy = np.meshgrid(np.linspace(extent[0], extent[1], grid), np.linspace(extent[2], extent[3], grid))
    points = np.c_[gx.ravel(), gy.ravel()]
    both = np.concatenate([points, x_te])
    out = {"x_train": x_tr, "y_train": y_tr, "x_test": x_te, "y_test": y_te, "extent": extent}

    def probabilities(p_and_seed):
        p, seed = p_and_seed
        model_rng, train_rng = seed.spawn(2)
        model = nn.mlp([2, hidden, hidden, 2], rng=model_rng, dropout=p)
        train.train(model, optim.adam(1e-2), (x_tr, y_tr), epochs, 50, rng=train_rng)
        scaled = layers.softmax(model.forward(both, "eval"))[:, 1]
        total, done, mc, acc = 0.0, 0, {}, {"scaled": float(np.mean((scaled[len(points):] > 0.5) == y_te))}
        for k in sorted(ks):
            while done < k:
                total = total + layers.softmax(model.forward(both, "train"))[:, 1]
                done += 1
            mean = total / k
            mc[k] = mean[:len(points)].reshape(grid, grid)
            acc[k] = float(np.mean((mean[len(points):] > 0.5) == y_te))
        return {"scaled": scaled[:len(points)].reshape(grid, grid), "mc": mc, "acc": acc}

    out.update(zip(ps, parallel.run_all(probabilities, list(zip(ps, np.random.default_rng(rng).spawn(len(ps)))))))
    return out
