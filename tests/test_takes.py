"""Takes through the real pipeline stages on the preview backend: N generations, QC'd, one chosen, overridable."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidpipe.cli import main
from vidpipe.errors import SpecError
from vidpipe.paths import Paths
from vidpipe.pipeline.record import ShotRef
from vidpipe.pipeline.shot_stages import prepare_request, render_clip, render_still, use_take
from vidpipe.pipeline.cache import file_hash
from vidpipe.pipeline.record import GenerationRecord, TakeRecord
from vidpipe.pipeline.takes import choose, rank, take_jobs
from vidpipe.schema import Job
from vidpipe.store import Store


def _take(k: int, *, blocking: list[str] | None = None, overall: int | None = None, defects: int = 0) -> TakeRecord:
    gen = GenerationRecord(model="seedance-2.0", take=k)
    return TakeRecord(take=k, generation=gen, review_dir="r", blocking=blocking or [],
                      defects=[f"d{i}" for i in range(defects)], overall=overall)


def test_rule_blocking_first_then_score_then_defects_then_order() -> None:
    assert choose([_take(1, blocking=["black_frames"], overall=5), _take(2, overall=2)]).take == 2
    assert choose([_take(1, overall=3), _take(2, overall=4)]).take == 2
    assert choose([_take(1), _take(2, overall=1)]).take == 2  # a judged take beats an unjudged one
    assert choose([_take(1, defects=2), _take(2, defects=1)]).take == 2
    assert choose([_take(1), _take(2)]).take == 1
    assert choose([_take(1), _take(2, blocking=["x"])], override=2).take == 2  # a person wins
    assert sorted([_take(2), _take(1, blocking=["x"])], key=rank)[0].take == 2


def test_take_jobs_have_distinct_stable_seeds() -> None:
    job = Job(id="ep-s1", input={"prompt": "a lighthouse at dusk, slow push-in"})
    jobs = take_jobs(job, 3)
    assert [j.id for j in jobs] == ["ep-s1", "ep-s1-t2", "ep-s1-t3"]
    assert "seed" not in jobs[0].input  # one-take shots are unchanged
    seeds = [j.input["seed"] for j in jobs[1:]]
    assert len(set(seeds)) == 2 and seeds == [j.input["seed"] for j in take_jobs(job, 3)[1:]]
    seeded = take_jobs(Job(id="x", input={"prompt": "p", "seed": 10}), 3)
    assert [j.input.get("seed") for j in seeded] == [10, 11, 12]


@pytest.fixture
def two_takes(project: Paths) -> Paths:
    spec = project.episode_dir("mini") / "episode.yaml"
    spec.write_text(spec.read_text().replace("    duration: 4\n  - id: s002", "    duration: 4\n    takes: 2\n  - id: s002", 1))
    return project


def test_two_takes_generated_qcd_and_chosen(two_takes: Paths) -> None:
    store = Store(two_takes.db)
    ref = ShotRef.load(two_takes, "mini", "s001")
    assert ref.episode.takes_of(ref.shot) == 2
    prepare_request(ref, store=store)
    render_still(ref, backend="preview")
    out = render_clip(ref, backend="preview", store=store)
    rec = ref.read()
    assert [t.take for t in rec.takes] == [1, 2] and out.extra["takes"] == 2
    for t in rec.takes:
        assert Path(t.generation.path).is_file() and (Path(t.review_dir) / "qc.json").is_file()
    assert rec.takes[0].generation.seed != rec.takes[1].generation.seed
    assert file_hash(rec.takes[0].generation.path) != file_hash(rec.takes[1].generation.path)
    best = choose(rec.takes)
    assert rec.chosen_take == best.take and file_hash(ref.clip_path) == best.generation.hash
    generations = store.query("SELECT count(*) AS n FROM generations WHERE status = 'done'")[0]["n"]
    assert generations == 2

    other = 2 if best.take == 1 else 1
    assert main(["take", "mini", "s001", str(other)]) == 0
    assert file_hash(ref.clip_path) == ref.read().takes[other - 1].generation.hash
    # a rerun keeps the person's choice and pays nothing more
    again = render_clip(ref, backend="preview", store=store)
    assert again.cache_hit and ref.read().chosen_take == other and file_hash(ref.clip_path) == again.clip_hash
    assert store.query("SELECT count(*) AS n FROM generations WHERE status = 'done'")[0]["n"] == 2


def test_take_errors_name_the_takes(project: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    ref = ShotRef.load(project, "mini", "s001")
    with pytest.raises(SpecError, match="has no take 3"):
        use_take(ref, 3)
    assert main(["take", "mini", "s001", "3"]) == 2
    assert "no take 3" in capsys.readouterr().err
