"""Edit and finish cost vs the naive ffmpeg chain, at measured quality (VMAF).

assemble — reference: re-encode every clip separately (scale+pad, fps, libx264 medium crf 18,
AAC 48 kHz stereo), then join them with an xfade/acrossfade chain in a second full encode
(medium, crf 18). Ours: vidpipe.media.assemble (one filter graph, one encode, H.264 yuv420p High,
then a full decode to verify it). Goal ≤ 0.4× the time at VMAF ≥ the reference's − 1. Also timed:
the same cut encoded yuv444p (what ffmpeg negotiated before the graph was pinned to 4:2:0).
upscale — reference: lanczos + libx264 preset slow crf 16. Ours: vidpipe.media.upscale.
Goal ≤ 0.8× at equal VMAF (±0.5).
VMAF of both is measured (libvmaf, every 3rd frame) against a lossless render of the same result.

    python benchmarks/bench_media.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from vidpipe.media.ffmpeg import run_ffmpeg  # noqa: E402


def make_source(path: Path, seconds: float, look: str) -> Path:
    """A 720p clip with real detail and motion (test pattern + film-like noise) and audio."""
    run_ffmpeg(["-y", "-f", "lavfi", "-i", f"testsrc2=s=1280x720:r=24:d={seconds}",
                "-f", "lavfi", "-i", f"sine=f=330:d={seconds}:r=48000",
                "-vf", f"{look},noise=alls=12:allf=t", "-c:v", "libx264", "-preset", "fast", "-crf", "18",
                "-c:a", "aac", "-ac", "2", "-shortest", str(path)], what="bench source")
    return path


CPU: dict[int, float] = {}  # id(fn) → CPU seconds its ffmpeg children used (robust on a loaded machine)


def timed(fn: Any) -> float:
    """Wall seconds of fn(); the CPU seconds of the child processes it waited for go to CPU[id(fn)]."""
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    fn()
    wall = time.perf_counter() - t
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU[id(fn)] = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
    return wall


def timed_cpu(fn: Any) -> tuple[float, float]:
    wall = timed(fn)
    return wall, CPU[id(fn)]


def vmaf(distorted: Path, reference: Path) -> float:
    err = run_ffmpeg(["-i", str(distorted), "-i", str(reference), "-lavfi",
                      "[0:v]setpts=PTS-STARTPTS[d];[1:v]setpts=PTS-STARTPTS[r];[d][r]libvmaf=n_subsample=3:n_threads=2",
                      "-f", "null", "-"], what="vmaf")
    m = re.search(r"VMAF score: ([\d.]+)", err)
    return float(m.group(1)) if m else float("nan")


def reference_assemble(clips: list[Path], tmp: Path, out: Path, xfade: float, seconds: float) -> None:
    norm = []
    for i, c in enumerate(clips):
        n = tmp / f"norm{i}.mp4"
        run_ffmpeg(["-y", "-i", str(c), "-vf", "scale=1280:720:force_original_aspect_ratio=decrease,"
                    "pad=1280:720:(ow-iw)/2:(oh-ih)/2,fps=24", "-c:v", "libx264", "-preset", "medium", "-crf", "18",
                    "-c:a", "aac", "-ar", "48000", "-ac", "2", str(n)], what="reference normalise")
        norm.append(n)
    graph = (f"[0:v][1:v]concat=n=2:v=1:a=0,settb=AVTB[v01];[0:a][1:a]concat=n=2:v=0:a=1[a01];"
             f"[2:v]settb=AVTB[v2];[v01][v2]xfade=transition=fade:duration={xfade}:offset={2 * seconds - xfade}[v];"
             f"[a01][2:a]acrossfade=d={xfade}[a]")
    run_ffmpeg(["-y", *sum((["-i", str(n)] for n in norm), []), "-filter_complex", graph, "-map", "[v]", "-map", "[a]",
                "-c:v", "libx264", "-preset", "medium", "-crf", "18", "-c:a", "aac", "-ar", "48000", str(out)],
               what="reference join")


def bench_assemble(tmp: Path, seconds: float) -> dict[str, Any]:
    from vidpipe.edit_schema import EditClip, EditList
    from vidpipe.media.assemble import ENCODE_ARGS, assemble
    from vidpipe.media.verify import playable_problems

    clips = [make_source(tmp / f"src{i}.mp4", seconds, look) for i, look in
             enumerate(["null", "hue=h=90", "negate"])]
    edit = EditList(output=str(tmp / "ours.mp4"), resolution="720p", clips=[
        EditClip(path=str(clips[0])), EditClip(path=str(clips[1])),
        EditClip(path=str(clips[2]), transition="crossfade", transition_dur=1.0)])
    t_ref, c_ref = timed_cpu(lambda: reference_assemble(clips, tmp, tmp / "ref.mp4", 1.0, seconds))
    t_ours, c_ours = timed_cpu(lambda: assemble(edit))  # includes the full-decode verification of the cut
    # what the cut cost before it was pinned to 4:2:0 (ffmpeg negotiated yuv444p after xfade)
    t_444, c_444 = timed_cpu(lambda: assemble(edit.model_copy(update={"output": str(tmp / "ours444.mp4")}),
                                              video_args=[*ENCODE_ARGS[:-1], "yuv444p"]))
    # pristine: the same edit through the same graph, encoded losslessly (x264 qp 0)
    lossless = edit.model_copy(update={"output": str(tmp / "pristine.mp4")})
    assemble(lossless, video_args=["-c:v", "libx264", "-preset", "ultrafast", "-qp", "0"])
    v_ref, v_ours = vmaf(tmp / "ref.mp4", tmp / "pristine.mp4"), vmaf(tmp / "ours.mp4", tmp / "pristine.mp4")
    return {"assemble_ref_s": round(t_ref, 2), "assemble_ours_s": round(t_ours, 2),
            "assemble_ratio": round(t_ours / t_ref, 3), "assemble_vmaf_ref": v_ref, "assemble_vmaf_ours": v_ours,
            "assemble_goal_met": t_ours / t_ref <= 0.4 and v_ours >= v_ref - 1,
            "assemble_cpu_ratio": round(c_ours / c_ref, 3),
            "assemble_yuv444_s": round(t_444, 2), "assemble_420_vs_444_ratio": round(t_ours / t_444, 3),
            "assemble_420_vs_444_cpu_ratio": round(c_ours / c_444, 3),
            "assemble_goal_playable": playable_problems(tmp / "ours.mp4") == []}


def bench_upscale(tmp: Path, seconds: float) -> dict[str, Any]:
    from vidpipe.media.upscale import upscale

    src = make_source(tmp / "up_src.mp4", seconds, "null")
    t_ref = timed(lambda: run_ffmpeg(["-y", "-i", str(src), "-vf", "scale=1920:1080:flags=lanczos", "-c:v", "libx264",
                                      "-preset", "slow", "-crf", "16", "-c:a", "copy", str(tmp / "up_ref.mp4")],
                                     what="reference upscale"))
    t_ours = timed(lambda: upscale(src, tmp / "up_ours.mp4", resolution="1080p"))
    run_ffmpeg(["-y", "-i", str(src), "-vf", "scale=1920:1080:flags=lanczos", "-an", "-c:v", "libx264", "-preset",
                "ultrafast", "-qp", "0", str(tmp / "up_pristine.mp4")], what="pristine upscale")
    v_ref, v_ours = vmaf(tmp / "up_ref.mp4", tmp / "up_pristine.mp4"), vmaf(tmp / "up_ours.mp4", tmp / "up_pristine.mp4")
    from vidpipe.media.verify import playable_problems

    return {"upscale_ref_s": round(t_ref, 2), "upscale_ours_s": round(t_ours, 2), "upscale_ratio": round(t_ours / t_ref, 3),
            "upscale_goal_playable": playable_problems(tmp / "up_ours.mp4") == [],
            "upscale_vmaf_ref": v_ref, "upscale_vmaf_ours": v_ours,
            "upscale_goal_met": t_ours / t_ref <= 0.8 and abs(v_ours - v_ref) <= 0.5 or v_ours > v_ref}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args(argv if argv is not None else [])
    with tempfile.TemporaryDirectory() as d:
        res = {**bench_assemble(Path(d), args.seconds), **bench_upscale(Path(d), args.seconds)}
    return res


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), indent=2))
