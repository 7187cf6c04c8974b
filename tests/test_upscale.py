"""Finishing on real ffmpeg (aspect kept, interpolation keeps the duration, audio copied), and the
remote ML upscaler through the real fal-client against the loopback fake (providers.md §1.8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.fal_fake import FalFake
from tests.fakes.fixtures import FAKE_FAL_KEY, fal_fake, media_files  # noqa: F401
from tests.media_factory import Seg, make_clip
from vidpipe.cli import main
from vidpipe.errors import ProviderError, ProviderNotConfigured, SpecError
from vidpipe.media.probe import probe
from vidpipe.media.upscale import DEFAULT_REMOTE_ENDPOINT, target_size, upscale


@pytest.fixture(scope="module")
def src(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("up")
    return {"wide": make_clip(d / "wide.mp4", [Seg("moving", 1.0)]),
            "tall": make_clip(d / "tall.mp4", [Seg("moving", 1.0, shot=2)], width=180, height=320, audio=None)}


@pytest.mark.parametrize(("size", "resolution", "scale", "expected"), [
    ((320, 180), "1080p", None, (1920, 1080)),
    ((180, 320), "720p", None, (720, 1280)),
    ((1280, 720), "4k", None, (3840, 2160)),
    ((1280, 720), "1440p", None, (2560, 1440)),
    ((320, 180), None, 2.5, (800, 450)),
    ((320, 180), None, None, (1920, 1080)),  # default: 1080p
])
def test_target_size_keeps_aspect(size: tuple[int, int], resolution: str | None, scale: float | None,
                                  expected: tuple[int, int]) -> None:
    assert target_size(*size, resolution=resolution, scale=scale) == expected


def test_resolution_and_scale_keep_aspect_and_copy_audio(tmp_path: Path, src: dict[str, Path]) -> None:
    seen: list[float] = []
    p = probe(upscale(src["tall"], tmp_path / "t.mp4", resolution="720p", progress=seen.append))
    assert (p.width, p.height) == (720, 1280) and not p.has_audio and seen[-1] == 1.0
    p = probe(upscale(src["wide"], tmp_path / "w.mp4", scale=2))
    assert (p.width, p.height) == (640, 360) and p.has_audio and p.audio_codec == "aac"
    assert abs(p.duration_s - probe(src["wide"]).duration_s) <= 0.05


def test_fps_interpolates_and_keeps_the_duration(tmp_path: Path, src: dict[str, Path]) -> None:
    out = upscale(src["wide"], None, scale=1, fps=48)
    assert out == src["wide"].with_name("wide_180p_48fps.mp4")
    p = probe(out)
    assert p.fps == 48 and abs(p.duration_s - 1.0) <= 1 / 24
    import av

    with av.open(str(out)) as c:
        assert sum(1 for _ in c.decode(video=0)) in (47, 48, 49)
    out.unlink()


def test_bad_arguments_are_spec_errors(tmp_path: Path, src: dict[str, Path]) -> None:
    with pytest.raises(SpecError, match="not both"):
        upscale(src["wide"], tmp_path / "x.mp4", resolution="1080p", scale=2)
    with pytest.raises(SpecError, match="unknown resolution '8k'"):
        upscale(src["wide"], tmp_path / "x.mp4", resolution="8k")
    with pytest.raises(SpecError, match="file not found"):
        upscale(tmp_path / "nope.mp4")
    assert main(["upscale", str(src["wide"]), "--resolution", "1080p", "--scale", "2"]) == 2
    assert not (tmp_path / "x.mp4").exists()


def test_cli_upscale(tmp_path: Path, src: dict[str, Path]) -> None:
    assert main(["upscale", str(src["wide"]), "--resolution", "720p", "--out", str(tmp_path / "u.mp4"), "-q"]) == 0
    assert (probe(tmp_path / "u.mp4").width, probe(tmp_path / "u.mp4").height) == (1280, 720)


# -- remote ML upscaler on fal -------------------------------------------------------------------

def test_remote_upscale_submits_and_downloads(fal_fake: FalFake, media_files: dict[str, Path], tmp_path: Path) -> None:
    out = upscale(media_files["clip"], tmp_path / "up.mp4", scale=2, backend="fal")
    assert probe(out).has_video
    sub = fal_fake.submits[-1]
    assert sub["endpoint"] == DEFAULT_REMOTE_ENDPOINT
    assert sub["body"]["upscale_factor"] == 2 and sub["body"]["upscale_mode"] == "factor"
    assert str(sub["body"]["video_url"]).startswith(f"{fal_fake.url}/media/up/")  # uploaded to fal storage, never inline
    assert fal_fake.auth_seen == {FAKE_FAL_KEY}


def test_remote_upscale_cli_with_a_configured_endpoint(fal_fake: FalFake, media_files: dict[str, Path],
                                                       tmp_path: Path) -> None:
    fal_fake.endpoints["fal-ai/other/upscaler"] = fal_fake.endpoints[DEFAULT_REMOTE_ENDPOINT]  # a same-schema model
    code = main(["upscale", str(media_files["clip"]), "--remote", "fal-ai/other/upscaler", "--scale", "4",
                 "--out", str(tmp_path / "u.mp4")])
    assert code == 0 and (tmp_path / "u.mp4").exists()
    assert fal_fake.submits[-1]["endpoint"] == "fal-ai/other/upscaler"
    assert fal_fake.submits[-1]["body"]["upscale_factor"] == 4
    assert main(["upscale", str(media_files["clip"]), "--remote", "default", "--fps", "48"]) == 2  # local-only option


def test_remote_upscale_undecodable_result_saves_nothing(fal_fake: FalFake, media_files: dict[str, Path],
                                                         tmp_path: Path) -> None:
    fal_fake.media["clip.mp4"] = b"not a video at all" * 50
    with pytest.raises(ProviderError, match="undecodable"):
        upscale(media_files["clip"], tmp_path / "bad.mp4", backend="fal")
    assert list(tmp_path.glob("*bad*")) == []


def test_remote_upscale_needs_fal_key(media_files: dict[str, Path], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("FAL_KEY", raising=False)
    with pytest.raises(ProviderNotConfigured, match="FAL_KEY"):
        upscale(media_files["clip"], tmp_path / "x.mp4", backend="fal")
    assert main(["upscale", str(media_files["clip"]), "--remote", "default"]) == 1
    assert "FAL_KEY" in capsys.readouterr().err and not (tmp_path / "x.mp4").exists()
