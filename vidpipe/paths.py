"""Where things live. One place decides the data root so the CLI, API and Dagster agree.

`VIDPIPE_ROOT` (default: the current directory) holds `data/episodes/` (input), `data/media/`
(everything generated), `data/vidpipe.duckdb`, `LESSONS.md` and `profile/`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Paths:
    root: Path

    @classmethod
    def from_env(cls, root: str | Path | None = None) -> "Paths":
        return cls(Path(root or os.environ.get("VIDPIPE_ROOT") or Path.cwd()).resolve())

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def episodes(self) -> Path:
        return Path(os.environ.get("VIDPIPE_EPISODES") or self.data / "episodes")

    @property
    def media(self) -> Path:
        return Path(os.environ.get("VIDPIPE_MEDIA") or self.data / "media")

    @property
    def db(self) -> Path:
        return Path(os.environ.get("VIDPIPE_DB") or self.data / "vidpipe.duckdb")

    @property
    def lessons(self) -> Path:
        return Path(os.environ.get("VIDPIPE_LESSONS") or self.root / "LESSONS.md")

    @property
    def profile(self) -> Path:
        return self.root / "profile" / "profile.json"

    def episode_dir(self, episode: str) -> Path:
        return self.episodes / episode

    def episode_media(self, episode: str) -> Path:
        return self.media / episode

    def shot_media(self, episode: str, shot: str) -> Path:
        return self.media / episode / "shots" / shot
