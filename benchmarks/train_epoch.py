"""One training epoch of the book's digits network, course_lib against torch (CPU, one thread).

The network is 64-128-128-10 with batch norm and dropout (p = 0.2) after each hidden layer,
ReLU, softmax cross-entropy, Adam (lr = 1e-3), mini-batches of 64, on the training part of the
digits split (1079 images, 17 batches). Both libraries see the same batches in the same order.
course_lib runs its own ``train`` loop, in float64 and in float32 (``dtype="float32"``), one call
per epoch with that epoch's batch order (``rng=epoch``; Adam's state restarts each epoch, which does
not change the work per step); torch runs the usual zero_grad/forward/backward/step loop, in its
default float32 and in float64. torch uses one
thread (``torch.set_num_threads(1)``) and so does numpy's BLAS (threadpoolctl).

The epochs of the three runs are interleaved (one of each, repeated), so that a change in the
machine's load affects all three alike. Prints the median time per epoch of each and the ratio
course_lib / torch (< 1: course_lib is faster). Run: ``python benchmarks/train_epoch.py``.
"""
from __future__ import annotations

import statistics
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from course_lib import data, nn, optim
from course_lib.train import train

REPEATS = 21
BATCH = 64


def course_lib_runner(x, y, dtype="float64"):
    model = nn.mlp([64, 128, 128, 10], rng=0, batchnorm=True, dropout=0.2)
    opt = optim.adam(lr=1e-3)

    def epoch(seed):
        train(model, opt, (x, y), epochs=1, batch_size=BATCH, rng=seed, dtype=dtype)

    return epoch


def torch_runner(x, y, dtype):
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 128), torch.nn.BatchNorm1d(128), torch.nn.ReLU(), torch.nn.Dropout(0.2),
        torch.nn.Linear(128, 128), torch.nn.BatchNorm1d(128), torch.nn.ReLU(), torch.nn.Dropout(0.2),
        torch.nn.Linear(128, 10),
    ).to(dtype).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.tensor(x, dtype=dtype), torch.tensor(y)

    def epoch(seed):
        order = np.random.default_rng(seed).permutation(len(x))  # the order course_lib's train uses
        for start in range(0, len(x), BATCH):
            idx = torch.from_numpy(order[start:start + BATCH])
            if len(idx) < 2:
                continue
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()

    return epoch


def main():
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        return run()


def run():
    split = data.load_digits()
    x, _, _ = data.standardize(split.x_train)
    y = split.y_train
    runners = {
        "course_lib (numpy, float64)": course_lib_runner(x, y),
        "course_lib (numpy, float32)": course_lib_runner(x, y, "float32"),
        "torch float32, 1 thread": torch_runner(x, y, torch.float32),
        "torch float64, 1 thread": torch_runner(x, y, torch.float64),
    }
    times = {name: [] for name in runners}
    for repeat in range(REPEATS + 1):
        for name, epoch in runners.items():
            start = time.perf_counter()
            epoch(seed=repeat)
            if repeat:  # the first round is a warm-up
                times[name].append(time.perf_counter() - start)
    median = {name: statistics.median(t) for name, t in times.items()}
    print(f"one epoch: {len(x)} examples, batch {BATCH}, median of {REPEATS} interleaved epochs")
    for name, t in median.items():
        print(f"  {name:<28} {1e3 * t:8.2f} ms")
    course, course32, t32, t64 = median.values()
    print(f"ratio course_lib float64 / torch float32: {course / t32:.2f}  (aim <= 0.5)")
    print(f"ratio course_lib float64 / torch float64: {course / t64:.2f}")
    print(f"ratio course_lib float32 / torch float32: {course32 / t32:.2f}  (aim <= 0.5)")
    return {"float64/torch32": course / t32, "float64/torch64": course / t64, "float32/torch32": course32 / t32}


if __name__ == "__main__":
    main()
