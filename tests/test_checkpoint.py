"""Reading a GLA layer's weights (``wpgd_theory.gla.checkpoint``) against independent routes.

* Theory → weights → reading: Theorem 1's construction of the optimum ``(P*, ω*)`` (with a
  non-trivial ``P_k``) is read back to ``(P*, ω*)``, and the read ``(P, ω)`` predicts exactly what
  the GLA forward pass computes.
* fla state dict → reading: the per-example preconditioners reproduce, prompt by prompt, the
  output of fla's reference recurrence (``h_t = h_{t-1}·exp(gk_t)[:, None] + k_tᵀv_t``,
  ``o = (scale·q) h``), re-implemented here from its definition.
"""
import numpy as np
import pytest

import wpgd_theory as wt
from wpgd_theory.core.predictor import wpgd_predict
from wpgd_theory.gla.forward import gla_forward

# Equicorrelated tasks with positive correlations: ω* > 0, so scalar gates can realise it.
MODEL = wt.CorrelatedTaskModel(np.diag([0.5, 1.0, 2.0]), 0.6 * np.eye(5) + 0.4,
                               [0.7, 0.6, 0.5, 0.4, 0.3], 0.2)


def _theorem1_layer(solution, P_k):
    """Projections and scalar gates of Theorem 1 realising ``(P*, ω*)`` with the given ``P_k``."""
    P_q = solution.preconditioner @ np.linalg.inv(P_k).T          # P_q P_kᵀ = P*
    W_q, W_k, W_v = wt.theorem1_projections(P_k, P_q)
    omega = solution.weights / solution.weights[-1]
    scalar = np.concatenate([[1.0], omega[:-1] / omega[1:], [omega[-1]]])   # γ_1 … γ_{n+1}
    gates = scalar[:, None] * np.ones(MODEL.d + 1)                   # key-wise copies
    return W_q, W_k, W_v, gates, omega


def test_theorem1_construction_of_the_optimum_reads_back_to_it():
    solution = wt.solve_model(MODEL)
    assert np.all(solution.weights > 0)
    P_k = np.array([[1.0, 0.3, 0.0], [0.0, 2.0, 0.5], [0.2, 0.0, 1.5]])
    W_q, W_k, W_v, gates, omega = _theorem1_layer(solution, P_k)
    reading = wt.read_gla(W_q, W_k, W_v, gates, MODEL)
    # Round-off only: one inverse of a well-conditioned P_k and an SVD of a 5×9 matrix.
    assert reading.rank_one_residual < 1e-12
    # shape_error is sqrt(1 − cos²): a round-off of 1e-16 in cos² shows as ~1e-8.
    assert reading.preconditioner_error < 1e-7 and reading.weights_error < 1e-7
    np.testing.assert_allclose(reading.weights, omega, rtol=1e-10)
    # ω is read scaled to end in 1, and the construction's last weight is 1: P = P* itself.
    np.testing.assert_allclose(reading.preconditioner, solution.preconditioner, rtol=1e-9,
                               atol=1e-12)


def test_reading_predicts_what_the_layer_computes():
    """The read (P, ω) as WPGD equals the GLA forward pass on fresh prompts."""
    solution = wt.solve_model(MODEL)
    W_q, W_k, W_v, gates, _ = _theorem1_layer(solution, np.diag([1.0, 0.5, 2.0]))
    reading = wt.read_gla(W_q, W_k, W_v, gates, MODEL)
    prompts = MODEL.sample(16, seed=1)
    x, X, y = prompts.query_input, prompts.context_inputs, prompts.context_labels
    Z = wt.theorem1_prompt(x, X, y)
    full_gates = gates[:, None, :] * np.ones((1, MODEL.d + 1, 1))          # G_t = 1 α_tᵀ
    layer = gla_forward(Z, W_q, W_k, W_v, full_gates)[..., -1, -1]
    read = wpgd_predict(x, X, y, reading.preconditioner, reading.weights)
    np.testing.assert_allclose(read, layer, rtol=1e-10, atol=1e-12)   # same sums, reordered


def test_keywise_gates_that_differ_across_keys_are_not_rank_one():
    W_q, W_k, W_v = wt.theorem1_projections(np.eye(3), np.eye(3))
    gates = np.tile([[0.9, 0.5, 0.7, 1.0]], (MODEL.n + 1, 1))
    reading = wt.read_gla(W_q, W_k, W_v, gates, MODEL)
    assert reading.rank_one_residual > 0.05          # ω_i differs per key: not one P for all i
    stack = reading.example_preconditioners
    np.testing.assert_allclose(np.diagonal(stack, axis1=1, axis2=2)[:, 0],
                               0.9 ** np.arange(MODEL.n, 0, -1))    # Π_{j>i} α_j, key 0


