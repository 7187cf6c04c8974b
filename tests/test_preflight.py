"""The preflight: before the first paid call, the providers' live contracts (served by the loopback fakes
from the dated snapshots) are compared with what the run will send. A retired model, a renamed field, a
narrowed enum and a price change are each caught before any submit, in one line naming model and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.elevenlabs_fake import ElevenLabsFake
from tests.fakes.fal_fake import FalFake
from tests.fakes.fixtures import eleven_fake, fal_fake, gemini_fake, media_files  # noqa: F401
from tests.fakes.gemini_fake import GeminiFake
from vidpipe.generate import generate_jobs
from vidpipe.providers import preflight
from vidpipe.schema import Job
from vidpipe.store import Store

T2V = "bytedance/seedance-2.0/text-to-video"
WAN = "fal-ai/wan/v2.7/image-to-video"


def kite(i: int = 0, **inp: object) -> Job:
    return Job(id=f"k{i}", model="seedance-2.0", input={"prompt": f"a red kite over dunes {i}", "duration": 4, **inp})


def drift_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(("fal", "gemini", "preflight"))]


def test_a_clean_run_reads_the_platform_once_a_day(fal_fake: FalFake, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    store = Store(tmp_path / "data" / "v.duckdb")
    [res] = generate_jobs([kite()], tmp_path / "out", store=store)
    assert res.status == "done", res.error
    assert [c for c in fal_fake.platform.calls if c[0] == "/v1/models"] == [("/v1/models", [T2V])]
    cache = json.loads((tmp_path / "data" / preflight.CACHE_FILE).read_text())
    assert cache["fal"][T2V]["listed"] and "seed" not in cache["fal"][T2V]["fields"]
    assert drift_lines(capsys.readouterr().err) == []
    generate_jobs([kite(1)], tmp_path / "out", store=store)  # same endpoint, same day: the cache answers
    assert len(fal_fake.platform.calls) == 2 and len(fal_fake.submits) == 2


def test_a_retired_endpoint_stops_the_run_before_any_submit(fal_fake: FalFake, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    fal_fake.platform.retire(T2V)
    results = generate_jobs([kite(0), kite(1)], tmp_path / "out")
    assert [r.status for r in results] == ["invalid", "invalid"]
    assert {r.error_code for r in results} == {"contract_drift"}
    assert fal_fake.attempts["submit"] == 0 and fal_fake.uploads == []
    lines = drift_lines(capsys.readouterr().err)
    assert len(lines) == 1 and f"fal no longer lists {T2V}" in lines[0]


def test_a_renamed_field_is_refused_in_one_line(fal_fake: FalFake, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    fal_fake.platform.rename(T2V, "aspect_ratio", "ratio")
    [res] = generate_jobs([kite()], tmp_path / "out")
    assert res.status == "invalid" and fal_fake.attempts["submit"] == 0
    [line] = drift_lines(capsys.readouterr().err)
    assert f"fal removed `aspect_ratio` from {T2V}" in line and "ratio — renamed?" in line
    assert res.error and "aspect_ratio" in res.error


def test_a_narrowed_enum_is_refused(fal_fake: FalFake, tmp_path: Path) -> None:
    fal_fake.platform.set_enum(T2V, "resolution", ["720p", "1080p"])
    [res] = generate_jobs([kite(resolution="480p")], tmp_path / "out")
    assert res.status == "invalid" and "resolution='480p'" in (res.error or "")
    assert fal_fake.attempts["submit"] == 0


def test_a_dropped_hint_is_not_sent(fal_fake: FalFake, tmp_path: Path, media_files: dict[str, Path],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """`seed` is only a hint: when fal drops it the job runs without it, said once."""
    fal_fake.platform.drop(WAN, "seed")
    job = Job(id="w", model="wan-2.7-i2v", input={"prompt": "she turns", "image": str(media_files["still"]),
                                                  "duration": 4, "seed": 11})
    [res] = generate_jobs([job], tmp_path / "out")
    assert res.status == "done", res.error
    assert "seed" not in fal_fake.submits[0]["body"] and fal_fake.submits[0]["body"]["enable_prompt_expansion"] is False
    [line] = drift_lines(capsys.readouterr().err)
    assert line.startswith(f"fal removed `seed` from {WAN} (live schema, ") and line.endswith("vidpipe will not send it")


def test_a_price_change_feeds_the_estimate_and_the_budget(fal_fake: FalFake, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    fal_fake.platform.set_price(T2V, 0.028)  # fal doubles Seedance's price per 1k tokens
    results = generate_jobs([kite(0), kite(1)], tmp_path / "out", budget_usd=2.0)
    # 4 s at 720p: $1.21 at the snapshot price (the first would fit $2.00), $2.43 at the live price (none fits)
    assert [r.status for r in results] == ["over_budget", "over_budget"]
    assert results[0].est_cost_usd == pytest.approx(2 * 0.3034 * 4, rel=1e-3)
    assert fal_fake.attempts["submit"] == 0
    [line] = drift_lines(capsys.readouterr().err)
    assert f"fal's price for {T2V} changed: $0.014/1k tokens" in line and "$0.028/1k tokens" in line


def test_a_billing_unit_change_refuses(fal_fake: FalFake, tmp_path: Path) -> None:
    fal_fake.platform.set_price(T2V, 0.30, unit="second")
    [res] = generate_jobs([kite()], tmp_path / "out")
    assert res.status == "invalid" and "per second (was per 1k tokens" in (res.error or "")
    assert fal_fake.attempts["submit"] == 0


def test_preview_and_resumed_jobs_skip_it(fal_fake: FalFake, tmp_path: Path) -> None:
    generate_jobs([kite()], tmp_path / "p", backend="preview")
    assert fal_fake.platform.calls == []
    store = Store(tmp_path / "data" / "v.duckdb")
    generate_jobs([kite()], tmp_path / "out", store=store)
    fal_fake.platform.retire(T2V)  # the job already has its request and clip: nothing to check, nothing refused
    (tmp_path / "data" / preflight.CACHE_FILE).unlink()
    [res] = generate_jobs([kite()], tmp_path / "out", store=store)
    assert res.status == "done" and len(fal_fake.submits) == 1


def test_unreachable_platform_falls_back_to_the_snapshot(fal_fake: FalFake, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VIDPIPE_FAL_API_URL", "http://127.0.0.1:9/v1")  # nothing listens on the discard port
    [res] = generate_jobs([kite()], tmp_path / "out")
    assert res.status == "done", res.error
    [line] = drift_lines(capsys.readouterr().err)
    assert line.startswith("preflight: cannot read fal's platform API at http://127.0.0.1:9/v1")


def test_a_changed_translator_field_is_caught_by_the_fake_and_the_preflight(
        fal_fake: FalFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Break one translator field (Seedance's `aspect_ratio` → `aspect`): the queue, checking the snapshot, says 422;
    a run stops it earlier, at the preflight."""
    from vidpipe.errors import ProviderRejected
    from vidpipe.providers import fal_models
    from vidpipe.providers.base import Ticket
    from vidpipe.providers.fal import FalBackend

    real = fal_models.seedance

    def broken(req: dict[str, object]) -> tuple[str, dict[str, object]]:
        endpoint, body = real(req)
        body["aspect"] = body.pop("aspect_ratio")
        return endpoint, body

    monkeypatch.setitem(fal_models.VIDEO_TRANSLATORS, "seedance-2.0", broken)
    endpoint, body = fal_models.translate("seedance-2.0", {"prompt": "a kite", "duration": 4})
    with pytest.raises(ProviderRejected) as info:
        FalBackend().submit(Ticket("t", "seedance-2.0", endpoint, body, tmp_path))
    assert info.value.code == "extra_forbidden" and fal_fake.refused[-1]["detail"][0]["loc"] == ["body", "aspect"]
    [res] = generate_jobs([kite()], tmp_path / "out")
    assert res.status == "invalid" and "fal removed `aspect` from" in (res.error or "")
    assert fal_fake.attempts["submit"] == 1  # only the direct submit above reached the queue


