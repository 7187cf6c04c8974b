"""Cast: the same character, object or place in every shot it appears in.

A shot that lists cast members gets, for each, its description in the Subject part (and a short
re-anchor in every time-coded block) and its reference images in the request, cited in order as
[Image1], [Image2]… Images come from the member's files, its generated plate
(data/media/<ep>/cast/<id>.png, made once by `make_cast_plates`), or — for the profile's "me" —
the avatar. A member's `real_person` basis travels to every shot it appears in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vidpipe.refcheck import REMOTE
from vidpipe.errors import ProfileMissing
from vidpipe.profile import SETUP_HINT
from vidpipe.schema import CastMember, Episode, Profile, RealPerson, Shot

MAX_REFERENCE_IMAGES = 9  # the canonical request's limit (design.md §2)


@dataclass(frozen=True)
class CastRef:
    """A member as it appears in one request: its images and the [ImageN] numbers they got."""

    member: CastMember
    images: tuple[str, ...]
    first: int  # 1-based number of its first image in reference_images

    @property
    def citation(self) -> str:
        return "".join(f"[Image{self.first + i}]" for i in range(len(self.images)))

    def introduce(self) -> str:
        """'the keeper [Image1]: a weathered man…' (the Subject part's sentence for this member)."""
        return f"{self.member.name} {self.citation}: {self.member.description.strip().rstrip('.')}".strip()

    def anchor(self) -> str:
        return f"{self.member.name} {self.citation}".strip()


def plate_path(media_episode_dir: Path, member: CastMember) -> Path:
    return media_episode_dir / "cast" / f"{member.id}.png"


def needs_plate(member: CastMember) -> bool:
    return bool(member.plate) and not member.images and not member.me


def member_images(member: CastMember, *, base: Path, plates: Path, profile: Profile | None) -> list[str]:
    """The member's reference images as absolute paths (or URLs): files, else its plate, else the avatar."""
    if member.me:
        if profile is None:
            raise ProfileMissing(f"cast member {member.id} is you (me: true) but no profile is loaded: {SETUP_HINT}")
        return [absolute_ref(profile.avatar.image, base)]
    if member.images:
        return [absolute_ref(i, base) for i in member.images]
    if member.plate:
        return [str(plate_path(plates, member))]
    return []


def cast_refs(episode: Episode, shot: Shot, *, base: Path, plates: Path, profile: Profile | None,
              first: int = 1) -> list[CastRef]:
    """The shot's members with their images numbered from `first` (images before them keep lower numbers)."""
    out: list[CastRef] = []
    n = first
    for member_id in shot.cast:
        member = episode.member(member_id)
        images = tuple(member_images(member, base=base, plates=plates, profile=profile))
        out.append(CastRef(member, images, n))
        n += len(images)
    return out


def inherited_basis(episode: Episode, shot: Shot) -> RealPerson | None:
    """A real person in the cast carries their basis to the shot (the shot's own declaration wins)."""
    if shot.real_person is not None:
        return shot.real_person
    for member_id in shot.cast:
        member = episode.member(member_id)
        if member.me:
            return RealPerson(basis="self")
        if member.real_person is not None:
            return member.real_person
    return None


def has_me(episode: Episode, shot: Shot) -> bool:
    return shot.me or any(episode.member(m).me for m in shot.cast)


def cast_problems(episode: Episode) -> list[str]:
    """Spec errors: unknown members, members without a look, and shots over the 9-image limit."""
    out: list[str] = []
    ids = [m.id for m in episode.cast]
    for i, m in enumerate(episode.cast):
        if ids.count(m.id) > 1 and ids.index(m.id) == i:
            out.append(f"cast.{i}.id: duplicate cast member id {m.id!r}")
        if not (m.images or m.plate or m.me):
            out.append(f"cast.{i} ({m.id}): give reference images (images: [...]) or a plate prompt (plate: ...)")
    known = set(ids)
    for i, s in enumerate(episode.shots):
        unknown = [c for c in s.cast if c not in known]
        if unknown:
            out.append(f"shots.{i}.cast ({s.id}): unknown cast member(s) {', '.join(unknown)}; "
                       f"the cast is: {', '.join(ids) or 'empty'}")
            continue
        if s.cast and s.mode == "image-to-video" and (s.still is None or s.still.role == "first_frame"):
            out.append(f"shots.{i}.cast ({s.id}): a first-frame still cannot be sent with cast reference images; "
                       "use still: {{role: reference}} or drop the cast")
        count = sum(max(1, len(episode.member(c).images)) for c in s.cast) + len(s.refs.images)
        count += 1 if (s.still is not None and s.still.role == "reference") else 0
        count += 1 if (s.me and not any(episode.member(c).me for c in s.cast)) else 0
        if count > MAX_REFERENCE_IMAGES:
            out.append(f"shots.{i}.cast ({s.id}): {count} reference images (cast, refs and still) — at most "
                       f"{MAX_REFERENCE_IMAGES}; drop a member or an image")
    return out


def appearances(episode: Episode) -> dict[str, list[str]]:
    """member id → the shots it appears in (what `vidpipe cast` prints)."""
    return {m.id: [s.id for s in episode.shots if m.id in s.cast] for m in episode.cast}


def absolute_ref(ref: str, base: Path) -> str:
    """A local relative path → absolute under `base`; URLs, data URIs and absolute paths unchanged."""
    if ref.startswith(REMOTE):
        return ref
    p = Path(ref).expanduser()
    return str(p if p.is_absolute() else (base / p).resolve())
