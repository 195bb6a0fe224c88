"""Executable proofs: one module per theorem or corollary of *Gating is Weighting*.

Run ``pytest`` to check every statement, or ``python -m proofs_checks`` (``wpgd-theory check``)
for the report: per statement what was measured, its unit, the tolerance, the number of instances
and the verdict, then a summary line (:func:`run_report`). See :mod:`proofs_checks._report` for
the module contract.
"""
from ._report import (
    VERDICTS,
    CheckReport,
    Measurement,
    Provenance,
    StatementReport,
    collect_reports,
    format_report,
    report_text,
    run_report,
    timed_reports,
)

__all__ = ["CheckReport", "Measurement", "Provenance", "StatementReport", "VERDICTS",
           "all_check_modules", "collect_reports", "format_report", "report_text", "run_report",
           "timed_reports"]


def all_check_modules():
    """Import and return every ``proofs_checks.check_*`` module, sorted by name."""
    import importlib
    import pkgutil

    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("check_"))
    return [importlib.import_module(f"{__name__}.{name}") for name in names]
