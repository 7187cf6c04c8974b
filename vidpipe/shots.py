"""A shot of an episode → its canonical job, so the CLI, the runner and Dagster build identical requests.

The episode supplies the frame (aspect, resolution) unless the shot overrides it; reference
paths in a spec are relative to the episode folder and become absolute here, so the job runs the
same from any working directory. A `me` shot applies the user's profile: the avatar is the face
reference ([Image1]) and the avatar rules join the Constraints.
"""

from __future__ import annotations

from pathlib import Path

from vidpipe.cast import absolute_ref as _absolute
from vidpipe.cast import cast_refs, has_me, inherited_basis
from vidpipe.errors import ProfileMissing
from vidpipe.paths import Paths
from vidpipe.profile import SETUP_HINT
from vidpipe.model_caps import CAPS
from vidpipe.prompt import audio_on, compose_prompt
from vidpipe.routing import table_route
from vidpipe.schema import Episode, Job, Profile, RealPerson, Shot


def needs_still(shot: Shot) -> bool:
    """A shot gets a first frame when it asks for one, continues another shot (that shot's last frame), or is
    image-to-video without an image ref."""
    return shot.still is not None or shot.continue_from is not None or \
        (shot.mode == "image-to-video" and not shot.refs.images)


def still_prompt(shot: Shot) -> str:
    """The prompt of the shot's generated still: its own, else subject and style (what the still's cache keys on)."""
    spec = shot.still
    return (spec.prompt if spec and spec.prompt else None) or ", ".join(p for p in (shot.subject, shot.style) if p)


def chained(episode: Episode, shot: Shot) -> bool:
    """Whether `shot` (B) continues its source (A) in *chained* mode — the one decision, used by the request,
    the still, the fingerprint and the seam QC alike (so staleness and rendering always agree).

    Chained: B has its own first-frame `still:`, B is the first shot continuing A, A's request has a first
    frame of its own (`image`: A needs a still, with role first_frame) and no reference files (a frame and
    references cannot be combined), A is not a `me` shot, and A's model takes a last frame (model_caps): A's
    explicit model, or for `auto` the routing table's choice for a first frame without references (routing
    only ever replaces it with a model that can take the request). Then A's request carries B's still as
    `last_frame_image`, and B starts from that same still without waiting for A's clip. Otherwise B is
    sequential: its first frame is the exact last frame of A's chosen clip (its own still spec is unused).
    A text-to-video A is never chained (a last frame needs a first frame, validate's
    `last_frame_requires_image`); give A a `still:` to chain it.
    """
    if shot.continue_from is None or shot.still is None or shot.still.role != "first_frame":
        return False
    first = next((s for s in episode.shots if s.continue_from == shot.continue_from), None)
    src = next((s for s in episode.shots if s.id == shot.continue_from), None)
    if first is not shot or src is None or has_me(episode, src) or not needs_still(src):
        return False
    if (src.still is not None and src.still.role != "first_frame") or src.cast or \
            src.refs.images or src.refs.videos or src.refs.audios:
        return False
    model = src.model if src.model != "auto" else table_route({"image": "first frame"})[0]
    caps = CAPS.get(model)
    return caps is not None and caps.last_frame


def chain_successor(episode: Episode, shot: Shot) -> Shot | None:
    """The shot whose still is this shot's last frame (chained mode, see `chained`), else None."""
    return next((s for s in episode.shots if s.continue_from == shot.id and chained(episode, s)), None)


def chain_note(episode: Episode, shot: Shot) -> str | None:
    """Why a continuing shot with its own first-frame still is rendered sequentially (its still unused), if so."""
    if shot.continue_from is None or shot.still is None or shot.still.role != "first_frame" or chained(episode, shot):
        return None
    return (f"{shot.id} continues {shot.continue_from} sequentially: its first frame is {shot.continue_from}'s last "
            f"frame and its own still is not used ({shot.continue_from} cannot end on a given frame: its model takes "
            "no last frame, it has no first-frame still, or it has references or cast; or another shot continues it "
            "first)")


