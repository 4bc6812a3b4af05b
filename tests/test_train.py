"""course_lib.train: accuracy on the digits, determinism, the flat-vector optimizer step, torch parity,
early stopping, regularizers, progress output."""
import copy

import numpy as np
import pytest
import torch

from course_lib import augment, data, nn, optim, plotting, schedules
from course_lib.regularization import L2, EarlyStopping
from course_lib.train import History, LayerStats, WeightEMA, evaluate, train


@pytest.fixture(scope="module")
def digits():
    split = data.load_digits()
    x_train, mean, std = data.standardize(split.x_train)
    return data.Split(x_train, split.y_train, data.standardize(split.x_val, mean, std)[0], split.y_val,
                      data.standardize(split.x_test, mean, std)[0], split.y_test)


def test_digits_network_reaches_95_percent_test_accuracy(digits):
    model = nn.mlp([64, 128, 128, 10], rng=0, batchnorm=True, dropout=0.2)
    history = train(model, optim.adam(lr=3e-3), digits, epochs=30, batch_size=64, rng=0)
    test_loss, test_acc = evaluate(model, digits.x_test, digits.y_test)
    assert test_acc >= 0.95
    assert history.epochs == 30 and len(history.val_acc) == 30
    assert history.train_loss[-1] < history.train_loss[0] and history.val_loss[-1] < history.val_loss[0]
    assert history.steps == 30 * 17  # 1079 examples in batches of 64


def test_training_is_reproducible(digits):
    runs = []
    for _ in range(2):
        model = nn.mlp([64, 32, 10], rng=5, batchnorm=True, dropout=0.3)
        history = train(model, optim.adam(lr=1e-3), digits, epochs=2, batch_size=32, rng=9,
                        augment=lambda x, rng: augment.random_augment(x, rng), weight_noise=0.01)
        runs.append((history, model.state_dict()))
    assert runs[0][0] == runs[1][0]
    for key in runs[0][1]:
        np.testing.assert_array_equal(runs[0][1][key], runs[1][1][key])


def test_flat_optimizer_step_equals_the_per_parameter_loop(digits):
    """train() hands the optimizer one vector; the result equals stepping the dict of arrays."""
    x, y = digits.x_train[:200], digits.y_train[:200]
    model = nn.mlp([64, 16, 10], rng=1, batchnorm=True)
    manual = copy.deepcopy(model)
    train(model, optim.adam(lr=1e-2, weight_decay=1e-3), (x, y), epochs=2, batch_size=50, rng=4,
          regularizers=[L2(1e-2)])
    opt, loss = optim.adam(lr=1e-2, weight_decay=1e-3), nn.CrossEntropyLoss()
    state = opt.init(manual.params)
    rng = np.random.default_rng(4)
    for _ in range(2):
        order = rng.permutation(len(x))
        for start in range(0, len(x), 50):
            idx = order[start:start + 50]
            loss.forward(manual.forward(x[idx], "train"), y[idx])
            manual.backward(loss.backward())
            penalty = L2(1e-2).penalty(manual.params)[1]
            grads = {k: g + penalty[k] for k, g in manual.grads.items()}
            manual.params, state = opt.step(manual.params, grads, state)
    for key, value in manual.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[key], value, rtol=1e-12, atol=1e-14)


