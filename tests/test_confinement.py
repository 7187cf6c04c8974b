"""Confinement: ids are safe path parts, outputs stay under their root, references stay inside the allowed
folders, exist, and decode as what they claim — all refused before any request (the fal fake counts them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.fal_fake import FalFake
from tests.fakes.fixtures import fal_fake, media_files  # noqa: F401
from tests.ref_files import make_media
from vidpipe.cli import main
from vidpipe.episode import load_episode
from vidpipe.errors import SpecError
from vidpipe.generate import generate_jobs
from vidpipe.jobfile import load_jobs
from vidpipe.paths import Paths, confine
from vidpipe.refcheck import RefPolicy
from vidpipe.schema import CanonicalRequest, Job
from vidpipe.validate import validate_file, validate_request

REPO = Path(__file__).resolve().parents[1]
PROMPT = "A red kite climbs over grey dunes. Camera: low angle, slow tilt up. Sound: wind. [Image1] is the kite."


@pytest.fixture(autouse=True)
def _no_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIDPIPE_ALLOW_PATHS", raising=False)  # pytest's temp folders are outside every root here


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_media(tmp_path_factory.mktemp("confine_media"))


def codes(findings: list[Any]) -> list[str]:
    return [f.code for f in findings if f.severity == "error"]


# -- ids -----------------------------------------------------------------------------------------
BAD_IDS = ["../../x", "a/b", "", "x|y", ".", "..", "/abs", "a b", "-lead", "x" * 65, "a\\b"]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_bad_shot_id_is_an_error_naming_file_and_field(project: Paths, bad: str) -> None:
    ep = project.episode_dir("mini") / "episode.yaml"
    ep.write_text(ep.read_text().replace("id: s002", f"id: {json.dumps(bad)}"))
    with pytest.raises(SpecError) as err:
        load_episode(project.episode_dir("mini"))
    msg = str(err.value)
    assert str(ep) in msg and "shots.1.id" in msg and ("not a safe id" in msg or "must be a string" in msg)
    assert "\n" not in msg


@pytest.mark.parametrize("good", ["s9", "A.b_c-9", "x" * 64, "0"])
def test_safe_ids_load(project: Paths, good: str) -> None:
    ep = project.episode_dir("mini") / "episode.yaml"
    ep.write_text(ep.read_text().replace("id: s002", f"id: {json.dumps(good)}"))
    assert load_episode(project.episode_dir("mini")).shots[1].id == good


def test_episode_id_in_the_spec_is_checked(project: Paths) -> None:
    ep = project.episode_dir("mini") / "episode.yaml"
    ep.write_text('id: "../../x"\n' + ep.read_text())
    with pytest.raises(SpecError, match=r"id: .*id '\.\./\.\./x' is not a safe id"):
        load_episode(project.episode_dir("mini"))


@pytest.mark.parametrize("bad", ["../x", "/tmp/abs", "", "a|b"])
def test_bad_job_id_is_refused_by_validate_and_generate(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         bad: str) -> None:
    f = tmp_path / "jobs.json"
    f.write_text(json.dumps([{"id": bad, "input": {"prompt": PROMPT}}]))
    for argv in (["validate", str(f)], ["generate", str(f), "--out", str(tmp_path / "out"), "--backend", "preview"]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and str(f) in err[0] and "id" in err[0]
    assert not (tmp_path / "x.mp4").exists() and not (tmp_path / "out").exists()


def test_job_id_built_from_episode_and_shot_fits() -> None:
    assert Job(id=f"{'e' * 64}-{'s' * 64}", input={}).id.startswith("e")
    with pytest.raises(ValueError):
        Job(id="x" * 130, input={})


# -- output paths --------------------------------------------------------------------------------
def test_paths_refuse_escaping_ids(tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    for bad in ("../../outside", "/etc", "a/../../b"):
        with pytest.raises(SpecError, match="not a safe id"):
            paths.episode_dir(bad)
        with pytest.raises(SpecError, match="not a safe id"):
            paths.shot_media("ep", bad)
    assert paths.shot_media("ep", "s1") == (tmp_path / "data/media/ep/shots/s1").resolve()
    with pytest.raises(SpecError, match="outside"):
        confine(tmp_path, "..", "x")


def test_render_outside_the_episodes_folder_is_refused(project: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    before = sorted(p.name for p in project.root.parent.iterdir())
    assert main(["render", "../../outside", "--backend", "preview"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "episode id '../../outside' is not a safe id" in err[0]
    assert sorted(p.name for p in project.root.parent.iterdir()) == before
    assert not (project.data / "media").exists()


# -- references ----------------------------------------------------------------------------------
def test_reference_outside_the_roots_is_an_error_naming_shot_and_field(project: Paths) -> None:
    job = Job(id="mini-s1", episode="mini", shot="s1", input={"prompt": PROMPT, "reference_images": ["/etc/passwd"]})
    found = validate_request(job.input, job=job, refs=RefPolicy.for_project(project, project.episode_dir("mini")))
    (err,) = [f for f in found if f.code == "reference_outside_roots"]
    assert "shot mini/s1 reference_images[0]" in err.message and "VIDPIPE_ALLOW_PATHS" in err.message


def test_allow_list_admits_a_folder_but_the_kind_is_still_probed(project: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDPIPE_ALLOW_PATHS", "/etc")
    found = validate_request({"prompt": PROMPT, "reference_images": ["/etc/passwd"]},
                             refs=RefPolicy.for_project(project))
    assert codes(found) == ["reference_wrong_kind"]


@pytest.mark.parametrize(("field", "kind", "ok"), [
    ("reference_images", "image", True), ("reference_images", "audio", False), ("reference_images", "video", False),
    ("reference_videos", "video", True), ("reference_videos", "image", False), ("reference_videos", "audio", False),
    ("reference_audios", "audio", True), ("reference_audios", "video", True), ("reference_audios", "image", False),
    ("image", "image", True), ("image", "video", False),
])
def test_reference_kind_is_probed(project: Paths, media: dict[str, Path], field: str, kind: str, ok: bool) -> None:
    dst = project.data / "refs" / f"file.{'png' if field in ('image', 'reference_images') else 'mp4'}"
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(media[kind].read_bytes())  # the name lies: only the content decides
    body: dict[str, Any] = {"prompt": PROMPT, field: str(dst) if field == "image" else [str(dst)]}
    found = validate_request(body, refs=RefPolicy.for_project(project))
    assert ("reference_wrong_kind" in codes(found)) is not ok


def test_missing_reference_is_an_error_not_a_warning(project: Paths) -> None:
    found = validate_request({"prompt": PROMPT, "reference_images": ["data/nope.png"]},
                             refs=RefPolicy.for_project(project, base=project.root))
    (err,) = [f for f in found if f.code == "reference_not_found"]
    assert err.severity == "error" and "reference_images[0]" in err.message and "nope.png" in err.message


def test_symlink_out_of_the_roots_is_refused(project: Paths) -> None:
    link = project.data / "innocent.png"
    link.symlink_to("/etc/passwd")
    found = validate_request({"prompt": PROMPT, "reference_images": [str(link)]}, refs=RefPolicy.for_project(project))
    assert codes(found) == ["reference_outside_roots"]


def test_job_file_refs_resolve_in_the_job_files_folder(tmp_path: Path, media: dict[str, Path],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Relative references mean the same from any working directory: they resolve against the job file."""
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "kite.png").write_bytes(media["image"].read_bytes())
    (tmp_path / "elsewhere.png").write_bytes(media["image"].read_bytes())
    f = tmp_path / "jobs" / "jobs.json"
    f.write_text(json.dumps([{"id": "in", "input": {"prompt": PROMPT, "reference_images": ["kite.png"]}},
                             {"id": "out", "input": {"prompt": PROMPT, "reference_images": ["../elsewhere.png"]}}]))
    for cwd in (tmp_path, tmp_path / "jobs", Path("/")):
        monkeypatch.chdir(cwd)
        inside, outside = validate_file(f)
        assert codes(inside.errors) == [] and codes(outside.errors) == ["reference_outside_roots"], cwd
    proc = subprocess.run([sys.executable, "-m", "vidpipe", "validate", str(f), "--json"], capture_output=True,
                          text=True, cwd="/", env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
    rows = json.loads(proc.stdout)
    assert [codes_of(r["errors"]) for r in rows] == [[], ["reference_outside_roots"]]


def codes_of(errors: list[dict[str, Any]]) -> list[str]:
    return [e["code"] for e in errors]


def test_bad_references_are_never_sent(fal_fake: FalFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    jobs = [Job(id="passwd", model="seedance-2.0", input={"prompt": PROMPT, "reference_images": ["/etc/passwd"]}),
            Job(id="missing", model="seedance-2.0",
                input={"prompt": PROMPT, "reference_images": [str(tmp_path / "data" / "gone.png")]})]
    results = generate_jobs(jobs, tmp_path / "out")
    assert [r.status for r in results] == ["invalid", "invalid"]
    assert [r.error_code for r in results] == ["reference_outside_roots", "reference_not_found"]
    assert fal_fake.submits == []


# -- CLI usage errors ------------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [["validate", "a.json", "b.json"], ["validate", "--bogus", "a.json"],
                                  ["render"], ["no-such-command"], ["route", "x.json", "--explain", "extra"]])
