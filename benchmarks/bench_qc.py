"""QC cost: the skill's review script (probe + one ffmpeg per frame + tile) vs our full run_qc.

Why: QC runs after every clip, so it must be cheap. The reference only extracts pictures;
run_qc also runs every technical check (black, frozen, cuts, silence, loudness, shape) and every
content detector (text, camera, speech, faces, flicker, blur, blocking) in one decode pass per
stream. The request is a dialogue shot with a camera move and a no-subtitles constraint, so every
detector runs. Goal: run_qc ≤ 1.0× the reference on a 10 s 720p clip with audio (it was 0.44×
with the nine technical codes alone). Per-detector times come from probe.json `qc_timings_s`.

    python benchmarks/bench_qc.py [--repeat 5] [--seconds 10] [--frames 6]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def reference_review(clip: Path, out: Path, frames: int) -> None:
    """The skill's scripts/review.py shape: `ffmpeg -i` probe, one seek+extract per frame, a Pillow tile."""
    from PIL import Image

    from vidpipe.media.contact_sheet import contact_sheet
    from vidpipe.media.ffmpeg import ffmpeg_exe, run_ffmpeg

    exe = ffmpeg_exe()
    info = subprocess.run([exe, "-hide_banner", "-i", str(clip)], capture_output=True, text=True)  # exits 1: no output
    line = next(x for x in info.stderr.splitlines() if "Duration:" in x)
    h, m, s = line.split("Duration:")[1].split(",")[0].strip().split(":")
    duration = int(h) * 3600 + int(m) * 60 + float(s)
    out.mkdir(parents=True, exist_ok=True)
    picks = []
    for k in range(frames):
        t = duration * (k + 0.5) / frames
        path = out / f"frame_{k + 1:02d}.jpg"
        run_ffmpeg(["-y", "-ss", f"{t:.3f}", "-i", str(clip), "-frames:v", "1", "-q:v", "3", str(path)],
                   what="extract frame")
        picks.append((t, Image.open(path)))
    contact_sheet(picks, out / "contact_sheet.jpg")


def ours(clip: Path, out: Path, frames: int) -> None:
    from vidpipe.qc.report import run_qc

    run_qc(clip, out_dir=out, frames=frames, request=BENCH_REQUEST)


# Every detector runs: a speaking shot (speech + faces), a named camera move, text forbidden.
BENCH_REQUEST = {"prompt": 'A keeper at the radio says: "Steer north of the light." Camera: slow push-in. '
                           "Constraints: one speaker only, no subtitles.", "duration": 10, "resolution": "720p",
                 "aspect_ratio": "16:9", "generate_audio": True}


def _median_time(fn: Callable[[], None], repeat: int) -> tuple[float, list[float]]:
    fn()  # warm-up: imports, page cache
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs), runs


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--frames", type=int, default=6)
    args = ap.parse_args(argv if argv is not None else [])
    from tests.media_factory import make_clip

    with tempfile.TemporaryDirectory(prefix="vidpipe-bench-qc-") as tmp:
        work = Path(tmp)
        clip = make_clip(work / "clip720.mp4", seconds=args.seconds, width=1280, height=720, fps=24)
        ref_s, ref_runs = _median_time(lambda: reference_review(clip, work / "ref", args.frames), args.repeat)
        timings: list[dict[str, float]] = []

        def run_ours() -> None:
            ours(clip, work / "ours", args.frames)
            timings.append(json.loads((work / "ours" / "probe.json").read_text())["qc_timings_s"])

        our_s, our_runs = _median_time(run_ours, args.repeat)
        report = json.loads((work / "ours" / "qc.json").read_text())
    per_detector = {k: round(statistics.median(t.get(k, 0.0) for t in timings[1:]), 4) for k in timings[-1]}
    content_s = round(sum(per_detector.values()), 4)
    result = {
        "clip": f"{args.seconds:g} s 1280x720 24 fps h264 + aac stereo",
        "frames": args.frames,
        "repeat": args.repeat,
        "reference_s": round(ref_s, 4),
        "run_qc_s": round(our_s, 4),
        "ratio": round(our_s / ref_s, 3),
        "goal_ratio": 1.0,
        "content_detectors_s": per_detector,
        "content_total_s": content_s,
        "reference_runs_s": [round(x, 4) for x in ref_runs],
        "run_qc_runs_s": [round(x, 4) for x in our_runs],
        "defects_on_clean_clip": [d["code"] for d in report["defects"]],
    }
    print(f"{'reference (probe + 1 ffmpeg/frame + tile)':44s} {ref_s:7.3f} s")
    print(f"{'run_qc (all checks + contact sheet)':44s} {our_s:7.3f} s")
    for name, sec in per_detector.items():
        print(f"{'  of which ' + name:44s} {sec:7.3f} s  ({sec / ref_s:.3f}x of the reference)")
    print(f"{'  content detectors together':44s} {content_s:7.3f} s")
    print(f"{'ratio (goal <= 1.0)':44s} {result['ratio']:7.3f}x")
    return result


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), indent=2))
