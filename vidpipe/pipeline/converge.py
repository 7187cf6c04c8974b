"""Converging on the episode as written: is the delivered cut the current one, and should work be asked for again?

Dagster never reuses a run key, so a key that is a content fingerprint cannot ask twice for the same
content (an edit undone, a shot whose run died). Here the decision is made on *state* instead: the
sensors ask for a run when the current state (a shot's spec fingerprint, an episode's clip digest)
differs from what the last run was asked to make, retry a failed state a few times with backoff, and
then leave it to a person. Every request gets a fresh run key; these functions decide whether to send it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from vidpipe.episode import load_episode, shot_fingerprint
from vidpipe.errors import SpecError
from vidpipe.paths import Paths
from vidpipe.pipeline.cache import STAGE_VERSION, file_hash, read_sidecar, stable_hash
from vidpipe.media.verify import pid_alive
from vidpipe.pipeline.record import ShotRef

AUTO_RETRIES = 2  # a state whose run failed is asked for again this many times (after the runs' own retries)
RETRY_BACKOFF_S = 60.0  # first wait before asking again; doubles after each failure
PID_MAX = 4_194_304  # Linux pid_max ceiling: larger numbers in a temp name are thread ids
RunStatus = Literal["active", "success", "failure"]


@dataclass
class Attempt:
    """A run asked for earlier: which state it was to make, how it ended, when (epoch seconds)."""

    state: str | None
    status: RunStatus
    at: float


@dataclass
class Decision:
    ask: bool
    why: str
    attempt: int = 1  # the number of this attempt at this state (part of the run key, so keys never repeat)


def next_request(state: str, attempts: list[Attempt], now: float, *, auto_retries: int = AUTO_RETRIES,
                 backoff_s: float = RETRY_BACKOFF_S) -> Decision:
    """Ask for a run that makes `state`, given earlier attempts (oldest first)?

    - a run still queued or running: wait for it (whatever it makes, the next tick looks again);
    - the last run was for another state (an edit, an undo, a re-take): ask;
    - the last run made this state: done (if the output is still wrong, e.g. QC failed, a person decides);
    - it failed: ask again after 60 s, 120 s … up to `auto_retries` times, then wait for a person
      (an edit, a re-run from the UI, or `vidpipe render`).
    """
    if any(a.status == "active" for a in attempts):
        return Decision(False, "a run is queued or in progress")
    same = [a for a in attempts if a.state == state]
    if not attempts or attempts[-1].state != state:
        return Decision(True, "new state" if not same else "state came back", len(same) + 1)
    last = attempts[-1]
    if last.status == "success":
        return Decision(False, "the last run made this state")
    failures = 0
    for a in reversed(attempts):
        if a.state != state or a.status != "failure":
            break
        failures += 1
    if failures > auto_retries:
        return Decision(False, f"failed {failures} times: waiting for a person", len(same) + 1)
    wait = backoff_s * 2 ** (failures - 1)
    if now - last.at < wait:
        return Decision(False, f"failed; asking again in {wait - (now - last.at):.0f} s", len(same) + 1)
    return Decision(True, f"retry {failures} of {auto_retries} after a failed run", len(same) + 1)


# -- is the delivered cut the episode as written? ------------------------------------------------------
NO_DELIVERY = "no delivery yet"  # the cut itself is current; only its delivery file is missing

@dataclass
class CutState:
    current: bool
    reason: str | None
    clips: list[str] = field(default_factory=list)  # the current takes' clip hashes, in episode order

    @property
    def digest(self) -> str:
        return stable_hash(self.clips)


def cut_state(paths: Paths, episode_id: str) -> CutState:
    """Does final.mp4 (and delivery.mp4 made from it) hold exactly the current takes of the current spec?

    Compares what the cut's sidecar says it was made from (clip hashes, transitions, narration) with the
    shots' clip.mp4 files now; reads only sidecars and hashes (memoised), renders nothing.
    """
    episode = load_episode(paths.episode_dir(episode_id))
    refs = ShotRef.all(paths, episode)
    missing = [r.shot.id for r in refs if not r.clip_path.exists()]
    clips = [file_hash(r.clip_path) for r in refs if r.clip_path.exists()]
    if missing:
        return CutState(False, f"no clip yet for {', '.join(missing)}", clips)
    stale = [r.shot.id for r in refs if not _made_for_spec(r)]
    if stale:
        return CutState(False, f"the spec of {', '.join(stale)} changed since its clip", clips)
    media = paths.episode_media(episode_id)
    cut = read_sidecar(media / "final.json")
    if not cut or not (media / "final.mp4").exists():
        return CutState(False, "no final cut yet", clips)
    made = cut.get("edit", {}).get("clips", [])
    if cut.get("clip_hashes", [])[:len(made)] != clips or len(made) != len(refs):
        return CutState(False, "the cut holds other takes than the shots' current clips", clips)
    wanted = [(s.transition if i else "cut", s.transition_dur if i else made[0].get("transition_dur"))
              for i, s in enumerate(episode.shots)]
    if [(c.get("transition"), c.get("transition_dur")) for c in made] != wanted:
        return CutState(False, "the transitions changed since the cut", clips)
    vo = read_sidecar(media / "voiceover" / "voiceover.json") or {}
    narration = [[s.id, s.narration] for s in episode.shots if s.narration]
    if [[ln.get("shot"), ln.get("text")] for ln in vo.get("lines", [])] != narration:
        return CutState(False, "the narration changed since the cut", clips)
    out = cut.get("output") or {}
    delivered = read_sidecar(media / "delivery.json")
    if not delivered or not (media / "delivery.mp4").exists():
        return CutState(False, NO_DELIVERY, clips)
    key = stable_hash({"final": out.get("sha256"), "res": delivered.get("resolution"), "fps": delivered.get("fps"),
                       "v": STAGE_VERSION})
    if delivered.get("key") != key:
        return CutState(False, "the delivery was made from another cut", clips)
    return CutState(True, None, clips)


def _made_for_spec(ref: ShotRef) -> bool:
    g = ref.read().generation if ref.record_path.exists() else None
    return g is not None and g.shot_fingerprint == shot_fingerprint(ref.episode, ref.shot, paths=ref.paths)


# -- failed runs, as people should see them -------------------------------------------------------------
FAILURES_FILE = "run_failures.jsonl"


def latest_failures(paths: Paths) -> dict[str, dict[str, Any]]:
    """partition → the newest failed run's record (data/run_failures.jsonl, written by the failure sensor)."""
    out: dict[str, dict[str, Any]] = {}
    try:
        lines = (paths.data / FAILURES_FILE).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return out
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and rec.get("partition"):
            out[str(rec["partition"])] = rec
    return out


