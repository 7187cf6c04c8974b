"""Validation rules: every contract code, wrong types by code, combinations, job-file parsing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.ref_files import populate
from vidpipe.errors import SpecError
from vidpipe.jobfile import load_jobs, parse_jobs
from vidpipe.schema import Finding, Job, RealPerson
from vidpipe.validate import validate_file, validate_request

# ~60 words, a named camera, a Sound sentence: no findings at all.
GOOD = (
    "A white stone lighthouse on a black basalt cliff, red lantern room, salt-streaked walls. Waves break "
    "against the rocks below as the lamp turns on. Camera: wide establishing shot, 24mm lens, slow push-in "
    "from the sea. Style: blue-hour light, teal and amber palette, Kodak Vision3 500T grain. Sound: wind over "
    "the cliff, waves on rock. Constraints: single continuous take; no text or subtitles."
)
# The same with room for citations of references.
CITING = GOOD + " The keeper from [Image1] and [Image2] walks as in [Video1] and speaks the line in [Audio1]."


@pytest.fixture(scope="session")
def _media_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("refmedia")


@pytest.fixture(autouse=True)
def _refs_exist(tmp_path: Path, _media_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The names the rules cite exist as real media in an allowed folder (the cwd)."""
    populate(tmp_path, _media_cache)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VIDPIPE_ALLOW_PATHS", str(tmp_path))


def codes(findings: list[Finding], severity: str | None = None) -> list[str]:
    return [f.code for f in findings if severity is None or f.severity == severity]


def body(**fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"prompt": GOOD}
    out.update(fields)
    return {k: v for k, v in out.items() if v is not ...}


def test_good_request_has_no_findings() -> None:
    assert validate_request(body(duration=5, resolution="720p", aspect_ratio="16:9", generate_audio=True, seed=7)) == []


