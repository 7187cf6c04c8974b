"""Cast plates: a reference still per cast member that has a `plate:` prompt, made once before any shot.

Cached by content hash (prompt, model, frame, backend) beside the plate, so the same member looks
the same in every shot and every rerun, and a plate is paid for once: the check-and-make runs under
the same per-key file lock the runner uses, so two shot runs of one episode never both pay for it. A paid
plate is booked in the ledger (kind "plate") beside the video it serves.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from vidpipe.cast import needs_plate, plate_path
from vidpipe.episode import load_episode
from vidpipe.generate.claims import Claims
from vidpipe.ledger import record_spend
from vidpipe.paths import Paths
from vidpipe.pipeline.cache import STAGE_VERSION, cache_hit, stable_hash, write_sidecar
from vidpipe.schema import CastMember, Episode
from vidpipe.stills import make_still
from vidpipe.store import Store


@dataclass
class PlateOutcome:
    member: str
    path: Path
    cache_hit: bool
    model: str
    backend: str
    cost_usd: float = 0.0


PLATE_LOCK_WAIT_S = 900.0  # another process making the same plate is waited for this long


def make_cast_plates(paths: Paths, episode_id: str, *, backend: str | None = None,
                     only: list[str] | None = None) -> list[PlateOutcome]:
    """Every plate the episode's cast needs (members with images of their own, or "me", need none).

    `only` limits it to some members (a shot makes just the plates it uses).
    """
    episode = load_episode(paths.episode_dir(episode_id), paths=paths)
    locks = Claims(paths.episode_media(episode.id) / "cast" / ".locks")
    out: list[PlateOutcome] = []
    for m in episode.cast:
        if not needs_plate(m) or (only is not None and m.id not in only):
            continue
        with locks.hold(m.id, deadline=time.monotonic() + PLATE_LOCK_WAIT_S, job_id=f"cast plate {m.id}"):
            out.append(_plate(paths, episode, m, backend))
    return out


def _plate(paths: Paths, episode: Episode, m: CastMember, backend: str | None) -> PlateOutcome:
    path = plate_path(paths.episode_media(episode.id), m)
    key = stable_hash({"plate": m.plate, "description": m.description, "model": m.plate_model,
                       "aspect": episode.aspect_ratio, "res": episode.resolution, "backend": backend,
                       "v": STAGE_VERSION})
    side = path.with_suffix(".json")
    hit = cache_hit(side, key, path)
    if hit:
        return PlateOutcome(m.id, path, True, str(hit.get("model")), str(hit.get("backend")))
    prompt = f"{m.plate.strip().rstrip('.')}. {m.name}: {m.description}"  # type: ignore[union-attr]
    res = make_still(prompt, path, model=m.plate_model, aspect=episode.aspect_ratio,
                     resolution=episode.resolution, backend=backend)
    cost = float(res.cost_usd or 0.0)
    record_spend(Store(paths.db), "plate", key, model=res.model, backend=res.backend, est_cost_usd=res.est_cost_usd,
                 cost_usd=cost, episode=episode.id, request_id=res.request_id, output_path=str(path),
                 job_id=f"plate:{m.id}")
    write_sidecar(side, {"key": key, "member": m.id, "prompt": prompt, "model": res.model, "backend": res.backend,
                         "request_id": res.request_id, "cost_usd": cost})
    return PlateOutcome(m.id, path, False, res.model, res.backend, cost)
