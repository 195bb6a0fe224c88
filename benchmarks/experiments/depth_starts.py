"""Depth with several starts: the label-gate setting at L = 4, scalar and vector gating, seeds 0
and 1, ``starts=4`` (start 0 is the default initialisation, the run of depth.py's seed; starts 1-3
draw their gate logits from [-4, 4]); the start with the lowest final training loss is kept.

Writes docs/figures/depth_starts.txt. Run: ``PYTHONPATH=$PWD python
benchmarks/experiments/depth_starts.py`` (about 9 min on 2 cores).
"""
from __future__ import annotations

import time

import numpy as np

from wpgd_theory import MultitaskModel, bayes_risk, solve_multitask
from wpgd_theory.training import train


def main():
    model = MultitaskModel(np.eye(2), [0.2, 0.9], [8, 8], np.eye(4), 0.1)
    wpgd = solve_multitask(model).risk
    floor = bayes_risk(model, draws=100_000, seed=12345).risk
    lines = [f"label-gate, L = 4, starts = 4, 3000 steps, batch 256, learning rate 0.01; "
             f"L*_WPGD = {wpgd:.4f}, Bayes floor {floor:.4f}"]
    for gating in ("scalar", "vector"):
        for seed in (0, 1):
            start = time.perf_counter()
            r = train(model, gating, layers=4, seed=seed, starts=4, steps=3000, batch_size=256,
                      learning_rate=0.01, test_prompts=65_536)
            closed = 100 * (wpgd - r.test_risk) / (wpgd - floor)
            lines.append(
                f"{gating} seed {seed}: kept start {r.start_runs and min(r.start_runs, key=lambda x: x['train_loss'])['start']}, "
                f"test risk {r.test_risk:.4f} ± {r.test_risk_se:.4f} (gap closed {closed:.1f} %); "
                "starts' test risks " + ", ".join(f"{x['test_risk']:.4f}" for x in r.start_runs)
                + "; training losses " + ", ".join(f"{x['train_loss']:.4f}" for x in r.start_runs)
                + f"  [{time.perf_counter() - start:.0f} s]")
            print(lines[-1], flush=True)
    with open("docs/figures/depth_starts.txt", "w") as handle:
        handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
