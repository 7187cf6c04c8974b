"""What Dagster costs per shot, and how far one episode can grow before the sensors feel it.

Why: per-shot runs buy the UI, retries, pools and lineage; this measures their price so the
executor choice (in-process vs multiprocess) and the shots-per-episode budget are numbers, not guesses.

    python benchmarks/bench_dagster.py [--shots 4] [--scale-shots 200] [--skip-pipeline]

1. framework overhead: a no-op shot graph with vidpipe's shape (request → still → clip → qc on
   one `ep|shot` partition each), one run per shot, in-process vs multiprocess executor;
2. pipeline overhead (needs the full pipeline): the real shot assets on the offline preview backend
   (480p, 4 s shots) minus the same vidpipe stages called directly on the same shots;
3. scale: sensor-side decisions (`scan_all`, `shots_to_render`, `episode_status`) on a
   synthetic N-shot episode folder, and partition bookkeeping for many episodes of N real shots.

Reaction times through the real daemon (folder drop → final.mp4): benchmarks/bench_reaction.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # also runs in multiprocess step workers, which load this file by path
    sys.path.insert(0, str(REPO))

import dagster as dg  # noqa: E402

PROVIDER_KEYS = ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET", "GEMINI_API_KEY", "GOOGLE_API_KEY", "ELEVENLABS_API_KEY",
                 "VIDPIPE_S3_BUCKET")
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # events still go to the instance
SHOT_TEMPLATE = {
    "mode": "text-to-video", "category": "landscape",
    "subject": "a red lighthouse on a grey cliff, white door", "action": "waves roll in below as gulls circle",
    "camera": "wide shot, 24mm lens, slow push-in", "style": "overcast morning, muted teal palette",
    "constraints": ["single continuous take", "no text"], "audio": "wind and surf", "duration": 4,
}

# --- 1. a no-op graph with the shot graph's shape ------------------------------------------------------

_episodes = dg.DynamicPartitionsDefinition(name="episodes")
_shots = dg.DynamicPartitionsDefinition(name="shots")


def _noop(name: str, deps: list[str]) -> dg.AssetsDefinition:
    @dg.asset(name=name, partitions_def=_shots, deps=deps)
    def _a() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"noop": True})

    return _a


NOOP_ASSETS = [_noop("noop_request", []), _noop("noop_still", ["noop_request"]),
               _noop("noop_clip", ["noop_still"]), _noop("noop_qc", ["noop_clip"])]


def noop_multiprocess_job() -> dg.JobDefinition:
    """Module-level so `dg.reconstructable` can rebuild it in each step's subprocess."""
    job = dg.define_asset_job("noop_shot_job", selection=NOOP_ASSETS)
    defs = dg.Definitions(assets=NOOP_ASSETS, jobs=[job], executor=dg.multiprocess_executor)
    return defs.resolve_job_def("noop_shot_job")


def vidpipe_multiprocess_job() -> dg.JobDefinition:
    """The real render_shot_job under the multiprocess executor, on offline preview backends."""
    from assets import ALL_ASSETS
    from sensors.jobs import render_shot_job

    defs = dg.Definitions(assets=ALL_ASSETS, jobs=[render_shot_job], resources=_preview_resources(),
                          executor=dg.multiprocess_executor)
    return defs.resolve_job_def("render_shot_job")


def _preview_resources() -> dict[str, Any]:
    from resources import Judge, StillAPI, VideoAPI, VoiceAPI, build_resources

    return build_resources(video_api=VideoAPI(backend="preview"), still_api=StillAPI(backend="preview"),
                           voice_api=VoiceAPI(backend="preview"), judge=Judge(mode="none"))


def _key(ep: str, shot: str) -> str:
    return f"{ep}|{shot}"


def _partition_tags(ep: str, shot: str) -> dict[str, str]:
    return {"dagster/partition": _key(ep, shot)}


