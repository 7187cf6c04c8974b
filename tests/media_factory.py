"""Synthetic clips for media/QC tests: real ffmpeg (lavfi) renders with known defects at known times.

A clip is a list of video segments (moving pattern, black, frozen, a visually different "shot")
plus an audio plan (tone at a level, silence, none). Defect tests assert the time ranges these
plans put in, so keep the content deterministic (fixed noise seeds, constant frame rate).

    make_clip(p, [Seg("moving", 1.0), Seg("black", 1.0), Seg("moving", 2.0)])
    make_clip(p, [Seg("moving", 2, shot=0), Seg("moving", 2, shot=1)], audio=[Tone(4, db=-20)])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from vidpipe.media.ffmpeg import run_ffmpeg

# A visually distinct look per "shot" so a concatenation of two of them is a hard cut.
_SHOT_LOOKS = ("null", "negate,vflip", "hue=h=120,hflip", "negate,hue=h=240", "vflip,hue=h=60")


@dataclass(frozen=True)
class Seg:
    """One video segment: kind is moving | black | frozen | grain (a held frame with live noise)."""

    kind: str
    seconds: float
    shot: int = 0


@dataclass(frozen=True)
class Tone:
    """One audio segment: a 440 Hz sine at `db` dBFS peak, or silence when db is None."""

    seconds: float
    db: float | None = -20.0


def _video_chain(i: int, seg: Seg, width: int, height: int, fps: int) -> str:
    n = max(1, round(seg.seconds * fps))
    size = f"{width}x{height}"
    look = _SHOT_LOOKS[seg.shot % len(_SHOT_LOOKS)]
    # testsrc2 burns in a running timecode (top-left): real burnt-in text that the content QC
    # rightly reports, so "clean" footage covers it with a flat patch.
    src = f"testsrc2=size={size}:rate={fps},drawbox=x=0:y=0:w=iw*0.34:h=ih*0.2:color=0x303030:t=fill"
    if seg.kind == "moving":
        # testsrc2 moves every frame; light temporal noise makes it look like camera footage.
        chain = f"{src},{look},noise=alls=6:allf=t+u:all_seed={11 + i},trim=end_frame={n}"
    elif seg.kind == "black":
        chain = f"color=c=black:size={size}:rate={fps},trim=end_frame={n}"
    elif seg.kind == "frozen":
        chain = f"{src},{look},trim=end_frame=1,loop=loop={n - 1}:size=1:start=0"
    elif seg.kind == "grain":
        chain = f"{src},{look},trim=end_frame=1,loop=loop={n - 1}:size=1:start=0,noise=alls=14:allf=t+u:all_seed={7 + i}"
    else:
        raise ValueError(f"unknown segment kind {seg.kind!r}")
    return f"{chain},setpts=N/{fps}/TB,format=yuv420p,setsar=1[v{i}]"


def _audio_expr(tones: Sequence[Tone]) -> str:
    """A piecewise aevalsrc expression: amplitude per segment times a 440 Hz sine."""
    amps = [0.0 if t.db is None else 10 ** (t.db / 20) for t in tones]
    expr = f"{amps[-1]:.6f}"
    ends, acc = [], 0.0
    for tone in tones:
        acc += tone.seconds
        ends.append(acc)
    for k in range(len(tones) - 2, -1, -1):
        expr = f"if(lt(t,{ends[k]:.4f}),{amps[k]:.6f},{expr})"
    return f"({expr})*sin(2*PI*440*t)"


def make_clip(
    path: Path,
    segments: Sequence[Seg] | None = None,
    *,
    seconds: float = 4.0,
    width: int = 320,
    height: int = 180,
    fps: int = 24,
    audio: Sequence[Tone] | str | None = "tone",
    audio_db: float = -20.0,
) -> Path:
    """Render an H.264/AAC MP4. audio: None (no stream), "tone", "silent", or a list of Tone."""
    segs = list(segments) if segments else [Seg("moving", seconds)]
    total = sum(s.seconds for s in segs)
    chains = [_video_chain(i, s, width, height, fps) for i, s in enumerate(segs)]
    labels = "".join(f"[v{i}]" for i in range(len(segs)))
    graph = ";".join(chains) + f";{labels}concat=n={len(segs)}:v=1:a=0[vout]"
    inputs: list[str] = []
    maps = ["-map", "[vout]"]
    if audio is not None:
        if audio == "tone":
            tones: Sequence[Tone] = [Tone(total, audio_db)]
        elif audio == "silent":
            tones = [Tone(total, None)]
        else:
            tones = list(audio)  # type: ignore[arg-type]
        inputs = ["-f", "lavfi", "-i", f"aevalsrc='{_audio_expr(tones)}':s=48000:c=stereo:d={total}"]
        maps += ["-map", "0:a", "-c:a", "aac", "-b:a", "128k"]
    args = ["-y", *inputs, "-filter_complex", graph, *maps]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "23", "-r", str(fps), "-t", f"{total}", str(path)]
    run_ffmpeg(args, what=f"test clip {path.name}")
    return path


def make_corrupt(path: Path, size: int = 4096) -> Path:
    """Garbage bytes with a video extension: must be a clean 'bad input', never a traceback."""
    path.write_bytes(bytes((i * 37 + 11) % 256 for i in range(size)))
    return path
