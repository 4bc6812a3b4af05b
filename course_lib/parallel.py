"""Independent runs spread over the machine's cores: :func:`run_all`.

Why: a chapter such as "Regularization" trains about two hundred small networks, each a
sequence of small matrix products that one core runs no faster with more BLAS threads
(``course_lib.train`` uses one). The runs of one table (seeds, configurations) are independent of
each other, so two processes on two cores finish them sooner.

How: the worker processes are *forked* from the calling process, so they start with everything
it has (the data, the function, closures and lambdas: nothing is pickled but the index of a run
and its result), and each run computes exactly what it computes alone: same seeds, same order of
floating-point operations, one BLAS thread. The results are therefore bit-identical to
``[function(item) for item in items]`` (tests/test_parallel.py checks it), which is what
:func:`run_all` does off Linux (Windows cannot fork; on macOS forking is unsafe), inside a
worker (no nested pools), with one core, or for a single item.

When: only on cores that are free. Measured on the book's two-core machine, the regularization
chapter's training tables took 0.6 of their serial time with the second core idle, but with another
program keeping a core busy the two processes only competed with it and each other, and the
chapter took 13% longer than serially. So by default :func:`run_all` counts the programs running
at the moment it is called (Linux's ``/proc/loadavg``) and uses only the cores they leave free.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import time
from typing import Callable, Iterable

from course_lib import _validate

__all__ = ["run_all", "PROCESSES"]

PROCESSES = min(2, os.cpu_count() or 1)   # the book's machines have two cores; more would only compete

_JOB = None   # (function, items) of the current run_all, inherited by the forked workers


def _run_one(index):
    function, items = _JOB
    return function(items[index])


def _can_fork() -> bool:
    # Linux only: on macOS forking a process that has used the system's libraries (Accelerate,
    # Objective-C) can crash the child, which is why Python starts processes there by "spawn".
    return (sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
            and not multiprocessing.current_process().daemon)   # a pool's worker cannot start a pool


def _free_cores(samples: int = 5, interval: float = 0.004) -> int:
    """The cores that no other task keeps busy (this process's counted as free): the cores minus
    the fewest tasks Linux reports running (``/proc/loadavg``'s fourth field, "running/total", this
    process included) in ``samples`` looks ``interval`` seconds apart, so that a task running for an
    instant (a notebook's client reading the last output) does not count; all the cores where the
    count cannot be read."""
    cores = os.cpu_count() or 1
    running = []
    try:
        for i in range(samples):
            if i:
                time.sleep(interval)
            with open("/proc/loadavg") as f:
                running.append(int(f.read().split()[3].split("/")[0]))
    except (OSError, ValueError, IndexError):
        return cores
    return max(1, cores - (min(running) - 1))


def run_all(function: Callable, items: Iterable, *, processes: int | None = None) -> list:
    """``[function(item) for item in items]``, the calls shared out among ``processes`` forked
    processes, one item at a time to whichever is free, results in the order of ``items``.
    Default: :data:`PROCESSES`, or fewer if other programs are running on the cores right now
    (then the runs stay in this process).

    ``function`` must depend only on its item and on what existed when ``run_all`` was called (a
    worker's changes to module state, models or generators stay in the worker), and return
    something picklable (numbers, arrays, tuples, dicts; a trained model works but is copied).
    Give each item its own seed or generator: a generator shared by the items would be advanced by
    one process and not by the other.
    """
    if not callable(function):
        raise TypeError(f"function must be callable, got {type(function).__name__}")
    items = list(items)
    if processes is None:
        processes = min(PROCESSES, _free_cores())
    else:
        processes = _validate.integer("processes", processes, low=1)
    processes = min(processes, len(items))
    if processes <= 1 or not _can_fork():
        return [function(item) for item in items]
    global _JOB
    _JOB = (function, items)
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            return pool.map(_run_one, range(len(items)), chunksize=1)
    finally:
        _JOB = None
