"""The regularization chapter's computations: the equivalences it states, on small cases, and
torch parity for the weight-decay conventions."""
import numpy as np
import pytest
import torch

from course_lib import nn, optim, regularization, train
from course_lib import linear_regularization as theory
from course_lib.experiments import regularization as rx


@pytest.fixture(scope="module")
def digits():
    return rx.digits()


@pytest.fixture(scope="module")
def problem():
    return rx.digits_regression(n_train=120, n_components=20)


def test_corrupt_labels():
    y = np.arange(1000) % 10
    np.testing.assert_array_equal(rx.corrupt_labels(y, 0.0, rng=0), y)
    changed = np.mean(rx.corrupt_labels(y, 1.0, rng=0) != y)
    assert 0.85 < changed < 0.95          # a random label equals the true one one time in ten
    assert rx.corrupt_labels(y, 0.5, rng=1) is not y


def test_regression_problem_has_a_diagonal_hessian(problem):
    h = theory.hessian(problem.x_train)
    np.testing.assert_allclose(h, np.diag(problem.eigenvalues), atol=1e-12)
    assert np.all(np.diff(problem.eigenvalues) <= 0)


def test_trained_ridge_and_lasso_against_closed_forms(problem):
    res = rx.penalties_against_closed_forms(problem, alpha=0.5)
    np.testing.assert_allclose(res["ridge_trained"], res["ridge_closed"], atol=1e-10)
    np.testing.assert_allclose(res["ridge_direct"], res["ridge_closed"], atol=1e-12)
    assert abs(res["ridge_bias"]) < 1e-12            # centred targets: the unpenalized bias stays 0
    assert np.max(np.abs(res["lasso_trained"] - res["lasso_closed"])) < 0.02
    assert np.sum(res["lasso_closed"] == 0) > 0 and np.sum(res["ridge_closed"] == 0) == 0