def shot_failure(paths: Paths, ref: ShotRef, failures: dict[str, dict[str, Any]] | None = None) -> str | None:
    """Why the shot's last run failed, while its clip is not yet current for its spec (else None)."""
    rec = (failures if failures is not None else latest_failures(paths)).get(ref.key)
    if not rec:
        return None
    fp = shot_fingerprint(ref.episode, ref.shot, paths=ref.paths)
    if rec.get("state") not in (None, fp):
        return None  # it failed for an older spec
    try:
        current = ref.clip_path.exists() and ref.read().clip_for_spec(fp)
    except SpecError:  # a damaged record: the failure is the better thing to show
        current = False
    if current:
        return None
    return str(rec.get("error") or "the run failed")


def clean_dead_temp_files(folder: Path, *, now: float | None = None, quiet_s: float = 600.0) -> list[Path]:
    """Remove temp files (`*.tmp`) a killed run left in a shot folder, before the shot's next attempt.

    A temp name carrying a process id (`.clip.mp4.<pid>.tmp`) is debris once that process is gone; one
    without (a thread id, `qc.json.tmp`) once nobody touched it for `quiet_s`. The runner sweeps its own
    `gen/.tmp/<host>-<pid>/` folders; this covers the rest of the shot folder.
    """
    now = time.time() if now is None else now
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for p in folder.rglob("*.tmp"):
        if not p.is_file():
            continue
        pids = [int(f) for f in p.name.split(".") if f.isdigit() and 0 < int(f) < PID_MAX]
        try:
            age = now - p.stat().st_mtime
        except OSError:
            continue
        if any(pid_alive(pid) for pid in pids) or (not pids and age < quiet_s):
            continue
        p.unlink(missing_ok=True)
        removed.append(p)
    return removed
