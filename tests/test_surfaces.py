"""course_lib.surfaces: gradients by centred differences, the surfaces' landmarks, run()."""
import numpy as np
import pytest

from course_lib import optim, surfaces

SURFACES = {
    "quadratic": surfaces.quadratic(25.0, largest=2.0, angle=0.7, center=(0.5, -1.0)),
    "quadratic_3d": surfaces.Quadratic(np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]]), (1.0, 2.0, 3.0)),
    "rosenbrock": surfaces.rosenbrock(),
    "saddle": surfaces.saddle(2.0),
    "local_minima": surfaces.local_minima(0.25),
    "linear_slope": surfaces.linear_slope((0.3, -2.0)),
    "least_squares": surfaces.least_squares(),
    "noisy": surfaces.noisy(surfaces.rosenbrock(), 0.5),
}


def numeric_grad(f, x, h=1e-6):
    out = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        out[i] = (f(x + e) - f(x - e)) / (2 * h)
    return out


@pytest.mark.parametrize("name", sorted(SURFACES))
def test_gradient_matches_centred_differences(name):
    surface = SURFACES[name]
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.uniform(-1.5, 1.5, surface.dim)
        np.testing.assert_allclose(surface.grad(x), numeric_grad(surface.value, x), rtol=1e-6, atol=1e-7)


def test_least_squares_batch_gradient_matches_centred_differences_of_the_batch_loss():
    ls = surfaces.least_squares()
    rows = np.arange(5, 40, 3)
    w = np.random.default_rng(1).standard_normal(10)

    def batch_loss(v):
        return 0.5 * np.mean((ls.X[rows] @ v - ls.y[rows]) ** 2)

    np.testing.assert_allclose(ls.grad(w, rows), numeric_grad(batch_loss, w), rtol=1e-6, atol=1e-8)


def test_quadratic_hessian_eigenvalues_and_minimum():
    q = SURFACES["quadratic"]
    np.testing.assert_allclose(q.eigenvalues, [2.0 / 25.0, 2.0])
    assert q.condition_number == pytest.approx(25.0)
    hessian_fd = np.array([numeric_grad(lambda x: q.grad(x)[i], np.array([0.3, 0.4])) for i in range(2)])
    np.testing.assert_allclose(q.hessian, hessian_fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(q.grad(q.minimum), 0.0, atol=1e-15)
    # at angle 0 the steep direction is the x axis
    np.testing.assert_allclose(surfaces.quadratic(10.0).hessian, np.diag([1.0, 0.1]), atol=1e-15)


def test_landmarks_are_stationary_points():
    for surface in (SURFACES["rosenbrock"], SURFACES["saddle"], SURFACES["local_minima"], SURFACES["least_squares"]):
        np.testing.assert_allclose(surface.grad(surface.minimum), 0.0, atol=1e-12)
    saddle = SURFACES["saddle"]
    np.testing.assert_allclose(saddle.grad(saddle.saddle_point), 0.0)
    assert saddle.value(saddle.minimum) == pytest.approx(-0.25)
    wells = SURFACES["local_minima"]
    for point in (wells.local_minimum, wells.local_maximum):
        np.testing.assert_allclose(wells.grad(point), 0.0, atol=1e-12)
    assert wells.value(wells.global_minimum) < wells.value(wells.local_minimum) < wells.value(wells.local_maximum)


def test_gradient_descent_gets_stuck_in_the_poor_minimum_and_momentum_escapes():
    wells = SURFACES["local_minima"]
    start = np.array([2.0, 0.5])
    plain = surfaces.run(optim.sgd(0.05), wells, start, 500).params[-1]
    np.testing.assert_allclose(plain, wells.local_minimum, atol=1e-6)
    heavy = surfaces.run(optim.sgd(0.05, momentum=0.9), wells, start, 500).params[-1]
    np.testing.assert_allclose(heavy, wells.global_minimum, atol=1e-6)


def test_saddle_stops_gd_on_the_axis_and_a_tiny_offset_escapes():
    saddle = SURFACES["saddle"]
    on_axis = surfaces.run(optim.sgd(0.1), saddle, (1.0, 0.0), 300).params[-1]
    np.testing.assert_allclose(on_axis, saddle.saddle_point, atol=1e-10)
    off_axis = surfaces.run(optim.sgd(0.1), saddle, (1.0, 1e-6), 300).params[-1]
    np.testing.assert_allclose(off_axis, saddle.minimum, atol=1e-6)


def test_noisy_gradients_are_seeded_and_unbiased():
    noisy = surfaces.noisy(surfaces.quadratic(5.0), sigma=0.3)
    a = surfaces.run(optim.sgd(0.1), noisy, (1.0, 1.0), 50, rng=3).params
    b = surfaces.run(optim.sgd(0.1), noisy, (1.0, 1.0), 50, rng=3).params
    c = surfaces.run(optim.sgd(0.1), noisy, (1.0, 1.0), 50, rng=4).params
    d = surfaces.run(optim.sgd(0.1), noisy, (1.0, 1.0), 50, rng=np.random.default_rng(3)).params
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, d)  # a Generator serves as well as its seed
    assert np.max(np.abs(a - c)) > 1e-3
    exact = surfaces.run(optim.sgd(0.1), noisy, (1.0, 1.0), 50).params
    np.testing.assert_array_equal(exact, surfaces.run(optim.sgd(0.1), noisy.surface, (1.0, 1.0), 50).params)
    rng = np.random.default_rng(0)
    x = np.array([0.4, -0.2])
    draws = np.array([noisy.stochastic_grad(x, rng) for _ in range(20000)])
    # mean within 5 standard errors of the true gradient, spread sigma
    np.testing.assert_allclose(draws.mean(axis=0), noisy.grad(x), atol=5 * 0.3 / np.sqrt(20000))
    np.testing.assert_allclose(draws.std(axis=0), 0.3, rtol=0.03)


