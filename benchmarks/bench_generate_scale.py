"""Does `generate` stay linear in the number of jobs? Wall time and per-job overhead for 1k/2k/4k/8k preview jobs.

Why: a job file of 10,000 shots (a season of previews, a take sweep) grew quadratically before
(500/1000/2000 jobs: 33/103/325 s): per-job DuckDB connections, a progress row per job redrawn on
every refresh. Here N offline-preview jobs over K distinct requests (so K clips are rendered and
N-K are in-run cache hits: the runner's own overhead dominates) go through `generate_jobs` with a
real DuckDB ledger and the progress display redrawing as in a terminal; then the same file again (all cached). Linear means
the per-job time stays flat as N doubles.

    python benchmarks/bench_generate_scale.py [--sizes 1000,2000,4000,8000] [--distinct 4]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from contextlib import redirect_stderr
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _jobs(n: int, distinct: int) -> list[Any]:
    from vidpipe.schema import Job

    return [Job(id=f"s{i:05d}", model="seedance-2.0",
                input={"prompt": f"a paper kite over a grey sea, wide shot, take {i % distinct}",
                       "duration": 4, "resolution": "480p", "generate_audio": False})
            for i in range(n)]


def run_size(n: int, distinct: int, work: Path) -> dict[str, float]:
    from vidpipe.generate import generate_jobs
    from vidpipe.store import Store

    jobs = _jobs(n, distinct)
    store = Store(work / f"n{n}" / "vidpipe.duckdb")
    out = work / f"n{n}" / "out"
    times = []
    os.environ.update(FORCE_COLOR="1", TTY_INTERACTIVE="1")  # the live progress redraws as in a terminal
    for _ in range(2):  # first: K renders + in-run hits; second: everything cached
        t0 = time.perf_counter()
        with redirect_stderr(io.StringIO()):
            results = generate_jobs(jobs, out, backend="preview", store=store, concurrency=4, progress=True)
        times.append(time.perf_counter() - t0)
        bad = [r for r in results if r.status != "done"]
        if bad:
            raise RuntimeError(f"benchmark job {bad[0].job_id} failed: {bad[0].error}")
    return {"jobs": n, "first_s": times[0], "cached_s": times[1],
            "first_ms_per_job": 1000 * times[0] / n, "cached_ms_per_job": 1000 * times[1] / n}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,2000,4000,8000")
    ap.add_argument("--distinct", type=int, default=2, help="distinct requests among the jobs (clips rendered)")
    args = ap.parse_args(argv if argv is not None else [])
    sizes = [int(x) for x in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="vidpipe-bench-scale-") as tmp:
        for n in sizes:
            row = run_size(n, args.distinct, Path(tmp))
            rows.append(row)
            print(f"{n:>6} jobs: first run {row['first_s']:7.1f} s ({row['first_ms_per_job']:5.1f} ms/job), "
                  f"cached rerun {row['cached_s']:7.1f} s ({row['cached_ms_per_job']:5.1f} ms/job)", flush=True)
    base = rows[0]
    for r in rows[1:]:
        print(f"{r['jobs']:>6} vs {base['jobs']}: {r['jobs'] / base['jobs']:.0f}x jobs -> first run "
              f"{r['first_s'] / base['first_s']:.2f}x time, cached {r['cached_s'] / base['cached_s']:.2f}x time "
              f"(linear = {r['jobs'] / base['jobs']:.0f}x)")
    return {"rows": rows}


if __name__ == "__main__":
    main(sys.argv[1:])
