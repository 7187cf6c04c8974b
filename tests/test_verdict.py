"""The one QC rule (vidpipe/qc/verdict.py): which defects block, the score threshold, and its one-line summary.

A table over the rule's cases, then the same rule on a real clip through run_qc and `vidpipe qc`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vidpipe.media.ffmpeg import ffmpeg_exe
from vidpipe.qc.report import run_qc
from vidpipe.qc.verdict import SCORE_THRESHOLD, WARN_CODES, summary, verdict, with_severities
from vidpipe.schema import Defect, Probe, QCReport, Scores

REPO = Path(__file__).resolve().parents[1]


def report(*defects: Defect, overall: int | None = None) -> QCReport:
    scores = None if overall is None else Scores(prompt_fidelity=overall, subject_consistency=overall,
                                                  camera_and_motion=overall, audio_match=overall, overall=overall)
    return QCReport(clip="c.mp4", clip_id="c", probe=Probe(duration_s=4.0), defects=list(defects), scores=scores)


@pytest.mark.parametrize(("rep", "passed", "said"), [
    pytest.param(report(), True, "passed", id="clean-unjudged"),
    pytest.param(report(Defect(code="black_frames")), False, "failed: black_frames", id="error-blocks"),
    pytest.param(report(Defect(code="black_frames"), Defect(code="black_frames"), Defect(code="frozen_frames")),
                 False, "failed: black_frames, frozen_frames", id="codes-once-each-in-order"),
    pytest.param(report(Defect(code="burnt_in_text", confirmed=False)), True, "passed", id="judge-rejected-finding"),
    pytest.param(report(Defect(code="burnt_in_text", confirmed=True)), False, "failed: burnt_in_text",
                 id="judge-confirmed-finding"),
    pytest.param(report(Defect(code="silence", severity="warning")), True, "passed", id="warning-never-blocks"),
    pytest.param(report(overall=SCORE_THRESHOLD - 1), False, f"failed: overall {SCORE_THRESHOLD - 1}/5 < 3",
                 id="judged-below-threshold"),
    pytest.param(report(overall=SCORE_THRESHOLD), True, "passed", id="judged-at-threshold"),
])
def test_the_rule(rep: QCReport, passed: bool, said: str) -> None:
    assert verdict(rep) is passed and rep.passed(SCORE_THRESHOLD) is passed
    assert summary(rep) == said


def test_warn_codes_become_warnings_and_others_keep_their_severity() -> None:
    marked = with_severities([Defect(code=c) for c in sorted(WARN_CODES)] + [Defect(code="black_frames"),
                                                                             Defect(code="x", severity="warning")])
    assert [d.severity for d in marked] == ["warning"] * len(WARN_CODES) + ["error", "warning"]
    assert verdict(report(*marked[: len(WARN_CODES)]))  # loudness or cut count alone never block


def test_old_warn_spelling_reads_as_warning() -> None:
    assert Defect.model_validate({"code": "silence", "severity": "warn"}).severity == "warning"


def test_a_black_clip_fails_through_run_qc_and_the_cli(tmp_path: Path) -> None:
    clip = tmp_path / "black.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "color=black:s=320x180:r=24:d=3",
                    "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", str(clip)], check=True)
    rep = run_qc(clip, request={"prompt": "A lighthouse at dusk. Camera: static."}, out_dir=tmp_path / "r")
    blocking = [d.code for d in rep.blocking_defects()]
    assert blocking and not verdict(rep) and summary(rep) == "failed: " + ", ".join(dict.fromkeys(blocking))
    stored = QCReport.model_validate(json.loads((tmp_path / "r" / "qc.json").read_text()))
    assert verdict(stored) is False  # the stored qc.json carries the same verdict
    cli = subprocess.run([sys.executable, "-m", "vidpipe", "qc", str(clip), "--out", str(tmp_path / "c")],
                         capture_output=True, text=True, cwd=tmp_path, env={"PATH": "/usr/bin:/bin",
                                                                             "PYTHONPATH": str(REPO),
                                                                             "VIDPIPE_ROOT": str(tmp_path)})
    assert cli.returncode == 1, cli.stderr  # the CLI's exit code follows the same rule


@pytest.mark.parametrize(("defect", "severity"), [
    pytest.param(Defect(code="camera_move_mismatch", value=0.027, threshold=0.04), "warning", id="below-threshold"),
    pytest.param(Defect(code="camera_move_mismatch", value=0.05, threshold=0.04), "error", id="above-threshold"),
    pytest.param(Defect(code="speech_missing", value=0.6, threshold=0.5), "warning", id="lower-is-worse-passing"),
    pytest.param(Defect(code="speech_missing", value=0.1, threshold=0.5), "error", id="lower-is-worse-failing"),
    pytest.param(Defect(code="black_frames"), "error", id="no-value-keeps-its-severity"),
    pytest.param(Defect(code="flicker", value=9.0, threshold=3.0, severity="warning"), "warning", id="warning-stays"),
])
def test_severity_follows_the_value_against_its_threshold(defect: Defect, severity: str) -> None:
    assert with_severities([defect])[0].severity == severity


def test_a_detector_below_the_precision_bar_warns_instead_of_blocking(monkeypatch: pytest.MonkeyPatch) -> None:
    from vidpipe.qc.content import accuracy

    monkeypatch.setattr(accuracy, "measured", lambda: {"codes": {"face_missing": {"block_precision": 0.6},
                                                                 "speech_missing": {"block_precision": 1.0}}})
    weak, strong = with_severities([Defect(code="face_missing", value=0.0, threshold=0.34),
                                    Defect(code="speech_missing", value=0.0, threshold=0.5)])
    assert weak.severity == "warning" and accuracy.UNPROVEN_NOTE in weak.detail
    assert strong.severity == "error"


def _two_cuts(path: Path) -> Path:
    from tests.content_factory import photo, photo_clip

    others = [photo("coffee"), photo("chelsea")]

    def hook(frame, i):  # type: ignore[no-untyped-def]
        if i < 24:
            return frame
        src = others[0 if i < 48 else 1]
        return src.resize(frame.size, box=(2 * i, i, src.width // 2 + 2 * i, src.height // 2 + i))  # a drift
    return photo_clip(path, move="pan_left", seconds=3.0, frame_hook=hook)


@pytest.mark.parametrize(("constraint", "severity", "exit_code"), [
    ("Constraints: single continuous take, no cuts.", "error", 1),
    ("Constraints: one shot.", "error", 1),
    ("Style: daylight.", "warning", 0),
])
def test_a_single_take_rule_makes_cuts_an_error_through_the_cli(tmp_path: Path, constraint: str, severity: str,
                                                                exit_code: int) -> None:
    clip = _two_cuts(tmp_path / "two_cuts.mp4")
    job = tmp_path / "request.json"
    job.write_text(json.dumps({"prompt": f"An astronaut, a cup of coffee, a cat. {constraint}",
                               "generate_audio": False}))
    cli = subprocess.run([sys.executable, "-m", "vidpipe", "qc", str(clip), "--job", str(job), "--out",
                          str(tmp_path / "r"), "--no-record"], capture_output=True, text=True, cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "VIDPIPE_ROOT": str(tmp_path)})
    stored = QCReport.model_validate(json.loads((tmp_path / "r" / "qc.json").read_text()))
    found = [d for d in stored.defects if d.code == "cut_count_mismatch"]
    assert [d.severity for d in found] == [severity] and "2 cut" in found[0].detail, stored.defects
    assert cli.returncode == exit_code, cli.stdout + cli.stderr