@contextmanager
def _instance(ep: str, shots: list[str]) -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as inst:
        inst.add_dynamic_partitions("episodes", [ep])
        inst.add_dynamic_partitions("shots", [_key(ep, s) for s in shots])
        yield inst


def _timed_runs(run: Callable[[str], bool], shots: list[str]) -> float:
    """Seconds per shot for one run per shot (fails loudly: a failed run would flatter the numbers)."""
    t0 = time.perf_counter()
    for s in shots:
        if not run(s):
            raise RuntimeError(f"benchmark run for shot {s} failed")
    return (time.perf_counter() - t0) / len(shots)


def framework_overhead(n_shots: int) -> dict[str, float]:
    """Per-shot wall time of the no-op graph: pure Dagster cost (the work itself is ~0)."""
    shots = [f"s{i:03d}" for i in range(1, n_shots + 1)]
    with _instance("bench", shots) as inst:
        inproc = _timed_runs(lambda s: dg.materialize(NOOP_ASSETS, partition_key=_key("bench", s), instance=inst,
                                                      run_config=QUIET, raise_on_error=False).success, shots)
        recon = dg.reconstructable(noop_multiprocess_job)
        mp = _timed_runs(lambda s: dg.execute_job(recon, instance=inst, run_config=QUIET,
                                                  tags=_partition_tags("bench", s)).success, shots)
    return {"in_process_s_per_shot": round(inproc, 3), "multiprocess_s_per_shot": round(mp, 3),
            "ratio": round(mp / inproc, 1)}


# --- 2. the real shot assets vs the same stages without Dagster -------------------------------------------


def _write_episode(root: Path, ep: str, n_shots: int) -> list[str]:
    import yaml

    shots = [{"id": f"s{i:03d}", **SHOT_TEMPLATE} for i in range(1, n_shots + 1)]
    folder = root / "data" / "episodes" / ep
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "episode.yaml").write_text(yaml.safe_dump(
        {"title": f"Bench {n_shots}", "aspect_ratio": "16:9", "resolution": "480p", "fps": 24, "shots": shots},
        sort_keys=False))
    return [s["id"] for s in shots]


def _pure_stages(root: Path, ep: str, shot: str) -> bool:
    from vidpipe.paths import Paths
    from vidpipe.pipeline.record import ShotRef
    from vidpipe.pipeline.shot_stages import check_clip, prepare_request, record_qc, render_clip, render_still
    from vidpipe.store import Store

    paths = Paths.from_env(root)
    store = Store(paths.db)
    ref = ShotRef.load(paths, ep, shot)
    prepare_request(ref, store=store)
    render_still(ref, backend="preview")
    render_clip(ref, backend="preview", store=store, fallback=True)
    check_clip(ref)
    record_qc(ref, store, judge=False)
    return True


def pipeline_overhead(n_shots: int, workdir: Path) -> dict[str, Any]:
    """Dagster-per-shot minus vidpipe-per-shot, each on a fresh project root (no cache hits)."""
    from assets import SHOT_ASSETS

    out: dict[str, Any] = {}
    for mode in ("pure", "in_process", "multiprocess"):
        root = workdir / f"pipeline_{mode}"
        shots = _write_episode(root, "bench", n_shots)
        os.environ["VIDPIPE_ROOT"] = str(root)  # inherited by multiprocess step workers
        if mode == "pure":
            out["pure_s_per_shot"] = round(_timed_runs(lambda s, r=root: _pure_stages(r, "bench", s), shots), 3)
            continue
        with _instance("bench", shots) as inst:
            if mode == "in_process":
                res = _preview_resources()
                t = _timed_runs(lambda s: dg.materialize(SHOT_ASSETS, partition_key=_key("bench", s), instance=inst,
                                                         resources=res, run_config=QUIET,
                                                         raise_on_error=False).success, shots)
            else:
                recon = dg.reconstructable(vidpipe_multiprocess_job)
                t = _timed_runs(lambda s: dg.execute_job(recon, instance=inst, run_config=QUIET,
                                                         tags=_partition_tags("bench", s)).success, shots)
        out[f"{mode}_s_per_shot"] = round(t, 3)
        out[f"{mode}_overhead_s_per_shot"] = round(t - out["pure_s_per_shot"], 3)
    ip, mp = out["in_process_overhead_s_per_shot"], out["multiprocess_overhead_s_per_shot"]
    out["ratio"] = round(mp / ip, 1) if ip > 0 else None
    return out


