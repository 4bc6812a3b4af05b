"""course_lib.regularization: penalties, weight decay equivalences, noise, bagging, early stopping."""

import numpy as np
import pytest

from course_lib import gradcheck, nn, optim
from course_lib import regularization as reg


def _params(seed=0):
    rng = np.random.default_rng(seed)
    return {"0.weight": rng.standard_normal((3, 4)), "0.bias": rng.standard_normal(3),
            "1.gamma": rng.standard_normal(3), "2.weight": rng.standard_normal((2, 3))}


def test_l2_value_gradient_and_weights_only():
    params = _params()
    value, grads = reg.l2_penalty(params, 0.3)
    expected = 0.5 * 0.3 * (np.sum(params["0.weight"] ** 2) + np.sum(params["2.weight"] ** 2))
    assert value == pytest.approx(expected, rel=1e-14)
    np.testing.assert_allclose(grads["0.weight"], 0.3 * params["0.weight"])
    assert np.all(grads["0.bias"] == 0) and np.all(grads["1.gamma"] == 0)
    all_value, all_grads = reg.l2_penalty(params, 0.3, apply_to="all")
    assert all_value > value and np.all(all_grads["0.bias"] == 0.3 * params["0.bias"])
    only, _ = reg.l2_penalty(params, 0.3, apply_to=["0.bias"])
    assert only == pytest.approx(0.15 * np.sum(params["0.bias"] ** 2))


@pytest.mark.parametrize("penalty", [reg.l2_penalty, reg.l1_penalty])
def test_penalty_gradients_pass_the_gradient_check(penalty):
    params = _params()
    _, grads = penalty(params, 0.7, apply_to="all")
    for key, value in params.items():
        numeric = gradcheck.numerical_gradient(lambda v: penalty({**params, key: v}, 0.7, apply_to="all")[0], value)
        assert gradcheck.relative_error(grads[key], numeric) < 1e-8


def test_l1_value_and_sign_gradient():
    params = {"w.weight": np.array([-2.0, 0.0, 3.0])}
    value, grads = reg.l1_penalty(params, 0.5)
    assert value == 2.5
    np.testing.assert_array_equal(grads["w.weight"], [-0.5, 0.0, 0.5])


def _run(opt, params, grad_fn, steps=5):
    state = opt.init(params)
    for _ in range(steps):
        params, state = opt.step(params, grad_fn(params), state)
    return params


def _loss_grad(params):
    """Gradients of some fixed smooth loss (not the penalty): sum of sin(w) per parameter."""
    return {k: np.cos(v) for k, v in params.items()}


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_l2_penalty_under_sgd_is_weight_decay(momentum):
    lam, params = 0.05, _params()
    with_penalty = _run(optim.sgd(lr=0.1, momentum=momentum), params,
                        lambda p: {k: g + reg.l2_penalty(p, lam, apply_to="all")[1][k] for k, g in _loss_grad(p).items()})
    decayed = _run(optim.sgd(lr=0.1, momentum=momentum, weight_decay=lam), params, _loss_grad)
    for key in params:
        np.testing.assert_allclose(with_penalty[key], decayed[key], rtol=1e-14, atol=1e-15)
    # plain SGD step: w <- (1 - lr lam) w - lr g
    one = _run(optim.sgd(lr=0.1, weight_decay=lam), params, _loss_grad, steps=1)
    np.testing.assert_allclose(one["0.bias"], (1 - 0.1 * lam) * params["0.bias"] - 0.1 * np.cos(params["0.bias"]))


