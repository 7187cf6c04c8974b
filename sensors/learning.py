"""QC → lessons: new shot_qc materializations trigger the learning job."""


import dagster as dg

from sensors.jobs import learning_job


@dg.sensor(job=learning_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="When new QC passes land (shot_qc materializations), refresh qc_scores and mine LESSONS.md.")
def qc_to_lessons(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    after = int(context.cursor) if context.cursor else None
    result = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("shot_qc"), after_storage_id=after), limit=1000, ascending=True
    )
    if not result.records:
        return dg.SkipReason("no new QC passes")
    last = result.records[-1].storage_id
    context.update_cursor(str(last))
    return dg.RunRequest(run_key=f"learn:{last}", tags={"vidpipe/new_qc_passes": str(len(result.records))})