# --- 3. scale: sensor decisions and partition bookkeeping --------------------------------------------------


def _fake_rendered(root: Path, ep: str, clip_bytes: int) -> None:
    """Make every shot look rendered and QC-passed (clip, shot.json, qc.json), without rendering."""
    from vidpipe.episode import load_episode, shot_fingerprint
    from vidpipe.paths import Paths
    from vidpipe.pipeline.record import ShotRef
    from vidpipe.pipeline.record import GenerationRecord, QCRecord
    from vidpipe.schema import Probe, QCReport

    paths = Paths.from_env(root)
    episode = load_episode(paths.episode_dir(ep))
    for s in episode.shots:
        ref = ShotRef(paths, episode, s)
        ref.dir.mkdir(parents=True, exist_ok=True)
        ref.clip_path.write_bytes(os.urandom(clip_bytes))
        ref.update(generation=GenerationRecord(model="preview", shot_fingerprint=shot_fingerprint(episode, s), hash="h"),
                   qc=QCRecord(review_dir=str(ref.review_dir), clip_hash="h"))
        ref.review_dir.mkdir(parents=True, exist_ok=True)
        report = QCReport(clip=str(ref.clip_path), clip_id=ref.clip_id, probe=Probe(duration_s=4.0))
        (ref.review_dir / "qc.json").write_text(report.model_dump_json())


