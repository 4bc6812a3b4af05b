"""course_lib.experiments.initialization: what the chapter's figures and tables show, checked
against direct computations, torch, and the claims the chapter makes."""
import math

import numpy as np
import pytest
import torch

from course_lib import data, diagnostics, init, nn, optim, train
from course_lib.experiments import initialization as ie


def test_torch_linear_default_is_what_torch_draws():
    """The chapter's claim: torch's nn.Linear draws weights and biases from U(+-1/sqrt(fan_in)),
    variance 1/(3 fan_in), which is not He's 2/fan_in."""
    n = 400
    torch.manual_seed(0)
    layer = torch.nn.Linear(n, 300)
    bound = 1 / math.sqrt(n)
    for tensor in (layer.weight, layer.bias):
        values = tensor.detach().numpy()
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.99 * bound
    assert layer.weight.var().item() * n == pytest.approx(1 / 3, rel=0.02)
    ours = init.torch_linear_default((300, n), rng=0)
    assert np.abs(ours).max() <= bound and ours.var() * n == pytest.approx(1 / 3, rel=0.02)
    assert ours.var() * n < 2.0 / 5


def test_deep_network_is_source_003s_loop():
    model = ie.deep_network(30, 3, 0.1, "tanh", rng=1)
    x = np.random.default_rng(0).standard_normal((7, 30))
    h = x
    for layer in model.layers:
        if isinstance(layer, nn.Linear):
            assert "bias" not in layer.params
            h = np.tanh(h @ layer.params["weight"].T)
    np.testing.assert_allclose(model.forward(x, "eval"), h)
    assert len(ie.deep_network(30, 3, 0.1, "linear", rng=1).layers) == 3


def test_depth_experiment_measures_what_direct_numpy_measures():
    runs = ie.depth_experiment(activations=("tanh",), scales={"1.0": ie.SCALES["1.0"]}, n=200, width=100,
                               depth=4, rng=3)
    run = runs[("tanh", "1.0")]
    generator = np.random.default_rng(3)
    x = generator.standard_normal((200, 100)).astype(np.float32)
    seed = int(generator.integers(2**32))
    model = ie.deep_network(100, 4, 1.0, "tanh", rng=seed, dtype=np.float32)
    h, stds = x, []
    for layer in model.layers[::2]:
        h = np.tanh(h @ layer.params["weight"].T)
        stds.append(h.std())
    np.testing.assert_allclose(run.act_std, stds, rtol=1e-5)
    assert run.act_hist.shape == (4, 41) and np.allclose(run.act_hist.sum(axis=1), 1.0)
    assert run.grad_std.shape == (4,)


def test_depth_experiment_agrees_with_the_theory_and_the_chapters_claims():
    runs = ie.depth_experiment(n=200, rng=0)
    for (activation, scale), run in runs.items():
        assert np.max(np.abs(run.act_std / run.theory.act_std - 1)) < 0.25, (activation, scale)
    assert runs[("tanh", "0.01")].act_std[-1] < 1e-5                     # vanishes
    assert runs[("tanh", "1.0")].act_std.min() > 0.97                     # saturates
    assert runs[("relu", "1.0")].act_std[-1] > 1e10                       # explodes
    he = runs[("relu", "He")].act_std
    assert 0.8 < he[-1] / he[0] < 1.25                                    # kept
    lecun = runs[("relu", "LeCun/Xavier")].act_std
    assert (lecun[-1] / lecun[0]) ** (1 / 9) == pytest.approx(1 / math.sqrt(2), rel=0.05)


def test_signal_map_follows_the_critical_line():
    gains = np.array([1.0, 2.0, 3.0])
    measured, theory = ie.signal_map(gains, 20, "relu", width=200, n=100)
    np.testing.assert_allclose(theory[:, -1], (gains / 2) ** 19)
    assert measured[0, -1] < 1e-4 and measured[2, -1] > 1e2
    assert 0.2 < measured[1, -1] < 2.0
    np.testing.assert_allclose(measured[:, 0], 1.0)
    measured, theory = ie.signal_map(np.array([0.5, 3.0]), 30, "tanh", width=200, n=100)
    assert measured[0, -1] < 1e-6 and 0.1 < measured[1, -1] < 1.0   # dies / settles to a fixed point
    np.testing.assert_allclose(np.log10(measured), np.log10(theory), atol=0.5)


