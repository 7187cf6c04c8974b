"""How often each content detector is right, as measured on the labelled benchmark (benchmarks/qc_bench).

`accuracy.json` (beside this module, written by `python -m benchmarks.qc_bench.run --write-accuracy`) holds
per-code precision and recall keyed by DETECTOR_VERSION. Bump the version whenever a detector or threshold
changes, and re-run the benchmark: a version without measurements counts as unproven.

The rule that uses it (vidpipe.qc.verdict): a detector may only block a clip when its measured blocking
precision is at least MIN_BLOCK_PRECISION; below that its errors are reported as warnings for the judge.
Every QC pass records the version and these numbers in probe.json (`qc_detectors`), so trends and learned
lessons can discount a weak detector.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

DETECTOR_VERSION = "content-3"  # 3: tracked-background camera motion, faces at 320 px, single-take cuts
MIN_BLOCK_PRECISION = 0.95
# The content detectors the rule applies to. Technical checks (cuts, frozen, black) and a stated single-take
# rule keep blocking: their numbers are published, not used to silence them.
JUDGED = frozenset({"camera_move_mismatch", "burnt_in_text", "speech_missing", "face_missing"})
ACCURACY_FILE = Path(__file__).with_name("accuracy.json")
UNPROVEN_NOTE = "detector not proven on the benchmark"


@lru_cache(maxsize=1)
def measured() -> dict[str, Any]:
    """This version's per-code numbers ({} when the file or the version is missing)."""
    try:
        data = json.loads(ACCURACY_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return dict(data.get("versions", {}).get(DETECTOR_VERSION, {}))


def unproven(code: str) -> float | None:
    """The measured blocking precision of `code` when it is below MIN_BLOCK_PRECISION, else None.

    Codes the benchmark does not cover (technical checks) are not judged here."""
    if code not in JUDGED:
        return None
    m = measured().get("codes", {}).get(code)
    if not m or m.get("block_precision") is None:
        return None
    p = float(m["block_precision"])
    return p if p < MIN_BLOCK_PRECISION else None


def record() -> dict[str, Any]:
    """What a QC pass stores beside its findings: the detector version and its measured accuracy."""
    codes = measured().get("codes", {})
    return {"version": DETECTOR_VERSION, "measured_on": measured().get("benchmark"),
            "codes": {c: {k: m.get(k) for k in ("precision", "recall", "block_precision", "block_recall")}
                      for c, m in codes.items()}}
