"""run_qc: one decode pass per stream → technical defects + review folder (contact sheet, frames, JSON).

The review folder is what a person or a VLM judge looks at; qc.json is the QCReport with
`scores: null` — scores only ever come from a judge (vidpipe.qc.judge or `vidpipe score`).
Video and audio are decoded concurrently (PyAV decodes without holding the GIL), each once.
The content detectors (vidpipe.qc.content) run on the same pass: the speech check in the audio
thread, the rest on the video scan; their findings fill `failure_modes_observed`.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from vidpipe.learning.features import extract_features
from vidpipe.media.contact_sheet import Mark, contact_sheet
from vidpipe.media.frames import VideoScan, sample_times, save_jpeg, scan_audio, scan_video
from vidpipe.media.probe import probe as probe_clip
from vidpipe.qc import content, technical
from vidpipe.qc.content.accuracy import record as detector_record
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
    mode: str | None = None,
    backend: str | None = None,
    write_report: bool = True,
) -> QCReport:
    """Technical and content QC of `clip` against its job/request; writes the review folder, returns the report.

    `mode` (else the job's) tells the content checks whether this is a speaking shot; `backend`
    "preview" (or the clip's own preview tag) excludes the preview's label areas from text detection.
    Raises MediaError (one line, names the file) when the clip is missing or undecodable.
    `write_report=False` leaves qc.json to the caller: a shot's QC state is written only by its
    record (vidpipe.pipeline.record.ShotRef.apply_qc); a loose clip's (`vidpipe qc CLIP`) here.
    """
    clip = Path(clip)
    req = _request_of(job, request)
    cid = clip_id or (job.id if job is not None else clip.stem)
    model = job.model if job is not None and job.model != "auto" else None
    probe = probe_clip(clip)
    intent = content.plan(req, mode=mode or (job.mode if job is not None else None), model=model,
                          duration_s=probe.duration_s)
    wanted = sample_times(probe.duration_s, frames) if probe.has_video else []
    detail = content.detail_times(probe.duration_s) if probe.has_video else []

    with ThreadPoolExecutor(max_workers=1) as pool:
        audio_future = pool.submit(_audio_pass, clip, intent, probe.duration_s) if probe.has_audio else None
        scan = scan_video(clip, want=wanted, detail=detail) if probe.has_video else None
        audio_defects, audio_measures, speech_s = audio_future.result() if audio_future is not None else ([], {}, 0.0)
    if audio_future is None:  # no audio track at all: a speaking shot has no speech either
        audio_defects, audio_measures, speech_s = content.audio_content(intent, None, probe.duration_s)

    defects: list[Defect] = technical.request_checks(probe, req)
    cuts: list[float] = []
    found = content.ContentResult()
    if scan is not None:
        defects += technical.black_frames(scan) + technical.frozen_frames(scan)
        cuts = technical.scene_cuts(scan)
        defects += technical.cut_count(cuts, req.get("prompt"), probe.duration_s)
        found = content.run_content(scan, intent, cuts, model=model, backend=backend)
        defects += found.defects
    found.measures.update(audio_measures)
    if speech_s:
        found.timings_s["speech_missing"] = speech_s
    defects += audio_defects
    defects = with_severities(defects)
    defects.sort(key=lambda d: (d.start_s if d.start_s is not None else 0.0, d.code))

    report = QCReport(clip=str(clip), clip_id=cid, job_id=job.id if job else None, prompt=req.get("prompt"),
                      model=model, probe=probe, defects=defects,
                      failure_modes_observed=content.failure_modes(defects))
    _write_review(review_dir(clip, cid, out_dir), report, scan, cuts, found, write_report)
    return report


def _audio_pass(clip: Path, intent: content.Intent, duration_s: float) -> tuple[list[Defect], dict[str, Any], float]:
    """Decode the audio once: technical checks, then the speech check when the shot speaks."""
    audio = scan_audio(clip)
    defects = technical.audio_checks(audio) if audio is not None else []
    speech, measures, seconds = content.audio_content(intent, audio, duration_s)
    return defects + speech, measures, seconds


def tile_marks(report: QCReport, scan: VideoScan, found: content.ContentResult) -> list[list[Mark]]:
    """What each contact-sheet tile shows: text boxes (red), face boxes (green), the block's motion arrow."""
    out: list[list[Mark]] = []
    for t, _ in scan.samples:
        marks: list[Mark] = []
        for d in report.defects:
            if d.code != "burnt_in_text" or d.start_s is None or d.end_s is None or not (d.start_s <= t <= d.end_s):
                continue
            nearest = min((r.t for r in d.regions), key=lambda rt: abs(rt - t), default=None)
            marks += [Mark("box", r.x, r.y, r.w, r.h, (255, 60, 60), "text") for r in d.regions if r.t == nearest]
        marks += [Mark("box", r.x, r.y, r.w, r.h, (60, 230, 90), "face") for r in found.faces if abs(r.t - t) < 1e-3]
        for m in found.camera_motion:
            if m["start"] <= t < m["end"] or (t >= m["end"] and m is found.camera_motion[-1]):
                bad = any(d.code == "camera_move_mismatch" and d.start_s == m["start"] for d in report.defects)
                marks.append(Mark("arrow", float(m["dx"]), float(m["dy"]), float(m["zoom"]), 0.0,
                                  (255, 60, 60) if bad else (255, 210, 0), str(m["kind"])))
                break
        out.append(marks)
    return out


def _write_review(folder: Path, report: QCReport, scan: VideoScan | None, cuts: list[float],
                  found: content.ContentResult | None = None, write_report: bool = True) -> None:
    """contact_sheet.jpg, frame_NN.jpg, probe.json, qc.json (stale frames from an earlier run removed)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("frame_*.jpg"):
        old.unlink()
    if scan is not None and scan.samples:
        for k, (_, image) in enumerate(scan.samples, start=1):
            save_jpeg(image, folder / f"frame_{k:02d}.jpg")
        marks = tile_marks(report, scan, found) if found is not None else None
        contact_sheet(scan.samples, folder / "contact_sheet.jpg", marks=marks)
    probe_data = report.probe.model_dump(mode="json")
    if scan is not None:
        probe_data["frames_decoded"] = int(len(scan.times))
        probe_data["scene_cuts_s"] = cuts
        probe_data["sample_times_s"] = [round(t, 3) for t, _ in scan.samples]
    if found is not None:
        probe_data["camera_motion"] = found.camera_motion
        probe_data["content_measures"] = found.measures
        probe_data["qc_timings_s"] = {k: round(v, 4) for k, v in found.timings_s.items()}
        probe_data["qc_detectors"] = detector_record()
    _write_json(folder / "probe.json", probe_data)
    if write_report:
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
    """A row for Store.add_qc: the report's identity, probe, defects and the distinct defect codes.

    Without `features`, they are extracted from the request (or the report's prompt), so every pass
    lands in DuckDB with what the defect miner groups by.
    """
    if features is None:
        features = extract_features(request or {"prompt": report.prompt or ""}, model=report.model)
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
