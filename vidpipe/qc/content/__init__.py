"""Content QC: detectors that watch the clip (text, camera, speech, faces, flicker, blur, blocking).

`run_content` runs on what `run_qc`'s one decode pass already holds (VideoScan thumbnails, motion
thumbnails, native luma planes at `detail_times`, review samples, decoded audio) and returns
Defects with their measured value and threshold, the per-block camera motion for probe.json,
and what the contact sheet should mark. Which detectors run depends on what the request asked
(vidpipe.qc.content.intent): speaking shots get speech and face checks, blocks with a named
camera move get the camera check; text, flicker, blur and blocking always run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from vidpipe.media.frames import AudioScan, VideoScan
from vidpipe.qc.content import faces, motion, quality, speech, text
from vidpipe.qc.content.accuracy import DETECTOR_VERSION  # noqa: F401 - the version QC records
from vidpipe.qc.content.intent import Intent, read_intent
from vidpipe.qc.content.regions import excluded_areas, is_preview
from vidpipe.schema import Defect, Region

CONTENT_CODES = ("burnt_in_text", "camera_move_mismatch", "speech_missing", "face_missing", "faces_extra",
                 "flicker", "blurry", "blocky")
# Defect code → the seed's failure-mode vocabulary (vidpipe.schema.FAILURE_MODES). The catalogue has
# no "flicker" or "low detail": both land on "style drift" (the look is not held); a face lost reads as
# "identity drift"; a silent dialogue shot as "audio mismatch".
FAILURE_MODE_OF = {
    "burnt_in_text": "unwanted subtitles",
    "camera_move_mismatch": "camera ignored",
    "speech_missing": "audio mismatch",
    "face_missing": "identity drift",
    "faces_extra": "prompt ignored",
    "flicker": "style drift",
    "blurry": "style drift",
    "blocky": "style drift",
    "frozen_frames": "frozen motion",
    "missing_audio": "audio mismatch",
    "silent_audio": "audio mismatch",
}
SHARPNESS_FRAMES = 3  # detail planes used for blur/blocking (spread over the clip)


def failure_modes(defects: list[Defect]) -> list[str]:
    """Catalogue failure modes the defects show (judge-rejected findings excluded), in first-seen order."""
    out: list[str] = []
    for d in defects:
        if d.confirmed is False:
            continue
        mode = FAILURE_MODE_OF.get(d.code)
        if d.code == "burnt_in_text" and d.severity != "error":
            mode = "text artifacts"
        if mode and mode not in out:
            out.append(mode)
    return out


@dataclass
class ContentResult:
    defects: list[Defect] = field(default_factory=list)
    camera_motion: list[dict[str, Any]] = field(default_factory=list)
    faces: list[Region] = field(default_factory=list)
    measures: dict[str, Any] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)


def detail_times(duration_s: float) -> list[float]:
    """The instants whose native luma planes the decode pass must keep for the content detectors."""
    return text.text_times(duration_s)


def plan(request: dict[str, Any], *, mode: str | None, model: str | None, duration_s: float) -> Intent:
    return read_intent(request, mode=mode, model=model, duration_s=duration_s)


def audio_content(intent: Intent, audio: AudioScan | None, duration_s: float) -> tuple[list[Defect], dict[str, Any], float]:
    """The audio-side detector (speech), run beside the video decode."""
    t0 = time.perf_counter()
    if not (intent.speaking and intent.expects_audio):
        return [], {}, 0.0
    found, secs = speech.speech_defects(audio, duration_s)
    return found, {"speech_s": secs}, time.perf_counter() - t0


def _spread(items: list[Any], k: int) -> list[Any]:
    if len(items) <= k:
        return list(items)
    step = (len(items) - 1) / (k - 1)
    return [items[round(i * step)] for i in range(k)]


def run_content(scan: VideoScan, intent: Intent, cuts: list[float], *, model: str | None = None,
                backend: str | None = None) -> ContentResult:
    """Every video-side content detector on one decode pass; timings per detector in `timings_s`."""
    res = ContentResult()
    clock = time.perf_counter

    t0 = clock()
    preview = is_preview(scan.comment, model, backend)
    areas = excluded_areas(preview=preview)
    found = text.find_text(scan.detail, areas)
    res.defects += text.text_defects(found, forbidden=intent.forbids_text)
    res.measures["text_frames_looked"] = len(found)
    res.timings_s["burnt_in_text"] = clock() - t0

    t0 = clock()
    motions = motion.measure(scan, intent.blocks, cuts, areas)
    res.camera_motion = [m.as_json() for m in motions]
    res.defects += motion.camera_defects(motions, intent.blocks)
    res.timings_s["camera_move_mismatch"] = clock() - t0

    if intent.speaking and not preview:  # a storyboard animatic draws silhouettes, not faces
        t0 = clock()
        got, res.faces = faces.face_defects(scan.samples, one_speaker=intent.one_speaker, duration_s=scan.end_s)
        res.defects += got
        res.timings_s["faces"] = clock() - t0

    t0 = clock()
    flick, rms = quality.flicker(scan, cuts)
    res.defects += flick
    res.measures["flicker_rms"] = rms
    res.timings_s["flicker"] = clock() - t0

    # Blur and blocking are calibrated on camera footage. A storyboard is line art: its 8-px step ratio
    # (1.42 on a 480p pan) did not move with the encoder's quality (crf 23 → 18: 1.419 → 1.425), so it is
    # the drawing, not compression — like faces, these are not judged on previews.
    if not preview:
        t0 = clock()
        sharp, vals = quality.sharpness(_spread(scan.detail, SHARPNESS_FRAMES), scan.bits_per_pixel)
        res.defects += sharp
        res.measures.update(vals)
        res.timings_s["blurry_blocky"] = clock() - t0
    return res
