"""wpgd-theory: executable mathematics for *Gating is Weighting* (Li et al., COLM 2025).

Gated linear attention (GLA) implements weighted preconditioned gradient descent (WPGD). This
package encodes the theory in ``THEORY.md``: the closed-form population risk of WPGD under the
correlated-task data model, the spectral maps h₁/h₂ and their fixed point, the optimal WPGD
solver, GLA forward passes and gate families, multitask prompts and symbolic statements.
"""
from .gla import gla_recurrence

__version__ = "0.1.0"
