"""The fast lane (`make test-fast`): test modules chosen by their measured time, not by guess.

`pytest --record-lanes` (any full run) writes tests/lanes.json: each module's measured seconds
(setup + call + teardown of all its tests, module fixtures included) and the fast lane — the
cheapest modules whose sum stays under FAST_BUDGET_S. Every other module, and any module not
measured yet, is marked `slow`; `make test-fast` runs `-m "not slow"`. CI runs everything.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

LANES = Path(__file__).with_name("lanes.json")
FAST_BUDGET_S = 75.0  # measured on an idle 2-core machine; the lane stays under two minutes with collection


def fast_modules() -> set[str]:
    try:
        return set(json.loads(LANES.read_text(encoding="utf-8")).get("fast", []))
    except (OSError, ValueError):
        return set()


def mark_slow(items: list[pytest.Item]) -> None:
    fast = fast_modules()
    for item in items:
        if item.nodeid.split("::")[0] not in fast:
            item.add_marker(pytest.mark.slow)


class Recorder:
    """Sums each module's durations over a run and writes tests/lanes.json at the end."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.failed: set[str] = set()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        module = report.nodeid.split("::")[0]
        self.seconds[module] += report.duration
        if report.failed:
            self.failed.add(module)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        fast, total = [], 0.0
        for module, secs in sorted(self.seconds.items(), key=lambda kv: kv[1]):
            if module in self.failed or total + secs > FAST_BUDGET_S:
                continue
            fast.append(module)
            total += secs
        LANES.write_text(json.dumps({"budget_s": FAST_BUDGET_S, "fast_total_s": round(total, 1), "fast": sorted(fast),
                                     "seconds": {m: round(s, 2) for m, s in sorted(self.seconds.items())}},
                                    indent=1) + "\n", encoding="utf-8")
