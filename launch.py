"""Run vidpipe through Dagster from the command line (what `make demo` and `make setup` call).

    python launch.py setup          # instance config, pools, partitions = the real episodes/shots
    python launch.py render EP      # episode_spec → every shot → voiceover/final cut/delivery → learning

`render` materializes in-process against the project's real instance ($DAGSTER_HOME), so the
runs, assets, checks and lineage show up in `make dev` afterwards. Shots that fail do not stop
the others; the cut waits until every shot passes.
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

from assets import EPISODE_ASSETS, SHOT_ASSETS, episode_spec, lessons, qc_scores  # noqa: E402
from assets.partitions import OLD_SHOT_SLOTS  # noqa: E402
from resources import build_resources  # noqa: E402
from vidpipe.episode import load_episode  # noqa: E402
from vidpipe.estimate import estimate_episode  # noqa: E402
from vidpipe.paths import Paths  # noqa: E402
from vidpipe.pipeline.status import partition_sync, scan_all, shot_partition  # noqa: E402

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
    """Make the instance's partitions the real episodes and shots; also migrates an episode × slot instance.

    Old 2-D keys were "ep|slot" strings, exactly the new shot keys, so past materializations of real
    shots stay attached; the slot dimension and phantom keys go.
    """
    sync = partition_sync(scan_all(Paths.from_env()), set(inst.get_dynamic_partitions("episodes")),
                          set(inst.get_dynamic_partitions("shots")))
    inst.add_dynamic_partitions("episodes", sync.add_episodes)
    inst.add_dynamic_partitions("shots", sync.add_shots)
    for key in sync.delete_shots:
        inst.delete_dynamic_partition("shots", key)
    for key in sync.delete_episodes:
        inst.delete_dynamic_partition("episodes", key)
    old = inst.get_dynamic_partitions(OLD_SHOT_SLOTS)
    for key in old:
        inst.delete_dynamic_partition(OLD_SHOT_SLOTS, key)
    return {"episodes+": len(sync.add_episodes), "episodes-": len(sync.delete_episodes),
            "shots+": len(sync.add_shots), "shots-": len(sync.delete_shots), "old slots-": len(old)}


def setup() -> None:
    """Pools (stored in the instance DB, so a setup step) and partitions = the real episodes and shots."""
    inst = _instance()
    for pool, limit in POOLS.items():
        inst.event_log_storage.set_concurrency_slots(pool, limit)
    print(f"pools set on {inst.root_directory}: " + ", ".join(f"{k}={v}" for k, v in POOLS.items()))
    changed = {k: v for k, v in sync_partitions(inst).items() if v}
    print("partitions: " + (", ".join(f"{k}{v}" for k, v in changed.items()) if changed else "up to date"))


def render(episode_id: str) -> int:
    """Render one episode end to end through Dagster; print where the final video is."""
    console = Console()
    t0 = time.monotonic()
    paths = Paths.from_env()
    episode = load_episode(paths.episode_dir(episode_id))
    inst = _instance()
    resources = build_resources()
    sync_partitions(inst)

    def run(assets: list, key: object, label: str) -> dg.ExecuteInProcessResult:  # type: ignore[type-arg]
        r = dg.materialize(assets, partition_key=key, instance=inst, resources=resources, raise_on_error=False,
                           tags={"vidpipe/launched_by": "launch.py"}, run_config=QUIET)
        if not r.success:
            console.print(f"[red]✗ {label} failed[/red] (run {r.run_id}); see `make dev` → Runs")
        return r

    console.print(f"[bold]{episode.title}[/bold] — {len(episode.shots)} shots, DAGSTER_HOME={inst.root_directory}")
    if not run([episode_spec], episode_id, "episode_spec").success:
        return 1
    est = estimate_episode(paths, episode_id, backend=resources["video_api"].backend_name(),
                           store=resources["store"].store())
    console.print(est.line())  # before the first call that could cost money
    if est.over_budget:
        console.print(f"[red]✗ over the episode's budget: nothing was sent[/red] (vidpipe estimate {episode_id})")
        return 1
    table = Table("shot", "mode", "model", "backend", "cached", "defects", "seconds")
    failed = []
    with console.status("rendering shots…") as status:
        for s in episode.shots:
            status.update(f"rendering {episode_id}|{s.id} ({s.mode}, {s.duration}s)…")
            ts = time.monotonic()
            r = run(SHOT_ASSETS, shot_partition(episode_id, s.id), f"shot {s.id}")
            meta = _meta(r, "shot_clip")
            qc = _meta(r, "shot_qc")
            defects = qc.get("defect_count")
            table.add_row(s.id, s.mode, str(meta.get("model", "-")), str(meta.get("backend", "-")),
                          str(meta.get("cache_hit", "-")), str(defects if defects is not None else "-"),
                          f"{time.monotonic() - ts:.1f}")
            if not r.success:
                failed.append(s.id)
    console.print(table)
    if failed:
        console.print(f"[red]{len(failed)} shot(s) failed: {', '.join(failed)}; the cut waits for them.[/red]")
        return 1
    with console.status("voiceover, final cut, delivery…"):
        r = run(EPISODE_ASSETS, episode_id, "final cut")
    if not r.success:
        return 1
    run([qc_scores, lessons], None, "learning")
    final = paths.episode_media(episode_id) / "final.mp4"
    cut = _meta(r, "final_cut")
    console.print(f"[green]✓[/green] final cut: {final}  ({cut.get('duration_s', '?')} s)")
    console.print(f"  delivery: {paths.episode_media(episode_id) / 'delivery.mp4'}")
    console.print(f"  done in {time.monotonic() - t0:.1f} s — `make dev` shows the runs, assets and lineage")
    return 0


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