def test_least_squares_uses_the_real_diabetes_data_and_real_minibatches():
    from sklearn.datasets import load_diabetes

    ls = surfaces.least_squares(batch_size=64)
    assert ls.X.shape == (442, 10) and ls.n == 442
    raw = load_diabetes().data
    np.testing.assert_allclose(ls.X[:, 2], (raw[:, 2] - raw[:, 2].mean()) / raw[:, 2].std())
    # the minimum solves the normal equations
    np.testing.assert_allclose(ls.hessian @ ls.minimum, ls.X.T @ ls.y / 442, atol=1e-12)
    # an epoch of batches is a permutation of the rows; batch gradients average to the full gradient
    batches = ls.batches(rng=0, batch_size=34)  # 442 = 13 * 34
    epoch = [next(batches) for _ in range(13)]
    assert sorted(np.concatenate(epoch).tolist()) == list(range(442))
    w = np.linspace(-1, 1, 10)
    np.testing.assert_allclose(np.mean([ls.grad(w, b) for b in epoch], axis=0), ls.grad(w), atol=1e-12)
    second = [next(ls.batches(rng=0, batch_size=34)) for _ in range(2)]
    np.testing.assert_array_equal(second[0], second[1])  # seeded
    # SGD on mini-batches gets close to the least-squares loss
    result = surfaces.run(optim.sgd(0.05), ls, np.zeros(10), 2000, rng=0)
    assert result.losses[-1] < ls.value(ls.minimum) * 1.02
    two = surfaces.least_squares(features=(2, 8))
    assert two.dim == 2 and two.grid((-1, 1), (-1, 1), 5)[2].shape == (5, 5)


