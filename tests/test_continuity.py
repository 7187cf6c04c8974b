"""Continuity: a shot that says `continue_from: s001` starts on the exact last frame of s001's chosen take.

Rendered through the real shot stages with the preview backend (request → still → clip → QC). The PNG the
request sends as `image` is compared pixel for pixel with s001's clip decoded by PyAV (not by the ffmpeg
command that wrote it); choosing s001's other take makes s002 stale and its first frame follows.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from tests.media_factory import Seg, make_clip
from vidpipe.episode import load_episode, shot_fingerprint
from vidpipe.errors import SpecError
from vidpipe.paths import Paths
from vidpipe.pipeline.record import ShotRef
from vidpipe.pipeline.shot_stages import prepare_request, record_qc, render_clip, render_still, use_take
from vidpipe.pipeline.shot_stages import with_seam
from vidpipe.pipeline.status import shots_to_render
from vidpipe.schema import QCReport
from vidpipe.store import Store

PAIR = """\
title: Pair
resolution: "480p"
shots:
  - {id: s001, subject: "a red kite over grey dunes", action: "the kite climbs", camera: "wide shot, static tripod", style: "overcast, muted palette", duration: 4, generate_audio: false, takes: 2}
  - {id: s002, continue_from: s001, subject: "the red kite over grey dunes", action: "the kite dives", camera: "wide shot, static tripod", style: "overcast, muted palette", duration: 4, generate_audio: false}
"""


def last_frame(clip: Path) -> np.ndarray:
    with av.open(str(clip)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    return frames[-1]


def render(paths: Paths, store: Store, sid: str) -> ShotRef:
    ref = ShotRef.load(paths, "pair", sid)
    prepare_request(ref, store=store)
    render_still(ref, backend="preview")
    render_clip(ref, backend="preview", store=store)
    record_qc(ref, store)
    return ShotRef.load(paths, "pair", sid)


@pytest.fixture
def pair(project: Paths) -> Paths:
    d = project.episode_dir("pair")
    d.mkdir(parents=True)
    (d / "episode.yaml").write_text(PAIR)
    return project


def test_the_continuing_shot_starts_on_the_exact_last_frame_and_follows_another_take(pair: Paths) -> None:
    store = Store(pair.db)
    s1 = render(pair, store, "s001")
    s2 = render(pair, store, "s002")
    assert s2.shot.mode == "image-to-video"
    job = s2.read().job
    assert job is not None and job.input["image"] == str(s2.still_path)
    sent = np.asarray(Image.open(job.input["image"]).convert("RGB"))
    assert np.array_equal(sent, last_frame(s1.clip_path)), "the request's image is s001's last frame, pixel for pixel"

    report = QCReport.model_validate_json((s2.review_dir / "qc.json").read_text())
    assert 0.0 <= report.metrics["continuity_seam_ssim"] <= 1.0, "QC measured the seam"
    print("preview seam SSIM", report.metrics["continuity_seam_ssim"])

    episode = load_episode(pair.episode_dir("pair"), paths=pair)
    before = shot_fingerprint(episode, episode.shot("s002"), paths=pair)
    assert "s002" not in [s for s, _ in shots_to_render(pair, "pair")]
    other = next(t.take for t in s1.read().takes if t.take != s1.read().chosen_take)
    use_take(s1, other)  # a person prefers s001's other take
    assert shot_fingerprint(episode, episode.shot("s002"), paths=pair) != before
    assert "s002" in [s for s, _ in shots_to_render(pair, "pair")], "s002 is stale once s001 changed"
    again = render(pair, store, "s002")
    sent = np.asarray(Image.open(again.still_path).convert("RGB"))
    assert np.array_equal(sent, last_frame(s1.clip_path)), "the first frame followed the new take"


def test_a_seam_that_jumps_is_a_warning_with_its_measure(pair: Paths, tmp_path: Path) -> None:
    episode = load_episode(pair.episode_dir("pair"), paths=pair)
    ref = ShotRef(pair, episode, episode.shot("s002"))
    ref.still_path.parent.mkdir(parents=True, exist_ok=True)
    a, b = make_clip(tmp_path / "a.mp4", [Seg("moving", 1.0, shot=0)]), make_clip(tmp_path / "b.mp4", [Seg("moving", 1.0, shot=1)])
    Image.fromarray(last_frame(a)).save(ref.still_path)
    empty = QCReport(clip=str(b), clip_id="x", probe={"duration_s": 1.0})
    jump = with_seam(ref, b, empty)
    assert jump.metrics["continuity_seam_ssim"] < 0.6
    [d] = jump.defects
    assert d.code == "continuity_seam" and d.severity == "warning" and d.value == jump.metrics["continuity_seam_ssim"]
    assert not jump.blocking_defects()
    smooth = with_seam(ref, a, empty)  # a's own first frame vs its last: the same picture, a little moved
    assert smooth.metrics["continuity_seam_ssim"] > jump.metrics["continuity_seam_ssim"]


def test_continue_from_must_name_an_earlier_shot(pair: Paths) -> None:
    d = pair.episode_dir("pair")
    (d / "episode.yaml").write_text(PAIR.replace("continue_from: s001", "continue_from: s009"))
    with pytest.raises(SpecError, match=r"shots.1.continue_from \(s002\): 's009' is no shot"):
        load_episode(d, paths=pair)
    swapped = PAIR.replace("{id: s001,", "{id: s001, continue_from: s002,").replace("continue_from: s001, ", "")
    (d / "episode.yaml").write_text(swapped)
    with pytest.raises(SpecError, match="'s002' is a later shot"):
        load_episode(d, paths=pair)