ERROR_CASES = [
    pytest.param(body(durration=5), "unknown_field", id="unknown-field-typo"),
    pytest.param(body(negative_prompt="x"), "unknown_field", id="unknown-field-other-schema"),
    pytest.param(body(image=None), "unknown_field", id="null-image"),
    pytest.param(body(image=3), "unknown_field", id="non-string-image"),
    pytest.param(body(prompt=...), "prompt_required", id="prompt-missing"),
    pytest.param(body(prompt="   "), "prompt_required", id="prompt-blank"),
    pytest.param(body(prompt=None), "prompt_required", id="prompt-null"),
    pytest.param(body(prompt=["a", "list"]), "prompt_required", id="prompt-not-string"),
    pytest.param(body(image="a.png", reference_images=["b.png"]), "image_with_reference_images", id="image+refs"),
    pytest.param(body(image="a.png", last_frame_image="z.png", reference_images=["b.png"]),
                 "image_with_reference_images", id="frames+refs"),
    pytest.param(body(last_frame_image="z.png"), "last_frame_requires_image", id="last-frame-alone"),
    pytest.param(body(reference_audios=["v.mp3"]), "audio_refs_need_visual_ref", id="audio-only"),
    pytest.param(body(image="face.png", reference_audios=["v.mp3"]), "audio_refs_need_visual_ref",
                 id="audio+image-on-auto"),
    pytest.param(body(reference_images=[f"{i}.png" for i in range(10)]), "too_many_reference_images", id="10-images"),
    pytest.param(body(reference_images="a.png"), "too_many_reference_images", id="images-not-list"),
    pytest.param(body(reference_images=None), "too_many_reference_images", id="images-null"),
    pytest.param(body(reference_images=[1]), "too_many_reference_images", id="images-non-string-item"),
    pytest.param(body(reference_videos=["a", "b", "c", "d"]), "too_many_reference_videos", id="4-videos"),
    pytest.param(body(reference_videos={"a": 1}), "too_many_reference_videos", id="videos-object"),
    pytest.param(body(reference_images=["f.png"], reference_audios=["a", "b", "c", "d"]), "too_many_reference_audios",
                 id="4-audios"),
    pytest.param(body(duration="5"), "duration_invalid", id="duration-string"),
    pytest.param(body(duration=5.0), "duration_invalid", id="duration-float"),
    pytest.param(body(duration=True), "duration_invalid", id="duration-bool"),
    pytest.param(body(duration=None), "duration_invalid", id="duration-null"),
    pytest.param(body(duration=3), "duration_invalid", id="duration-3"),
    pytest.param(body(duration=16), "duration_invalid", id="duration-16"),
    pytest.param(body(duration=0), "duration_invalid", id="duration-0"),
    pytest.param(body(duration=-2), "duration_invalid", id="duration-minus-2"),
    pytest.param(body(resolution="4k"), "resolution_invalid", id="resolution-4k"),
    pytest.param(body(resolution=720), "resolution_invalid", id="resolution-int"),
    pytest.param(body(resolution=None), "resolution_invalid", id="resolution-null"),
    pytest.param(body(aspect_ratio="2:1"), "aspect_ratio_invalid", id="aspect-2:1"),
    pytest.param(body(aspect_ratio=None), "aspect_ratio_invalid", id="aspect-null"),
    pytest.param(body(seed=True), "seed_invalid", id="seed-bool"),
    pytest.param(body(seed="42"), "seed_invalid", id="seed-string"),
    pytest.param(body(seed=4.2), "seed_invalid", id="seed-float"),
    pytest.param(body(seed=2**40), "seed_invalid", id="seed-too-big"),
    pytest.param(body(generate_audio="yes"), "generate_audio_invalid", id="audio-string"),
    pytest.param(body(generate_audio=1), "generate_audio_invalid", id="audio-int"),
    pytest.param(body(generate_audio=None), "generate_audio_invalid", id="audio-null"),
    pytest.param(body(prompt=GOOD + " [Image3]", reference_images=["a.png", "b.png"]), "citation_out_of_range",
                 id="image3-of-two"),
    pytest.param(body(prompt=GOOD + " like [Video1]"), "citation_out_of_range", id="video1-of-none"),
    pytest.param(body(prompt=GOOD + " [Audio2]", reference_images=["f.png"], reference_audios=["a.mp3"]),
                 "citation_out_of_range", id="audio2-of-one"),
    pytest.param(body(prompt=GOOD + " [Image0]", reference_images=["a.png"]), "citation_out_of_range", id="image0"),
    pytest.param(body(prompt=GOOD + " [Image1]", image="a.png"), "citation_out_of_range", id="frame-not-citable"),
]


@pytest.mark.parametrize(("req", "code"), ERROR_CASES)
def test_error_codes(req: dict[str, Any], code: str) -> None:
    found = validate_request(req)
    assert code in codes(found, "error"), found


def test_audio_with_face_image_is_fine_on_a_talking_avatar_model() -> None:
    req = body(prompt=GOOD + ' He says: "the light is on tonight, friends."', image="face.png",
               reference_audios=["v.mp3"])
    assert "audio_refs_need_visual_ref" not in codes(validate_request(req, model="omnihuman-1.5"))


def test_boundaries_are_valid() -> None:
    for d in (-1, 4, 15):
        assert "duration_invalid" not in codes(validate_request(body(duration=d)))
    assert "seed_invalid" not in codes(validate_request(body(seed=0)))
    assert validate_request(body(seed=None)) == []  # null means unset
    assert validate_request(body(reference_images=[f"{i}.png" for i in range(9)],
                                 prompt=GOOD + " " + " ".join(f"[Image{i}]" for i in range(1, 10)))) == []


def test_non_object_request() -> None:
    assert codes(validate_request(["prompt"])) == ["prompt_required"]