def test_least_squares_is_built_from_load_diabetes_bit_for_bit_without_importing_sklearn():
    import subprocess
    import sys

    from sklearn.datasets import load_diabetes

    d = load_diabetes()
    for features in (None, (2, 8)):
        X, y = d.data.astype(np.float64), d.target.astype(np.float64)
        X = X if features is None else X[:, list(features)]
        X, y = (X - X.mean(axis=0)) / X.std(axis=0), (y - y.mean()) / y.std()
        ls, expected = surfaces.least_squares(features=features), surfaces._LeastSquares(X, y, 32)
        for name in ("X", "y", "minimum", "hessian"):
            np.testing.assert_array_equal(getattr(ls, name), getattr(expected, name), err_msg=name)
    code = "import sys; from course_lib import surfaces; surfaces.least_squares(); print('sklearn' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_run_returns_the_trajectory_and_losses():
    q = SURFACES["quadratic"]
    result = surfaces.run(optim.sgd(0.2), q, (1.0, 2.0), 30)
    assert result.params.shape == (31, 2) and result.losses.shape == (31,)
    np.testing.assert_array_equal(result.params[0], [1.0, 2.0])
    np.testing.assert_allclose(result.losses, [q.value(x) for x in result.params], rtol=1e-14)
    x = np.array([1.0, 2.0])
    for k in range(30):  # plain gradient descent, by hand
        x = x - 0.2 * q.grad(x)
    np.testing.assert_allclose(result.params[-1], x, rtol=1e-14)
    assert surfaces.run(optim.sgd(0.2), q, (1.0, 2.0), 0).params.shape == (1, 2)


def test_run_takes_the_gradient_at_the_lookahead_point():
    q = SURFACES["quadratic"]
    opt = optim.nesterov_lookahead(0.1, 0.9)
    x, state, points = np.array([1.0, 2.0]), opt.init(np.zeros(2)), []
    for _ in range(20):
        x, state = opt.step(x, q.grad(x + 0.9 * state.v), state)
        points.append(x)
    np.testing.assert_allclose(surfaces.run(opt, q, (1.0, 2.0), 20).params[1:], points, rtol=1e-14)


def test_grid_for_contour_plots():
    X, Y, Z = SURFACES["rosenbrock"].grid((-2, 2), (-1, 3), 41)
    assert X.shape == Y.shape == Z.shape == (41, 41)
    assert Z[20, 30] == pytest.approx(SURFACES["rosenbrock"].value((X[20, 30], Y[20, 30])))
    with pytest.raises(ValueError, match="2-D"):
        SURFACES["quadratic_3d"].grid()


