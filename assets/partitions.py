"""Partitions: episodes (dynamic) and episode × shot slot (two dynamic dimensions, keys like `ep01|s001`).

Shot slots are global ids added on demand, so an episode with fewer shots has "phantom" slots;
the final-cut gate sensor therefore reads the real shot list instead of the partition set.
"""

import dagster as dg

episodes = dg.DynamicPartitionsDefinition(name="episodes")
shot_slots = dg.DynamicPartitionsDefinition(name="shot_slots")
episode_shot = dg.MultiPartitionsDefinition({"episode": episodes, "shot": shot_slots})

by_episode = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="episode")


def shot_key(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> tuple[str, str]:
    keys = context.partition_key.keys_by_dimension  # type: ignore[union-attr]
    return keys["episode"], keys["shot"]
