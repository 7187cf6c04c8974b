"""run_qc: one decode pass per stream → technical defects + review folder (contact sheet, frames, JSON).

The review folder is what a person or a VLM judge looks at; qc.json is the QCReport with
`scores: null` — scores only ever come from a judge (vidpipe.qc.judge or `vidpipe score`).
Video and audio are decoded concurrently (PyAV decodes without holding the GIL), each once.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from vidpipe.media.contact_sheet import contact_sheet
from vidpipe.media.frames import VideoScan, sample_times, save_jpeg, scan_audio, scan_video
from vidpipe.media.probe import probe as probe_clip
from vidpipe.qc import technical
from vidpipe.qc.verdict import with_severities
from vidpipe.schema import Defect, Job, QCReport


def review_dir(clip: Path, clip_id: str, out_dir: Path | None = None) -> Path:
    """Where the review files go: `out_dir` itself when given, else `<clip folder>/review/<clip_id>/`."""
    return Path(out_dir) if out_dir is not None else Path(clip).parent / "review" / clip_id


def scene_cuts(source: Path | str | VideoScan) -> list[float]:
    """Times (s) of hard cuts in a clip (a path decodes it once; a VideoScan reuses a pass)."""
    scan = source if isinstance(source, VideoScan) else scan_video(source)
    return technical.scene_cuts(scan)


def _request_of(job: Job | None, request: dict[str, Any] | None) -> dict[str, Any]:
    if request is not None:
        return dict(request)
    return dict(job.input) if job is not None else {}


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def run_qc(
    clip: Path,
    *,
    job: Job | None = None,
    request: dict[str, Any] | None = None,
    out_dir: Path | None = None,
    clip_id: str | None = None,
    frames: int = 6,
) -> QCReport:
    """Technical QC of `clip` against its job/request; writes the review folder and returns the report.

    Raises MediaError (one line, names the file) when the clip is missing or undecodable.
    """
    clip = Path(clip)
    req = _request_of(job, request)
    cid = clip_id or (job.id if job is not None else clip.stem)
    probe = probe_clip(clip)
    wanted = sample_times(probe.duration_s, frames) if probe.has_video else []

    with ThreadPoolExecutor(max_workers=1) as pool:
        audio_future = pool.submit(lambda: _audio_defects(clip)) if probe.has_audio else None
        scan = scan_video(clip, want=wanted) if probe.has_video else None
        audio_defects = audio_future.result() if audio_future is not None else []

    defects: list[Defect] = technical.request_checks(probe, req)
    cuts: list[float] = []
    if scan is not None:
        defects += technical.black_frames(scan) + technical.frozen_frames(scan)
        cuts = technical.scene_cuts(scan)
        defects += technical.cut_count(cuts, req.get("prompt"), probe.duration_s)
    defects += audio_defects
    defects = with_severities(defects)
    defects.sort(key=lambda d: (d.start_s if d.start_s is not None else 0.0, d.code))

    model = job.model if job is not None and job.model != "auto" else None
    report = QCReport(clip=str(clip), clip_id=cid, job_id=job.id if job else None, prompt=req.get("prompt"),
                      model=model, probe=probe, defects=defects)
    _write_review(review_dir(clip, cid, out_dir), report, scan, cuts)
    return report


def _audio_defects(clip: Path) -> list[Defect]:
    audio = scan_audio(clip)
    return technical.audio_checks(audio) if audio is not None else []


def _write_review(folder: Path, report: QCReport, scan: VideoScan | None, cuts: list[float]) -> None:
    """contact_sheet.jpg, frame_NN.jpg, probe.json, qc.json (stale frames from an earlier run removed)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("frame_*.jpg"):
        old.unlink()
    if scan is not None and scan.samples:
        for k, (_, image) in enumerate(scan.samples, start=1):
            save_jpeg(image, folder / f"frame_{k:02d}.jpg")
        contact_sheet(scan.samples, folder / "contact_sheet.jpg")
    probe_data = report.probe.model_dump(mode="json")
    if scan is not None:
        probe_data["frames_decoded"] = int(len(scan.times))
        probe_data["scene_cuts_s"] = cuts
        probe_data["sample_times_s"] = [round(t, 3) for t, _ in scan.samples]
    _write_json(folder / "probe.json", probe_data)
    _write_json(folder / "qc.json", report.model_dump(mode="json"))


def qc_row(
    report: QCReport,
    *,
    episode: str | None = None,
    shot: str | None = None,
    backend: str | None = None,
    request: dict[str, Any] | None = None,
    features: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A row for Store.add_qc: the report's identity, probe, defects and the distinct defect codes."""
    codes: list[str] = []
    for d in report.defects:
        if d.code not in codes:
            codes.append(d.code)
    return {
        "clip": report.clip,
        "clip_id": report.clip_id,
        "episode": episode,
        "shot": shot,
        "job_id": report.job_id,
        "model": report.model,
        "backend": backend,
        "prompt": report.prompt,
        "request": request,
        "features": features,
        "probe": report.probe.model_dump(mode="json"),
        "defects": [d.model_dump(mode="json") for d in report.defects],
        "defect_codes": codes,
        "scores": report.scores.model_dump(mode="json") if report.scores else None,
    }
