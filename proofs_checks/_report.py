"""Report objects shared by every ``proofs_checks`` module.

Each module ``proofs_checks/check_<statement>.py`` exposes

* plain check functions ``check_...(instance, ...) -> CheckReport`` for one instance,
* Hypothesis strategies producing valid instances,
* ``STATEMENT`` (one line naming the statement) and ``report(examples=20, seed=0) ->
  StatementReport`` which runs the checks on ``examples`` seeded random instances, and
* ``test_*`` functions, so that ``pytest`` at the repository root runs the proofs.

``python -m proofs_checks`` prints one row per module from ``report()``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CheckReport:
    """Outcome of checking one statement on one instance.

    Attributes
    ----------
    passed : bool
        Whether the statement held on this instance (within ``tolerance``).
    residual : float
        The worst residual measured (0 for an exact/symbolic check).
    tolerance : float
        The tolerance the residual was compared against.
    witness : Any
        The instance, or a counterexample when ``passed`` is false.
    details : dict
        Further named quantities worth showing.
    """

    passed: bool
    residual: float
    tolerance: float
    witness: Any = None
    details: dict = field(default_factory=dict)

    def __bool__(self):
        return bool(self.passed)


@dataclass
class StatementReport:
    """Summary of one statement over many instances (one row of ``python -m proofs_checks``).

    ``verdict`` is ``"pass"``, ``"fail"`` (the statement as printed is false: ``witness`` holds the
    counterexample) or ``"corrected"`` (false as printed, a corrected form is verified; see
    ``notes``).
    """

    statement: str
    verdict: str
    instances: int
    worst_residual: float
    witness: Any = None
    notes: str = ""
