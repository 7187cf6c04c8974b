"""Run vidpipe through Dagster from the command line (what `make demo` and `make setup` call).

    python launch.py setup          # instance config, pools, partitions = the real episodes/shots
    python launch.py render EP      # episode_spec → every shot → voiceover/final cut/delivery → learning

`render` runs the project's named jobs (episode_spec_job, render_shot_job per shot, final_cut_job,
learning_job: the phases of vidpipe.pipeline.stages) in-process against the real instance
($DAGSTER_HOME), so the runs read as those jobs in `make dev` afterwards. Shots that fail do not
stop the others; the cut waits until every shot passes.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
os.environ.setdefault("DAGSTER_HOME", str(ROOT / "data" / "dagster_home"))
os.environ.setdefault("VIDPIPE_ROOT", str(ROOT))

# after the defaults above: the project's modules read VIDPIPE_ROOT / DAGSTER_HOME when used
import dagster as dg  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from definitions import defs  # noqa: E402
from assets.partitions import OLD_SHOT_SLOTS, apply_partition_requests, partition_requests  # noqa: E402
from resources import build_resources  # noqa: E402
from vidpipe.episode import load_episode  # noqa: E402
from vidpipe.estimate import estimate_episode  # noqa: E402
from vidpipe.paths import Paths  # noqa: E402
from vidpipe.pipeline.stages import CUT, LEARN, PHASES, SHOT, SPEC, Phase  # noqa: E402
from vidpipe.pipeline.status import scan_all, shot_partition  # noqa: E402

POOLS = {"video_api": 4, "tts_api": 2, "duckdb": 1}
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # step logs stay in the UI, not the terminal


LOCAL_YAML = ROOT / "deploy" / "dagster.local.yaml"


def _instance():  # type: ignore[no-untyped-def]
    home = Path(os.environ["DAGSTER_HOME"])
    if not home.is_absolute():
        raise SystemExit(f"DAGSTER_HOME={home} must be an absolute path")
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text(LOCAL_YAML.read_text())
    return dg.DagsterInstance.get()


def sync_partitions(inst) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Make the instance's partitions the real episodes and shots (the sensors' own sync, applied here);
    also migrates an episode × slot instance.

    Old 2-D keys were "ep|slot" strings, exactly the new shot keys, so past materializations of real
    shots stay attached; the slot dimension and phantom keys go.
    """
    counts = apply_partition_requests(inst, partition_requests(inst, scan_all(Paths.from_env())))
    return {"episodes+": counts.get("episodes+", 0), "episodes-": counts.get("episodes-", 0),
            "shots+": counts.get("shots+", 0), "shots-": counts.get("shots-", 0),
            "old slots-": counts.get(f"{OLD_SHOT_SLOTS}-", 0)}


def setup() -> None:
    """Pools (stored in the instance DB, so a setup step) and partitions = the real episodes and shots."""
    inst = _instance()
    for pool, limit in POOLS.items():
        inst.event_log_storage.set_concurrency_slots(pool, limit)
    print(f"pools set on {inst.root_directory}: " + ", ".join(f"{k}={v}" for k, v in POOLS.items()))
    changed = {k: v for k, v in sync_partitions(inst).items() if v}
    print("partitions: " + (", ".join(f"{k}{v}" for k, v in changed.items()) if changed else "up to date"))


def render(episode_id: str) -> int:
    """Render one episode end to end through Dagster's named jobs, phase by phase (vidpipe.pipeline.stages)."""
    console = Console()
    t0 = time.monotonic()
    paths = Paths.from_env()
    episode = load_episode(paths.episode_dir(episode_id))
    inst = _instance()
    resources = build_resources()
    sync_partitions(inst)

    def run(phase: Phase, key: str | None, label: str) -> dg.ExecuteInProcessResult:
        job = defs.resolve_job_def(phase.job)
        r = job.execute_in_process(partition_key=key, instance=inst, raise_on_error=False, run_config=QUIET,
                                   tags={"vidpipe/launched_by": "launch.py"})
        if not r.success:
            console.print(f"[red]✗ {label} failed[/red] (run {r.run_id}): {_first_failure(r)}")
        return r

    console.print(f"[bold]{episode.title}[/bold] — {len(episode.shots)} shots, DAGSTER_HOME={inst.root_directory}")
    est = estimate_episode(paths, episode_id, backend=resources["video_api"].backend_name(),
                           store=resources["store"].store())
    console.print(est.line())  # before the first call that could cost money (cast plates are paid)
    if est.over_budget:
        console.print(f"[red]✗ over the episode's budget: nothing was sent[/red] (vidpipe estimate {episode_id})")
        return 1
    for phase in PHASES:
        if phase is SPEC and not run(SPEC, episode_id, "episode_spec").success:
            return 1
        if phase is SHOT and not _render_shots(console, run, episode_id, [s for s in episode.shots]):
            return 1
        if phase is CUT:
            with console.status("voiceover, final cut, delivery…"):
                cut = run(CUT, episode_id, "final cut")
            if not cut.success:
                return 1
        if phase is LEARN:
            run(LEARN, None, "learning")
    final = paths.episode_media(episode_id) / "final.mp4"
    console.print(f"[green]✓[/green] final cut: {final}  ({_meta(cut, 'final_cut').get('duration_s', '?')} s)")
    console.print(f"  delivery: {paths.episode_media(episode_id) / 'delivery.mp4'}")
    console.print(f"  done in {time.monotonic() - t0:.1f} s — `make dev` shows the runs, assets and lineage")
    return 0


def _render_shots(console: Console, run, episode_id: str, shots: list) -> bool:  # type: ignore[no-untyped-def]
    table = Table("shot", "mode", "model", "backend", "cached", "defects", "seconds")
    failed = []
    with console.status("rendering shots…") as status:
        for s in shots:
            status.update(f"rendering {episode_id}|{s.id} ({s.mode}, {s.duration}s)…")
            ts = time.monotonic()
            r = run(SHOT, shot_partition(episode_id, s.id), f"shot {s.id}")
            meta = _meta(r, "shot_clip")
            defects = _meta(r, "shot_qc").get("defect_count")
            table.add_row(s.id, s.mode, str(meta.get("model", "-")), str(meta.get("backend", "-")),
                          str(meta.get("cache_hit", "-")), str(defects if defects is not None else "-"),
                          f"{time.monotonic() - ts:.1f}")
            if not r.success:
                failed.append(s.id)
    console.print(table)
    if failed:
        console.print(f"[red]{len(failed)} shot(s) failed: {', '.join(failed)}; the cut waits for them.[/red]")
    return not failed


def _first_failure(result) -> str:  # type: ignore[no-untyped-def]
    """The failed step's own one-line reason (a dg.Failure description or the error message)."""
    for ev in result.all_events:
        if ev.is_step_failure and ev.step_failure_data:
            data = ev.step_failure_data
            if data.user_failure_data and data.user_failure_data.description:
                return data.user_failure_data.description
            return (data.error.message if data.error else "").strip().splitlines()[-1:][0] if data.error else ""
    return "see `make dev` → Runs"


def _meta(result, asset: str) -> dict:  # type: ignore[no-untyped-def]
    """Metadata of the asset's materialization in this run, as plain values."""
    for ev in result.get_asset_materialization_events():
        mat = ev.step_materialization_data.materialization
        if mat.asset_key.path[-1] == asset:
            return {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    return {}


def main(argv: list[str]) -> int:
    if len(argv) >= 1 and argv[0] == "setup":
        setup()
        return 0
    if len(argv) == 2 and argv[0] == "render":
        return render(argv[1])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
