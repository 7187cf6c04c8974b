"""Killed runs and the `video_api` pool: how long until the next shot gets the slot, and do killed steps stop?

Why: with `free_slots_after_run_end_seconds: 300` four killed workers held the pool for five minutes
(the next episode's shots waited 72–94 s instead of 6–15 s), and under the multiprocess executor a
killed run's step logged a success 12 s after its run had failed. This starts a real `dagster-daemon`
on a fresh $DAGSTER_HOME (deploy/dagster.local.yaml, or the same file with another release delay for a
baseline) and a fresh project whose `video_api` pool has ONE slot, lets the discovery sensor ask for
every shot, and SIGKILLs the run worker of each of the first `--kills` shot runs as soon as its clip
step holds the slot. Measured per kill: kill → run marked failed, kill → slot free, kill → the next
`shot_clip` step starts (the run's automatic retry or the next shot). With `--executor multiprocess`
it also reports whether the killed run's step process outlived it (and logged anything after).

    python benchmarks/bench_slots.py [--kills 4] [--free-after 5] [--executor in_process|multiprocess]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks.bench_reaction import PROVIDER_KEYS, _wait  # noqa: E402  (the same daemon harness)
from vidpipe.media.ffmpeg import stop_group  # noqa: E402

SHOT = ('  - {{id: s{i:03d}, subject: "a red lighthouse on a grey cliff, door {i}", action: "waves roll in below", '
        'camera: "wide shot, static tripod", style: "overcast morning, muted teal palette", duration: 4, '
        'generate_audio: false}}\n')


def _yaml(n: int) -> str:
    return 'title: Slots\nresolution: "480p"\nshots:\n' + "".join(SHOT.format(i=i) for i in range(1, n + 1))


def _events(inst, run_id: str) -> list:  # type: ignore[no-untyped-def]
    return [e for e in inst.all_logs(run_id) if e.dagster_event is not None]


def _step_started(inst, run_id: str, step: str) -> float | None:  # type: ignore[no-untyped-def]
    for e in _events(inst, run_id):
        if e.dagster_event.event_type_value == "STEP_START" and e.dagster_event.step_key == step:
            return e.timestamp
    return None


def _pids(inst, run_id: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Process ids Dagster logged for a run: the run worker and (multiprocess) each step's process."""
    out: dict[str, int] = {}
    for e in _events(inst, run_id):
        data = e.dagster_event.event_specific_data
        md = getattr(data, "metadata", None) or {}
        pid = md.get("pid")
        if pid is not None:
            key = e.dagster_event.step_key or "run"
            out.setdefault(key, int(getattr(pid, "value", pid)))
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=4)
    ap.add_argument("--free-after", type=float, default=None,
                    help="free_slots_after_run_end_seconds (default: what deploy/dagster.local.yaml says)")
    ap.add_argument("--executor", default="in_process", choices=["in_process", "multiprocess"])
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args(argv)
    for var in PROVIDER_KEYS:
        os.environ.pop(var, None)
    work = Path(tempfile.mkdtemp(prefix="vidpipe-slots-"))
    root, home = work / "proj", work / "dagster_home"
    (root / "data" / "episodes").mkdir(parents=True)
    home.mkdir()
    cfg = (REPO / "deploy" / "dagster.local.yaml").read_text()
    if args.free_after is not None:
        import re

        cfg = re.sub(r"free_slots_after_run_end_seconds: \d+", f"free_slots_after_run_end_seconds: {args.free_after:g}", cfg)
    (home / "dagster.yaml").write_text(cfg)
    env = {**os.environ, "DAGSTER_HOME": str(home), "VIDPIPE_ROOT": str(root), "PYTHONPATH": str(REPO),
           "VIDPIPE_EXECUTOR": args.executor,
           "DAGSTER_GRPC_TIMEOUT_SECONDS": os.environ.get("DAGSTER_GRPC_TIMEOUT_SECONDS", "300")}
    subprocess.run([sys.executable, str(REPO / "launch.py"), "setup"], env=env, check=True, capture_output=True)
    os.environ.update(DAGSTER_HOME=str(home), VIDPIPE_ROOT=str(root))
    import dagster as dg

    out: dict[str, Any] = {"kills": args.kills, "executor": args.executor, "cpus": os.cpu_count(),
                           "load_1m": round(os.getloadavg()[0], 1),
                           "free_slots_after_run_end_seconds": float(
                               cfg.split("free_slots_after_run_end_seconds:")[1].split()[0])}
    with dg.DagsterInstance.get() as inst:
        inst.event_log_storage.set_concurrency_slots("video_api", 1)
        log = (work / "daemon.log").open("w")
        daemon = subprocess.Popen([str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w",
                                   str(REPO / "workspace.yaml")], cwd=REPO, env=env, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        try:
            (root / "data" / "episodes" / "slots").mkdir()
            (root / "data" / "episodes" / "slots" / "episode.yaml").write_text(_yaml(args.kills + 1))
            killed: list[dict[str, Any]] = []
            seen: set[str] = set()
            for _ in range(args.kills):
                def clip_running():  # type: ignore[no-untyped-def]
                    for r in inst.get_runs(filters=dg.RunsFilter(job_name="render_shot_job",
                                                                 statuses=[dg.DagsterRunStatus.STARTED])):
                        if r.run_id not in seen and _step_started(inst, r.run_id, "shot_clip"):
                            return r
                    return None

                run = _wait("a shot run holding the video_api slot", clip_running, args.timeout, poll=0.1)
                seen.add(run.run_id)
                pids = _pids(inst, run.run_id)
                worker = pids.get("run")
                if worker is None:
                    raise RuntimeError(f"no run worker pid logged for {run.run_id}: {pids}")
                t_kill = time.time()
                os.kill(worker, signal.SIGKILL)
                rec: dict[str, Any] = {"run": run.run_id[:8], "partition": run.tags.get("dagster/partition")}
                step_pid = pids.get("shot_clip") if args.executor == "multiprocess" else None
                moments = _watch_after_kill(inst, run.run_id, seen, t_kill, step_pid, args.timeout)
                rec.update({k: round(v - t_kill, 2) if v else None for k, v in moments.items()})
                if args.executor == "multiprocess":
                    failed_at = max(e.timestamp for e in _events(inst, run.run_id)
                                    if e.dagster_event.event_type_value == "PIPELINE_FAILURE")
                    rec["events_after_failure"] = [e.dagster_event.event_type_value for e in _events(inst, run.run_id)
                                                   if e.timestamp > failed_at]
                killed.append(rec)
                print(json.dumps(rec), flush=True)
            out["per_kill"] = killed
            out["max_to_next_clip_start_s"] = max(k["to_next_clip_start_s"] for k in killed)
        finally:
            stop_group(daemon, grace_s=30)
            log.close()
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out, indent=2))
    return out


