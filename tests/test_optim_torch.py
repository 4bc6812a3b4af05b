"""Parity of course_lib.optim with torch.optim 2.13 (float64, single-tensor path), every flag.

Two kinds of run, each over hundreds of steps and a dict of two differently shaped arrays:
* open loop: a fixed, seeded sequence of gradients (tests the update rule alone);
* closed loop: gradients of a quadratic at the current parameters plus seeded noise, as from
  mini-batches (tests the trajectory).
The parameter sequences must agree to a relative 1e-9.

The closed-loop minimum lies far from the start, so the runs stay in transit for all 300 steps.
Near the minimum the sign-like adaptive methods (RMSProp, Adam) hop about chaotically: any two
correct implementations whose arithmetic differs by one rounding (ours writes the EWMA as
rho * v + (1 - rho) * g**2, torch as v * rho + ((1 - rho) * g) * g) then drift apart
exponentially, from 1e-16 to 1e-2 in about 100 steps. That tests the rounding, not the rule.
Likewise centered RMSProp divides by sqrt(v - g_avg**2), which cancels catastrophically when every
gradient is the same; the gradient noise keeps that variance away from zero, as real mini-batches do.
"""
import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import optim, schedules

STEPS = 300
SHAPES = {"W": (3, 4), "b": (5,)}


def _start():
    rng = np.random.default_rng(1)
    # away from zero, so that a relative tolerance is meaningful
    return {key: 2.0 + rng.standard_normal(shape) for key, shape in SHAPES.items()}


def _open_loop_grads():
    rng = np.random.default_rng(2)
    sequence = [{key: rng.standard_normal(shape) for key, shape in SHAPES.items()} for _ in range(STEPS)]
    return lambda params, t: sequence[t]


def _closed_loop_grads():
    rng = np.random.default_rng(3)
    scales = {key: rng.uniform(0.2, 2.0, shape) for key, shape in SHAPES.items()}
    centers = {key: rng.uniform(15.0, 25.0, shape) for key, shape in SHAPES.items()}
    noise = [{key: 0.5 * rng.standard_normal(shape) for key, shape in SHAPES.items()} for _ in range(STEPS)]
    return lambda params, t: {key: scales[key] * (params[key] - centers[key]) + noise[t][key] for key in SHAPES}


GRADIENTS = {"open_loop": _open_loop_grads, "closed_loop": _closed_loop_grads}


def ours(opt, grad_fn, steps=STEPS):
    params = _start()
    state = opt.init(params)
    out = []
    for t in range(steps):
        params, state = opt.step(params, grad_fn(params, t), state)
        out.append(np.concatenate([params[key].ravel() for key in SHAPES]))
    return np.array(out)


def theirs(torch_class, kwargs, grad_fn, steps=STEPS, schedule=None, **extra):
    tensors = {key: torch.tensor(value, dtype=torch.float64, requires_grad=True) for key, value in _start().items()}
    opt = torch_class(list(tensors.values()), **kwargs, **extra)
    out = []
    for t in range(steps):
        if schedule is not None:
            for group in opt.param_groups:
                group["lr"] = schedule(t)
        current = {key: p.detach().numpy().copy() for key, p in tensors.items()}
        for key, grad in grad_fn(current, t).items():
            tensors[key].grad = torch.tensor(grad, dtype=torch.float64)
        opt.step()
        out.append(np.concatenate([tensors[key].detach().numpy().ravel() for key in SHAPES]))
    return np.array(out)


def assert_same_sequence(a, b):
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12 * np.max(np.abs(b)))


def _grid(**options):
    keys = list(options)
    return [dict(zip(keys, values)) for values in itertools.product(*options.values())]


SGD_CASES = [kw for kw in _grid(lr=[0.02], momentum=[0.0, 0.9], dampening=[0.0, 0.5], nesterov=[False, True],
                                weight_decay=[0.0, 0.05])
             if not (kw["nesterov"] and (kw["momentum"] == 0 or kw["dampening"] != 0))]
ADAGRAD_CASES = _grid(lr=[0.1], lr_decay=[0.0, 0.05], weight_decay=[0.0, 0.05], initial_accumulator_value=[0.0, 0.3],
                      eps=[1e-10, 1e-3])
RMSPROP_CASES = _grid(lr=[0.01], alpha=[0.99, 0.9], eps=[1e-8, 1e-3], weight_decay=[0.0, 0.05], momentum=[0.0, 0.8],
                      centered=[False, True])
ADADELTA_CASES = _grid(lr=[1.0, 0.5], rho=[0.9, 0.5], eps=[1e-6, 1e-3], weight_decay=[0.0, 0.05])
ADAM_CASES = _grid(lr=[0.01], betas=[(0.9, 0.999), (0.5, 0.9)], eps=[1e-8, 1e-3], weight_decay=[0.0, 0.05],
                   amsgrad=[False, True])

