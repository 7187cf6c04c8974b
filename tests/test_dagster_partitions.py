"""Real partitions only: two episodes of different lengths through a real asset backfill (the daemon's own
backfill iteration on a real test instance, runs executed by the in-memory launcher), then staleness and
the migration of an instance from the old episode × shot-slot design.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

REPO = Path(__file__).resolve().parents[1]
SHOT = ('  - {{id: {id}, subject: "{subject}", action: "{action}", camera: "{camera}", '
        'style: "bright noon, pastel palette", duration: 4, generate_audio: false}}\n')
LONG = "title: Long\nresolution: \"480p\"\nshots:\n" + SHOT.format(
    id="s001", subject="a blue kite over dunes, long red tail", action="the kite loops twice",
    camera="wide shot, static tripod") + SHOT.format(
    id="s002", subject="a child in a yellow raincoat", action="she runs along the dune crest",
    camera="tracking shot, pan right")
SHORT = "title: Short\nresolution: \"480p\"\nshots:\n" + SHOT.format(
    id="s001", subject="the kite tangled in a fence", action="wind tugs at the string",
    camera="wide shot, static tripod")
SYNC_RUNS = {
    "run_coordinator": {"module": "dagster._core.run_coordinator", "class": "DefaultRunCoordinator"},
    "run_launcher": {"module": "dagster._core.launcher.sync_in_memory_run_launcher",
                     "class": "SyncInMemoryRunLauncher"},
}


def _write(paths, ep: str, text: str) -> None:  # type: ignore[no-untyped-def]
    (paths.episode_dir(ep)).mkdir(parents=True, exist_ok=True)
    (paths.episode_dir(ep) / "episode.yaml").write_text(text)


@pytest.fixture
def two_episodes(project):  # type: ignore[no-untyped-def]
    import shutil

    shutil.rmtree(project.episode_dir("mini"))
    _write(project, "long", LONG)
    _write(project, "short", SHORT)
    return project


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test(overrides=SYNC_RUNS) as inst:
        yield inst


def _backfill_all(instance: dg.DagsterInstance) -> str:
    """What "Materialize all" does: one asset backfill over every materializable asset and partition."""
    from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
    from dagster._core.remote_origin import InProcessCodeLocationOrigin
    from dagster._core.test_utils import InProcessTestWorkspaceLoadTarget
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._daemon.backfill import execute_backfill_iteration

    import definitions

    graph = definitions.defs.resolve_asset_graph()
    backfill = PartitionBackfill.from_asset_partitions(
        # the finishing group (NLE exports, 5 delivery formats per episode) has its own Dagster test
        backfill_id="all", asset_graph=graph, partition_names=None,
        asset_selection=[k for k in graph.materializable_asset_keys if graph.get(k).group_name != "finish"],
        backfill_timestamp=time.time(), tags={}, dynamic_partitions_store=instance, all_partitions=True,
        title=None, description=None, run_config=None)
    instance.add_backfill(backfill)
    origin = InProcessCodeLocationOrigin(LoadableTargetOrigin(module_name="definitions", working_directory=str(REPO)),
                                         location_name="vidpipe")
    with WorkspaceProcessContext(instance, InProcessTestWorkspaceLoadTarget(origin)) as ctx:
        for _ in range(20):
            list(execute_backfill_iteration(ctx, logging.getLogger("backfill")))
            status = instance.get_backfill("all").status
            if status != BulkActionStatus.REQUESTED:
                return status.value
    return "STILL_RUNNING"


def _stale(instance: dg.DagsterInstance, asset: str, partition: str) -> str:
    from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView
    from dagster._core.definitions.data_version import CachingStaleStatusResolver
    from dagster._core.definitions.temporal_context import TemporalContext
    from dagster._time import get_current_datetime

    import definitions

    graph = definitions.defs.resolve_asset_graph()
    view = AssetGraphView(temporal_context=TemporalContext(effective_dt=get_current_datetime(), last_event_id=None),
                          instance=instance, asset_graph=graph)
    return CachingStaleStatusResolver(instance, graph, view).get_status(dg.AssetKey(asset), partition).value


def test_real_partitions_full_backfill_and_exact_staleness(two_episodes, instance) -> None:  # type: ignore[no-untyped-def]
    import launch
    from assets import SHOT_ASSETS

    launch.sync_partitions(instance)
    assert sorted(instance.get_dynamic_partitions("episodes")) == ["long", "short"]
    assert sorted(instance.get_dynamic_partitions("shots")) == ["long|s001", "long|s002", "short|s001"]  # no phantom

    assert _backfill_all(instance) == "COMPLETED_SUCCESS"
    for ep in ("long", "short"):
        assert (two_episodes.episode_media(ep) / "final.mp4").exists()
        assert _stale(instance, "final_cut", ep) == "FRESH"
    runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": "all"}))
    assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)

    # one shot of "long" changes: only long's cut is Unsynced
    _write(two_episodes, "long", LONG.replace("she runs along", "she cartwheels along"))
    assert dg.materialize(SHOT_ASSETS, partition_key="long|s002", instance=instance,
                          resources=__import__("resources").build_resources()).success
    assert _stale(instance, "final_cut", "long") == "STALE"
    assert _stale(instance, "final_cut", "short") == "FRESH"


def test_removed_shot_and_episode_lose_their_partitions_and_old_instances_migrate(two_episodes, instance) -> None:  # type: ignore[no-untyped-def]
    import launch

    # an instance from the episode × slot design, with a phantom slot for the short episode
    instance.add_dynamic_partitions("episodes", ["long", "short", "gone"])
    instance.add_dynamic_partitions("shot_slots", ["s001", "s002"])
    instance.add_dynamic_partitions("shots", ["gone|s001"])
    changed = launch.sync_partitions(instance)
    assert changed["old slots-"] == 2 and instance.get_dynamic_partitions("shot_slots") == []
    assert sorted(instance.get_dynamic_partitions("episodes")) == ["long", "short"]
    assert sorted(instance.get_dynamic_partitions("shots")) == ["long|s001", "long|s002", "short|s001"]

    _write(two_episodes, "long", LONG.split("  - {id: s002")[0])  # s002 removed
    launch.sync_partitions(instance)
    assert sorted(instance.get_dynamic_partitions("shots")) == ["long|s001", "short|s001"]


def test_launch_setup_sets_pools_on_dagster_home(two_episodes, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`launch.py setup` for real, with DAGSTER_HOME elsewhere: instance config, pools and runs all land there."""
    import subprocess
    import sys

    home = tmp_path / "elsewhere" / "dagster_home"
    env = {**__import__("os").environ, "DAGSTER_HOME": str(home), "VIDPIPE_ROOT": str(two_episodes.root),
           "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, str(REPO / "launch.py"), "setup"], env=env, capture_output=True, text=True,
                         timeout=300, cwd=two_episodes.root)
    assert out.returncode == 0, out.stderr
    assert "video_api=4" in out.stdout and "shots+3" in out.stdout
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as inst:
        assert inst.root_directory == str(home)
        assert inst.event_log_storage.get_concurrency_info("video_api").slot_count == 4
        assert sorted(inst.get_dynamic_partitions("shots")) == ["long|s001", "long|s002", "short|s001"]
        from assets import episode_spec
        from resources import build_resources

        r = dg.materialize([episode_spec], partition_key="short", instance=inst, resources=build_resources())
        assert r.success
        assert inst.get_run_by_id(r.run_id) is not None
    assert (home / "dagster.yaml").exists() and (home / "storage").is_dir()  # SQLite under DAGSTER_HOME
    assert not (two_episodes.root / "data" / "dagster_home").exists()
