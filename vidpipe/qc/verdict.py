"""The QC rules in one place: which defect codes block a clip, and the score a judged clip must reach.

`QCReport.passed(SCORE_THRESHOLD)` is the one verdict; the CLI's exit code, the pipeline's gate
before the cut, `vidpipe status` and the Dagster checks all ask it. Severities are assigned here
when a report is built (`with_severities`), so a stored qc.json carries its verdict.
"""

from __future__ import annotations

from vidpipe.qc.content.accuracy import MIN_BLOCK_PRECISION, UNPROVEN_NOTE, unproven
from vidpipe.schema import Defect, QCReport

# Defects a clip can carry and still be usable after the edit (which re-levels loudness): reported as
# warnings; they never block a run. (cut_count_mismatch is not here: a stated single-take rule broken is an
# error, other count differences are warnings — vidpipe.qc.technical.cut_count decides.)
WARN_CODES = frozenset({"loudness_out_of_range"})
# Findings whose measured value is bad when it is LOW (seconds of speech, share of frames with a face);
# for every other code a value at or above its threshold is the bad side.
LOWER_IS_WORSE = frozenset({"speech_missing", "face_missing"})

# A judged clip scoring below this overall (1–5) fails the verdict (the Dagster score check warns).
SCORE_THRESHOLD = 3

# Error defects cap the judge's overall score at this (a broken clip is never "good").
DEFECT_CAP = 2


def beyond_threshold(d: Defect) -> bool:
    """Is the measured value on the failing side of its threshold? (True when either is not stated.)"""
    if d.value is None or d.threshold is None:
        return True
    return d.value < d.threshold if d.code in LOWER_IS_WORSE else d.value >= d.threshold


def _severity(d: Defect) -> Defect:
    if d.severity != "error":
        return d
    if d.code in WARN_CODES or not beyond_threshold(d):
        return d.model_copy(update={"severity": "warning"})
    weak = unproven(d.code)
    if weak is not None:
        note = f" [{UNPROVEN_NOTE}: blocking precision {weak:.2f} < {MIN_BLOCK_PRECISION}; the judge confirms]"
        return d.model_copy(update={"severity": "warning", "detail": d.detail + note})
    return d


def with_severities(defects: list[Defect]) -> list[Defect]:
    """Apply the severity rule: codes in WARN_CODES are warnings; so is any finding whose value does not pass
    its own threshold (an error must be measured to be one), and any finding of a detector whose blocking
    precision on the benchmark is below MIN_BLOCK_PRECISION (vidpipe.qc.content.accuracy); the rest keep
    what their detector said."""
    return [_severity(d) for d in defects]


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