CASES = (
    [(optim.sgd, torch.optim.SGD, kw) for kw in SGD_CASES]
    + [(optim.adagrad, torch.optim.Adagrad, kw) for kw in ADAGRAD_CASES]
    + [(optim.rmsprop, torch.optim.RMSprop, kw) for kw in RMSPROP_CASES]
    + [(optim.adadelta, torch.optim.Adadelta, kw) for kw in ADADELTA_CASES]
    + [(optim.adam, torch.optim.Adam, kw) for kw in ADAM_CASES]
    + [(optim.adamw, torch.optim.AdamW, kw) for kw in ADAM_CASES]
)


def _id(case):
    factory, _, kwargs = case
    return factory.__name__ + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("gradients", sorted(GRADIENTS))
@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_same_parameter_sequence_as_torch(case, gradients):
    factory, torch_class, kwargs = case
    grad_fn = GRADIENTS[gradients]()
    assert_same_sequence(ours(factory(**kwargs), grad_fn), theirs(torch_class, kwargs, grad_fn, foreach=False))


def test_torch_defaults_are_ours():
    """Same defaults: constructing both with no optional argument gives the same sequence."""
    grad_fn = _closed_loop_grads()
    for factory, torch_class in [(optim.adagrad, torch.optim.Adagrad), (optim.rmsprop, torch.optim.RMSprop),
                                 (optim.adadelta, torch.optim.Adadelta), (optim.adam, torch.optim.Adam),
                                 (optim.adamw, torch.optim.AdamW)]:
        assert_same_sequence(ours(factory(), grad_fn, 100), theirs(torch_class, {}, grad_fn, 100))
    assert_same_sequence(ours(optim.sgd(0.05), grad_fn, 100), theirs(torch.optim.SGD, {"lr": 0.05}, grad_fn, 100))


@pytest.mark.parametrize("factory, torch_class, kwargs", [
    (optim.sgd, torch.optim.SGD, dict(lr=0.02, momentum=0.9, weight_decay=0.05)),
    (optim.adam, torch.optim.Adam, dict(lr=0.01, weight_decay=0.05, amsgrad=True)),
    (optim.adamw, torch.optim.AdamW, dict(lr=0.01, amsgrad=True)),
])
def test_matches_torch_foreach_too(factory, torch_class, kwargs):
    """torch's foreach (multi-tensor) implementation gives the same sequence as its single-tensor one, and ours."""
    grad_fn = _closed_loop_grads()
    mine = ours(factory(**kwargs), grad_fn)
    assert_same_sequence(mine, theirs(torch_class, kwargs, grad_fn, foreach=False))
    assert_same_sequence(mine, theirs(torch_class, kwargs, grad_fn, foreach=True))


@pytest.mark.parametrize("factory, torch_class, kwargs", [
    (optim.sgd, torch.optim.SGD, dict(momentum=0.9, nesterov=True)),
    (optim.sgd, torch.optim.SGD, dict(momentum=0.9, dampening=0.3)),
    (optim.adagrad, torch.optim.Adagrad, dict(lr_decay=0.01)),
    (optim.rmsprop, torch.optim.RMSprop, dict(momentum=0.5, centered=True)),
    (optim.adadelta, torch.optim.Adadelta, dict()),
    (optim.adam, torch.optim.Adam, dict(amsgrad=True)),
    (optim.adamw, torch.optim.AdamW, dict()),
])
def test_schedule_as_lr_matches_torch_with_lr_set_each_step(factory, torch_class, kwargs):
    """A schedule as lr: step t (from 0) uses lr(t), as torch does when its group lr is set before step t."""
    schedule = schedules.warmup(schedules.cosine(0.05, total_steps=150), warmup_steps=20)
    grad_fn = _closed_loop_grads()
    assert_same_sequence(ours(factory(lr=schedule, **kwargs), grad_fn, 200),
                         theirs(torch_class, dict(lr=0.05, **kwargs), grad_fn, 200, schedule=schedule, foreach=False))


def test_state_matches_torch_state():
    """The visible state is torch's state under the maths names (m = exp_avg, v = exp_avg_sq, ...)."""
    grad_fn = _open_loop_grads()
    params = _start()
    tensors = {key: torch.tensor(value, requires_grad=True) for key, value in params.items()}
    opt_torch = torch.optim.Adam(list(tensors.values()), lr=0.01, amsgrad=True, foreach=False)
    opt = optim.adam(lr=0.01, amsgrad=True)
    state = opt.init(params)
    for t in range(50):
        grads = grad_fn(params, t)
        params, state = opt.step(params, grads, state)
        for key, grad in grads.items():
            tensors[key].grad = torch.tensor(grad)
        opt_torch.step()
    for key, tensor in tensors.items():
        torch_state = opt_torch.state[tensor]
        assert state.step == int(torch_state["step"]) == 50
        np.testing.assert_allclose(state.m[key], torch_state["exp_avg"].numpy(), rtol=1e-12)
        np.testing.assert_allclose(state.v[key], torch_state["exp_avg_sq"].numpy(), rtol=1e-12)
        np.testing.assert_allclose(state.v_max[key], torch_state["max_exp_avg_sq"].numpy(), rtol=1e-12)


