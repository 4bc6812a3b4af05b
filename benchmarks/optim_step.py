"""One optimizer step on 10^6 float64 parameters: course_lib.optim against torch.optim, one thread.

    .venv/bin/python benchmarks/optim_step.py

For Adam and for SGD with momentum 0.9, the median time of one ``step`` of
* course_lib (the blocked in-place fast path it takes for arrays of >= 65536 elements),
* course_lib's readable path (the same update written as in the docstrings, forced here),
* torch.optim with foreach=True (the target: course_lib within 1.2x), foreach=False, and
  fused=True where torch supports it for CPU float64.
course_lib returns new arrays (inputs never modified); torch updates its tensors in place.
The contenders run interleaved, each repeat in turn, so a busy machine slows all alike.
Ratios are course_lib time / torch time (below 1: course_lib faster).
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # numpy's elementwise ufuncs are single-threaded anyway

import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from course_lib import optim  # noqa: E402

N = 10**6
REPEATS = 40
WARMUP = 3


def course_lib_stepper(make, readable=False):
    rng = np.random.default_rng(0)
    params, grads = rng.standard_normal(N), rng.standard_normal(N)
    opt = make()
    box = {"params": params, "state": opt.init(params)}

    def step():
        saved = optim._FAST_MIN_SIZE
        if readable:
            optim._FAST_MIN_SIZE = N + 1
        try:
            box["params"], box["state"] = opt.step(box["params"], grads, box["state"])
        finally:
            optim._FAST_MIN_SIZE = saved

    return step


def torch_stepper(torch_class, kwargs, **variant):
    rng = np.random.default_rng(0)
    param = torch.tensor(rng.standard_normal(N), dtype=torch.float64, requires_grad=True)
    param.grad = torch.tensor(rng.standard_normal(N), dtype=torch.float64)
    try:
        opt = torch_class([param], **kwargs, **variant)
        opt.step()
    except (RuntimeError, ValueError) as error:
        return None, f"{type(error).__name__}: {str(error).splitlines()[0][:70]}"
    return opt.step, None


def measure(steppers: dict) -> dict:
    for step in steppers.values():
        for _ in range(WARMUP):
            step()
    times = {name: [] for name in steppers}
    for _ in range(REPEATS):
        for name, step in steppers.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main():
    torch.set_num_threads(1)
    print(f"one step on {N:,} float64 parameters; torch {torch.__version__}, numpy {np.__version__}, "
          f"torch threads {torch.get_num_threads()}; median of {REPEATS}")
    cases = [
        ("adam", lambda: optim.adam(lr=1e-3), torch.optim.Adam, dict(lr=1e-3)),
        ("sgd momentum", lambda: optim.sgd(lr=1e-3, momentum=0.9), torch.optim.SGD, dict(lr=1e-3, momentum=0.9)),
    ]
    results = []
    for label, make, torch_class, kwargs in cases:
        steppers = {"course_lib": course_lib_stepper(make), "course_lib readable": course_lib_stepper(make, True)}
        notes = {}
        for variant, options in [("torch foreach", dict(foreach=True)), ("torch single-tensor", dict(foreach=False)),
                                 ("torch fused", dict(fused=True))]:
            step, note = torch_stepper(torch_class, kwargs, **options)
            if step is None:
                notes[variant] = note
            else:
                steppers[variant] = step
        medians = measure(steppers)
        ours = medians["course_lib"]
        print(f"\n{label}")
        print(f"  {'contender':22} {'median ms':>10} {'course_lib / it':>16}")
        for name, value in medians.items():
            ratio = "" if name == "course_lib" else f"{ours / value:16.2f}"
            print(f"  {name:22} {value * 1e3:10.2f} {ratio}")
        for variant, note in notes.items():
            print(f"  {variant:22} not available: {note}")
        target = medians.get("torch foreach")
        if target:
            verdict = "meets" if ours <= 1.2 * target else "misses"
            print(f"  course_lib / torch foreach = {ours / target:.2f} ({verdict} the 1.2x target)")
            results.append((label, ours / target))
    return results


if __name__ == "__main__":
    main()
