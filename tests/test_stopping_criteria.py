"""course_lib.stopping_criteria: Prechelt's GL, PQ and UP on hand-made curves."""
import numpy as np
import pytest

from course_lib import stopping_criteria as sc


def test_generalization_loss_by_hand():
    np.testing.assert_allclose(sc.generalization_loss([1.0, 0.5, 0.6, 0.4, 0.5]), [0.0, 0.0, 20.0, 0.0, 25.0])


def test_training_progress_by_hand():
    p = sc.training_progress([4.0, 2.0, 1.0, 1.0], k=2)
    assert np.isnan(p[0])
    np.testing.assert_allclose(p[1:], [1000 * (3 / 2 - 1), 1000 * (1.5 - 1), 0.0])


def test_gl_stops_at_the_first_epoch_above_alpha():
    val = [1.0, 0.5, 0.52, 0.6, 0.7]
    assert sc.stop_gl(val, 5.0) == 4        # GL = 20 at epoch 4
    assert sc.stop_gl(val, 50.0) is None


def test_pq_divides_by_the_training_progress():
    train = [1.0, 0.9, 0.8, 0.7, 0.6, 0.55, 0.54, 0.54, 0.54, 0.54]
    val = [1.0, 0.8, 0.7, 0.75, 0.8, 0.8, 0.8, 0.8, 0.8, 0.84]
    gl = sc.generalization_loss(val)
    progress = sc.training_progress(train, 5)
    assert gl[4] / progress[4] < 1.0        # still training fast at the end of strip 1
    assert sc.stop_pq(train, val, 1.0, k=5) == 10       # progress 0 at the end of strip 2, GL > 0


def test_up_counts_successive_rising_strips():
    val = [5, 4, 3, 2, 1, 2, 3, 1.5, 2, 3.0]   # k = 2: ends 4, 2, 2, 1.5, 3
    assert sc.stop_up(val, 1, k=2) == 10
    assert sc.stop_up([1, 2, 3, 4, 5, 6.0], 2, k=2) == 6     # ends 2, 4, 6: rises at 4 and 6
    assert sc.stop_up([1, 2, 3, 4, 5, 6.0], 3, k=2) is None


def test_bad_input():
    with pytest.raises(ValueError, match="val_errors must be > 0"):
        sc.stop_gl([1.0, 0.0], 1.0)
    with pytest.raises(ValueError, match="same length"):
        sc.stop_pq([1.0, 2.0], [1.0], 1.0, k=1)
    with pytest.raises(ValueError, match="alpha"):
        sc.stop_gl([1.0], -1.0)