def test_l2_penalty_under_adam_is_adam_weight_decay_but_not_adamw():
    lam, params = 0.05, _params()
    penalized = lambda p: {k: g + reg.l2_penalty(p, lam, apply_to="all")[1][k] for k, g in _loss_grad(p).items()}  # noqa: E731
    adam_l2 = _run(optim.adam(lr=0.01), params, penalized)
    adam_wd = _run(optim.adam(lr=0.01, weight_decay=lam), params, _loss_grad)  # torch's Adam: coupled L2
    adamw = _run(optim.adamw(lr=0.01, weight_decay=lam), params, _loss_grad)
    for key in params:
        np.testing.assert_allclose(adam_l2[key], adam_wd[key], rtol=1e-13, atol=1e-15)
    difference = max(np.max(np.abs(adam_l2[k] - adamw[k])) for k in params)
    assert difference > 1e-4  # far above rounding: the two methods differ
    # AdamW's step is Adam's step on the raw gradient plus a decay by the same factor for every weight
    plain = _run(optim.adam(lr=0.01), params, _loss_grad, steps=1)
    one = _run(optim.adamw(lr=0.01, weight_decay=lam), params, _loss_grad, steps=1)
    for key in params:
        np.testing.assert_allclose(one[key], plain[key] - 0.01 * lam * params[key], rtol=1e-13, atol=1e-15)


def test_regularizer_objects_and_bad_arguments():
    params = _params()
    assert reg.L2(0.1).penalty(params)[0] == reg.l2_penalty(params, 0.1)[0]
    assert reg.L1(0.1, apply_to="all").penalty(params)[0] == reg.l1_penalty(params, 0.1, "all")[0]
    with pytest.raises(ValueError, match="lam"):
        reg.L2(-1.0)
    with pytest.raises(ValueError, match="apply_to"):
        reg.l2_penalty(params, 0.1, apply_to=["nope"])


def test_gaussian_noise_layer():
    x = np.zeros((400, 50))
    layer = reg.GaussianNoise(0.5, rng=0)
    y = layer.forward(x, "train")
    n = y.size
    assert abs(y.mean()) < 5 * 0.5 / np.sqrt(n)
    assert abs(y.var() - 0.25) < 5 * 0.25 * np.sqrt(2 / n)
    np.testing.assert_array_equal(layer.forward(x, "eval"), x)
    errors = gradcheck.check_layer(reg.GaussianNoise(0.5, rng=1), np.ones((4, 3)))
    assert errors["x"] < 1e-8


def test_input_noise_and_weight_noise():
    x = np.ones((100, 10))
    noisy = reg.gaussian_noise(x, 0.1, rng=0)
    assert noisy is not x and np.all(x == 1) and abs(np.std(noisy) - 0.1) < 0.01
    params = _params()
    perturbed = reg.perturb_weights(params, 0.01, rng=0)
    assert perturbed["0.bias"] is params["0.bias"]  # biases untouched by default
    assert 0 < np.max(np.abs(perturbed["0.weight"] - params["0.weight"])) < 0.06


def test_bootstrap_contains_about_63_percent_of_the_examples():
    n = 2000
    idx = reg.bootstrap_indices(n, rng=0)
    assert idx.shape == (n,) and idx.min() >= 0 and idx.max() < n
    expected = 1 - (1 - 1 / n) ** n  # ~ 1 - 1/e
    # the number of distinct indices has variance below n * expected * (1 - expected)
    assert abs(len(np.unique(idx)) / n - expected) < 5 * np.sqrt(expected * (1 - expected) / n)


class _Constant:
    """A "model" whose logits are fixed."""

    def __init__(self, logits):
        self.logits = logits

    def forward(self, x, mode):
        assert mode == "eval"
        return np.tile(self.logits, (len(x), 1))


def test_bagging_fits_each_model_on_its_own_bootstrap_sample():
    x, y = np.arange(50.0)[:, None], np.arange(50) % 2
    seen = []

    def fit(xb, yb, rng):
        seen.append(xb[:, 0].copy())
        assert isinstance(rng, np.random.Generator)
        return _Constant(np.array([yb.mean(), 0.0]))

    models = reg.bagging(fit, x, y, 4, rng=0)
    assert len(models) == 4 and len(seen) == 4
    assert all(len(s) == 50 for s in seen) and len({tuple(s) for s in seen}) == 4
    probs = reg.ensemble_predict(models, x[:3])
    expected = np.mean([nn.softmax(m.logits[None]) for m in models], axis=0)
    np.testing.assert_allclose(probs, np.repeat(expected, 3, axis=0))


# ---------------------------------------------------------------------------------------------
# early stopping
# ---------------------------------------------------------------------------------------------