# ------------------------------------------------------------------ property: any valid hyperparameters

_rate = st.floats(1e-4, 0.5)
_decay = st.floats(0.0, 0.999)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(lr=_rate, beta1=_decay, beta2=_decay, eps=st.floats(0.0, 1e-2), weight_decay=st.floats(0.0, 0.5),
       amsgrad=st.booleans(), decoupled=st.booleans())
def test_adam_and_adamw_match_torch_for_any_valid_hyperparameters(lr, beta1, beta2, eps, weight_decay, amsgrad,
                                                                  decoupled):
    factory, torch_class = (optim.adamw, torch.optim.AdamW) if decoupled else (optim.adam, torch.optim.Adam)
    kwargs = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
    grad_fn = _open_loop_grads()
    assert_same_sequence(ours(factory(**kwargs), grad_fn, 30), theirs(torch_class, kwargs, grad_fn, 30))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(lr=_rate, momentum=st.floats(0.0, 0.99), dampening=st.floats(0.0, 1.0), nesterov=st.booleans(),
       weight_decay=st.floats(0.0, 0.5))
def test_sgd_matches_torch_for_any_valid_hyperparameters(lr, momentum, dampening, nesterov, weight_decay):
    if nesterov:
        momentum, dampening = max(momentum, 0.1), 0.0
    kwargs = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=weight_decay)
    grad_fn = _open_loop_grads()
    assert_same_sequence(ours(optim.sgd(**kwargs), grad_fn, 30), theirs(torch.optim.SGD, kwargs, grad_fn, 30))


# ------------------------------------------------------------------ masks and parameter groups vs torch param_groups

NAMED = {"0.weight": (3, 4), "0.bias": (3,), "1.gamma": (3,), "2.weight": (2, 3)}


def _named_run(opt, torch_class, torch_groups, kwargs, steps=STEPS):
    """Ours on a dict of four named arrays; torch on the same tensors split into ``torch_groups``
    (lists of names with per-group overrides). Closed loop, as above. Returns both sequences."""
    rng = np.random.default_rng(5)
    start = {key: 2.0 + rng.standard_normal(shape) for key, shape in NAMED.items()}
    scales = {key: rng.uniform(0.2, 2.0, shape) for key, shape in NAMED.items()}
    centers = {key: rng.uniform(15.0, 25.0, shape) for key, shape in NAMED.items()}
    noise = [{key: 0.5 * rng.standard_normal(shape) for key, shape in NAMED.items()} for _ in range(steps)]

    def grad_fn(params, t):
        return {key: scales[key] * (params[key] - centers[key]) + noise[t][key] for key in NAMED}

    params, state, mine = start, opt.init(start), []
    for t in range(steps):
        params, state = opt.step(params, grad_fn(params, t), state)
        mine.append(np.concatenate([params[key].ravel() for key in NAMED]))
    tensors = {key: torch.tensor(value, requires_grad=True) for key, value in start.items()}
    groups = [{**overrides, "params": [tensors[k] for k in names]} for names, overrides in torch_groups]
    reference, out = torch_class(groups, **kwargs, foreach=False), []
    for t in range(steps):
        current = {key: p.detach().numpy().copy() for key, p in tensors.items()}
        for key, grad in grad_fn(current, t).items():
            tensors[key].grad = torch.tensor(grad)
        reference.step()
        out.append(np.concatenate([tensors[key].detach().numpy().ravel() for key in NAMED]))
    return np.array(mine), np.array(out)


MASKED_CASES = [
    (optim.sgd, torch.optim.SGD, dict(lr=0.02, momentum=0.9, weight_decay=0.05)),
    (optim.adagrad, torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.05)),
    (optim.rmsprop, torch.optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.05)),
    (optim.adadelta, torch.optim.Adadelta, dict(lr=0.5, weight_decay=0.05)),
    (optim.adam, torch.optim.Adam, dict(lr=0.01, weight_decay=0.05, amsgrad=True)),
    (optim.adamw, torch.optim.AdamW, dict(lr=0.01, weight_decay=0.05)),
]


@pytest.mark.parametrize("factory, torch_class, kwargs", MASKED_CASES, ids=[c[0].__name__ for c in MASKED_CASES])
@pytest.mark.parametrize("mask", [optim.weights_only, {"0.weight": True, "0.bias": False, "1.gamma": False,
                                                       "2.weight": True}], ids=["callable", "dict"])
