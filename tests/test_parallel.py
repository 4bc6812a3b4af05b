"""course_lib.parallel.run_all: the results of [function(item) for item in items], bit for bit, in
order, computed in forked processes where it can, serially where it cannot."""
import io
import os

import numpy as np
import pytest

from course_lib import nn, optim, parallel, train

FORK = parallel._can_fork() and (os.cpu_count() or 1) >= 2


def _train_once(seed):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((40, 5)), rng.integers(0, 3, 40)
    model = nn.mlp([5, 16, 3], rng=seed, dropout=0.2)
    history = train.train(model, optim.adam(1e-2), (x, y), 3, 8, rng=seed)
    return model.params, history.batch_loss


def test_seeded_training_runs_are_bit_identical_to_the_serial_loop():
    def seeds():   # fresh generators each time: a run advances the one it is given
        return [np.random.default_rng(7).spawn(1)[0], 3, 1, 4, 1]

    expected = [_train_once(s) for s in seeds()]
    got = parallel.run_all(_train_once, seeds(), processes=2)
    assert len(got) == len(expected)
    for (params, losses), (want_params, want_losses) in zip(got, expected):
        assert losses == want_losses
        for name in want_params:
            assert np.array_equal(params[name], want_params[name])


@pytest.mark.skipif(not FORK, reason="needs the fork start method and two cores")
def test_the_items_are_computed_in_other_processes_and_the_order_is_kept():
    pids_and_items = parallel.run_all(lambda item: (os.getpid(), item), range(6), processes=2)
    assert [item for _, item in pids_and_items] == list(range(6))
    assert os.getpid() not in {pid for pid, _ in pids_and_items}


def test_closures_are_not_pickled_and_see_the_callers_data():
    data = {"offset": np.arange(3.0)}           # a lambda and a local dict: not picklable by reference
    assert parallel.run_all(lambda k: data["offset"] * k, [1, 2])[1].tolist() == [0.0, 2.0, 4.0]


def test_serial_where_there_is_nothing_to_share_or_no_pool_allowed():
    assert parallel.run_all(lambda item: os.getpid(), [0]) == [os.getpid()]
    assert parallel.run_all(lambda item: os.getpid(), [0, 1], processes=1) == [os.getpid()] * 2
    assert parallel.run_all(abs, []) == []
    # inside a worker a nested run_all runs serially, in that worker
    nested = parallel.run_all(lambda item: (os.getpid(), parallel.run_all(lambda _: os.getpid(), [0, 1])), [0, 1])
    for pid, inner in nested:
        assert inner == [pid, pid]


def test_by_default_only_free_cores_are_used(monkeypatch):
    def loadavg(running):
        return lambda path: io.StringIO(f"1.50 1.20 1.10 {running}/90 4242\n")

    cores = os.cpu_count() or 1
    monkeypatch.setattr(parallel, "open", loadavg(1), raising=False)       # only this process runs
    assert parallel._free_cores() == cores
    monkeypatch.setattr(parallel, "open", loadavg(cores + 3), raising=False)
    assert parallel._free_cores() == 1
    counts = iter([cores + 3, 1, cores + 3, cores + 3, cores + 3])    # others seen in all looks but one
    monkeypatch.setattr(parallel, "open", lambda path: io.StringIO(f"1.0 1.0 1.0 {next(counts)}/90 1\n"),
                        raising=False)
    assert parallel._free_cores() == cores
    monkeypatch.setattr(parallel, "open", loadavg(cores + 3), raising=False)
    assert parallel.run_all(lambda item: os.getpid(), [0, 1, 2]) == [os.getpid()] * 3   # stays here
    if FORK:   # an explicit count is used as given
        assert os.getpid() not in parallel.run_all(lambda item: os.getpid(), [0, 1, 2], processes=2)

    def unreadable(path):
        raise OSError("no /proc here")

    monkeypatch.setattr(parallel, "open", unreadable, raising=False)
    assert parallel._free_cores() == cores


def test_an_error_in_a_run_reaches_the_caller():
    def fails(item):
        if item == 2:
            raise ValueError("run 2 failed")
        return item

    with pytest.raises(ValueError, match="run 2 failed"):
        parallel.run_all(fails, range(4), processes=2)


def test_bad_arguments():
    with pytest.raises(TypeError, match="function must be callable, got int"):
        parallel.run_all(3, [1])
    with pytest.raises(ValueError, match=r"processes must be an integer in \[1, inf\], got 0"):
        parallel.run_all(abs, [1, 2], processes=0)


def test_off_linux_the_runs_stay_in_this_process(monkeypatch):
    """macOS offers fork but forking there is unsafe; Windows has none: serial, same results."""
    monkeypatch.setattr(parallel.sys, "platform", "darwin")
    pids_and_items = parallel.run_all(lambda item: (os.getpid(), item), range(4), processes=2)
    assert pids_and_items == [(os.getpid(), item) for item in range(4)]
