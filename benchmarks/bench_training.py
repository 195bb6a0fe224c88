"""Training benchmark (not a test): one model, vmap over seeds, optional Figure-1 overlay timing.

Run: ``PYTHONPATH=$PWD python benchmarks/bench_training.py [--steps 5000] [--quick]``.
Prints wall times and ratios against the single-model baseline measured in the same run.
Targets (issue #13): one model at d = 10, n = 40, batch 512, 5 000 Adam steps ≤ 30 s on one
core; vmap of 8 seeds ≤ 3× one seed's time (measured with independent prompt streams and with
one shared stream).
"""
from __future__ import annotations

import argparse
import time

from wpgd_theory import paper_setting_model
from wpgd_theory.training import train, train_seeds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--d", type=int, default=10)
    parser.add_argument("--gating", default="scalar")
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--skip-vmap", action="store_true")
    parser.add_argument("--depth", type=int, default=4,
                        help="also time an L-layer model (target: L = 4 ≤ 4× one layer); 0 skips")
    args = parser.parse_args(argv)
    model = paper_setting_model(args.n, 0.2, 0.8, args.d, 0.0)
    common = dict(steps=args.steps, batch_size=args.batch, learning_rate=0.01,
                  test_prompts=65_536)

    start, cpu = time.perf_counter(), time.process_time()
    one = train(model, args.gating, seed=0, **common)
    single, single_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"one model ({args.gating}, d={args.d}, n={args.n}, batch {args.batch}, "
          f"{args.steps} Adam steps, incl. compile and 65 536 test prompts): {single:.1f} s wall, "
          f"{single_cpu:.1f} s CPU (all threads; ≈ the time on one free core)")
    print(f"  {one}")
    if args.depth > 1:
        start, cpu = time.perf_counter(), time.process_time()
        deep = train(model, args.gating, seed=0, layers=args.depth, **common)
        wall, deep_cpu = time.perf_counter() - start, time.process_time() - cpu
        print(f"{args.depth} layers, same size and steps: {wall:.1f} s wall = "
              f"{wall / single:.2f} × one layer; CPU {deep_cpu:.1f} s = "
              f"{deep_cpu / single_cpu:.2f} × (target ≤ 4× for L = 4)")
        print(f"  {deep}")
    if args.skip_vmap:
        return
    start, cpu = time.perf_counter(), time.process_time()
    many = train_seeds(model, args.gating, seeds=list(range(args.seeds)), **common)
    batched, batched_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"vmap over {args.seeds} seeds: {batched:.1f} s wall = {batched / single:.2f} × one "
          f"seed; CPU {batched_cpu:.1f} s = {batched_cpu / single_cpu:.2f} × (target ≤ 3×; "
          f"{args.seeds}× sequential would be ≈ {args.seeds * single:.0f} s)")
    risks = [r.test_risk for r in many]
    print(f"  test risks {min(risks):.4f} … {max(risks):.4f}, optimum {one.optimum.risk:.4f}")
    start, cpu = time.perf_counter(), time.process_time()
    shared = train_seeds(model, args.gating, seeds=list(range(args.seeds)), share_prompts=True,
                         **common)
    batched, batched_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"vmap over {args.seeds} seeds sharing one prompt stream (share_prompts=True: the "
          f"seeds differ in their initialisation only): {batched:.1f} s wall = "
          f"{batched / single:.2f} × one seed; CPU {batched_cpu:.1f} s = "
          f"{batched_cpu / single_cpu:.2f} ×")
    risks = [r.test_risk for r in shared]
    print(f"  test risks {min(risks):.4f} … {max(risks):.4f}")


if __name__ == "__main__":
    main()
