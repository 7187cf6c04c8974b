"""What a run shows and leaves behind: one aggregate progress line, and DIR/manifest.json.

The progress display is one line of counts (queued / submitting / polling / downloading / done /
cached / failed), not one row per job: redrawing a row per job made a 10,000-job run quadratic.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, UTC
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from vidpipe.generate.plan import GenerationResult
from vidpipe.sidecar import read_sidecar, write_sidecar

FINAL = frozenset({"done", "cached", "failed", "invalid", "over_budget"})
SHOWN = ("submitting", "polling", "downloading", "done", "cached", "failed", "invalid", "over_budget")
BUSY = {"claimed": "submitting", "submitted": "polling", "verified": "downloading"}


class Tally:
    """Thread-safe counts of jobs per stage, drawn as one progress line."""

    def __init__(self, total: int):
        self.total = total
        self.where: dict[str, str] = {}
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._prog: Progress | None = None
        self._task: Any = None

    def update(self, job_id: str, stage: str) -> None:
        stage = BUSY.get(stage, stage)
        with self._lock:
            old = self.where.get(job_id)
            if old == stage:
                return
            if old is not None:
                self.counts[old] -= 1
            self.where[job_id] = stage
            self.counts[stage] += 1
            if self._prog is not None:
                finished = sum(self.counts[s] for s in FINAL)
                self._prog.update(self._task, completed=finished, description=self.line())

    def line(self) -> str:
        return " · ".join(f"{s.replace('_', ' ')} {self.counts[s]}" for s in SHOWN if self.counts[s]) or "planning"

    @contextlib.contextmanager
    def shown(self, enabled: bool) -> Iterator[Tally]:
        if not enabled:
            yield self
            return
        with Progress(TextColumn("generate"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                      TimeElapsedColumn(), console=Console(stderr=True), transient=False) as prog:
            with self._lock:
                self._prog, self._task = prog, prog.add_task(self.line(), total=self.total)
            try:
                yield self
            finally:
                with self._lock:
                    self._prog = None


def write_manifest(out_dir: Path, results: list[GenerationResult]) -> Path:
    """DIR/manifest.json: this run's results merged over earlier entries of other jobs (once per run)."""
    path = Path(out_dir) / "manifest.json"
    old = read_sidecar(path) or {}
    entries = {e["job_id"]: e for e in old.get("results", []) if isinstance(e, dict) and "job_id" in e}
    for r in results:
        entries[r.job_id] = r.model_dump(mode="json")
    rows = list(entries.values())
    count = Counter(e.get("status") for e in rows)
    write_sidecar(path, {
        "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "totals": {
            "jobs": len(rows), "done": count["done"], "failed": count["failed"], "invalid": count["invalid"],
            "over_budget": count["over_budget"],
            "est_cost_usd": round(sum(e.get("est_cost_usd") or 0 for e in rows), 4),
            "cost_usd": round(sum(e.get("cost_usd") or 0 for e in rows), 4),
        },
        "results": rows,
    })
    return path
