"""The batch-norm widgets draw what course_lib.experiments.batchnorm computes."""
import numpy as np

from course_lib.experiments import batchnorm as be
from course_lib.widgets.batchnorm import BatchSizeModeWidget, BatchStatisticsWidget, SmoothnessProbeWidget


def test_batch_statistics_widget_draws_the_running_mean_of_the_slider():
    widget = BatchStatisticsWidget()
    widget.set(momentum=10**-0.5, step=20)
    record = be.preactivation_record()["batch norm"]
    assert np.allclose(widget.running["mean"].get_ydata(), be.running_average_trace(record.batch_means, 10**-0.5))
    assert np.allclose(widget.running["variance"].get_ydata(),
                       be.running_average_trace(record.batch_vars, 10**-0.5, initial=1.0))
    assert np.array_equal(widget.stairs["batch norm"].get_data().values, record.histograms[19])
    assert "step 20" in widget.ax_hist.get_title()


def test_batch_size_widget_collapses_in_evaluation_mode():
    widget = BatchSizeModeWidget()
    widget.set(batch_size=2, mode="train")
    values = widget.prob_stairs.get_data().values
    assert np.count_nonzero(values) > 3
    widget.set(mode="eval")
    values = widget.prob_stairs.get_data().values
    assert np.count_nonzero(values) == 1 and values.sum() == widget.data["prob"].shape[1]


def test_smoothness_widget_shows_the_probe_of_the_checkpoint():
    widget = SmoothnessProbeWidget()
    runs = be.smoothness_runs()
    step = int(runs["standard"].steps[2])
    widget.set(checkpoint=step)
    assert np.allclose(widget.lines["standard", "loss"].get_ydata(), runs["standard"].losses[2])
    assert np.allclose(widget.lines["batch norm", "grad"].get_ydata(), runs["batch norm"].grad_changes[2])
