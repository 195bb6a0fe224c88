"""Do label-reading gates beat the WPGD optimum?  (issue #13, last bullets; docs/findings.md)

Probe setting: d = 4, K = 2, n₁ = n₂ = 8, C = I, c = (0.2, 0.9), σ² = 0.1, Σ = I. Full GLA layer
(free W_q, W_k, w_v) with a scalar gate σ(w·[z_c; 1]) on the delimiter features only ("scalar")
or σ(w·[z; 1]) on the whole token ("scalar_token", it sees x_i and y_i), or on the whole token
with the label zeroed ("scalar_features": data-dependent weights that are still linear in y).
Constrained layer (W_v = e_label, only the x-rows of W_q, W_k: the Theorem-1/4 class, trained to
within ~0.01 % of its optimum) with delimiter gates ("scalar") or with delimiter gates and
σ(b + v·x_j) on data token j ("scalar_x": reads x, not y). Seeds vmapped. Every row reports the
paired gap to the WPGD optimum's predictor on the same prompts: the unpaired standard error
(≈ 0.004) cannot resolve effects of 0.001.

Enlarged linear class (``--enlarged-only``): least squares over the features
x ⊗ Σ_{i∈block} f_i x_i with f_i = y_i (contains every WPGD predictor) plus one odd label term:
y_i³, y_i Σ_j y_j², or y_i Σ_{j>i} y_j².

Checks: (1) the evaluator on the constrained scalar model, whose exact risk is known in closed
form; (2) a second, independent test set; (3) ablations of the trained whole-token gate: its
label weight set to 0 (gates still read x), and the odd part ŷ_odd = (ŷ(y) − ŷ(−y))/2 of the
predictor (y → −y with β → −β, ε → −ε is a symmetry of the data, so the Bayes predictor is odd and
the even part only adds E[ŷ_even²] to the risk).

Run: ``PYTHONPATH=$PWD nice python benchmarks/experiments/label_gate.py [--steps 6000]``
(docs/figures/label_gate.txt: ``--constrained-gatings`` for the full-layer part, then
``--skip-check --gatings`` for the constrained part, then ``--enlarged-only``, each appended;
≈ 8 + 8 + 2.5 min on the shared 2-core machine).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from wpgd_theory import MultitaskModel, solve_multitask
from wpgd_theory.core.model import Prompts
from wpgd_theory.core.predictor import wpgd_predict
from wpgd_theory.training import Architecture, PromptSampler, evaluate, train_seeds
from wpgd_theory.training._jax import jax, jnp


def odd_even(arch, params, reference, num, seed):
    """Risks of the model, of its odd part ``(ŷ(y) − ŷ(−y))/2`` and ``E[ŷ_even²]`` on ``num``
    fresh prompts (key ``seed``), and the paired gap of the odd part to the WPGD optimum's
    predictor ``reference = (P*, ω*)`` with its standard error."""
    sampler = PromptSampler(arch.model)
    P, omega = (jnp.asarray(a, jnp.float32) for a in reference)

    @jax.jit
    def stats(index):
        p = sampler.sample(jax.random.fold_in(jax.random.PRNGKey(seed), index), 8192)
        flipped = Prompts(p.context_inputs, -p.context_labels, p.query_input, -p.query_label)
        a, b = arch.predict(params, p), arch.predict(params, flipped)
        odd, even = (a - b) / 2, (a + b) / 2
        best = wpgd_predict(p.query_input, p.context_inputs, p.context_labels, P, omega)
        paired = (p.query_label - odd) ** 2 - (p.query_label - best) ** 2
        return (jnp.sum((p.query_label - a) ** 2), jnp.sum((p.query_label - odd) ** 2),
                jnp.sum(even**2), jnp.sum(paired), jnp.sum(paired**2))
    totals = np.zeros(5)
    chunks = num // 8192
    for i in range(chunks):
        totals += np.array([float(v) for v in stats(i)])
    total = chunks * 8192
    gap = totals[3] / total
    gap_se = np.sqrt(max(totals[4] / total - gap**2, 0.0) / (total - 1))
    return (*(totals[:3] / total), gap, gap_se)


ENLARGED_TERMS = ("linear", "cubic", "energy", "suffix")
"""Odd label features of the enlarged linear class (each times ``x ⊗ x_i``, summed per block):
``y_i`` (per-block ``P``: contains every WPGD predictor), ``y_i³``, ``y_i Σ_j y_j²`` (total label
energy) and ``y_i Σ_{j>i} y_j²`` (the suffix terms of a label-reading gate)."""


def block_features(prompts, sizes, term):
    """``x ⊗ Σ_{i∈b} f_i x_i`` per block ``b`` (shape ``(N, K d²)``), ``f_i`` the label term."""
    X, y, x = prompts.context_inputs, prompts.context_labels, prompts.query_input
    weights = {"linear": y, "cubic": y**3,
               "energy": y * np.sum(y**2, axis=1, keepdims=True),
               "suffix": y * (np.cumsum((y**2)[:, ::-1], axis=1)[:, ::-1] - y**2)}[term]
    edges = np.concatenate([[0], np.cumsum(sizes)])
    blocks = [np.einsum("ni,nid->nd", weights[:, a:b], X[:, a:b]) for a, b in
              zip(edges[:-1], edges[1:])]
    return np.concatenate([np.einsum("nd,ne->nde", x, v).reshape(len(x), -1) for v in blocks],
                          axis=1)


def enlarged_class(model, train_prompts=2**18, test_prompts=2**18, seed=5):
    """Least-squares fit over the WPGD features plus each odd label term (``ENLARGED_TERMS``):
    test risk and paired gap to the WPGD optimum's predictor, on fresh prompts."""
    best = solve_multitask(model)
    P, omega = best.preconditioner, model.expand(np.asarray(best.block_weights, float))
    train, test = model.sample(train_prompts, seed=seed), model.sample(test_prompts, seed=seed + 1)
    optimal = test.query_label - np.einsum("nd,de,nie,ni->n", test.query_input, P,
                                           test.context_inputs, omega * test.context_labels)
    lines = [f"enlarged linear class: least squares on {train_prompts} prompts, test on "
             f"{test_prompts} others; L*_WPGD = {best.risk:.4f}, WPGD* on the test set "
             f"{np.mean(optimal**2):.4f}"]
    for extra in (None, *ENLARGED_TERMS[1:]):
        terms = ("linear",) if extra is None else ("linear", extra)
        fit = np.concatenate([block_features(train, model.sizes, t) for t in terms], axis=1)
        coefficients = np.linalg.lstsq(fit, train.query_label, rcond=None)[0]
        features = np.concatenate([block_features(test, model.sizes, t) for t in terms], axis=1)
        error = test.query_label - features @ coefficients
        gap = error**2 - optimal**2
        se = gap.std(ddof=1) / np.sqrt(gap.size)
        lines.append(f"  {' + '.join(terms):<16s} test {np.mean(error**2):.4f}, paired vs WPGD* "
                     f"{paired(gap.mean(), se)} ({100 * gap.mean() / best.risk:+.2f} % of L*)")
    return "\n".join(lines)


