"""What the review pages show, read from the recorded sidecars (shot.json, qc.json) and DuckDB."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidpipe.episode import load_episode
from vidpipe.errors import SpecError
from vidpipe.paths import Paths
from vidpipe.pipeline.record import ShotRecord, record_of
from vidpipe.schema import QCReport


@dataclass
class Take:
    label: str
    clip: Path | None
    review_dir: Path | None
    record: ShotRecord | None
    qc: QCReport | None

    @property
    def gen(self) -> dict[str, Any]:
        """The take's generation facts as a plain dict (what the templates show)."""
        g = self.record.generation if self.record else None
        return g.model_dump() if g else {}

    @property
    def prompt(self) -> str | None:
        return self.record.prompt if self.record else None


@dataclass
class ShotView:
    id: str
    title: str | None
    mode: str
    parts: dict[str, Any]
    prompt: str | None
    take: Take
    takes: list[Take] = field(default_factory=list)

    @property
    def cost(self) -> float:
        rec = self.take.record
        return float(rec.generation.cost_usd) if rec and rec.generation else 0.0


def _take(label: str, folder: Path, clip_id: str | None = None) -> Take:
    rec = record_of(folder)
    review = None
    if (folder / "review").is_dir():
        dirs = sorted(d for d in (folder / "review").iterdir() if (d / "qc.json").exists())
        review = next((d for d in dirs if d.name == clip_id), dirs[0] if dirs else None)
    qc = QCReport.model_validate_json((review / "qc.json").read_text()) if review else None
    clip = folder / "clip.mp4"
    return Take(label, clip if clip.exists() else None, review, rec, qc)


def episode_view(paths: Paths, episode_id: str) -> dict[str, Any]:
    """Everything the episode page needs, tolerant of shots not rendered yet."""
    episode = load_episode(paths.episode_dir(episode_id))
    media = paths.episode_media(episode_id)
    shots = []
    for s in episode.shots:
        folder = paths.shot_media(episode_id, s.id)
        main = _take("main", folder, f"{episode_id}-{s.id}")
        takes = [main] + [_take(d.name, d) for d in sorted((folder / "takes").glob("*")) if d.is_dir()]
        shots.append(ShotView(s.id, s.title, s.mode, {"subject": s.subject, "action": s.action, "camera": s.camera,
                                                      "style": s.style, "constraints": ", ".join(s.constraints)},
                              main.record.prompt if main.record else None, main, takes))
    return {
        "episode": episode,
        "shots": shots,
        "final": media / "final.mp4" if (media / "final.mp4").exists() else None,
        "delivery": media / "delivery.mp4" if (media / "delivery.mp4").exists() else None,
        "total_cost": sum(s.cost for s in shots),
    }


def safe_media_path(media_root: Path, rel: str) -> Path:
    """Resolve `rel` under the media root; anything outside (.., absolute, symlinks out) is refused."""
    root = media_root.resolve()
    p = (root / rel).resolve()
    if not p.is_relative_to(root) or not p.is_file():
        raise SpecError(f"not a media file: {rel}")
    return p
