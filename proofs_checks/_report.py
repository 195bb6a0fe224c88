"""Report objects shared by every ``proofs_checks`` module, and the report a reviewer reads.

Each module ``proofs_checks/check_<statement>.py`` exposes

* plain check functions ``check_...(instance, ...) -> CheckReport`` for one instance,
* Hypothesis strategies producing valid instances,
* ``STATEMENT`` (one line naming the statement) and ``report(examples=20, seed=0) ->
  StatementReport`` which runs the checks on ``examples`` seeded random instances — or a list
  of them, one per part, when the parts of a theorem differ in verdict (Theorem 3's T1/T2,
  Theorems 4 and 5) — and
* ``test_*`` functions, so that ``pytest`` at the repository root runs the proofs.

A :class:`StatementReport` lists its :class:`Measurement` s — what was measured, in which unit,
the worst value over how many instances, and the tolerance it was compared with — and one of
three verdicts (:data:`VERDICTS`):

``"holds"``
    every measurement is within its tolerance; the statement holds as the paper prints it;
``"holds as corrected"``
    the statement as printed is false — a measurement marked ``refutes_printed`` shows by how
    much — and the corrected statement (``correction``) is within tolerance everywhere;
``"fails"``
    a measurement of the statement (as printed or corrected) exceeds its tolerance; ``witness``
    holds the instance.

:func:`run_report` prints every module's report and a summary line with the
:class:`Provenance` (``python -m proofs_checks`` and ``wpgd-theory check`` print the same);
:func:`report_text` without the wall time is the block of ``docs/proofs.md``
(``python -m proofs_checks --markdown docs/proofs.md``, checked by ``tests/test_proofs_report.py``).
For a ``refutes_printed`` measurement the report shows on how many instances the printed
statement is refuted and the *smallest* refuting departure.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CheckReport", "Measurement", "Provenance", "StatementReport", "VERDICTS",
           "format_report", "collect_reports", "markdown_block", "replace_markdown_block",
           "report_text", "run_report", "timed_reports", "write_markdown"]

VERDICTS = ("holds", "holds as corrected", "fails")
"""The three verdicts, in the order the summary counts them."""


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
class Measurement:
    """One measured quantity of a statement, over ``instances`` instances.

    Attributes
    ----------
    quantity : str
        What was measured (e.g. ``"‖∇L‖ at the corrected (P*, ω*)"``).
    unit : str
        Its unit (``"relative"``, ``"standard errors"``, ``"exact (SymPy)"``, …).
    worst : float
        The worst value over the instances (largest for bounds; for ``refutes_printed``, the
        largest departure of the printed statement).
    tolerance : float
        The bound ``worst`` is compared with.
    instances : int
        How many instances (or symbolic cases) were measured.
    passed : bool
        For a bound: every instance within ``tolerance``. For ``refutes_printed``: the printed
        statement departs by more than ``tolerance`` on some instance (it is refuted).
    refutes_printed : bool
        Whether this measures the statement *as printed*, expected to fail.
    refuted : int
        For ``refutes_printed``: on how many of the ``instances`` the printed statement departs
        by more than ``tolerance``.
    smallest : float
        For ``refutes_printed``: the smallest departure among the refuting instances (what the
        report prints, so a reader sees the weakest refutation, not the strongest).

    Examples
    --------
    >>> checks = [CheckReport(True, 1e-16, 1e-10), CheckReport(True, 3e-15, 1e-10)]
    >>> Measurement.of("|GLA − DWPGD|", "relative", checks)
    Measurement('|GLA − DWPGD|' relative: worst 3e-15 ≤ 1e-10 over 2 instances)
    """

    quantity: str
    unit: str
    worst: float
    tolerance: float
    instances: int
    passed: bool
    refutes_printed: bool = False
    refuted: int | None = None
    smallest: float | None = None

    def __post_init__(self):
        if self.refutes_printed:
            if self.refuted is None:
                self.refuted = self.instances if self.passed else 0
            if self.smallest is None:
                self.smallest = self.worst

    @classmethod
    def of(cls, quantity, unit, checks):
        """Summarise :class:`CheckReport` s: the worst residual relative to its tolerance."""
        checks = list(checks)
        if not checks:
            raise ValueError(f"no checks measured {quantity!r}")
        worst = max(checks, key=lambda c: (c.residual / c.tolerance if c.tolerance > 0
                                           else float("inf") if c.residual > 0 else 0.0,
                                           c.residual))
        return cls(quantity, unit, float(worst.residual), float(worst.tolerance), len(checks),
                   all(bool(c) for c in checks))

    @classmethod
    def refutation(cls, quantity, unit, values, tolerance):
        """The printed statement's departure on each instance; refuted where it exceeds
        ``tolerance``.

        The row reports how many instances refute the printed statement and the *smallest*
        departure among them (the weakest refutation: if even that is far above the tolerance,
        no refutation is roundoff); ``worst`` keeps the largest departure.

        Examples
        --------
        >>> Measurement.refutation("gap", "relative", [0.3, 1e-16, 0.02], 1e-10)
        Measurement('gap' relative: refuted on 2/3 instances, smallest 0.02 > 1e-10)
        """
        values = [float(v) for v in values]
        if not values:
            raise ValueError(f"no instances measured {quantity!r}")
        refuting = [v for v in values if v > tolerance]
        return cls(quantity, unit, max(values), float(tolerance), len(values), bool(refuting),
                   refutes_printed=True, refuted=len(refuting),
                   smallest=min(refuting) if refuting else max(values))

    @property
    def value(self):
        """The value the report prints: ``worst`` for a bound, ``smallest`` for a refutation."""
        return self.smallest if self.refutes_printed else self.worst

    @property
    def status(self):
        """``"within"``, ``"EXCEEDS"``, ``"refutes printed k/n"`` or ``"NOT REFUTED"``."""
        if self.refutes_printed:
            return (f"refutes printed {self.refuted}/{self.instances}" if self.passed
                    else "NOT REFUTED")
        return "within" if self.passed else "EXCEEDS"

    def __repr__(self):
        if self.refutes_printed:
            return (f"Measurement({self.quantity!r} {self.unit}: refuted on {self.refuted}/"
                    f"{self.instances} instances, smallest {self.smallest:.3g} > "
                    f"{self.tolerance:.3g})")
        return (f"Measurement({self.quantity!r} {self.unit}: worst {self.worst:.3g} ≤ "
                f"{self.tolerance:.3g} over {self.instances} instances)")


@dataclass
class StatementReport:
    """Verdict on one statement with its measurements (one block of ``python -m proofs_checks``).

    Attributes
    ----------
    statement : str
        The statement, as printed by the paper (or derived, when marked so).
    verdict : str
        One of :data:`VERDICTS`.
    measurements : list of Measurement
    correction : str
        For ``"holds as corrected"``: what was corrected.
    witness : Any
        A counterexample when the verdict is ``"fails"``, or an instance worth showing.
    notes : str
        Anything else a reader should know (what the instances were).
    """

    statement: str
    verdict: str
    measurements: list
    correction: str = ""
    witness: Any = None
    notes: str = ""

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")
        if self.verdict == "holds as corrected" and not self.correction:
            raise ValueError("a 'holds as corrected' verdict must say what was corrected")

    @classmethod
    def judge(cls, statement, measurements, *, correction="", witness=None, notes=""):
        """The verdict the measurements support: any bound exceeded → ``"fails"``; else a
        refuted printed form → ``"holds as corrected"``; else ``"holds"``."""
        measurements = list(measurements)
        bounds = [m for m in measurements if not m.refutes_printed]
        refuted = [m for m in measurements if m.refutes_printed and m.passed]
        if not all(m.passed for m in bounds):
            verdict = "fails"
        elif refuted or correction:
            verdict = "holds as corrected"
        else:
            verdict = "holds"
        return cls(statement, verdict, measurements, correction, witness, notes)

    @property
    def instances(self):
        """The largest instance count among the measurements."""
        return max((m.instances for m in self.measurements), default=0)

    @property
    def worst_residual(self):
        """The largest ``worst / tolerance``-ranked value among the bounds (not refutations)."""
        bounds = [m for m in self.measurements if not m.refutes_printed]
        return max((m.worst for m in bounds), default=0.0)

    def __repr__(self):
        return (f"StatementReport({self.statement!r}, verdict={self.verdict!r}, "
                f"{len(self.measurements)} measurements)")


def _wrap(text, width, indent):
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return "\n".join(indent + line for line in lines)


def format_report(row, width=100):
    """The text block for one :class:`StatementReport`.

    The ``value`` column is the worst (largest) value for a bound, and for a ``refutes printed``
    row the smallest departure among the instances that refute the printed statement (the
    result column says on how many of them).

    Examples
    --------
    >>> row = StatementReport.judge("Toy: 1 + 1 = 2", [Measurement.of(
    ...     "|1 + 1 − 2|", "absolute", [CheckReport(True, 0.0, 1e-15)])])
    >>> print(format_report(row))
    Toy: 1 + 1 = 2
      verdict: holds
        measured       unit          value  tolerance  instances  result
        |1 + 1 − 2|    absolute    0.0e+00  ≤ 1.0e-15          1  within
    """
    name_width = max(len("measured"), *(len(m.quantity) for m in row.measurements)) + 2
    unit_width = max(len("unit"), *(len(m.unit) for m in row.measurements)) + 2
    lines = [row.statement, f"  verdict: {row.verdict}",
             f"    {'measured':<{name_width}}{'unit':<{unit_width}}{'value':>7}  "
             f"{'tolerance':<9}  {'instances':>9}  result"]
    for m in row.measurements:
        relation = ">" if m.refutes_printed else "≤"
        lines.append(f"    {m.quantity:<{name_width}}{m.unit:<{unit_width}}{m.value:>7.1e}  "
                     f"{relation} {m.tolerance:<7.1e}  {m.instances:>9}  {m.status}")
    if row.correction:
        lines.append(_wrap("correction: " + row.correction, width, "    "))
    if row.notes:
        lines.append(_wrap("note: " + row.notes, width, "    "))
    if row.verdict == "fails" and row.witness is not None:
        lines.append(_wrap(f"witness: {row.witness!r}", width, "    "))
    return "\n".join(lines)


def collect_reports(*, examples=20, seed=0, progress=False):
    """The :class:`StatementReport` s of every ``proofs_checks.check_*`` module, in module order;
    ``progress=True`` shows a tqdm bar over the modules (needs tqdm).

    A module's ``report(examples, seed)`` returns one report, or a list of them when the parts
    of its statement differ in verdict (one row per part).
    """
    from . import all_check_modules

    modules = all_check_modules()
    if progress:
        from tqdm.auto import tqdm
        modules = tqdm(modules, desc="statements", unit="statement")
    rows = []
    for module in modules:
        result = module.report(examples=examples, seed=seed)
        rows.extend(result if isinstance(result, (list, tuple)) else [result])
    return rows


@dataclass(frozen=True)
class Provenance:
    """How a report was produced: instances per statement, the seed and the wall time.

    Examples
    --------
    >>> Provenance(20, 0, 18.6).text()
    'examples=20, seed=0, 19 s'
    >>> Provenance(20, 0, 18.6).text(timing=False)
    'examples=20, seed=0'
    """

    examples: int
    seed: int
    seconds: float | None = None

    def text(self, *, timing=True):
        """``"examples=…, seed=…[, … s]"`` (the time omitted if ``timing`` is false or unknown)."""
        parts = f"examples={self.examples}, seed={self.seed}"
        if timing and self.seconds is not None:
            parts += f", {self.seconds:.0f} s"
        return parts


def timed_reports(*, examples=20, seed=0, progress=False):
    """:func:`collect_reports` and its :class:`Provenance` (with the wall time)."""
    start = time.perf_counter()
    rows = collect_reports(examples=examples, seed=seed, progress=progress)
    return rows, Provenance(examples, seed, time.perf_counter() - start)


def report_text(reports, provenance=None, *, timing=True):
    """Every statement's block, then the summary line (with ``provenance`` if given).

    Examples
    --------
    >>> ok = StatementReport.judge("Toy", [Measurement.of("x", "absolute",
    ...                                                   [CheckReport(True, 0.0, 1.0)])])
    >>> print(report_text([ok], Provenance(3, 1, 2.0), timing=False).splitlines()[-1])
    Summary: 1 statements — 1 hold, 0 hold as corrected, 0 fail (examples=3, seed=1).
    """
    blocks = [format_report(row) + "\n" for row in reports]
    counts = {verdict: sum(row.verdict == verdict for row in reports) for verdict in VERDICTS}
    origin = "" if provenance is None else f" ({provenance.text(timing=timing)})"
    blocks.append(f"Summary: {len(reports)} statements — {counts['holds']} hold, "
                  f"{counts['holds as corrected']} hold as corrected, {counts['fails']} fail"
                  f"{origin}.")
    return "\n".join(blocks)


def run_report(stream=None, *, examples=20, seed=0, reports=None, provenance=None):
    """Print every statement's measurements and verdict, then a summary line.

    Parameters
    ----------
    stream : file-like, optional
        Where to write (default ``sys.stdout``).
    examples, seed : int
        Random instances per statement, and the seed (ignored if ``reports`` is given).
    reports : list of StatementReport, optional
        Pre-computed reports (default: :func:`timed_reports`).
    provenance : Provenance, optional
        How ``reports`` were produced, printed in the summary line (computed when ``reports``
        is not given). ``wpgd-theory check`` and ``python -m proofs_checks`` print the same.

    Returns
    -------
    int
        The exit status: 1 if any statement fails, else 0.

    Examples
    --------
    >>> import io
    >>> ok = StatementReport.judge("Toy", [Measurement.of("x", "absolute",
    ...                                                   [CheckReport(True, 0.0, 1.0)])])
    >>> bad = StatementReport.judge("Toy 2", [Measurement.of("y", "absolute",
    ...                                                      [CheckReport(False, 2.0, 1.0)])])
    >>> out = io.StringIO()
    >>> run_report(out, reports=[ok, bad])
    1
    >>> print(out.getvalue().splitlines()[-1])
    Summary: 2 statements — 1 hold, 0 hold as corrected, 1 fail.
    """
    stream = sys.stdout if stream is None else stream
    if reports is None:
        reports, provenance = timed_reports(examples=examples, seed=seed)
    print(report_text(reports, provenance), file=stream)
    return 1 if any(row.verdict == "fails" for row in reports) else 0


MARKDOWN_BEGIN = "<!-- proofs-report:begin -->"
MARKDOWN_END = "<!-- proofs-report:end -->"


def replace_markdown_block(document, text):
    """``document`` with the fenced block between :data:`MARKDOWN_BEGIN` and
    :data:`MARKDOWN_END` replaced by ``text``.

    Examples
    --------
    >>> doc = f"intro\\n{MARKDOWN_BEGIN}\\n```\\nold\\n```\\n{MARKDOWN_END}\\nend\\n"
    >>> print(replace_markdown_block(doc, "new"))
    intro
    <!-- proofs-report:begin -->
    ```
    new
    ```
    <!-- proofs-report:end -->
    end
    <BLANKLINE>
    """
    if document.count(MARKDOWN_BEGIN) != 1 or document.count(MARKDOWN_END) != 1:
        raise ValueError(f"document must contain {MARKDOWN_BEGIN!r} and {MARKDOWN_END!r} once "
                         "each")
    head, rest = document.split(MARKDOWN_BEGIN)
    _, tail = rest.split(MARKDOWN_END)
    return f"{head}{MARKDOWN_BEGIN}\n```\n{text.rstrip()}\n```\n{MARKDOWN_END}{tail}"


def markdown_block(document):
    """The text inside the fenced block between the markers (inverse of
    :func:`replace_markdown_block`)."""
    replace_markdown_block(document, "")    # validates the markers
    inner = document.split(MARKDOWN_BEGIN)[1].split(MARKDOWN_END)[0].strip()
    return inner.removeprefix("```").removesuffix("```").strip("\n")


def write_markdown(path, text):
    """Replace the report block of the Markdown file ``path`` by ``text``."""
    with open(path, encoding="utf-8") as handle:
        document = handle.read()
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(replace_markdown_block(document, text))