@pytest.mark.parametrize("call, error, name", [
    (lambda: surfaces.quadratic(0.5), ValueError, "condition_number"),
    (lambda: surfaces.rosenbrock(b=0), ValueError, "b"),
    (lambda: surfaces.local_minima(tilt=0.5), ValueError, "tilt"),
    (lambda: surfaces.noisy("rosenbrock", 0.1), TypeError, "surface"),
    (lambda: surfaces.noisy(surfaces.rosenbrock(), -0.1), ValueError, "sigma"),
    (lambda: surfaces.least_squares(batch_size=0), ValueError, "batch_size"),
    (lambda: surfaces.Quadratic([[1.0, 2.0], [0.0, 1.0]]), ValueError, "symmetric"),
    (lambda: surfaces.rosenbrock().grad([1.0, 2.0, 3.0]), ValueError, "x must have shape"),
    (lambda: surfaces.least_squares().grad(np.zeros(10), [500]), ValueError, r"batch must hold row indices in \[0, 442\), got 500"),
    (lambda: surfaces.least_squares().grad(np.zeros(10), [0.5]), ValueError, "batch must be .* got dtype float64"),
    (lambda: surfaces.least_squares(features=(2, 2)), ValueError, r"features must be distinct column indices in \[0, 9\], got \(2, 2\)"),
    (lambda: surfaces.least_squares(features=2), TypeError, "features must be a sequence of column indices, got 2"),
    (lambda: surfaces.least_squares().batches(rng="a"), TypeError, "rng must be a numpy.random.Generator or an integer seed"),
    (lambda: surfaces.run(optim.sgd(0.1), surfaces.rosenbrock(), (0.0,), 5), ValueError, "x0"),
    (lambda: surfaces.run(optim.sgd(0.1), surfaces.rosenbrock(), (0.0, 0.0), -1), ValueError, "steps"),
    (lambda: surfaces.run(optim.sgd(0.1), surfaces.rosenbrock(), (0.0, 0.0), 5, rng=1), ValueError,
     "rng is only meaningful for a stochastic surface .* got a Rosenbrock surface"),
    (lambda: surfaces.run(optim.sgd(0.1), surfaces.noisy(surfaces.rosenbrock(), 1.0), (0.0, 0.0), 5, rng=0.5), TypeError,
     "rng must be a numpy.random.Generator or an integer seed >= 0, got float 0.5"),
    (lambda: surfaces.rosenbrock().hessian_at([1.0]), ValueError, r"x must have shape \(2,\), got \(1,\)"),
    (lambda: surfaces.run("sgd", surfaces.rosenbrock(), (0.0, 0.0), 5), TypeError, "optimizer"),
    (lambda: surfaces.rosenbrock().grid((1, -1)), ValueError, "xlim"),
])
def test_bad_arguments_name_themselves(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_race_runs_each_optimizer_from_the_same_start_and_cuts_divergence():
    bowl = surfaces.quadratic(10.0)
    optimizers = {"stable": optim.sgd(0.5), "unstable": optim.sgd(2.5)}  # 2.5 > 2 / lambda_max = 2
    runs = surfaces.race(optimizers, bowl, (1.0, 1.0), 300)
    assert list(runs) == ["stable", "unstable"]
    expected = surfaces.run(optim.sgd(0.5), bowl, (1.0, 1.0), 300)
    assert np.array_equal(runs["stable"].params, expected.params)
    params, losses = runs["unstable"]
    first = int(np.argmax(np.isnan(losses)))
    assert 0 < first < 300 and np.all(np.isnan(losses[first:])) and np.all(np.isnan(params[first:]))
    assert np.all(np.linalg.norm(params[:first] - 1.0, axis=1) <= surfaces.DIVERGED)


def test_race_validates_its_arguments():
    with pytest.raises(TypeError, match="optimizers must be a non-empty dict"):
        surfaces.race({}, surfaces.rosenbrock(), (0.0, 0.0), 5)
    with pytest.raises(TypeError, match="optimizers\\['sgd'\\] must be a course_lib.optim optimizer, got str"):
        surfaces.race({"sgd": "sgd"}, surfaces.rosenbrock(), (0.0, 0.0), 5)
    with pytest.raises(ValueError, match=r"x0 must have shape \(2,\)"):
        surfaces.race({"sgd": optim.sgd(0.1)}, surfaces.rosenbrock(), (0.0,), 5)


def test_race_with_an_rng_gives_every_optimizer_the_same_noise():
    noisy = surfaces.noisy(surfaces.quadratic(5.0), sigma=0.5)
    same = {"a": optim.sgd(0.1), "b": optim.sgd(0.1)}
    for rng in (7, np.random.default_rng(7)):
        runs = surfaces.race(same, noisy, (1.0, 1.0), 40, rng=rng)
        np.testing.assert_array_equal(runs["a"].params, runs["b"].params)
        assert not np.array_equal(runs["a"].params, surfaces.run(optim.sgd(0.1), noisy, (1.0, 1.0), 40).params)
    seeded = surfaces.race(same, noisy, (1.0, 1.0), 40, rng=7)
    np.testing.assert_array_equal(seeded["a"].params, surfaces.run(optim.sgd(0.1), noisy, (1.0, 1.0), 40, rng=7).params)


@pytest.mark.parametrize("name", sorted(SURFACES))
def test_hessian_is_the_derivative_of_the_gradient(name):
    """Centred differences of grad, float64, at a few points (the widgets derive curvatures from it)."""
    surface = SURFACES[name]
    rng = np.random.default_rng(0)
    for x in rng.uniform(-1.5, 1.5, (4, surface.dim)):
        h = 1e-6
        numeric = np.array([(surface.grad(x + h * e) - surface.grad(x - h * e)) / (2 * h) for e in np.eye(surface.dim)]).T
        np.testing.assert_allclose(surface.hessian_at(x), numeric, rtol=1e-6, atol=1e-6)


def test_rosenbrock_hessian_at_the_minimum():
    rosen = surfaces.rosenbrock()
    np.testing.assert_array_equal(rosen.hessian_at(rosen.minimum), [[802.0, -400.0], [-400.0, 200.0]])
    noisy = surfaces.noisy(rosen, 1.0)
    np.testing.assert_array_equal(noisy.hessian_at((0.3, 0.2)), rosen.hessian_at((0.3, 0.2)))
    data = surfaces.least_squares(features=(2, 8))
    np.testing.assert_array_equal(data.hessian_at(np.zeros(2)), data.hessian)
