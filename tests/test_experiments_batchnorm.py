"""course_lib.experiments.batchnorm: the chapter's training loops and records do what they say."""
import copy

import numpy as np
import pytest

from course_lib import nn, optim, train
from course_lib.experiments import batchnorm as be


def test_fit_batches_is_train_with_the_same_batch_order():
    """The loop for batch orders train() does not make steps exactly like train() on its own order."""
    split = be.digits()
    a, b = be.make_net([16, 16], norm="batch", rng=3), be.make_net([16, 16], norm="batch", rng=3)
    be.fit_batches(a, optim.adam(1e-2), split.x_train, split.y_train, be.shuffled_batches(len(split.x_train), 64, 2, rng=5))
    train.train(b, optim.adam(1e-2), (split.x_train, split.y_train), 2, 64, rng=5)
    for key, value in a.state_dict().items():
        assert np.allclose(value, b.state_dict()[key], rtol=1e-12, atol=1e-14), key


def test_batch_orders():
    y = np.repeat(np.arange(3), [7, 5, 9])
    batches = be.class_sorted_batches(y, 4, 2, rng=0)
    assert all(len(set(y[idx])) == 1 and len(idx) >= 2 for idx in batches)
    per_epoch = len(batches) // 2
    assert sorted(np.concatenate(batches[:per_epoch]).tolist()) == list(range(21))
    parts = be.evaluation_batches(21, 2)
    assert sorted(np.concatenate(parts).tolist()) == list(range(21)) and min(map(len, parts)) == 2
    assert all(len(b) >= 2 for b in be.shuffled_batches(21, 4, 1))


def test_running_average_trace_is_what_batchnorm_stores():
    rng = np.random.default_rng(0)
    for momentum in (0.1, 0.5, None):
        layer = nn.BatchNorm1d(1, momentum=momentum)
        means, stored = [], []
        for _ in range(30):
            x = rng.standard_normal((8, 1)) + 3.0
            layer.forward(x, "train")
            means.append(x.mean())
            stored.append(layer.buffers["running_mean"][0])
        assert np.allclose(be.running_average_trace(means, momentum), stored)
        if momentum is not None:
            assert np.allclose(be.batch_statistics_from_running(np.array(stored), momentum, 0.0), means)


def test_accuracy_in_training_mode_has_no_side_effects():
    model = be.trained_batchnorm_net()
    before = copy.deepcopy(model.state_dict())
    split = be.digits()
    eval_acc = be.accuracy_in_mode(model, split.x_test, split.y_test)
    be.accuracy_in_mode(model, split.x_test, split.y_test, mode="train", batch_size=4)
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())
    assert eval_acc == train.evaluate(model, split.x_test, split.y_test)[1]


@pytest.mark.parametrize("norm", be.NORMS)
def test_make_net_builds_each_normalization(norm):
    model = be.make_net([8, 8], norm=norm, rng=0)
    out = model.forward(be.digits().x_train[:10], "train")
    assert out.shape == (10, 10)
    with pytest.raises(ValueError, match="norm must be one of"):
        be.make_net([8], norm="instance")


def test_the_chapters_claims_on_small_runs():
    """The smoothness probe separates the two networks, and class-sorted batches break batch norm."""
    runs = be.smoothness_runs(depth=4, width=32, epochs=1, every=8)
    assert np.all(runs["batch norm"].beta < runs["standard"].beta)
    sorted_run = be.class_sorted_run(epochs=1)
    assert sorted_run["class-sorted"]["eval"] < 0.3 < 0.8 < sorted_run["shuffled"]["eval"]


def test_preactivation_record_recovers_the_batch_statistics():
    record = be.preactivation_record(epochs=1)
    bn = record["batch norm"]
    assert bn.histograms.shape == bn.normalized.shape == (len(bn.batch_means), 48)
    assert np.allclose(be.running_average_trace(bn.batch_means, 0.1), bn.running_means)
    assert np.allclose(be.running_average_trace(bn.batch_vars, 0.1, initial=1.0), bn.running_vars)
    assert np.all(bn.batch_vars > 0)


def test_the_noisy_run_is_not_changed_by_its_measurement():
    """The distribution hook measures on a copy: the noisy network trains exactly as without the hook,
    and with the noise switched off the measurement shows less shift than with it."""
    runs = be.noisy_batchnorm_runs(depth=3, width=16, epochs=1)
    noisy = runs["noisy batch norm"]
    model = be.make_net([16] * 3, norm="noisy", rng=0)
    history = be.fit(model, optim.sgd(0.1), 1, 64, rng=0, validation=True)
    assert np.array_equal(np.array(history.batch_loss), noisy.batch_loss)
    assert noisy.clean_means.shape == noisy.means.shape
    assert noisy.clean_means.std(axis=0).mean() < noisy.means.std(axis=0).mean()
    plain = runs["batch norm"]
    assert np.allclose(plain.clean_means, plain.means)


def test_weight_norm_runs_decay_only_the_normalized_layers_and_start_before_step_1():
    runs = be.weight_norm_runs(weight_decays=(0.0, 0.05), epochs=1)
    start = np.linalg.norm(be.make_net([64] * 3, norm="batch", rng=0).params["0.weight"])
    assert all(run.norms[0] == start for run in runs.values())
    assert runs[0.05].norms[-1] < runs[0.0].norms[-1]
    mask = be._decay_mask(be.make_net([64] * 3, norm="batch", rng=0))
    assert [name for name, on in mask.items() if on] == ["0.weight", "3.weight", "6.weight"]


def test_batch_size_sweeps_are_the_single_sweeps():
    """One pool for every (normalization, batch size) run gives each sweep exactly, in order."""
    sizes = (4, 16)
    together = be.batch_size_sweeps(sizes, ["batch", None], steps=20)
    for norm, sweep in zip(["batch", None], together):
        alone = be.batch_size_sweep(sizes, steps=20, norm=norm)
        assert sweep.keys() == alone.keys()
        for key in alone:
            np.testing.assert_array_equal(sweep[key], alone[key])
    assert not np.array_equal(together[0]["eval"], together[1]["eval"])   # two different networks


@pytest.mark.parametrize("norms", ["batch", (), None])
def test_batch_size_sweeps_name_a_bad_norms(norms):
    with pytest.raises(TypeError, match="norms must be"):
        be.batch_size_sweeps((4,), norms, steps=2)
