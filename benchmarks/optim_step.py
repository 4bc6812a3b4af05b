"""One optimizer step at the book's own sizes: course_lib.optim against torch.optim, one thread.

    .venv/bin/python benchmarks/optim_step.py

1. The digits network of the later chapters, 64-128-128-10 with batch norm: 26,634 float64
   parameters in ten arrays, stepped as a dict of arrays (``opt.step(params, grads, state)``),
   for Adam and SGD with momentum 0.9. References measured in the same run: torch.optim on the same
   ten tensors with its for-loop (``foreach=False``) and its multi-tensor (``foreach=True``)
   implementations. Shown for information: the same step on one flat vector (``opt.flat_step``,
   what ``course_lib.train`` runs).
2. A 200-step 2-D trajectory on a quadratic, as the widgets compute it on every slider move:
   ``surfaces.run`` against a torch loop (gradient computed in torch, ``opt.step()``) with each
   implementation.
3. For information, one step on a single array of 10^6 parameters.

course_lib returns new arrays (inputs never modified); torch updates its tensors in place. The
process runs with ``course_lib.train.keep_freed_memory()``, as every ``train`` call does
(``--default-malloc``: without it).
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

import sys  # noqa: E402

from course_lib import nn, optim, surfaces  # noqa: E402
from course_lib.train import keep_freed_memory  # noqa: E402

REPEATS = 41
STEPS_2D = 200
CASES = [  # (label, course_lib factory of lr, torch class, torch keywords besides lr)
    ("adam", lambda lr: optim.adam(lr=lr), torch.optim.Adam, {}),
    ("sgd momentum", lambda lr: optim.sgd(lr=lr, momentum=0.9), torch.optim.SGD, dict(momentum=0.9)),
]
LR_NETWORK, LR_2D = 1e-3, 0.05


def measure(contenders: dict, repeats=REPEATS) -> dict:
    """Median seconds per call of each function, calls interleaved; three warm-up rounds."""
    for _ in range(3):
        for fn in contenders.values():
            fn()
    times = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def dict_stepper(opt, params, grads):
    box = {"params": params, "state": opt.init(params)}

    def step():
        box["params"], box["state"] = opt.step(box["params"], grads, box["state"])

    return step


def flat_stepper(opt, params, grads):
    layout = optim.Layout(params)
    step_fn = opt.flat_step(layout)
    theta, g = layout.ravel(params), layout.ravel(grads)
    box = {"theta": theta, "state": layout.ravel_state(opt.init(params))}

    def step():
        box["theta"], box["state"] = step_fn(box["theta"], g, box["state"])

    return step


def torch_stepper(torch_class, kwargs, params, grads, foreach):
    tensors = [torch.tensor(value, requires_grad=True) for value in params.values()]
    for tensor, grad in zip(tensors, grads.values()):
        tensor.grad = torch.tensor(grad)
    return torch_class(tensors, **kwargs, foreach=foreach).step


def report(title, medians, ours, references):
    print(f"\n{title}")
    print(f"  {'contender':30} {'median us':>10} {'ratio':>7}")
    for name, value in medians.items():
        ratio = f"{medians[ours] / value:7.2f}" if name in references else ""
        print(f"  {name:30} {value * 1e6:10.1f} {ratio}")
    return {ref: medians[ours] / medians[ref] for ref in references}


def book_network():
    model = nn.mlp([64, 128, 128, 10], rng=0, batchnorm=True)
    params = {key: np.array(value) for key, value in model.params.items()}
    rng = np.random.default_rng(1)
    grads = {key: rng.standard_normal(value.shape) for key, value in params.items()}
    return params, grads


def trajectory_contenders(opt, torch_class, kwargs):
    surface = surfaces.quadratic(20.0, angle=np.pi / 6)
    hessian = torch.tensor(surface.hessian)
    x0 = np.array([-1.5, 1.8])

    def ours():
        surfaces.run(opt, surface, x0, STEPS_2D)

    def theirs(foreach):
        def run():
            p = torch.tensor(x0, requires_grad=True)
            reference = torch_class([p], **kwargs, foreach=foreach)
            path = [p.detach().clone()]
            with torch.no_grad():
                for _ in range(STEPS_2D):
                    p.grad = hessian @ p          # the quadratic's gradient, H x (centre 0)
                    reference.step()
                    path.append(p.detach().clone())
            return torch.stack(path)
        return run

    return {"course_lib surfaces.run": ours, "torch for-loop": theirs(False), "torch foreach": theirs(True)}


def main():
    torch.set_num_threads(1)
    if "--default-malloc" not in sys.argv:
        keep_freed_memory()
    print(f"torch {torch.__version__}, numpy {np.__version__}, torch threads {torch.get_num_threads()}; "
          f"median of {REPEATS} interleaved repeats")
    results = {}
    params, grads = book_network()
    size = sum(v.size for v in params.values())
    for label, make, torch_class, kwargs in CASES:
        kwargs = dict(kwargs, lr=LR_NETWORK)
        medians = measure({
            "course_lib dict of arrays": dict_stepper(make(LR_NETWORK), params, grads),
            "course_lib flat vector": flat_stepper(make(LR_NETWORK), params, grads),
            "torch for-loop": torch_stepper(torch_class, kwargs, params, grads, foreach=False),
            "torch foreach": torch_stepper(torch_class, kwargs, params, grads, foreach=True),
        })
        results[f"{label}, network"] = report(
            f"{label}: one step, the 64-128-128-10 network ({size:,} float64 parameters in {len(params)} arrays)",
            medians, "course_lib dict of arrays", ["torch for-loop", "torch foreach"])
        flat = medians["course_lib flat vector"]
        print(f"  (flat vector / torch for-loop {flat / medians['torch for-loop']:.2f}, "
              f"/ torch foreach {flat / medians['torch foreach']:.2f})")
    for label, make, torch_class, kwargs in CASES:
        medians = measure(trajectory_contenders(make(LR_2D), torch_class, dict(kwargs, lr=LR_2D)), repeats=15)
        results[f"{label}, 2-D"] = report(f"{label}: a {STEPS_2D}-step 2-D trajectory (whole loop)", medians,
                                          "course_lib surfaces.run", ["torch for-loop", "torch foreach"])
    big = {"theta": np.random.default_rng(2).standard_normal(10**6)}
    big_grads = {"theta": np.random.default_rng(3).standard_normal(10**6)}
    for label, make, torch_class, kwargs in CASES:
        kwargs = dict(kwargs, lr=LR_NETWORK)
        medians = measure({
            "course_lib": dict_stepper(make(LR_NETWORK), big, big_grads),
            "torch for-loop": torch_stepper(torch_class, kwargs, big, big_grads, foreach=False),
            "torch foreach": torch_stepper(torch_class, kwargs, big, big_grads, foreach=True),
        }, repeats=15)
        results[f"{label}, 1e6"] = report(f"{label}: one step on 10^6 float64 parameters (information)", medians,
                                          "course_lib", ["torch for-loop", "torch foreach"])
    return results


if __name__ == "__main__":
    main()