def test_torch_weight_decay_is_our_half_lambda_l2_penalty():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 5)), rng.standard_normal((32, 1))
    lam, lr = 0.1, 0.05
    model = nn.Sequential(nn.Linear(5, 1, rng=0))
    w0, b0 = model.params["0.weight"].copy(), model.params["0.bias"].copy()
    train.train(model, optim.sgd(lr, momentum=0.9), (x, y), 5, 8, loss=nn.MSELoss(),
                regularizers=[regularization.L2(lam, apply_to="all")], rng=0)
    # torch, same batches: train draws the batch order from rng=0
    order_rng = np.random.default_rng(0)
    tw, tb = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    opt = torch.optim.SGD([tw, tb], lr=lr, momentum=0.9, weight_decay=lam)
    for _ in range(5):
        order = order_rng.permutation(32)
        for start in range(0, 32, 8):
            idx = order[start:start + 8]
            opt.zero_grad()
            out = torch.tensor(x[idx]) @ tw.T + tb
            torch.nn.functional.mse_loss(out, torch.tensor(y[idx])).backward()
            opt.step()
    np.testing.assert_allclose(model.params["0.weight"], tw.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.params["0.bias"], tb.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_sklearn_ridge_alpha_is_our_alpha_times_n(problem):
    # the chapter's table row "Ridge(alpha=a) = ours with a/N", against scikit-learn itself (the
    # chapter checks it against stacked least squares, without importing scikit-learn)
    from sklearn.linear_model import Ridge

    x, y, a = problem.x_train, problem.y_train, 30.0
    coef = Ridge(alpha=a, fit_intercept=False).fit(x, y).coef_
    np.testing.assert_allclose(coef, theory.ridge(x, y, a / len(x)), rtol=0, atol=1e-12)
    assert np.max(np.abs(coef - theory.ridge(x, y, a / (2 * len(x))))) > 1e-3   # the factor 2 is seen
    # the table's Ridge(alpha=a) keeps the default fit_intercept=True, which centres x and y: on this
    # problem, centred already, the same weights and an intercept of 0
    default = Ridge(alpha=a).fit(x, y)
    np.testing.assert_allclose(default.coef_, coef, rtol=0, atol=1e-12)
    assert abs(default.intercept_) < 1e-12


def test_decay_equals_penalty_under_sgd_only(digits):
    gaps = rx.decay_versus_penalty(digits, lam=1e-2, lr=0.05, epochs=1)
    assert gaps["SGD"][0] == 0.0 and gaps["SGD"][1] < 1e-12
    for name in ("SGD + momentum 0.9", "Adam"):
        assert gaps[name][0] == 0.0 and gaps[name][1] > 1e-4


def test_batchnorm_makes_the_layer_scale_invariant(digits):
    res = rx.batchnorm_scale_invariance(digits, scale=10.0)
    assert res["output_change"] < 1e-3 and res["grad_ratio"] == pytest.approx(0.1, rel=1e-3)


def test_input_noise_gap_shrinks_with_copies(problem):
    res = rx.input_noise_vs_ridge(problem, 0.5, copies=(1, 300))
    assert res["gaps"][300] < 0.05 < res["gaps"][1]


def test_early_stopping_filters_and_the_matching_alpha(problem):
    res = rx.early_stopping_vs_l2(problem, lr=0.1, taus=[1, 3, 10, 3000])
    assert res["filter_gap"] < 1e-12
    ratio = res["alpha_best"] * 0.1 * res["taus"]
    assert np.all((ratio[:3] > 0.5) & (ratio[:3] < 0.8))     # about ln 2, not 1, for small tau
    assert ratio[-1] < 0.01 and res["gap_best"][-1] < 1e-3   # converged: w_tau = w*, best alpha ~ 0
    assert np.all(res["gap_best"] <= res["gap_rule"] + 1e-12)


def test_meta_algorithm_on_a_curve():
    curve = np.array([np.inf, 5, 4, 3, 3.5, 3.2, 3.1, 3.6, 2.0, 1.0])
    r = rx.meta_algorithm_on_curve(curve, n=1, patience=3)
    assert (r.best_step, r.best_error, r.steps) == (3, 3.0, 6)
    r = rx.meta_algorithm_on_curve(curve, n=2, patience=2)     # evaluates at steps 2, 4, 6, 8
    assert (r.best_step, r.best_error, r.steps) == (8, 2.0, 8)


def test_meta_algorithm_with_continued_state_equals_trains_built_in_loop(digits):
    kwargs = dict(n_train=100, patience=2, hidden=(16,), batch_size=50, max_epochs=40)
    explicit = rx.early_stopping_runs(digits, **kwargs)["result"]
    loop = rx.train_loop_matches_meta_algorithm(digits, **kwargs)
    assert explicit.best_step == loop["best_step"]
    assert explicit.best_error == pytest.approx(loop["best_error"], rel=1e-12)


@pytest.mark.parametrize("curve_epochs", [3, 30])    # ending before the meta-algorithm's stop, and after it
def test_the_curves_continue_the_meta_algorithms_run_exactly(digits, curve_epochs):
    kwargs = dict(n_train=100, hidden=(16,), batch_size=50)
    es = rx.early_stopping_runs(digits, patience=2, max_epochs=12, curve_epochs=curve_epochs, **kwargs)
    assert es["result"].steps == 12 * es["steps_per_epoch"]           # the stop lies between 3 and 30 epochs
    alone = rx.overfitting_curves(digits, epochs=curve_epochs, **kwargs)
    for name in ("train_loss", "val_loss"):
        assert np.array_equal(es["curves"][name], alone[name]) and len(alone[name]) == curve_epochs
    with pytest.raises(ValueError, match="curve_epochs needs epochs_between=1"):
        rx.early_stopping_runs(digits, epochs_between=2, curve_epochs=5, **kwargs)


def test_final_table_continues_the_early_stopping_run_into_the_plain_one(digits):
    kwargs = dict(n_train=100, epochs=30, hidden=(16,), batch_size=50, lr=3e-2)
    table = rx.final_table(digits, seeds=(0,), **kwargs)
    assert table["early stopping (P = 5)"][1] < 30            # it stopped: the plain run was continued
    base = rx.subset(digits, 100)
    settings = dict(hidden=(16,), epochs=30, batch_size=50, lr=3e-2, rng=0)
    plain, _ = rx.fit(base._replace(x_val=None, y_val=None), **settings)
    stopped, history = rx.fit(base, early_stopping=regularization.EarlyStopping(5), **settings)
    assert table["none"][0][0] == rx.test_accuracy(plain, digits) and table["none"][1] == 30
    early_accs, early_epochs = table["early stopping (P = 5)"]
    assert early_accs[0] == rx.test_accuracy(stopped, digits) and early_epochs == history.epochs


def test_final_table_refuses_an_early_stopping_row_it_cannot_take_from_the_plain_run(digits, monkeypatch):
    configs = dict(rx.FINAL_CONFIGS, **{"early stopping (P = 5)": dict(early=True, dropout=0.5)})
    monkeypatch.setattr(rx, "FINAL_CONFIGS", configs)
    with pytest.raises(RuntimeError, match="takes the early-stopping row from the plain run"):
        rx.final_table(digits, seeds=(0,), n_train=100, epochs=2, hidden=(16,))


def test_variance_of_averages_predicts_held_out_models():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=(8, 50))          # (models, images, classes)
    y = rng.integers(0, 3, 50)
    res = rx._variance_of_averages(probs, y)
    assert res["ks"] == [1, 2, 4]                            # groups within the 4 held-out models
    err = 1.0 - probs[:, np.arange(50), y]
    # v is measured on the first half, the k = 1 error on the other half: not the same number
    assert res["v"] == pytest.approx(np.mean(err[:4] ** 2))
    assert res["measured"][0] == pytest.approx(np.mean(err[4:] ** 2)) and res["measured"][0] != res["v"]
    # v = shared part + spread over models (for all models)
    assert res["shared"] + res["spread"] == pytest.approx(np.mean(err ** 2))
    identical = rx._variance_of_averages(np.repeat(probs[:1], 8, axis=0), y)
    assert identical["c"] == pytest.approx(identical["v"]) and identical["measured"][-1] == pytest.approx(identical["v"])
    assert identical["spread"] == pytest.approx(0.0, abs=1e-15)


