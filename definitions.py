"""The one code location: assets, checks, jobs, sensors, schedules and resources, composed.

The executor is configuration: VIDPIPE_EXECUTOR = in_process (default: a shot run is four
sequential steps, so a subprocess per step only adds ~1.5 s each) | multiprocess | celery | k8s.
"""

import os

import dagster as dg

from assets import ALL_ASSETS
from assets.finish import FINISH_ASSETS
from resources import build_resources
from sensors import JOBS, SCHEDULES, SENSORS
from sensors.edit_import import edit_import_watch


def executor_from_env() -> dg.ExecutorDefinition:
    kind = os.environ.get("VIDPIPE_EXECUTOR", "in_process")
    limit = int(os.environ.get("VIDPIPE_MAX_CONCURRENT", "4"))
    if kind == "multiprocess":
        return dg.multiprocess_executor.configured({"max_concurrent": limit})
    if kind == "celery":
        from dagster_celery import celery_executor  # pip install dagster-celery

        return celery_executor.configured({"broker": {"env": "VIDPIPE_CELERY_BROKER"},
                                           "backend": {"env": "VIDPIPE_CELERY_BACKEND"}})
    if kind == "k8s":
        from dagster_k8s import k8s_job_executor  # pip install dagster-k8s

        return k8s_job_executor.configured({"max_concurrent": limit})
    if kind != "in_process":
        raise ValueError(f"VIDPIPE_EXECUTOR={kind!r}: use in_process, multiprocess, celery or k8s")
    return dg.in_process_executor


defs = dg.Definitions(
    assets=[*ALL_ASSETS, *FINISH_ASSETS],
    jobs=JOBS,
    sensors=[*SENSORS, edit_import_watch],
    schedules=SCHEDULES,
    resources=build_resources(),
    executor=executor_from_env(),
)
