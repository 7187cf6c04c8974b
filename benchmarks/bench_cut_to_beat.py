"""The demo episode with a music file and `cut_to_beat: true`: where do its cuts land, before and after?

Why: issue 26 asks that a music file with cut_to_beat moves the demo's cuts onto beats, each shot
changed by at most 0.5 s. This copies the demo episode into a fresh project, gives it a synthesized
drum loop (kick on every beat at --bpm, hi-hat between, so a beat tracker has real onsets to find)
as `music:`, renders it offline with `vidpipe render`, and prints the cut points as written and as
cut, each with its distance to the nearest beat the music stage found, plus the largest change to
any shot.

    python benchmarks/bench_cut_to_beat.py [--bpm 110] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_reaction import PROVIDER_KEYS  # noqa: E402
from vidpipe.media.ambience import write_wav  # noqa: E402

SR = 48000


def drum_loop(path: Path, seconds: float, bpm: float) -> None:
    """Kick (60 Hz thump) on each beat, a hi-hat (noise burst) on each off-beat, a soft pad underneath."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    y = 0.05 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.1 * t))
    beat = 60.0 / bpm
    rng = np.random.default_rng(7)
    k = np.arange(int(0.25 * SR)) / SR
    kick = np.sin(2 * np.pi * (50 + 90 * np.exp(-k * 30)) * k) * np.exp(-k * 12) * 0.8
    h = np.arange(int(0.05 * SR)) / SR
    hat = rng.standard_normal(len(h)) * np.exp(-h * 80) * 0.2
    for b in np.arange(0.0, seconds - 0.3, beat):
        i = int(b * SR)
        y[i:i + len(kick)] += kick[: n - i]
        j = int((b + beat / 2) * SR)
        if j < n:
            y[j:j + len(hat)] += hat[: n - j]
    write_wav(np.stack([y, y], axis=1), path, SR)


def _largest_change(before: list[float], after: list[float]) -> float:
    """The most any shot ending at a cut point got longer or shorter."""
    b, a = [0.0, *before], [0.0, *after]
    return round(max(abs((a[k] - a[k - 1]) - (b[k] - b[k - 1])) for k in range(1, len(b))), 3)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bpm", type=float, default=110.0)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="vidpipe-beat-"))
    ep = root / "data" / "episodes" / "demo"
    shutil.copytree(REPO / "data" / "episodes" / "demo", ep)
    drum_loop(ep / "drums.wav", 60.0, args.bpm)
    spec = yaml.safe_load((ep / "episode.yaml").read_text(encoding="utf-8"))
    spec.update(music={"path": "drums.wav", "gain_db": -16}, cut_to_beat=True)
    (ep / "episode.yaml").write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_KEYS}
    env.update(VIDPIPE_ROOT=str(root), PYTHONPATH=str(REPO))
    run = subprocess.run([sys.executable, "-m", "vidpipe", "render", "demo", "--no-delivery"], cwd=root, env=env,
                         capture_output=True, text=True)
    if run.returncode:
        raise SystemExit(run.stderr[-3000:])
    fit = json.loads((root / "data" / "media" / "demo" / "music" / "fit.json").read_text())
    beats = np.array(fit["beats_in_cut"])

    def off(t: float) -> float:
        return round(float(np.min(np.abs(beats - t))), 3)

    before, after = fit["cuts_before"], fit["cuts_after"]
    # the last point is the cut's end; fit.json lists only the beats inside the (retimed) window, so it is
    # reported as a length, not measured against them
    out = {"bpm": args.bpm, "window": fit["window"], "beats_found": len(beats),
           "cuts": [{"before_s": b, "after_s": a, "before_off_beat_s": off(b), "after_off_beat_s": off(a)}
                    for b, a in zip(before[:-1], after[:-1])],
           "end_s": {"before": before[-1], "after": after[-1]},
           "largest_shot_change_s": _largest_change(before, after)}
    print(json.dumps(out, indent=1))
    if args.keep:
        print("kept:", root)
    else:
        shutil.rmtree(root, ignore_errors=True)
    return out


if __name__ == "__main__":
    main()
