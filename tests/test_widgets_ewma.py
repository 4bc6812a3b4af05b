"""The EWMA chapter's widgets draw what course_lib.ewma computes (the generic checks, that each
builds and that every control changes the picture over its whole range, are in tests/test_widgets.py)."""
import numpy as np
import pytest

from course_lib.ewma import ewma, ewma_weights
from course_lib.widgets.ewma import EWMASeriesWidget, WeightKernelWidget, noisy_series


def test_noisy_series_is_drawn_from_rng():
    t, y = noisy_series(50, rng=3)
    assert t.tolist() == list(range(1, 51)) and y.shape == (50,)
    np.testing.assert_array_equal(y, noisy_series(50, rng=np.random.default_rng(3))[1])
    assert not np.array_equal(y, noisy_series(50, rng=4)[1])
    np.testing.assert_array_equal(EWMASeriesWidget(n=50, rng=3).y, y)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator or an integer seed"):
        noisy_series(50, rng="3")


def test_series_widget_draws_the_ewma_of_its_data():
    widget = EWMASeriesWidget()
    widget.set(rho=0.95, bias_correction=True)
    assert np.allclose(widget.lines["ewma"].get_ydata(), ewma(widget.y, 0.95))
    assert np.allclose(widget.lines["corrected"].get_ydata(), ewma(widget.y, 0.95, bias_correction=True))
    assert widget.lines["corrected"].get_visible()
    widget.set(bias_correction=False)
    assert not widget.lines["corrected"].get_visible()
    assert "window 1/(1-ρ) = 20.0" in widget.ax.get_title()


@pytest.mark.parametrize("rho, t, bias_correction", [(0.0, 20, False), (0.5, 1, True), (0.0, 1, True)])
def test_kernel_widget_shows_a_weight_of_one(rho, t, bias_correction):
    """rho = 0 (or t = 1 with bias correction) puts all the weight on the newest value: it used to
    raise StopIteration while choosing the y-range."""
    widget = WeightKernelWidget()
    widget.set(rho=rho, t=t, bias_correction=bias_correction)
    assert max(segment[1, 1] for segment in widget.bars.get_segments()) == pytest.approx(1.0)
    assert widget.ax.get_ylim()[1] >= 1.0


def test_kernel_widget_draws_the_weights():
    widget = WeightKernelWidget()
    widget.set(rho=0.8, t=10, bias_correction=False)
    heights = np.array([segment[1, 1] for segment in widget.bars.get_segments()])
    assert np.allclose(heights[:10], ewma_weights(0.8, 10)) and np.all(heights[10:] == 0)
    assert "sum to 0.893" in widget.ax.get_title()  # 1 - 0.8^10
    widget.set(bias_correction=True)
    assert sum(segment[1, 1] for segment in widget.bars.get_segments()) == pytest.approx(1.0)
    assert widget.window_line.get_xdata()[0] == pytest.approx(5.0)
