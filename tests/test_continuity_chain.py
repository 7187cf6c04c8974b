"""Chained continuity: s002 continues s001 and has its own first-frame still, and s001's model takes a last frame,
so s001's request ends on s002's still (`last_frame_image`) and s002 starts from it: neither waits for the other.

Rendered offline end to end with `render_episode` (preview backend: its animatic ends on the requested last frame).
The frames are decoded with PyAV; the still files are compared pixel for pixel. A model without last-frame support
(model_caps says so) falls back to today's sequential mode: s002's first frame is s001's exact last frame.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from vidpipe import model_caps
from vidpipe.media.seam import first_frame, seam_ssim
from vidpipe.episode import load_episode, shot_fingerprint, validate_episode
from vidpipe.paths import Paths
from vidpipe.pipeline.record import ShotRef
from vidpipe.pipeline.run import render_episode
from vidpipe.pipeline.status import shots_to_render
from vidpipe.schema import QCReport
from vidpipe.shots import chain_note, chained

CHAIN = """\
title: Chain
resolution: "480p"
shots:
  - {id: s001, mode: image-to-video, still: {prompt: "a red kite low over grey dunes, wide"}, subject: "a red kite over grey dunes", action: "the kite climbs", camera: "wide shot, static tripod", style: "overcast, muted palette", duration: 4, generate_audio: false}
  - {id: s002, continue_from: s001, still: {prompt: "the red kite high above grey dunes, wide"}, subject: "the red kite over grey dunes", action: "the kite dives", camera: "wide shot, static tripod", style: "overcast, muted palette", duration: 4, generate_audio: false}