def test_dropout_forms_agree_in_expectation():
    res = rx.dropout_expectations(p=0.5, draws=4000)
    for gap, factor in res.values():
        assert gap < 0.05
    np.testing.assert_allclose(res["keep form (source 004)"][1], 0.5)


def test_dropout_softmax_regression_weight_scaling_is_exact(digits):
    res = rx.dropout_softmax_regression(digits, n_features=6, keep=0.8)
    assert res["geometric_vs_scaled"] < 1e-12 and res["model_vs_scaled"] < 1e-12
    assert res["arithmetic_vs_scaled"] > 1e-3


def test_six_rotated_is_nine(digits):
    res = rx.six_or_nine(digits)
    assert res[6][9] > 0.5 and res[6][6] < 0.1


def test_random_shift_rotate_keeps_the_layout():
    x = rx.digits().x_train[:5]
    out = rx.random_shift_rotate(x, np.random.default_rng(0))
    assert out.shape == x.shape and not np.allclose(out, x)


def test_augmentation_budget_is_images_rounded_to_whole_epochs(digits):
    res = rx.augmentation_vs_size(digits, sizes=(50,), steps=10, copies=4, batch_size=64)[50]
    # 10 * 64 images: 13 epochs of 50 images (one batch each), or 3 epochs of the 250 of the fixed set
    # (four batches each, the last of 58)
    assert [(run["epochs"], run["steps"]) for run in res.values()] == [(13, 13), (13, 13), (3, 12)]
    assert all(0.0 <= run[key] <= 1.0 for run in res.values() for key in ("test", "train", "transformed"))
    assert res["none"]["test"] != res["on the fly"]["test"] or res["none"]["train"] != res["on the fly"]["train"]


def test_err_004_the_last_weights_are_not_the_best(digits):
    """Source 004's Keras example stops after `patience` epochs without improvement but, with
    `restore_best_weights=False` (Keras' default), keeps the LAST weights, patience epochs past the best."""
    curves = rx.overfitting_curves(digits, n_train=300, hidden=(256, 256), epochs=40)
    result = rx.meta_algorithm_on_curve(np.r_[np.inf, curves["val_loss"]], n=1, patience=3)
    assert result.steps - result.best_step == 3
    assert curves["val_loss"][result.steps - 1] > result.best_error


def test_noise_injection_on_the_three_places(digits):
    res = rx.noise_injection(digits, std=1.0, n_train=100, epochs=10, seeds=(0,))
    assert set(res) == {"none", "inputs", "hidden units", "weights"}
    assert res["weights"][0] < res["none"][0] - 0.2       # weight noise as large as the weights ruins the fit


