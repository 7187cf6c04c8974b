"""Lineage from a delivered file back to every prompt, read from what was recorded (never recomputed).

delivery.mp4 ← final.mp4 (edit list) ← each shot's clip (model, endpoint, request id, cost, QC)
← its still ← its request body and prompt; plus the voiceover takes and the music bed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vidpipe.errors import VidpipeError
from vidpipe.paths import Paths
from vidpipe.pipeline.cache import read_sidecar
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
    scores = _latest_scores(store, episode_id) if store else {}
    shots = []
    for clip in final["edit"]["clips"]:
        shot_dir = Path(clip["path"]).parent
        rec = read_sidecar(shot_dir / "shot.json") or {}
        gen = rec.get("generation") or {}
        shots.append({
            "shot": rec.get("shot", shot_dir.name),
            "clip": clip["path"],
            "transition": clip.get("transition"),
            "model": gen.get("model"),
            "backend": gen.get("backend"),
            "endpoint": gen.get("endpoint"),
            "request_id": gen.get("request_id"),
            "cost_usd": gen.get("cost_usd"),
            "fallback_from": gen.get("fallback_from"),
            "prompt": rec.get("prompt"),
            "request": (rec.get("job") or {}).get("input"),
            "route": rec.get("route"),
            "still": rec.get("still"),
            "qc": {"defects": (rec.get("qc") or {}).get("defects"),
                   "scores": scores.get(rec.get("shot", shot_dir.name))},
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


def _latest_scores(store: Store, episode_id: str) -> dict[str, Any]:
    rows = store.query(
        "SELECT shot, overall, judge FROM scores WHERE episode = ? ORDER BY created_at", [episode_id]
    )
    return {r["shot"]: {"overall": r["overall"], "judge": r["judge"]} for r in rows}


def render_tree(tree: dict[str, Any]) -> Any:
    """A rich Tree for the terminal."""
    from rich.tree import Tree

    root = Tree(f"[bold]{tree['episode']}[/bold]  total ${tree['total_cost_usd']:.2f}")
    node = root
    if tree.get("delivery"):
        node = root.add(f"delivery  {tree['delivery']['path']}")
    cut = node.add(f"final cut  {tree['final_cut']['path']}  ({tree['final_cut']['duration_s']:.2f} s)")
    for s in tree["shots"]:
        q = s["qc"]
        score = q["scores"]["overall"] if q.get("scores") else "unjudged"
        b = cut.add(f"[cyan]{s['shot']}[/cyan] {s['transition']} · {s['model']} via {s['backend']} · "
                    f"request {s['request_id']} · ${float(s['cost_usd'] or 0):.2f} · defects {q['defects'] or 'none'} · "
                    f"score {score}")
        if s.get("still"):
            b.add(f"still {s['still'].get('path')} ({s['still'].get('model')})")
        b.add(f"prompt: {s['prompt']}")
    for ln in tree["voiceover"]:
        cut.add(f"[magenta]voice[/magenta] {ln['start']:.1f}s {ln['text']!r} ({ln['backend']})")
    for t in tree["tracks"]:
        cut.add(f"track {t['kind']}: {t['path']}")
    return root
