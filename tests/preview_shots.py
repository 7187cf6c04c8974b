"""Random well-formed shots for the preview's property test (tests/test_preview_property.py) and
its larger run (benchmarks/bench_preview_qc.py): every mode, aspect, camera word, 4–15 s, casts
with and without images. Each shot goes through the real path: shot_to_job → the preview backend
(as the runner calls it) → run_qc with the job, as the pipeline's QC stage does.
"""

from __future__ import annotations

import random
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from vidpipe.media.speech import speak
from vidpipe.providers.base import Ticket
from vidpipe.providers.preview_backend import PreviewBackend
from vidpipe.qc.report import run_qc
from vidpipe.qc.verdict import verdict
from vidpipe.schema import Block, CastMember, DialogueLine, Episode, QCReport, Refs, Shot, StillSpec
from vidpipe.shots import shot_to_job
from vidpipe.storyboard.animatic import storyboard_frame

# Every camera word the vocabularies know (the preview's storyboard.plan, QC's content.intent).
CAMERA_WORDS = (
    "locked-off", "static", "tripod", "push-in", "slow push-in", "dolly in", "pull-out", "pull back",
    "dolly out", "pan left", "pan right", "tilt up", "tilt down", "crane up", "crane down", "slow crane down",
    "orbit", "handheld", "zoom in", "zoom out",
)
SIZES = ("wide shot", "medium shot", "medium close-up", "close-up", "extreme close-up", "full shot", "two-shot")
ANGLES = ("", "low angle", "high angle", "eye level", "dutch angle", "overhead")
ASPECTS = ("16:9", "9:16", "1:1", "4:3")
MODES = ("text-to-video", "native-dialogue", "native-sfx", "image-to-video", "character-consistency",
         "motion-transfer", "lip-sync", "real-person", "talking-avatar")
PEOPLE = (("mara", "Mara", "a tall woman in a yellow raincoat, short dark hair"),
          ("the baker", "the baker", "a stout man with a flour-dusted apron and a grey cap"),
          ("jonas", "Jonas", "a wiry boy with a red scarf"),
          ("the keeper", "the keeper", "a grey-bearded man in a navy wool coat"))
PLACES = (("bakery", "the bakery", "a narrow shop with a wooden counter and a tiled floor"),
          ("harbour", "the harbour", "a stone quay with moored fishing boats"),
          ("kitchen", "the kitchen", "a small kitchen with a window over the sink"))
ACTIONS = ("she checks her watch and looks toward the door", "he kneads dough by the window",
           "they walk slowly across the room", "he looks up and smiles", "she opens the window and leans out")
LINES = ("We open at seven, not a minute later.", "Did you hear the boats come in this morning?",
         "Bring the lamp, the storm is getting closer.", "I told you the bread would rise tonight.")


@dataclass
class Case:
    """One random shot and where its files live."""

    seed: int
    episode: Episode
    shot: Shot
    still: str | None = None