def test_mask_matches_torch_group_with_weight_decay_zero(factory, torch_class, kwargs, mask):
    """mask=weights_only is torch's usual two groups: the weights decay, biases and gamma get weight_decay=0."""
    mine, theirs_ = _named_run(factory(**kwargs, mask=mask), torch_class,
                               [(["0.weight", "2.weight"], {}), (["0.bias", "1.gamma"], {"weight_decay": 0.0})], kwargs)
    assert_same_sequence(mine, theirs_)
    unmasked, _ = _named_run(factory(**kwargs), torch_class, [(list(NAMED), {})], kwargs, steps=20)
    assert np.max(np.abs(unmasked - mine[:20])) > 1e-6  # the mask changes the run


@pytest.mark.parametrize("factory, torch_class, kwargs", MASKED_CASES, ids=[c[0].__name__ for c in MASKED_CASES])
def test_group_learning_rates_match_torch_param_groups(factory, torch_class, kwargs):
    """Per-group lr (and weight_decay) as torch's param_groups; the other parameters keep the defaults."""
    lr = kwargs["lr"]
    groups = [{"params": lambda name: name.startswith("2."), "lr": 3 * lr},
              {"params": ["0.bias"], "lr": lr / 2, "weight_decay": 0.0}]
    mine, theirs_ = _named_run(factory(**kwargs, groups=groups), torch_class,
                               [(["0.weight", "1.gamma"], {}), (["2.weight"], {"lr": 3 * lr}),
                                (["0.bias"], {"lr": lr / 2, "weight_decay": 0.0})], kwargs)
    assert_same_sequence(mine, theirs_)


def test_group_schedule_and_mask_together_match_torch():
    """A group with its own schedule, the rest on a constant lr, biases masked out of AdamW's decay."""
    schedule = schedules.warmup(schedules.cosine(0.05, total_steps=150), warmup_steps=20)
    opt = optim.adamw(lr=0.01, weight_decay=0.1, mask=optim.weights_only,
                      groups=[{"params": ["2.weight"], "lr": schedule}])
    rng = np.random.default_rng(7)
    start = {key: 2.0 + rng.standard_normal(shape) for key, shape in NAMED.items()}
    grads = [{key: rng.standard_normal(shape) for key, shape in NAMED.items()} for _ in range(200)]
    params, state = start, opt.init(start)
    tensors = {key: torch.tensor(value, requires_grad=True) for key, value in start.items()}
    reference = torch.optim.AdamW([{"params": [tensors["0.weight"]]},
                                   {"params": [tensors["0.bias"], tensors["1.gamma"]], "weight_decay": 0.0},
                                   {"params": [tensors["2.weight"]]}], lr=0.01, weight_decay=0.1, foreach=False)
    for t in range(200):
        reference.param_groups[2]["lr"] = schedule(t)
        params, state = opt.step(params, grads[t], state)
        for key, grad in grads[t].items():
            tensors[key].grad = torch.tensor(grad)
        reference.step()
    for key, tensor in tensors.items():
        np.testing.assert_allclose(params[key], tensor.detach().numpy(), rtol=1e-9)


def test_decoupled_weight_decay_keyword_is_torch_adam_s():
    kwargs = dict(lr=0.01, weight_decay=0.05)
    grad_fn = _closed_loop_grads()
    mine = ours(optim.adam(**kwargs, decoupled_weight_decay=True), grad_fn)
    assert_same_sequence(mine, theirs(torch.optim.Adam, dict(kwargs, decoupled_weight_decay=True), grad_fn, foreach=False))
    assert_same_sequence(mine, ours(optim.adamw(**kwargs), grad_fn))


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_is_torch_s(norm_type, max_norm):
    rng = np.random.default_rng(8)
    grads = {key: rng.standard_normal(shape) for key, shape in NAMED.items()}
    clipped, total = optim.clip_grad_norm(grads, max_norm, norm_type)
    tensors = [torch.zeros(shape, dtype=torch.float64, requires_grad=True) for shape in NAMED.values()]
    for tensor, grad in zip(tensors, grads.values()):
        tensor.grad = torch.tensor(grad)
    torch_total = torch.nn.utils.clip_grad_norm_(tensors, max_norm, norm_type=norm_type, foreach=False)
    assert total == pytest.approx(float(torch_total), rel=1e-12)
    for tensor, key in zip(tensors, NAMED):
        np.testing.assert_allclose(clipped[key], tensor.grad.numpy(), rtol=1e-12)
    if max_norm < total:  # clipped to the ball (up to torch's 1e-6)
        flat = np.concatenate([g.ravel() for g in clipped.values()])
        assert np.linalg.norm(flat, ord=norm_type) == pytest.approx(max_norm, rel=1e-5)
    for key in NAMED:  # the input is untouched
        assert not np.shares_memory(clipped[key], grads[key])