def test_preprocess_uses_training_statistics_only():
    split = data.load_digits(scale=False)
    for method in ie.PREPROCESSING:
        train_x, test_x = ie.preprocess(split.x_train, split.x_test, method)
        again, _ = ie.preprocess(split.x_train, split.x_train[:5], method)
        np.testing.assert_allclose(again, train_x)
        if method != "raw":
            np.testing.assert_allclose(train_x.mean(axis=0), 0.0, atol=1e-9)
            assert np.abs(test_x.mean(axis=0)).max() > 1e-3   # the test split is NOT re-centred
    white, _ = ie.preprocess(split.x_train, split.x_test, "whitened")
    np.testing.assert_allclose(np.cov(white.T, bias=True), np.eye(white.shape[1]), atol=1e-8)
    with pytest.raises(ValueError, match="method"):
        ie.preprocess(split.x_train, split.x_test, "pca")


def test_preprocessing_table_orders_the_methods_as_the_chapter_says():
    rows = ie.preprocessing_table(data.load_digits(scale=False))
    steps = {row["method"]: row["steps"] for row in rows}
    assert steps["raw"] > steps["centred"] > steps["standardized"] > steps["whitened, eps = 0"] == 1
    kappa = {row["method"]: row["kappa"] for row in rows}
    assert kappa["whitened, eps = 0"] == pytest.approx(1.0)
    test_lmax = {row["method"]: row["test_lambda_max"] for row in rows}
    assert test_lmax["whitened, eps = 0"] > test_lmax["whitened, eps = 0.1"] > 1.0


def test_preprocessing_path_runs_gradient_descent_to_the_minimum():
    x, y = ie.cloud(correlation=0.8)
    results = {m: ie.preprocessing_path(x, y, m, steps=2000) for m in ie.PREPROCESSING}
    for m, r in results.items():
        assert np.linalg.norm(r.w[-1] - r.w_star) < 1e-3 * np.linalg.norm(r.w[0] - r.w_star), m
        assert np.all(np.diff(r.losses) <= 1e-12)
    assert results["whitened"].steps_needed == 1 and results["whitened"].kappa == pytest.approx(1.0)
    assert results["raw"].kappa > results["centred"].kappa > results["standardized"].kappa
    # centring removes the mean's direction: the raw Hessian's top eigenvector points along the mean
    h = diagnostics.least_squares_hessian(x, bias=False)
    top = np.linalg.eigh(h)[1][:, -1]
    mean = x.mean(axis=0)
    assert abs(top @ mean) / np.linalg.norm(mean) > 0.9


def test_symmetry_run_keeps_equal_units_equal_and_noise_breaks_them():
    w = ie.symmetry_run(0.0, steps=100)
    assert w.shape == (101, 5, 2)
    np.testing.assert_array_equal(w, np.broadcast_to(w[:, :1], w.shape))
    assert not np.allclose(w[-1], w[0])  # it does train, as one unit
    noisy = ie.symmetry_run(0.01, steps=100)
    assert np.abs(noisy[-1] - noisy[-1, :1]).max() > 10 * np.abs(noisy[0] - noisy[0, :1]).max()


def test_symmetry_run_is_gradient_descent_with_optim_sgd_and_kept_per_seed():
    w = ie.symmetry_run(0.1, steps=30, rng=4)
    x, y = data.make_moons(100, noise=0.1)                       # the same run, step by step through the dict API
    model = nn.mlp([2, 5, 2], rng=4, activation="tanh", init=lambda shape, g: 0.5 + 0.1 * g.standard_normal(shape))
    loss, opt = nn.CrossEntropyLoss(), optim.sgd(0.5)
    state = opt.init(model.params)
    for k in range(30):
        assert np.array_equal(w[k], model.params["0.weight"])
        loss.forward(model.forward(x, "train"), y)
        model.backward(loss.backward())
        params, state = opt.step(model.params, model.grads, state)
        model.params = params
    assert np.array_equal(w[30], model.params["0.weight"])
    assert ie.symmetry_run(0.1, steps=30, rng=4) is w and not w.flags.writeable   # kept, read-only
    fresh = ie.symmetry_run(0.1, steps=30, rng=np.random.default_rng(4))          # a Generator: computed anew
    assert fresh is not w and fresh.flags.writeable
    with pytest.raises(ValueError, match="lr must be"):
        ie.symmetry_run(0.1, lr=-1.0)


