"""The optimisation trap, trained: where runs from many initialisations end (issue #13).

On the certified three-fixed-point instance (``three_fixed_point_instance().to_model(seed=0)``,
n = 200, d = 50: global minimum, saddle, non-global local minimum 0.23 % above it):

* exact descent — Adam on the closed-form risk ``L(P, ω)`` (``population_descent``);
* trained — free ``(P, ω)`` by Adam on fresh prompts (``trap_experiment``, shared prompt stream);
* exact descent on the GLA's parameters — the same Adam on the exact risk, but over the
  constrained scalar-gated GLA's own parameters ``(W_q, W_k, θ)`` from the GLA's initialisations
  (``population_descent(..., gating="scalar")``, part ``gla-exact``);
* trained gated GLA — the constrained scalar-gated GLA (delimiter gates) on the two-block
  multitask instance with the same landscape (``three_fixed_point_multitask_instance``), whose
  three stationary weightings all lie in the monotone cone, so the gates reach each exactly;

each from ``--inits`` initialisations at each ``--scales`` (``init_scale``), runs matched to the
stationary points by the direction of the learned ``ω``. Prints Markdown tables (the text of
docs/figures/trap.txt).

Run: ``PYTHONPATH=$PWD nice python benchmarks/experiments/trap.py [--parts exact wpgd gla-exact gla]``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from wpgd_theory import risk
from wpgd_theory.training.trap import (
    match_stationary_points,
    population_descent,
    stationary_directions,
    trap_experiment,
)
from wpgd_theory.verify.erratum import (
    three_fixed_point_instance,
    three_fixed_point_multitask_instance,
)
from wpgd_theory.verify.search import stationary_points

HEADER = ("| route | init_scale | runs | global minimum | saddle | local minimum | "
          "nearest by direction before the quench (global/saddle/local) | min cos | "
          "exact risk of the ends | after the quench | seconds |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|")


def row(route, scale, basins, nearest, cosines, risks, quenched, seconds, points):
    counts = np.bincount(basins, minlength=len(points))
    before = "/".join(str(c) for c in np.bincount(nearest, minlength=len(points)))
    best = cosines[np.arange(len(nearest)), nearest].min()
    return (f"| {route} | {scale:g} | {len(basins)} | {counts[0]} | {counts[1]} | {counts[2]} | "
            f"{before} | {best:.4f} | {risks.min():.7f} … {risks.max():.7f} | "
            f"{quenched.min():.7f} … {quenched.max():.7f} | {seconds:.0f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parts", nargs="+", default=["exact", "wpgd", "gla-exact", "gla"])
    parser.add_argument("--scales", type=float, nargs="+", default=[0.1, 1.0])
    parser.add_argument("--inits", type=int, default=8)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--gla-inits", type=int, default=6)
    parser.add_argument("--gla-steps", type=int, default=6000)
    parser.add_argument("--gla-lr", type=float, default=0.02)
    parser.add_argument("--gla-batch", type=int, default=64)
    args = parser.parse_args(argv)

    model = three_fixed_point_instance().to_model(seed=0)
    points = stationary_points(model)
    directions = stationary_directions(model, points)
    print("stationary points (dense model): " + ", ".join(
        f"{p.kind} γ = {p.gamma:.4f}, L = {p.risk:.7f}" for p in points))
    gla_dense = three_fixed_point_multitask_instance().to_correlated_task_model()
    print("stationary points (multitask instance, GLA rows): " + ", ".join(
        f"{p.kind} γ = {p.gamma:.4f}, L = {p.risk:.7f}" for p in stationary_points(gla_dense)))
    print()
    print(HEADER)
    for scale in args.scales:
        if "exact" in args.parts:
            start = time.perf_counter()
            ends = population_descent(model, range(args.inits), steps=args.steps,
                                      init_scale=scale)
            cosines, nearest = match_stationary_points([w for _, w in ends], directions)
            risks = np.array([risk(model, P, w) for P, w in ends])
            print(row("exact descent, free (P, ω)", scale, nearest, nearest, cosines, risks,
                      risks, time.perf_counter() - start, points), flush=True)
        if "wpgd" in args.parts:
            out = trap_experiment(model, inits=args.inits, steps=args.steps,
                                  batch_size=args.batch, init_scale=scale, stationary=points)
            print(row(f"trained on prompts (batch {args.batch}), free (P, ω)", scale,
                      out.basins, out.nearest, out.cosines, out.risks, out.quenched_risks,
                      out.seconds, points), flush=True)
        multitask = three_fixed_point_multitask_instance()
        gla_points = stationary_points(multitask.to_correlated_task_model())
        if "gla-exact" in args.parts:
            start = time.perf_counter()
            ends = population_descent(multitask, range(args.gla_inits), gating="scalar",
                                      steps=args.gla_steps, learning_rate=args.gla_lr,
                                      init_scale=scale)
            gla_directions = stationary_directions(multitask, gla_points)
            cosines, nearest = match_stationary_points([w for _, w in ends], gla_directions)
            dense = multitask.to_correlated_task_model()
            risks = np.array([risk(dense, P, w) for P, w in ends])
            print(row("exact descent, scalar-gated GLA parameters (W_q, W_k, θ), multitask "
                      "instance", scale, nearest, nearest, cosines, risks, risks,
                      time.perf_counter() - start, gla_points), flush=True)
            ratios = [float(w[0] / w[-1]) for _, w in ends]
            print(f"|   w1/w2 at the ends: {', '.join(f'{x:.4f}' for x in ratios)} | | | | | | | "
                  "| | | |", flush=True)
        if "gla" in args.parts:
            out = trap_experiment(multitask, "scalar", inits=args.gla_inits,
                                  steps=args.gla_steps, batch_size=args.gla_batch,
                                  learning_rate=args.gla_lr, init_scale=scale,
                                  stationary=gla_points)
            print(row(f"trained on prompts (batch {args.gla_batch}), scalar-gated GLA, "
                      "multitask instance", scale, out.basins, out.nearest, out.cosines,
                      out.risks, out.quenched_risks, out.seconds, gla_points), flush=True)
            ratios = [float(r.block_weights[0] / r.block_weights[1]) for r in out.results]
            print(f"|   learned w1/w2: {', '.join(f'{x:.4f}' for x in ratios)} (stationary: "
                  "0.0104 global, 0.0519 saddle, 0.1134 local) | | | | | | | | | | |", flush=True)


if __name__ == "__main__":
    main()
