"""Where things live. One place decides the data root so the CLI, API and Dagster agree.

`VIDPIPE_ROOT` (default: the current directory) holds `data/episodes/` (input), `data/media/`
(everything generated), `data/vidpipe.duckdb`, `LESSONS.md` and `profile/`.

Ids from spec files become folder names here, so every id is checked against the safe-id pattern
and every joined path is resolved and must stay under its root (a `../x` id is refused, not
followed). Local references may only come from the roots `reference_roots` names, plus the
folders listed in `VIDPIPE_ALLOW_PATHS` (os.pathsep-separated).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from vidpipe.errors import SpecError
from vidpipe.ids import check_id

ALLOW_ENV = "VIDPIPE_ALLOW_PATHS"


def safe_id(value: str, what: str = "id") -> str:
    """`value` when it is a safe id (schema.SAFE_ID_PATTERN), else a one-line SpecError."""
    try:
        return check_id(value, what)
    except ValueError as exc:
        raise SpecError(str(exc)) from None


def within(path: str | Path, root: str | Path) -> bool:
    """Does `path` (symlinks followed) lie at or under `root`?"""
    return Path(path).resolve().is_relative_to(Path(root).resolve())


def confine(root: str | Path, *parts: str, what: str = "path") -> Path:
    """`root/parts` resolved; a SpecError when the result escapes `root` (why: parts come from spec files)."""
    base = Path(root).resolve()
    target = base.joinpath(*parts).resolve()
    if not target.is_relative_to(base):
        raise SpecError(f"{what} {'/'.join(parts)!r} resolves to {target}, outside {base}")
    return target


def _begin_from(seed: Path, live: Path) -> None:
    """Copy `seed` to `live` unless `live` exists; os.link refuses to replace, so two processes
    starting at once cannot overwrite a lesson the first one has already appended."""
    if not seed.is_file():
        return
    try:
        live.parent.mkdir(parents=True, exist_ok=True)
        tmp = live.with_name(f".{live.name}.{os.getpid()}.tmp")
        tmp.write_bytes(seed.read_bytes())
        try:
            os.link(tmp, live)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only data root: readers see no lessons rather than failing


def allow_list() -> tuple[Path, ...]:
    """Extra folders references may come from (`VIDPIPE_ALLOW_PATHS`, os.pathsep-separated)."""
    raw = os.environ.get(ALLOW_ENV) or ""
    return tuple(Path(p).expanduser().resolve() for p in raw.split(os.pathsep) if p.strip())


@dataclass(frozen=True)
class Paths:
    root: Path

    @classmethod
    def from_env(cls, root: str | Path | None = None) -> Paths:
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
        """The live memory, `data/LESSONS.md`: project data like the database, never tracked by git. The
        project's `LESSONS.md` is the starting memory it is begun from (once; scoring never rewrites it)."""
        override = os.environ.get("VIDPIPE_LESSONS")
        if override:
            return Path(override)
        live = self.data / "LESSONS.md"
        if not live.exists():
            _begin_from(self.root / "LESSONS.md", live)
        return live

    @property
    def profile(self) -> Path:
        return self.root / "profile" / "profile.json"

    def episode_dir(self, episode: str) -> Path:
        return confine(self.episodes, safe_id(episode, "episode id"), what="episode folder")

    def episode_media(self, episode: str) -> Path:
        return confine(self.media, safe_id(episode, "episode id"), what="episode media folder")

    def shot_media(self, episode: str, shot: str) -> Path:
        return confine(self.media, safe_id(episode, "episode id"), "shots", safe_id(shot, "shot id"),
                       what="shot media folder")

    def reference_roots(self, *extra: str | Path) -> tuple[Path, ...]:
        """Folders local references may resolve into: `extra` (the episode or job-file folder), the data
        root, the episode and media roots (when moved by env), the profile folder and the allow-list."""
        roots = [Path(p) for p in extra] + [self.data, self.episodes, self.media, self.profile.parent]
        out: list[Path] = []
        for r in [*(p.resolve() for p in roots), *allow_list()]:
            if r not in out:
                out.append(r)
        return tuple(out)
