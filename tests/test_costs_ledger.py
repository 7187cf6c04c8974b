"""Every dollar in one ledger: the demo's stills, cast plates and voice, made through the real SDKs against the
loopback fakes, are booked with their estimate and cost; `vidpipe costs --episode demo` shows them and its
lines equal `vidpipe estimate demo`'s, line for line; the budget stop reads the same rows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.fakes.fixtures import eleven_fake, fal_fake, media_files  # noqa: F401
from vidpipe.cli import main
from vidpipe.ledger import Ledger, record_spend
from vidpipe.paths import Paths
from vidpipe.pipeline.episode_stages import make_voiceover
from vidpipe.pipeline.record import ShotRef
from vidpipe.pipeline.shot_stages import render_still
from vidpipe.store import Store

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def demo(project: Paths) -> Paths:
    src = REPO / "data" / "episodes" / "demo"
    dst = project.episode_dir("demo")
    shutil.copytree(src, dst)
    spec = dst / "episode.yaml"
    spec.write_text(spec.read_text().replace("voice: {provider: auto}", "voice: {provider: auto, voice_id: voice123}"))
    return project


def test_costs_show_stills_plates_and_voice_and_match_the_estimate_line_for_line(
        demo: Paths, fal_fake, eleven_fake, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from vidpipe.episode import load_episode

    episode = load_episode(demo.episode_dir("demo"))
    for s in episode.shots:
        render_still(ShotRef(demo, episode, s), backend="fal")
    vo = make_voiceover(demo, "demo", backend="elevenlabs")
    assert vo.backend == "elevenlabs" and vo.cost_usd > 0
    capsys.readouterr()
    main(["estimate", "demo", "--backend", "fal", "--json"])
    est = json.loads(capsys.readouterr().out)
    assert main(["costs", "--episode", "demo", "--json"]) == 0
    costs = json.loads(capsys.readouterr().out)
    booked = {(r["kind"], r["shot"]): r for r in costs["lines"]}
    assert {k for k, _ in booked} == {"still", "plate", "voice"}
    wanted = {(r["kind"], r["shot"]): r["est_cost_usd"] for r in est["lines"] if r["kind"] != "video"}
    assert wanted and {k: r["est_cost_usd"] for k, r in booked.items()} == wanted  # line for line
    assert booked[("voice", None)]["requests"] == sum(1 for s in episode.shots if s.narration)
    assert all(r["cost_usd"] and r["cost_usd"] > 0 for r in booked.values())  # actuals are known too
    # the budget stop reads the same rows
    spent = Ledger(Store(demo.db)).spend(episode="demo")
    assert spent == pytest.approx(sum(r["cost_usd"] for r in booked.values()), abs=5e-4) and spent > 0
    assert main(["costs", "--episode", "demo"]) == 0
    table = capsys.readouterr().out
    assert all(word in table for word in ("still", "plate", "voice"))
    # a rerun is cached: nothing is booked twice
    for s in episode.shots:
        render_still(ShotRef(demo, episode, s), backend="fal")
    make_voiceover(demo, "demo", backend="elevenlabs")
    assert Ledger(Store(demo.db)).lines("demo") == costs["lines"]


def test_free_calls_are_not_booked_and_unknown_kinds_are_refused(tmp_path: Path) -> None:
    store = Store(tmp_path / "l.duckdb")
    record_spend(store, "still", "k0", model="flux-schnell", backend="preview", est_cost_usd=0.0, cost_usd=0.0)
    assert store.query("SELECT count(*) AS n FROM requests")[0]["n"] == 0
    with pytest.raises(ValueError, match="unknown spend kind"):
        record_spend(store, "lunch", "k1", model="x", backend="fal", est_cost_usd=1.0, cost_usd=1.0)
