"""Assemble an edit list into one video: ONE ffmpeg filter graph, ONE encode.

Edit semantics are exact: a cut joins two clips at the boundary (concat, no frame dropped,
repeated or shifted); a crossfade overlaps the clips by `transition_dur` (xfade + acrossfade);
the result lasts the sum of trimmed clip lengths minus the crossfades. Audio: clip audio (or the
edit's single `audio` track) plus extra `tracks` (voiceover, music ducked under speech by a
sidechain compressor), loudness-normalised to the target. Mixed aspect ratios are letter- or
pillar-boxed, never stretched; clips without audio get silence so joins never fail.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vidpipe.errors import MediaError, SpecError
from vidpipe.media.ffmpeg import run_ffmpeg
from vidpipe.media.probe import probe
from vidpipe.schema import RESOLUTION_HEIGHT, EditList, Probe, SubtitleCue, load_model, read_json

TRANSITIONS = ("cut", "crossfade")
# One encode at these settings beats the two-pass naive chain on time; chosen by benchmarks/bench_media.py.
X264_PRESET, X264_CRF = "faster", "17"


@dataclass
class AssembleResult:
    path: Path
    duration_s: float
    subtitles_path: Path | None


@dataclass
class _Clip:
    path: Path
    probe: Probe
    start: float
    end: float
    transition: str
    dur: float

    @property
    def length(self) -> float:
        return self.end - self.start


def load_edit_list(path: str | Path) -> EditList:
    """Read an edit list file; errors name the file and the field."""
    edit: EditList = load_model(EditList, read_json(path), path=str(path))
    return edit


def _resolve(p: str, base: Path | None) -> Path:
    q = Path(p)
    return q if q.is_absolute() or base is None else base / q


def plan(edit: EditList, base_dir: Path | None = None) -> list[_Clip]:
    """Check every clip before any encode: files exist, trims fit, transitions are known and fit."""
    if not edit.clips:
        raise SpecError("the edit list has no clips")
    clips: list[_Clip] = []
    for i, c in enumerate(edit.clips, start=1):
        name = f"clip {i} ({c.path})"
        path = _resolve(c.path, base_dir)
        if not path.is_file():
            raise SpecError(f"{name}: file not found")
        if c.transition not in TRANSITIONS:
            raise SpecError(f"{name}: unknown transition {c.transition!r} (use cut or crossfade)")
        try:
            pr = probe(path)
        except MediaError as exc:
            raise SpecError(f"{name}: not a readable video ({exc})") from None
        end = pr.duration_s if c.trim_end is None else c.trim_end
        if c.trim_start < 0 or end > pr.duration_s + 1e-3 or c.trim_start >= end:
            raise SpecError(f"{name}: trim {c.trim_start}–{end} s is outside the clip (0–{pr.duration_s:.3f} s)")
        trans = c.transition if i > 1 else "cut"
        clips.append(_Clip(path, pr, c.trim_start, min(end, pr.duration_s), trans, c.transition_dur))
    for i, (a, b) in enumerate(zip(clips, clips[1:]), start=2):
        if b.transition == "crossfade" and (b.dur <= 0 or b.dur >= min(a.length, b.length)):
            raise SpecError(f"clip {i} ({b.path.name}): crossfade of {b.dur} s does not fit "
                            f"(adjacent clips last {a.length:.2f} s and {b.length:.2f} s)")
    return clips


def total_duration(clips: list[_Clip]) -> float:
    return sum(c.length for c in clips) - sum(c.dur for c in clips if c.transition == "crossfade")


def _size(resolution: str, clips: list[_Clip]) -> tuple[int, int]:
    """Output frame: the resolution's short side, in the first clip's orientation and aspect."""
    short = RESOLUTION_HEIGHT[resolution]
    w0, h0 = clips[0].probe.width or 16, clips[0].probe.height or 9
    if w0 >= h0:
        w, h = round(short * w0 / h0), short
    else:
        w, h = short, round(short * h0 / w0)
    return w - w % 2, h - h % 2


def write_srt(cues: list[SubtitleCue], out: Path) -> Path:
    def ts(t: float) -> str:
        ms = int(round(t * 1000))
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(f"{i}\n{ts(c.start)} --> {ts(c.end)}\n{c.text}\n\n" for i, c in enumerate(cues, 1)),
                   encoding="utf-8")
    return out


def build_graph(edit: EditList, clips: list[_Clip], base_dir: Path | None) -> tuple[list[str], str, str, float]:
    """(ffmpeg input args, filter graph, final video label, duration) for the whole edit."""
    w, h = _size(edit.resolution, clips)
    fps = edit.fps
    inputs: list[str] = []
    parts: list[str] = []
    for i, c in enumerate(clips):
        inputs += ["-i", str(c.path)]
        parts.append(f"[{i}:v]trim=start={c.start:.6f}:end={c.end:.6f},setpts=PTS-STARTPTS,fps={fps},"
                     f"scale={w}:{h}:force_original_aspect_ratio=decrease:flags=lanczos,"
                     f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,format=yuv420p,settb=AVTB[v{i}]")
        if c.probe.has_audio and edit.audio is None:
            parts.append(f"[{i}:a]atrim=start={c.start:.6f}:end={c.end:.6f},asetpts=PTS-STARTPTS,"
                         f"aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo[a{i}]")
        else:
            parts.append(f"anullsrc=r=48000:cl=stereo,atrim=0:{c.length:.6f},aformat=sample_fmts=fltp[a{i}]")
    v, a, t = "v0", "a0", clips[0].length
    for i, c in enumerate(clips[1:], start=1):
        if c.transition == "crossfade":
            parts.append(f"[{v}][v{i}]xfade=transition=fade:duration={c.dur:.6f}:offset={t - c.dur:.6f}[vj{i}]")
            parts.append(f"[{a}][a{i}]acrossfade=d={c.dur:.6f}[aj{i}]")
            t += c.length - c.dur
        else:
            parts.append(f"[{v}][{a}][v{i}][a{i}]concat=n=2:v=1:a=1[vc{i}][aj{i}]")
            parts.append(f"[vc{i}]fps={fps},settb=AVTB[vj{i}]")
            t += c.length
        v, a = f"vj{i}", f"aj{i}"
    n = len(clips)
    layers = [f"[{a}]volume={edit.clip_audio_gain_db}dB[main]"]
    mix = ["main"]
    if edit.audio:
        inputs += ["-i", str(_resolve(edit.audio, base_dir))]
        layers = [f"[{n}:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,"
                  f"apad,atrim=0:{t:.6f}[main]"]
        n += 1
    voices, music = [], []
    for k, tr in enumerate(edit.tracks):
        inputs += ["-i", str(_resolve(tr.path, base_dir))]
        chain = (f"[{n}:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,volume={tr.gain_db}dB")
        if tr.fade_in > 0:
            chain += f",afade=t=in:d={tr.fade_in}"
        chain += f",adelay={int(tr.start * 1000)}:all=1,apad,atrim=0:{t:.6f}"
        if tr.fade_out > 0:
            chain += f",afade=t=out:st={max(0.0, t - tr.fade_out):.6f}:d={tr.fade_out}"
        layers.append(f"{chain}[t{k}]")
        (music if tr.kind == "music" and tr.duck else voices).append((f"t{k}", tr.kind))
        n += 1
    speech = [name for name, kind in voices if kind == "voiceover"]
    if music and speech:
        key = speech[0]
        layers.append(f"[{key}]asplit=2[{key}m][{key}k]")
        mix += [f"{key}m" if name == key else name for name, _ in voices]
        for name, _ in music:
            layers.append(f"[{name}][{key}k]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400[{name}d]")
            mix.append(f"{name}d")
            if len(music) > 1:
                raise SpecError("only one ducked music track is supported per edit")
    else:
        mix += [name for name, _ in voices] + [name for name, _ in music]
    layers.append("".join(f"[{m}]" for m in mix) + f"amix=inputs={len(mix)}:normalize=0:duration=first,"
                  f"loudnorm=I={edit.loudness_lufs}:TP={edit.true_peak_db}:LRA=11,aresample=48000,"
                  f"atrim=0:{t:.6f}[aout]")
    vout = v
    if edit.subtitles and edit.subtitles.burn and edit.subtitles.srt:
        srt = str(_resolve(edit.subtitles.srt, base_dir)).replace("\\", "/").replace(":", r"\:")
        parts.append(f"[{v}]subtitles='{srt}'[vsub]")
        vout = "vsub"
    return inputs, ";".join(parts + layers), vout, t


def assemble(edit: EditList, *, base_dir: Path | None = None,
             progress: Callable[[float], None] | None = None) -> AssembleResult:
    """Validate, then render the whole edit in one encode. Returns the output and its length."""
    clips = plan(edit, base_dir)
    srt = None
    if edit.subtitles and edit.subtitles.cues and edit.subtitles.srt:
        srt = write_srt(edit.subtitles.cues, _resolve(edit.subtitles.srt, base_dir))
    inputs, graph, vout, duration = build_graph(edit, clips, base_dir)
    out = _resolve(edit.output, base_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".part.mp4")
    run_ffmpeg(["-y", *inputs, "-filter_complex", graph, "-map", f"[{vout}]", "-map", "[aout]",
                "-c:v", "libx264", "-preset", X264_PRESET, "-crf", X264_CRF, "-r", str(edit.fps), "-c:a", "aac",
                "-b:a", "160k", "-ar", "48000", "-ac", "2", "-movflags", "+faststart", "-t", f"{duration:.6f}",
                str(tmp)], what=f"assemble {out.name}")
    tmp.replace(out)
    if progress:
        progress(1.0)
    return AssembleResult(out, duration, srt)


def describe(edit: EditList, base_dir: Path | None = None) -> str:
    """A one-line summary (used by the CLI before encoding)."""
    clips = plan(edit, base_dir)
    return json.dumps({"clips": len(clips), "duration_s": round(total_duration(clips), 3),
                       "tracks": [t.kind for t in edit.tracks]})