def test_a_retired_gemini_model_stops_the_run(gemini_fake: GeminiFake, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VIDPIPE_GEMINI_VEO_MODEL", "veo-3.1-generate-preview")  # the old default
    job = Job(id="v", model="veo-3.1", input={"prompt": "a kite at dusk", "duration": 4})
    [res] = generate_jobs([job], tmp_path / "out")
    assert res.status == "invalid" and gemini_fake.submits == [] and gemini_fake.list_calls == 1
    [line] = drift_lines(capsys.readouterr().err)
    assert "veo-3.1-generate-preview is not available (Google shut it down on 2026-10-22" in line
    assert "VIDPIPE_GEMINI_VEO_MODEL" in line


def test_voice_lookup(eleven_fake: ElevenLabsFake) -> None:
    assert preflight.voice_exists("voice123") and not preflight.voice_exists("no-such-voice")
    assert eleven_fake.lookups == ["voice123", "no-such-voice"]


def test_input_schema_reads_refs_and_any_of() -> None:
    doc = {"paths": {"/x": {"post": {"requestBody": {"content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/In"}}}}}}},
           "components": {"schemas": {"In": {"properties": {
               "size": {"anyOf": [{"$ref": "#/components/schemas/Size"}, {"type": "string", "enum": ["square"]}]},
               "mode": {"$ref": "#/components/schemas/Mode"}, "prompt": {"type": "string"}}, "required": ["prompt"]},
               "Size": {"type": "object"}, "Mode": {"type": "string", "enum": ["a", "b"]}}}}
    assert preflight.input_schema(doc) == ({"size": None, "mode": ["a", "b"], "prompt": None}, ["prompt"])


