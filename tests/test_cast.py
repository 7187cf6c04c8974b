"""Cast: descriptions in the Subject, re-anchored per block, references cited in order, limits, basis, plates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidpipe.cast import appearances
from vidpipe.cli import main
from vidpipe.episode import load_episode
from vidpipe.errors import SpecError
from vidpipe.media.ffmpeg import run_ffmpeg
from vidpipe.paths import Paths
from vidpipe.pipeline.cast_stages import make_cast_plates
from vidpipe.shots import shot_to_job
from vidpipe.validate import check_job

CAST = """\
cast:
  - id: keeper
    name: the keeper
    description: a grey-bearded man, yellow oilskin coat, navy cap
    plate: a lighthouse keeper standing in a doorway
  - id: mara
    name: Mara
    description: a young radio operator, red scarf, round glasses
    images: [mara_front.png, mara_side.png]
    real_person: {basis: consenting}
  - id: tower
    name: the tower
    kind: place
    description: white stone, red lantern room
    plate: a white lighthouse tower seen from the sea
"""


@pytest.fixture
def cast_project(project: Paths) -> Paths:
    folder = project.episode_dir("mini")
    for name in ("mara_front.png", "mara_side.png"):
        run_ffmpeg(["-y", "-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", str(folder / name)],
                   what="test image")
    spec = (folder / "episode.yaml").read_text().replace("shots:\n", CAST + "shots:\n", 1)
    spec = spec.replace("  - id: s003\n", "  - id: s003\n    cast: [keeper, mara]\n", 1)
    spec = spec.replace("  - id: s001\n", "  - id: s001\n    cast: [tower]\n", 1)
    (folder / "episode.yaml").write_text(spec)
    return project


def test_cast_expands_into_subject_blocks_and_cited_refs(cast_project: Paths) -> None:
    ep = load_episode(cast_project.episode_dir("mini"), paths=cast_project)
    job = shot_to_job(ep, ep.shot("s003"), paths=cast_project)
    prompt, refs = job.input["prompt"], job.input["reference_images"]
    media = cast_project.episode_media("mini")
    assert refs == [str(media / "cast" / "keeper.png"), str(cast_project.episode_dir("mini") / "mara_front.png"),
                    str(cast_project.episode_dir("mini") / "mara_side.png")]
    first = prompt.splitlines()[0]
    assert "the keeper [Image1]: a grey-bearded man, yellow oilskin coat, navy cap" in first
    assert "Mara [Image2][Image3]: a young radio operator, red scarf, round glasses" in first
    blocks = [ln for ln in prompt.splitlines() if ln.startswith("[00:")]
    assert len(blocks) == 2 and all("the keeper [Image1]" in b and "Mara [Image2][Image3]" in b for b in blocks)
    assert job.real_person is not None and job.real_person.basis == "consenting"  # inherited from Mara
    _, findings = check_job(job, store=None, profile=None, lessons_path=None)
    assert not [f for f in findings if f.code in ("citation_out_of_range", "reference_uncited")]
    assert appearances(ep) == {"keeper": ["s003"], "mara": ["s003"], "tower": ["s001"]}


def test_cast_errors_name_the_shot(cast_project: Paths) -> None:
    spec = cast_project.episode_dir("mini") / "episode.yaml"
    text = spec.read_text()
    spec.write_text(text.replace("cast: [keeper, mara]", "cast: [keeper, nobody]"))
    with pytest.raises(SpecError, match=r"shots\.2\.cast \(s003\): unknown cast member\(s\) nobody"):
        load_episode(spec.parent, paths=cast_project)
    many = text.replace("images: [mara_front.png, mara_side.png]", "images: [" + ", ".join(
        ["mara_front.png"] * 9) + "]")
    spec.write_text(many)
    with pytest.raises(SpecError, match=r"\(s003\): 10 reference images .* at most 9"):
        load_episode(spec.parent, paths=cast_project)
    spec.write_text(text.replace("images: [mara_front.png, mara_side.png]", "images: [/etc/passwd]"))
    with pytest.raises(SpecError, match=r"cast\.1\.images \(mara\)"):
        load_episode(spec.parent, paths=cast_project)


def test_plates_are_made_once_and_cached(cast_project: Paths) -> None:
    first = make_cast_plates(cast_project, "mini", backend="preview")
    assert sorted(p.member for p in first) == ["keeper", "tower"]  # Mara has her own images
    assert all(p.path.is_file() and not p.cache_hit for p in first)
    again = make_cast_plates(cast_project, "mini", backend="preview")
    assert all(p.cache_hit for p in again)
    mtimes = {p.member: p.path.stat().st_mtime_ns for p in first}
    assert {p.member: p.path.stat().st_mtime_ns for p in again} == mtimes


def test_cast_cli(cast_project: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cast", "mini", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["shots"]) for r in rows] == [("keeper", ["s003"]), ("mara", ["s003"]), ("tower", ["s001"])]
    assert rows[1]["real_person"] == "consenting" and "not made yet" in rows[0]["look"]
    assert main(["cast", "mini"]) == 0
    assert "in: s003" in capsys.readouterr().out


def test_cast_plate_asset_materializes_and_caches(cast_project: Paths) -> None:
    import dagster as dg

    from assets import cast_plate
    from assets.partitions import episodes
    from resources import build_resources

    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(episodes.name, ["mini"])
        first = dg.materialize([cast_plate], partition_key="mini", instance=instance, resources=build_resources())
        assert first.success
        meta = first.asset_materializations_for_node("cast_plate")[0].metadata
        assert meta["plates"].value == 2 and "plate_keeper" in meta and "plate_tower" in meta
        plate = cast_project.episode_media("mini") / "cast" / "keeper.png"
        made = plate.stat().st_mtime_ns
        again = dg.materialize([cast_plate], partition_key="mini", instance=instance, resources=build_resources())
        assert again.success and plate.stat().st_mtime_ns == made  # cached: made once
