"""course_lib.batchnorm_tools: source 002's component backward, ghost and noisy batch norm, calibration."""
import copy

import numpy as np
import pytest

from course_lib import batchnorm_tools as bt
from course_lib import gradcheck, layers, nn


def batch(n=12, d=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)) * np.array([1.0, 5.0, 0.02, 1e-3])[:d] + 1.5, rng.standard_normal((n, d))


@pytest.mark.parametrize("eps_mode", ["inside", "std"])
def test_components_backward_is_the_gradient_of_its_forward(eps_mode):
    x, g = batch()
    gamma, beta = np.array([1.0, -2.0, 0.5, 3.0]), np.zeros(4)

    def loss(z):
        return np.sum(g * layers.batchnorm_forward(z, gamma, beta, np.zeros(4), np.ones(4), eps_mode=eps_mode)[0])

    dx, dgamma, dbeta = bt.batchnorm_backward_components(g, x, gamma, eps_mode=eps_mode)
    assert gradcheck.relative_error(dx, gradcheck.numerical_gradient(loss, x)) < 1e-7
    cache = layers.batchnorm_forward(x, gamma, beta, np.zeros(4), np.ones(4), eps_mode=eps_mode)[3]
    for mine, theirs in zip((dx, dgamma, dbeta), layers.batchnorm_backward(g, cache)):
        assert np.allclose(mine, theirs, rtol=1e-9, atol=1e-12)


def test_components_backward_without_the_epsilon_correction_is_wrong():
    """Source 002's final formula uses sigma where its forward pass has sigma + eps (err-002-bn-eps-backward):
    with eps = 1e-3 and a unit of spread 1e-3 that is visibly not the gradient."""
    x, g = batch()
    gamma = np.ones(4)
    right = bt.batchnorm_backward_components(g, x, gamma, eps=1e-3, eps_mode="std")[0]
    sigma = x.std(axis=0)
    n = len(x)
    source = np.stack([  # the source's dL/dZ_ij with sigma in place of sigma + eps
        (g[:, j] @ ((np.eye(n) * n - 1 - np.outer((x[:, j] - x[:, j].mean()) / sigma[j], (x[:, j] - x[:, j].mean()) / sigma[j]))
                    / (n * sigma[j]))) for j in range(4)], axis=1)
    assert np.abs(source[:, 3] - right[:, 3]).max() > 0.1 * np.abs(right[:, 3]).max()
    assert np.allclose(source[:, 1], right[:, 1], rtol=1e-3)  # a wide unit barely notices eps


def test_components_backward_rejects_bad_input():
    x, g = batch()
    with pytest.raises(ValueError, match="dout must have the shape of x"):
        bt.batchnorm_backward_components(g[:5], x, np.ones(4))
    with pytest.raises(ValueError, match="gamma must have shape"):
        bt.batchnorm_backward_components(g, x, np.ones(3))
    with pytest.raises(ValueError, match="eps_mode must be one of"):
        bt.batchnorm_backward_components(g, x, np.ones(4), eps_mode="none")
    with pytest.raises(ValueError, match="N >= 2"):
        bt.batchnorm_backward_components(g[:1], x[:1], np.ones(4))


def test_ghost_batchnorm_normalizes_each_ghost_batch_and_updates_per_chunk():
    x, _ = batch(n=10)
    ghost = bt.GhostBatchNorm1d(4, virtual_batch_size=4)
    out = ghost.forward(x, "train")
    plain = nn.BatchNorm1d(4)
    expected = [plain.forward(x[a:b], "train") for a, b in [(0, 4), (4, 8), (8, 10)]]
    assert np.allclose(out, np.concatenate(expected))
    assert np.allclose(ghost.buffers["running_mean"], plain.buffers["running_mean"])
    assert int(ghost.buffers["num_batches_tracked"]) == 3
    assert np.allclose(ghost.forward(x, "eval"), plain.forward(x, "eval"))


def test_ghost_batchnorm_last_chunk_of_one_joins_the_previous():
    x, _ = batch(n=9)
    ghost = bt.GhostBatchNorm1d(4, virtual_batch_size=4)
    ghost.forward(x, "train")
    assert int(ghost.buffers["num_batches_tracked"]) == 2


def test_ghost_batchnorm_backward_is_gradient_checked():
    x, _ = batch(n=10)
    errors = gradcheck.check_layer(bt.GhostBatchNorm1d(4, virtual_batch_size=3), x)
    assert max(errors.values()) < 1e-7, errors


