"""The user's personal profile ("a video of me"): avatar image and rules, voice id, model preferences.

`profile/profile.json` is personal and git-ignored; `profile/profile.example.json` is the
committed template. A missing profile is a setup step, not a crash: the error says what to copy
and what to fill in.
"""

from __future__ import annotations

from pathlib import Path

from vidpipe.refcheck import REMOTE
from vidpipe.errors import ProfileMissing
from vidpipe.paths import Paths
from vidpipe.schema import Profile, load_model, read_json


SETUP_HINT = (
    "copy profile/profile.example.json to profile/profile.json and fill in your avatar image "
    "(avatar.image), your ElevenLabs voice id (voice.elevenlabs_voice_id) and your model preferences"
)


def load_profile(path: str | Path | None = None) -> Profile:
    """Load the profile; a relative avatar image path is taken relative to the profile's folder.

    Args:
        path: the profile file (default: `profile/profile.json` under the project root).
    Returns:
        The Profile, with `avatar.image` made absolute when it is a local path.
    Raises:
        ProfileMissing: no profile file (the message says how to set one up).
        SpecError: the file is not valid JSON or not a valid profile (names file and field).
    """
    p = Path(path) if path is not None else Paths.from_env().profile
    if not p.is_file():
        raise ProfileMissing(f"no profile at {p}: {SETUP_HINT}")
    profile: Profile = load_model(Profile, read_json(p), path=str(p))
    image = profile.avatar.image
    if image and not image.startswith(REMOTE) and not Path(image).expanduser().is_absolute():
        profile.avatar.image = str((p.parent / image).resolve())
    return profile
