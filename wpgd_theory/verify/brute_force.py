"""Direct numerical minimisation of the closed-form risk — the independent baseline.

The solver's answer is checked against (and benchmarked against) plain quasi-Newton minimisation
of ``L(P, ω)`` jointly over all ``d² + n`` entries from several random starts, with the analytic
gradient of :func:`~wpgd_theory.core.risk.risk_gradient`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize

from ..core._repr import compact_repr
from ..core.model import CorrelatedTaskModel
from ..core.risk import risk, risk_gradient
from ..core.validation import as_integer, as_real, as_seed

__all__ = ["minimize_risk_jointly", "BruteForceResult"]

MAX_STARTS = 10_000
"""Largest number of random starts."""
MAX_UNKNOWNS = 100_000
"""Largest ``d² + n`` (BFGS keeps a dense inverse Hessian of that size squared)."""


class BruteForceResult(NamedTuple):
    """Best point over all starts, plus every start's end point and risk (for landscape studies)."""

    __repr__ = compact_repr

    risk: float
    preconditioner: np.ndarray
    weights: np.ndarray
    end_risks: np.ndarray
    end_points: list


def minimize_risk_jointly(model, *, starts=5, seed=0, method="BFGS", gtol=1e-10, maxiter=20_000):
    """Minimise ``L(P, ω)`` over ``(P, ω) ∈ R^{d×d} × R^n`` with ``scipy.optimize.minimize``.

    Parameters
    ----------
    model : CorrelatedTaskModel
    starts : int
        Number of random starts (standard normal entries, seeded).
    seed : int
    method, gtol, maxiter
        Passed to :func:`scipy.optimize.minimize`.

    Examples
    --------
    >>> import numpy as np
    >>> from wpgd_theory import CorrelatedTaskModel, solve_model
    >>> model = CorrelatedTaskModel(np.diag([1., 2.]), [[1, .5], [.5, 1]], [.9, .3], 0.1)
    >>> brute = minimize_risk_jointly(model, starts=3)
    >>> abs(brute.risk - solve_model(model).risk) < 1e-10
    True
    """
    if not isinstance(model, CorrelatedTaskModel):
        raise TypeError(f"model must be a CorrelatedTaskModel, got {type(model).__name__}")
    starts = as_integer(starts, "starts", minimum=1, maximum=MAX_STARTS)
    seed = as_seed(seed)
    if not isinstance(method, str):
        raise TypeError(f"method must be a scipy.optimize.minimize method name, got "
                        f"{type(method).__name__}")
    gtol = as_real(gtol, "gtol", minimum=0.0, strict_minimum=True)
    maxiter = as_integer(maxiter, "maxiter", minimum=1)
    if model.d**2 + model.n > MAX_UNKNOWNS:
        raise ValueError(f"model has d² + n = {model.d**2 + model.n} unknowns, more than the limit "
                         f"{MAX_UNKNOWNS} of this dense BFGS search")
    d, n = model.d, model.n

    def unpack(z):
        return z[: d * d].reshape(d, d), z[d * d:]

    def objective(z):
        P, weights = unpack(z)
        grad_P, grad_w = risk_gradient(model, P, weights)
        return risk(model, P, weights), np.concatenate([grad_P.ravel(), grad_w])

    rng = np.random.default_rng(seed)
    ends = [minimize(objective, rng.standard_normal(d * d + n), jac=True, method=method,
                     options={"gtol": gtol, "maxiter": maxiter}) for _ in range(starts)]
    end_risks = np.array([end.fun for end in ends])
    best = unpack(ends[int(np.argmin(end_risks))].x)
    return BruteForceResult(float(end_risks.min()), best[0], best[1], end_risks,
                            [unpack(end.x) for end in ends])
