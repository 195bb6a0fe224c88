"""The theorems as SymPy objects, and symbolic proofs for small sizes (issues #6 and #12).

Loaded on demand only (``import wpgd_theory`` never imports SymPy). Modules: ``base``
(:class:`Statement`, :class:`Evaluation`, symbols, shared formulas, model hypotheses),
``statements`` (Theorems 2–3, risk, Corollary), ``instances`` (models → numbers for
:meth:`Statement.evaluate`), ``proofs`` and ``gaussian`` (Theorem 2, P(ω), Corollary, the closed
form), ``multitask`` (K-term forms), ``theorem1``, ``gating`` (Theorems 4–5), ``multilayer``
(Theorem 6); every public name is re-exported here.

Each statement of docs/theory.md is a :class:`Statement`: hypotheses (SymPy relations), a conclusion
(usually ``Eq(lhs, rhs)``), the symbols it is a function of, and abbreviations (``A, B, C, M``)
as ``definitions``. ``.latex()`` renders it; ``.lambdify()`` turns it into a NumPy function with
the same argument layout as the numeric code, so a test can check on random points that
:mod:`wpgd_theory.core.spectral` and :mod:`wpgd_theory.core.risk` compute *the same formulas*.

Statements (docs/theory.md section in brackets)::

    h1_statement(n)                  h₁(h̄) = Σλa²/(1+λh̄)² ÷ Σa²/(1+λh̄)²            [§3]
    h2_statement(d)                  h₂(γ) = [1 + M Σs²/(M+sγ)² ÷ Σs³/(M+sγ)²]⁻¹       [§3]
    fixed_point_map_statement(d, n)  φ(γ) = 1 + h₁(h₂(γ))                              [§3]
    stationary_point_statement(d, n) γ = φ(γ) ⇒ ω* = (h₂(γ)R + I)⁻¹r, P* = (A/C)((γ/M)Σ + I)⁻¹
    spectral_gap_statement(d, n)     Δ_Σ Δ_R < M + s_min ⇒ |φ'(γ)| < 1                 [§4]
    risk_statement(d, n)             L = M − 2A tr(PΣ²) + tr(PᵀΣP(BΣ² + CΣ))           [§2]
    optimal_preconditioner_statement P(ω) = A(BΣ + CI)⁻¹                                [§2]
    risk_of_weights_statement(d)     L(ω) = M − A² Σ s²/(Bs + C)                        [§2]
    corollary_statement(n)           L*_ATT = d + σ² − d(1ᵀr)²/(n(d+σ²+1) + 1ᵀR1)       [§7]
    multitask_stationary_point_statement(d, K)   w* = (h₂(γ)CD + I)⁻¹c, ω* = Uw*   [§7]
    multitask_corollary_statement(K) the Corollary with 1ᵀr = nᵀc, 1ᵀR1 = nᵀCn      [§7]
    theorem1_statement(d, n, gating) (o_{n+1})_{d+1} = xᵀP_q(XP_k ⊙ Ω)ᵀy            [§6]
    delimiter_weights_statement(d, sizes, gating)  ω_k = Π_{l≥k} g_l (Theorems 4–5)
    multilayer_statement(d, n, L)    −(z^{(L)}_{n+1})_{d+1} = xᵀβ^{(L)}_{n+1} (Theorem 6)

Every statement's hypotheses include the model assumptions (:func:`model_hypotheses`: Σ ⪰ 0,
σ² ≥ 0, R unit-diagonal, ``[[R, r], [rᵀ, 1]] ⪰ 0``, and the eigen-coordinate definitions the
explicit forms use). ``statement.evaluate(model, ...)`` returns the numbers for a concrete
:class:`~wpgd_theory.core.model.CorrelatedTaskModel` or
:class:`~wpgd_theory.multitask.model.MultitaskModel` in the model's own coordinates (``P*`` and
``ω*`` rotated back); ``statement.substitute(model, ...)`` the SymPy conclusion with numbers in.
Explicit sizes above :data:`MAX_EXPLICIT_TERMS` raise ``ValueError`` (naming the limit) instead
of expanding for minutes; multitask models enter through K-term forms, never through n.

With a size left as ``None`` the statement is the general form (``Sum`` over an ``IndexedBase``,
or ``MatrixSymbol`` algebra), for reading; with integer sizes every sum is expanded and every
matrix is explicit, and only then can it be lambdified. The explicit form *is* the general
form with the sizes substituted (``Sum.doit()``), so there is one formula per statement.

Proofs (``prove_*``) return the simplified residual, a SymPy expression or matrix that is
identically zero when the statement holds; :func:`poster_preconditioner_residual` returns the
nonzero residual of the poster's ``P*``. Conventions of the proofs:

* **Eigenbases.** ``L`` depends on ``(Σ, R, r, P, ω)`` only through traces and the scalars
  ``A = ωᵀr``, ``B = ωᵀ(R + I)ω``, ``C = M‖ω‖²``, so for orthogonal ``U, E`` it is unchanged by
  ``Σ → UᵀΣU, P → UᵀPU`` and ``R → EᵀRE, r → Eᵀr, ω → Eᵀω``. The stationarity proofs therefore
  take ``Σ = diag(s)``, ``R = diag(λ)``, ``r = a`` (a *general* P and ω are still
  differentiated). :func:`prove_orthogonal_invariance` checks this reduction for d, n ≤ 2.
  In R's eigenbasis the unit diagonal ``R_ii = 1`` is not imposed: it is not used by the
  closed form (only by its derivation from Gaussian moments,
  :func:`prove_risk_from_gaussian_moments`, which uses general symmetric Σ and unit-diagonal R).
* **M** is an independent positive symbol in the stationarity proofs (the identity
  ``M = σ² + tr Σ`` is never needed there), so those proofs are slightly more general.
* **The fixed-point equation** ``γ = 1 + h₁(h₂(γ))`` is used as a rewriting rule by solving it
  for γ: the stationary weights ``w = ω̃*`` are taken as free symbols, ``γ := 1 + Σλw²/Σw²``,
  ``h̄ := h₂(γ)`` and ``a := (I + h̄Λ)w`` (:func:`fixed_point_parametrisation`). This parametrises
  every (model, fixed point) pair; the gradient then reduces to 0 as a rational function (its
  numerator, after clearing positive denominators, expands to the zero polynomial).
"""
from __future__ import annotations

from . import base as _base
from . import gating as _gating
from . import gaussian as _gaussian
from . import multilayer as _multilayer
from . import multitask as _multitask
from . import proofs as _proofs
from . import statements as _statements
from . import theorem1 as _theorem1
from .base import *  # noqa: F401,F403
from .gating import *  # noqa: F401,F403
from .gaussian import *  # noqa: F401,F403
from .multilayer import *  # noqa: F401,F403
from .multitask import *  # noqa: F401,F403
from .proofs import *  # noqa: F401,F403
from .statements import *  # noqa: F401,F403
from .theorem1 import *  # noqa: F401,F403

__all__ = [
    name
    for module in (_base, _statements, _proofs, _gaussian, _multitask, _theorem1, _gating,
                   _multilayer)
    for name in module.__all__
]