def _scripted(errors):
    """theta counts the steps taken; the validation error after k evaluations is errors[k-1]."""
    def train_steps(theta, n):
        return theta + n

    def validation_error(theta):
        return errors[theta // 2 - 1]  # n = 2 steps per evaluation

    return train_steps, validation_error


def test_early_stopping_meta_algorithm_by_hand():
    errors = [5.0, 4.0, 4.5, 3.0, 3.0, 3.5, 2.9, 3.1, 3.2, 3.3, 3.4]
    train_steps, validation_error = _scripted(errors)
    result = reg.early_stopping(train_steps, validation_error, 0, n=2, patience=3)
    # best: evaluation 7 (error 2.9) at step i* = 14; then 3 evaluations without improvement -> stop at i = 20
    assert result.best_step == 14 and result.best_params == 14 and result.best_error == 2.9
    assert result.steps == 20
    assert result.errors == errors[:10]


def test_early_stopping_a_tie_does_not_reset_patience():
    errors = [3.0, 3.0, 3.0, 1.0]
    train_steps, validation_error = _scripted(errors)
    result = reg.early_stopping(train_steps, validation_error, 0, n=2, patience=2)
    assert result.best_step == 2 and result.steps == 6  # evaluations 2 and 3 tie: no improvement


def test_early_stopping_max_steps_and_theta0():
    train_steps, validation_error = _scripted(list(range(100, 0, -1)))
    result = reg.early_stopping(train_steps, validation_error, 0, n=2, patience=5, max_steps=10)
    assert result.steps == 10 and result.best_step == 10
    stopper = reg.EarlyStopping(patience=1)
    stopper.reset("theta0")
    assert stopper.best_params == "theta0" and stopper.best_step == 0 and not stopper.should_stop


def test_using_the_validation_data_afterwards():
    """Alg. 7.2: retrain from theta0 on all data for i* steps. Alg. 7.3: continue from theta* until
    the monitored loss is no more than the training loss at the best step."""
    def train_steps_all(theta, n):  # gradient descent on (theta - 3)^2, "all the data"
        for _ in range(n):
            theta = theta - 0.1 * 2 * (theta - 3.0)
        return theta

    retrained = reg.retrain_for(train_steps_all, 0.0, 14)
    assert retrained == pytest.approx(3.0 * (1 - 0.8**14))
    assert reg.retrain_for(train_steps_all, 0.0, 0) == 0.0

    def monitored(theta):
        return (theta - 3.0) ** 2

    theta, steps = reg.continue_until(train_steps_all, monitored, 1.0, target=0.01, n=3, max_steps=1000)
    # (theta - 3)^2 = 4 * 0.64^k after k steps: first k (a multiple of 3) with 4 * 0.64^k <= 0.01 is 15
    assert steps == 15 and monitored(theta) <= 0.01 < monitored(train_steps_all(1.0, 12))
    _, capped = reg.continue_until(train_steps_all, monitored, 1.0, target=-1.0, n=3, max_steps=9)
    assert capped == 9


def test_bad_early_stopping_arguments():
    with pytest.raises(ValueError, match="patience"):
        reg.EarlyStopping(0)
    with pytest.raises(TypeError, match=r"train_steps must be a callable train_steps\(theta, n\), got NoneType"):
        reg.early_stopping(None, None, 0, n=1, patience=1)
    with pytest.raises(TypeError, match="validation_error must be a callable"):
        reg.early_stopping(lambda theta, n: theta, None, 0, n=1, patience=1)
    with pytest.raises(TypeError, match="monitored_loss must be a callable"):
        reg.continue_until(lambda theta, n: theta, 3.0, 0.0, 1.0, n=1, max_steps=2)


def test_l1_is_its_own_class():
    assert not issubclass(reg.L1, reg.L2) and not issubclass(reg.L2, reg.L1)
    assert repr(reg.L1(0.1)) == "L1(lam=0.1, apply_to='weights')"
    with pytest.raises(ValueError, match="lam"):
        reg.L1(-1.0)


def test_select_takes_an_optimizer_mask():
    params = _params()
    assert reg.select(params, optim.weights_only) == reg.select(params, "weights") == ["0.weight", "2.weight"]
    assert reg.select(params, lambda name: name.startswith("0.")) == ["0.weight", "0.bias"]
    with pytest.raises(ValueError, match="apply_to must be 'weights', 'all'"):
        reg.select(params, "biases")
    with pytest.raises(TypeError, match="apply_to"):
        reg.select(params, 3)


def test_l2_penalty_on_the_weights_is_masked_coupled_weight_decay():
    """regularizers=[L2(lam)] (weights only) under SGD = sgd(weight_decay=lam, mask=weights_only)."""
    lam, params = 0.05, _params()
    with_penalty = _run(optim.sgd(lr=0.1, momentum=0.9), params,
                        lambda p: {k: g + reg.l2_penalty(p, lam)[1][k] for k, g in _loss_grad(p).items()})
    decayed = _run(optim.sgd(lr=0.1, momentum=0.9, weight_decay=lam, mask=optim.weights_only), params, _loss_grad)
    for key in params:
        np.testing.assert_allclose(with_penalty[key], decayed[key], rtol=1e-14, atol=1e-15)


def test_max_norm_projects_each_row_onto_the_ball():
    import torch

    rng = np.random.default_rng(4)
    params = {"0.weight": rng.standard_normal((6, 5)) * np.array([[0.1], [1], [3], [0.5], [10], [2]]),
              "0.bias": 10.0 * rng.standard_normal(6), "1.gamma": 10.0 * np.ones(6)}
    saved = {key: value.copy() for key, value in params.items()}
    out = reg.max_norm(params, 1.5)
    norms = np.linalg.norm(params["0.weight"], axis=1)
    new_norms = np.linalg.norm(out["0.weight"], axis=1)
    np.testing.assert_allclose(new_norms, np.minimum(norms, 1.5), rtol=1e-14)
    inside = norms <= 1.5
    np.testing.assert_array_equal(out["0.weight"][inside], params["0.weight"][inside])  # unchanged inside the ball
    cosine = np.sum(out["0.weight"] * params["0.weight"], axis=1) / (new_norms * norms)
    np.testing.assert_allclose(cosine, 1.0, rtol=1e-14)  # same direction
    assert out["0.bias"] is params["0.bias"] and out["1.gamma"] is params["1.gamma"]  # weights only
    for key, value in saved.items():
        np.testing.assert_array_equal(params[key], value)
    renormed = torch.renorm(torch.tensor(params["0.weight"]), p=2, dim=0, maxnorm=1.5).numpy()
    np.testing.assert_allclose(out["0.weight"], renormed, rtol=1e-6)  # torch divides by norm + 1e-7
    with pytest.raises(ValueError, match="c must be in"):
        reg.max_norm(params, 0.0)


def test_randomness_comes_by_the_rng_keyword():
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator or an integer seed"):
        reg.bagging(lambda x, y, rng: None, np.zeros((4, 1)), np.zeros(4), 2, rng="a")
    with pytest.raises(TypeError, match="fit must be a callable"):
        reg.bagging(None, np.zeros((4, 1)), np.zeros(4), 2)
    with pytest.raises(ValueError, match="models must be a non-empty list"):
        reg.ensemble_predict([], np.zeros((2, 1)))
    np.testing.assert_array_equal(reg.bootstrap_indices(10, rng=3), reg.bootstrap_indices(10, rng=np.random.default_rng(3)))


def test_gaussian_noise_layer_in_a_sequential_model():
    """Inside a network, in both modes, with the model's backward (which passes the mode on)."""
    model = nn.Sequential(nn.Linear(3, 4, rng=0), reg.GaussianNoise(0.1, rng=1), nn.ReLU(), nn.Linear(4, 2, rng=2))
    x = np.random.default_rng(3).standard_normal((5, 3))
    for mode in ("train", "eval"):
        out = model.forward(x, mode)
        assert model.backward(np.ones_like(out), mode=mode).shape == x.shape
    np.testing.assert_array_equal(model.forward(x, "eval"), model.forward(x, "eval"))
    assert not np.array_equal(model.forward(x, "train"), model.forward(x, "train"))
    with pytest.raises(ValueError, match="mode"):
        reg.GaussianNoise(0.1, rng=0).forward(x, "test")
