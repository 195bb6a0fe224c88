"""Vector gating from several starts: K = 3 families whose ω* dips in the middle block.

For each family (C = I, n_k = 4, Σ = I_2, σ² = 0.1 and the query correlations below), trains the
constrained vector-gated GLA from the default single start and with ``starts=8`` (start 0 the
default, 7 gate initialisations uniform in [−4, 4], all on one prompt stream, the best by
training loss), for seeds 0–2, and prints the test risk and the paired gap against the
optimum's predictor on the same prompts, beside L*_scalar and L*_vector.

Run: ``PYTHONPATH=$PWD nice python benchmarks/experiments/vector_starts.py`` (output committed
as docs/figures/vector_starts.txt).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from wpgd_theory import MultitaskModel
from wpgd_theory.multitask.gating import scalar_gating_optimum, vector_gating_optimum
from wpgd_theory.training import train

FAMILIES = ((0.24, 0.13, 0.89), (0.3, 0.1, 0.9), (0.4, 0.05, 0.85), (0.5, 0.1, 0.8))


def family(c, d=2):
    return MultitaskModel(np.eye(3), list(c), [4, 4, 4], np.eye(d), 0.1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--starts", type=int, default=8)
    parser.add_argument("--test-prompts", type=int, default=2**18)
    args = parser.parse_args(argv)
    begin = time.perf_counter()
    for c in FAMILIES:
        model = family(c)
        vector, scalar = vector_gating_optimum(model), scalar_gating_optimum(model)
        print(f"c = {c}: L*_vector = {vector.risk:.4f} (block weights "
              f"{np.round(vector.block_weights / vector.block_weights[-1], 3).tolist()}), "
              f"L*_scalar = {scalar.risk:.4f} (+{100 * (scalar.risk / vector.risk - 1):.2f} %)",
              flush=True)
        for starts in (1, args.starts):
            for seed in range(args.seeds):
                r = train(model, "vector", seed=seed, starts=starts, steps=args.steps,
                          batch_size=args.batch, learning_rate=0.01,
                          test_prompts=args.test_prompts)
                picked = ("" if starts == 1 else
                          f"; picked start {min(r.start_runs, key=lambda s: s['train_loss'])['start']}"
                          f", starts' paired gaps " + ", ".join(
                              f"{100 * s['paired_gap'] / vector.risk:+.1f}" for s in r.start_runs)
                          + " %")
                print(f"  starts={starts} seed {seed}: MC {r.test_risk:.4f} ± {r.test_risk_se:.4f}, "
                      f"paired gap vs L*_vector {100 * r.relative_paired_gap:+.2f} % ± "
                      f"{100 * r.paired_gap_se / vector.risk:.2f} %, block weights "
                      f"{np.round(r.block_weights, 3).tolist()}{picked}", flush=True)
    print(f"total {time.perf_counter() - begin:.0f} s")


if __name__ == "__main__":
    main()
