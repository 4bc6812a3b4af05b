"""course_lib.optim: hand-computed steps, the API contract, validation (against torch's), immutability."""
import copy

import numpy as np
import pytest
import torch

from course_lib import ewma, optim, schedules

ALL_FACTORIES = [
    lambda: optim.sgd(0.1), lambda: optim.sgd(0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda: optim.adagrad(), lambda: optim.rmsprop(momentum=0.5, centered=True), lambda: optim.adadelta(),
    lambda: optim.adam(amsgrad=True), lambda: optim.adamw(), lambda: optim.momentum_scaled(0.1),
    lambda: optim.momentum_ewma(0.1), lambda: optim.momentum_velocity(0.1), lambda: optim.nesterov_lookahead(0.1),
    lambda: optim.rmsprop_nesterov(0.01), lambda: optim.appendix_b_adadelta(0.01),
]


def _params():
    rng = np.random.default_rng(0)
    return {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}


# ------------------------------------------------------------------ tier 1: values by hand

def test_sgd_step_by_hand():
    params, grads = np.array([1.0, -2.0]), np.array([0.5, 4.0])
    opt = optim.sgd(lr=0.1)
    new, state = opt.step(params, grads, opt.init(params))
    np.testing.assert_allclose(new, [1.0 - 0.05, -2.0 - 0.4])
    assert state == optim.SGDState(1, None)


def test_sgd_momentum_buffers_by_hand():
    """b_1 = g_1 (no dampening on the first step), then b_t = mu b + (1 - tau) g."""
    opt = optim.sgd(lr=1.0, momentum=0.5, dampening=0.2)
    x = np.array([0.0])
    state = opt.init(x)
    x, state = opt.step(x, np.array([1.0]), state)
    assert state.b[0] == 1.0 and x[0] == -1.0
    x, state = opt.step(x, np.array([1.0]), state)
    assert state.b[0] == pytest.approx(0.5 + 0.8) and x[0] == pytest.approx(-1.0 - 1.3)


def test_adam_first_step_moves_every_weight_by_lr_times_sign():
    rng = np.random.default_rng(1)
    params, grads = rng.standard_normal(50), rng.standard_normal(50) * 10 ** rng.uniform(-3, 3, 50)
    opt = optim.adam(lr=0.01, eps=0.0)
    new, _ = opt.step(params, grads, opt.init(params))
    np.testing.assert_allclose(new - params, -0.01 * np.sign(grads), rtol=1e-12)


def test_adam_state_is_the_ewma_of_g_and_g2_with_bias_correction():
    """Adam's m and v are exactly course_lib.ewma's averages of the gradient series."""
    rng = np.random.default_rng(2)
    grads = rng.standard_normal((40, 3))
    opt = optim.adam(lr=1e-3, betas=(0.8, 0.95))
    x, state = np.zeros(3), opt.init(np.zeros(3))
    for g in grads:
        x, state = opt.step(x, g, state)
    np.testing.assert_allclose(state.m, ewma.ewma(grads, 0.8)[-1], rtol=1e-12)
    np.testing.assert_allclose(state.v, ewma.ewma(grads**2, 0.95)[-1], rtol=1e-12)
    m_hat = ewma.ewma(grads, 0.8, bias_correction=True)[-1]
    np.testing.assert_allclose(state.m / (1 - 0.8**40), m_hat, rtol=1e-12)


def test_adagrad_constant_gradient_shrinks_like_one_over_sqrt_t():
    opt = optim.adagrad(lr=1.0, eps=0.0)
    x, state = np.array([0.0]), opt.init(np.array([0.0]))
    steps = []
    for _ in range(16):
        new, state = opt.step(x, np.array([3.0]), state)
        steps.append(x[0] - new[0])
        x = new
    np.testing.assert_allclose(steps, 1.0 / np.sqrt(np.arange(1, 17)), rtol=1e-12)


def test_adadelta_first_step_is_sqrt_eps_over_rms():
    """u = 0 at the start: the first step is sqrt(eps) / sqrt((1 - rho) g^2 + eps) * g."""
    opt = optim.adadelta(lr=1.0, rho=0.9, eps=1e-6)
    new, state = opt.step(np.array([0.0]), np.array([2.0]), opt.init(np.array([0.0])))
    expected = np.sqrt(1e-6) / np.sqrt(0.1 * 4.0 + 1e-6) * 2.0
    assert new[0] == pytest.approx(-expected, rel=1e-12)
    assert state.u[0] == pytest.approx(0.1 * expected**2, rel=1e-12)


def test_adamw_decay_is_decoupled_from_the_adaptive_scaling():
    """With a zero gradient Adam's L2 step is lr*sign(theta); AdamW's is lr*wd*theta."""
    params = np.array([10.0, -0.5])
    zero = np.zeros(2)
    new_w, _ = optim.adamw(lr=0.1, weight_decay=0.01).step(params, zero, optim.adamw().init(params))
    np.testing.assert_allclose(new_w, params * (1 - 0.1 * 0.01))
    new_a, _ = optim.adam(lr=0.1, weight_decay=0.01, eps=0.0).step(params, zero, optim.adam().init(params))
    np.testing.assert_allclose(new_a, params - 0.1 * np.sign(params))


# ------------------------------------------------------------------ the API contract

@pytest.mark.parametrize("make", ALL_FACTORIES)
def test_inputs_are_never_modified(make):
    opt = make()
    params = _params()
    grads = {key: value * 0.5 + 0.1 for key, value in params.items()}
    state = opt.init(params)
    for _ in range(3):  # a state with nonzero buffers
        params, state = opt.step(params, grads, state)
    saved = copy.deepcopy((params, grads, state))
    opt.step(params, grads, state)
    opt.update(grads, state, params)
    opt.lookahead(params, state)
    for before, after in zip(saved, (params, grads, state)):
        np.testing.assert_equal(after, before)


@pytest.mark.parametrize("make", ALL_FACTORIES)
def test_update_plus_params_is_step_and_dict_equals_array(make):
    opt = make()
    params = _params()
    grads = {key: np.cos(value) for key, value in params.items()}
    state = opt.init(params)
    state_w = opt.init(params["W"])
    for _ in range(5):
        updates, state_u = opt.update(grads, state, params)
        new, state = opt.step(params, grads, state)
        new_w, state_w = opt.step(params["W"], grads["W"], state_w)
        for key in params:
            np.testing.assert_allclose(params[key] + updates[key], new[key], rtol=1e-15, atol=1e-15)
        np.testing.assert_allclose(new_w, new["W"], rtol=1e-15)
        assert state_u.step == state.step
        params = new


def test_returned_arrays_are_fresh_objects():
    opt = optim.sgd(0.1, momentum=0.9)
    params, grads = np.ones(3), np.ones(3)
    new, state = opt.step(params, grads, opt.init(params))
    assert not np.shares_memory(new, params) and not np.shares_memory(state.b, grads)
    new[...] = 7.0  # the caller may write into what it got back
    np.testing.assert_equal(grads, 1.0)


def test_state_is_a_visible_named_tuple_and_hyperparams_are_exposed():
    opt = optim.adam(lr=0.01, betas=(0.8, 0.9), amsgrad=True)
    state = opt.init(np.zeros(2))
    assert type(state).__name__ == "AdamState" and state._fields == ("step", "m", "v", "v_max")
    assert "AdamState(step=0, m=array([0., 0.])" in repr(state)
    assert opt.hyperparams["lr"] == 0.01 and opt.hyperparams["betas"] == (0.8, 0.9)
    assert repr(opt).startswith("adam(lr=0.01, betas=(0.8, 0.9)")
    assert optim.adam().init(np.zeros(2)).v_max is None
    assert optim.sgd(0.1).init(np.zeros(2)).b is None
    assert optim.rmsprop().init(np.zeros(2))._fields == ("step", "v", "g_avg", "b")


def test_schedule_lr_uses_the_step_count_from_zero():
    lr = schedules.step_decay(1.0, step_size=1, gamma=0.5)  # 1, 0.5, 0.25, ...
    opt = optim.sgd(lr)
    x, state = np.zeros(1), opt.init(np.zeros(1))
    positions = []
    for _ in range(4):
        x, state = opt.step(x, np.ones(1), state)
        positions.append(x[0])
    np.testing.assert_allclose(positions, -np.cumsum([1.0, 0.5, 0.25, 0.125]))
    bad = optim.sgd(lambda t: -1.0)
    with pytest.raises(ValueError, match="lr schedule"):
        bad.step(np.zeros(1), np.ones(1), bad.init(np.zeros(1)))


def test_lists_and_ints_are_accepted_as_arrays():
    opt = optim.sgd(0.5)
    new, _ = opt.step([1, 2], [2, 2], opt.init([1, 2]))
    np.testing.assert_allclose(new, [0.0, 1.0])


# ------------------------------------------------------------------ validation

TORCH_REJECTS = [
    (optim.sgd, torch.optim.SGD, dict(lr=-0.1), "lr"),
    (optim.sgd, torch.optim.SGD, dict(lr=0.1, momentum=-0.5), "momentum"),
    (optim.sgd, torch.optim.SGD, dict(lr=0.1, weight_decay=-1.0), "weight_decay"),
    (optim.sgd, torch.optim.SGD, dict(lr=0.1, nesterov=True), "nesterov"),
    (optim.sgd, torch.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
    (optim.adagrad, torch.optim.Adagrad, dict(lr=-1.0), "lr"),
    (optim.adagrad, torch.optim.Adagrad, dict(lr_decay=-1.0), "lr_decay"),
    (optim.adagrad, torch.optim.Adagrad, dict(weight_decay=-1.0), "weight_decay"),
    (optim.adagrad, torch.optim.Adagrad, dict(initial_accumulator_value=-1.0), "initial_accumulator_value"),
    (optim.adagrad, torch.optim.Adagrad, dict(eps=-1.0), "eps"),
    (optim.rmsprop, torch.optim.RMSprop, dict(lr=-1.0), "lr"),
    (optim.rmsprop, torch.optim.RMSprop, dict(eps=-1.0), "eps"),
    (optim.rmsprop, torch.optim.RMSprop, dict(momentum=-1.0), "momentum"),
    (optim.rmsprop, torch.optim.RMSprop, dict(weight_decay=-1.0), "weight_decay"),
    (optim.rmsprop, torch.optim.RMSprop, dict(alpha=-0.1), "alpha"),
    (optim.adadelta, torch.optim.Adadelta, dict(lr=-1.0), "lr"),
    (optim.adadelta, torch.optim.Adadelta, dict(rho=1.5), "rho"),
    (optim.adadelta, torch.optim.Adadelta, dict(rho=-0.1), "rho"),
    (optim.adadelta, torch.optim.Adadelta, dict(eps=-1.0), "eps"),
    (optim.adadelta, torch.optim.Adadelta, dict(weight_decay=-1.0), "weight_decay"),
] + [
    (factory, torch_class, kwargs, name)
    for factory, torch_class in [(optim.adam, torch.optim.Adam), (optim.adamw, torch.optim.AdamW)]
    for kwargs, name in [(dict(lr=-1.0), "lr"), (dict(eps=-1.0), "eps"), (dict(betas=(1.0, 0.999)), r"betas\[0\]"),
                         (dict(betas=(-0.1, 0.999)), r"betas\[0\]"), (dict(betas=(0.9, 1.0)), r"betas\[1\]"),
                         (dict(weight_decay=-1.0), "weight_decay")]
]


@pytest.mark.parametrize("factory, torch_class, kwargs, name", TORCH_REJECTS,
                         ids=[f"{c[0].__name__}-{c[3]}-{i}" for i, c in enumerate(TORCH_REJECTS)])
def test_rejects_what_torch_rejects_naming_the_argument(factory, torch_class, kwargs, name):
    with pytest.raises(ValueError):
        torch_class([torch.zeros(1, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError, match=name):
        factory(**kwargs)


def test_stricter_than_torch_where_the_average_would_not_be_one():
    """torch accepts alpha >= 1 (RMSprop) and rho = 1 (Adadelta); then v is no average. We refuse."""
    torch.optim.RMSprop([torch.zeros(1, requires_grad=True)], alpha=1.0)
    torch.optim.Adadelta([torch.zeros(1, requires_grad=True)], rho=1.0)
    with pytest.raises(ValueError, match="alpha"):
        optim.rmsprop(alpha=1.0)
    with pytest.raises(ValueError, match="rho"):
        optim.adadelta(rho=1.0)


@pytest.mark.parametrize("call, error, name", [
    (lambda: optim.sgd("0.1"), TypeError, "lr"),
    (lambda: optim.sgd(float("nan")), ValueError, "lr"),
    (lambda: optim.adam(betas=0.9), TypeError, "betas"),
    (lambda: optim.adam(amsgrad=1), TypeError, "amsgrad"),
    (lambda: optim.sgd(0.1, nesterov="yes"), TypeError, "nesterov"),
    (lambda: optim.rmsprop(centered=None), TypeError, "centered"),
    (lambda: optim.momentum_ewma(0.1, rho=1.0), ValueError, "rho"),
    (lambda: optim.nesterov_lookahead(0.1, momentum=-0.1), ValueError, "momentum"),
])
def test_bad_types_and_values_name_the_argument(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_grads_must_match_params():
    opt = optim.adam()
    params = {"W": np.zeros((2, 3)), "b": np.zeros(3)}
    state = opt.init(params)
    with pytest.raises(ValueError, match=r"missing \['b'\].*unexpected \['c'\]"):
        opt.step(params, {"W": np.zeros((2, 3)), "c": np.zeros(3)}, state)
    with pytest.raises(ValueError, match=r"grads\['W'\] must have the shape of params\['W'\], \(2, 3\)"):
        opt.step(params, {"W": np.zeros((3, 2)), "b": np.zeros(3)}, state)
    with pytest.raises(TypeError, match="structure of params"):
        opt.step(params, np.zeros(3), state)
    with pytest.raises(ValueError, match=r"grads must have the shape of params, \(3,\)"):
        opt.step(np.zeros(3), np.zeros(4), opt.init(np.zeros(3)))
    with pytest.raises(TypeError, match="grads must be an array of numbers"):
        opt.step(np.zeros(3), "abc", opt.init(np.zeros(3)))
    with pytest.raises(TypeError, match="AdamState"):
        opt.step(np.zeros(3), np.zeros(3), optim.sgd(0.1).init(np.zeros(3)))
    with pytest.raises(ValueError, match="state.m"):
        opt.step(params, params, opt.init(np.zeros(3)))
    with pytest.raises(ValueError, match="empty"):
        opt.init({})


@pytest.mark.parametrize("make", [
    lambda: optim.sgd(0.1), lambda: optim.sgd(0.1, momentum=0.9, nesterov=True), lambda: optim.adagrad(),
    lambda: optim.rmsprop(momentum=0.9, centered=True), lambda: optim.adadelta(),
    lambda: optim.adam(amsgrad=True), lambda: optim.adamw(), lambda: optim.adam(eps_inside_sqrt=True),
    lambda: optim.momentum_scaled(0.1), lambda: optim.momentum_ewma(0.1), lambda: optim.momentum_velocity(0.1),
    lambda: optim.nesterov_lookahead(0.1), lambda: optim.rmsprop_nesterov(0.1), lambda: optim.appendix_b_adadelta(0.1),
])
def test_a_scalar_parameter_steps_like_a_one_element_array(make):
    opt = make()
    scalar, vector = 1.5, np.array([1.5])
    s_state, v_state = opt.init(scalar), opt.init(vector)
    for g in [0.5, -0.25, 0.75]:
        scalar, s_state = opt.step(scalar, g, s_state)
        vector, v_state = opt.step(vector, np.array([g]), v_state)
    assert np.shape(scalar) == () and scalar == pytest.approx(vector[0], rel=1e-15)


# ------------------------------------------------------------------ weight decay piece, masks, groups, Layout

def _named():
    rng = np.random.default_rng(3)
    return {"0.weight": rng.standard_normal((3, 2)), "0.bias": rng.standard_normal(3),
            "1.gamma": 1.0 + rng.standard_normal(3), "1.beta": rng.standard_normal(3),
            "2.weight": rng.standard_normal((2, 3))}


def test_weights_only_leaves_biases_and_norm_parameters_out():
    assert [optim.weights_only(name) for name in _named()] == [True, False, False, False, True]


def test_sgd_masked_decay_by_hand():
    """One SGD step with coupled decay on the weights only: w - lr (g + wd w); others w - lr g."""
    params, lr, wd = _named(), 0.1, 0.5
    grads = {key: np.ones_like(value) for key, value in params.items()}
    opt = optim.sgd(lr, weight_decay=wd, mask=optim.weights_only)
    new, _ = opt.step(params, grads, opt.init(params))
    for key, value in params.items():
        decay = wd if optim.weights_only(key) else 0.0
        np.testing.assert_allclose(new[key], value - lr * (1.0 + decay * value), rtol=1e-15)


def test_decoupled_decay_is_added_after_the_rule():
    """with_weight_decay(..., decoupled=True): new = rule's step - lr wd theta (SGDW by hand), and on Adam it is AdamW."""
    params, lr, wd = _named(), 0.1, 0.3
    grads = {key: np.cos(value) for key, value in params.items()}
    sgdw = optim.with_weight_decay(optim.sgd(lr), wd, decoupled=True, mask=optim.weights_only)
    new, _ = sgdw.step(params, grads, sgdw.init(params))
    for key, value in params.items():
        decay = wd if optim.weights_only(key) else 0.0
        np.testing.assert_allclose(new[key], value - lr * grads[key] - lr * decay * value, rtol=1e-15)
    adam_w, adamw = optim.with_weight_decay(optim.adam(lr), wd, decoupled=True), optim.adamw(lr, weight_decay=wd)
    a, sa = params, adam_w.init(params)
    b, sb = params, adamw.init(params)
    for _ in range(5):
        a, sa = adam_w.step(a, grads, sa)
        b, sb = adamw.step(b, grads, sb)
    for key in params:
        np.testing.assert_array_equal(a[key], b[key])
    assert adam_w.hyperparams["weight_decay"] == wd and adam_w.decay.decoupled


def test_group_learning_rate_by_hand():
    params = _named()
    grads = {key: np.ones_like(value) for key, value in params.items()}
    opt = optim.sgd(0.1, groups=[{"params": ["2.weight"], "lr": 1.0}, {"params": lambda n: n.startswith("1."), "lr": 0.0}])
    new, _ = opt.step(params, grads, opt.init(params))
    np.testing.assert_allclose(new["2.weight"], params["2.weight"] - 1.0)
    np.testing.assert_array_equal(new["1.gamma"], params["1.gamma"])
    np.testing.assert_allclose(new["0.bias"], params["0.bias"] - 0.1)


@pytest.mark.parametrize("make", [
    lambda: optim.adamw(0.01, weight_decay=0.1, mask=optim.weights_only,
                        groups=[{"params": ["2.weight", "0.bias"], "lr": schedules.cosine(0.05, total_steps=10)}]),
    lambda: optim.sgd(0.05, momentum=0.9, weight_decay=0.1, mask={"0.weight": True, "0.bias": False, "1.gamma": True,
                                                                  "1.beta": False, "2.weight": True},
                      groups=[{"params": ["1.gamma"], "lr": 0.2, "weight_decay": 0.0}]),
    lambda: optim.rmsprop(0.01, momentum=0.5, weight_decay=0.1, groups=[{"params": lambda n: "weight" in n, "lr": 0.03}]),
])
def test_flat_step_is_the_dict_step(make):
    """train's path: one flat vector with per-parameter lr and decay vectors gives the dict's numbers exactly."""
    opt = make()
    params = _named()
    layout = optim.Layout(params)
    step = opt.flat_step(layout)
    theta, flat_state = layout.ravel(params), layout.ravel_state(opt.init(params))
    state = opt.init(params)
    for t in range(8):
        grads = {key: np.sin(value + t) for key, value in params.items()}
        params, state = opt.step(params, grads, state)
        theta, flat_state = step(theta, layout.ravel(grads), flat_state)
        for key, value in layout.unravel(theta).items():
            np.testing.assert_array_equal(value, params[key])
    assert flat_state.step == state.step == 8


def test_layout_ravel_unravel_expand():
    params = _named()
    layout = optim.Layout(params)
    assert layout.size == 6 + 3 + 3 + 3 + 6 and layout.names == list(params)
    theta = layout.ravel(params)
    views = layout.unravel(theta)
    for key, value in params.items():
        np.testing.assert_array_equal(views[key], value)
        assert np.shares_memory(views[key], theta) and not np.shares_memory(value, theta)
    assert layout.ravel(views) is theta                      # the views' own vector: no copy
    changed = dict(views, **{"0.bias": np.zeros(3)})
    again = layout.ravel(layout.unravel(theta) | {"0.bias": np.zeros(3)})
    assert again is not theta and np.all(again[6:9] == 0) and layout.ravel(changed)[6:9].sum() == 0
    np.testing.assert_array_equal(layout.expand({key: i for i, key in enumerate(params)}),
                                  np.repeat([0, 1, 2, 3, 4], [6, 3, 3, 3, 6]))
    with pytest.raises(ValueError, match="keys"):
        layout.ravel({"0.weight": params["0.weight"]})
    assert copy.deepcopy(views).__class__ is dict


def test_dict_steps_reuse_the_flat_vector_and_copy_nothing_they_are_given():
    opt = optim.adam(0.1)
    params = _named()
    grads = {key: np.ones_like(value) for key, value in params.items()}
    new, state = opt.step(params, grads, opt.init(params))
    saved = copy.deepcopy((new, state))
    newer, _ = opt.step(new, grads, state)
    for key in params:  # the input views are untouched, the output is new memory
        np.testing.assert_array_equal(new[key], saved[0][key])
        np.testing.assert_array_equal(state.m[key], saved[1].m[key])
        assert not np.shares_memory(newer[key], new[key])


@pytest.mark.parametrize("make", ALL_FACTORIES)
def test_float32_parameters_stay_float32(make):
    opt = make()
    params = {key: value.astype(np.float32) for key, value in _params().items()}
    grads = {key: np.cos(value) for key, value in params.items()}
    state = opt.init(params)
    for _ in range(3):
        params, state = opt.step(params, grads, state)
    assert all(value.dtype == np.float32 for value in params.values())
    updates, _ = opt.update(grads, state, params)
    assert all(value.dtype == np.float32 for value in updates.values())


@pytest.mark.parametrize("call, error, match", [
    (lambda: optim.adam(mask="weights"), TypeError, "mask must be a callable"),
    (lambda: optim.adam(mask={"0.weight": 1}), TypeError, r"mask\['0.weight'\] must be True or False"),
    (lambda: optim.sgd(0.1, groups={"params": ["a"]}), TypeError, "groups must be a list of dicts"),
    (lambda: optim.sgd(0.1, groups=[{"lr": 0.1}]), TypeError, r"groups\[0\] must be a dict with a 'params' entry"),
    (lambda: optim.sgd(0.1, groups=[{"params": ["a"], "momentum": 0.9}]), ValueError, r"groups\[0\] may set"),
    (lambda: optim.sgd(0.1, groups=[{"params": ["a"], "lr": -1.0}]), ValueError, r"groups\[0\]\['lr'\] must be in"),
    (lambda: optim.sgd(0.1, groups=[{"params": ["a"], "weight_decay": -1.0}]), ValueError,
     r"groups\[0\]\['weight_decay'\]"),
    (lambda: optim.momentum_scaled(0.1).__class__("x", {"lr": 0.1}, optim.VelocityState, None, None,
                                                  groups=[{"params": ["a"], "weight_decay": 0.1}]),
     ValueError, "no weight decay"),
    (lambda: optim.with_weight_decay("adam", 0.1), TypeError, "optimizer must be a course_lib.optim Optimizer"),
    (lambda: optim.clip_grad_norm(np.ones(3), -1.0), ValueError, "max_norm"),
])
def test_bad_masks_and_groups_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_masks_and_groups_are_checked_against_the_parameters():
    params = _named()
    grads = {key: np.ones_like(value) for key, value in params.items()}
    cases = [
        (optim.adam(mask=optim.weights_only), np.zeros(3), TypeError, "mask selects parameters by name"),
        (optim.adam(groups=[{"params": ["0.weight"], "lr": 0.1}]), np.zeros(3), TypeError, "groups select parameters"),
        (optim.adam(mask={"0.weight": True}), params, ValueError, "mask has no entry for parameter '0.bias'"),
        (optim.adam(mask=dict.fromkeys([*params, "9.weight"], True)), params, ValueError, r"mask names \['9.weight'\]"),
        (optim.adam(groups=[{"params": ["9.weight"]}]), params, ValueError, r"groups\[0\]\['params'\] names \['9.weight'\]"),
        (optim.adam(groups=[{"params": ["0.weight"]}, {"params": optim.weights_only}]), params, ValueError,
         r"'0.weight' is in groups \[0, 1\]"),
    ]
    for opt, p, error, match in cases:
        g = np.ones(3) if isinstance(p, np.ndarray) else grads
        with pytest.raises(error, match=match):
            opt.step(p, g, opt.init(p))
