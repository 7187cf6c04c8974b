"""Folder drop → final.mp4 through the real Dagster daemon: how long the sensors and run queue add.

Why: the issue measured 114 s from a new folder to the final cut for two cached shots, most of it three
30-second sensor intervals. This starts `dagster-daemon run` on the repo's workspace.yaml with a fresh
$DAGSTER_HOME (deploy/dagster.local.yaml) and project root, drops an episode folder, and reads the
instance for each moment; then edits one shot and measures again. Render time is the same episode
rendered by vidpipe directly (no Dagster) on a fresh copy, so overhead = Dagster wall time − that.

    python benchmarks/bench_reaction.py [--shots 2] [--timeout 900]
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from vidpipe.media.ffmpeg import stop_group  # noqa: E402

PROVIDER_KEYS = ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET", "GEMINI_API_KEY", "GOOGLE_API_KEY", "ELEVENLABS_API_KEY",
                 "VIDPIPE_S3_BUCKET")
SHOT = ('  - {{id: s{i:03d}, subject: "a red lighthouse on a grey cliff, white door {i}", action: "waves roll in '
        'below as gulls circle", camera: "wide shot, 24mm lens, slow push-in", style: "overcast morning, muted '
        'teal palette", duration: 4, generate_audio: false}}\n')


def episode_yaml(n: int) -> str:
    return 'title: Bench\nresolution: "480p"\nshots:\n' + "".join(SHOT.format(i=i) for i in range(1, n + 1))


def _wait(what: str, fn, timeout: float, poll: float = 0.25):  # type: ignore[no-untyped-def]
    end = time.time() + timeout
    while time.time() < end:
        got = fn()
        if got:
            return got
        time.sleep(poll)
    raise TimeoutError(f"timed out waiting for {what}")


def _runs(inst, job: str) -> list:  # type: ignore[no-untyped-def]
    import dagster as dg

    return inst.get_run_records(filters=dg.RunsFilter(job_name=job))


def _mat_time(inst, asset: str, partition: str, after: float) -> float | None:  # type: ignore[no-untyped-def]
    import dagster as dg

    recs = inst.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset),
                                                             asset_partitions=[partition]), limit=1).records
    return recs[0].timestamp if recs and recs[0].timestamp > after else None


def _one_pass(inst, root: Path, ep: str, shots: list[str], t0: float, timeout: float) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Seconds from t0 (the folder write) to each moment the user waits for."""
    final = root / "data" / "media" / ep / "final.mp4"

    def shot_runs() -> list:  # type: ignore[type-arg]
        return [r for r in _runs(inst, "render_shot_job") if r.create_timestamp.timestamp() > t0
                and r.dagster_run.tags.get("dagster/partition") in {f"{ep}|{s}" for s in shots}]

    first = _wait("a shot run", shot_runs, timeout)
    t_req = min(r.create_timestamp.timestamp() for r in first)
    qc = _wait("every shot's QC", lambda: [_mat_time(inst, "shot_qc", f"{ep}|{s}", t0) for s in shots]
               if all(_mat_time(inst, "shot_qc", f"{ep}|{s}", t0) for s in shots) else None, timeout)
    t_last_qc = max(qc)
    cut_runs = _wait("the final-cut run", lambda: [r for r in _runs(inst, "final_cut_job")
                                                   if r.create_timestamp.timestamp() > t_last_qc - 1], timeout)
    t_cut_req = min(r.create_timestamp.timestamp() for r in cut_runs)
    t_final = _wait("final_cut materialized", lambda: _mat_time(inst, "final_cut", ep, t0), timeout)
    assert final.exists()
    return {"to_shot_run_requested_s": round(t_req - t0, 2), "last_qc_to_cut_requested_s": round(t_cut_req - t_last_qc, 2),
            "to_final_mp4_s": round(t_final - t0, 2)}


def _direct_render_s(work: Path, text: str) -> float:
    """The same episode through vidpipe's stages without Dagster (fresh copy, so nothing is cached)."""
    from vidpipe.paths import Paths
    from vidpipe.pipeline.run import render_episode

    root = work / "direct"
    (root / "data" / "episodes" / "bench").mkdir(parents=True)
    (root / "data" / "episodes" / "bench" / "episode.yaml").write_text(text)
    t0 = time.perf_counter()
    run = render_episode(Paths.from_env(root), "bench", deliver=True)
    if run.failed:
        raise RuntimeError(f"direct render failed: {run.failed}")
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shots", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=900)
    args = ap.parse_args(argv)
    for var in PROVIDER_KEYS:
        os.environ.pop(var, None)
    work = Path(tempfile.mkdtemp(prefix="vidpipe-reaction-"))
    root, home = work / "proj", work / "dagster_home"
    (root / "data" / "episodes").mkdir(parents=True)
    # a loaded shared box can take over Dagster's default 60 s to answer a code-server call
    env = {**os.environ, "DAGSTER_HOME": str(home), "VIDPIPE_ROOT": str(root), "PYTHONPATH": str(REPO),
           "DAGSTER_GRPC_TIMEOUT_SECONDS": os.environ.get("DAGSTER_GRPC_TIMEOUT_SECONDS", "300")}
    subprocess.run([sys.executable, str(REPO / "launch.py"), "setup"], env=env, check=True, capture_output=True)
    daemon_bin = Path(sys.executable).with_name("dagster-daemon")
    log = (work / "daemon.log").open("w")
    daemon = subprocess.Popen([str(daemon_bin), "run", "-w", str(REPO / "workspace.yaml")], cwd=REPO, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    os.environ.update(DAGSTER_HOME=str(home), VIDPIPE_ROOT=str(root))
    import dagster as dg

    out: dict[str, Any] = {"shots": args.shots, "cpus": os.cpu_count(), "load_1m": round(os.getloadavg()[0], 1)}
    try:
        with dg.DagsterInstance.get() as inst:
            _wait("the discovery sensor's first tick", lambda: daemon.poll() is None and inst.get_ticks(
                _sensor_origin_id(inst), _sensor_selector_id(inst)) if _sensor_origin_id(inst) else None, args.timeout, 1)
            shots = [f"s{i:03d}" for i in range(1, args.shots + 1)]
            text = episode_yaml(args.shots)
            (root / "data" / "episodes" / "bench").mkdir()
            t0 = time.time()
            (root / "data" / "episodes" / "bench" / "episode.yaml").write_text(text)
            out["new_folder"] = _one_pass(inst, root, "bench", shots, t0, args.timeout)
            t1 = time.time()
            (root / "data" / "episodes" / "bench" / "episode.yaml").write_text(text.replace("gulls circle", "gulls dive", 1))
            out["edit_one_shot"] = _one_pass(inst, root, "bench", shots[:1], t1, args.timeout)
    finally:
        stop_group(daemon, grace_s=30)
        log.close()
    out["direct_render_s"] = round(_direct_render_s(work, episode_yaml(args.shots)), 2)
    out["overhead_new_folder_s"] = round(out["new_folder"]["to_final_mp4_s"] - out["direct_render_s"], 2)
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out, indent=2))
    return out


def _sensor_origin_id(inst) -> str | None:  # type: ignore[no-untyped-def]
    states = [s for s in inst.all_instigator_state() if s.name == "episode_discovery"]
    return states[0].instigator_origin_id if states else None


def _sensor_selector_id(inst) -> str | None:  # type: ignore[no-untyped-def]
    states = [s for s in inst.all_instigator_state() if s.name == "episode_discovery"]
    return states[0].selector_id if states else None


if __name__ == "__main__":
    main()
