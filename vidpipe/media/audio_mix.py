"""The audio side of an edit: the clip-audio bus, extra tracks, ducking, and loudness.

Layers (all 48 kHz stereo float, each exactly as long as the cut):
  * the clip bus — each clip's own audio trimmed like its picture (silence for clips without
    audio, so joins never fail), joined by concat at cuts and acrossfade at crossfades; gain
    `clip_audio_gain_db`. The edit's single `audio` file replaces it (the skill's semantics).
  * tracks — voiceover, music, effects, each placed at `start` with gain and fades. Music with
    `duck` is compressed by a sidechain keyed on the voiceover, so it dips under speech.
Loudness: integrated loudness is measured with ebur128 on the very same graph (audio only, no
video decode, no encode), then the final graph applies one linear gain to reach the target. If that
gain would push the true peak over the ceiling, a 4×-oversampled limiter (≈ true-peak) holds it
and the gain is re-measured once or twice so the limiter's loss is made up. Linear gain keeps the
mix's dynamics as edited, which single-pass dynamic loudnorm does not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vidpipe.media.edit_plan import EditPlan, PlannedClip, PlannedTrack, cut_runs
from vidpipe.media.ffmpeg import run_ffmpeg
from vidpipe.media.verify import Verified, write_verified

FMT = "aresample=48000,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo"
# Ducking: the speech key is first brought to DUCK_KEY_LUFS (its measured loudness decides the key
# gain), so the dip does not depend on how loud the voiceover file happens to be. Key ≈ -19 dBFS RMS
# against a -32 dBFS threshold at ratio 6 → music dips ≈ 10–14 dB under speech, recovering in ~0.35 s.
DUCK_KEY_LUFS = -16.0
DUCK = "sidechaincompress=threshold=0.025:ratio=6:attack=15:release=350:makeup=1:level_sc={level:.4f}"
SILENCE_LUFS = -60.0       # quieter than this is "no programme": leave it alone instead of +70 dB of noise
PEAK_MARGIN_DB = 0.3       # the limiter aims this far under the ceiling (resampling adds a little)
TOLERANCE_LU = 0.3         # stop correcting the gain once this close to the target


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float
    true_peak_db: float


def _t(x: float) -> str:
    return f"{x:.6f}"


def _fixed_length(length: float) -> str:
    """Pad with silence then cut: a chain that lasts exactly `length` seconds."""
    return f"apad=whole_dur={_t(length)},atrim=end={_t(length)},asetpts=PTS-STARTPTS"


def _clip_chain(c: PlannedClip, input_idx: int, label: str, native: bool) -> str:
    if native and c.probe.has_audio:
        return (f"[{input_idx}:a:0]atrim=start={_t(c.start)}:end={_t(c.end)},asetpts=PTS-STARTPTS,{FMT},"
                f"{_fixed_length(c.length)}[{label}]")
    return f"anullsrc=r=48000:cl=stereo,atrim=end={_t(c.length)},{FMT}[{label}]"


def clip_bus(plan: EditPlan, *, gain_db: float) -> tuple[list[str], str]:
    """Filter parts joining every clip's audio exactly like the picture; returns (parts, label).

    Clip i is ffmpeg input i (assemble puts the clips first, in order).
    """
    native = plan.audio is None
    parts = [_clip_chain(c, i, f"ca{i}", native) for i, c in enumerate(plan.clips)]
    runs = cut_runs(plan)  # runs of cuts are one concat each; crossfades join the runs
    run_labels = []
    for r, members in enumerate(runs):
        if len(members) == 1:
            run_labels.append(f"ca{members[0]}")
            continue
        ins = "".join(f"[ca{i}]" for i in members)
        parts.append(f"{ins}concat=n={len(members)}:v=0:a=1[car{r}]")
        run_labels.append(f"car{r}")
    cur = run_labels[0]
    for r in range(1, len(runs)):
        dur = plan.clips[runs[r][0]].transition_dur
        parts.append(f"[{cur}][{run_labels[r]}]acrossfade=d={_t(dur)}:c1=tri:c2=tri[cax{r}]")
        cur = f"cax{r}"
    parts.append(f"[{cur}]volume={gain_db}dB[clipbus]")
    return parts, "clipbus"


def _track_chain(t: PlannedTrack, input_idx: int, total: float) -> str:
    """A track placed at its start with gain and fades, lasting exactly the cut's length."""
    end = min(total, t.start + t.duration_s)  # where the track stops sounding in the cut
    chain = f"[{input_idx}:a:0]{FMT},volume={t.gain_db}dB"
    if t.fade_in > 0:
        chain += f",afade=t=in:st=0:d={_t(t.fade_in)}"
    if t.fade_out > 0 and end > t.start:
        chain += f",afade=t=out:st={_t(max(0.0, end - t.start - t.fade_out))}:d={_t(t.fade_out)}"
    return chain + f",adelay=delays={int(round(t.start * 1000))}:all=1,{_fixed_length(total)}[tr{t.index}]"


