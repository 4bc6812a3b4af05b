"""One training epoch of the book's digits network, course_lib against torch (CPU, one thread).

The network is 64-128-128-10 with batch norm and dropout (p = 0.2) after each hidden layer,
ReLU, softmax cross-entropy, Adam (lr = 1e-3), mini-batches of 64, on the training part of the
digits split (1079 images, 17 batches). Both libraries see the same batches in the same order.
course_lib runs its own ``train`` loop (float64); torch runs the usual
zero_grad/forward/backward/step loop, in its default float32 and in float64.

numpy's BLAS is limited to one thread too (threadpoolctl), so both run on one core.

Prints the median time per epoch of each and the ratio course_lib / torch (< 1: course_lib faster).
Run: ``python benchmarks/train_epoch.py``.
"""
from __future__ import annotations

import statistics
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from course_lib import data, nn, optim
from course_lib.train import train

REPEATS = 15
BATCH = 64


def course_lib_epoch_times(x, y, seed):
    model = nn.mlp([64, 128, 128, 10], rng=0, batchnorm=True, dropout=0.2)
    opt = optim.adam(lr=1e-3)
    times = []
    for r in range(REPEATS):
        start = time.perf_counter()
        train(model, opt, (x, y), epochs=1, batch_size=BATCH, seed=seed + r)
        times.append(time.perf_counter() - start)
    return times


def torch_epoch_times(x, y, seed, dtype):
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 128), torch.nn.BatchNorm1d(128), torch.nn.ReLU(), torch.nn.Dropout(0.2),
        torch.nn.Linear(128, 128), torch.nn.BatchNorm1d(128), torch.nn.ReLU(), torch.nn.Dropout(0.2),
        torch.nn.Linear(128, 10),
    ).to(dtype)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.tensor(x, dtype=dtype), torch.tensor(y)
    model.train()
    times = []
    for r in range(REPEATS):
        start = time.perf_counter()
        order = np.random.default_rng(seed + r).permutation(len(x))  # the same order as course_lib
        for i in range(0, len(x), BATCH):
            idx = torch.from_numpy(order[i:i + BATCH])
            if len(idx) < 2:
                continue
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    return times


def main():
    torch.set_num_threads(1)          # one thread each: torch's intra-op pool and numpy's BLAS
    with threadpool_limits(limits=1):
        run()


def run():
    split = data.load_digits()
    x, _, _ = data.standardize(split.x_train)
    y = split.y_train
    course = course_lib_epoch_times(x, y, seed=1)  # warm-up included in the median's robustness
    ref32 = torch_epoch_times(x, y, seed=1, dtype=torch.float32)
    ref64 = torch_epoch_times(x, y, seed=1, dtype=torch.float64)
    c, t32, t64 = (statistics.median(t) for t in (course, ref32, ref64))
    print(f"one epoch, {len(x)} examples, batch {BATCH}, median of {REPEATS}")
    print(f"  course_lib (numpy, float64): {1e3 * c:8.2f} ms")
    print(f"  torch float32, 1 thread:     {1e3 * t32:8.2f} ms")
    print(f"  torch float64, 1 thread:     {1e3 * t64:8.2f} ms")
    print(f"ratio course_lib / torch float32: {c / t32:.2f}  (aim <= 0.5)")
    print(f"ratio course_lib / torch float64: {c / t64:.2f}")


if __name__ == "__main__":
    main()
