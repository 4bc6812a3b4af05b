"""course_lib.data: splits, synthetic sets, standardization, PCA, whitening, source 000's
covariance example. (course_lib.augment: tests/test_augment.py.)"""
import numpy as np
import pytest

from course_lib import data

# Source 000's printed matrices (slides "Covariances").
SOURCE_RAW = np.array([[6.81764404, -3.86103353], [-3.86103353, 2.45930235]])
SOURCE_WHITENED_DIAGONAL = np.array([9.53471754e-01, 9.98898924e-01])
SOURCE_ZSCORED = np.array([[1.001001, -0.94387604], [-0.94387604, 1.001001]])


def test_digits_split_is_fixed_disjoint_stratified_and_complete():
    split = data.load_digits()
    again = data.load_digits()
    for a, b in zip(split, again):
        np.testing.assert_array_equal(a, b)
    sizes = [len(split.x_train), len(split.x_val), len(split.x_test)]
    assert sum(sizes) == 1797
    assert split.x_train.shape[1] == 64 and split.x_train.min() >= 0 and split.x_train.max() <= 1
    rows = [tuple(r) for part in (split.x_train, split.x_val, split.x_test) for r in np.c_[part]]
    assert len(rows) == 1797
    # every class in the test set in proportion (within rounding: one image per class)
    counts = np.bincount(split.y_test, minlength=10)
    all_counts = np.bincount(np.r_[split.y_train, split.y_val, split.y_test])
    assert np.all(np.abs(counts - 0.2 * all_counts) <= 1)
    other = data.load_digits(rng=1)
    assert not np.array_equal(other.y_train, split.y_train)
    from_generator = data.load_digits(rng=np.random.default_rng(1))
    np.testing.assert_array_equal(from_generator.y_train, other.y_train)


def test_digits_are_scikit_learns_read_without_importing_it():
    from sklearn.datasets import load_digits

    digits = load_digits()
    table = data._digits_table()
    np.testing.assert_array_equal(table[:, :-1], digits.data)
    np.testing.assert_array_equal(table[:, -1], digits.target)
    raw = data.load_digits(scale=False)
    rows = np.concatenate([raw.x_train, raw.x_val, raw.x_test])
    labels = np.concatenate([raw.y_train, raw.y_val, raw.y_test])
    order = np.lexsort(np.c_[rows, labels].T)
    expected = np.lexsort(np.c_[digits.data, digits.target].T)
    np.testing.assert_array_equal(rows[order], digits.data[expected])
    np.testing.assert_array_equal(labels[order], digits.target[expected])


def test_diabetes_is_scikit_learns_bit_for_bit_without_importing_it():
    from sklearn.datasets import load_diabetes

    expected = load_diabetes()
    x, y = data._load_diabetes()
    np.testing.assert_array_equal(x, expected.data)   # scaled: the same operations in the same order
    np.testing.assert_array_equal(y, expected.target)
    x[0, 0] = 99.0                                    # new arrays: the cached table is not touched
    np.testing.assert_array_equal(data._load_diabetes()[0], expected.data)


@pytest.mark.parametrize("call, error, message", [
    (lambda: data.load_digits(val_fraction=0.5, test_fraction=0.5), ValueError,
     "val_fraction \\+ test_fraction must be < 1, got 0.5 \\+ 0.5 = 1"),
    (lambda: data.load_digits(rng="a"), TypeError, "rng must be a numpy.random.Generator or an integer seed >= 0, got str 'a'"),
    (lambda: data.make_moons(rng=-1), ValueError, "rng must be .* got -1"),
    (lambda: data.make_spirals(rng=0.5), TypeError, "rng must be .* got float 0.5"),
    (lambda: data.standardize(np.ones((3, 2)), mean=np.zeros(3)), ValueError,
     "mean must be a number or have shape \\(2,\\) .* got shape \\(3,\\)"),
    (lambda: data.standardize(np.ones((3, 2)), std=[1.0, 0.0]), ValueError, "std must be > 0 in every feature, got 0 \\(feature 1\\)"),
    (lambda: data.whiten(np.c_[np.arange(4.0), np.arange(4.0)]), ValueError, "singular .* got eps = 0"),
])
def test_bad_arguments_name_themselves_and_what_was_given(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_moons_and_spirals_are_seeded_and_balanced():
    x, y = data.make_moons(101, noise=0.1, rng=3)
    assert x.shape == (101, 2) and set(np.unique(y)) == {0, 1} and abs(np.sum(y == 0) - np.sum(y == 1)) <= 1
    np.testing.assert_array_equal(x, data.make_moons(101, noise=0.1, rng=3)[0])
    x0, y0 = data.make_moons(100, noise=0.0, rng=0)
    # noiseless moons lie on unit circles around (0, 0) (class 0, upper half) and (1, 0.5) (class 1, lower)
    centres = np.where(y0[:, None] == 0, [0.0, 0.0], [1.0, 0.5])
    np.testing.assert_allclose(np.hypot(*(x0 - centres).T), 1.0, atol=1e-12)
    assert np.all((x0[:, 1] - centres[:, 1]) * np.where(y0 == 0, 1, -1) >= -1e-12)
    xs, ys = data.make_spirals(50, 4, rng=1)
    assert xs.shape == (200, 2) and np.all(np.bincount(ys) == 50)
    assert np.all(np.hypot(*xs.T) <= 1 + 1e-12)


def test_standardize_train_statistics_and_constant_features():
    split = data.load_digits()
    z, mean, std = data.standardize(split.x_train)
    varying = split.x_train.std(axis=0) > 0
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0)[varying], 1, atol=1e-12)
    assert np.all(np.isfinite(z)) and not np.all(varying)  # blank pixels exist and give 0, not NaN
    zt, _, _ = data.standardize(split.x_test, mean, std)
    np.testing.assert_allclose(zt, (split.x_test - mean) / std)
    _, _, std1 = data.standardize(split.x_train, ddof=1)
    np.testing.assert_allclose(std1[varying], split.x_train.std(axis=0, ddof=1)[varying])