def photo(path: Path, rng: random.Random, size: tuple[int, int] = (320, 240)) -> Path:
    """A photo-like image (smooth colour field, shapes, fine texture): what a user's reference looks like."""
    w, h = size
    g = np.random.default_rng(rng.randrange(1 << 30))
    base = Image.fromarray((g.random((h // 16 + 1, w // 16 + 1, 3)) * 255).astype("uint8")).resize((w, h))
    d = ImageDraw.Draw(base)
    for _ in range(8):
        x, y, r = g.integers(0, w), g.integers(0, h), g.integers(8, h // 3)
        d.ellipse([x - r, y - r, x + r, y + r], fill=tuple(int(c) for c in g.integers(0, 255, 3)))
    arr = np.asarray(base.filter(ImageFilter.GaussianBlur(2)), dtype=np.int16)
    arr = np.clip(arr + g.integers(-12, 12, arr.shape), 0, 255).astype("uint8")
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)
    return path


def voice_file(path: Path, line: str) -> Path:
    """A spoken line as a WAV (a lip-sync / talking-avatar audio reference)."""
    pcm, sr = speak(line)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.astype("<i2").tobytes())
    return path


def random_case(seed: int, folder: Path) -> Case:
    """A random well-formed shot (its episode, images and plates written under `folder`)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    mode = MODES[seed % len(MODES)] if seed < len(MODES) else rng.choice(MODES)
    duration = rng.randint(4, 15)
    aspect = rng.choice(ASPECTS)

    def camera() -> str:
        words = [w for w in (rng.choice(SIZES), rng.choice(ANGLES), rng.choice(CAMERA_WORDS)) if w]
        return ", ".join(words)

    cast: list[CastMember] = []
    if mode in ("character-consistency", "native-dialogue", "lip-sync") or rng.random() < 0.4:
        for key, name, desc in rng.sample(PEOPLE, rng.randint(1, 2)):
            member_id = key.replace("the ", "")
            if rng.random() < 0.5:
                images = [str(photo(folder / f"{member_id}.png", rng))]
                cast.append(CastMember(id=member_id, name=name, kind="person", description=desc, images=images))
            else:
                cast.append(CastMember(id=member_id, name=name, kind="person", description=desc, plate=desc))
                storyboard_frame(desc, folder / "cast" / f"{member_id}.png", width=480, height=480)
    if rng.random() < 0.5 and mode != "image-to-video":
        key, name, desc = rng.choice(PLACES)
        if rng.random() < 0.5:
            cast.append(CastMember(id=key, name=name, kind="place", description=desc,
                                   images=[str(photo(folder / f"{key}.png", rng, (480, 320)))]))
        else:
            cast.append(CastMember(id=key, name=name, kind="place", description=desc, plate=desc))
            storyboard_frame(desc, folder / "cast" / f"{key}.png", width=640, height=360)
    if mode == "image-to-video":
        cast = []
    people = [c for c in cast if c.kind == "person"]
    speaker = people[0].name if people else "the narrator"
    subject = rng.choice(("a woman at a counter", "the baker by the window", "a man in a doorway",
                          "a quiet street at dusk"))
    shot_kw: dict[str, object] = {}
    if rng.random() < 0.35 and duration >= 6:
        cuts = sorted(rng.sample(range(2, duration - 1), rng.randint(1, min(2, duration - 4))))
        bounds = [0] + cuts + [duration]
        blocks = [Block(start=a, end=b, action=rng.choice(ACTIONS), camera=camera(),
                        dialogue=rng.choice(LINES) if mode in ("native-dialogue", "lip-sync") and i == 0 else None)
                  for i, (a, b) in enumerate(zip(bounds, bounds[1:]))]
        shot_kw.update(blocks=blocks)
        if mode in ("native-dialogue", "lip-sync"):
            shot_kw.update(dialogue=[DialogueLine(speaker=speaker, line=blocks[0].dialogue or LINES[0])])
    else:
        shot_kw.update(camera=camera())
        if mode in ("native-dialogue", "lip-sync", "talking-avatar"):
            shot_kw.update(dialogue=[DialogueLine(speaker=speaker, line=rng.choice(LINES))])
    refs = Refs()
    still = None
    if mode in ("lip-sync", "talking-avatar"):
        refs = Refs(audios=[str(voice_file(folder / "voice.wav", LINES[seed % len(LINES)]))])
    if mode == "talking-avatar":
        refs.images = [str(photo(folder / "face.png", rng))]
    if mode == "image-to-video":
        if rng.random() < 0.5:
            refs.images = [str(photo(folder / "first.png", rng, (480, 360)))]
        else:
            still = str(storyboard_frame(subject, folder / "still.png", width=640, height=360))
    if mode == "motion-transfer":
        refs = Refs(videos=[])  # the preview has nothing to transfer; the prompt carries the motion
    shot = Shot(id=f"s{seed:03d}", mode=mode, subject=subject, action=rng.choice(ACTIONS),
                style=rng.choice(("warm tungsten light", "overcast, muted palette", "35mm film grain")),
                audio=rng.choice(("room tone and distant traffic", "wind and gulls", "")) or None,
                duration=duration, aspect_ratio=aspect, resolution="480p", cast=[c.id for c in cast],
                still=StillSpec(prompt=subject) if still else None, refs=refs,
                real_person={"name": "Mara", "basis": "consenting"} if mode == "real-person" else None, **shot_kw)
    episode = Episode(id="prop", title="property", aspect_ratio=aspect, resolution="480p", cast=cast, shots=[shot])
    return Case(seed, episode, shot, still)


def render_and_check(case: Case, folder: Path, *, fps: int = 24) -> QCReport:
    """The shot's job through the preview backend (translate, submit, poll, fetch) and the pipeline's QC call."""
    job = shot_to_job(case.episode, case.shot, still_path=case.still, episode_dir=folder)
    backend = PreviewBackend()
    endpoint, body = backend.translate("seedance-2.0", job.input)
    ticket = Ticket(job_id=job.id, model="seedance-2.0", endpoint=endpoint, body=body, workdir=folder)
    ticket.request_id = backend.submit(ticket)
    clip = backend.fetch(backend.result_url(backend.poll(ticket, deadline=0.0)), folder / f"{job.id}.mp4")
    return run_qc(clip, job=job, out_dir=folder / "qc", clip_id=job.id, backend="preview")


def failures(report: QCReport) -> list[str]:
    """The codes that fail the verdict (empty when the clip passes its own QC)."""
    return [] if verdict(report) else sorted({d.code for d in report.blocking_defects()})
