"""The proofs report: docs/proofs.md is regenerated and compared, refuting rows are honest, and
``wpgd-theory check`` prints the same provenance as ``python -m proofs_checks``."""
import io
import pathlib
import re

import pytest

from proofs_checks import (
    CheckReport,
    Measurement,
    Provenance,
    StatementReport,
    report_text,
    run_report,
    timed_reports,
)
from proofs_checks._report import markdown_block

ROOT = pathlib.Path(__file__).resolve().parents[1]

# A value printed as d.de-XX with XX ≥ 12 is roundoff: its digits depend on the BLAS and the
# order of floating-point operations, not on the mathematics. It is compared only as
# "roundoff" (every such row's tolerance is ≥ 1e-12 × its scale, stated in its module).
ROUNDOFF = re.compile(r"\b\d\.\de-(1[2-9]|[2-9]\d)\b")


def _comparable(text):
    return ROUNDOFF.sub("<roundoff>", text)


@pytest.fixture(scope="module")
def default_report():
    """The report at the documented settings (examples=20, seed=0): ~20 s of CPU, run once."""
    return timed_reports(examples=20, seed=0)


def test_docs_proofs_md_is_the_generated_report(default_report):
    rows, provenance = default_report
    documented = markdown_block((ROOT / "docs" / "proofs.md").read_text(encoding="utf-8"))
    generated = report_text(rows, provenance, timing=False)
    assert _comparable(documented) == _comparable(generated), (
        "docs/proofs.md is stale: run `python -m proofs_checks --markdown docs/proofs.md`")
    assert "examples=20, seed=0)." in documented.splitlines()[-1]   # no timing in the doc


def test_refuting_rows_count_instances_and_show_the_smallest_departure(default_report):
    rows, _ = default_report
    refuting = [m for row in rows for m in row.measurements if m.refutes_printed]
    assert refuting
    for m in refuting:
        assert 0 < m.refuted <= m.instances and f"{m.refuted}/{m.instances}" in m.status
        assert m.tolerance < m.smallest <= m.worst
    # Theorem 3's parts differ in verdict, so they are separate rows.
    verdicts = {row.statement.split(":")[0]: row.verdict for row in rows}
    assert verdicts["Theorem 3 (T1)"] == "holds"
    assert verdicts["Theorem 3 (T2)"] == "holds as corrected"
    assert verdicts["Theorem 4"] == "holds"
    assert verdicts["Theorem 4's claim"] == verdicts["Theorem 5"] == "holds as corrected"


def test_refutation_statistics_against_a_hand_count():
    values = [0.5, 3e-11, 2e-3, 0.0, 7e-2]          # tolerance 1e-10: three refute
    m = Measurement.refutation("gap", "relative", values, 1e-10)
    assert (m.refuted, m.instances, m.smallest, m.worst) == (3, 5, 2e-3, 0.5)
    assert m.passed and m.status == "refutes printed 3/5" and m.value == 2e-3
    none = Measurement.refutation("gap", "relative", [1e-12, 0.0], 1e-10)
    assert not none.passed and none.refuted == 0 and none.status == "NOT REFUTED"
    with pytest.raises(ValueError, match="no instances"):
        Measurement.refutation("gap", "relative", [], 1e-10)


def test_cli_check_prints_the_same_provenance_as_python_m_proofs_checks(monkeypatch, capsys):
    import proofs_checks
    from proofs_checks.__main__ import main as module_main
    from wpgd_theory.cli import main as cli_main

    class Toy:
        @staticmethod
        def report(examples, seed):
            return [StatementReport.judge(f"Toy {examples} {seed}", [Measurement.of(
                "x", "absolute", [CheckReport(True, 0.0, 1.0)])])]
    monkeypatch.setattr(proofs_checks, "all_check_modules", lambda: [Toy])
    assert module_main(["--examples", "3", "--seed", "7"]) == 0
    by_module = capsys.readouterr().out.splitlines()
    assert cli_main(["check", "--examples", "3", "--seed", "7"]) == 0
    by_cli = capsys.readouterr().out.splitlines()
    pattern = r"\(examples=3, seed=7, \d+ s\)\.$"
    assert re.search(pattern, by_module[-1]) and re.search(pattern, by_cli[-1])
    assert by_module[:-1] == by_cli[:-1]


def test_run_report_without_provenance_has_a_plain_summary():
    ok = StatementReport.judge("Toy", [Measurement.of("x", "absolute",
                                                      [CheckReport(True, 0.0, 1.0)])])
    out = io.StringIO()
    assert run_report(out, reports=[ok], provenance=Provenance(2, 1, None)) == 0
    assert out.getvalue().splitlines()[-1].endswith("0 fail (examples=2, seed=1).")
