"""Partitions: `episodes` (one per episode folder) and `shots` (one per real shot, keys `ep01|s001`).

Dagster cannot map an episode to *its own* dynamic shots (custom partition mappings are
unsupported), so the episode side reaches its shots through `episode_shots`[ep]: it depends on
`shot_qc` with an AllPartitionMapping (backfills order it after the shots; lineage is visible)
and its data version is the digest of that episode's shots only, so `final_cut`[ep] is
Unsynced exactly when one of its own shots changed. See assets/edit.py.
"""

import dagster as dg

from vidpipe.pipeline.status import shot_partition, split_shot_partition

episodes = dg.DynamicPartitionsDefinition(name="episodes")
shots = dg.DynamicPartitionsDefinition(name="shots")
OLD_SHOT_SLOTS = "shot_slots"  # the former global slot dimension (episode × slot); removed by migration

all_shots = dg.AllPartitionMapping()


def shot_key(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> tuple[str, str]:
    return split_shot_partition(context.partition_key)


__all__ = ["OLD_SHOT_SLOTS", "all_shots", "episodes", "shot_key", "shot_partition", "shots"]
