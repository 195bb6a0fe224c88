"""Do label-reading gates beat the WPGD optimum?  (issue #13, last bullets; docs/findings.md)

Probe setting: d = 4, K = 2, n₁ = n₂ = 8, C = I, c = (0.2, 0.9), σ² = 0.1, Σ = I. Full GLA layer
(free W_q, W_k, w_v) with a scalar gate σ(w·[z_c; 1]) on the delimiter features only ("scalar")
or σ(w·[z; 1]) on the whole token ("scalar_token", it sees x_i and y_i), or on the whole token
with the label zeroed ("scalar_features": data-dependent weights that are still linear in y).
Seeds vmapped.

Checks: (1) the evaluator on the constrained scalar model, whose exact risk is known in closed
form; (2) a second, independent test set; (3) ablations of the trained whole-token gate: its
label weight set to 0 (gates still read x), and the odd part ŷ_odd = (ŷ(y) − ŷ(−y))/2 of the
predictor (y → −y with β → −β, ε → −ε is a symmetry of the data, so the Bayes predictor is odd and
the even part only adds E[ŷ_even²] to the risk).

Run: ``PYTHONPATH=$PWD nice python benchmarks/experiments/label_gate.py [--steps 6000]``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from wpgd_theory import MultitaskModel
from wpgd_theory.core.model import Prompts
from wpgd_theory.training import Architecture, PromptSampler, evaluate, train_seeds
from wpgd_theory.training._jax import jax, jnp


def odd_even(arch, params, num, seed):
    sampler = PromptSampler(arch.model)

    @jax.jit
    def stats(index):
        p = sampler.sample(jax.random.fold_in(jax.random.PRNGKey(seed), index), 8192)
        flipped = Prompts(p.context_inputs, -p.context_labels, p.query_input, -p.query_label)
        a, b = arch.predict(params, p), arch.predict(params, flipped)
        odd, even = (a - b) / 2, (a + b) / 2
        return (jnp.sum((p.query_label - a) ** 2), jnp.sum((p.query_label - odd) ** 2),
                jnp.sum(even**2))
    totals = np.zeros(3)
    chunks = num // 8192
    for i in range(chunks):
        totals += np.array([float(v) for v in stats(i)])
    return totals / (chunks * 8192)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--test", type=int, default=2**19)
    parser.add_argument("--gatings", nargs="+", default=["scalar", "scalar_token",
                                                         "scalar_features"])
    parser.add_argument("--skip-check", action="store_true")
    args = parser.parse_args(argv)
    model = MultitaskModel(np.eye(2), [0.2, 0.9], [8, 8], np.eye(4), 0.1)
    seeds = list(range(args.seeds))
    common = dict(steps=args.steps, batch_size=args.batch, learning_rate=args.lr,
                  test_prompts=args.test)
    start = time.perf_counter()
    if not args.skip_check:
        check = train_seeds(model, "scalar", seeds=[0], parameterisation="constrained",
                            **common)[0]
        print(f"evaluator check (constrained scalar): MC {check.test_risk:.4f} ± "
              f"{check.test_risk_se:.4f} vs closed form {check.closed_form_risk:.4f}; "
              f"L*_scalar = {check.optimum.risk:.4f}, L*_WPGD = {check.optimum.wpgd_risk:.4f}",
              flush=True)
    for gating in args.gatings:
        results = train_seeds(model, gating, seeds=seeds, parameterisation="full", **common)
        arch = Architecture.build(model, gating, "full")
        for r in results:
            second = evaluate(arch, r.params, test_prompts=args.test, test_seed=777)
            line = (f"{gating:<12s} seed {r.seed}: test {r.test_risk:.4f} ± {r.test_risk_se:.4f}"
                    f", second test set {second[0]:.4f} ± {second[1]:.4f}; L*_WPGD "
                    f"{r.optimum.wpgd_risk:.4f}")
            if gating in ("scalar_token", "scalar_features"):
                w = np.asarray(r.params["gate"])
                ablated = dict(r.params, gate=w.copy())
                ablated["gate"][model.d] = 0.0                  # the label coordinate of z
                no_label = evaluate(arch, ablated, test_prompts=args.test, test_seed=777)
                full, odd, even2 = odd_even(arch, r.params, args.test, 778)
                line += (f"\n    gate weights x {np.round(w[:model.d], 3).tolist()}, y "
                         f"{w[model.d]:.3f}, delimiters {np.round(w[model.d + 1:-1], 3).tolist()}"
                         f", bias {w[-1]:.3f}\n    label weight → 0: {no_label[0]:.4f} ± "
                         f"{no_label[1]:.4f}; odd part risk {odd:.4f}, E[even²] {even2:.5f} "
                         f"(full {full:.4f})")
            print(line, flush=True)
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
