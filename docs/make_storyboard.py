"""Draw the README's storyboard pictures from a rendered episode (default: the demo).

    VIDPIPE_ROOT=$PWD .venv/bin/python -m vidpipe render demo
    VIDPIPE_ROOT=$PWD .venv/bin/python docs/make_storyboard.py [EPISODE]
        # writes docs/contact_sheet.jpg (the episode storyboard: every panel, links, the cut's timeline)
        # and docs/storyboard_blocks.png (the third shot's panels on their own)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vidpipe.episode import load_episode  # noqa: E402
from vidpipe.paths import Paths  # noqa: E402
from vidpipe.pipeline.record import ShotRef  # noqa: E402
from vidpipe.storyboard.episode_sheet import write_storyboard  # noqa: E402
from vidpipe.storyboard.sheet import panel_frames, storyboard_sheet  # noqa: E402


def main(episode_id: str = "demo") -> list[Path]:
    paths = Paths.from_env()
    out = [write_storyboard(paths, episode_id, ROOT / "docs" / "contact_sheet.jpg", columns=3, tile_width=560)]
    episode = load_episode(paths.episode_dir(episode_id))
    shots = [(ref.clip_path, ref.read().request) for ref in ShotRef.all(paths, episode) if ref.clip_path.exists()]
    frames = panel_frames(*shots[2]) if len(shots) > 2 else []
    if frames:  # the multi-block shot on its own: one panel per block
        out.append(ROOT / "docs" / "storyboard_blocks.png")
        storyboard_sheet([shots[2]], out[-1], columns=len(frames), tile_width=480)
    return out


if __name__ == "__main__":
    for p in main(*sys.argv[1:2]):
        print(p)
