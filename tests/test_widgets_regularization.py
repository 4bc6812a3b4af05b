"""The regularization widgets show what their core functions compute."""
import numpy as np
import pytest

from course_lib import linear_regularization as theory
from course_lib.experiments import regularization as rx
from course_lib.widgets.regularization import DropoutBoundaryWidget, EarlyStoppingWidget, RegularizationPathWidget


@pytest.fixture(scope="module")
def path_widget():
    return RegularizationPathWidget()


def _bar_heights(bars):
    return np.array([segment[1, 1] for segment in bars.get_segments()])


def test_path_widget_draws_the_closed_forms(path_widget):
    w = path_widget
    w.set(penalty="L2", alpha=1.0)
    np.testing.assert_allclose(_bar_heights(w.bars), theory.ridge(w.problem.x_train, w.problem.y_train, 1.0))
    assert "0 of 40 weights exactly 0" in w.ax_w.get_title()
    w.set(penalty="L1", alpha=1.0)
    expected = theory.lasso_diagonal(w.w_star, w.problem.eigenvalues, 1.0)
    np.testing.assert_allclose(_bar_heights(w.bars), expected)
    assert f"{int(np.sum(expected == 0))} of 40 weights exactly 0" in w.ax_w.get_title()
    assert np.sum(expected == 0) > 0


def test_early_stopping_widget_marks_the_meta_algorithm():
    w = EarlyStoppingWidget(patience=3, interval=20)
    best_x, best_y = w.best.get_data()
    stop = w.stop.get_xdata()[0]
    assert stop - best_x[0] == 3 * 20                      # P evaluations of n steps after the best
    assert best_y[0] == pytest.approx(w.curves["test"][best_x[0]])
    evals_x, _ = w.evals.get_data()
    assert np.all(np.asarray(evals_x) % 20 == 0)
    np.testing.assert_allclose(w.f_gd.get_ydata(), theory.gd_filter(w.lam, w.LR, best_x[0]))
    w.set(patience=30, interval=1)
    assert w.best.get_data()[0][0] == int(np.argmin(w.curves["test"][1:w.stop.get_xdata()[0] + 1])) + 1


def test_dropout_widget_without_dropout_shows_one_network():
    w = DropoutBoundaryWidget(p=0.0, masks=1)
    np.testing.assert_allclose(w.images["scaled"].get_array(), w.images["mc"].get_array())
    w.set(p=0.5, masks=1)
    assert not np.allclose(w.images["scaled"].get_array(), w.images["mc"].get_array())
    assert w.ax_m.get_title().startswith("1 mask:")


def test_early_stopping_widget_selects_on_a_validation_set_not_the_test_set():
    w = EarlyStoppingWidget()
    assert len(w.problem.y_test) == w.VALIDATION           # the curve the meta-algorithm sees
    full = rx.digits_regression(n_train=100)
    assert len(full.y_test) > w.VALIDATION