def test_pca_is_the_eigendecomposition_of_the_covariance():
    x = np.random.default_rng(0).standard_normal((200, 3)) @ np.array([[2, 0, 0], [1, 1, 0], [0, 0.5, 0.2]])
    p = data.pca(x, ddof=1)
    np.testing.assert_allclose(p.components.T @ p.components, np.eye(3), atol=1e-12)
    assert np.all(np.diff(p.eigenvalues) <= 0)
    cov = np.cov(x, rowvar=False)
    np.testing.assert_allclose(cov @ p.components, p.components * p.eigenvalues, atol=1e-10)
    projected = (x - p.mean) @ p.components
    np.testing.assert_allclose(np.cov(projected, rowvar=False), np.diag(p.eigenvalues), atol=1e-10)
    assert data.pca(x, 2).components.shape == (3, 2)


@pytest.mark.parametrize("zca", [False, True])
def test_whitening_gives_identity_covariance(zca):
    x = np.random.default_rng(1).standard_normal((300, 3)) @ np.array([[3, 0, 0], [2, 1, 0], [1, 1, 1]])
    w, _ = data.whiten(x, zca=zca)
    np.testing.assert_allclose(np.cov(w, rowvar=False, ddof=0), np.eye(3), atol=1e-12)


def _source_000_like_sample():
    """1000 points from a Gaussian with source 000's raw covariance (the source's own data are lost)."""
    rng = np.random.default_rng(0)
    return rng.multivariate_normal([1.0, -2.0], SOURCE_RAW, size=1000)


def test_source_000_raw_whitened_and_zscored_covariances():
    x = _source_000_like_sample()
    n = len(x)
    raw = np.cov(x, rowvar=False)  # numpy.cov: 1/(n-1)
    # the sample covariance is the source's matrix up to sampling error: sd of an entry ~ sqrt(2/n) scale
    np.testing.assert_allclose(raw, SOURCE_RAW, atol=5 * np.sqrt(2 / n) * np.abs(SOURCE_RAW).max())

    z, _, _ = data.standardize(x)  # z-scored with 1/n, as source 000's formula
    zcov = np.cov(z, rowvar=False)  # measured with 1/(n-1): diagonal n/(n-1) = 1.001001...
    np.testing.assert_allclose(np.diag(zcov), n / (n - 1), rtol=1e-13)
    r = raw[0, 1] / np.sqrt(raw[0, 0] * raw[1, 1])
    np.testing.assert_allclose(zcov[0, 1], r * n / (n - 1), rtol=1e-12)

    w, p = data.whiten(x, eps=0.01, ddof=1)  # regularized whitening, as the source's numbers imply
    wcov = np.cov(w, rowvar=False)
    lam = p.eigenvalues
    np.testing.assert_allclose(wcov, np.diag(lam / (lam + 0.01)), atol=1e-12)
    assert np.all(np.diag(wcov) < 1)


def test_source_000_printed_numbers_are_explained():
    """The source's own numbers: z-scored = correlation * 1000/999, whitened = lambda/(lambda + 0.01)."""
    n = 1000
    r = SOURCE_RAW[0, 1] / np.sqrt(SOURCE_RAW[0, 0] * SOURCE_RAW[1, 1])
    np.testing.assert_allclose(SOURCE_ZSCORED, np.array([[1, r], [r, 1]]) * n / (n - 1), atol=1e-7)
    lam = np.linalg.eigvalsh(SOURCE_RAW)  # ascending, as the printed diagonal
    np.testing.assert_allclose(SOURCE_WHITENED_DIAGONAL, lam / (lam + 0.01), atol=1e-8)
    # and not the other normalizations: 1/n whitening measured with 1/(n-1) would be off by 1e-3
    assert np.max(np.abs(SOURCE_WHITENED_DIAGONAL - n / (n - 1) * lam / (lam + 0.01))) > 5e-4


# ---------------------------------------------------------------------------------------------
# augment
# ---------------------------------------------------------------------------------------------