def needs_ducking(plan: EditPlan) -> bool:
    kinds = {(t.kind, t.duck) for t in plan.tracks}
    return any(k == "voiceover" for k, _ in kinds) and ("music", True) in kinds


def duck_key_gain_db(plan: EditPlan) -> float:
    """Gain that brings the voiceover bus to DUCK_KEY_LUFS (one ebur128 pass over the voice tracks)."""
    voices = [t for t in plan.tracks if t.kind == "voiceover"]
    inputs = [a for t in voices for a in ("-i", str(t.path))]
    parts = [_track_chain(t, k, plan.duration_s) for k, t in enumerate(voices)]
    label = _sum(parts, [f"tr{t.index}" for t in voices], "speech") or ""
    got = measure(inputs, parts, label)
    if not math.isfinite(got.integrated_lufs) or got.integrated_lufs < SILENCE_LUFS:
        return 0.0
    return max(-30.0, min(30.0, DUCK_KEY_LUFS - got.integrated_lufs))


def mix_graph(plan: EditPlan, *, clip_gain_db: float, key_gain_db: float = 0.0) -> tuple[list[str], list[str], str]:
    """(extra ffmpeg input args, filter parts, label of the unnormalised mix) for the whole edit.

    Inputs after the clips: the replacing `audio` file (if any), then each track in order.
    `key_gain_db` (from duck_key_gain_db) levels the speech key of the ducking compressor.
    """
    total = plan.duration_s
    inputs: list[str] = []
    n = len(plan.clips)
    if plan.audio is not None:  # the skill's single `audio` replaces the clips' own sound
        inputs += ["-i", str(plan.audio)]
        parts, bus = [f"[{n}:a:0]{FMT},{_fixed_length(total)}[replaced]"], "replaced"
        n += 1
    else:
        parts, bus = clip_bus(plan, gain_db=clip_gain_db)
    voices, ducked, plain = [], [], [bus]
    for t in plan.tracks:
        inputs += ["-i", str(t.path)]
        parts.append(_track_chain(t, n, total))
        label = f"tr{t.index}"
        if t.kind == "voiceover":
            voices.append(label)
        elif t.kind == "music" and t.duck:
            ducked.append(label)
        else:
            plain.append(label)
        n += 1
    speech = _sum(parts, voices, "speech")
    music = _sum(parts, ducked, "duckbus")
    layers = list(plain)
    if speech and music:
        parts.append(f"[{speech}]asplit=2[speechmix][speechkey]")
        parts.append(f"[{music}][speechkey]{DUCK.format(level=10 ** (key_gain_db / 20))}[ducked]")
        layers += ["speechmix", "ducked"]
    else:
        layers += [x for x in (speech, music) if x]
    if len(layers) == 1:
        parts.append(f"[{layers[0]}]anull[premix]")
    else:
        ins = "".join(f"[{x}]" for x in layers)
        parts.append(f"{ins}amix=inputs={len(layers)}:normalize=0:duration=first[premix]")
    return inputs, parts, "premix"


