"""How many of the offline preview's own clips fail their own QC, over many random well-formed shots.

Why: a first episode on the preview backend must reach its final cut; a preview clip that fails
QC stops the gate. The CI test (tests/test_preview_property.py) renders a dozen seeded shots;
this renders as many as asked and counts failures per code, with the cases to reproduce them.

    python benchmarks/bench_preview_qc.py [--shots 100] [--first-seed 0] [--out bench_preview_qc.json]

(`make bench` runs 24 shots.) Exit status 1 when any preview clip fails its own QC.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.preview_shots import failures, random_case, render_and_check  # noqa: E402


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shots", type=int, default=24)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="write every case's result as JSON")
    args = ap.parse_args(argv)
    per_code: collections.Counter[str] = collections.Counter()
    rows = []
    t0 = time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.shots):
        with tempfile.TemporaryDirectory() as tmp:
            case = random_case(seed, Path(tmp) / "in")
            report = render_and_check(case, Path(tmp) / "out")
        codes = failures(report)
        per_code.update(codes)
        motion = [d.detail for d in report.defects if d.code == "camera_move_mismatch"]
        rows.append({"seed": seed, "mode": case.shot.mode, "aspect": case.shot.aspect_ratio,
                     "duration": case.shot.duration, "prompt": report.prompt, "failed": codes,
                     "details": [f"{d.code}: {d.detail}" for d in report.blocking_defects()], "motion": motion})
        print(f"seed {seed:4d} {case.shot.mode:22s} {case.shot.aspect_ratio:5s} {case.shot.duration:2d}s "
              f"{'PASS' if not codes else 'FAIL ' + ','.join(codes)}", flush=True)
        for line in rows[-1]["details"]:
            print("      ", line[:300], flush=True)
    failed = sum(1 for r in rows if r["failed"])
    summary = {"shots": len(rows), "failed": failed, "per_code": dict(per_code),
               "failed_share_ratio": round(failed / max(1, len(rows)), 3), "wall_s": round(time.perf_counter() - t0, 1)}
    print(json.dumps(summary))
    if args.out:
        args.out.write_text(json.dumps({"summary": summary, "cases": rows}, indent=1))
    return summary


if __name__ == "__main__":
    raise SystemExit(1 if main(sys.argv[1:])["failed"] else 0)
