"""The preview performs any well-formed shot: random shots (every mode, aspect, camera word, 4–15 s,
casts with and without images) through the real preview backend and the pipeline's own QC call,
and none fails its own QC. The larger run is benchmarks/bench_preview_qc.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.preview_shots import failures, random_case, render_and_check

SEEDS = list(range(12))  # seeds 0..8 walk every mode once; the rest are drawn at random


@pytest.mark.parametrize("seed", SEEDS)
def test_random_shot_passes_its_own_qc(tmp_path: Path, seed: int) -> None:
    case = random_case(seed, tmp_path / "in")
    report = render_and_check(case, tmp_path / "out")
    assert failures(report) == [], [f"{d.code}: {d.detail}" for d in report.blocking_defects()] + [report.prompt]