def shot_to_job(episode: Episode, shot: Shot, *, still_path: str | None = None, profile: Profile | None = None,
                paths: Paths | None = None, episode_dir: str | Path | None = None,
                last_frame_path: str | None = None) -> Job:
    """The canonical job for one shot.

    Args:
        episode: the episode (its id and frame).
        shot: the shot.
        still_path: the generated still: the first frame (`image`), or a reference image when the
            shot's still has role "reference". Ignored for `me` shots, whose face is the avatar.
        profile: required for `me` shots (avatar as face reference, avatar rules as constraints).
        paths: the project's roots; relative refs resolve against `paths.episode_dir(episode.id)`.
        episode_dir: the episode's folder itself (instead of `paths`), e.g. a spec outside a project.
        One of the two is required: the root is passed down, never guessed from the environment.
        last_frame_path: the frame the clip must end on (`last_frame_image`): in chained mode the still of the
            shot that continues this one (`chain_successor`); only sent together with a first frame.
    Returns:
        Job with id "<episode>-<shot>", the shot's model choice, and episode/shot/category/mode/
        me/real_person carried over.
    Raises:
        ProfileMissing: a `me` shot without a profile.
        TypeError: neither `paths` nor `episode_dir`.
    """
    me = has_me(episode, shot)
    if me and profile is None:
        raise ProfileMissing(f"shot {episode.id}/{shot.id} is a video of you (me: true) but no profile is loaded: "
                             f"{SETUP_HINT}")
    if episode_dir is None and paths is None:
        raise TypeError("shot_to_job needs paths= or episode_dir= (the folder relative refs are resolved in)")
    base = Path(episode_dir) if episode_dir is not None else paths.episode_dir(episode.id)  # type: ignore[union-attr]
    plates = paths.episode_media(episode.id) if paths is not None else base  # plates live in <plates>/cast/
    images: list[str] = []
    if shot.me and profile is not None and not any(episode.member(c).me for c in shot.cast):
        images.append(_absolute(profile.avatar.image, base))  # the avatar is [Image1]
    cast = cast_refs(episode, shot, base=base, plates=plates, profile=profile, first=len(images) + 1)
    for member in cast:
        images.extend(member.images)
    images += [_absolute(r, base) for r in shot.refs.images]
    image: str | None = None
    if me:
        pass  # the face is the avatar; a generated still would compete with it
    elif still_path:
        if shot.still is not None and shot.still.role == "reference":
            images.append(str(still_path))
        else:
            image = str(still_path)
    body: dict[str, object] = {
        "prompt": compose_prompt(shot, episode=episode, profile=profile, cast=cast),
        "duration": shot.duration,
        "resolution": shot.resolution or episode.resolution,
        "aspect_ratio": shot.aspect_ratio or episode.aspect_ratio,
        "generate_audio": audio_on(shot),
    }
    if image:
        body["image"] = image
        if last_frame_path:
            body["last_frame_image"] = str(last_frame_path)
    if images:
        body["reference_images"] = images
    if shot.refs.videos:
        body["reference_videos"] = [_absolute(r, base) for r in shot.refs.videos]
    if shot.refs.audios:
        body["reference_audios"] = [_absolute(r, base) for r in shot.refs.audios]
    if shot.seed is not None:
        body["seed"] = shot.seed
    if shot.allow_prompt_rewrite if shot.allow_prompt_rewrite is not None else episode.allow_prompt_rewrite:
        body["allow_prompt_rewrite"] = True
    real_person = inherited_basis(episode, shot)
    if me and real_person is None:
        real_person = RealPerson(basis="self")  # a video of the user is, by definition, on the basis "self"
    return Job(id=f"{episode.id}-{shot.id}", model=shot.model, input=body, real_person=real_person, me=me,
               category=shot.category, episode=episode.id, shot=shot.id, mode=shot.mode)
