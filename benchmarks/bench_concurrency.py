"""Does the runner overlap provider latency? 8 jobs at a fixed fake latency vs one job, real fal-client.

Why: provider queues are slow (minutes per clip) and the runner's promise is that wall time
tracks the slowest job, not the sum. This measures it against the loopback fal fake, so the
number is about our concurrency (threads, polling, persistence), not the network.

    python benchmarks/bench_concurrency.py [--jobs 8] [--latency 1.0] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _run(n: int, latency: float, concurrency: int, work: Path, tag: str) -> float:
    from vidpipe.generate import generate_jobs
    from vidpipe.schema import Job
    from vidpipe.store import Store

    jobs = [Job(id=f"{tag}{i}", model="seedance-2.0", input={"prompt": f"bench {tag} take {i}", "duration": 4})
            for i in range(n)]
    t0 = time.perf_counter()
    results = generate_jobs(jobs, work / tag, concurrency=concurrency, store=Store(work / f"{tag}.duckdb"))
    wall = time.perf_counter() - t0
    bad = [r for r in results if r.status != "done"]
    if bad:
        raise RuntimeError(f"benchmark job failed: {bad[0].error}")
    return wall


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=8)
    ap.add_argument("--latency", type=float, default=1.0, help="seconds each fake job takes to finish")
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args(argv if argv is not None else [])

    import fal_client.client as fc

    import vidpipe.providers.fal as vfal
    from tests.fakes.fal_fake import FalFake
    from tests.fakes.fixtures import make_clip

    saved = {k: os.environ.get(k) for k in ("FAL_KEY", "VIDPIPE_FAL_QUEUE_URL")}
    saved_fmt, saved_poll = fc.QUEUE_URL_FORMAT, vfal.POLL_INTERVAL_S
    with tempfile.TemporaryDirectory(prefix="vidpipe-bench-") as tmp:
        work = Path(tmp)
        fake = FalFake({"clip.mp4": make_clip(work / "clip.mp4").read_bytes()}).start()
        fake.latency_s = args.latency
        os.environ.update({"FAL_KEY": "bench-key", "VIDPIPE_FAL_QUEUE_URL": fake.url})
        vfal.POLL_INTERVAL_S = 0.05
        try:
            one = _run(1, args.latency, args.concurrency, work, "one")
            many = _run(args.jobs, args.latency, args.concurrency, work, "many")
        finally:
            fake.stop()
            fc.QUEUE_URL_FORMAT, vfal.POLL_INTERVAL_S = saved_fmt, saved_poll
            for k, v in saved.items():
                os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    result = {
        "benchmark": "concurrency", "jobs": args.jobs, "latency_s": args.latency, "concurrency": args.concurrency,
        "one_job_s": round(one, 3), "all_jobs_s": round(many, 3), "serial_estimate_s": round(one * args.jobs, 3),
        "ratio_vs_one_job": round(many / one, 2), "submits_seen": len(fake.submits),
    }
    print(f"{args.jobs} jobs at {args.latency}s latency, concurrency {args.concurrency}: "
          f"{many:.2f}s vs one job {one:.2f}s → ratio {many / one:.2f} (serial would be ≈{one * args.jobs:.1f}s)")
    return result


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), indent=2))