def _fla_state_dict(rng, D, H, d_k, d_v, rank):
    """An fla GatedLinearAttention state dict whose values read only y and keys only x."""
    q = rng.standard_normal((H * d_k, D))
    k = rng.standard_normal((H * d_k, D))
    k[:, -1] = 0.0                                   # keys ignore the label coordinate
    v = np.zeros((H * d_v, D))
    v[:, -1] = rng.standard_normal(H * d_v)          # values carry the label only
    return {"q_proj.weight": q, "k_proj.weight": k, "v_proj.weight": v,
            "o_proj.weight": rng.standard_normal((D, H * d_v)),
            "gk_proj.0.weight": rng.standard_normal((rank, D)),
            "gk_proj.1.weight": rng.standard_normal((H * d_k, rank)),
            "gk_proj.1.bias": rng.standard_normal(H * d_k),
            "g_proj.weight": rng.standard_normal((H * d_v, D))}   # output gate: ignored


def _fla_reference_output(state, Z, H, d_k, d_v, normalizer=16.0):
    """fla's naive recurrence for each head, summed through o_proj's last row (no output gate)."""
    q, k, v = (Z @ state[name].T for name in ("q_proj.weight", "k_proj.weight", "v_proj.weight"))
    logits = Z @ state["gk_proj.0.weight"].T @ state["gk_proj.1.weight"].T + state["gk_proj.1.bias"]
    gk = np.log(1.0 / (1.0 + np.exp(-logits))) / normalizer
    out = np.zeros(Z.shape[0])
    for head in range(H):
        ks, vs = slice(head * d_k, (head + 1) * d_k), slice(head * d_v, (head + 1) * d_v)
        h = np.zeros((Z.shape[0], d_k, d_v))
        for t in range(Z.shape[1]):
            h = h * np.exp(gk[:, t, ks])[..., None] + k[:, t, ks, None] * v[:, t, None, vs]
        o = np.einsum("bk,bkv->bv", q[:, -1, ks] * d_k ** -0.5, h)
        out += o @ state["o_proj.weight"][-1, vs]
    return out


def test_fla_state_dict_reading_reproduces_fla_recurrence():
    rng = np.random.default_rng(3)
    D, H, d_k, d_v = MODEL.d + 1, 2, 4, 3
    state = _fla_state_dict(rng, D, H, d_k, d_v, rank=2)
    prompts = MODEL.sample(8, seed=2)
    Z = wt.theorem1_prompt(prompts.query_input, prompts.context_inputs, prompts.context_labels)
    total = 0.0
    for head in range(H):
        arrays = wt.fla_gla_arrays(state, num_heads=H, head=head)
        Omega = wt.keywise_induced_weights(arrays.gates(Z))
        stack = wt.example_preconditioners(arrays.W_q, arrays.W_k, arrays.W_v, Omega,
                                           readout=arrays.readout)            # (b, n, d, d)
        total = total + np.einsum("bj,bnjk,bnk,bn->b", prompts.query_input, stack,
                                  prompts.context_inputs, prompts.context_labels)
    # Two routes (recurrence vs closed form) over n = 5 steps: round-off only.
    np.testing.assert_allclose(total, _fla_reference_output(state, Z, H, d_k, d_v),
                               rtol=1e-10, atol=1e-12)
    reading = wt.fla_gla_arrays(state, num_heads=H, head=0).read(MODEL, prompts=8)
    assert 0.0 <= reading.weights_error <= 1.0 and reading.weights.shape == (MODEL.n,)


def test_fla_state_dict_errors_name_the_problem():
    state = _fla_state_dict(np.random.default_rng(0), 4, 1, 2, 2, rank=1)
    with pytest.raises(ValueError, match="num_heads = 3 does not divide"):
        wt.fla_gla_arrays(state, num_heads=3)
    del state["gk_proj.1.bias"]
    with pytest.raises(ValueError, match="state_dict has no 'gk_proj.1.bias'"):
        wt.fla_gla_arrays(state)
    with pytest.raises(ValueError, match="W_q must have d \\+ 1 = 4 rows"):
        wt.read_gla(np.eye(3), np.eye(3), np.eye(3), np.ones((6, 3)), MODEL)
    with pytest.raises(ValueError, match=r"gates must have shape"):
        wt.read_gla(np.eye(4), np.eye(4), np.eye(4), np.ones((5, 4)), MODEL)


def test_torch_state_dict_reads_like_arrays(tmp_path):
    torch = pytest.importorskip("torch")
    state = _fla_state_dict(np.random.default_rng(1), MODEL.d + 1, 1, 3, 2, rank=2)
    tensors = {key: torch.tensor(value, dtype=torch.float32) for key, value in state.items()}
    torch.save(tensors, tmp_path / "gla.pt")
    loaded = wt.load_fla_state_dict(tmp_path / "gla.pt")
    from_torch, from_numpy = wt.fla_gla_arrays(loaded), wt.fla_gla_arrays(state)
    # float32 storage: agreement to single precision.
    np.testing.assert_allclose(from_torch.W_q, from_numpy.W_q, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(from_torch.read(MODEL).weights, from_numpy.read(MODEL).weights,
                               rtol=1e-4, atol=1e-5)