"""


def frames(clip: Path) -> list[np.ndarray]:
    with av.open(str(clip)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def pixels(path: str | Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def write(paths: Paths, text: str) -> None:
    d = paths.episode_dir("chain")
    d.mkdir(parents=True, exist_ok=True)
    (d / "episode.yaml").write_text(text)


def refs(paths: Paths) -> tuple[ShotRef, ShotRef]:
    return ShotRef.load(paths, "chain", "s001"), ShotRef.load(paths, "chain", "s002")


def fingerprints(paths: Paths) -> dict[str, str]:
    ep = load_episode(paths.episode_dir("chain"), paths=paths)
    return {s.id: shot_fingerprint(ep, s, paths=paths) for s in ep.shots}


@pytest.fixture
def chain(project: Paths) -> Paths:
    write(project, CHAIN)
    return project


def test_chained_shots_share_one_frame_and_track_each_others_staleness(chain: Paths) -> None:
    run = render_episode(chain, "chain", backend="preview", deliver=False)
    assert not run.failed, run.failed
    a, b = refs(chain)
    assert chained(b.episode, b.shot)
    job_a, job_b = a.read().job, b.read().job
    assert job_a is not None and job_b is not None
    assert job_a.input["last_frame_image"] == str(b.still_path), "A ends on B's still, the exact file"
    assert np.array_equal(pixels(job_a.input["last_frame_image"]), pixels(b.still_path))
    assert job_b.input["image"] == str(b.still_path) and "last_frame_image" not in job_b.input
    assert b.read().still is not None and b.read().still.model != "last-frame", "B's still is its own, not A's frame"

    still = pixels(b.still_path).astype(np.int16)
    last = frames(a.clip_path)[-1].astype(np.int16)
    err = float(np.abs(last - still).mean())
    print(f"A's decoded last frame vs B's still: mean |diff| {err:.2f} grey levels")
    assert err < 4.0, "the preview's clip ends on the requested last frame (up to H.264)"

    report = QCReport.model_validate_json((b.review_dir / "qc.json").read_text())
    print("chained seam SSIM", report.metrics["continuity_seam_ssim"])
    seam = seam_ssim(Image.fromarray(frames(a.clip_path)[-1]), first_frame(b.clip_path))
    assert report.metrics["continuity_seam_ssim"] == seam, "QC measured the A→B seam: A's clip's last frame vs B's first"

    before = fingerprints(chain)
    assert [s for s, _ in shots_to_render(chain, "chain")] == []
    a.clip_path.write_bytes(a.clip_path.read_bytes() + b"\0")  # another take of A: B does not care in chained mode
    assert fingerprints(chain)["s002"] == before["s002"]
    write(chain, CHAIN.replace("the red kite high above", "the red kite skimming"))
    changed = fingerprints(chain)
    assert changed["s001"] != before["s001"], "changing B's still makes A stale"
    assert changed["s002"] != before["s002"]
    write(chain, CHAIN.replace("the kite climbs", "the kite hovers"))
    changed = fingerprints(chain)
    assert changed["s001"] != before["s001"]
    assert changed["s002"] == before["s002"], "changing A's action leaves B alone"
    assert [s for s, _ in shots_to_render(chain, "chain")] == ["s001"]


def test_a_model_without_a_last_frame_falls_back_to_sequential(chain: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    i2v = model_caps.CAPS["wan-2.7-i2v"]  # what `auto` routes A (a first frame, no references) to
    monkeypatch.setitem(model_caps.CAPS, "wan-2.7-i2v", dataclasses.replace(i2v, last_frame=False))
    ep = load_episode(chain.episode_dir("chain"), paths=chain)
    assert not chained(ep, ep.shot("s002"))
    _, reports = validate_episode(chain, "chain")
    assert not [e for r in reports for e in r.errors]
    assert [w.code for w in reports[1].warnings if w.code == "continuity_sequential"] == ["continuity_sequential"]
    assert reports[0].job is not None and "last_frame_image" not in reports[0].job.input

    run = render_episode(chain, "chain", backend="preview", deliver=False)
    assert not run.failed, run.failed
    a, b = refs(chain)
    job_a = a.read().job
    assert job_a is not None and "last_frame_image" not in job_a.input
    assert b.read().still is not None and b.read().still.model == "last-frame"
    assert np.array_equal(pixels(b.still_path), frames(a.clip_path)[-1]), "B starts on A's exact last frame"
    before = fingerprints(chain)["s002"]
    a.clip_path.write_bytes(a.clip_path.read_bytes() + b"\0")
    assert fingerprints(chain)["s002"] != before, "sequential: another clip of A makes B stale"


@pytest.mark.parametrize("change", [
    ("mode: image-to-video, still: {prompt: \"a red kite low over grey dunes, wide\"}, ", ""),  # A text-to-video
    ("duration: 4, generate_audio: false}\n  - {id: s002", "duration: 4, generate_audio: false, model: omnihuman-1.5}"
                                                       "\n  - {id: s002"),
    ("{id: s002, continue_from: s001, still: {prompt: \"the red kite high above grey dunes, wide\"}, ",
     "{id: s002, continue_from: s001, "),  # B has no still of its own
])
def test_without_a_chainable_pair_the_shot_is_sequential(chain: Paths, change: tuple[str, str]) -> None:
    text = CHAIN.replace(*change)
    assert text != CHAIN
    write(chain, text)
    ep = load_episode(chain.episode_dir("chain"), paths=chain)
    b = ep.shot("s002")
    assert not chained(ep, b)
    assert (chain_note(ep, b) is None) == (b.still is None), "a still that goes unused is explained"
    fp = shot_fingerprint(ep, b, paths=chain)
    clip = chain.shot_media("chain", "s001") / "clip.mp4"
    clip.parent.mkdir(parents=True, exist_ok=True)
    clip.write_bytes(b"a clip")
    assert shot_fingerprint(ep, b, paths=chain) != fp, "B follows A's clip"


def test_validate_sees_the_chained_request(chain: Paths) -> None:
    """`validate` composes A's request as render will: ending on B's still, valid on A's routed model."""
    _, reports = validate_episode(chain, "chain")
    a, b = reports
    assert not a.errors and not b.errors, (a.errors, b.errors)
    assert a.job is not None and a.job.input["last_frame_image"] == str(chain.shot_media("chain", "s002") / "still.png")
    assert a.job.input["image"] == str(chain.shot_media("chain", "s001") / "still.png")
    assert model_caps.CAPS[a.route].last_frame
    assert not [w for w in b.warnings if w.code == "continuity_sequential"]
