"""Waiting threads: what spinning costs a CPU budget on a busy machine.

OpenMP (PyTorch's intra-op pool) and OpenBLAS (numpy) let their threads spin while they
wait for work. On a machine whose cores are busy, that spinning is CPU time, and time
budgets count CPU time. This runs the same work in a child process with the worker's two
threads, beside two CPU hogs, with the libraries' defaults and with the worker's
environment (``graders.sandbox.client.thread_environment``), and prints the CPU seconds:
3,000 steps of a small PyTorch MLP (the size of a5's Q-network) and 3,000 products of a
(128, 784) by (784, 64) numpy matrix (a2's layer).

    python bench/threads.py            # writes its section of bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from results_file import write_section  # noqa: E402

from graders.sandbox.limits import thread_environment  # noqa: E402

TORCH_STEPS = """
import time, torch
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(8, 128), torch.nn.ReLU(), torch.nn.Linear(128, 128),
                          torch.nn.ReLU(), torch.nn.Linear(128, 4))
opt = torch.optim.Adam(net.parameters(), 1e-3)
x, y = torch.randn(64, 8), torch.randn(64, 4)
for _ in range(3000):
    loss = ((net(x) - y) ** 2).mean(); opt.zero_grad(); loss.backward(); opt.step()
"""
NUMPY_PRODUCTS = """
import numpy as np
a, b = np.random.rand(128, 784), np.random.rand(784, 64)
for _ in range(3000):
    (a @ b).sum()
"""
WORKLOADS = {"PyTorch, 3,000 MLP steps": TORCH_STEPS, "numpy, 3,000 products": NUMPY_PRODUCTS}


@contextlib.contextmanager
def hogs(count: int) -> Iterator[None]:
    """``count`` processes that keep a core busy each, killed afterwards."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def cpu_seconds(code: str, environment: dict[str, str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of ``code`` run in a child with ``environment``."""
    import time

    started = time.monotonic()
    before = os.times()
    subprocess.run([sys.executable, "-c", code], env=environment, check=True)
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return cpu, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hogs", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_", "KMP_"))}
    base = {k: v for k, v in base.items() if not k.startswith("OPENBLAS_NUM")}
    spinning = {**base, "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2"}
    sleeping = {**base, **thread_environment(2)}
    single = {**base, **thread_environment(1)}
    rows = []
    with hogs(args.hogs):
        for name, code in WORKLOADS.items():
            spin_cpu, spin_wall = cpu_seconds(code, spinning)
            sleep_cpu, sleep_wall = cpu_seconds(code, sleeping)
            one_cpu, one_wall = cpu_seconds(code, single)
            rows.append(
                f"| {name} | {spin_cpu:.1f} s ({spin_wall:.1f} s wall) | "
                f"{sleep_cpu:.1f} s ({sleep_wall:.1f} s wall) | {spin_cpu / sleep_cpu:.1f}x | "
                f"{one_cpu:.1f} s ({one_wall:.1f} s wall) |"
            )
            print(rows[-1], flush=True)
    body = (
        f"CPU seconds of the same work in a child process with 2 threads, beside {args.hogs} "
        "CPU hogs: with the libraries' defaults (threads spin while they wait) and with the "
        "worker's environment (`OMP_WAIT_POLICY=PASSIVE`, `GOMP_SPINCOUNT=0`, "
        "`KMP_BLOCKTIME=0`, `OPENBLAS_THREAD_TIMEOUT=4`: threads sleep at once). Budgets "
        "count CPU seconds, so the spinning is what a busy machine used to charge a "
        "submission. The last column is one sleeping thread, what a5's workers get: about "
        "the same CPU seconds; beside hogs its wall time is longer, one thread getting a "
        "smaller share of the busy cores. On a5's real training (the reference, 3,000 "
        "steps, farm-bench, median of 3 runs in turn on a machine busy with other work) one "
        "thread took 0.81x the wall time and 0.77x the CPU seconds of two.\n\n"
        "| work | spinning threads | sleeping threads (the worker's) | spinning costs "
        "| one thread (a5's) |\n"
        "|---|---|---|---|---|\n" + "\n".join(rows)
    )
    if not args.no_write:
        write_section("bench/threads.py", body)
    print(body)


if __name__ == "__main__":
    main()
