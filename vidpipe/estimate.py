"""What an episode will cost, before anything is sent: per shot, per take, stills, plates and voice, against the budget.

Its lines (`EpisodeEstimate.lines`) are the ledger's: each paid call is booked with the same estimate
(vidpipe.ledger), so `vidpipe costs --episode` sets what was spent beside this, line for line.

The estimate goes through the same planning the runner uses (validate → route → translate →
price), so the model, billed seconds and price it shows are the ones `render` will pay for.
Avatar models are priced from the real length of their audio, Seedance video references from
their real durations; a remote reference whose length cannot be known makes the shot
"cannot estimate" rather than a guess.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from vidpipe.cast import needs_plate
from vidpipe.environment import has_key, still_backend, voice_backend
from vidpipe.episode import load_episode
from vidpipe.generate import plan_job
from vidpipe.paths import Paths
from vidpipe.pipeline.episode_stages import cut_duration
from vidpipe.pipeline.music_stage import prompt_length_ms
from vidpipe.pipeline.shot_stages import needs_still
from vidpipe.pricing import estimate_clip, estimate_still, estimate_voice
from vidpipe.providers.elevenlabs import DEFAULT_MODEL as VOICE_MODEL
from vidpipe.providers.elevenlabs_music import estimate_music
from vidpipe.profile import load_profile
from vidpipe.providers.preflight import cached_factors
from vidpipe.providers.refs import is_local
from vidpipe.schema import Episode, Shot, frame_size
from vidpipe.shots import shot_to_job
from vidpipe.store import Store

AVATAR_MODELS = frozenset({"veed-fabric-1.0", "omnihuman-1.5"})


class ShotEstimate(BaseModel):
    shot: str
    model: str
    backend: str
    billed_seconds: float
    resolution: str
    audio: bool
    takes: int
    usd_per_take: float
    still_usd: float = 0.0
    usd: float
    note: str = ""
    cannot_estimate: str | None = None
    error: str | None = None


class EpisodeEstimate(BaseModel):
    episode: str
    shots: list[ShotEstimate] = Field(default_factory=list)
    voice_backend: str
    voice_characters: int
    voice_usd: float = 0.0
    music_usd: float = 0.0  # a score made from music.prompt (ElevenLabs), when a key is set
    plates_usd: float = 0.0
    total_usd: float
    budget_usd: float | None = None
    cannot_estimate: list[str] = Field(default_factory=list)

    @property
    def over_budget(self) -> bool:
        return self.budget_usd is not None and self.total_usd > self.budget_usd + 1e-9

    def lines(self) -> list[dict[str, object]]:
        """The estimate in the ledger's lines — (kind, shot, usd) — so `vidpipe costs --episode` can set what was
        spent beside it line for line (vidpipe.ledger.Ledger.lines)."""
        out: list[dict[str, object]] = []
        for s in self.shots:
            if s.usd_per_take:
                out.append({"kind": "video", "shot": s.shot, "est_cost_usd": round(s.usd_per_take * s.takes, 4)})
            if s.still_usd:
                out.append({"kind": "still", "shot": s.shot, "est_cost_usd": round(s.still_usd, 4)})
        if self.plates_usd:
            out.append({"kind": "plate", "shot": None, "est_cost_usd": round(self.plates_usd, 4)})
        if self.voice_usd:
            out.append({"kind": "voice", "shot": None, "est_cost_usd": round(self.voice_usd, 4)})
        if self.music_usd:
            out.append({"kind": "music", "shot": None, "est_cost_usd": round(self.music_usd, 4)})
        return out

    def line(self) -> str:
        """One line for `render` to print before the first paid call."""
        shots = sum(s.takes for s in self.shots)
        budget = f" of a ${self.budget_usd:.2f} budget" if self.budget_usd is not None else ""
        unknown = f"; cannot estimate {', '.join(self.cannot_estimate)}" if self.cannot_estimate else ""
        return f"estimate {self.episode}: ${self.total_usd:.2f}{budget} for {shots} generation(s){unknown}"


def _unknown_length(shot_model: str, request: dict[str, object], known: dict[str, float]) -> str | None:
    """A billed-by-length reference we cannot measure (remote, or unreadable)."""
    keys = ["reference_audios"] if shot_model in AVATAR_MODELS else []
    if shot_model == "seedance-2.0":
        keys.append("reference_videos")
    for key in keys:
        refs = request.get(key)
        for ref in refs if isinstance(refs, list) else []:
            if isinstance(ref, str) and ref not in known:
                where = "remote" if not is_local(ref) else "unreadable"
                return f"{key} {ref} ({where}: its length, which is billed, cannot be known)"
    return None


def estimate_shot(paths: Paths, episode: Episode, shot: Shot, *, backend: str | None = None,
                  store: Store | None = None) -> ShotEstimate:
    """Price one shot the way the runner will: same job, same route, same translation."""
    profile = load_profile(paths.profile) if shot.me else None
    still = str(paths.shot_media(episode.id, shot.id) / "still.png") if needs_still(shot) else None
    job = shot_to_job(episode, shot, still_path=still, profile=profile, paths=paths)
    plan = plan_job(job, backend=backend, store=store)
    takes = episode.takes_of(shot)
    resolution = shot.resolution or episode.resolution
    aspect = shot.aspect_ratio or episode.aspect_ratio
    still_usd = 0.0
    if still is not None:
        model = shot.still.model if shot.still else "flux-schnell"
        w, h = frame_size(resolution, aspect)
        still_usd = estimate_still(model, still_backend(backend, model), width=w, height=h)
    out = ShotEstimate(shot=shot.id, model=plan.model, backend=plan.backend, billed_seconds=0.0,
                       resolution=resolution, audio=bool(job.input.get("generate_audio", True)), takes=takes,
                       usd_per_take=0.0, still_usd=still_usd, usd=still_usd)
    if plan.errors:
        code, msg = plan.errors[0]
        return out.model_copy(update={"error": f"{code}: {msg}"})
    est = estimate_clip(plan.model, plan.backend, plan.request, ref_seconds=plan.ref_seconds)
    unknown = _unknown_length(plan.model, plan.request, plan.ref_seconds) if est.rate else None
    # fal's live price, when a preflight (a run or `vidpipe doctor --online`) read it today: same factor the run uses
    factor = cached_factors(paths.db.parent).get(plan.endpoint, 1.0) if plan.backend == "fal" else 1.0
    usd = round(est.usd * factor, 4)
    note = est.note + (f"{'; ' if est.note else ''}fal's live price ({factor:.2f}x the snapshot)" if factor != 1.0 else "")
    return out.model_copy(update={
        "billed_seconds": est.seconds, "usd_per_take": usd, "usd": round(usd * takes + still_usd, 4),
        "note": note, "cannot_estimate": unknown})


def estimate_episode(paths: Paths, episode_id: str, *, backend: str | None = None,
                     voice: str | None = None, store: Store | None = None) -> EpisodeEstimate:
    """Every shot (× takes), its still, and the narration, against the episode's budget."""
    episode = load_episode(paths.episode_dir(episode_id))
    shots = [estimate_shot(paths, episode, s, backend=backend, store=store) for s in episode.shots]
    chars = sum(len(s.narration or "") for s in episode.shots)
    w, h = frame_size(episode.resolution, episode.aspect_ratio)
    plates = sum(estimate_still(m.plate_model, still_backend(backend, m.plate_model), width=w, height=h)
                 for m in episode.cast if needs_plate(m))
    requested_voice = voice or (None if episode.voice.provider == "auto" else episode.voice.provider)
    vbackend = voice_backend(requested_voice)
    voice_usd = estimate_voice(VOICE_MODEL, vbackend, chars)
    music = episode.music
    music_usd = estimate_music(prompt_length_ms(cut_duration(episode)), "elevenlabs") \
        if music and music.prompt and not music.path and has_key("elevenlabs") else 0.0
    return EpisodeEstimate(
        episode=episode.id, shots=shots, voice_backend=vbackend, voice_characters=chars, voice_usd=voice_usd,
        music_usd=music_usd, plates_usd=plates,
        total_usd=round(sum(s.usd for s in shots) + plates + voice_usd + music_usd, 4),
        budget_usd=episode.budget_usd, cannot_estimate=[s.shot for s in shots if s.cannot_estimate])
