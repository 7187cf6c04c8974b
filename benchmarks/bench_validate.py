"""`vidpipe validate` on big job files: goal 10,000 jobs in under 3 s, linear in the job count.

The jobs are a realistic mix: text-to-video, image-to-video and reference jobs whose local
references (a few real files, cited many times) are confined, probed and measured; explicit
models with their capability checks; LESSONS.md lint. Measured twice: in-process `validate_file`
(the API the CLI and generate call) and the real CLI in a fresh process (with interpreter and
import start-up), both on a temporary project.

    python benchmarks/bench_validate.py [--sizes 1000,2000,5000,10000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from PIL import Image  # noqa: E402

from vidpipe.media.ffmpeg import run_ffmpeg  # noqa: E402

GOAL_S = 3.0
PROMPT = ("A red kite climbs over grey dunes at dawn, its long tail snapping in the wind. Camera: low angle, slow "
          "tilt up, 35mm lens. Style: pastel haze, soft contrast. Sound: wind over sand, a distant gull.")


def make_project(root: Path) -> dict[str, str]:
    refs = root / "data" / "refs"
    refs.mkdir(parents=True)
    (root / "profile").mkdir()
    shutil.copy(REPO / "LESSONS.md", root / "LESSONS.md") if (REPO / "LESSONS.md").exists() else None
    for i in range(4):
        Image.new("RGB", (320, 180), (40 * i, 90, 160)).save(refs / f"face{i}.png")
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "sine=frequency=220:duration=3", str(refs / "voice.wav")], what="voice")
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=24:duration=3", "-pix_fmt", "yuv420p",
                str(refs / "move.mp4")], what="motion ref")
    return {"img": str(refs / "face{}.png"), "wav": str(refs / "voice.wav"), "mp4": str(refs / "move.mp4")}


def jobs(n: int, refs: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        kind = i % 5
        inp: dict[str, Any] = {"prompt": f"{PROMPT} Take {i}.", "duration": (4, 5, 6, 8, 10)[i % 5]}
        job: dict[str, Any] = {"id": f"job-{i:05d}", "input": inp}
        if kind == 1:
            inp["image"] = refs["img"].format(i % 4)
        elif kind == 2:
            inp["reference_images"] = [refs["img"].format(i % 4), refs["img"].format((i + 1) % 4)]
            inp["prompt"] += " [Image1] flies beside [Image2]."
        elif kind == 3:
            inp["reference_images"] = [refs["img"].format(i % 4)]
            inp["reference_videos"] = [refs["mp4"]]
            inp["reference_audios"] = [refs["wav"]]
            inp["prompt"] += ' [Image1] moves like [Video1] and says "the kite is up, come and see" as in [Audio1].'
        else:
            job["model"] = ("veo-3.1", "kling-3.0-omni", "seedance-2.0")[i % 3]
            inp["duration"] = 8
        out.append(job)
    return out


def run(size: int, root: Path, refs: dict[str, str]) -> dict[str, float]:
    from vidpipe.paths import Paths
    from vidpipe.validate import validate_file

    f = root / f"jobs_{size}.json"
    f.write_text(json.dumps(jobs(size, refs)))
    t, c = time.perf_counter(), time.process_time()
    reports = validate_file(f, paths=Paths(root))
    api_s, api_cpu = time.perf_counter() - t, time.process_time() - c
    assert len(reports) == size
    env = {**os.environ, "PYTHONPATH": str(REPO), "VIDPIPE_ROOT": str(root)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "vidpipe", "validate", str(f), "--json"], env=env, cwd=root,
                          capture_output=True, text=True)
    cli_s = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cli_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert proc.returncode in (0, 1), proc.stderr[-500:]
    assert len(json.loads(proc.stdout)) == size
    return {"api_s": round(api_s, 3), "api_cpu_s": round(api_cpu, 3), "cli_s": round(cli_s, 3),
            "cli_cpu_s": round(cli_cpu, 3), "us_per_job": round(api_cpu / size * 1e6, 1)}


def calibration_ms() -> float:
    """CPU ms of a fixed pure-Python loop (sum(range(10**6))): ~10–15 ms on an idle modern core; shows how
    slow this machine was while the numbers were taken."""
    c = time.process_time()
    for _ in range(10):
        sum(range(10**6))
    return round((time.process_time() - c) * 100, 1)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="1000,2000,5000,10000")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["VIDPIPE_ROOT"] = str(root)
        refs = make_project(root)
        rows = {n: run(n, root, refs) for n in sizes}
    for n, r in rows.items():
        print(f"  validate {n:6d} jobs: API {r['api_s']:.2f} s wall / {r['api_cpu_s']:.2f} s CPU "
              f"({r['us_per_job']:.0f} µs CPU/job); CLI {r['cli_s']:.2f} s wall / {r['cli_cpu_s']:.2f} s CPU")
    cal = calibration_ms()
    print(f"  (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: wall times include waiting for a core; "
          f"calibration loop {cal} ms CPU)")
    big, small = max(sizes), min(sizes)
    result = {
        "validate_10k_api_s": rows[big]["api_s"] if big == 10000 else None,
        "validate_10k_cli_s": rows[big]["cli_s"] if big == 10000 else None,
        "validate_10k_cli_cpu_s": rows[big]["cli_cpu_s"] if big == 10000 else None,
        "validate_goal_s": GOAL_S,
        "validate_cli_cpu_vs_goal_ratio": round(rows[big]["cli_cpu_s"] / GOAL_S, 2),
        "calibration_ms": cal,
        "validate_scaling_ratio": round((rows[big]["api_cpu_s"] / big) / (rows[small]["api_cpu_s"] / small), 2),
        "rows": rows,
    }
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}))
    return result


if __name__ == "__main__":
    main()