def _t(fn: Callable[[], Any], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return round(best, 4)


def sensor_scaling(n_shots: int, workdir: Path, clip_bytes: int = 1 << 20) -> dict[str, Any]:
    """Seconds per sensor decision on one N-shot episode (cold = first tick, warm = later ticks)."""
    from vidpipe.episode import episode_fingerprint
    from vidpipe.paths import Paths
    from vidpipe.pipeline import cache
    from vidpipe.pipeline.episode_stages import episode_status
    from vidpipe.pipeline.status import scan_all, shots_to_render

    root = workdir / "scale"
    _write_episode(root, "big", n_shots)
    paths = Paths.from_env(root)
    out: dict[str, Any] = {
        "shots": n_shots,
        "scan_all_s": _t(lambda: scan_all(paths)),
        "fingerprint_only_s": _t(lambda: episode_fingerprint(paths.episode_dir("big"))),
        "shots_to_render_nothing_rendered_s": _t(lambda: shots_to_render(paths, "big")),
    }
    _fake_rendered(root, "big", clip_bytes)
    assert shots_to_render(paths, "big") == [] and episode_status(paths, "big").ready
    out["shots_to_render_all_done_s"] = _t(lambda: shots_to_render(paths, "big"))
    cache._HASHES.clear()
    t0 = time.perf_counter()
    episode_status(paths, "big")
    out["episode_status_cold_s"] = round(time.perf_counter() - t0, 4)  # hashes every clip once
    out["episode_status_warm_s"] = _t(lambda: episode_status(paths, "big"))  # memoised by mtime+size
    out["clip_bytes"] = clip_bytes
    return out


def partition_scaling(n_shots: int, n_episodes: int) -> dict[str, Any]:
    """Adding and enumerating episodes and their real shots in the instance DB (what the UI and daemon walk)."""
    eps = [f"ep{i:03d}" for i in range(1, n_episodes + 1)]
    slots = [f"{e}|s{i:03d}" for e in eps for i in range(1, n_shots + 1)]
    with dg.instance_for_test() as inst:
        t0 = time.perf_counter()
        inst.add_dynamic_partitions("shots", slots)
        inst.add_dynamic_partitions("episodes", eps)
        add_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        keys = _shots.get_partition_keys(dynamic_partitions_store=inst)
        enum_s = time.perf_counter() - t0
    return {"episodes": n_episodes, "shots_per_episode": n_shots, "shot_partitions": len(keys),
            "add_s": round(add_s, 3), "enumerate_keys_s": round(enum_s, 3),
            "episodes_at_100k_partition_guideline": 100_000 // n_shots}


# --- main ---------------------------------------------------------------------------------------------


def _pipeline_available() -> str | None:
    """None when the shot stages can run offline, else why not (other modules still landing)."""
    import importlib

    for mod in ("vidpipe.prompt", "vidpipe.routing", "vidpipe.shots", "vidpipe.validate", "vidpipe.stills",
                "vidpipe.generate", "vidpipe.qc.report", "vidpipe.media.probe", "vidpipe.learning.features",
                "vidpipe.profile"):
        try:
            importlib.import_module(mod)
        except ImportError as exc:
            return f"{mod}: {exc}"
    return None


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shots", type=int, default=4, help="shots per overhead measurement")
    ap.add_argument("--scale-shots", type=int, default=200, help="shots in the synthetic scale episode")
    ap.add_argument("--scale-episodes", type=int, default=100, help="episodes for partition bookkeeping")
    ap.add_argument("--skip-pipeline", action="store_true", help="only the no-op graph and the scale numbers")
    args = ap.parse_args(argv)
    for var in PROVIDER_KEYS:  # offline and local only, whatever the shell has
        os.environ.pop(var, None)
    old_root = os.environ.get("VIDPIPE_ROOT")
    work = Path(tempfile.mkdtemp(prefix="vidpipe-bench-"))
    results: dict[str, Any] = {"cpus": os.cpu_count()}
    try:
        results["framework"] = framework_overhead(args.shots)
        why = "skipped (--skip-pipeline)" if args.skip_pipeline else _pipeline_available()
        results["pipeline"] = {"skipped": why} if why else pipeline_overhead(args.shots, work)
        results["sensors"] = sensor_scaling(args.scale_shots, work)
        results["partitions"] = partition_scaling(args.scale_shots, args.scale_episodes)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if old_root is None:
            os.environ.pop("VIDPIPE_ROOT", None)
        else:
            os.environ["VIDPIPE_ROOT"] = old_root
    _report(results)
    return results


def _report(r: dict[str, Any]) -> None:
    f, p, s, q = r["framework"], r["pipeline"], r["sensors"], r["partitions"]
    print(f"Dagster overhead per shot (4 steps, one run per shot, {r['cpus']} CPUs)")
    print(f"  no-op graph   in-process {f['in_process_s_per_shot']:.3f} s   multiprocess "
          f"{f['multiprocess_s_per_shot']:.3f} s   ratio {f['ratio']}x")
    if "skipped" in p:
        print(f"  pipeline      skipped: {p['skipped']}")
    else:
        print(f"  pipeline      vidpipe alone {p['pure_s_per_shot']:.3f} s; overhead in-process "
              f"{p['in_process_overhead_s_per_shot']:.3f} s, multiprocess {p['multiprocess_overhead_s_per_shot']:.3f} s"
              f"  ratio {p['ratio']}x")
    print(f"Sensor decisions on one {s['shots']}-shot episode (seconds)")
    for k in ("scan_all_s", "fingerprint_only_s", "shots_to_render_nothing_rendered_s",
              "shots_to_render_all_done_s", "episode_status_cold_s", "episode_status_warm_s"):
        print(f"  {k:<38} {s[k]:.4f}")
    print(f"Partitions: {q['episodes']} episodes x {q['shots_per_episode']} shots = {q['shot_partitions']} shot partitions; "
          f"add {q['add_s']} s, enumerate {q['enumerate_keys_s']} s; 100k guideline = "
          f"{q['episodes_at_100k_partition_guideline']} episodes of {q['shots_per_episode']} shots")
    print(json.dumps(r, indent=2, default=str))


if __name__ == "__main__":
    main()
