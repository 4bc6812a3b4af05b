"""course_lib.train: accuracy on the digits, determinism, the flat-vector optimizer step, torch parity,
early stopping, regularizers, progress output."""
import copy

import numpy as np
import pytest
import torch

from course_lib import augment, data, nn, optim, plotting
from course_lib.regularization import L2, EarlyStopping
from course_lib.train import History, evaluate, train


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
