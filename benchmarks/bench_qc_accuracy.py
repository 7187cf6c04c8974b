"""QC accuracy on the labelled benchmark (benchmarks/qc_bench): precision/recall per code, false blocking.

Builds the clips once (cached under data/cache/qc_bench), runs QC on every case, prints the table.
    python benchmarks/bench_qc_accuracy.py        (or: make bench-qc)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from benchmarks.qc_bench.run import main as run

    result = run(argv or [])
    return {"detector_version": result["detector_version"], "cases": result["cases"], "clips": result["clips"],
            "false_blocking_rate": result["false_blocking_rate"], "qc_s": result["qc_s"],
            "codes": {c: {k: m[k] for k in ("precision", "recall", "block_precision", "block_recall")}
                      for c, m in result["codes"].items()}}


if __name__ == "__main__":
    main(sys.argv[1:])