UNSUPPORTED = [
    pytest.param("seedance-2.0", body(aspect_ratio="9:21"), id="9:21-on-fal-seedance"),
    pytest.param("kling-3.0-omni", body(reference_images=["f.png"], reference_audios=["a.mp3"]), id="kling-audio-refs"),
    pytest.param("kling-3.0-omni", body(aspect_ratio="4:3"), id="kling-t2v-4:3"),
    pytest.param("wan-2.7-i2v", body(), id="wan-without-image"),
    pytest.param("wan-2.7-i2v", body(reference_images=["a.png"], reference_videos=["m.mp4"]), id="wan-video-ref"),
    pytest.param("veed-fabric-1.0", body(image="face.png"), id="fabric-without-audio"),
    pytest.param("omnihuman-1.5", body(reference_images=["a.png", "b.png"], reference_audios=["v.mp3"]),
                 id="omnihuman-two-faces"),
    pytest.param("omnihuman-1.5", body(reference_videos=["m.mp4"], reference_audios=["v.mp3"]),
                 id="omnihuman-without-face"),
    pytest.param("veo-3.1", body(aspect_ratio="4:3"), id="veo-4:3"),
    pytest.param("veo-3.1", body(duration=5), id="veo-5s"),
    pytest.param("veo-3.1", body(reference_images=["f.png"], reference_audios=["a.mp3"]), id="veo-audio-refs"),
    pytest.param("sora-9", body(), id="unknown-model"),
]


@pytest.mark.parametrize(("model", "req"), UNSUPPORTED)
def test_unsupported_on_model(model: str, req: dict[str, Any]) -> None:
    assert "unsupported_on_model" in codes(validate_request(req, model=model))


@pytest.mark.parametrize(("model", "req"), [
    pytest.param("seedance-2.0", body(aspect_ratio="21:9"), id="seedance-21:9"),
    pytest.param("wan-2.7-i2v", body(image="a.png"), id="wan-with-image"),
    pytest.param("veo-3.1", body(duration=8, aspect_ratio="9:16"), id="veo-8s-9:16"),
    pytest.param("kling-3.0-omni", body(image="a.png", aspect_ratio="4:3"), id="kling-i2v-any-aspect"),
    pytest.param("omnihuman-1.5", body(image="a.png", reference_audios=["v.mp3"]), id="omnihuman-face+voice"),
])
def test_supported_on_model(model: str, req: dict[str, Any]) -> None:
    assert "unsupported_on_model" not in codes(validate_request(req, model=model))


def test_auto_never_reports_unsupported() -> None:
    assert "unsupported_on_model" not in codes(validate_request(body(aspect_ratio="9:21")))


REAL_PERSON = [
    pytest.param(Job(id="j", input={}, real_person=RealPerson(name="A. Person")), True, id="declared-without-basis"),
    pytest.param(Job(id="j", input={}, mode="real-person"), True, id="real-person-mode-undeclared"),
    pytest.param(Job(id="j", input={}, mode="real-person", real_person=RealPerson(basis="consenting")), False,
                 id="consenting"),
    pytest.param(Job(id="j", input={}, mode="real-person", me=True), False, id="me-implies-self"),
    pytest.param(Job(id="j", input={}, real_person=RealPerson(), me=True), False, id="me-without-basis"),
    pytest.param(Job(id="j", input={}), False, id="no-real-person"),
]


@pytest.mark.parametrize(("job", "error"), REAL_PERSON)
def test_real_person_policy(job: Job, error: bool) -> None:
    assert ("real_person_policy" in codes(validate_request(body(), job=job))) is error


WARNING_CASES = [
    pytest.param(body(duration=7), "duration_risky", id="risky-7"),
    pytest.param(body(duration=13), "duration_risky", id="risky-13"),
    pytest.param(body(duration=14), "duration_risky", id="risky-14"),
    pytest.param(body(reference_images=["a.png", "b.png"], prompt=GOOD + " [Image1]"), "reference_uncited",
                 id="image2-uncited"),
    pytest.param(body(prompt=GOOD.replace("Sound: wind over the cliff, waves on rock.", "Mood: still.")),
                 "audio_direction_missing", id="audio-on-no-sound"),
    pytest.param(body(reference_images=["f.png"], reference_audios=["v.mp3"],
                      prompt=GOOD + " The man in [Image1] follows [Audio1]."), "lipsync_line_missing",
                 id="audio-ref-no-line"),
    pytest.param(body(prompt="A red lighthouse at dusk. Sound: waves."), "word_count_low", id="short"),
    pytest.param(body(prompt=GOOD + " " + GOOD), "word_count_high", id="long-single-shot"),
    pytest.param(body(prompt="[00:00-00:04] " + GOOD + "\n[00:04-00:08] A gull lands. Sound: surf."),
                 "word_count_low", id="multi-shot-below-120"),
    pytest.param(body(prompt=GOOD + ' He says: "Go."'), "dialogue_line_length", id="line-1-word"),
    pytest.param(body(prompt=GOOD + ' He says: "one two three four five six seven eight nine ten eleven."'),
                 "dialogue_line_length", id="line-11-words"),
]


