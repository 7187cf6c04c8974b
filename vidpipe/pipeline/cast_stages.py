"""Cast plates: a reference still per cast member that has a `plate:` prompt, made once before any shot.

Cached by content hash (prompt, model, frame, backend) beside the plate, so the same member looks
the same in every shot and every rerun, and a plate is paid for once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vidpipe.cast import needs_plate, plate_path
from vidpipe.episode import load_episode
from vidpipe.paths import Paths
from vidpipe.pipeline.cache import cache_hit, stable_hash, write_sidecar
from vidpipe.pipeline.shot_stages import STAGE_VERSION
from vidpipe.stills import make_still


@dataclass
class PlateOutcome:
    member: str
    path: Path
    cache_hit: bool
    model: str
    backend: str
    cost_usd: float = 0.0


def make_cast_plates(paths: Paths, episode_id: str, *, backend: str | None = None) -> list[PlateOutcome]:
    """Every plate the episode's cast needs (members with images of their own, or "me", need none)."""
    episode = load_episode(paths.episode_dir(episode_id), paths=paths)
    out: list[PlateOutcome] = []
    for m in episode.cast:
        if not needs_plate(m):
            continue
        path = plate_path(paths.episode_media(episode.id), m)
        key = stable_hash({"plate": m.plate, "description": m.description, "model": m.plate_model,
                           "aspect": episode.aspect_ratio, "res": episode.resolution, "backend": backend,
                           "v": STAGE_VERSION})
        side = path.with_suffix(".json")
        hit = cache_hit(side, key, path)
        if hit:
            out.append(PlateOutcome(m.id, path, True, str(hit.get("model")), str(hit.get("backend"))))
            continue
        prompt = f"{m.plate.strip().rstrip('.')}. {m.name}: {m.description}"  # type: ignore[union-attr]
        res = make_still(prompt, path, model=m.plate_model, aspect=episode.aspect_ratio,
                         resolution=episode.resolution, backend=backend)
        cost = float(res.cost_usd or 0.0)
        write_sidecar(side, {"key": key, "member": m.id, "prompt": prompt, "model": res.model, "backend": res.backend,
                             "request_id": res.request_id, "cost_usd": cost})
        out.append(PlateOutcome(m.id, path, False, res.model, res.backend, cost))
    return out
