"""The QC rules in one place: which defect codes block a clip, and the score a judged clip must reach.

`QCReport.passed(SCORE_THRESHOLD)` is the one verdict; the CLI's exit code, the pipeline's gate
before the cut, `vidpipe status` and the Dagster checks all ask it. Severities are assigned here
when a report is built (`with_severities`), so a stored qc.json carries its verdict.
"""

from __future__ import annotations

from vidpipe.schema import Defect, QCReport

# Defects a clip can carry and still be usable after the edit (which re-levels loudness and
# re-times cuts): reported as warnings; they never block a run.
WARN_CODES = frozenset({"loudness_out_of_range", "cut_count_mismatch"})

# A judged clip scoring below this overall (1–5) fails the verdict (the Dagster score check warns).
SCORE_THRESHOLD = 3

# Error defects cap the judge's overall score at this (a broken clip is never "good").
DEFECT_CAP = 2


def with_severities(defects: list[Defect]) -> list[Defect]:
    """Apply the severity rule: codes in WARN_CODES are warnings, the rest keep what their detector said."""
    return [d.model_copy(update={"severity": "warning"}) if d.code in WARN_CODES else d for d in defects]


def verdict(report: QCReport) -> bool:
    """Did the clip pass QC? (The rule every caller uses.)"""
    return report.passed(SCORE_THRESHOLD)


def summary(report: QCReport) -> str:
    """One line: 'passed', or what blocked it."""
    blocking = [d.code for d in report.blocking_defects()]
    if blocking:
        return f"failed: {', '.join(dict.fromkeys(blocking))}"
    if not verdict(report) and report.scores is not None:
        return f"failed: overall {report.scores.overall}/5 < {SCORE_THRESHOLD}"
    return "passed"