@pytest.mark.parametrize(("req", "code"), WARNING_CASES)
def test_warning_codes(req: dict[str, Any], code: str) -> None:
    found = validate_request(req)
    assert code in codes(found, "warning"), found
    assert not codes(found, "error"), found


def test_quiet_request_needs_no_audio_direction() -> None:
    req = body(prompt=GOOD.replace("Sound: wind over the cliff, waves on rock.", "Mood: still."), generate_audio=False)
    assert validate_request(req) == []


def test_lipsync_mode_without_line_warns() -> None:
    req = body(prompt=GOOD.replace("Sound: wind over the cliff, waves on rock.", "Sound: a low hum."))
    assert "lipsync_line_missing" in codes(validate_request(req, job=Job(id="j", input={}, mode="lip-sync")))


def test_dialogue_of_good_length_passes() -> None:
    assert validate_request(body(prompt=GOOD + ' He says: "Steer north of the light tonight."')) == []


def test_lesson_lint_is_called_and_merged(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_lint(request: dict[str, Any], *, category: str | None = None, lessons_path: Path | None = None,
                  model: str | None = None):
        seen.update(request=request, category=category, lessons_path=lessons_path)
        return [Finding(code="lesson:L7", message="avoid 'cinematic'", severity="warning")]

    monkeypatch.setattr("vidpipe.validate.lesson_lint", fake_lint)
    req = body()
    found = validate_request(req, job=Job(id="j", input=req, category="landscape"), lessons_path=Path("L.md"))
    assert codes(found) == ["lesson:L7"]
    assert seen == {"request": req, "category": "landscape", "lessons_path": Path("L.md")}


def test_errors_sort_before_warnings() -> None:
    found = validate_request(body(duration=7, seed="x"))
    assert [f.severity for f in found] == ["error", "warning"]


# -- reference media length (real files, measured with PyAV) ----------------------------------
@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from vidpipe.media.ffmpeg import run_ffmpeg

    d = tmp_path_factory.mktemp("refs")
    out = {}
    for name, secs in (("a8", 8), ("b8", 8), ("c3", 3)):
        p = d / f"{name}.wav"
        run_ffmpeg(["-y", "-f", "lavfi", "-i", f"sine=frequency=440:duration={secs}:sample_rate=8000", str(p)])
        out[name] = str(p)
    clip = d / "v16.mp4"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "testsrc2=size=64x64:rate=4:duration=16", "-pix_fmt", "yuv420p",
                "-c:v", "libx264", "-preset", "ultrafast", str(clip)])
    out["v16"] = str(clip)
    return out


@pytest.mark.parametrize(("field", "names", "too_long"), [
    pytest.param("reference_audios", ["a8", "b8"], True, id="two-8s-audios"),
    pytest.param("reference_audios", ["a8", "c3"], False, id="8s+3s-audios"),
    pytest.param("reference_videos", ["v16"], True, id="16s-video"),
])
def test_reference_media_too_long(media: dict[str, str], field: str, names: list[str], too_long: bool) -> None:
    refs = [media[n] for n in names]
    cites = " ".join(f"[{'Audio' if field == 'reference_audios' else 'Video'}{i}]" for i in range(1, len(refs) + 1))
    req = body(prompt=GOOD + ' The man in [Image1] says: "steer north of the light." ' + cites,
               reference_images=["https://x/face.png"], **{field: refs})
    found = validate_request(req)
    assert ("reference_media_too_long" in codes(found, "error")) is too_long, found