def paired(gap, se):
    return f"{gap:+.5f} ± {se:.5f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--test", type=int, default=2**20)
    parser.add_argument("--gatings", nargs="*", default=["scalar", "scalar_token",
                                                         "scalar_features"],
                        help="full-layer gatings")
    parser.add_argument("--constrained-gatings", nargs="*", default=["scalar", "scalar_x"],
                        help="constrained-layer gatings (W_v = e_label, x-rows of W_q, W_k)")
    parser.add_argument("--skip-check", action="store_true")
    parser.add_argument("--enlarged-only", action="store_true",
                        help="only the least-squares fit of the enlarged linear class")
    args = parser.parse_args(argv)
    model = MultitaskModel(np.eye(2), [0.2, 0.9], [8, 8], np.eye(4), 0.1)
    if args.enlarged_only:
        print(enlarged_class(model), flush=True)
        return
    seeds = list(range(args.seeds))
    common = dict(steps=args.steps, batch_size=args.batch, learning_rate=args.lr,
                  test_prompts=args.test)
    start = time.perf_counter()
    print(f"{args.steps} steps x {args.batch} prompts, lr {args.lr}, seeds {seeds}, test sets "
          f"A (default key) and B (key 777) of {args.test} prompts. 'paired' = mean of "
          f"(y - yhat)^2 - (y - yhat*)^2 on the same prompts, yhat* the WPGD optimum's predictor "
          f"(P*, w*), ± its standard error.", flush=True)
    if not args.skip_check:
        check = train_seeds(model, "scalar", seeds=[0], parameterisation="constrained",
                            **common)[0]
        print(f"evaluator check (constrained scalar): MC {check.test_risk:.4f} ± "
              f"{check.test_risk_se:.4f} vs closed form {check.closed_form_risk:.4f}; "
              f"paired vs WPGD* {paired(check.paired_gap, check.paired_gap_se)}, exact "
              f"{check.closed_form_risk - check.optimum.risk:+.4f}; L*_scalar = "
              f"{check.optimum.risk:.4f}, L*_WPGD = {check.optimum.wpgd_risk:.4f}", flush=True)
    for gating in args.gatings:
        results = train_seeds(model, gating, seeds=seeds, parameterisation="full", **common)
        arch = Architecture.build(model, gating, "full")
        for r in results:
            second = evaluate(arch, r.params, test_prompts=args.test, test_seed=777)
            line = (f"{gating:<15s} seed {r.seed}: A {r.test_risk:.4f} ± {r.test_risk_se:.4f} "
                    f"paired {paired(r.paired_gap, r.paired_gap_se)}; B {second.risk:.4f} ± "
                    f"{second.risk_se:.4f} paired {paired(second.paired_gap, second.paired_gap_se)}"
                    f"; L*_WPGD {r.optimum.wpgd_risk:.4f}")
            if gating in ("scalar_token", "scalar_features"):
                w = np.asarray(r.params["gate"])
                ablated = dict(r.params, gate=w.copy())
                ablated["gate"][model.d] = 0.0                  # the label coordinate of z
                no_label = evaluate(arch, ablated, test_prompts=args.test, test_seed=777)
                reference = (r.optimum.preconditioner, r.optimum.weights)
                full, odd, even2, odd_gap, odd_se = odd_even(arch, r.params, reference,
                                                             args.test, 778)
                line += (f"\n    gate weights x {np.round(w[:model.d], 3).tolist()}, y "
                         f"{w[model.d]:.3f}, delimiters {np.round(w[model.d + 1:-1], 3).tolist()}"
                         f", bias {w[-1]:.3f}\n    label weight → 0 (B): {no_label.risk:.4f} ± "
                         f"{no_label.risk_se:.4f} paired "
                         f"{paired(no_label.paired_gap, no_label.paired_gap_se)}\n    set C: "
                         f"full {full:.4f}, odd part {odd:.4f} paired {paired(odd_gap, odd_se)}, "
                         f"E[even²] {even2:.5f}")
            print(line, flush=True)
        print(f"  ({time.perf_counter() - start:.0f} s)", flush=True)
    for gating in args.constrained_gatings:
        results = train_seeds(model, gating, seeds=seeds, parameterisation="constrained",
                              **common)
        arch = Architecture.build(model, gating, "constrained")
        for r in results:
            second = evaluate(arch, r.params, test_prompts=args.test, test_seed=777)
            line = (f"constrained {gating:<8s} seed {r.seed}: A {r.test_risk:.4f} paired "
                    f"{paired(r.paired_gap, r.paired_gap_se)}; B {second.risk:.4f} paired "
                    f"{paired(second.paired_gap, second.paired_gap_se)}")
            if r.closed_form_risk is not None:
                line += f"; exact risk {r.closed_form_risk:.5f}"
            if gating == "scalar_x":
                K, w = model.K, np.asarray(r.params["gate"])
                ablated = dict(r.params, gate=w.copy())
                ablated["gate"][K:K + model.d] = 0.0            # the x weights v of σ(b + v·x)
                no_x = evaluate(arch, ablated, test_prompts=args.test, test_seed=777)
                line += (f"\n    delimiter logits {np.round(w[:K], 3).tolist()}, x weights "
                         f"{np.round(w[K:K + model.d], 3).tolist()}, bias {w[-1]:.3f}; x weights "
                         f"→ 0 (B): paired {paired(no_x.paired_gap, no_x.paired_gap_se)}")
            print(line, flush=True)
        print(f"  ({time.perf_counter() - start:.0f} s)", flush=True)
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
