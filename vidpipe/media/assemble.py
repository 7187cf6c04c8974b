"""Assemble an edit list into one finished video: ONE ffmpeg filter graph, ONE encode.

Why one graph: the naive chain (re-encode each clip to a common format, then encode again to
join) pays two generations of compression loss and two encodes. Here every clip is decoded
once, trimmed, conformed (fps, scale + pad, pixel format) and joined inside the graph, and the
whole cut is encoded once (benchmarks/bench_media.py measures both, time and VMAF).

Edit semantics are exact:
  * a cut joins two clips with `concat` — no frame dropped, repeated or shifted;
  * a crossfade overlaps the clips by `transition_dur` (`xfade` + `acrossfade`);
  * the cut lasts the sum of trimmed clip lengths minus the crossfades.
Mixed aspect ratios are letter/pillar-boxed (scale to fit + pad), never stretched; the output
takes the edit's resolution as its short side in the first clip's orientation. Audio, ducking
and loudness: vidpipe.media.audio_mix; subtitles: vidpipe.media.subtitles; validation (every
error names the clip, before any encode): vidpipe.media.edit_plan.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vidpipe.media.audio_mix import Loudness, duck_key_gain_db, mix_graph, needs_ducking, plan_loudness
from vidpipe.media.edit_plan import EditPlan, cut_runs, load_edit_list, plan_edit
from vidpipe.media.ffmpeg_progress import run_ffmpeg_progress
from vidpipe.media.subtitles import burn_filter, write_srt
from vidpipe.media.verify import Verified, write_verified
from vidpipe.edit_schema import EditList

__all__ = ["AssembleResult", "assemble", "load_edit_list", "plan_edit", "describe", "build_graph", "ENCODE_ARGS"]

# One encode at these settings: ≤ 0.4× the naive chain's time at ≥ its VMAF on 720p content
# (benchmarks/bench_media.py; numbers in the README).
X264_PRESET, X264_CRF = "veryfast", "16"
PIX_FMT = "yuv420p"  # what every browser and phone decodes (H.264 High profile)
ENCODE_ARGS = ["-c:v", "libx264", "-preset", X264_PRESET, "-crf", X264_CRF, "-pix_fmt", PIX_FMT]
AUDIO_ARGS = ["-c:a", "aac", "-b:a", "192k", "-ar", "48000", "-ac", "2"]


@dataclass(frozen=True)
class AssembleResult:
    """What was written: the cut, its planned length, the SRT (if any) and the loudness work."""

    path: Path
    duration_s: float
    subtitles_path: Path | None
    width: int
    height: int
    fps: int
    clips: int
    measured: Loudness | None      # the mix before normalisation (None when there was nothing to measure)
    loudness_chain: str            # the normalisation applied (gain, maybe limiter)
    encode_s: float                # encode + full-decode verification
    verified: Verified             # hash and format of the cut as written (a cache records .record())


def _t(x: float) -> str:
    return f"{x:.6f}"


def video_graph(plan: EditPlan) -> tuple[list[str], str]:
    """Filter parts for the picture: conform each clip, concat runs of cuts, xfade between runs."""
    w, h, fps = plan.width, plan.height, plan.fps
    parts = []
    for i, c in enumerate(plan.clips):
        parts.append(
            f"[{i}:v:0]setpts=PTS-STARTPTS,trim=start={_t(c.start)}:end={_t(c.end)},setpts=PTS-STARTPTS,fps={fps},"
            f"scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2:flags=lanczos,"
            f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,format=yuv420p,settb=AVTB[cv{i}]")
    labels, lengths = [], []
    runs = cut_runs(plan)
    for r, members in enumerate(runs):
        lengths.append(sum(plan.clips[i].length for i in members))
        if len(members) == 1:
            labels.append(f"cv{members[0]}")
            continue
        ins = "".join(f"[cv{i}]" for i in members)
        parts.append(f"{ins}concat=n={len(members)}:v=1:a=0,settb=AVTB[cvr{r}]")
        labels.append(f"cvr{r}")
    cur, acc = labels[0], lengths[0]
    for r in range(1, len(runs)):
        dur = plan.clips[runs[r][0]].transition_dur
        parts.append(f"[{cur}][{labels[r]}]xfade=transition=fade:duration={_t(dur)}:offset={_t(acc - dur)}[cvx{r}]")
        cur, acc = f"cvx{r}", acc + lengths[r] - dur
    return parts, cur


def build_graph(plan: EditPlan, *, clip_gain_db: float, loudness_chain: str, subtitles: str | None,
                key_gain_db: float = 0.0) -> tuple[list[str], str]:
    """(ffmpeg input args, filter graph) for the whole edit; outputs are [vout] and [aout]."""
    inputs = [arg for c in plan.clips for arg in ("-i", str(c.path))]
    vparts, vlabel = video_graph(plan)
    extra, aparts, alabel = mix_graph(plan, clip_gain_db=clip_gain_db, key_gain_db=key_gain_db)
    # The graph's output is pinned to 4:2:0: left open, ffmpeg negotiates xfade (and libass) up to
    # yuv444p for libx264, which browsers and phones refuse and which costs about twice the encode.
    tail = f"[{vlabel}]{subtitles + ',' if subtitles else ''}format={PIX_FMT}[vout]"
    graph = ";".join([*vparts, tail, *aparts, f"[{alabel}]{loudness_chain},atrim=end={_t(plan.duration_s)}[aout]"])
    return inputs + extra, graph


def assemble(edit: EditList, *, base_dir: Path | None = None, progress: Callable[[float], None] | None = None,
             video_args: list[str] | None = None) -> AssembleResult:
    """Validate `edit` against its media, then render it in one filter graph and one encode.

    Arguments:
        edit: the edit list (the skill's format plus tracks, subtitles, loudness targets).
        base_dir: folder relative paths resolve against (the edit file's folder); None = cwd.
        progress: called with 0…1 while encoding (from ffmpeg's -progress output).
        video_args: encoder arguments replacing ENCODE_ARGS (benchmarks render a lossless master).
    Returns: AssembleResult. Raises: SpecError (bad edit, before any encode, naming the clip);
        FfmpegFailed (the encode failed) or MediaError (the result does not decode cleanly or would not
        play everywhere); in every failure, and on SIGTERM / Ctrl-C, `edit.output` is left untouched.
    """
    plan = plan_edit(edit, base_dir)
    inputs = [arg for c in plan.clips for arg in ("-i", str(c.path))]
    key_gain = duck_key_gain_db(plan) if needs_ducking(plan) else 0.0
    extra, aparts, alabel = mix_graph(plan, clip_gain_db=edit.clip_audio_gain_db, key_gain_db=key_gain)
    chain, measured = plan_loudness(inputs + extra, aparts, alabel, target_lufs=edit.loudness_lufs,
                                    ceiling_db=edit.true_peak_db)
    srt = write_srt(edit.subtitles.cues, plan.srt) if edit.subtitles and edit.subtitles.cues and plan.srt else None
    burn_src = plan.srt if edit.subtitles and edit.subtitles.burn else None
    t0 = time.perf_counter()

    def encode(tmp: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="vidpipe-assemble-") as work:
            subs = burn_filter(burn_src, Path(work)) if burn_src else None
            all_inputs, graph = build_graph(plan, clip_gain_db=edit.clip_audio_gain_db, key_gain_db=key_gain,
                                            loudness_chain=chain, subtitles=subs)
            args = ["-y", *all_inputs, "-filter_complex", graph, "-map", "[vout]", "-map", "[aout]",
                    *(video_args or ENCODE_ARGS), "-r", str(plan.fps), *AUDIO_ARGS, "-movflags", "+faststart",
                    "-t", _t(plan.duration_s), "-f", "mp4", str(tmp)]
            run_ffmpeg_progress(args, total_s=plan.duration_s, progress=progress,
                                what=f"assembling {plan.output.name}")

    # Unique temporary name, decoded end to end, then renamed: an interrupted or racing render never
    # leaves a corrupt cut in place (a lossless benchmark master is not held to the playable rule).
    verified = write_verified(plan.output, encode, "video", playable=video_args is None)
    loud = measured if measured.integrated_lufs > -200 else None
    return AssembleResult(plan.output, round(plan.duration_s, 6), srt, plan.width, plan.height, plan.fps,
                          len(plan.clips), loud, chain, round(time.perf_counter() - t0, 3), verified)


def describe(plan: EditPlan) -> str:
    """A one-line summary of what will be rendered (the CLI prints it before encoding)."""
    joins = [c.transition + (f" {c.transition_dur:g}s" if c.transition == "crossfade" else "") for c in plan.clips[1:]]
    return json.dumps({"clips": len(plan.clips), "duration_s": round(plan.duration_s, 3),
                       "size": f"{plan.width}x{plan.height}@{plan.fps}", "joins": joins,
                       "tracks": [t.kind for t in plan.tracks], "output": str(plan.output)})
