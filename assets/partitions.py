"""Partitions: `episodes` (one per episode folder) and `shots` (one per real shot, keys `ep01|s001`).

Dagster cannot map an episode to *its own* dynamic shots (custom partition mappings are
unsupported), so the episode side reaches its shots through `episode_shots`[ep]: it depends on
`shot_qc` with an AllPartitionMapping (backfills order it after the shots; lineage is visible)
and its data version is the digest of that episode's shots only, so `final_cut`[ep] is
Unsynced exactly when one of its own shots changed. See assets/edit.py.
"""

import dagster as dg

from vidpipe.pipeline.status import EpisodeScan, partition_sync, shot_partition, split_shot_partition

episodes = dg.DynamicPartitionsDefinition(name="episodes")
shots = dg.DynamicPartitionsDefinition(name="shots")
OLD_SHOT_SLOTS = "shot_slots"  # the former global slot dimension (episode × slot); removed by migration

all_shots = dg.AllPartitionMapping()


def shot_key(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> tuple[str, str]:
    return split_shot_partition(context.partition_key)


__all__ = ["OLD_SHOT_SLOTS", "all_shots", "apply_partition_requests", "episodes", "partition_requests", "shot_key",
           "shot_partition", "shots"]


PartitionRequest = dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest


def partition_requests(instance: dg.DagsterInstance, scans: list[EpisodeScan]) -> list[PartitionRequest]:
    """The one partition sync (sensors return these; launch.py applies them): partitions = the real episodes
    and shots found by `scans`; also drops the old episode × slot dimension of an earlier instance."""
    sync = partition_sync(scans, set(instance.get_dynamic_partitions(episodes.name)),
                          set(instance.get_dynamic_partitions(shots.name)))
    reqs: list[PartitionRequest] = []
    if sync.add_episodes:
        reqs.append(episodes.build_add_request(sync.add_episodes))
    if sync.add_shots:
        reqs.append(shots.build_add_request(sync.add_shots))
    if sync.delete_shots:
        reqs.append(shots.build_delete_request(sync.delete_shots))
    if sync.delete_episodes:
        reqs.append(episodes.build_delete_request(sync.delete_episodes))
    old = instance.get_dynamic_partitions(OLD_SHOT_SLOTS)
    if old:  # an instance from the episode × slot design: drop the phantom-making slot dimension
        reqs.append(dg.DeleteDynamicPartitionsRequest(partitions_def_name=OLD_SHOT_SLOTS, partition_keys=list(old)))
    return reqs


def apply_partition_requests(instance: dg.DagsterInstance, reqs: list[PartitionRequest]) -> dict[str, int]:
    """What the daemon does with a sensor's partition requests, for callers without a daemon (launch.py)."""
    counts: dict[str, int] = {}
    for req in reqs:
        keys = list(req.partition_keys)
        if isinstance(req, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(req.partitions_def_name, keys)
        else:
            for key in keys:
                instance.delete_dynamic_partition(req.partitions_def_name, key)
        sign = "+" if isinstance(req, dg.AddDynamicPartitionsRequest) else "-"
        counts[f"{req.partitions_def_name}{sign}"] = counts.get(f"{req.partitions_def_name}{sign}", 0) + len(keys)
    return counts
