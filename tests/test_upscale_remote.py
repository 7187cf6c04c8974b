"""The remote ML upscaler behind `vidpipe upscale --remote`, via the real fal-client against the loopback fake."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.fal_fake import FalFake
from tests.fakes.fixtures import FAKE_FAL_KEY, fal_fake, media_files  # noqa: F401
from vidpipe.cli import main
from vidpipe.errors import ProviderNotConfigured
from vidpipe.media.probe import probe
from vidpipe.media.upscale import DEFAULT_REMOTE_ENDPOINT, upscale_remote


def test_remote_upscale_submits_and_downloads(fal_fake: FalFake, media_files: dict[str, Path], tmp_path: Path) -> None:
    out = upscale_remote(media_files["clip"], tmp_path / "up.mp4", scale=2)
    assert probe(out).has_video
    sub = fal_fake.submits[-1]
    assert sub["endpoint"] == DEFAULT_REMOTE_ENDPOINT and sub["body"]["upscale_factor"] == 2
    assert str(sub["body"]["video_url"]).startswith(f"{fal_fake.url}/media/up/")  # uploaded to fal storage
    assert FAKE_FAL_KEY not in out.read_bytes().decode("latin-1")


def test_remote_upscale_cli_with_a_configured_endpoint(fal_fake: FalFake, media_files: dict[str, Path],
                                                       tmp_path: Path) -> None:
    fal_fake.endpoints["fal-ai/other/upscaler"] = fal_fake.endpoints[DEFAULT_REMOTE_ENDPOINT]  # a same-schema model
    code = main(["upscale", str(media_files["clip"]), "--remote", "--endpoint", "fal-ai/other/upscaler",
                 "--scale", "4", "--out", str(tmp_path / "u.mp4")])
    assert code == 0 and fal_fake.submits[-1]["endpoint"] == "fal-ai/other/upscaler"
    assert fal_fake.submits[-1]["body"]["upscale_factor"] == 4


def test_remote_upscale_undecodable_result_saves_nothing(fal_fake: FalFake, media_files: dict[str, Path],
                                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vidpipe.errors import ProviderError

    fal_fake.media["clip.mp4"] = b"not a video at all" * 50
    with pytest.raises(ProviderError, match="undecodable"):
        upscale_remote(media_files["clip"], tmp_path / "bad.mp4")
    assert not (tmp_path / "bad.mp4").exists() and not (tmp_path / "bad.part.mp4").exists()


def test_remote_upscale_needs_fal_key(media_files: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ProviderNotConfigured, match="FAL_KEY"):
        upscale_remote(media_files["clip"], tmp_path / "x.mp4")
