"""Lineage from a delivered file back to every prompt, read from what was recorded (never recomputed).

delivery.mp4 ← final.mp4 (edit list) ← each shot's clip (model, endpoint, request id, cost, QC, a person's
acceptance) ← its still ← its request body and prompt; plus the voiceover takes and the music bed. A shot's clip is the
one whose bytes are in the file (final.json records its hash and generation when the cut is made), never
the take chosen since.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.tree import Tree

from vidpipe.errors import VidpipeError
from vidpipe.paths import Paths
from vidpipe.pipeline.cache import read_sidecar
from vidpipe.pipeline.record import ShotRecord, record_of
from vidpipe.store import Store


def episode_of(path: Path, paths: Paths) -> str:
    """The episode a final/delivery file belongs to (data/media/<ep>/final.mp4)."""
    p = path.resolve()
    try:
        rel = p.relative_to(paths.media.resolve())
    except ValueError:
        raise VidpipeError(f"{path} is not under the media folder {paths.media}; pass --episode instead") from None
    return rel.parts[0]


def lineage(paths: Paths, episode_id: str, *, store: Store | None = None) -> dict[str, Any]:
    """The recorded chain for one episode as a nested dict (what `vidpipe lineage --json` prints)."""
    media = paths.episode_media(episode_id)
    final = read_sidecar(media / "final.json")
    if final is None:
        raise VidpipeError(f"episode {episode_id} has no recorded final cut ({media / 'final.json'} missing)")
    delivery = read_sidecar(media / "delivery.json")
    cut_sha = (final.get("output") or {}).get("sha256")
    if delivery and delivery.get("source_sha256") and cut_sha and delivery["source_sha256"] != cut_sha:
        delivery["note"] = "made from an earlier final cut than the one traced below; run delivery again"
    scores = _latest_scores(store, episode_id) if store else {}
    shots = []
    hashes = final.get("clip_hashes") or []
    cut = final.get("shots") or []
    for i, clip in enumerate(final["edit"]["clips"]):
        shot_dir = Path(clip["path"]).parent
        rec = record_of(shot_dir)
        shot_id = rec.shot if rec else shot_dir.name
        h = hashes[i] if i < len(hashes) else None
        made = _in_the_cut(rec, h, cut[i] if i < len(cut) else None)
        shots.append({
            "shot": shot_id,
            "clip": clip["path"],
            "clip_hash": h,
            "transition": clip.get("transition"),
            **made,
            "prompt": rec.prompt if rec else None,
            "request": rec.job.input if rec and rec.job else None,
            "route": rec.route.model_dump() if rec and rec.route else None,
            "still": rec.still.model_dump() if rec and rec.still else None,
            "qc": {"defects": rec.qc.defects if rec and rec.qc and rec.qc.clip_hash == h else None,
                   "verdict": made.get("verdict"), "scores": scores.get(shot_id)},
        })
    vo = read_sidecar(media / "voiceover" / "voiceover.json") or {}
    tree: dict[str, Any] = {
        "episode": episode_id,
        "delivery": {"path": str(media / "delivery.mp4"), **(delivery or {})} if delivery else None,
        "final_cut": {"path": final["edit"]["output"], "duration_s": final.get("duration_s")},
        "shots": shots,
        "voiceover": [{k: ln.get(k) for k in ("shot", "text", "path", "start", "backend", "voice_id")}
                      for ln in vo.get("lines", [])],
        "tracks": [{"kind": t["kind"], "path": t["path"]} for t in final["edit"].get("tracks", [])],
        "total_cost_usd": round(sum(float(s["cost_usd"] or 0) for s in shots), 4),
    }
    return tree


def _in_the_cut(rec: ShotRecord | None, clip_hash: str | None, cut: dict[str, Any] | None) -> dict[str, Any]:
    """What made the clip that is in the final file: final.json's own record of it (written when the cut was
    made), else the recorded generation with the same content hash; never the take chosen since."""
    keys = ("take", "model", "backend", "endpoint", "request_id", "cost_usd", "fallback_from")
    if cut is not None and cut.get("clip_hash") == clip_hash:
        return {**{k: cut.get(k) for k in keys}, "verdict": cut.get("qc"), "accepted": cut.get("accepted")}
    gens = [rec.generation, *(t.generation for t in rec.takes)] if rec else []
    g = next((g for g in gens if g is not None and clip_hash is not None and g.hash == clip_hash), None)
    if g is None:
        return {**{k: None for k in keys}, "verdict": None, "accepted": None,
                "note": "the clip in this cut matches no recorded generation (changed since)"}
    acc = rec.accepted if rec and rec.accepted and rec.accepted.clip_hash == clip_hash else None
    return {**{k: getattr(g, k) for k in keys}, "verdict": rec.qc.why if rec and rec.qc and rec.qc.clip_hash == clip_hash
            else None, "accepted": acc.model_dump() if acc else None}


def _latest_scores(store: Store, episode_id: str) -> dict[str, Any]:
    rows = store.query(
        "SELECT shot, overall, judge FROM scores WHERE episode = ? ORDER BY created_at", [episode_id]
    )
    return {r["shot"]: {"overall": r["overall"], "judge": r["judge"]} for r in rows}


def render_tree(tree: dict[str, Any]) -> Any:
    """A rich Tree for the terminal."""
    root = Tree(f"[bold]{tree['episode']}[/bold]  total ${tree['total_cost_usd']:.2f}")
    node = root
    if tree.get("delivery"):
        note = f"  [red]{tree['delivery']['note']}[/red]" if tree["delivery"].get("note") else ""
        node = root.add(f"delivery  {tree['delivery']['path']}{note}")
    cut = node.add(f"final cut  {tree['final_cut']['path']}  ({tree['final_cut']['duration_s']:.2f} s)")
    for s in tree["shots"]:
        q = s["qc"]
        score = q["scores"]["overall"] if q.get("scores") else "unjudged"
        take = f"take {s['take']} · " if s.get("take") else ""
        b = cut.add(f"[cyan]{s['shot']}[/cyan] {s['transition']} · {take}{s['model']} via {s['backend']} · "
                    f"request {s['request_id']} · ${float(s['cost_usd'] or 0):.2f} · defects {q['defects'] or 'none'} · "
                    f"score {score}")
        if s.get("accepted"):
            a = s["accepted"]
            b.add(f"[yellow]accepted[/yellow] by {a['by']} at {a['at']}: {a['reason']} (QC: {s.get('verdict')})")
        if s.get("note"):
            b.add(f"[red]{s['note']}[/red]")
        if s.get("still"):
            b.add(f"still {s['still'].get('path')} ({s['still'].get('model')})")
        b.add(f"prompt: {s['prompt']}")
    for ln in tree["voiceover"]:
        cut.add(f"[magenta]voice[/magenta] {ln['start']:.1f}s {ln['text']!r} ({ln['backend']})")
    for t in tree["tracks"]:
        cut.add(f"track {t['kind']}: {t['path']}")
    return root
