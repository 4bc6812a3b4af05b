"""A 200-step 2-D trajectory, as a widget computes it on every slider move.

    .venv/bin/python benchmarks/trajectory_2d.py

Times ``surfaces.run(optimizer, surface, x0, 200)`` (trajectory and losses) and, as the reference
measured in the same run, a plain numpy loop of the same maths with no checks, no state objects
and no dicts (what one would write inline in a notebook). Ratio = course_lib / plain loop: what
the one implementation of each update rule (``course_lib.optim``, reached through ``flat_step``)
and ``run``'s loop cost on top of the maths. Widget budget (GUIDE.md): 16 ms per update, compute,
redraw and PNG together; a race widget runs three to six of these per update.
"""
from __future__ import annotations

import statistics
import time

import numpy as np

from course_lib import optim, surfaces

STEPS = 200
REPEATS = 30
X0 = np.array([-1.5, 1.8])


def plain_heavy_ball(surface, lr, momentum):
    x, b = X0.copy(), None
    out = [x]
    for _ in range(STEPS):
        g = surface._grad(x)
        b = g.copy() if b is None else momentum * b + g
        x = x - lr * b
        out.append(x)
    out = np.array(out)
    return out, surface._value(out)


def plain_adam(surface, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    x, m, v = X0.copy(), np.zeros(2), np.zeros(2)
    out = [x]
    for t in range(1, STEPS + 1):
        g = surface._grad(x)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        x = x - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
        out.append(x)
    out = np.array(out)
    return out, surface._value(out)


def plain_nesterov(surface, lr, momentum):
    x, v = X0.copy(), np.zeros(2)
    out = [x]
    for _ in range(STEPS):
        v = momentum * v - lr * surface._grad(x + momentum * v)
        x = x + v
        out.append(x)
    out = np.array(out)
    return out, surface._value(out)


def median_ms(fn) -> float:
    fn()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main():
    quadratic = surfaces.quadratic(20.0, angle=np.pi / 6)
    rosenbrock = surfaces.rosenbrock()
    cases = [
        ("sgd momentum, quadratic", optim.sgd(0.1, momentum=0.9), quadratic, lambda: plain_heavy_ball(quadratic, 0.1, 0.9)),
        ("adam, quadratic", optim.adam(0.05), quadratic, lambda: plain_adam(quadratic, 0.05)),
        ("nesterov look-ahead, rosenbrock", optim.nesterov_lookahead(1e-3, 0.9), rosenbrock,
         lambda: plain_nesterov(rosenbrock, 1e-3, 0.9)),
        ("adam, rosenbrock", optim.adam(0.05), rosenbrock, lambda: plain_adam(rosenbrock, 0.05)),
    ]
    print(f"{STEPS}-step 2-D trajectory + losses; median of {REPEATS}")
    print(f"  {'case':34} {'course_lib ms':>13} {'plain loop ms':>13} {'ratio':>6}")
    results = []
    for label, opt, surface, plain in cases:
        ours = surfaces.run(opt, surface, X0, STEPS)
        reference = plain()
        np.testing.assert_allclose(ours.params, reference[0], rtol=1e-9, atol=1e-12)  # the same maths
        mine = median_ms(lambda: surfaces.run(opt, surface, X0, STEPS))
        theirs = median_ms(plain)
        print(f"  {label:34} {mine:13.2f} {theirs:13.2f} {mine / theirs:6.2f}")
        results.append((label, mine, mine / theirs))
    return results


if __name__ == "__main__":
    main()