def _sum(parts: list[str], labels: list[str], name: str) -> str | None:
    if not labels:
        return None
    if len(labels) == 1:
        return labels[0]
    parts.append("".join(f"[{x}]" for x in labels) + f"amix=inputs={len(labels)}:normalize=0:duration=first[{name}]")
    return name


def loudness_chain(gain_db: float, *, limit_db: float | None) -> str:
    """Linear gain, then (only if needed) a 4×-oversampled limiter below the true-peak ceiling."""
    chain = f"volume={gain_db:.3f}dB"
    if limit_db is not None:
        lin = 10 ** ((limit_db - PEAK_MARGIN_DB) / 20)
        chain += (f",aresample=192000,alimiter=limit={lin:.5f}:attack=1:release=60:level=0:latency=1,"
                  f"aresample=48000")
    return chain


def parse_ebur128(stderr: str) -> Loudness:
    """Integrated loudness and true peak from ebur128's summary (−inf for digital silence)."""
    summary = stderr[stderr.rfind("Summary:"):]
    i = re.search(r"I:\s+(-?[\d.]+|-?inf) LUFS", summary)
    p = re.search(r"Peak:\s+(-?[\d.]+|-?inf) dBFS", summary)
    if not i or not p:
        raise ValueError("ebur128 printed no summary")
    return Loudness(float(i.group(1)), float(p.group(1)))


def measure(inputs: list[str], parts: list[str], label: str, chain: str | None = None) -> Loudness:
    """Run the audio graph alone (no video decode, no encode) through ebur128."""
    tail = f"[{label}]{chain + ',' if chain else ''}ebur128=peak=true:framelog=quiet[meter]"
    err = run_ffmpeg(["-loglevel", "info", *inputs, "-filter_complex", ";".join([*parts, tail]), "-map", "[meter]",
                      "-f", "null", "-"], what="measuring loudness")
    return parse_ebur128(err)


def plan_loudness(inputs: list[str], parts: list[str], label: str, *, target_lufs: float,
                  ceiling_db: float) -> tuple[str, Loudness]:
    """The normalisation chain for this mix, found by measuring (1 pass, up to 3 if limiting)."""
    first = measure(inputs, parts, label)
    if not math.isfinite(first.integrated_lufs) or first.integrated_lufs < SILENCE_LUFS:
        return "anull", first
    gain = target_lufs - first.integrated_lufs
    if first.true_peak_db + gain <= ceiling_db:
        return loudness_chain(gain, limit_db=None), first
    chain, got = loudness_chain(gain, limit_db=ceiling_db), first
    for _ in range(2):  # the limiter shaves loudness: re-measure and make it up
        got = measure(inputs, parts, label, chain)
        if abs(got.integrated_lufs - target_lufs) <= TOLERANCE_LU:
            break
        gain += target_lufs - got.integrated_lufs
        chain = loudness_chain(gain, limit_db=ceiling_db)
    return chain, got


def mix_voiceover(lines: Sequence[tuple[Path, float]], total_s: float, out: Path) -> Verified:
    """Lay narration lines (file, start seconds) on one 48 kHz stereo WAV exactly `total_s` long.

    Written through write_verified (unique temporary name, decoded end to end, renamed), so an
    interrupted episode run never leaves a half-written voiceover that the cut would then use.
    """
    if not lines:
        raise ValueError("mix_voiceover needs at least one line")
    inputs = [a for path, _ in lines for a in ("-i", str(path))]
    parts = [f"[{i}:a:0]{FMT},adelay=delays={int(round(start * 1000))}:all=1[l{i}]" for i, (_, start) in enumerate(lines)]
    ins = "".join(f"[l{i}]" for i in range(len(lines)))
    parts.append(f"{ins}amix=inputs={len(lines)}:normalize=0:duration=longest,{_fixed_length(total_s)}[vo]")

    def produce(tmp: Path) -> None:
        run_ffmpeg(["-y", *inputs, "-filter_complex", ";".join(parts), "-map", "[vo]", "-ac", "2", "-ar", "48000",
                    "-c:a", "pcm_s16le", "-f", "wav", str(tmp)], what=f"voiceover mix {out.name}")

    return write_verified(out, produce, "audio")
