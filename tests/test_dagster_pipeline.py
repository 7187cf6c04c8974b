"""The pipeline through real Dagster materializations (instance_for_test), real ffmpeg and DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from tests.conftest import MINI_EPISODE


def _materialize_episode(paths, instance, ep: str = "mini"):  # type: ignore[no-untyped-def]
    from assets import EPISODE_ASSETS, SHOT_ASSETS, episode_spec
    from resources import build_resources
    from vidpipe.episode import load_episode

    episode = load_episode(paths.episode_dir(ep))
    instance.add_dynamic_partitions("episodes", [ep])
    instance.add_dynamic_partitions("shots", [f"{ep}|{s.id}" for s in episode.shots])
    res = build_resources()
    out = {"spec": dg.materialize([episode_spec], partition_key=ep, instance=instance, resources=res)}
    for s in episode.shots:
        out[s.id] = dg.materialize(SHOT_ASSETS, partition_key=f"{ep}|{s.id}",
                                   instance=instance, resources=res, raise_on_error=False)
    if all(out[s.id].success for s in episode.shots):
        out["cut"] = dg.materialize(EPISODE_ASSETS, partition_key=ep, instance=instance, resources=res)
    return out


def _meta(result, asset: str) -> dict:  # type: ignore[no-untyped-def]
    for ev in result.get_asset_materialization_events():
        mat = ev.step_materialization_data.materialization
        if mat.asset_key.path[-1] == asset:
            return {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    raise AssertionError(f"{asset} not materialized")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The mini episode rendered once through Dagster; shared by the read-only tests below."""
    from vidpipe.paths import Paths

    root = tmp_path_factory.mktemp("rendered")
    (root / "data" / "episodes" / "mini").mkdir(parents=True)
    (root / "data" / "episodes" / "mini" / "episode.yaml").write_text(MINI_EPISODE)
    with pytest.MonkeyPatch.context() as mp:
        for var in ("FAL_KEY", "GEMINI_API_KEY", "ELEVENLABS_API_KEY"):
            mp.delenv(var, raising=False)
        mp.setenv("VIDPIPE_ROOT", str(root))
        mp.chdir(root)
        with dg.instance_for_test() as instance:
            paths = Paths.from_env(root)
            results = _materialize_episode(paths, instance)
            yield paths, instance, results


def test_definitions_load_with_groups_and_checks() -> None:
    import definitions

    dg.Definitions.validate_loadable(definitions.defs)
    graph = definitions.defs.resolve_asset_graph()
    groups = {k.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert groups == {
        "episode_file": "script", "shot_spec": "script", "episode_spec": "script", "cast_plate": "script",
        "shot_request": "script",
        "episode_shots": "edit", "shot_still": "generation", "shot_clip": "generation",
        "shot_qc": "qc", "voiceover": "edit", "final_cut": "edit", "delivery": "edit",
        "qc_scores": "learning", "lessons": "learning",
        "edited_timeline": "finish", "edit_export": "finish", "delivery_formats": "finish",
    }
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    assert {("shot_request", "request_valid"), ("shot_clip", "technical_qc"), ("shot_qc", "score_threshold")} <= checks
    for key in graph.get_all_asset_keys():
        assert graph.get(key).description, f"{key} has no description"


def test_episode_renders_to_final_cut_with_exact_length(rendered) -> None:  # type: ignore[no-untyped-def]
    from vidpipe.media.probe import probe
    from vidpipe.schema import frame_size

    paths, _instance, results = rendered
    assert all(r.success for r in results.values())
    final = paths.episode_media("mini") / "final.mp4"
    p = probe(final)
    assert p.has_audio and p.video_codec == "h264"
    # 4 + 4 + 4 seconds minus one 0.5 s crossfade
    assert abs(p.duration_s - 11.5) <= 0.1
    assert (p.width, p.height) == frame_size("480p", "16:9")
    delivery = probe(paths.episode_media("mini") / "delivery.mp4")
    assert delivery.height == 1080 and abs(delivery.duration_s - p.duration_s) <= 0.1


def test_materializations_carry_what_a_person_needs(rendered) -> None:  # type: ignore[no-untyped-def]
    _paths, _instance, results = rendered
    meta = _meta(results["s001"], "shot_clip")
    for key in ("path", "duration_s", "size_bytes", "model", "backend", "request_id", "cost_usd", "prompt", "thumbnail"):
        assert key in meta, key
    assert meta["backend"] == "preview" and meta["model"] == "seedance-2.0"
    # the UI renders markdown under 1,000 characters in place: thumbnails must fit, the prompt is plain text
    for key in ("thumbnail", "contact_sheet"):
        assert str(meta[key]).startswith("![") and "data:image/webp;base64," in meta[key] and len(meta[key]) < 1000
    assert "lighthouse" in meta["prompt"] and not meta["prompt"].startswith("```")
    assert meta["clip"].endswith("/media/mini/shots/s001/clip.mp4")
    qc = _meta(results["s001"], "shot_qc")
    assert len(qc["contact_sheet"]) < 1000 and qc["contact_sheet_full"].endswith("contact_sheet.jpg")
    still = _meta(results["s002"], "shot_still")
    assert still["needed"] and len(still["thumbnail"]) < 1000
    assert _meta(results["s002"], "shot_clip")["model"] == "wan-2.7-i2v"  # image-to-video routes to wan
    evals = {e.check_name: e.passed for e in results["s001"].get_asset_check_evaluations()}
    # nobody scored the clip and no judge is configured: those two checks are not evaluated (skipped), not green
    assert evals == {"request_valid": True, "technical_qc": True}


def test_every_qc_pass_lands_in_duckdb(rendered) -> None:  # type: ignore[no-untyped-def]
    from vidpipe.store import Store

    paths, _instance, _results = rendered
    rows = Store(paths.db).query("SELECT episode, shot, model, backend, prompt, probe, scores FROM qc ORDER BY shot")
    assert [r["shot"] for r in rows] == ["s001", "s002", "s003"]
    assert all(r["scores"] is None for r in rows)  # nothing invents a score
    assert json.loads(rows[2]["probe"])["duration_s"] == pytest.approx(4.0, abs=0.1)


def test_gate_asks_nothing_while_the_delivered_cut_is_current(rendered) -> None:  # type: ignore[no-untyped-def]
    from resources import MediaRoot
    from sensors.episodes import final_cut_gate
    from vidpipe.pipeline.converge import cut_state

    paths, instance, _results = rendered
    with dg.build_sensor_context(instance=instance, resources={"media": MediaRoot(root=str(paths.root))}) as ctx:
        assert isinstance(final_cut_gate(ctx), dg.SkipReason)
    assert cut_state(paths, "mini").current


def test_lineage_leads_from_delivery_to_prompts(rendered) -> None:  # type: ignore[no-untyped-def]
    from vidpipe.cli import main

    paths, _instance, _results = rendered
    from vidpipe.lineage import lineage

    tree = lineage(paths, "mini")
    assert [s["shot"] for s in tree["shots"]] == ["s001", "s002", "s003"]
    assert all(s["request_id"] and s["prompt"] and s["model"] for s in tree["shots"])
    assert tree["shots"][1]["still"]["path"].endswith("still.png")
    assert tree["voiceover"][0]["text"].startswith("The light")
    assert main(["lineage", str(paths.episode_media("mini") / "delivery.mp4"), "--json"]) == 0
