"""Real reference files under the names rule tests cite ("a.png", "v.mp3", "m.mp4", "b"), so the reference
checks (inside the allowed roots, present, decodes as the right kind) pass for the rules under test."""

from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image

from vidpipe.media.ffmpeg import run_ffmpeg

IMAGE_NAMES = ["a.png", "b.png", "f.png", "face.png", "z.png", "1.png", "2.png", "3.png", "4.png",
               *[f"{i}.png" for i in range(10)], "still.png"]
AUDIO_NAMES = ["v.mp3", "a.mp3", "b.mp3", "w.mp3"]
VIDEO_NAMES = ["m.mp4", "a.mp4", "b.mp4", "a", "b", "c", "d"]  # bare names: a clip with sound (video or audio ref)


def make_media(cache: Path) -> dict[str, Path]:
    """One tiny PNG, WAV (with a .mp3 name: kinds are probed, not guessed from names) and MP4 with sound."""
    cache.mkdir(parents=True, exist_ok=True)
    png, wav, mp4 = cache / "ref.png", cache / "ref.wav", cache / "ref.mp4"
    if not png.exists():
        Image.new("RGB", (64, 36), (40, 90, 160)).save(png)
    if not wav.exists():
        run_ffmpeg(["-y", "-f", "lavfi", "-i", "sine=frequency=330:duration=2", str(wav)], what="ref wav")
    if not mp4.exists():
        run_ffmpeg(["-y", "-f", "lavfi", "-i", "testsrc2=size=64x36:rate=12:duration=2", "-f", "lavfi", "-i",
                    "sine=duration=2", "-shortest", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    str(mp4)], what="ref mp4")
    return {"image": png, "audio": wav, "video": mp4}


def populate(folder: Path, cache: Path) -> Path:
    """Link every cited name into `folder` (hard link, else copy)."""
    src = make_media(cache)
    for names, kind in ((IMAGE_NAMES, "image"), (AUDIO_NAMES, "audio"), (VIDEO_NAMES, "video")):
        for name in names:
            dst = folder / name
            if not dst.exists():
                try:
                    dst.hardlink_to(src[kind])
                except OSError:
                    shutil.copyfile(src[kind], dst)
    return folder
