"""Executable proofs: one module per theorem or corollary of *Gating is Weighting*.

Run ``pytest`` to check every statement, or ``python -m proofs_checks`` for a one-row-per-statement
report. See :mod:`proofs_checks._report` for the module contract.
"""
from ._report import CheckReport, StatementReport

__all__ = ["CheckReport", "StatementReport", "all_check_modules"]


def all_check_modules():
    """Import and return every ``proofs_checks.check_*`` module, sorted by name."""
    import importlib
    import pkgutil

    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("check_"))
    return [importlib.import_module(f"{__name__}.{name}") for name in names]
