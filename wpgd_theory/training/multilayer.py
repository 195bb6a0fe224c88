"""Trainable L-layer GLA (Theorem 6) and the optimum of L-step WPGD by sample-average approximation.

:class:`MultiLayerArchitecture` stacks ``L`` copies of a one-layer
:class:`~wpgd_theory.training.Architecture` on a residual stream, ``Z_{ℓ+1} = Z_ℓ + GLA_ℓ(Z_ℓ)``,
as :func:`~wpgd_theory.gla.multilayer_gla` does in NumPy, and predicts ``ŷ = −(Z_L)_{query,label}``:

* ``"constrained"`` — layer ℓ is :func:`~wpgd_theory.gla.multilayer_construction`'s form: trained
  ``P_q^ℓ, P_k^ℓ`` (``W_q = [P_q; 0]``, ``W_k = [P_k; 0]``), the fixed value map ``W_v = −e_label
  e_labelᵀ`` (each layer subtracts its prediction from the label slot) and the layer's own
  delimiter gates (``linear``, ``decay``, ``scalar``, ``vector`` as in the one-layer model). By
  Theorem 6 this is causal, coupled L-step WPGD.
* ``"full"`` — free ``W_q, W_k`` (``D × d_k``), ``W_v`` (``D × D``, written back into every slot)
  and the layer's gates of any full-layer gating, computed from the layer's own input tokens.

``L = 1`` is the one-layer model exactly (same parameters, same predictions).

:func:`saa_optimum` is an independent route to what training should reach in the constrained
class: it runs the *algorithm* side of Theorem 6 (one iterate per position, causal weights from the
delimiter gates, no tokens and no GLA) and minimises its empirical risk over the layers'
preconditioners and gate logits on one fixed large prompt set (L-BFGS), then evaluates the
minimiser on fresh prompts (sample-average approximation with common random numbers).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..core.validation import as_integer
from ..gla.forward import gla_last_output
from .models import Architecture, LayerWrapper
from ._jax import jax, jnp

__all__ = ["MultiLayerArchitecture", "SAAOptimum", "all_outputs", "saa_optimum"]

MAX_LAYERS = 16


def all_outputs(queries, keys, values, gates):
    """Every GLA output ``o_t = Σ_{s ≤ t} (D_{t,s} ⊙ v_s k_sᵀ) q_t`` (JAX), for gates of shape
    ``(..., T, 1, d_k)`` or ``(..., T, 1, 1)`` (scalar or key-wise gating).

    ``D_{t,s} = exp(C_t − C_s)`` with ``C`` the cumulative sum of the log gates, formed only for
    ``s ≤ t`` (exponent ≤ 0: no overflow); log gates are clipped at −80, so a gate of exactly 0
    contributes ``e^{−80}`` instead of 0.

    Examples
    --------
    >>> from wpgd_theory.gla import gla_recurrence
    >>> rng = np.random.default_rng(0)
    >>> q, k, v = rng.normal(size=(3, 5, 2)); g = rng.uniform(0.2, 1, size=(5, 1, 2))
    >>> out = all_outputs(jnp.asarray(q), jnp.asarray(k), jnp.asarray(v), jnp.asarray(g))
    >>> bool(np.allclose(out, gla_recurrence(q, k, v, g), atol=1e-5))
    True
    """
    T = queries.shape[-2]
    log_g = jnp.maximum(jnp.log(gates[..., 0, :]), -80.0)
    log_g = jnp.broadcast_to(log_g, log_g.shape[:-2] + (T, log_g.shape[-1]))   # (..., T, c)
    cumulative = jnp.cumsum(log_g, axis=-2)
    exponent = cumulative[..., :, None, :] - cumulative[..., None, :, :]  # (..., t, s, c)
    causal = np.tril(np.ones((T, T), bool))[:, :, None]
    decay = jnp.exp(jnp.where(causal, exponent, -jnp.inf))
    if decay.shape[-1] == 1:
        scores = jnp.einsum("...tc,...sc->...ts", queries, keys) * decay[..., 0]
        return jnp.einsum("...ts,...sv->...tv", scores, values)
    # Key-wise gates: o_t = Σ_c q_tc Σ_s D_tsc k_sc v_s, contracted over s first (a batched matrix
    # product per key channel) — never the (..., t, s, c) product of the decays with q and k,
    # which made an L = 4 vector-gated model 25× slower per step (benchmarks/bench_training.py).
    kv = keys[..., :, :, None] * values[..., :, None, :]                 # (..., s, c, v)
    if all(size == 1 for size in decay.shape[:-3]):   # gates shared by the batch (constrained)
        pulled = jnp.einsum("tsc,...scv->...tcv", decay.reshape(decay.shape[-3:]), kv)
    else:
        pulled = jnp.einsum("...tsc,...scv->...tcv", decay, kv)
    return jnp.einsum("...tc,...tcv->...tv", queries, pulled)


def as_layers(value, name="layers"):
    """The number of layers: an int in ``[1, 16]``."""
    return as_integer(value, name, minimum=1, maximum=MAX_LAYERS)


@dataclass(frozen=True)
class MultiLayerArchitecture(LayerWrapper):
    """``L`` layers of a one-layer architecture on a residual stream (see the module notes).

    Examples
    --------
    >>> from wpgd_theory import paper_setting_model
    >>> MultiLayerArchitecture.build(paper_setting_model(8, 0.2, 0.8, 4, 0.1), "scalar", layers=3)
    MultiLayerArchitecture(layers=3, gating='scalar', parameterisation='constrained', d=4, n=8, T=11, D=7, d_k=4)
    """

    layer: Architecture
    layers: int

    @classmethod
    def build(cls, model, gating="scalar", parameterisation="constrained", init_scale=0.1, *,
              layers=2):
        layers = as_layers(layers)
        if parameterisation == "wpgd":
            raise ValueError("layers > 1 needs a GLA parameterisation ('constrained' or 'full'), "
                             "got parameterisation 'wpgd'")
        return cls(Architecture.build(model, gating, parameterisation, init_scale), layers)

    # every layer has the one layer's gating, parameterisation, key width and tokens (the model
    # and the prompts' shapes come from LayerWrapper)
    gating = property(lambda self: self.layer.gating)
    parameterisation = property(lambda self: self.layer.parameterisation)
    d_k = property(lambda self: self.layer.d_k)
    delimiters = property(lambda self: self.layer.delimiters)

    def __repr__(self):
        return "MultiLayer" + repr(self.layer).replace("Architecture(", f"Architecture("
                                                       f"layers={self.layers}, ", 1)

    def init(self, key):
        """``{"layers": [params of layer 1, ..., layer L]}``; full layers get ``W_v (D, D)``."""
        out = []
        for l, k in enumerate(jax.random.split(key, self.layers)):
            params = self.layer.init(k)
            if self.parameterisation == "full":
                del params["w_v"]
                D = self.D
                params["W_v"] = (self.init_scale * jax.random.normal(jax.random.fold_in(k, 99),
                                                                      (D, D)) / np.sqrt(D))
            out.append(params)
        return {"layers": out}

    def weights(self, params):
        """Per-layer ``(W_q, W_k, W_v)``, ``W_v`` of shape ``(D, D)`` (the residual write), the
        argument of :func:`~wpgd_theory.gla.multilayer_gla`."""
        triples = []
        for p in params["layers"]:
            if self.parameterisation == "constrained":
                W_q, W_k, _ = self.layer.projections(p)
                W_v = np.zeros((self.D, self.D))
                W_v[self.d, self.d] = -1.0
                triples.append((W_q, W_k, jnp.asarray(W_v)))
            else:
                triples.append((p["W_q"], p["W_k"], p["W_v"]))
        return triples

    def _layer(self, Z, W_q, W_k, W_v, gates, last):
        d = self.d
        if self.parameterisation == "constrained":
            # only the label slot is written: v = −y-slot, one value channel
            q, k, v = Z[..., :d] @ W_q[:d], Z[..., :d] @ W_k[:d], -Z[..., d:d + 1]
            if last:
                return gla_last_output(q, k, v, gates)[..., 0]
            return Z.at[..., d].add(all_outputs(q, k, v, gates)[..., 0])
        q, k = Z @ W_q, Z @ W_k
        if last:
            return gla_last_output(q, k, Z @ W_v[:, d:d + 1], gates)[..., 0]
        return Z + all_outputs(q, k, Z @ W_v, gates)

    def _gates(self, p, Z):
        if self.parameterisation == "constrained":
            # constrained gates read only the delimiter features, which sit at the same positions
            # in every prompt and which no constrained layer writes: one prompt's gates serve all
            Z = Z[:1]
        g = jnp.asarray(self.layer.gates(p, Z), Z.dtype)
        if g.ndim < 4:                                  # linear/decay: (1, 1) → (1, 1, 1, 1)
            g = g.reshape((1,) * (4 - g.ndim) + g.shape)
        return jnp.broadcast_to(g, g.shape[:-3] + (Z.shape[-2],) + g.shape[-2:])   # token axis

    def predict(self, params, prompts):
        """``ŷ = −(Z_L)_{query, label}`` (shape ``(b,)``)."""
        Z = self.tokens(prompts)
        layers = params["layers"]
        for l, ((W_q, W_k, W_v), p) in enumerate(zip(self.weights(params), layers)):
            last = l == len(layers) - 1
            out = self._layer(Z, W_q, W_k, W_v, self._gates(p, Z), last)
            if last:
                return -(Z[:, -1, self.d] + out)
            Z = out
        raise AssertionError("unreachable")                   # pragma: no cover


# ---------------------------------------------------------------------- the algorithm side

def _block_index(model, delimiters):
    """Block of each position (context examples, then the query as block ``K``)."""
    return np.concatenate([model.block_labels(), [model.K]]) if delimiters else None


def pair_weights(model, gating, logits):
    """``ω_{j→i}`` for positions ``i, j ≤ n + 1`` (JAX, shape ``(copies, n+1, n+1)``).

    Delimiter gating: ``Π_{k = block(j)}^{block(i) − 1} σ(θ_{k,c})`` for ``j ≤ i``; ``decay``:
    ``ρ^{i−j}`` with ``ρ = σ(θ)``; ``linear``: 1 — the causal weights of Theorem 6 with every
    delimiter gate folded onto the next data token (a gate is a product factor exactly when the
    delimiter lies strictly after ``j`` and not after ``i``).
    """
    n = model.n
    causal = np.tril(np.ones((n + 1, n + 1)))
    if gating == "linear":
        return jnp.asarray(causal)[None]
    if gating == "decay":
        gap = np.arange(n + 1)[:, None] - np.arange(n + 1)[None, :]
        log_rho = jax.nn.log_sigmoid(logits)
        return jnp.where(causal > 0, jnp.exp(log_rho * np.maximum(gap, 0)), 0.0)[None]
    blocks = _block_index(model, True)
    K = model.K
    # crossed[i, j, k] = 1 if delimiter k lies strictly after j and not after i
    k = np.arange(K)
    crossed = ((blocks[None, :, None] <= k) & (k < blocks[:, None, None])).astype(float)
    log_gates = jax.nn.log_sigmoid(logits.reshape(K, -1))             # (K, copies)
    return jnp.exp(jnp.einsum("ijk,kc->cij", crossed, log_gates)) * causal


def causal_wpgd_predict(model, gating, P, logits, X, y, x):
    """Query prediction of causal coupled L-step WPGD (Theorem 6's recursion), batched (JAX).

    ``P`` of shape ``(L, copies, d, d)``, ``logits`` per layer (``None`` for ``linear``).
    """
    inputs = jnp.concatenate([X, x[:, None]], axis=1)                 # (b, n+1, d)
    labels = jnp.concatenate([y, jnp.zeros_like(y[:, :1])], axis=1)
    beta = jnp.zeros_like(inputs)
    for l in range(P.shape[0]):
        residual = labels - jnp.einsum("bid,bid->bi", inputs, beta)
        omega = pair_weights(model, gating, None if logits is None else logits[l])
        pulled = jnp.einsum("cij,bjd,bj->bcid", omega, inputs, residual)
        beta = beta + jnp.einsum("bcid,ced->bie", pulled, P[l])
    return jnp.einsum("bd,bd->b", inputs[:, -1], beta[:, -1])


@dataclass(frozen=True)
class SAAOptimum:
    """The sample-average-approximation optimum of causal L-step WPGD in a gating class.

    ``train_risk`` is the minimised empirical risk on the fixed prompts (biased low),
    ``risk ± risk_se`` the minimiser's risk on fresh test prompts (the estimate to compare with).
    """

    gating: str
    layers: int
    risk: float
    risk_se: float
    train_risk: float
    preconditioners: np.ndarray
    logits: object
    train_prompts: int
    test_prompts: int
    converged: bool

    def __repr__(self):
        return (f"SAAOptimum({self.gating}, L={self.layers}: risk={self.risk:.5f} ± "
                f"{self.risk_se:.5f} (fixed-set {self.train_risk:.5f}, {self.train_prompts} "
                f"prompts), converged={self.converged})")


def _copies(gating):
    return 2 if gating == "vector" else 1


def _initial(model, gating, layers, rng):
    d, K, c = model.d, model.K, _copies(gating)
    P = 0.01 * rng.normal(size=(layers, c, d, d)) + np.eye(d) / (model.n * c)
    if gating == "linear":
        logits = None
    elif gating == "decay":
        logits = np.full(layers, np.log(4.0 * model.n))
    else:
        logits = np.full((layers, K, c), 4.0) + 0.1 * rng.normal(size=(layers, K, c))
        if gating == "vector":
            logits[:, 0, 1] = 0.0                  # the one-layer model's diverse copy start
    return P, logits


def saa_optimum(model, gating="scalar", *, layers=1, train_prompts=200_000, test_prompts=200_000,
                seed=0, test_seed=None, max_iterations=2000, restarts=1):
    """Optimum of causal L-step WPGD (constrained ``gating`` class) by sample-average approximation.

    Minimises the mean squared error of :func:`causal_wpgd_predict` over the per-layer
    preconditioners ``P^ℓ_c`` (free ``d × d``: ``P_q P_kᵀ`` spans them) and gate logits on
    ``train_prompts`` fixed prompts (``model.sample``, NumPy, ``seed``) with L-BFGS-B
    (float64 on the host, gradients from JAX in float32), from ``restarts`` starts (the best
    fixed-set risk wins), then evaluates the minimiser on ``test_prompts`` fresh prompts.

    Parameters
    ----------
    model : MultitaskModel
    gating : {"linear", "decay", "scalar", "vector"}
    layers : int
    train_prompts, test_prompts : int
    seed, test_seed : int
        Keys of the fixed and the fresh prompts (``test_seed`` defaults to ``seed + 1``).

    Returns
    -------
    SAAOptimum

    Examples
    --------
    One layer of linear attention: the SAA optimum matches the closed form within sampling
    error; a second layer does better.

    >>> from wpgd_theory import paper_setting_model, linear_attention_optimum
    >>> model = paper_setting_model(4, 0.2, 0.8, 2, 0.1)
    >>> exact = linear_attention_optimum(model).risk
    >>> one = saa_optimum(model, "linear", train_prompts=5000, test_prompts=50_000)
    >>> two = saa_optimum(model, "linear", layers=2, train_prompts=5000, test_prompts=50_000)
    >>> abs(one.risk - exact) < 0.03 * exact, two.risk < one.risk - 3 * one.risk_se
    (True, True)
    """
    from scipy.optimize import minimize

    arch = Architecture.build(model, gating, "constrained")        # validates model and gating
    gating, layers = arch.gating, as_layers(layers)
    train_prompts = as_integer(train_prompts, "train_prompts", minimum=2)
    test_prompts = as_integer(test_prompts, "test_prompts", minimum=2)
    seed = as_integer(seed, "seed", minimum=0)
    test_seed = seed + 1 if test_seed is None else as_integer(test_seed, "test_seed", minimum=0)
    if test_seed == seed:
        raise ValueError("test_seed must differ from seed (fresh test prompts)")
    restarts = as_integer(restarts, "restarts", minimum=1)

    def batch(n_prompts, key):
        p = model.sample(n_prompts, seed=key)
        return tuple(jnp.asarray(a, jnp.float32) for a in (p.context_inputs, p.context_labels,
                                                            p.query_input, p.query_label))

    X, y, x, target = batch(train_prompts, seed)
    rng = np.random.default_rng(seed)
    shapes = [s for s in (_initial(model, gating, layers, rng)) if s is not None]
    sizes = [int(np.size(s)) for s in shapes]

    def unpack(theta):
        P = theta[:sizes[0]].reshape(shapes[0].shape)
        logits = theta[sizes[0]:].reshape(shapes[1].shape) if len(shapes) > 1 else None
        return P, logits

    def loss(theta, X, y, x, target):
        P, logits = unpack(theta)
        return jnp.mean((target - causal_wpgd_predict(model, gating, P, logits, X, y, x)) ** 2)

    value_and_grad = jax.jit(jax.value_and_grad(loss))

    def objective(theta):
        value, grad = value_and_grad(jnp.asarray(theta, jnp.float32), X, y, x, target)
        return float(value), np.asarray(grad, float)

    best = None
    for r in range(restarts):
        start = [s for s in _initial(model, gating, layers, rng) if s is not None]
        theta0 = np.concatenate([np.ravel(s) for s in start])
        found = minimize(objective, theta0, jac=True, method="L-BFGS-B",
                         options={"maxiter": max_iterations, "ftol": 1e-12, "gtol": 1e-9})
        if best is None or found.fun < best.fun:
            best = found
    P, logits = unpack(jnp.asarray(best.x, jnp.float32))
    errors = []
    chunk = 50_000
    for index in range(-(-test_prompts // chunk)):
        Xt, yt, xt, tt = batch(min(chunk, test_prompts - index * chunk),
                               test_seed * 7919 + index)
        errors.append(np.asarray((tt - causal_wpgd_predict(model, gating, P, logits, Xt, yt,
                                                           xt)) ** 2, float))
    errors = np.concatenate(errors)
    return SAAOptimum(gating, layers, float(errors.mean()),
                      float(errors.std(ddof=1) / np.sqrt(errors.size)), float(best.fun),
                      np.asarray(P, float), None if logits is None else np.asarray(logits, float),
                      train_prompts, int(errors.size), bool(best.success))


def reference_optimum(optimum, layers):
    """The one-layer class optimum as the reference of an L-layer run (not its class optimum)."""
    if layers == 1:
        return optimum
    return replace(optimum, kind=f"{optimum.kind} (one layer, reference only)",
                   describes_class=False)