def test_adam_l2_shrinks_slower_than_lr_per_step_whatever_lambda():
    steps = rx.adam_l2_shrink_steps(lr=1e-2, lams=(1e-2, 1.0), start=1.0, target=1e-2)
    assert steps[1e-2] == steps[1.0]                 # lambda cancels in m / sqrt(v)
    assert steps[1.0] > 0.99 / 1e-2                  # at most lr per step, so more than |w| / lr steps


def test_golden_section_finds_smooth_and_kinked_minima():
    x, fx = rx._golden_section(lambda t: (t - 0.3) ** 2 + 1.0, -1.0, 1.0)
    assert abs(x - 0.3) < 1e-7 and abs(fx - 1.0) < 1e-15   # within sqrt(eps): f is flat to rounding there
    x, _ = rx._golden_section(lambda t: (t - 0.2) ** 2 + abs(t), -1.0, 1.0)   # soft threshold: minimum at the kink 0
    assert abs(x) < 1e-9
    x, _ = rx._golden_section(lambda t: -t, -1.0, 2.0)                          # monotone: the end of the interval
    assert abs(x - 2.0) < 1e-9
    calls = []

    def far(t):   # near 1e8 neighbouring floats are 1.5e-8 apart, more than tol: the search must still stop
        calls.append(t)
        if len(calls) > 200:
            raise RuntimeError("the search does not stop")
        return (t - 1e8 - 0.25) ** 2

    x, _ = rx._golden_section(far, 1e8 - 1.0, 1e8 + 1.0)
    assert abs(x - (1e8 + 0.25)) < 1e-7


def test_laplace_map_is_the_lasso_and_the_check_can_fail(monkeypatch):
    problem = rx.digits_regression(n_train=200)
    res = rx.laplace_map_check(problem, s2=0.5, b=0.05)
    assert res["alpha"] == pytest.approx(0.5 / (200 * 0.05))
    assert res["largest_move"] < 1e-6 and res["largest_decrease"] < 1e-12 and np.sum(res["w_lasso"] == 0) > 0
    # with the prior's scale mistaken (alpha twice too large) the search moves the weights
    wrong = rx.lr_theory.lasso_diagonal
    monkeypatch.setattr(rx.lr_theory, "lasso_diagonal", lambda w, h, alpha: wrong(w, h, 2 * alpha))
    wrong_res = rx.laplace_map_check(problem, s2=0.5, b=0.05)
    assert wrong_res["largest_move"] > 1e-3 and wrong_res["largest_decrease"] > 1e-6


def test_penalizing_the_bias_shrinks_it_and_underfits():
    problem = rx.digits_regression(n_train=200)
    res = rx.bias_penalty(problem, alphas=(1.0,))[1.0]
    b_free, train_free, _ = res["bias free"]
    b_pen, train_pen, _ = res["bias penalized"]
    assert b_free == pytest.approx(np.mean(np.sign(problem.y_train)))
    assert np.sign(problem.y_train).tolist().count(1.0) > 0          # both classes present
    assert 0 < abs(b_pen) < abs(b_free) and train_pen > train_free
    # the closed form with the bias free is the minimizer: a nearby bias gives a larger objective
    x1 = np.hstack([problem.x_train, np.ones((len(problem.x_train), 1))])
    t = np.sign(problem.y_train)
    w = rx.lr_theory.ridge(problem.x_train, t - t.mean(), 1.0)
    for db in (-0.01, 0.01):
        assert rx.mse(x1, t, np.r_[w, b_free + db]) > rx.mse(x1, t, np.r_[w, b_free])


def test_training_with_input_noise_approaches_ridge_at_sigma_squared():
    problem = rx.digits_regression(n_train=200)
    res = rx.noisy_training_vs_ridge(problem, 0.5, lr=0.05, steps=1000)
    w_star = rx.lr_theory.least_squares(problem.x_train, problem.y_train)
    unregularized_gap = np.linalg.norm(w_star - res["ridge"]) / np.linalg.norm(res["ridge"])
    assert res["gap"] < 0.2 * unregularized_gap
    # against ridge at another alpha it is further away
    other = rx.lr_theory.ridge(problem.x_train, problem.y_train, 1.0)
    assert np.linalg.norm(res["w"] - other) / np.linalg.norm(other) > 2 * res["gap"]
