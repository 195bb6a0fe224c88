"""A trained baseline outside the gated-linear classes: one layer of causal softmax attention.

``train(model, "softmax", ...)`` trains, on the same prompts (the multitask tokens with delimiters)
and against the same test prompts as the GLA models, the query's output

    ŷ = Σ_{s ≤ T} softmax_s(q_Tᵀ k_s) v_s ,

* ``"constrained"``: ``q = P_qᵀ x``, ``k = P_kᵀ x`` (feature rows only, as the constrained GLA),
  ``v = y`` (the label slot; the query's own slot is 0 but its score enters the normalisation),
  plus one trained output scale ``a`` (ŷ = a · Σ …): softmax averages the labels, so without a
  scale it could not grow with ``n`` as the linear predictors do;
* ``"full"``: free ``W_q, W_k`` (``D × D``) and ``w_v`` (``D``) on the whole token (labels and
  delimiter features included).

Softmax attention is not a WPGD predictor, so :func:`~wpgd_theory.training.theory_optimum` gives
``L*_WPGD`` as a reference only (``describes_class`` false).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..multitask.model import MultitaskModel
from .models import Architecture, LayerWrapper
from ._jax import jax, jnp

__all__ = ["SoftmaxArchitecture"]


@dataclass(frozen=True)
class SoftmaxArchitecture(LayerWrapper):
    """One causal softmax-attention layer read at the query (see the module notes).

    Examples
    --------
    >>> from wpgd_theory import paper_setting_model
    >>> SoftmaxArchitecture.build(paper_setting_model(8, 0.2, 0.8, 4, 0.1), "full")
    SoftmaxArchitecture(parameterisation='full', d=4, n=8, T=11, D=7, d_k=7)
    """

    layer: Architecture             # the scalar GLA of the same prompts: tokens and shapes
    parameterisation: str

    gating = "softmax"
    delimiters = property(lambda self: True)

    @property
    def d_k(self):
        return self.d if self.parameterisation == "constrained" else self.D

    @classmethod
    def build(cls, model, parameterisation="constrained", init_scale=0.1):
        if parameterisation not in ("constrained", "full"):
            raise ValueError(f"parameterisation must be 'constrained' or 'full' for softmax "
                             f"attention, got {parameterisation!r}")
        if not isinstance(model, MultitaskModel):
            raise TypeError(f"model must be a MultitaskModel for softmax attention, got "
                            f"{type(model).__name__}")
        return cls(Architecture.build(model, "scalar", parameterisation, init_scale),
                   parameterisation)

    def __repr__(self):
        return (f"SoftmaxArchitecture(parameterisation={self.parameterisation!r}, d={self.d}, "
                f"n={self.n}, T={self.T}, D={self.D}, d_k={self.d_k})")

    def init(self, key):
        keys = jax.random.split(key, 3)
        s, rows, d_k = self.init_scale, (self.d if self.parameterisation == "constrained"
                                         else self.D), self.d_k
        params = {"W_q": s * jax.random.normal(keys[0], (rows, d_k)) / np.sqrt(rows),
                  "W_k": s * jax.random.normal(keys[1], (rows, d_k)) / np.sqrt(rows)}
        if self.parameterisation == "full":
            params["w_v"] = s * jax.random.normal(keys[2], (self.D,)) / np.sqrt(self.D)
        else:
            params["scale"] = jnp.asarray(1.0)
        return params

    def predict(self, params, prompts):
        """Predictions ``ŷ`` (shape ``(b,)``)."""
        Z = self.tokens(prompts)
        if self.parameterisation == "constrained":
            features = Z[..., :self.d]
            values = Z[..., self.d]
        else:
            features = Z
            values = Z @ params["w_v"]
        q = features[:, -1] @ params["W_q"]                           # (b, d_k)
        k = features @ params["W_k"]                                  # (b, T, d_k)
        attention = jax.nn.softmax(jnp.einsum("bc,btc->bt", q, k), axis=-1)
        out = jnp.einsum("bt,bt->b", attention, values)
        return out * params["scale"] if "scale" in params else out