def test_remote_references_are_not_measured() -> None:
    urls = [f"https://cdn.example/{i}.mp3" for i in range(3)]
    req = body(reference_images=["https://x/f.png"], reference_audios=urls)
    assert "reference_media_too_long" not in codes(validate_request(req))


# -- job files ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("data", "labels"), [
    pytest.param({"id": "hero", "model": "auto", "input": {"prompt": "x"}}, ["hero"], id="one-job"),
    pytest.param([{"id": "a", "input": {"prompt": "x"}}, {"id": "b", "input": {"prompt": "y"}}], ["a", "b"],
                 id="array-of-jobs"),
    pytest.param({"prompt": "x", "duration": 5}, ["job1"], id="bare-body"),
    pytest.param([{"prompt": "x"}, {"input": {"prompt": "y"}}], ["job1", "job2"], id="array-without-ids"),
])
def test_parse_jobs_labels(data: Any, labels: list[str]) -> None:
    assert [j.id for j in parse_jobs(data, source="t.json")] == labels


@pytest.mark.parametrize("data", [
    pytest.param([], id="empty-array"),
    pytest.param(["just a string"], id="job-not-object"),
    pytest.param({"id": "a", "input": "prompt"}, id="input-not-object"),
    pytest.param({"id": "a", "modle": "x", "input": {}}, id="unknown-job-field"),
])
def test_parse_jobs_rejects_structure(data: Any) -> None:
    with pytest.raises(SpecError, match="t.json"):
        parse_jobs(data, source="t.json")


def test_invalid_basis_becomes_a_policy_error(tmp_path: Path) -> None:
    f = tmp_path / "j.json"
    f.write_text('{"id": "p", "real_person": {"name": "X", "basis": "friend"}, "input": {"prompt": "x"}}')
    (report,) = validate_file(f)
    assert "real_person_policy" in [e.code for e in report.errors]


def test_load_jobs_invalid_json_names_file_line_column(tmp_path: Path) -> None:
    f = tmp_path / "bad.json"
    f.write_text('[\n  {"prompt": "x",}\n]')
    with pytest.raises(SpecError) as exc:
        load_jobs(f)
    assert str(f) in str(exc.value) and "line 2" in str(exc.value) and "column" in str(exc.value)


def test_validate_file_reports_route_and_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    f = tmp_path / "jobs.json"
    f.write_text('[{"id": "i2v", "input": {"prompt": "x", "image": "a.png", "duration": 7}},'
                 ' {"id": "bad", "model": "seedance-2.0", "input": {"prompt": "x", "aspect_ratio": "9:21"}}]')
    first, second = validate_file(f)
    assert (first.label, first.route, first.errors) == ("i2v", "wan-2.7-i2v", [])
    assert "duration_risky" in [w.code for w in first.warnings]
    assert (second.route, [e.code for e in second.errors]) == ("seedance-2.0", ["unsupported_on_model"])


# -- model limits before spending (providers.md §0, §2): refused or reported, never a 400 after paying ----------
def _audio(path: Path, seconds: float) -> str:
    from vidpipe.media.ffmpeg import run_ffmpeg

    run_ffmpeg(["-y", "-f", "lavfi", "-i", f"sine=frequency=200:duration={seconds}", "-ar", "8000", str(path)],
               what="test audio")
    return str(path)


