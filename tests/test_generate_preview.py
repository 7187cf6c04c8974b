"""The offline preview through the same runner, backend selection, stills, and the costs report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.fal_fake import FalFake
from tests.fakes.fixtures import fal_fake, media_files  # noqa: F401
from vidpipe.environment import still_backend
from vidpipe.errors import ProviderNotConfigured
from vidpipe.generate import generate_jobs
from vidpipe.providers import require_key, select_backend
from vidpipe.storyboard.animatic import RENDER_VERSION
from vidpipe.schema import Job
from vidpipe.store import Store


def test_preview_goes_through_the_runner(tmp_path: Path) -> None:
    store = Store(tmp_path / "v.duckdb")
    jobs = [Job(id="p1", input={"prompt": "a red kite, slow push-in", "duration": 4, "resolution": "480p"}),
            Job(id="p2", input={"prompt": "a blue kite", "duration": 4, "resolution": "480p", "aspect_ratio": "9:16"})]
    res = generate_jobs(jobs, tmp_path / "o", store=store)  # no keys → preview
    assert [r.status for r in res] == ["done", "done"], [r.error for r in res]
    assert all(r.backend == "preview" and r.cost_usd == 0 and (r.request_id or "").startswith("preview-") for r in res)
    assert res[0].endpoint == f"preview-v{RENDER_VERSION}/{res[0].model}"
    assert json.loads((tmp_path / "o" / "manifest.json").read_text())["totals"]["done"] == 2
    again = generate_jobs(jobs, tmp_path / "o", store=store)
    assert all(r.cache_hit for r in again)
    assert store.query("SELECT count(*) AS n FROM generations WHERE status = 'done'")[0]["n"] == 2


def test_select_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    assert select_backend(None, "seedance-2.0") == "preview"
    assert select_backend("fal", "seedance-2.0") == "fal"  # explicit wins
    monkeypatch.setenv("GEMINI_API_KEY", "g")
    assert select_backend(None, "veo-3.1") == "gemini" and still_backend(None, "gemini-image") == "gemini"
    assert select_backend(None, "seedance-2.0") == "preview"
    monkeypatch.setenv("FAL_KEY", "f")
    assert select_backend(None, "veo-3.1") == "fal"
    with pytest.raises(ValueError):
        select_backend("replicate", "seedance-2.0")


def test_missing_key_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ProviderNotConfigured) as info:
        require_key("fal")
    assert "FAL_KEY" in str(info.value) and "--backend preview" in str(info.value)
    [res] = generate_jobs([Job(id="n", model="seedance-2.0", input={"prompt": "x", "duration": 4})], tmp_path / "o",
                          backend="fal")
    assert res.status == "failed" and res.error_code == "not_configured" and "FAL_KEY" in (res.error or "")


def test_flux_still_on_fal(fal_fake: FalFake, tmp_path: Path) -> None:
    from vidpipe.stills import make_still

    res = make_still("weathered hands on a brass wheel", tmp_path / "still.png", n=2, seed=4)
    assert res.backend == "fal" and res.request_id == "req-0001" and len(res.paths) == 2
    assert all(p.exists() for p in res.paths) and res.paths[1].name == "still_2.png"
    assert res.est_cost_usd == pytest.approx(0.003 * 1280 * 720 / 1e6 * 2, abs=1e-5)  # the asked size
    from PIL import Image

    delivered = sum(Image.open(p).width * Image.open(p).height for p in res.paths)  # what fal bills: real pixels
    assert res.cost_usd == pytest.approx(0.003 * delivered / 1e6, abs=2e-5)  # (each image rounded to 5 decimals)
    assert fal_fake.submits[0]["endpoint"] == "fal-ai/flux/schnell"


def test_preview_still(tmp_path: Path) -> None:
    from vidpipe.stills import make_still

    res = make_still("a lighthouse", tmp_path / "s.png", aspect="1:1", resolution="480p")
    assert res.backend == "preview" and res.path.exists() and (res.width, res.height) == (480, 480)


def test_costs_report(fal_fake: FalFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture[str]) -> None:
    from vidpipe.cli import main
    from vidpipe.paths import Paths

    monkeypatch.setenv("VIDPIPE_ROOT", str(tmp_path))
    store = Store(Paths.from_env().db)
    jobs = [Job(id=f"c{i}", model="seedance-2.0", episode="ep1", input={"prompt": f"kite {i}", "duration": 4})
            for i in range(2)]
    generate_jobs(jobs, tmp_path / "o", store=store)
    assert main(["costs", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["total_cost_usd"] == pytest.approx(2 * 4 * 0.3034)
    assert report["by_model"][0]["key"] == "seedance-2.0" and report["by_episode"][0]["key"] == "ep1"
    assert main(["costs", "--episode", "nope", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total_cost_usd"] == 0


def test_costs_per_generation_estimate_vs_actual(fal_fake: FalFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The fake delivers a 4 s clip whatever was asked: a 6 s request was estimated at 6 s and cost 4 s."""
    from vidpipe.cli import main
    from vidpipe.paths import Paths

    monkeypatch.setenv("VIDPIPE_ROOT", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    jobs = [Job(id=f"g{d}", model="seedance-2.0", episode="ep1", input={"prompt": f"kite {d}", "duration": d})
            for d in (4, 6)]
    generate_jobs(jobs, tmp_path / "o", store=Store(Paths.from_env().db))
    assert main(["costs", "--episode", "ep1", "--json"]) == 0
    rows = {r["job_id"]: r for r in json.loads(capsys.readouterr().out)["per_generation"]}
    assert set(rows) == {"g4", "g6"} and all(r["request_id"] and r["status"] == "done" for r in rows.values())
    assert rows["g4"]["est_cost_usd"] == pytest.approx(4 * 0.3034) and rows["g4"]["delta_usd"] == pytest.approx(0)
    assert rows["g6"]["est_cost_usd"] == pytest.approx(6 * 0.3034, abs=1e-4)
    assert rows["g6"]["cost_usd"] == pytest.approx(4 * 0.3034, abs=1e-3)
    assert rows["g6"]["delta_usd"] == pytest.approx(-2 * 0.3034, abs=1e-3)
    assert main(["costs", "--episode", "ep1"]) == 0
    table = capsys.readouterr().out
    assert "estimate vs actual per generation (ep1)" in table
    g6 = next(line for line in table.splitlines() if "g6" in line)
    assert "1.82" in g6 and "1.21" in g6 and "-0.61" in g6
    assert main(["costs", "--json"]) == 0  # without --episode the per-generation list stays empty (whole ledger)
    assert json.loads(capsys.readouterr().out)["per_generation"] == []
