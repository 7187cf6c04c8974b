"""Quality control: technical checks in one decode pass (report.run_qc), scoring by judges (judge.py)."""

from __future__ import annotations

from vidpipe.qc.report import qc_row, run_qc, scene_cuts

__all__ = ["qc_row", "run_qc", "scene_cuts"]
