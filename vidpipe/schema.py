"""Pydantic models for every file format vidpipe reads or writes.

The canonical request (Seedance 2.0 schema) is the interchange format. Validation of a *raw*
request lives in validate.py (it must report wrong types by code, which a coercing model
cannot); `CanonicalRequest` is the typed form of a request that passed validation.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vidpipe.errors import SpecError
from vidpipe.ids import check_id, check_job_id
from vidpipe.specfile import read_json  # noqa: F401 - re-exported: callers import it from here

SafeId = Annotated[str, AfterValidator(check_id)]  # ids become paths and partition keys (vidpipe/ids.py)
JobId = Annotated[str, AfterValidator(check_job_id)]

MODELS: tuple[str, ...] = (
    "seedance-2.0",
    "kling-3.0-omni",
    "wan-2.7-i2v",
    "veo-3.1",
    "veed-fabric-1.0",
    "omnihuman-1.5",
)
STILL_MODELS: tuple[str, ...] = ("flux-schnell", "flux-pro", "gemini-image")
RESOLUTIONS: tuple[str, ...] = ("480p", "720p", "1080p")
ASPECT_RATIOS: tuple[str, ...] = ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "9:21", "adaptive")
CANONICAL_FIELDS: tuple[str, ...] = (
    "prompt",
    "image",
    "last_frame_image",
    "reference_images",
    "reference_videos",
    "reference_audios",
    "duration",
    "resolution",
    "aspect_ratio",
    "generate_audio",
    "seed",
)
RESOLUTION_HEIGHT = {"480p": 480, "720p": 720, "1080p": 1080, "1440p": 1440, "4k": 2160}
REAL_PERSON_BASES = ("self", "consenting", "public_figure_commentary")

# The 15 catalogued failure modes (names are what judges and people tick).
FAILURE_MODES: tuple[str, ...] = (
    "identity drift",
    "hand drift",
    "extra limbs",
    "face distortion",
    "wardrobe change",
    "text artifacts",
    "unwanted subtitles",
    "camera ignored",
    "frozen motion",
    "physics violation",
    "lip-sync drift",
    "audio mismatch",
    "style drift",
    "cropped subject",
    "prompt ignored",
)

Mode = Literal[
    "text-to-video",
    "native-dialogue",
    "native-sfx",
    "image-to-video",
    "character-consistency",
    "motion-transfer",
    "lip-sync",
    "real-person",
    "talking-avatar",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def frame_size(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    """(width, height) for a resolution and aspect ratio; even numbers, short side = the resolution."""
    short = RESOLUTION_HEIGHT[resolution]
    if aspect_ratio == "adaptive":
        aspect_ratio = "16:9"
    w, h = (int(x) for x in aspect_ratio.split(":"))
    if w >= h:
        width, height = round(short * w / h), short
    else:
        width, height = short, round(short * h / w)
    return width - width % 2, height - height % 2


class Finding(_Model):
    """One validation / lint result. `code` is a contract (design.md §2)."""

    code: str
    message: str
    severity: Literal["error", "warning"] = "error"


class CanonicalRequest(_Model):
    """A Seedance 2.0 request body that passed validation."""

    prompt: str
    image: str | None = None
    last_frame_image: str | None = None
    reference_images: list[str] = Field(default_factory=list)
    reference_videos: list[str] = Field(default_factory=list)
    reference_audios: list[str] = Field(default_factory=list)
    duration: int = 5
    resolution: Literal["480p", "720p", "1080p"] = "720p"
    aspect_ratio: Literal["16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "9:21", "adaptive"] = "16:9"
    generate_audio: bool = True
    seed: int | None = None
    # Let the provider rewrite the prompt (fal Wan `enable_prompt_expansion`, Veo `auto_fix`); off by default
    # because both default to on at fal and would replace the composed prompt.
    allow_prompt_rewrite: bool = False

    def body(self) -> dict[str, Any]:
        """The wire body: only fields that are set (None, empty lists and a False rewrite flag dropped)."""
        return {k: v for k, v in self.model_dump().items()
                if v not in (None, []) and not (k == "allow_prompt_rewrite" and v is False)}


class RealPerson(_Model):
    """Declares that a shot depicts a real person, and on what basis (policy: design.md §8)."""

    name: str | None = None
    basis: Literal["self", "consenting", "public_figure_commentary"] | None = None


class Job(_Model):
    """One generation: a canonical request plus the model choice (\"auto\" routes)."""

    id: JobId
    model: str = "auto"
    input: dict[str, Any]
    real_person: RealPerson | None = None
    me: bool = False
    category: str | None = None
    episode: SafeId | None = None
    shot: SafeId | None = None
    mode: Mode | None = None  # the shot's production mode (real-person policy, learned routing)


class Block(_Model):
    """A time-coded block of a multi-shot clip: [start-end] Subject/Action/Camera for that cut."""

    start: int
    end: int
    action: str
    subject: str | None = None
    camera: str | None = None
    dialogue: str | None = None


class DialogueLine(_Model):
    speaker: str
    line: str


class Refs(_Model):
    images: list[str] = Field(default_factory=list)
    videos: list[str] = Field(default_factory=list)
    audios: list[str] = Field(default_factory=list)


class StillSpec(_Model):
    """A first-frame still (or character plate) made before the clip."""

    prompt: str | None = None
    model: str = "flux-schnell"
    role: Literal["first_frame", "reference"] = "first_frame"


class CastMember(_Model):
    """Someone or something that appears in several shots and must look the same in each.

    Its look comes from reference images given as files, or from a `plate`: a prompt for a
    reference still made once (cached) before any shot. The profile's "me" is a member with
    `me: true`, whose plate is the profile's avatar.
    """

    id: SafeId
    name: str
    kind: Literal["person", "object", "place"] = "person"
    description: str  # 2–3 concrete traits, repeated in every shot it appears in
    images: list[str] = Field(default_factory=list)
    plate: str | None = None
    plate_model: str = "flux-schnell"
    real_person: RealPerson | None = None
    me: bool = False


class Shot(_Model):
    """One shot of an episode: 5-part fields (or a raw prompt), mode, refs, timing, audio."""

    id: SafeId
    title: str | None = None
    mode: Mode = "text-to-video"
    category: str | None = None
    subject: str | None = None
    action: str | None = None
    camera: str | None = None
    style: str | None = None
    constraints: list[str] = Field(default_factory=list)
    blocks: list[Block] = Field(default_factory=list)
    prompt: str | None = None
    dialogue: list[DialogueLine] = Field(default_factory=list)
    narration: str | None = None
    audio: str | None = None
    duration: int = 5
    aspect_ratio: str | None = None
    resolution: str | None = None
    generate_audio: bool | None = None
    seed: int | None = None
    takes: int | None = Field(default=None, ge=1, le=8)  # generations to choose from (episode default)
    allow_prompt_rewrite: bool | None = None  # let the provider rewrite this shot's prompt (episode default)
    still: StillSpec | None = None
    refs: Refs = Field(default_factory=Refs)
    transition: Literal["cut", "crossfade"] = "cut"
    transition_dur: float = 0.5
    model: str = "auto"
    real_person: RealPerson | None = None
    me: bool = False
    cast: list[SafeId] = Field(default_factory=list)  # ids of the episode's cast members in this shot
    # Continuity: this shot starts on the exact last frame of that (earlier) shot's chosen take.
    continue_from: SafeId | None = None

    @field_validator("constraints", mode="before")
    @classmethod
    def _constraints_list(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _continuing_is_image_to_video(self) -> Shot:
        """A shot that continues another starts from a frame: text-to-video becomes image-to-video."""
        if self.continue_from is not None and self.mode == "text-to-video":
            self.mode = "image-to-video"
        return self


class VoiceSpec(_Model):
    provider: Literal["preview", "elevenlabs", "auto"] = "auto"
    voice_id: str | None = None


class MusicSpec(_Model):
    """Music bed: a file, a folder to choose from (the track that best fits the cut), or a prompt for a music
    model, fitted to the cut (vidpipe.media.music); or (offline) an ambience rendered by the preview backend."""

    path: str | None = None  # an audio file, or a folder of them
    prompt: str | None = None  # a score made by ElevenLabs' music model (with a key; offline: the ambience)
    ambience: str | None = None
    gain_db: float = -18.0


class Episode(_Model):
    id: SafeId = ""  # load_episode sets it from the folder name
    title: str
    aspect_ratio: str = "16:9"
    resolution: Literal["480p", "720p", "1080p"] = "720p"
    fps: int = 24
    budget_usd: float | None = None
    takes: int = Field(default=1, ge=1, le=8)  # default takes per shot
    allow_prompt_rewrite: bool = False  # default for shots: providers send the composed prompt as written
    voice: VoiceSpec = Field(default_factory=VoiceSpec)
    music: MusicSpec | None = None
    cut_to_beat: bool = False  # move cut points onto the music's beats (±0.5 s, no shot changed by more)
    cast: list[CastMember] = Field(default_factory=list)
    shots: list[Shot]

    @field_validator("shots")
    @classmethod
    def _unique_ids(cls, shots: list[Shot]) -> list[Shot]:
        seen: set[str] = set()
        for s in shots:
            if s.id in seen:
                raise ValueError(f"duplicate shot id {s.id!r}")
            seen.add(s.id)
        if not shots:
            raise ValueError("an episode needs at least one shot")
        return shots

    def member(self, member_id: str) -> CastMember:
        for m in self.cast:
            if m.id == member_id:
                return m
        raise KeyError(f"episode {self.id!r} has no cast member {member_id!r}")

    def takes_of(self, shot: Shot) -> int:
        return shot.takes or self.takes

    def shot(self, shot_id: str) -> Shot:
        for s in self.shots:
            if s.id == shot_id:
                return s
        raise KeyError(f"episode {self.id!r} has no shot {shot_id!r}")


class Probe(_Model):
    duration_s: float
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    has_audio: bool = False
    has_video: bool = True
    video_codec: str | None = None
    audio_codec: str | None = None
    size_bytes: int | None = None


class Region(_Model):
    """A box on the frame at time `t`, in fractions of the frame (x, y = top-left; w, h = size)."""

    t: float
    x: float
    y: float
    w: float
    h: float


class Defect(_Model):
    code: str
    start_s: float | None = None
    end_s: float | None = None
    detail: str = ""
    severity: Literal["error", "warning"] = "error"
    value: float | None = None  # what the detector measured (content codes: design.md §5)
    threshold: float | None = None  # the named constant it was compared with
    regions: list[Region] = Field(default_factory=list)  # where (text boxes, face boxes)
    confirmed: bool | None = None  # a judge's verdict on a detector finding (None: not asked)

    @field_validator("severity", mode="before")
    @classmethod
    def _one_spelling(cls, v: Any) -> Any:
        return "warning" if v == "warn" else v  # qc.json files written before the spelling was unified


class Scores(_Model):
    prompt_fidelity: int = Field(ge=1, le=5)
    subject_consistency: int = Field(ge=1, le=5)
    camera_and_motion: int = Field(ge=1, le=5)
    audio_match: int = Field(ge=1, le=5)
    overall: int = Field(ge=1, le=5)


class QCReport(_Model):
    clip: str
    clip_id: str
    job_id: str | None = None
    prompt: str | None = None
    model: str | None = None
    probe: Probe
    defects: list[Defect] = Field(default_factory=list)
    scores: Scores | None = None
    judge: str | None = None
    failure_modes_observed: list[str] = Field(default_factory=list)
    what_worked: str | None = None
    what_to_change: str | None = None
    lesson: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)  # measured beside the defects (continuity_seam_ssim)

    def blocking_defects(self) -> list[Defect]:
        """Defects that stop the clip: severity error (vidpipe.qc.verdict assigns severities), unless a judge
        looked and rejected the detector's finding (`confirmed` is False)."""
        return [d for d in self.defects if d.severity == "error" and d.confirmed is not False]

    def passed(self, threshold: int | None = None) -> bool:
        """The one QC verdict: no blocking defect, and a judged clip scores at least `threshold` overall.

        An unjudged clip (scores null) passes on its technical QC alone — nothing invents a score.
        """
        if self.blocking_defects():
            return False
        return threshold is None or self.scores is None or self.scores.overall >= threshold


class Avatar(_Model):
    image: str
    rules: list[str] = Field(default_factory=list)


class ProfileVoice(_Model):
    elevenlabs_voice_id: str | None = None


class ModelPreferences(_Model):
    talking_avatar_default: str = "wan-2.7-i2v"
    talking_avatar_alternate: str = "omnihuman-1.5"
    avoid: list[str] = Field(default_factory=list)


class Profile(_Model):
    name: str | None = None
    avatar: Avatar
    voice: ProfileVoice = Field(default_factory=ProfileVoice)
    model_preferences: ModelPreferences = Field(default_factory=ModelPreferences)


def describe_validation_error(exc: ValidationError) -> str:
    """'shots.2.duration: Input should be a valid integer' — field paths a person can find."""
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
        parts.append(f"{loc}: {err['msg']}")
    more = len(exc.errors()) - 5
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def load_model(model: type[BaseModel], data: Any, *, path: str) -> Any:
    """Validate `data` as `model`; a failure becomes a SpecError naming the file and fields."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise SpecError(describe_validation_error(exc), path=path) from None