def test_noisy_batchnorm_adds_noise_in_training_only_and_keeps_the_gradient():
    x, g = batch()
    noisy, plain = bt.NoisyBatchNorm1d(4, rng=0), nn.BatchNorm1d(4)
    assert np.allclose(noisy.forward(x, "eval"), plain.forward(x, "eval"))
    noise = noisy.forward(x, "train") - plain.forward(x, "train")
    assert np.all(np.abs(noise).max(axis=0) > 0.01)
    assert np.allclose(noisy.backward(g), plain.backward(g))
    assert max(gradcheck.check_layer(bt.NoisyBatchNorm1d(4, rng=1), x).values()) < 1e-7
    again = bt.NoisyBatchNorm1d(4, rng=0)
    assert np.array_equal(again.forward(x, "train"), bt.NoisyBatchNorm1d(4, rng=0).forward(x, "train"))


def test_noisy_batchnorm_noise_changes_every_step_with_the_given_ranges():
    x = np.random.default_rng(0).standard_normal((4000, 3))
    layer = bt.NoisyBatchNorm1d(3, rng=0, noise_mean=0.5, noise_std=(0.1, 0.5))
    plain = nn.BatchNorm1d(3)
    means = []
    for _ in range(3):
        noise = layer.forward(x, "train") - plain.forward(x, "train")
        assert np.all(np.abs(noise.mean(axis=0)) < 0.55) and np.all((noise.std(axis=0) > 0.08) & (noise.std(axis=0) < 0.52))
        means.append(noise.mean(axis=0))
    assert not np.allclose(means[0], means[1])


def test_noisy_batchnorm_rejects_bad_noise():
    with pytest.raises(ValueError, match="noise_std"):
        bt.NoisyBatchNorm1d(3, rng=0, noise_std=(0.5, 0.1))
    with pytest.raises(TypeError, match="noise_std must be a pair"):
        bt.NoisyBatchNorm1d(3, rng=0, noise_std=0.5)
    with pytest.raises(ValueError, match="noise_mean"):
        bt.NoisyBatchNorm1d(3, rng=0, noise_mean=-1.0)


def test_calibration_sets_the_population_statistics_layer_by_layer():
    model = nn.mlp([6, 8, 8, 3], rng=0, batchnorm=True)
    x = np.random.default_rng(1).standard_normal((50, 6)) * 3 + 1
    before = copy.deepcopy(model.state_dict())
    calibrated = bt.calibrate_batchnorm(model, x)
    # with the exact statistics of x, evaluation mode on x equals training mode on x as one batch
    # (the variance is the population one, as training mode normalizes with)
    assert np.allclose(calibrated.forward(x, "eval"), copy.deepcopy(model).forward(x, "train"), atol=1e-12)
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())
    with pytest.raises(TypeError, match="model must be"):
        bt.calibrate_batchnorm(nn.BatchNorm1d(3), x)


def test_err_004_averaging_batch_standard_deviations_underestimates():
    """Source 004 keeps 'a moving average of the mean and standard deviation of the minibatches'.
    The average of batch standard deviations is biased low (for Gaussian data and batches of 8,
    E[sigma_B] = c4(8) sqrt(7/8) sigma = 0.90 sigma); torch's running average of the unbiased batch
    variance is not, and its root is within a percent of the population sigma."""
    rng = np.random.default_rng(0)
    layer = nn.BatchNorm1d(1, momentum=None)  # cumulative average: no EWMA noise in the comparison
    stds = []
    for _ in range(4000):
        xb = rng.standard_normal((8, 1)) * 2.0 + 1.0
        layer.forward(xb, "train")
        stds.append(xb.std())
    assert np.mean(stds) / 2.0 == pytest.approx(0.9650 * np.sqrt(7 / 8), abs=0.01)  # c4(8) = 0.9650
    assert np.sqrt(layer.buffers["running_var"][0]) / 2.0 == pytest.approx(1.0, abs=0.01)


def test_fuse_sequential_removes_every_batchnorm_and_keeps_the_eval_outputs():
    from course_lib.experiments import batchnorm as be
    model = be.make_net([16, 16], norm="batch", rng=4)
    x = np.random.default_rng(5).standard_normal((40, 64))
    for _ in range(3):
        model.forward(x, "train")                    # running statistics away from (0, 1)
    fused = bt.fuse_sequential(model)
    assert [type(layer).__name__ for layer in fused.layers] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert np.allclose(fused.forward(x, "eval"), model.forward(x, "eval"), rtol=1e-12, atol=1e-12)
    assert len(model.layers) == 7
    with pytest.raises(TypeError, match="model must be an nn.Sequential"):
        bt.fuse_sequential(model.layers[0])
