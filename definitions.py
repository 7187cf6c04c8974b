"""The one code location: assets, checks, jobs, sensors, schedules and resources, composed."""

import dagster as dg

from assets import ALL_ASSETS
from resources import build_resources
from sensors import JOBS, SCHEDULES, SENSORS

defs = dg.Definitions(
    assets=ALL_ASSETS,
    jobs=JOBS,
    sensors=SENSORS,
    schedules=SCHEDULES,
    resources=build_resources(),
)
