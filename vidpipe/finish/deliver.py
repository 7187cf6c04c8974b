"""A delivery per screen: the final cut reframed (vidpipe.finish.reframe) and normalised to its loudness target.

Formats are named shape_target: streaming platforms normalise to about -14 LUFS, broadcast to
-23 LUFS (EBU R128, true peak -1 dBTP). The poster is a frame of the best-scored shot (the judge's
overall score in its QC report), taken from the middle of that shot's place in this delivery.
Each output is written through write_verified (never a half file) and cached on the master's hash.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from vidpipe.episode import load_episode
from vidpipe.errors import VidpipeError
from vidpipe.edit_schema import SubtitleCue
from vidpipe.finish.captions import episode_words
from vidpipe.finish.frames import edit_frames
from vidpipe.finish.media_index import episode_media, lookup
from vidpipe.finish.reframe import CropPath, crop_filter, crop_size, plan_crop
from vidpipe.media.assemble import AUDIO_ARGS, ENCODE_ARGS
from vidpipe.media.audio_mix import measure, plan_loudness
from vidpipe.media.ffmpeg import run_ffmpeg
from vidpipe.media.probe import probe
from vidpipe.media.subtitles import RULES, ass_filter, phrase_cues, styled_ass
from vidpipe.media.verify import file_record, still_verified, write_verified
from vidpipe.paths import Paths
from vidpipe.pipeline.cache import cache_hit, read_sidecar, stable_hash, write_sidecar
from vidpipe.pipeline.episode_stages import build_edit_list
from vidpipe.pipeline.record import ShotRef
from vidpipe.schema import QCReport

TRUE_PEAK_DB = -1.0


@dataclass(frozen=True)
class DeliveryFormat:
    aspect: tuple[int, int]
    lufs: float
    captions: bool = False  # burn styled captions in (social feeds play muted)


DELIVERY_FORMATS = {
    "16x9_streaming": DeliveryFormat((16, 9), -14.0),
    "16x9_broadcast": DeliveryFormat((16, 9), -23.0),
    "9x16_streaming": DeliveryFormat((9, 16), -14.0),
    "9x16_captioned": DeliveryFormat((9, 16), -14.0, captions=True),
    "1x1_streaming": DeliveryFormat((1, 1), -14.0),
}


@dataclass
class FormatDelivery:
    path: Path
    width: int
    height: int
    target_lufs: float
    measured_lufs: float | None
    poster: Path | None
    key: str
    cache_hit: bool
    faces: int = 0
    samples: int = 0


def out_size(short: int, aspect: tuple[int, int]) -> tuple[int, int]:
    """Delivery size: the master's short side kept as this shape's short side (even numbers)."""
    aw, ah = aspect
    w, h = (round(short * aw / ah), short) if aw >= ah else (short, round(short * ah / aw))
    return w - w % 2, h - h % 2


def tracked_crop(master: Path, aspect: tuple[int, int], cache: Path | None, key: str) -> CropPath:
    """plan_crop, kept in `cache` for this master (9x16_streaming and 9x16_captioned track once)."""
    hit = cache_hit(cache, key, cache) if cache else None
    if hit:
        return CropPath(**hit["path"])
    path = plan_crop(master, aspect)
    if cache:
        write_sidecar(cache, {"key": key, "path": asdict(path)})
    return path


def reframe_video(master: Path, out: Path, aspect: tuple[int, int], lufs: float,
                  captions: list[SubtitleCue] | None = None, crop_cache: tuple[Path, str] | None = None,
                  ) -> tuple[int, int, float | None, int, int]:
    """Reframe + loudness-normalise `master` into `out` (+ burnt-in styled captions); (w, h, LUFS, faces, samples)."""
    src = probe(master)
    sw, sh = int(src.width or 0), int(src.height or 0)
    w, h = out_size(min(sw, sh), aspect)
    faces = samples = 0
    if crop_size(sw, sh, aspect) == (sw - sw % 2, sh - sh % 2):  # the master's own shape: nothing to track
        vf = f"scale={w}:{h}:flags=lanczos,setsar=1"
    else:
        path = tracked_crop(master, aspect, *crop_cache) if crop_cache else plan_crop(master, aspect)
        vf, faces, samples = crop_filter(path, w, h), path.faces, len(path.times)
    chain, _ = plan_loudness(["-i", str(master)], [], "0:a:0", target_lufs=lufs, ceiling_db=TRUE_PEAK_DB)
    shape = f"{aspect[0]}:{aspect[1]}"

    def encode(tmp: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="vidpipe-deliver-") as work:
            burn = ""
            if captions:
                ass = styled_ass(captions, Path(work) / "captions.ass", w, h, shape)
                burn = "," + ass_filter(ass, Path(work))
            run_ffmpeg(["-y", "-i", str(master), "-filter_complex",
                        f"[0:v:0]{vf}{burn},format=yuv420p[v];[0:a:0]{chain}[a]", "-map", "[v]", "-map", "[a]",
                        *ENCODE_ARGS, *AUDIO_ARGS, "-movflags", "+faststart", "-f", "mp4", str(tmp)],
                       what=f"delivering {out.name}")

    write_verified(out, encode, "video", playable=True)
    got = measure(["-i", str(out)], [], "0:a:0").integrated_lufs
    return w, h, got, faces, samples


def best_shot_time(paths: Paths, episode_id: str) -> float | None:
    """Seconds into the cut of the middle of the best-scored shot (judge's overall), None if none was judged."""
    edit = build_edit_list(paths, episode_id)
    known = episode_media(paths, episode_id)
    episode = load_episode(paths.episode_dir(episode_id))
    best, t, fps = None, 0, edit.fps
    for c in edit_frames(edit):
        t -= c.fade_in
        info = lookup(known, c.path)
        if info is not None:
            qc = ShotRef(paths, episode, episode.shot(info.shot)).qc_json
            report = QCReport.model_validate_json(qc.read_text()) if qc.is_file() else None
            score = report.scores.overall if report and report.scores else None
            if score is not None and (best is None or score > best[0]):
                best = (score, (t + c.length / 2) / fps)
        t += c.length
    return best[1] if best else None


def poster_frame(video: Path, at: float, out: Path) -> Path:
    run_ffmpeg(["-y", "-ss", f"{max(0.0, at):.3f}", "-i", str(video), "-frames:v", "1", "-q:v", "2", str(out)],
               what="poster frame")
    return out


def make_format_delivery(paths: Paths, episode_id: str, fmt: str) -> FormatDelivery:
    """The delivery `fmt` of the episode's verified final cut (cached on the cut's hash and the format)."""
    if fmt not in DELIVERY_FORMATS:
        raise VidpipeError(f"unknown delivery format {fmt!r}; choose one of {', '.join(DELIVERY_FORMATS)}")
    spec = DELIVERY_FORMATS[fmt]
    media = paths.episode_media(episode_id)
    master = media / "final.mp4"
    record = (read_sidecar(master.with_suffix(".json")) or {}).get("output")
    if record is None or not master.exists() or not still_verified(master, record):
        raise VidpipeError(f"episode {episode_id}: no verified final cut at {master}; run final_cut first")
    out = media / "deliveries" / f"{fmt}.mp4"
    side = out.with_suffix(".json")
    key = stable_hash({"master": record["sha256"], "fmt": fmt, "aspect": spec.aspect, "lufs": spec.lufs,
                       "captions": spec.captions, "v": 1})
    hit = cache_hit(side, key, out)
    if hit and still_verified(out, hit.get("output")):
        return FormatDelivery(out, hit["width"], hit["height"], spec.lufs, hit.get("measured_lufs"),
                              Path(hit["poster"]) if hit.get("poster") else None, key, True)
    cues = None
    if spec.captions:  # burnt only into this derived delivery, never into a shot clip QC reads for text
        shape = f"{spec.aspect[0]}:{spec.aspect[1]}"
        cues = phrase_cues(episode_words(paths, episode_id), RULES[shape])
    crop_key = stable_hash({"master": record["sha256"], "aspect": spec.aspect, "v": 1})
    crop_cache = (out.parent / f"crop_{spec.aspect[0]}x{spec.aspect[1]}.json", crop_key)
    w, h, got, faces, samples = reframe_video(master, out, spec.aspect, spec.lufs, cues, crop_cache)
    at = best_shot_time(paths, episode_id)
    poster = poster_frame(out, at if at is not None else float(record.get("duration_s") or 0) / 2,
                          out.with_suffix(".poster.jpg"))
    write_sidecar(side, {"key": key, "width": w, "height": h, "measured_lufs": got, "target_lufs": spec.lufs,
                         "poster": str(poster), "faces": faces, "samples": samples, "output": file_record(out)})
    return FormatDelivery(out, w, h, spec.lufs, got, poster, key, False, faces, samples)
