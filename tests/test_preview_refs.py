"""The preview draws what the user gave it (issue 22, item 2): a place's reference image is the
backdrop, a member's image stands in the frame and moves with the camera, a member without one is
a silhouette in its own colour, no place image is a neutral backdrop; a voice reference is heard."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from PIL import Image

from tests.preview_shots import voice_file
from vidpipe.media.frames import scan_audio
from vidpipe.qc.content.speech import speech_seconds
from vidpipe.storyboard.animatic import animatic, storyboard_frame
from vidpipe.storyboard.layout import layout
from vidpipe.storyboard.plan import members

MAGENTA = (220, 30, 200)


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24").astype(np.float32) for f in c.decode(video=0)]


def _picture(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    lay = layout(w, h)
    return frame[lay.top + 4: h - lay.bottom - 4]


def _photo(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (240, 320)) -> Path:
    """A textured photo in one dominant colour, so its pixels can be found in a frame."""
    g = np.random.default_rng(3)
    arr = np.asarray(colour, np.float32) + g.normal(0, 10, (size[1], size[0], 3))
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(path)
    return path


def _share(frame: np.ndarray, rgb: tuple[int, int, int], tol: float = 45) -> float:
    return float((np.abs(_picture(frame) - np.asarray(rgb, np.float32)).max(axis=2) < tol).mean())


def _centroid_x(frame: np.ndarray, rgb: tuple[int, int, int]) -> float:
    mask = np.abs(_picture(frame) - np.asarray(rgb, np.float32)).max(axis=2) < 45
    return float(np.nonzero(mask)[1].mean())


def _req(prompt: str, **extra: object) -> dict[str, object]:
    return {"prompt": prompt, "duration": 4, "resolution": "480p", "aspect_ratio": "16:9", "generate_audio": False,
            **extra}


def test_a_members_photo_is_in_the_frame_and_moves_with_the_camera(tmp_path: Path) -> None:
    photo = _photo(tmp_path / "mara.png", MAGENTA)
    prompt = "A woman at a counter, with Mara [Image1]: a tall woman in a raincoat. She waits. Camera: medium shot, {}."
    still = _frames(animatic(_req(prompt.format("static"), reference_images=[str(photo)]), tmp_path / "a.mp4"))
    assert _share(still[10], MAGENTA) > 0.03  # her photo stands where she stands
    assert abs(_centroid_x(still[10], MAGENTA) - _centroid_x(still[80], MAGENTA)) < 2  # a photo holds still
    pan = _frames(animatic(_req(prompt.format("pan left"), reference_images=[str(photo)]), tmp_path / "b.mp4"))
    assert _centroid_x(pan[80], MAGENTA) - _centroid_x(pan[10], MAGENTA) > 20  # pan left: the scene slides right
    without = _frames(animatic(_req(prompt.format("static")), tmp_path / "c.mp4"))
    assert _share(without[10], MAGENTA) < 0.002  # no image given: no photo drawn


def test_a_place_image_is_the_backdrop(tmp_path: Path) -> None:
    place = _photo(tmp_path / "kitchen.png", (40, 160, 60), (480, 320))
    prompt = "An empty room, with the kitchen [Image1]: a small kitchen. Nothing moves. Camera: wide shot, static."
    frames = _frames(animatic(_req(prompt, reference_images=[str(place)]), tmp_path / "k.mp4"))
    assert _share(frames[20], (40, 160, 60)) > 0.6  # the user's kitchen fills the picture
    neutral = _frames(animatic(_req(prompt), tmp_path / "n.mp4"))[20]
    pic = _picture(neutral)
    assert _share(neutral, (40, 160, 60)) < 0.01
    # a neutral backdrop: no field, no house, no sky: grey-ish everywhere (channels close together)
    assert float(np.abs(pic - pic.mean(axis=2, keepdims=True)).mean()) < 12


def test_a_member_without_an_image_is_a_silhouette_in_its_own_colour(tmp_path: Path) -> None:
    plate = storyboard_frame("a tall woman", tmp_path / "plate.png", width=320, height=320)  # our own plate
    prompt = ("Two people, with Mara [Image1]: a tall woman; Jonas [Image2]: a wiry boy. They talk. "
              "Camera: medium shot, static.")
    cast = members(prompt.split(". They")[0])
    assert len({m.colour for m in cast}) == 2
    frames = _frames(animatic(_req(prompt, reference_images=[str(plate), str(plate)]), tmp_path / "s.mp4"))
    for m in cast:
        assert _share(frames[30], m.colour, tol=30) > 0.01, m.label  # each drawn in its colour, not the plate
    h, w = frames[30].shape[:2]
    notes = frames[30][h - layout(w, h).bottom:]
    for m in cast:  # the legend keys each colour to its name
        assert (np.abs(notes - np.asarray(m.colour, np.float32)).max(axis=2) < 30).sum() > 20, m.label


def test_a_first_frame_image_is_filmed(tmp_path: Path) -> None:
    first = _photo(tmp_path / "first.png", (30, 60, 200), (640, 360))
    frames = _frames(animatic(_req("A blue wall. Camera: slow push-in.", image=str(first)), tmp_path / "f.mp4"))
    assert _share(frames[0], (30, 60, 200)) > 0.6


def test_a_voice_reference_is_heard(tmp_path: Path) -> None:
    voice = voice_file(tmp_path / "v.wav", "Bring the lamp, the storm is getting closer.")
    req = _req("The keeper, lip-synced to the voice. Camera: close-up, static.", reference_audios=[str(voice)],
               generate_audio=True)
    assert speech_seconds(scan_audio(animatic(req, tmp_path / "v.mp4"))) >= 1.0
    silent = _req("The keeper. Camera: close-up, static. Sound: wind.", generate_audio=True)
    assert speech_seconds(scan_audio(animatic(silent, tmp_path / "w.mp4"))) < 0.5