def _digits():
    split = data.load_digits()
    z, mean, std = data.standardize(split.x_train)
    return data.Split(z, split.y_train, data.standardize(split.x_val, mean, std)[0], split.y_val,
                      data.standardize(split.x_test, mean, std)[0], split.y_test)


def test_deep_relu_trains_from_he_and_not_from_small_or_xavier():
    histories = ie.train_deep(_digits(), {"small": "small_normal", "Xavier": "xavier_normal",
                                          "He": "kaiming_normal"}, epochs=6)
    for name in ("small", "Xavier"):
        assert histories[name].train_loss[-1] == pytest.approx(math.log(10), abs=0.01)
    assert histories["He"].train_loss[-1] < 2.0


def test_train_deep_runs_as_alone_and_trains_a_ready_model_in_place():
    split = _digits()
    alone = train.train(nn.mlp([64] + [32] * 3 + [10], rng=0, init="kaiming_normal"), optim.sgd(0.002, momentum=0.9),
                        split, 2, 32)
    ready = nn.mlp([64] + [32] * 3 + [10], rng=1, init="orthogonal")
    before = {k: v.copy() for k, v in ready.params.items()}
    histories = ie.train_deep(split, {"He": "kaiming_normal", "Xavier": "xavier_normal", "ready": ready},
                              depth=3, width=32, epochs=2)
    assert list(histories) == ["He", "Xavier", "ready"]
    np.testing.assert_array_equal(histories["He"].train_loss, alone.train_loss)
    assert histories["Xavier"].train_loss != histories["He"].train_loss
    assert any(not np.array_equal(before[k], v) for k, v in ready.params.items())


def test_deep_linear_orthogonal_learning_time_does_not_grow_with_depth():
    times = ie.linear_learning_times(_digits(), [1, 32], epochs=8)
    assert times[("orthogonal", 32)][1] <= times[("orthogonal", 1)][1]
    assert times[("lecun_normal", 32)][1] is None or times[("lecun_normal", 32)][1] > times[("lecun_normal", 1)][1]
    model = ie.deep_linear(3, "orthogonal", width=64)
    w = model.params["1.weight"]
    np.testing.assert_allclose(w @ w.T, np.eye(64), atol=1e-12)


def test_update_ratio_run_records_the_optimizer_steps():
    from course_lib import optim
    model = nn.mlp([64, 16, 10], rng=0)
    start = model.params["0.weight"].copy()
    ratios = ie.update_ratio_run(model, _digits(), optim.sgd(0.01), steps=3)
    assert set(ratios) == {"0.weight", "2.weight"} and ratios["0.weight"].shape == (3,)
    assert not np.allclose(model.params["0.weight"], start)
    assert np.all((ratios["0.weight"] > 0) & (ratios["0.weight"] < 1))


def test_update_ratio_of_a_full_batch_sgd_step_is_lr_times_gradient_over_weight():
    from course_lib import optim
    split = _digits()
    model = nn.mlp([64, 16, 10], rng=0)
    w0 = model.params["0.weight"].copy()
    loss = nn.CrossEntropyLoss()
    loss.forward(model.forward(split.x_train, "train"), split.y_train)
    model.backward(loss.backward())
    g0 = model.grads["0.weight"].copy()
    ratios = ie.update_ratio_run(model, split, optim.sgd(0.1), steps=2, batch_size=len(split.x_train))
    assert ratios["0.weight"][0] == pytest.approx(0.1 * np.linalg.norm(g0) / np.linalg.norm(w0), rel=1e-9)
    assert ratios["0.weight"].shape == (2,)