def test_one_epoch_matches_torch(digits):
    """Same network, same initial weights, same batches, Adam: parameters agree after an epoch (float64)."""
    from test_nn_torch import TORCH_NAMES, torch_copy  # tests/ is on sys.path, as for site_fixtures

    x, y = digits.x_train, digits.y_train
    model = nn.mlp([64, 32, 32, 10], rng=2, batchnorm=True)
    reference = torch_copy(model).train()
    train(model, optim.adam(lr=1e-3), (x, y), epochs=1, batch_size=64, rng=3)
    opt = torch.optim.Adam(reference.parameters(), lr=1e-3)
    order = np.random.default_rng(3).permutation(len(x))
    xt, yt = torch.tensor(x), torch.tensor(y)
    for start in range(0, len(x), 64):
        idx = torch.from_numpy(order[start:start + 64])
        if len(idx) < 2:
            continue
        opt.zero_grad()
        torch.nn.functional.cross_entropy(reference(xt[idx]), yt[idx]).backward()
        opt.step()
    theirs = dict(reference.named_parameters())
    for key, value in model.params.items():
        index, name = key.split(".")
        np.testing.assert_allclose(value, theirs[f"{index}.{TORCH_NAMES[name]}"].detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(model.buffers["1.running_var"], reference[1].running_var.numpy(), rtol=1e-10)


def test_early_stopping_restores_the_best_epoch(digits):
    # a small training set and a large network overfit quickly
    x, y = digits.x_train[:150], digits.y_train[:150]
    model = nn.mlp([64, 256, 10], rng=0)
    stopper = EarlyStopping(patience=3)
    history = train(model, optim.adam(lr=1e-2), (x, y, digits.x_val, digits.y_val), epochs=200, batch_size=32,
                    rng=0, early_stopping=stopper)
    assert history.stopped_early
    best = int(np.argmin(history.val_loss)) + 1  # first minimum, epochs counted from 1
    assert history.best_epoch == best
    assert history.epochs == best + 3  # patience evaluations without improvement
    steps_per_epoch = 150 // 32 + 1
    assert history.best_step == best * steps_per_epoch
    # the model holds the best parameters again
    assert evaluate(model, digits.x_val, digits.y_val)[0] == pytest.approx(history.val_loss[best - 1], rel=1e-12)


def test_early_stopping_every_n_steps(digits):
    x, y = digits.x_train[:150], digits.y_train[:150]
    model = nn.mlp([64, 256, 10], rng=0)
    history = train(model, optim.adam(lr=1e-2), (x, y, digits.x_val, digits.y_val), epochs=200, batch_size=32,
                    rng=0, early_stopping=EarlyStopping(patience=4, every=3))
    assert history.stopped_early and history.best_step % 3 == 0 and history.steps < 200 * 5


def test_learning_rate_schedule_counts_optimizer_steps(digits):
    """lr may be a schedule of the step count: with lr = 0 from step 5 on, only 5 steps move the weights."""
    x, y = digits.x_train[:320], digits.y_train[:320]
    model = nn.mlp([64, 16, 10], rng=0)
    history = train(model, optim.sgd(lr=lambda t: 0.1 if t < 5 else 0.0), (x, y), epochs=2, batch_size=32)
    assert history.steps == 20 and len(history.batch_loss) == 20
    frozen = nn.mlp([64, 16, 10], rng=0)  # the same run stopped after one epoch (same seed, same batches)
    train(frozen, optim.sgd(lr=lambda t: 0.1 if t < 5 else 0.0), (x, y), epochs=1, batch_size=32)
    for key, value in frozen.params.items():
        np.testing.assert_array_equal(model.params[key], value)  # epoch 2 changed nothing
    assert not np.allclose(frozen.params["0.weight"], nn.mlp([64, 16, 10], rng=0).params["0.weight"])


def test_penalty_is_recorded_and_shrinks_weights(digits):
    x, y = digits.x_train[:300], digits.y_train[:300]
    norms = []
    for lam in (0.0, 0.1):
        model = nn.mlp([64, 32, 10], rng=0)
        history = train(model, optim.sgd(lr=0.1), (x, y), epochs=5, batch_size=50, regularizers=[L2(lam)])
        norms.append(np.linalg.norm(model.params["0.weight"]))
        assert (history.penalty[-1] > 0) == (lam > 0)
    assert norms[1] < norms[0]


def test_text_progress_has_no_timings(digits, capsys):
    model = nn.mlp([64, 8, 10], rng=0)
    train(model, optim.adam(), digits, epochs=2, batch_size=128, hooks=[plotting.Progress("text")])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2  train loss") and "val acc" in lines[1]
    assert "s/it" not in lines[1] and " ms" not in lines[1]


def test_widget_progress_is_an_ipywidgets_bar():
    bar = plotting.Progress("widget")
    bar.update(2, 3, "train loss 0.1")
    assert bar.bar.value == 2 and bar.bar.max == 3 and bar.label.value.startswith("2/3")
    with pytest.raises(ValueError, match="kind"):
        plotting.Progress("bar")


def test_bad_arguments(digits):
    model = nn.mlp([64, 8, 10], rng=0)
    with pytest.raises(ValueError, match="validation data"):
        train(model, optim.adam(), (digits.x_train, digits.y_train), 1, 32, early_stopping=EarlyStopping(2))
    with pytest.raises(ValueError, match="batch_size"):
        train(model, optim.adam(), digits, 1, 0)
    with pytest.raises(TypeError, match="data"):
        train(model, optim.adam(), "digits", 1, 32)
    with pytest.raises(TypeError, match="optimizer must be a course_lib.optim optimizer"):
        train(model, None, digits, 1, 32)
    with pytest.raises(TypeError, match=r"hooks\[0\] must have an on_step"):
        train(model, optim.adam(), digits, 1, 32, hooks=[object()])
    with pytest.raises(ValueError, match="dtype"):
        train(model, optim.adam(), digits, 1, 32, dtype="int8")
    with pytest.raises(ValueError, match="clip_grad_norm"):
        train(model, optim.adam(), digits, 1, 32, clip_grad_norm=0.0)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        train(model, optim.adam(), digits, 1, 32, rng="a")
    nan_x = digits.x_train.copy()
    nan_x[3, 5] = np.nan
    with pytest.raises(ValueError, match=r"x_train must contain only finite numbers: rows \[3\]"):
        train(model, optim.adam(), (nan_x, digits.y_train), 1, 32)
    assert isinstance(train(model, optim.adam(), digits, 0, 32), History)
    with pytest.raises(ValueError, match="batch norm"):
        train(nn.mlp([64, 8, 10], rng=0, batchnorm=True), optim.adam(), digits, 1, 1)


def test_batch_size_one_is_plain_sgd_without_batch_norm(digits):
    x, y = digits.x_train[:20], digits.y_train[:20]
    history = train(nn.mlp([64, 8, 10], rng=0), optim.sgd(lr=0.01), (x, y), epochs=1, batch_size=1)
    assert history.steps == 20
    # with batch norm, the single example left over at the end of an epoch is skipped
    history = train(nn.mlp([64, 8, 10], rng=0, batchnorm=True), optim.sgd(lr=0.01), (x[:19], y[:19]),
                    epochs=1, batch_size=6)
    assert history.steps == 3


# ------------------------------------------------------------------ state that carries on

def _continued_runs(digits, calls, epochs_per_call):
    """A run of calls x epochs_per_call epochs, each call continuing the previous one's state."""
    x, y = digits.x_train[:400], digits.y_train[:400]
    model = nn.mlp([64, 32, 32, 10], rng=3, batchnorm=True, dropout=0.2)
    opt = optim.adam(lr=schedules.warmup(schedules.cosine(3e-3, total_steps=70), warmup_steps=10),
                     weight_decay=1e-3, mask=optim.weights_only, groups=[{"params": ["8.weight"], "lr": 1e-3}])
    steps, state, batch_loss = [], None, []
    hook = type("Steps", (), {"on_step": lambda self, info: steps.append((info.step, info.epoch))})()
    for call in range(calls):
        history = train(model, opt, (x, y, digits.x_val, digits.y_val), epochs=epochs_per_call, batch_size=64,
                        state=state, rng=None if state else 11, hooks=[hook],
                        augment=lambda xb, rng: augment.random_augment(xb, rng), weight_noise=0.01)
        state = history.state
        batch_loss += history.batch_loss
    return model, state, batch_loss, steps


def test_two_calls_of_five_epochs_are_one_call_of_ten(digits):
    """Same Adam moments, the schedule at the right step, the batch order and augmentation going on."""
    one = _continued_runs(digits, 1, 10)
    two = _continued_runs(digits, 2, 5)
    for key, value in one[0].state_dict().items():
        np.testing.assert_array_equal(two[0].state_dict()[key], value)
    assert one[2] == two[2] and one[3] == two[3]
    assert one[3][-1] == (70, 10) and two[1].epoch == 10 and two[1].optimizer.step == 70
    for field in ("m", "v"):
        for key, value in getattr(one[1].optimizer, field).items():
            np.testing.assert_array_equal(getattr(two[1].optimizer, field)[key], value)
    # restarting the optimizer instead (what train did before it returned its state) gives another run
    restarted = _continued_runs(digits, 1, 5)[0]
    train(restarted, optim.adam(lr=1e-3), (digits.x_train[:400], digits.y_train[:400]), 5, 64, rng=12)
    assert not np.allclose(restarted.params["0.weight"], one[0].params["0.weight"])


def test_the_state_is_the_optimizer_s_own_and_is_not_modified(digits):
    x, y = digits.x_train[:200], digits.y_train[:200]
    model = nn.mlp([64, 16, 10], rng=0)
    opt = optim.adam(lr=1e-2)
    history = train(model, opt, (x, y), 2, 50)
    state = history.state
    assert isinstance(state.optimizer, optim.AdamState) and state.optimizer.step == 8 and state.epoch == 2
    assert set(state.optimizer.m) == set(model.params)
    saved = copy.deepcopy(state)
    snapshot = model.state_dict()
    first = train(model, opt, (x, y), 1, 50, state=state)
    model.load_state_dict(snapshot)
    second = train(model, opt, (x, y), 1, 50, state=state)  # the same state twice: the same epoch
    assert first.batch_loss == second.batch_loss
    np.testing.assert_array_equal(state.optimizer.m["0.weight"], saved.optimizer.m["0.weight"])
    assert state.rng.bit_generator.state == saved.rng.bit_generator.state
    # a manual step continues from train's state too: it is opt.init(model.params)'s kind
    params, new_state = opt.step(model.params, model.grads, second.state.optimizer)
    assert new_state.step == 13
    with pytest.raises(ValueError, match="rng or state"):
        train(model, opt, (x, y), 1, 50, state=state, rng=1)
    with pytest.raises(TypeError, match="TrainState"):
        train(model, opt, (x, y), 1, 50, state=state.optimizer)
    with pytest.raises(TypeError, match="SGDState"):
        train(model, optim.sgd(0.1), (x, y), 1, 50, state=state)


def test_source_004_continue_training_keeps_the_optimizer_going(digits):
    """Goodfellow Alg. 7.3 with regularization.continue_until: each round of n steps continues the
    run (moments, schedule, batch order), so rounds of one epoch equal one longer call."""
    from course_lib.regularization import continue_until

    x, y = digits.x_train[:256], digits.y_train[:256]

    def fresh():
        return nn.mlp([64, 16, 10], rng=4), optim.adam(lr=schedules.step_decay(1e-2, step_size=8, gamma=0.5))

    model, opt = fresh()
    history = train(model, opt, (x, y), 2, 64, rng=5)
    box = {"state": history.state}

    def train_steps_all(theta, n):
        model.load_state_dict(theta)
        box["state"] = train(model, opt, (x, y), n // 4, 64, state=box["state"]).state
        return model.state_dict()

    rounds = iter([1.0, 1.0, 1.0, 0.0])  # the monitored loss: above the target three times
    theta, steps = continue_until(train_steps_all, lambda theta: next(rounds), model.state_dict(), 0.5,
                                  n=4, max_steps=100)
    assert steps == 12 and box["state"].optimizer.step == 8 + 12
    straight, opt2 = fresh()
    train(straight, opt2, (x, y), 5, 64, rng=5)
    for key, value in straight.state_dict().items():
        np.testing.assert_array_equal(theta[key], value)


# ------------------------------------------------------------------ hooks, clipping, max-norm, EMA, dtype

def test_hooks_see_every_step_and_epoch(digits):
    x, y = digits.x_train[:300], digits.y_train[:300]
    seen, epochs = [], []

    class Recorder:
        def on_step(self, info):
            seen.append(info)
            for key, value in info.updates.items():
                np.testing.assert_allclose(info.params[key] - value, previous[key], rtol=0, atol=1e-15)
            previous.update({key: value.copy() for key, value in info.params.items()})

        def on_epoch(self, info):
            epochs.append((info.epoch, info.epochs, info.step, info.history.epochs))

    model = nn.mlp([64, 16, 10], rng=0)
    previous = {key: value.copy() for key, value in model.params.items()}
    history = train(model, optim.sgd(0.1, momentum=0.9), (x, y, digits.x_val, digits.y_val), 3, 100,
                    hooks=[Recorder()])
    assert [info.step for info in seen] == list(range(1, 10)) and [info.epoch for info in seen] == [1] * 3 + [2] * 3 + [3] * 3
    assert epochs == [(1, 3, 3, 1), (2, 3, 6, 2), (3, 3, 9, 3)]
    assert [info.batch_loss for info in seen] == history.batch_loss
    np.testing.assert_array_equal(seen[-1].params["0.weight"], model.params["0.weight"])


def test_gradient_clipping_matches_torch(digits):
    """One epoch with clip_grad_norm against torch's loop with clip_grad_norm_ (float64, same batches)."""
    from test_nn_torch import TORCH_NAMES, torch_copy

    x, y = digits.x_train[:512], digits.y_train[:512]
    model = nn.mlp([64, 32, 10], rng=2, batchnorm=True)
    reference = torch_copy(model).train()
    norms = []
    train(model, optim.sgd(0.5, momentum=0.9), (x, y), 1, 64, rng=3, clip_grad_norm=0.3,
          hooks=[type("N", (), {"on_step": lambda self, info: norms.append(
              np.sqrt(sum(np.sum(g**2) for g in info.grads.values())))})()])
    opt = torch.optim.SGD(reference.parameters(), lr=0.5, momentum=0.9)
    order = np.random.default_rng(3).permutation(len(x))
    xt, yt = torch.tensor(x), torch.tensor(y)
    clipped = 0
    for start in range(0, len(x), 64):
        idx = torch.from_numpy(order[start:start + 64])
        opt.zero_grad()
        torch.nn.functional.cross_entropy(reference(xt[idx]), yt[idx]).backward()
        clipped += float(torch.nn.utils.clip_grad_norm_(reference.parameters(), 0.3)) > 0.3
        opt.step()
    assert clipped >= 4 and max(norms) <= 0.3 + 1e-9  # clipping did act
    theirs = dict(reference.named_parameters())
    for key, value in model.params.items():
        index, name = key.split(".")
        np.testing.assert_allclose(value, theirs[f"{index}.{TORCH_NAMES[name]}"].detach().numpy(), rtol=0, atol=1e-10)


def test_max_norm_keeps_every_unit_s_incoming_weights_in_the_ball(digits):
    x, y = digits.x_train[:300], digits.y_train[:300]
    model = nn.mlp([64, 32, 10], rng=0)
    free = nn.mlp([64, 32, 10], rng=0)
    train(model, optim.sgd(0.5), (x, y), 3, 32, max_norm=1.0)
    train(free, optim.sgd(0.5), (x, y), 3, 32)
    for key in ("0.weight", "2.weight"):
        assert np.max(np.linalg.norm(model.params[key], axis=1)) <= 1.0 + 1e-12
        assert np.max(np.linalg.norm(free.params[key], axis=1)) > 1.0  # without the constraint they grow past it


@pytest.mark.parametrize("bias_correction", [True, False])
def test_weight_ema_is_the_ewma_of_the_weights(digits, bias_correction):
    from course_lib import ewma

    x, y = digits.x_train[:320], digits.y_train[:320]
    thetas = []
    ema = WeightEMA(0.8, bias_correction=bias_correction)
    recorder = type("R", (), {"on_step": lambda self, info: thetas.append(info.theta)})()
    model = nn.mlp([64, 16, 10], rng=0)
    train(model, optim.adam(1e-2), (x, y), 2, 64, hooks=[ema, recorder])
    series = np.array(thetas)
    if bias_correction:
        expected = ewma.ewma(series, 0.8, bias_correction=True)[-1]
    else:  # started at the first weights: S_t = 0.8^(t-1) theta_1 + sum of (0.2) 0.8^k theta_{t-k}
        expected = 0.8 ** (len(series) - 1) * series[0] + ewma.ewma(series[1:], 0.8)[-1]
    np.testing.assert_allclose(optim.Layout(model.params).ravel(ema.params), expected, rtol=1e-12)
    assert ema.steps == 10
    with pytest.raises(RuntimeError, match="no step"):
        WeightEMA().params


def test_layer_stats_records_norms_and_update_ratios(digits):
    x, y = digits.x_train[:256], digits.y_train[:256]
    stats = LayerStats(every=2, buffers=True)
    model = nn.mlp([64, 16, 10], rng=0, batchnorm=True)
    before = model.params["0.weight"].copy()
    train(model, optim.sgd(0.1), (x, y), 1, 64, hooks=[stats])
    ratio = stats.series("0.weight", "update_ratio")
    assert len(ratio) == 2  # steps 2 and 4
    np.testing.assert_allclose(ratio, stats.series("0.weight", "update_norm") / stats.series("0.weight", "weight_norm"))
    assert stats.rows[0]["step"] == 2 and stats.series("1.running_mean", "mean").shape == (2,)
    assert np.linalg.norm(model.params["0.weight"]) == pytest.approx(stats.series("0.weight", "weight_norm")[-1])
    assert not np.allclose(model.params["0.weight"], before)
    with pytest.raises(ValueError, match="no recorded"):
        stats.series("9.weight", "grad_norm")


def test_evaluate_has_no_side_effects(digits):
    x, y = digits.x_train[:64], digits.y_train[:64]
    model = nn.mlp([64, 16, 10], rng=0, batchnorm=True, dropout=0.3)
    twin = copy.deepcopy(model)
    for m, evaluate_between in [(model, True), (twin, False)]:
        loss = nn.CrossEntropyLoss()
        loss.forward(m.forward(x, "train"), y)
        if evaluate_between:
            evaluate(m, digits.x_val, digits.y_val, loss)
        m.backward(loss.backward())
    for key, value in model.grads.items():
        np.testing.assert_array_equal(value, twin.grads[key])
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, twin.state_dict()[key])


def test_float32_training_reaches_the_float64_accuracy(digits):
    runs = {}
    for dtype in ("float64", "float32"):
        model = nn.mlp([64, 128, 128, 10], rng=0, batchnorm=True, dropout=0.2)
        history = train(model, optim.adam(lr=3e-3), digits, epochs=8, batch_size=64, dtype=dtype)
        runs[dtype] = (model, history)
    model32, history32 = runs["float32"]
    assert all(value.dtype == np.float32 for value in model32.params.values())
    assert history32.state.optimizer.m["0.weight"].dtype == np.float32
    assert history32.val_acc[-1] >= runs["float64"][1].val_acc[-1] - 0.02 and history32.val_acc[-1] > 0.9
    # the same run, to float32's precision at first
    assert history32.batch_loss[0] == pytest.approx(runs["float64"][1].batch_loss[0], rel=1e-5)


def test_layer_stats_can_record_activations_and_their_gradients(digits):
    """activations=True: train records each batch's forward pass; the statistics are those of the
    recorded outputs and dL/d output, which we recompute here from the same batch."""
    x, y = digits.x_train[:128], digits.y_train[:128]
    stats = LayerStats(activations=True)
    kept = []
    keeper = type("K", (), {"record": True, "on_step": lambda self, info: kept.append(info.records)})()
    model = nn.mlp([64, 16, 10], rng=0, batchnorm=True)
    train(model, optim.sgd(0.1), (x, y), 1, 64, hooks=[stats, keeper])
    names = ["0.Linear", "1.BatchNorm1d", "2.ReLU", "3.Linear"]
    assert [row["name"] for row in stats.rows if row["step"] == 1][-4:] == names
    relu = kept[-1][2]
    assert stats.series("2.ReLU", "std")[-1] == pytest.approx(float(np.std(relu["output"])))
    assert stats.series("2.ReLU", "grad_std")[-1] == pytest.approx(float(np.std(relu["grad_output"])))
    assert np.all(relu["output"] >= 0) and stats.series("1.BatchNorm1d", "mean")[0] == pytest.approx(0.0, abs=1e-12)
    plain = LayerStats()
    train(nn.mlp([64, 16, 10], rng=0), optim.sgd(0.1), (x, y), 1, 64, hooks=[plain])
    assert not any("Linear" in row["name"] for row in plain.rows)