def test_the_platform_url_follows_the_queue_override(monkeypatch: pytest.MonkeyPatch) -> None:
    assert preflight.api_url() == "https://api.fal.ai/v1"
    monkeypatch.setenv("VIDPIPE_FAL_QUEUE_URL", "http://127.0.0.1:8123/")
    assert preflight.api_url() == "http://127.0.0.1:8123/v1"  # a loopback queue never sends the key to fal
    monkeypatch.setenv("VIDPIPE_FAL_API_URL", "https://proxy.example/fal/v1/")
    assert preflight.api_url() == "https://proxy.example/fal/v1"


def test_estimate_uses_the_live_price_the_preflight_read(project: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """`vidpipe estimate` (offline) applies the factor a fresh preflight cache holds, as the run's budget does."""
    import time

    from vidpipe.estimate import estimate_episode

    monkeypatch.setenv("FAL_KEY", "k")
    before = {s.shot: s for s in estimate_episode(project, "mini").shots}  # type: ignore[arg-type]
    assert before["s001"].backend == "fal" and before["s001"].usd_per_take > 0
    cache = preflight.Cache(fal={T2V: preflight.LiveEndpoint(listed=True, unit_price=0.021, unit="1k tokens",
                                                             checked_at=time.time())})
    preflight._save(project.db.parent, cache)  # type: ignore[attr-defined]  # noqa: SLF001
    after = {s.shot: s for s in estimate_episode(project, "mini").shots}  # type: ignore[arg-type]
    assert after["s001"].usd_per_take == pytest.approx(before["s001"].usd_per_take * 1.5, rel=1e-3)
    assert "live price (1.50x" in after["s001"].note
    stale = preflight.Cache(fal={T2V: cache.fal[T2V].model_copy(update={"checked_at": time.time() - 2 * 86400})})
    preflight._save(project.db.parent, stale)  # type: ignore[attr-defined]  # noqa: SLF001
    again = {s.shot: s for s in estimate_episode(project, "mini").shots}  # type: ignore[arg-type]
    assert again["s001"].usd_per_take == pytest.approx(before["s001"].usd_per_take)  # a day old: not trusted


def test_a_still_is_checked_before_its_paid_call(fal_fake: FalFake, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Stills are paid calls made before a shot's clip: the preflight runs there too (flux on fal)."""
    from vidpipe.errors import ProviderRejected
    from vidpipe.stills import make_still

    fal_fake.platform.drop("fal-ai/flux/schnell", "seed")
    res = make_still("a lighthouse", tmp_path / "a.png", seed=3)
    assert res.backend == "fal" and "seed" not in fal_fake.submits[-1]["body"]
    assert "fal removed `seed` from fal-ai/flux/schnell" in capsys.readouterr().err
    fal_fake.platform.retire("fal-ai/flux-pro/v1.1")
    with pytest.raises(ProviderRejected) as info:
        make_still("a lighthouse", tmp_path / "b.png", model="flux-pro")
    assert info.value.code == "contract_drift" and len(fal_fake.submits) == 1
    assert (tmp_path / "preflight" / preflight.CACHE_FILE).is_file()  # the fixture's root, not the checkout's


def test_a_retired_gemini_image_model_is_refused_before_the_still(gemini_fake: GeminiFake, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from vidpipe.errors import ProviderRejected
    from vidpipe.stills import make_still

    monkeypatch.setenv("VIDPIPE_GEMINI_IMAGE_MODEL", "gemini-2.5-flash-image")  # the old default
    with pytest.raises(ProviderRejected) as info:
        make_still("a lighthouse", tmp_path / "g.png", model="gemini-image")
    assert "Google shut it down on 2026-10-02; replacement gemini-3.1-flash-image" in str(info.value)
    assert gemini_fake.submits == []
