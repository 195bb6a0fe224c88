"""Throughput of executor-based sweeps, measured in one run.

1. A CPU-bound phase-diagram sweep (two-cluster spectra, n = 100, d = 20) on a Dask
   ``LocalCluster`` with 2 single-threaded workers against the same cluster type with 1 worker
   (target ≥ 1.6×), with the in-process time for reference. Clusters are started before timing.
   The 1-worker run is repeated after the 2-worker run and the two are averaged (load drifts).
2. The phase diagram at d = n = 10 (both shapes) on 2 Dask workers: 10⁵ instances, extrapolated
   to 10⁶ (target ≤ 10 min); ``WPGD_FULL=1`` runs the 10⁶ sweep itself.

The machine is shared: the load average is printed before and after, and the workers' CPU time
(``client.run(time.process_time)``) separates scheduling overhead from the cores actually obtained:
``2 × CPU(1 worker) / CPU(2 workers)`` is the speed-up to expect when each worker gets a free core.
Usage:
``OPENBLAS_NUM_THREADS=1 PYTHONPATH=. python benchmarks/bench_sweeps.py``
(``PYTHONPATH`` is inherited by the Dask workers, so they import this checkout).
"""
from __future__ import annotations

import os
import time

from _timing import load, timed

from wpgd_theory.sweeps import open_executor, run_phase_diagram

CPU_SWEEP = dict(n_values=[100], d_values=[20], shapes=("two_cluster",), instances=4000,
                 block_size=250, seed=0)




def cpu_sweep(executor):
    return timed(lambda: run_phase_diagram(**CPU_SWEEP, executor=executor, chunk_size=250))


def worker_cpu(client):
    return sum(client.run(time.process_time).values())


def bench_scaling():
    t_local, reference = cpu_sweep(None)
    times, cpus = {}, {}
    for workers in (1, 2, 1):
        with open_executor(f"dask-local:{workers}") as client:
            cpu_sweep(client)  # warm-up: imports on the workers
            before = worker_cpu(client)
            t, result = cpu_sweep(client)
            cpu = worker_cpu(client) - before
            assert result.rows == reference.rows, "results differ between executors"
            times.setdefault(workers, []).append(t)
            cpus.setdefault(workers, []).append(cpu)
    one = sum(times[1]) / len(times[1])
    two = times[2][0]
    cpu_one, cpu_two = sum(cpus[1]) / len(cpus[1]), cpus[2][0]
    instances = CPU_SWEEP["instances"]
    print(f"CPU-bound sweep ({instances} two-cluster instances, n = 100, d = 20):")
    print(f"  in-process {t_local:.2f} s; LocalCluster 1 worker {times[1][0]:.2f} s and "
          f"{times[1][1]:.2f} s, 2 workers {two:.2f} s")
    print(f"  throughput 2 workers / 1 worker = {one / two:.2f}x   (target >= 1.6); "
          "identical tables: yes")
    print(f"  workers' CPU time: 1 worker {cpu_one:.2f} s, 2 workers {cpu_two:.2f} s in total "
          f"(work per instance ratio {cpu_two / cpu_one:.2f}); cores obtained "
          f"{cpu_one / one:.2f} vs {cpu_two / two:.2f}; estimate when each worker gets a "
          f"free core: 2 x {cpu_one:.2f} / {cpu_two:.2f} = {2 * cpu_one / cpu_two:.2f}x")


def bench_million(full):
    total = 1_000_000 if full else 100_000
    per_shape = total // 2
    with open_executor("dask-local:2") as client:
        run_phase_diagram([10], [10], instances=1000, block_size=1000, executor=client)
        t, diagram = timed(lambda: run_phase_diagram(
            [10], [10], instances=per_shape, block_size=5000, executor=client))
    print(f"phase diagram at d = n = 10, {total:,} instances on 2 Dask workers: {t:.1f} s "
          f"({total / t:,.0f} instances/s)")
    if not full:
        print(f"  extrapolated to 10^6 instances: {t * 1_000_000 / total / 60:.1f} min "
              "(target <= 10 min; WPGD_FULL=1 runs it)")
    for row in diagram.rows:
        print(f"  {row['shape']}: several fixed points {row['several']}/{row['instances']} "
              f"(95% CI [{row['share_low']:.2g}, {row['share_high']:.2g}]), "
              f"max slope {row['max_slope']:.3f}")


if __name__ == "__main__":
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, {load()}")
    bench_scaling()
    print(load())
    bench_million(os.environ.get("WPGD_FULL") == "1")
    print(load())
