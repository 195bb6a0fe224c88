"""Trainable models: the constrained Theorem-1/4 GLA, the full GLA layer, and free WPGD.

Every GLA model here predicts with :func:`~wpgd_theory.gla.gla_last_output` — the last row of the
parallel form of the same recurrence that :func:`~wpgd_theory.gla.gla_forward` runs and Theorem 1
is verified for — on the tokens of :func:`~wpgd_theory.training.prompt_tokens`, with projections
``q = W_qᵀz``, ``k = W_kᵀz``, ``v = W_vᵀz`` and gates from a gate function of the tokens.

Parameterisations (``Architecture.parameterisation``):

* ``"constrained"`` — Theorems 1/4: ``W_q = [P_q; 0]``, ``W_k = [P_k; 0]`` (only the feature rows),
  ``W_v = e_label`` and gates that see only the delimiter features (the class whose optimum the
  theory describes exactly). Gatings: ``"linear"`` (``G ≡ 1``), ``"decay"`` (one constant gate
  ``σ(θ)`` on every token, prompts *without* delimiters: GLA-wo), ``"scalar"`` (delimiter ``k``
  applies ``σ(θ_k)``, data tokens 1 — :class:`~wpgd_theory.multitask.gating.DelimiterGate`'s form
  ``1 + z_cᵀU``), ``"scalar_x"`` (the same delimiter gates, and data token ``j`` applies
  ``σ(b + vᵀx_j)``: a gate that reads ``x`` but not the label, outside the WPGD classes),
  ``"vector"`` (two key copies, width ``2d``, each copy with its own delimiter
  gates ``σ(Θ_{k,c})`` shared by its ``d`` coordinates: the form of Theorem 5's construction).
* ``"full"`` — free ``W_q, W_k`` (``D × d_k``) and ``w_v`` (``D``; the output is one channel).
  Gatings: ``"linear"``, ``"decay"``, ``"scalar"`` (``σ(w·z_c + b)`` on the delimiter features
  ``z_c``), ``"scalar_token"`` (``σ(w·z + b)`` on the *whole* token, labels included),
  ``"vector"`` (key-wise ``σ(z_cᵀW + b)``, ``d_k = 2D``) and every family of
  :data:`~wpgd_theory.gla.GATE_FAMILIES` applied to ``[z; 1]`` (data-dependent gates).
* ``"wpgd"`` — the idealised predictor ``xᵀPXᵀ(ω ⊙ y)`` with free ``(P, ω)``
  (:func:`~wpgd_theory.wpgd_predict`), for any task model.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.model import CorrelatedTaskModel
from ..core.predictor import wpgd_predict
from ..core.validation import as_real
from ..gla.checkpoint import example_preconditioners
from ..gla.forward import gla_last_output
from ..gla.gates import GATE_FAMILIES, gla_gate, mlstm_gate
from ..gla.theorem1 import induced_weights
from ..multitask.model import MultitaskModel, as_delimiter_features
from ._jax import jax, jnp
from .data import prompt_tokens, token_layout

__all__ = [
    "CONSTRAINED_GATINGS",
    "DATA_READING_GATINGS",
    "FULL_GATINGS",
    "LABEL_READING_GATINGS",
    "PARAMETERISATIONS",
    "Architecture",
]

CONSTRAINED_GATINGS = ("linear", "decay", "scalar", "vector", "scalar_x")
FULL_GATINGS = ("linear", "decay", "scalar", "scalar_token", "scalar_features",
                "vector") + tuple(GATE_FAMILIES)
PARAMETERISATIONS = ("constrained", "full", "wpgd")
LABEL_READING_GATINGS = ("scalar_token",) + tuple(GATE_FAMILIES)
"""Full-layer gatings whose gates read the label coordinate: outside the WPGD classes."""
DATA_READING_GATINGS = ("scalar_features", "scalar_x")
"""Gatings whose gates read ``x`` but not the label: predictors linear in ``y`` with
``x``-dependent weights, also outside the WPGD classes."""

FAMILY_HYPERPARAMETERS = {"mamba2": {"a": 0.0}, "gated_retention": {"tau": 1.0},
                          "gla": {"tau": 1.0}, "hgrn2": {"gamma": 0.5}}
"""Fixed (untrained) hyperparameters of the data-dependent gate families."""

_ALIASES = {"none": "linear", "linatt": "linear", "gla_wo": "decay", "gla": "scalar",
            "gla_vector": "vector"}


def _with_one(Z):
    """``[z; 1]``: a constant feature gives every gate a bias."""
    return jnp.concatenate([Z, jnp.ones_like(Z[..., :1])], axis=-1)


@dataclass(frozen=True)
class Architecture:
    """A trainable model on a task model: its parameters, prediction and learned weights.

    Parameters
    ----------
    model : MultitaskModel (or CorrelatedTaskModel for ``parameterisation="wpgd"``)
    gating : str
        See the module notes; aliases ``"none"``/``"linatt"`` → ``"linear"``, ``"gla_wo"`` →
        ``"decay"``, ``"gla"`` → ``"scalar"``, ``"gla_vector"`` → ``"vector"`` (the column
        names of :func:`~wpgd_theory.theory_curves`). Ignored for ``"wpgd"``.
    parameterisation : {"constrained", "full", "wpgd"}
    init_scale : float
        Standard deviation scale of the random initial projections.

    Examples
    --------
    >>> from wpgd_theory import paper_setting_model
    >>> arch = Architecture.build(paper_setting_model(8, 0.2, 0.8, 4, 0.1), "scalar")
    >>> arch
    Architecture(gating='scalar', parameterisation='constrained', d=4, n=8, T=11, D=7, d_k=4)
    """

    model: object
    gating: str
    parameterisation: str
    init_scale: float = 0.1

    @classmethod
    def build(cls, model, gating="scalar", parameterisation="constrained", init_scale=0.1):
        """Validate the arguments (naming the bad one) and build the architecture."""
        if not isinstance(parameterisation, str) or parameterisation not in PARAMETERISATIONS:
            raise ValueError(f"parameterisation must be one of {PARAMETERISATIONS}, got "
                             f"{parameterisation!r}")
        if parameterisation == "wpgd":
            if not isinstance(model, (MultitaskModel, CorrelatedTaskModel)):
                raise TypeError(f"model must be a MultitaskModel or CorrelatedTaskModel, got "
                                f"{type(model).__name__}")
            gating = "wpgd"
        else:
            if not isinstance(model, MultitaskModel):
                raise TypeError(f"model must be a MultitaskModel for a GLA "
                                f"({parameterisation}) parameterisation, got "
                                f"{type(model).__name__}")
            if not isinstance(gating, str):
                raise TypeError(f"gating must be a string, got {type(gating).__name__}")
            gating = _ALIASES.get(gating, gating)
            allowed = CONSTRAINED_GATINGS if parameterisation == "constrained" else FULL_GATINGS
            if gating not in allowed:
                raise ValueError(f"gating must be one of {allowed} for parameterisation "
                                 f"{parameterisation!r}, got {gating!r}")
        if model.n > 4096:
            raise ValueError(f"model has n = {model.n} context examples; training forms prompts "
                             "explicitly, use n <= 4096")
        scale = as_real(init_scale, "init_scale", minimum=0.0, strict_minimum=True)
        return cls(model, gating, parameterisation, scale)

    # ------------------------------------------------------------------ shapes
    @property
    def d(self):
        return int(self.model.d)

    @property
    def n(self):
        return int(self.model.n)

    @property
    def delimiters(self):
        """Whether the prompts carry delimiter tokens (not for GLA-wo and free WPGD)."""
        return self.parameterisation != "wpgd" and self.gating != "decay"

    @property
    def d_c(self):
        return self.model.K if self.delimiters else 0

    @property
    def T(self):
        return self.n + self.d_c + 1

    @property
    def D(self):
        return self.d + 1 + self.d_c

    @property
    def d_k(self):
        if self.parameterisation == "constrained":
            return 2 * self.d if self.gating == "vector" else self.d
        if self.parameterisation == "full":
            return 2 * self.D if self.gating == "vector" else self.D
        return self.d

    def __repr__(self):
        return (f"Architecture(gating={self.gating!r}, parameterisation={self.parameterisation!r}, "
                f"d={self.d}, n={self.n}, T={self.T}, D={self.D}, d_k={self.d_k})")

    # ------------------------------------------------------------------ parameters
    def init(self, key):
        """Random initial parameters (a dict of ``jax.numpy`` arrays)."""
        keys = jax.random.split(key, 4)
        s, d, d_k, D = self.init_scale, self.d, self.d_k, self.D
        if self.parameterisation == "wpgd":
            return {"P": s * jax.random.normal(keys[0], (d, d)) / np.sqrt(d),
                    "omega": s * jax.random.normal(keys[1], (self.n,))}
        rows = d if self.parameterisation == "constrained" else D
        params = {"W_q": s * jax.random.normal(keys[0], (rows, d_k)) / np.sqrt(rows),
                  "W_k": s * jax.random.normal(keys[1], (rows, d_k)) / np.sqrt(rows)}
        if self.parameterisation == "full":
            params["w_v"] = s * jax.random.normal(keys[2], (D,)) / np.sqrt(D)
        noise = 0.1 * jax.random.normal(keys[3], (max(self.model.K, 1), d_k))
        g = self.gating
        if g == "decay":
            # ρ₀ = σ(log 4n) = 4n/(4n + 1): ρ₀ⁿ ≈ e^{-1/4}, every example visible at the start.
            # (ρ₀ = σ(2) made early examples' weights ~ρ₀ⁿ ≈ 0 for n = 80, their gradient
            # vanished, and training stalled near risk M: see docs/training.md.)
            params["gate"] = jnp.asarray(float(np.log(4.0 * self.n)))
        elif self.parameterisation == "constrained" and g == "scalar":
            params["gate"] = 1.0 + noise[:, 0]
        elif g == "scalar_x":                    # [θ (K); v (d); b]: delimiters σ(θ), data σ(3)
            params["gate"] = jnp.concatenate([1.0 + noise[:, 0], 0.01 * noise[0, :d],
                                              jnp.asarray([3.0])])
        elif self.parameterisation == "constrained" and g == "vector":
            # One logit per (delimiter, key copy). Copy 1 starts open at every delimiter (σ(4):
            # near-uniform weights); copy 2 half-closed at the first delimiter and open after it
            # (its first block at half weight), so that the sign the gradient gives copy 2's
            # block moves weight between the first block and the later ones. Copies that start
            # alike (all logits near 1) stay alike and train to the monotone (scalar-gating)
            # optimum: docs/findings.md §8.
            K = max(self.model.K, 1)
            params["gate"] = jnp.full((K, 2), 4.0).at[0, 1].set(0.0) + noise[:, :2]
        elif g == "scalar":                              # σ(w·[z_c; 1]): bias 3 → gate ≈ 0.95
            params["gate"] = jnp.concatenate([noise[:, 0], jnp.asarray([3.0])])
        elif g in ("scalar_token", "scalar_features"):
            params["gate"] = jnp.zeros(D + 1).at[-1].set(3.0) + 0.01 * noise[0, 0]
        elif g == "vector":
            # σ(w_k + b), b = 3: as in the constrained model, the first D key coordinates start
            # with open delimiter gates (σ(4)), the other D half-closed (σ(0)).
            halves = jnp.repeat(jnp.asarray([1.0, -3.0]), D)
            params["gate"] = jnp.concatenate([halves + noise, jnp.full((1, d_k), 3.0)])
        elif g in GATE_FAMILIES:
            shapes = GATE_FAMILIES[g].shapes(D + 1, d_k, 1, 2)       # rank 2 where low-rank
            draws = jax.random.split(keys[3], len(shapes))
            params["gate"] = {name: s * jax.random.normal(k, shape)
                              for k, (name, shape) in zip(draws, sorted(shapes.items()))}
        return params

    # ------------------------------------------------------------------ forward
    def tokens(self, prompts):
        """Prompt tokens of this architecture (with or without delimiters)."""
        return prompt_tokens(prompts, self.model.sizes if self.delimiters else None,
                             delimiters=self.delimiters)

    def projections(self, params):
        """``(W_q, W_k, W_v)`` of shapes ``(D, d_k), (D, d_k), (D, 1)`` (GLA models)."""
        D, d = self.D, self.d
        if self.parameterisation == "constrained":
            pad = ((0, D - d), (0, 0))
            W_v = np.zeros((D, 1))
            W_v[d, 0] = 1.0                                      # v = label
            return jnp.pad(params["W_q"], pad), jnp.pad(params["W_k"], pad), jnp.asarray(W_v)
        return params["W_q"], params["W_k"], params["w_v"][:, None]

    def gates(self, params, Z):
        """Gates of the tokens ``Z``, broadcastable to ``(b, T, 1, d_k)``."""
        g, d = self.gating, self.d
        if g == "linear":
            return jnp.ones((1, 1), Z.dtype)
        if g == "decay":
            return jax.nn.sigmoid(params["gate"]) * jnp.ones((1, 1), Z.dtype)
        features = Z[..., d + 1:]                                 # z_c: 0 except on delimiters
        if g == "scalar_x":
            K = self.model.K
            delimiter = self._delimiter_gates(params["gate"][:K], features)[..., None, None]
            data = jax.nn.sigmoid(Z[..., :d] @ params["gate"][K:K + d] + params["gate"][-1])
            rows = np.zeros(self.T, bool)
            rows[np.argsort(token_layout(self.model.sizes, True))[:self.n]] = True
            return jnp.where(jnp.asarray(rows)[:, None, None], data[..., None, None], delimiter)
        if self.parameterisation == "constrained":
            # DelimiterGate: G(z) = 1 + z_cᵀU with 1 + c^kᵀU = σ(θ_k), i.e. U = F⁺(σ(θ) − 1).
            logits = params["gate"]
            if g == "vector":                     # Theorem 5: each key copy has its own gates
                logits = jnp.repeat(logits, self.d, axis=1)
            values = self._delimiter_gates(logits, features)
            return values[..., None, None] if g == "scalar" else values[..., None, :]
        if g == "scalar":
            return mlstm_gate(_with_one(features), params["gate"])
        if g == "scalar_token":
            return mlstm_gate(_with_one(Z), params["gate"])
        if g == "scalar_features":                     # the whole token except its label
            return mlstm_gate(_with_one(Z.at[..., d].set(0.0)), params["gate"])
        if g == "vector":
            return gla_gate(_with_one(features), params["gate"], jnp.eye(self.d_k), 1.0)
        return GATE_FAMILIES[g].function(_with_one(Z), **params["gate"],
                                         **FAMILY_HYPERPARAMETERS.get(g, {}))

    def _delimiter_gates(self, logits, features):
        """:class:`~wpgd_theory.multitask.gating.DelimiterGate`: ``G(z) = 1 + z_cᵀU`` with
        ``1 + c^kᵀU = σ(θ_k)`` (``U = F⁺(σ(θ) − 1)``): ``σ(θ_k)`` on delimiter ``k``, 1 elsewhere."""
        F_pinv = jnp.asarray(np.linalg.pinv(as_delimiter_features(None, self.model.K)),
                             features.dtype)
        return 1.0 + features @ (F_pinv @ (jax.nn.sigmoid(logits) - 1.0))

    def predict(self, params, prompts):
        """Predictions ``ŷ`` (shape ``(b,)``) for a batch of prompts."""
        if self.parameterisation == "wpgd":
            return wpgd_predict(prompts.query_input, prompts.context_inputs,
                                prompts.context_labels, params["P"], params["omega"])
        Z = self.tokens(prompts)
        W_q, W_k, W_v = self.projections(params)
        d_k = W_q.shape[1]
        qkv = Z @ jnp.concatenate([W_q, W_k, W_v], axis=1)        # one matmul for q, k, v
        return gla_last_output(qkv[..., :d_k], qkv[..., d_k:2 * d_k], qkv[..., 2 * d_k:],
                               self.gates(params, Z))[..., 0]

    # ------------------------------------------------------------------ learned weights
    def wpgd_form(self, params):
        """The learned predictor as WPGD, ``(P, ω)`` with ``P⁽ⁱ⁾ = ω_i P`` (Theorem 1), as a
        differentiable ``jax.numpy`` function of the parameters.

        For the constrained ``"linear"``, ``"decay"`` and ``"scalar"`` GLA, whose gates do not
        read the data: ``P = W_q,x W_k,xᵀ`` and ``ω`` the gate products of the data tokens (what
        :meth:`token_preconditioners` gives per prompt, here without a prompt).

        Examples
        --------
        >>> from wpgd_theory import paper_setting_model
        >>> arch = Architecture.build(paper_setting_model(4, 0.2, 0.8, 2, 0.1), "scalar")
        >>> params = arch.init(jax.random.PRNGKey(0))
        >>> P, omega = arch.wpgd_form(params)
        >>> per_example = arch.token_preconditioners(params, arch.model.sample(2, seed=1))
        >>> bool(np.allclose(per_example, np.asarray(omega)[:, None, None] * np.asarray(P),
        ...                  rtol=1e-5, atol=1e-7))
        True
        """
        if self.parameterisation != "constrained" or self.gating in ("vector", "scalar_x"):
            raise ValueError(f"wpgd_form needs a constrained GLA with scalar gates ('linear', "
                             f"'decay' or 'scalar'), got {self.gating!r} ({self.parameterisation})")
        Z = jnp.asarray(self.tokens(self.model.sample(1, seed=0)), jnp.float32)
        G = jnp.broadcast_to(self.gates(params, Z), Z.shape[:2] + (1, self.d_k))
        padded = jnp.concatenate([G, jnp.ones(G.shape[:-1] + (1,), G.dtype)], axis=-1)
        data_rows = np.argsort(token_layout(self.model.sizes, self.delimiters))[:self.n]
        omega = induced_weights(padded, self.d_k)[0, data_rows, 0]
        W_q, W_k, W_v = self.projections(params)
        d = self.d
        return W_v[d, 0] * (W_q[:d] @ W_k[:d].T), omega

    def token_preconditioners(self, params, prompts, *, average=False):
        """Per-context-example preconditioners ``P⁽ⁱ⁾`` (NumPy, shape ``(b, n, d, d)``; with
        ``average=True`` their mean over the prompts, shape ``(n, d, d)``, formed without the
        ``b × n × d × d`` stack).

        The label part of the prediction is ``Σ_i y_i xᵀ P⁽ⁱ⁾ x_i``. For GLA models
        ``P⁽ⁱ⁾ = w_v,label · W_q,x diag(Ω_i) W_k,xᵀ`` with ``Ω`` from
        :func:`~wpgd_theory.gla.induced_weights` (the gate products of Theorem 1 over key
        width ``d_k``); for ``"wpgd"``, ``ω_i P``. For label-reading gates ``Ω`` depends on the
        prompt, and the prediction has further, nonlinear terms in ``y``.
        """
        params = jax.tree_util.tree_map(np.asarray, params)
        if self.parameterisation == "wpgd":
            P, omega = params["P"], params["omega"]
            if average:
                return omega[:, None, None] * P
            b = np.shape(prompts.query_input)[0]
            return np.broadcast_to(omega[:, None, None] * P, (b, self.n, self.d, self.d))
        Z = self.tokens(prompts)
        G = np.asarray(jnp.broadcast_to(self.gates(params, Z), Z.shape[:2] + (1, self.d_k)))
        padded = np.concatenate([G, np.ones(G.shape[:-1] + (1,))], axis=-1)
        Omega = induced_weights(padded, self.d_k)                 # (b, T − 1, d_k)
        data_rows = np.argsort(token_layout(self.model.sizes, self.delimiters))[:self.n]
        Omega = Omega[:, data_rows]                               # rows of the n data tokens
        W_q, W_k, W_v = (np.asarray(W, float) for W in self.projections(params))
        d = self.d                      # the prediction reads value channel 0 of token row d
        if average:                                   # P⁽ⁱ⁾ is linear in Ω: average Ω first
            Omega = Omega.mean(axis=0)
        return example_preconditioners(W_q[:d + 1], W_k[:d + 1], W_v[:d + 1], Omega,
                                       readout=np.eye(W_v.shape[1])[0])


class LayerWrapper:
    """Base of the architectures built around a one-layer :class:`Architecture` held as
    ``layer`` (:class:`~wpgd_theory.training.MultiLayerArchitecture`,
    :class:`~wpgd_theory.training.SoftmaxArchitecture`): the task model, the initial scale, the
    prompts' shapes and their tokens are the layer's.

    Examples
    --------
    >>> from wpgd_theory import paper_setting_model
    >>> from wpgd_theory.training import MultiLayerArchitecture, SoftmaxArchitecture
    >>> model = paper_setting_model(8, 0.2, 0.8, 4, 0.1)
    >>> wrappers = [MultiLayerArchitecture.build(model, layers=2),
    ...             SoftmaxArchitecture.build(model)]
    >>> [(w.d, w.n, w.T, w.D, w.model is model) for w in wrappers]
    [(4, 8, 11, 7, True), (4, 8, 11, 7, True)]
    """

    model = property(lambda self: self.layer.model)
    init_scale = property(lambda self: self.layer.init_scale)
    d = property(lambda self: self.layer.d)
    n = property(lambda self: self.layer.n)
    T = property(lambda self: self.layer.T)
    D = property(lambda self: self.layer.D)

    def tokens(self, prompts):
        """The layer's tokens of ``prompts``."""
        return self.layer.tokens(prompts)
