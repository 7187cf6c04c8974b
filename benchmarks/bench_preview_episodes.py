"""Do random first episodes reach their final cut on the offline preview, with no clip failing its own QC?

Why: issue 22's bar is an episode, not a shot. Each episode here is four random well-formed shots
(tests/preview_shots.random_case: every mode, camera word, aspect, 4–15 s, casts with and without
images) written as one episode.yaml into a fresh project, with its reference files beside it, and
rendered as a user would: `vidpipe render EP` in its own process, no API keys. Reported per episode:
whether final.mp4 and delivery.mp4 exist, each shot's QC verdict (`vidpipe status EP --json`), and
the wall time.

    python benchmarks/bench_preview_episodes.py [--episodes 3] [--shots 4] [--first-seed 1000]
    python benchmarks/bench_preview_episodes.py --loglines 20   # `vidpipe write` drafts, then render each

Exit status 1 when an episode does not reach its cut or any clip fails QC.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_reaction import PROVIDER_KEYS  # noqa: E402
from tests.preview_shots import random_case  # noqa: E402
from tests.test_write import LOGLINES  # noqa: E402
from vidpipe.schema import Episode  # noqa: E402


def random_episode(first_seed: int, shots: int, folder: Path) -> dict[str, Any]:
    """`shots` random cases merged into one episode mapping: the first shot's aspect for all, casts united."""
    cases = [random_case(first_seed + i, folder / f"case{i}") for i in range(shots)]
    aspect = cases[0].shot.aspect_ratio
    cast: dict[str, Any] = {}
    for c in cases:
        for m in c.episode.cast:
            cast.setdefault(m.id, m)
    episode = Episode(title=f"random {first_seed}", aspect_ratio=aspect, resolution="480p",
                      cast=list(cast.values()),
                      shots=[c.shot.model_copy(update={"aspect_ratio": aspect}) for c in cases])
    data = episode.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    data.pop("id", None)
    return data


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vidpipe", *args], env=env, cwd=cwd, capture_output=True, text=True)


def render_and_report(root: Path, ep: str, env: dict[str, str], **extra: Any) -> dict[str, Any]:
    """`vidpipe render EP` in its own process, then what `vidpipe status EP --json` says of each shot."""
    t0 = time.perf_counter()
    run = _cli(["render", ep], env, root)
    wall = time.perf_counter() - t0
    status = _cli(["status", ep, "--json"], env, root)
    shots = json.loads(status.stdout)["shots"] if status.returncode == 0 else []
    media = root / "data" / "media" / ep
    row = {"episode": ep, **extra, "render_exit": run.returncode, "final_cut": (media / "final.mp4").exists(),
           "delivery": (media / "delivery.mp4").exists(), "wall_s": round(wall, 1),
           "shots": {s["shot"]: s["status"] for s in shots},
           "defects": {s["shot"]: s["defects"] for s in shots if s["defects"]}}
    if run.returncode:
        row["stderr_tail"] = run.stderr[-1500:]
    return row


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=3)
    ap.add_argument("--shots", type=int, default=4)
    ap.add_argument("--first-seed", type=int, default=1000)
    ap.add_argument("--loglines", type=int, default=0,
                    help="instead of random shots: draft this many episodes with `vidpipe write` from the writer "
                    "tests' loglines (offline beat sheet), then render each")
    ap.add_argument("--keep", action="store_true", help="keep the project folders (printed) to look at")
    args = ap.parse_args(argv)
    env_base = {k: v for k, v in os.environ.items() if k not in PROVIDER_KEYS}
    rows = []
    jobs = ([("logline", i) for i in range(args.loglines)] if args.loglines
            else [("random", args.first_seed + e * args.shots) for e in range(args.episodes)])
    for kind, n in jobs:
        root = Path(tempfile.mkdtemp(prefix="vidpipe-episodes-"))
        env = {**env_base, "VIDPIPE_ROOT": str(root), "PYTHONPATH": str(REPO)}
        if kind == "logline":
            ep, logline = f"draft{n}", LOGLINES[n % len(LOGLINES)]
            wrote = _cli(["write", ep, "--logline", logline], env, root)
            if wrote.returncode:
                rows.append({"episode": ep, "logline": logline, "write_exit": wrote.returncode,
                             "stderr_tail": wrote.stderr[-1500:], "final_cut": False, "render_exit": None,
                             "shots": {}})
                print(json.dumps(rows[-1]), flush=True)
                continue
            extra: dict[str, Any] = {"logline": logline}
        else:
            ep = f"random{n}"
            folder = root / "data" / "episodes" / ep
            folder.mkdir(parents=True)
            data = random_episode(n, args.shots, folder / "refs")
            (folder / "episode.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
                                                 encoding="utf-8")
            extra = {"seeds": list(range(n, n + args.shots)), "aspect": data.get("aspect_ratio", "16:9"),
                     "modes": [s.get("mode", "text-to-video") for s in data["shots"]],
                     "durations": [s["duration"] for s in data["shots"]]}
        rows.append(render_and_report(root, ep, env, **extra))
        print(json.dumps(rows[-1]), flush=True)
        if args.keep:
            print("kept:", root, flush=True)
        else:
            shutil.rmtree(root, ignore_errors=True)
    ok = sum(1 for r in rows if r["final_cut"] and r["render_exit"] == 0)
    failed = sum(1 for r in rows for st in r["shots"].values() if st in ("failing", "awaiting decision"))
    summary = {"episodes": len(rows), "reached_cut": ok, "shots": sum(len(r["shots"]) for r in rows),
               "shots_failing_qc": failed}
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    s = main(sys.argv[1:])
    raise SystemExit(0 if s["reached_cut"] == s["episodes"] and not s["shots_failing_qc"] else 1)
