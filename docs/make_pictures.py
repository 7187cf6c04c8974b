"""Draw the README's asset-graph picture from the real Definitions (so it cannot drift from the code).

    .venv/bin/python docs/make_pictures.py      # writes docs/asset_graph.png
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COLOURS = {"script": "#4C78A8", "generation": "#F58518", "qc": "#54A24B", "edit": "#B279A2", "learning": "#9D755D"}


def levels(graph, keys):  # type: ignore[no-untyped-def]
    """Longest-path depth of each asset: its column in the picture."""
    depth: dict = {}

    def d(k):  # type: ignore[no-untyped-def]
        if k not in depth:
            parents = [p for p in graph.get(k).parent_keys if p in keys]
            depth[k] = 1 + max((d(p) for p in parents), default=-1)
        return depth[k]

    for k in keys:
        d(k)
    return depth


def main() -> Path:
    import definitions

    graph = definitions.defs.resolve_asset_graph()
    keys = sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string())
    depth = levels(graph, set(keys))
    columns: dict[int, list] = {}
    for k in keys:
        columns.setdefault(depth[k], []).append(k)
    pos = {}
    for col, ks in columns.items():
        for i, k in enumerate(ks):
            pos[k] = (col * 2.3, -(i - (len(ks) - 1) / 2) * 1.3)
    fig, ax = plt.subplots(figsize=(15, 4.6), dpi=110)
    for k in keys:
        for p in graph.get(k).parent_keys:
            if p in pos:
                (x0, y0), (x1, y1) = pos[p], pos[k]
                ax.annotate("", xy=(x1 - 0.95, y1), xytext=(x0 + 0.95, y0),
                            arrowprops={"arrowstyle": "-|>", "color": "#666", "lw": 1.2})
    for k, (x, y) in pos.items():
        node = graph.get(k)
        colour = COLOURS.get(node.group_name, "#888")
        ax.add_patch(FancyBboxPatch((x - 0.95, y - 0.42), 1.9, 0.84, boxstyle="round,pad=0.02,rounding_size=0.12",
                                    fc=colour, ec="none", alpha=0.92))
        pdef = node.partitions_def
        part = "episode × shot" if pdef is not None and hasattr(pdef, "partitions_defs") else (
            "episode" if pdef is not None else "unpartitioned")
        ax.text(x, y + 0.12, k.to_user_string(), ha="center", va="center", color="white", fontsize=11, weight="bold")
        ax.text(x, y - 0.2, f"{node.group_name} · {part}", ha="center", va="center", color="white", fontsize=8)
    ax.set_xlim(-1.2, max(x for x, _ in pos.values()) + 1.2)
    ys = [y for _, y in pos.values()]
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.axis("off")
    ax.set_title("vidpipe asset graph (from definitions.py)", fontsize=13)
    out = ROOT / "docs" / "asset_graph.png"
    fig.tight_layout()
    fig.savefig(out)
    return out


if __name__ == "__main__":
    print(main())