@pytest.mark.parametrize(("model", "req", "needle"), [
    pytest.param("veo-3.1", body(duration=6, resolution="1080p"), "1080p only at 8 s", id="veo-1080p-6s"),
    pytest.param("veo-3.1", body(duration=5), "billed as 6 s", id="veo-5s-would-bill-6"),
    pytest.param("veo-3.1", body(prompt=GOOD + " [Image1]", duration=6, reference_images=["a.png"]),
                 "reference images only at 8 s", id="veo-refs-6s"),
    pytest.param("veo-3.1", body(prompt=GOOD + " [Image1]", duration=8, aspect_ratio="9:16",
                                 reference_images=["a.png"]), "only at 16:9", id="veo-refs-9:16"),
    pytest.param("kling-3.0-omni", body(aspect_ratio="21:9"), "aspect_ratio 21:9", id="kling-aspect"),
    pytest.param("seedance-2.0", body(prompt=CITING, reference_images=[f"{i}.png" for i in range(9)],
                                      reference_videos=["a", "b"], reference_audios=["v.mp3", "w.mp3"]),
                 "12 reference files", id="seedance-13-files"),
])
def test_model_limits_are_refused_in_validate(model: str, req: dict[str, Any], needle: str) -> None:
    found = [f for f in validate_request(req, model=model) if f.code == "unsupported_on_model"]
    assert any(needle in f.message for f in found), found


@pytest.mark.parametrize(("model", "req"), [
    pytest.param("veo-3.1", body(duration=8, resolution="1080p"), id="veo-1080p-8s"),
    pytest.param("veo-3.1", body(prompt=GOOD + " [Image1]", duration=8, reference_images=["a.png"]),
                 id="veo-refs-8s-16:9"),
    pytest.param("veo-3.1", body(duration=4, resolution="720p"), id="veo-720p-4s"),
])
def test_model_limits_allow_what_the_model_takes(model: str, req: dict[str, Any]) -> None:
    assert "unsupported_on_model" not in codes(validate_request(req, model=model))


@pytest.mark.parametrize(("resolution", "seconds", "ok"), [
    ("1080p", 25, True), ("1080p", 35, False), ("720p", 35, True), ("720p", 65, False)])
def test_omnihuman_audio_length_per_resolution(tmp_path: Path, resolution: str, seconds: float, ok: bool) -> None:
    voice = _audio(tmp_path / f"voice{seconds}.wav", seconds)
    req = body(prompt=GOOD + ' She says: "the light is on tonight, friends."', image="face.png",
               reference_audios=[voice], resolution=resolution)
    found = validate_request(req, model="omnihuman-1.5")
    errors = [f.message for f in found if f.code == "unsupported_on_model"]
    assert (errors == []) is ok, errors
    assert "reference_media_too_long" not in codes(found)  # the avatar's own limit, not the canonical 15 s
    # the clip follows the audio: a reported adjustment, not a surprise on the bill
    (adj,) = [f for f in found if f.code == "model_adjustment"]
    assert adj.severity == "warning" and f"{seconds:.1f} s" in adj.message


def test_resolution_a_model_lacks_is_a_reported_adjustment() -> None:
    req = body(prompt=GOOD + ' She says: "the light is on tonight, friends."', image="face.png",
               reference_audios=["v.mp3"], resolution="1080p")
    found = validate_request(req, model="veed-fabric-1.0")
    assert any(f.code == "model_adjustment" and "1080p is made (and billed) as 720p" in f.message for f in found)


def test_seedance_reference_videos_need_two_seconds(tmp_path: Path) -> None:
    from vidpipe.media.ffmpeg import run_ffmpeg

    short = tmp_path / "short.mp4"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "testsrc2=size=64x36:rate=12:duration=1", "-pix_fmt", "yuv420p",
                str(short)], what="short clip")
    found = validate_request(body(prompt=CITING, reference_images=["a.png"], reference_videos=[str(short)]),
                             model="seedance-2.0")
    assert any("at least 2 s in total" in f.message for f in found if f.code == "unsupported_on_model")


def test_auto_routing_is_validated_against_the_model_it_lands_on(tmp_path: Path) -> None:
    f = tmp_path / "jobs.json"
    f.write_text('[{"id": "t", "input": {"prompt": "a red kite over dunes, sound: wind", "aspect_ratio": "9:21"}}]')
    (r,) = validate_file(f)
    assert r.route == "seedance-2.0" and "unsupported_on_model" in codes(r.errors)  # generate would refuse it too
