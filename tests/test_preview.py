"""The offline preview: exact shape, block panels and cuts, camera moves performed as named, a storyboard
that reads (shot size, cast, speech bubble), text only inside its text areas, determinism, clean QC."""

from __future__ import annotations

import hashlib
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from vidpipe.media.probe import probe
from vidpipe.qc.report import scene_cuts
from vidpipe.schema import frame_size
from vidpipe.storyboard.animatic import animatic, storyboard_frame
from vidpipe.storyboard.art import PAPER, fit, set_text
from vidpipe.storyboard.layout import layout, text_areas
from vidpipe.storyboard.plan import camera_move, member, members, panels

KEEPER = "The keeper, a grey-bearded man in a yellow oilskin coat and navy knit cap"
DIALOGUE = (f'{KEEPER}. He leans into the microphone and speaks calmly. The keeper says: "Trawler Marguerite, '
            'steer north of the light." Camera: medium close-up, 50mm lens, static tripod. Style: green dial glow, '
            "dark cabin. Sound: radio static, rain on the roof.")


def _frames(path: Path, fmt: str = "gray") -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format=fmt).astype(np.float32) for f in c.decode(video=0)]


def _picture(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    lay = layout(w, h)
    return frame[lay.top + 4: h - lay.bottom - 4]


def _backdrop(frame: np.ndarray) -> np.ndarray:
    """The picture without the move's arrow (top band, right edge), blurred past the film grain."""
    pic = _picture(frame)
    h, w = pic.shape[:2]
    pic = pic[int(h * 0.22): int(h * 0.95), int(w * 0.05): int(w * 0.85)]
    return np.asarray(Image.fromarray(pic.astype(np.uint8)).filter(ImageFilter.GaussianBlur(2)), np.float32)


def _shift(a: np.ndarray, b: np.ndarray, reach: int = 24) -> tuple[int, int]:
    """Global translation (dx, dy) of b against a (content moving right is +dx): the integer shift with
    the smallest mean absolute difference over the overlap."""
    h, w = a.shape
    best, err = (0, 0), float("inf")
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            pa = a[max(0, -dy): h - max(0, dy), max(0, -dx): w - max(0, dx)]
            pb = b[max(0, dy): h - max(0, -dy), max(0, dx): w - max(0, -dx)]
            e = float(np.abs(pa - pb).mean())
            if e < err:
                best, err = (dx, dy), e
    return best


def _zoom(a: np.ndarray, b: np.ndarray) -> float:
    """The scale about the frame centre that best maps frame a onto frame b (>1: the image grew)."""
    h, w = a.shape
    best, err = 1.0, float("inf")
    for s in np.arange(0.8, 1.31, 0.02):
        src, ref, k = (a, b, s) if s >= 1 else (b, a, 1 / s)  # enlarge one frame about its centre
        cw, ch = w / k, h / k
        box = ((w - cw) / 2, (h - ch) / 2, (w + cw) / 2, (h + ch) / 2)
        img = Image.fromarray(src.astype(np.uint8))
        scaled = np.asarray(img.resize((w, h), Image.Resampling.BILINEAR, box=box), np.float32)
        e = float(np.abs(_picture(scaled)[h // 8: -h // 8, w // 8: -w // 8] - _picture(ref)[h // 8: -h // 8, w // 8: -w // 8]).mean())
        if e < err:
            best, err = float(s), e
    return best


def _render(tmp: Path, prompt: str, *, duration: float = 4, aspect: str = "16:9", res: str = "480p",
            audio: bool = False, name: str = "c.mp4", **extra: object) -> Path:
    req = {"prompt": prompt, "duration": duration, "resolution": res, "aspect_ratio": aspect,
           "generate_audio": audio, **extra}
    return animatic(req, tmp / name)


@pytest.mark.parametrize("aspect", ["16:9", "9:16", "1:1", "21:9"])
def test_clip_has_exact_duration_size_and_fps(tmp_path: Path, aspect: str) -> None:
    p = probe(_render(tmp_path, "a kite over dunes, slow pan left", aspect=aspect))
    assert (p.width, p.height) == frame_size("480p", aspect)
    assert abs(p.duration_s - 4.0) <= 1 / 24 and p.fps == 24 and not p.has_audio


def test_shot_size_angle_and_move_from_the_camera_words() -> None:
    prompt = (f"{KEEPER}.\n[00:00-00:04] {KEEPER}: he climbs the stairs. Camera: low angle, wide shot, pan left.\n"
              f"[00:04-00:08] {KEEPER}: he wipes the glass. Camera: close-up, static tripod.\n"
              f"[00:08-00:12] {KEEPER}: he turns. Camera: extreme close-up, high angle, slow push-in.\n"
              "Style: stormy night.")
    got = [(p.size, p.angle, p.move, p.start, p.end) for p in panels(prompt, 12)]
    assert got == [("wide", "low", "pan_left", 0, 4), ("close-up", "eye level", "static", 4, 8),
                   ("extreme close-up", "high", "zoom_in", 8, 12)]
    assert [p.heading for p in panels("x. Camera: medium shot, pan right.", 4)] == ["MEDIUM · EYE LEVEL · PAN RIGHT"]
    assert camera_move("wide shot, drone orbit around the tower") == "orbit"
    assert camera_move("tilt up to the lamp") == "tilt_up" and camera_move("a quiet room") == "static"


def test_cast_identity_is_the_same_in_every_shot() -> None:
    keeper = [member(s) for s in (KEEPER, "the lighthouse keeper, grey beard", "the keeper's weathered hands")]
    assert {m.key for m in keeper} == {"keeper"} and len({m.colour for m in keeper}) == 1
    assert keeper[2].kind == "hands" and keeper[0].kind == "person"
    light = member("a white stone lighthouse on a black basalt cliff, red lantern room")
    assert light.key == "lighthouse" and light.kind == "place" and light.colour != keeper[0].colour
    # the composer's cast: "<subject>, with <name> [ImageN]: <description>; …", re-anchored by name in blocks
    cast = ("A man seated at a radio set, with the keeper [Image1]: a grey-bearded man, yellow oilskin coat; "
            "the lighthouse [Image2][Image3]: a white stone tower")
    got = members(cast)
    assert [(m.label, m.kind, m.cites) for m in got] == [("KEEPER", "person", (1,)), ("LIGHTHOUSE", "place", (2, 3))]
    assert got[0].colour == keeper[0].colour and "beard" in got[0].traits
    block = panels(f"{cast}.\n[00:00-00:04] A man at a radio, with the keeper [Image1]: he speaks. Camera: close-up.",
                   4)
    assert block[0].members[0].traits == got[0].traits  # the block's short anchor keeps the full identity


def test_only_the_cast_is_drawn_nothing_from_nouns() -> None:
    """Issue 22: "BAKER" and "WINDOW" became blobs. Without a cast only a person the subject names is drawn."""
    assert [m.label for m in members("The baker by the window, a loaf on the sill")] == ["BAKER"]
    assert members("A quiet street at dusk; rain on the window") == []
    one = panels("The keeper, a man in a yellow coat; the lighthouse, a white tower. He waves.", 4)[0]
    assert [m.label for m in one.members] == ["KEEPER"]  # the lighthouse is scenery, not a figure
    block = panels("A baker at work.\n[00:00-00:04] she checks her watch by the window. Camera: static.", 4)[0]
    assert [m.label for m in block.members] == ["BAKER"]  # nothing from the block's action words


def test_two_people_never_share_a_colour() -> None:
    names = ["Mara", "Jonas", "the keeper", "the baker", "Ines", "Tom", "the pilot", "Ada"]
    colours = {n: member(n).colour for n in names}
    clash = next((a, b) for a in names for b in names if a < b and colours[a] == colours[b])  # the palette is small
    got = members(f"Two people, with {clash[0]} [Image1]: a woman; {clash[1]} [Image2]: a man")
    assert len({m.colour for m in got}) == 2 and got[0].colour == colours[clash[0]]


def test_crane_is_labelled_crane_and_the_earliest_move_wins() -> None:
    assert panels("x. Camera: wide shot, slow crane down.", 4)[0].heading == "WIDE · EYE LEVEL · CRANE DOWN"
    assert camera_move("crane up over the roofs") == "crane_up"
    assert camera_move("pan left, then a slow push-in") == "pan_left"  # as QC reads it: the first named move
    assert camera_move("locked-off") == "static" and camera_move("slow dolly") == "zoom_in"


def _colour_share(frame: np.ndarray, rgb: tuple[int, int, int]) -> float:
    pic = _picture(frame)
    return float((np.abs(pic - np.asarray(rgb, np.float32)).max(axis=2) < 28).mean())


def test_shot_size_is_the_scale_of_the_subject_figure(tmp_path: Path) -> None:
    coat = np.asarray(member(KEEPER).colour, np.float32)
    skin = coat * 0.38 + np.asarray((255, 236, 214), np.float32) * 0.62  # the figure's face tone
    heads, coats = [], []
    for i, size in enumerate(["wide shot", "medium shot", "close-up"]):
        clip = _render(tmp_path, f"{KEEPER}. He waits. Camera: {size}, static. Style: grey day.", duration=1,
                       name=f"{i}.mp4")
        pic = _picture(_frames(clip, "rgb24")[12])
        rows = np.flatnonzero(((np.abs(pic - skin).max(axis=2) < 20).sum(axis=1)) > 2)
        heads.append(int(rows.max() - rows.min()) if len(rows) else 0)
        coats.append(float((np.abs(pic - coat).max(axis=2) < 28).mean()))
    assert heads[0] < 0.05 * pic.shape[0] < heads[1] < heads[2]  # the face grows as the camera moves in
    assert 0.002 < coats[0] < coats[1]  # and the keeper's coat is there, small in the wide shot


def test_blocks_are_panels_cut_hard_at_their_boundaries(tmp_path: Path) -> None:
    prompt = ("[00:00-00:02] a red boat, pan right. [00:02-00:04] a green forest, tilt up. "
              "[00:04-00:06] a white tower, slow orbit.")
    out = _render(tmp_path, prompt, duration=6)
    cuts = scene_cuts(out)
    assert len(cuts) == 2 and abs(cuts[0] - 2.0) <= 0.05 and abs(cuts[1] - 4.0) <= 0.05
    frames = _frames(out)
    top = layout(*frames[0].shape[::-1]).top
    # the framing words (rows next to the picture's film grain are left out: the encoder blends them)
    heading = lambda f: f[: top - 6, int(f.shape[1] * 0.3): int(f.shape[1] * 0.7)]  # noqa: E731
    assert np.abs(heading(frames[10]) - heading(frames[30])).mean() < 0.5  # one panel: the same header
    assert np.abs(heading(frames[30]) - heading(frames[60])).mean() > 3  # the next block: its own header


@pytest.mark.parametrize("camera,expect", [("pan left", "right"), ("pan right", "left"), ("tilt up", "down"),
                                           ("tilt down", "up"), ("static tripod", "still")])
def test_camera_move_is_performed_by_film_convention(tmp_path: Path, camera: str, expect: str) -> None:
    frames = _frames(_render(tmp_path, f"a lighthouse on a cliff by the sea. Camera: wide shot, {camera}."))
    dx, dy = _shift(_backdrop(frames[24]), _backdrop(frames[36]))
    moved = {"right": dx >= 3, "left": dx <= -3, "down": dy >= 3, "up": dy <= -3, "still": dx == dy == 0}
    assert moved[expect], (dx, dy)
    if expect in ("right", "left"):
        assert abs(dy) <= 1
    if expect in ("up", "down"):
        assert abs(dx) <= 1


@pytest.mark.parametrize("camera,grows", [("slow push-in", True), ("pull out", False)])
def test_push_in_grows_the_image_about_the_centre(tmp_path: Path, camera: str, grows: bool) -> None:
    out = _render(tmp_path, f"a lighthouse on a cliff by the sea. Camera: wide shot, {camera}.")
    frames = _frames(out)
    assert scene_cuts(out) == []
    z = _zoom(frames[0], frames[-1])
    assert (z >= 1.12) if grows else (z <= 0.9), z
    assert _shift(_backdrop(frames[0]), _backdrop(frames[2])) == (0, 0)  # no drift sideways


def test_dialogue_gets_a_speech_bubble_with_the_speakers_name(tmp_path: Path) -> None:
    with_line = _frames(_render(tmp_path, DIALOGUE, name="a.mp4"), "rgb24")[30]
    without = _frames(_render(tmp_path, DIALOGUE.split(" The keeper says")[0] + " Camera: medium close-up.",
                              name="b.mp4"), "rgb24")[30]
    h, w, _ = with_line.shape
    lay = layout(w, h)
    white = lambda f: (f.min(axis=2) > 250).mean()  # noqa: E731  (the bubble is the only pure white)
    notes_with, notes_without = with_line[h - lay.bottom:], without[h - lay.bottom:]
    assert white(notes_with) > 0.2 and white(notes_without) < 0.01
    tail = with_line[h - lay.bottom - 12: h - lay.bottom - 2]
    assert white(tail) > 0.002  # the bubble's tail reaches up into the picture, toward the speaker
    speaker = np.asarray(member("keeper").colour, np.float32)
    assert (np.abs(notes_with - speaker).max(axis=2) < 20).sum() > 20  # the speaker's colour key by the name


def _ocr_boxes(image: np.ndarray) -> list[tuple[float, float, float, float]]:
    ocr = pytest.importorskip("rapidocr_onnxruntime").RapidOCR()
    result, _ = ocr(image.astype(np.uint8), use_det=True, use_cls=False, use_rec=False)
    boxes = []
    for quad in result or []:
        q = np.asarray(quad, np.float32).reshape(-1, 2)
        boxes.append((float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max())))
    return boxes


@pytest.mark.parametrize("aspect", ["16:9", "9:16"])
def test_text_stays_inside_its_areas_measured_on_the_frame(tmp_path: Path, aspect: str) -> None:
    long_action = " ".join(["the keeper hauls the heavy salt-crusted mooring rope across the slippery quay"] * 4)
    prompt = (f'{KEEPER}. {long_action}. The keeper says: "Trawler Marguerite, steer north of the light, the '
              'rocks are close tonight." Camera: close-up, slow push-in. Style: grey dawn.')
    frame = _frames(_render(tmp_path, prompt, aspect=aspect, res="720p", duration=1), "rgb24")[12]
    h, w, _ = frame.shape
    boxes = _ocr_boxes(frame)
    assert len(boxes) >= 3  # PREVIEW, the framing, the caption, the bubble
    areas = text_areas(w, h)
    for b in boxes:
        assert 0 <= b[0] and 0 <= b[1] and b[2] <= w - 1 and b[3] <= h - 1
        assert any(a[0] - 3 <= b[0] and a[1] - 3 <= b[1] and b[2] <= a[2] + 3 and b[3] <= a[3] + 3
                   for a in areas), (b, areas)


def test_typesetting_fits_whole_words_inside_the_box() -> None:
    text = "Every night for forty years one light has kept this coast alive " * 14
    img = Image.new("RGB", (400, 120), PAPER)
    box = (20, 10, 380, 110)
    used = set_text(ImageDraw.Draw(img), text, box, max_px=30, min_px=12)
    ink = np.argwhere(np.asarray(img.convert("L")) < 128)
    assert ink[:, 1].min() >= box[0] and ink[:, 1].max() < box[2] and ink[:, 0].min() >= box[1]
    assert ink[:, 0].max() < box[3] and used[2] <= box[2]
    _, lines = fit(text, box, max_px=30, min_px=12)
    words = text.split()
    flat = " ".join(lines).rstrip("…").split()
    assert lines[-1].endswith("…") and flat == words[: len(flat)]  # shortened after a whole word
    _, one = fit("Camera: close-up", (0, 0, 60, 40), max_px=20, min_px=14)
    assert all(w in "Camera: close-up".split() + ["…"] for line in one for w in line.replace("…", " …").split())


def test_storyboard_still_has_no_caption_and_a_preview_tag(tmp_path: Path) -> None:
    still = storyboard_frame("close-up of weathered hands winding a brass clockwork mechanism, warm lamp light",
                             tmp_path / "s.png", width=640, height=360, label="s001")
    with Image.open(still) as im:
        assert im.size == (640, 360) and "vidpipe-preview" in im.info
        rgb = np.asarray(im.convert("RGB"), np.float32)
    r, g, b = rgb[12, 640 - 14]
    assert r > 180 and g < 80 and b < 80  # the red PREVIEW tag sits in the top-right corner
    header = text_areas(640, 360)[0]
    for box in _ocr_boxes(rgb):
        assert box[3] <= header[3] + 3 and box[0] >= 640 * 0.6  # the only letters: the tag


def test_image_to_video_starts_from_the_image(tmp_path: Path) -> None:
    img = tmp_path / "still.png"
    Image.new("RGB", (854, 480), (200, 30, 30)).save(img)
    first = _frames(_render(tmp_path, "a red wall. Camera: static.", image=str(img)), "rgb24")[0]
    h, w, _ = first.shape
    centre = first[h // 3: 2 * h // 3, w // 3: 2 * w // 3].reshape(-1, 3).mean(axis=0)
    assert centre[0] > 150 and centre[1] < 80  # the input's red, not a painted panel


def test_a_storyboard_still_is_repainted_not_filmed(tmp_path: Path) -> None:
    still = storyboard_frame("a lighthouse at dusk", tmp_path / "s.png", width=854, height=480)
    first = _frames(_render(tmp_path, f"{KEEPER}. He waits. Camera: medium, pan left.", image=str(still)),
                    "rgb24")[0]
    red = (first[..., 0] > 180) & (first[..., 1] < 70) & (first[..., 2] < 80)
    assert red[layout(854, 480).top + 2:].sum() == 0  # the still's PREVIEW tag is not carried into the picture
    assert _colour_share(first, member(KEEPER).colour) > 0.01  # the keeper is drawn, as in every other shot


def _decoded_digest(path: Path) -> str:
    """sha256 of the decoded pictures: what a viewer sees (container bytes may carry encoder noise)."""
    import av

    h = hashlib.sha256()
    with av.open(str(path)) as c:
        for frame in c.decode(video=0):
            h.update(frame.to_ndarray(format="gray").tobytes())
    return h.hexdigest()


def test_video_is_deterministic_and_prompt_sensitive(tmp_path: Path) -> None:
    digest = _decoded_digest
    a = _render(tmp_path, "a kite, pan left", name="a.mp4")
    b = _render(tmp_path, "a kite, pan left", name="b.mp4")
    c = _render(tmp_path, "a submarine, pan left", name="c.mp4")
    assert digest(a) == digest(b) and digest(a) != digest(c)


def test_audio_and_dialogue_when_asked(tmp_path: Path) -> None:
    from vidpipe.media.frames import scan_audio

    out = _render(tmp_path, 'A sailor says: "Steer north of the light now." Sound: rain.', audio=True)
    p = probe(out)
    assert p.has_audio and abs(p.duration_s - 4.0) <= 0.05
    assert scan_audio(out) is not None


def test_speech_is_offline_and_grows_with_text(tmp_path: Path) -> None:
    from vidpipe.media.speech import synthesize

    short = probe(synthesize("Hello there.", tmp_path / "a.wav")).duration_s
    long = probe(synthesize("Hello there, keeper of the light, the storm is coming in tonight.",
                            tmp_path / "b.wav")).duration_s
    assert 0.3 < short < long


def test_ambience_length_and_level() -> None:
    from vidpipe.media.ambience import ambience_samples

    s = ambience_samples("wind and rain on glass", 3.0)
    assert s.shape == (144000, 2) and 0.05 < np.abs(s).max() <= 0.5 and s.std() > 0.01


def test_panels_clamp_to_duration() -> None:
    segs = panels("[00:00-00:04] a. [00:04-00:08] b. [00:08-00:12] c.", 10)
    assert [(s.start, s.end) for s in segs] == [(0.0, 4.0), (4.0, 8.0), (8.0, 10.0)]


@pytest.mark.parametrize("camera", ["slow push-in", "static tripod", "pan left", "pan right", "tilt up",
                                    "zoom out", "slow orbit", "handheld follow", "wide shot, static",
                                    "close-up, locked off"])
def test_every_camera_move_passes_technical_qc(tmp_path: Path, camera: str) -> None:
    from vidpipe.qc.report import run_qc

    req = {"prompt": f"a red lighthouse on a grey cliff. Camera: {camera}. Sound: wind", "duration": 4,
           "resolution": "480p", "aspect_ratio": "16:9", "generate_audio": True}
    report = run_qc(animatic(req, tmp_path / "c.mp4"), request=req, out_dir=tmp_path / "qc")
    assert report.defects == []


def test_dialogue_shot_passes_technical_qc(tmp_path: Path) -> None:
    from vidpipe.qc.report import run_qc

    req = {"prompt": DIALOGUE, "duration": 4, "resolution": "480p", "aspect_ratio": "16:9", "generate_audio": True}
    report = run_qc(animatic(req, tmp_path / "c.mp4"), request=req, out_dir=tmp_path / "qc")
    assert report.defects == []