def _watch_after_kill(inst, run_id: str, seen: set[str], t_kill: float, step_pid: int | None,  # type: ignore[no-untyped-def]
                      timeout: float) -> dict[str, float | None]:
    """Poll until every moment after the kill has been seen: run failed, slot free, step gone, next clip step."""
    import dagster as dg

    got: dict[str, float | None] = {"to_failed_s": None, "to_slot_free_s": None, "to_next_clip_start_s": None}
    if step_pid:
        got["step_process_exited_s"] = None
    end = time.time() + timeout
    while time.time() < end and any(v is None for v in got.values()):
        now = time.time()
        if got["to_failed_s"] is None and inst.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE:
            got["to_failed_s"] = now
        if got["to_slot_free_s"] is None and all(
                s.run_id != run_id for s in inst.event_log_storage.get_concurrency_info("video_api").claimed_slots):
            got["to_slot_free_s"] = now
        if step_pid and got["step_process_exited_s"] is None and not _alive(step_pid):
            got["step_process_exited_s"] = now
        if got["to_next_clip_start_s"] is None:
            for r in inst.get_runs(filters=dg.RunsFilter(job_name="render_shot_job")):
                t = _step_started(inst, r.run_id, "shot_clip") if r.run_id not in seen else None
                if t and t > t_kill:
                    got["to_next_clip_start_s"] = t
        time.sleep(0.2)
    return got


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


if __name__ == "__main__":
    main()