def test_usage_errors_are_one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    cap = capsys.readouterr()
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and "error" in lines[0] and "Traceback" not in cap.err and cap.out == ""


def test_usage_error_through_a_real_process(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "vidpipe", "validate", "a", "b"], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "unexpected extra argument" in proc.stderr


def test_seed_null_means_unset(tmp_path: Path) -> None:
    f = tmp_path / "j.json"
    f.write_text(json.dumps({"id": "s", "input": {"prompt": PROMPT.replace(" [Image1] is the kite.", ""),
                                                  "seed": None}}))
    (job,) = load_jobs(f)
    assert "seed_invalid" not in [x.code for x in validate_request(job.input, job=job)]
    assert "seed" not in CanonicalRequest.model_validate(job.input).body()  # nothing sent for an unset seed


def test_generate_admits_what_validate_admits(tmp_path: Path, media: dict[str, Path],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "kite.png").write_bytes(media["image"].read_bytes())
    (tmp_path / "elsewhere.png").write_bytes(media["image"].read_bytes())
    inp = {"prompt": PROMPT.replace(" [Image1] is the kite.", ""), "duration": 4, "resolution": "480p"}
    f = tmp_path / "jobs" / "jobs.json"
    f.write_text(json.dumps([{"id": "in", "input": {**inp, "image": "kite.png"}},
                             {"id": "out", "input": {**inp, "image": "../elsewhere.png"}}]))
    assert main(["generate", str(f), "--out", str(tmp_path / "o"), "--backend", "preview"]) == 1
    assert (tmp_path / "o" / "in.mp4").exists() and not (tmp_path / "o" / "out.mp4").exists()
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert [r["error_code"] for r in manifest["results"]] == [None, "reference_outside_roots"]


def test_an_unsafe_episode_folder_is_reported_not_fatal(project: Paths) -> None:
    from vidpipe.episode import list_episodes
    from vidpipe.pipeline.episode_stages import pending_episodes
    from vidpipe.pipeline.status import scan_all

    for name in ("-dash", "with space"):
        bad = project.episodes / name
        bad.mkdir()
        (bad / "episode.yaml").write_text((project.episode_dir("mini") / "episode.yaml").read_text())
    assert list_episodes(project.episodes) == ["mini"]
    assert pending_episodes(project) == ["mini"]  # the weekly schedule does not crash on them
    errors = {c.episode: c.error for c in scan_all(project) if c.error}
    assert set(errors) == {"-dash", "with space"} and all("not a safe id" in e for e in errors.values())
