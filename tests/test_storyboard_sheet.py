"""The episode storyboard (data/media/<ep>/storyboard.jpg): continuity links and the cut's beats, read from pixels.

Two small episodes are rendered offline through the real pipeline (preview backend, 4 s shots, 480p, final
cut): `pair`, whose s002 says `continue_from: s001` and whose music is a 120 BPM click track cut to the beat,
and `plain`, two unlinked shots over the offline ambience bed. The checks look for the sheet's own colours
where the link and the ticks must be (and nowhere in the sheet that has neither); the beats are the clicks
as written into the WAV, shifted by the window the fitter chose, against the final cut's probed length.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import PROVIDER_ENV
from tests.test_music import click_track
from vidpipe.cli import main
from vidpipe.media.probe import probe
from vidpipe.paths import Paths
from vidpipe.pipeline.cache import read_sidecar
from vidpipe.pipeline.run import render_episode
from vidpipe.storyboard.episode_sheet import render_storyboard, storyboard_path
from vidpipe.storyboard.sheet import LINK, SheetLayout
from vidpipe.storyboard.timeline import BEAT, CUT, CUT_ON_BEAT

SHOT = ("{{id: {id}, {extra}subject: 'a red kite over grey dunes', action: 'the kite {verb}', "
        "camera: 'wide shot, static tripod', style: 'overcast, muted palette', duration: 4, generate_audio: false}}")
PAIR = ("title: Pair\nresolution: '480p'\nfps: 24\ncut_to_beat: true\nmusic: {path: click.wav, gain_db: -12}\n"
        "shots:\n  - " + SHOT.format(id="s001", extra="", verb="climbs") + "\n  - "
        + SHOT.format(id="s002", extra="continue_from: s001, ", verb="dives") + "\n")
PLAIN = ("title: Plain\nresolution: '480p'\nfps: 24\nmusic: {ambience: 'soft wind', gain_db: -20}\nshots:\n  - "
         + SHOT.format(id="s001", extra="", verb="climbs") + "\n  - "
         + SHOT.format(id="s002", extra="", verb="dives").replace("red kite", "blue kite") + "\n")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Paths, list[float]]:
    """Both episodes rendered to their final cuts; returns the paths and the click times written."""
    root = tmp_path_factory.mktemp("storyboard") / "proj"
    with pytest.MonkeyPatch.context() as mp:
        for var in PROVIDER_ENV:
            mp.delenv(var, raising=False)
        mp.setenv("VIDPIPE_ROOT", str(root))
        paths = Paths.from_env(root)
        for ep, text in (("pair", PAIR), ("plain", PLAIN)):
            paths.episode_dir(ep).mkdir(parents=True)
            (paths.episode_dir(ep) / "episode.yaml").write_text(text)
        clicks = click_track(paths.episode_dir("pair") / "click.wav", 20.0)
        for ep in ("pair", "plain"):
            run = render_episode(paths, ep, backend="preview", deliver=False)
            assert not run.failed and run.final is not None, run.failed
    return paths, clicks


def colour_mask(img: Image.Image, colour: tuple[int, int, int]) -> np.ndarray:
    return np.all(np.asarray(img.convert("RGB")) == np.array(colour, dtype=np.uint8), axis=2)


def outside_tiles(mask: np.ndarray, lay: SheetLayout) -> np.ndarray:
    out = mask.copy()
    for x0, y0, x1, y1 in lay.tiles:
        out[y0 - 1:y1 + 1, x0 - 1:x1 + 1] = False
    return out


def runs(row: np.ndarray) -> list[float]:
    """Centres of the runs of True along a row of pixels."""
    xs = np.flatnonzero(row)
    if not len(xs):
        return []
    groups = np.split(xs, np.flatnonzero(np.diff(xs) > 1) + 1)
    return [float(g.mean()) for g in groups]


def test_the_continuing_shot_is_linked_to_its_source_side_by_side_and_across_rows(
        rendered: tuple[Paths, list[float]]) -> None:
    paths, _ = rendered
    img, lay = render_storyboard(paths, "pair", columns=4, tile_width=320)
    (a, b), [(src, dst, _)] = lay.tiles, lay.links
    assert (src, dst) == (0, 1)
    link = colour_mask(img, LINK)
    gutter = link[a[1]:a[3], a[2] + 1:b[0] - 1]
    assert gutter.sum() > 100, "the link is drawn in the gutter between s001 and s002"
    band = (slice(b[1], b[1] + (b[3] - b[1]) // 3), slice(b[0], b[2]))
    assert link[band].sum() > 200, "s002's tile says it continues from s001"
    assert link[a[1]:a[1] + (a[3] - a[1]) // 3, a[0]:a[2]].sum() < 20, "s001 continues nothing"

    img, lay = render_storyboard(paths, "pair", columns=1, tile_width=320)
    (a, b), link = lay.tiles, colour_mask(img, LINK)
    assert b[1] > a[3], "one column: s002 sits on the row under s001"
    assert link[(a[1] + a[3]) // 2:a[3], a[2] + 2:].sum() > 30, "out of s001's right side, down its gutter"
    assert link[a[3] + 2:b[1] - 2, a[0]:a[2]].any(axis=0).sum() > (a[2] - a[0]) * 0.9, "across the row gutter"
    assert link[b[1]:(b[1] + b[3]) // 2, :b[0] - 2].sum() > 30, "into s002 from its left"

    img, lay = render_storyboard(paths, "plain", columns=4, tile_width=320)
    assert lay.links == [] and not outside_tiles(colour_mask(img, LINK), lay).any(), "no link where none is declared"
    assert not colour_mask(img, LINK)[lay.tiles[1][1]:lay.tiles[1][1] + 30].any()


def test_beat_ticks_sit_on_the_clicks_and_a_cut_on_a_beat_is_marked(rendered: tuple[Paths, list[float]]) -> None:
    paths, clicks = rendered
    img, lay = render_storyboard(paths, "pair", columns=4, tile_width=320)
    assert lay.strip is not None
    fit = read_sidecar(paths.episode_media("pair") / "music" / "fit.json")
    assert fit is not None
    length = probe(paths.episode_media("pair") / "final.mp4").duration_s
    beats = [c - fit["window"]["start"] for c in clicks if 0 <= c - fit["window"]["start"] <= length + 0.01]
    assert len(beats) >= 15
    x0, _, x1, _ = lay.strip
    want = [x0 + t / length * (x1 - x0) for t in beats]
    row = lay.strip[1] + 3  # inside the beat band, above the shot spans
    seen = runs(colour_mask(img, BEAT)[row] | colour_mask(img, CUT_ON_BEAT)[row])
    assert len(seen) == len(want), (seen, want)
    assert max(abs(s - w) for s, w in zip(seen, want)) <= 1.5, "every tick within 1.5 px of its click"
    green = runs(colour_mask(img, CUT_ON_BEAT)[row])
    assert len(green) == 1 and abs(green[0] - (x0 + 4.0 / length * (x1 - x0))) <= 2, "the cut at 4 s, on a beat"

    stale = paths.episode_media("plain") / "music" / "fit.json"  # a fit whose bed is not the one in the cut
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes((paths.episode_media("pair") / "music" / "fit.json").read_bytes())
    img, lay = render_storyboard(paths, "plain", columns=4, tile_width=320)
    assert lay.strip is not None
    strip = np.asarray(img)[lay.strip[1] - 30:, :]
    below = Image.fromarray(strip)
    assert not colour_mask(below, BEAT).any() and not colour_mask(below, CUT_ON_BEAT).any(), "no invented beats"
    length = probe(paths.episode_media("plain") / "final.mp4").duration_s
    cut_x = lay.strip[0] + 4.0 / length * (lay.strip[2] - lay.strip[0])
    dark = runs(colour_mask(img, CUT)[lay.strip[1] + 3])
    assert len(dark) == 1 and abs(dark[0] - cut_x) <= 2, "the plain cut at 4 s is drawn as a cut"


def test_the_command_writes_the_sheet_and_says_when_no_clip_is_rendered(
        rendered: tuple[Paths, list[float]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    paths, _ = rendered
    monkeypatch.setenv("VIDPIPE_ROOT", str(paths.root))
    storyboard_path(paths, "pair").unlink(missing_ok=True)
    assert main(["storyboard", "pair"]) == 0
    out = Path(capsys.readouterr().out.strip())
    assert out == storyboard_path(paths, "pair") and out.is_file()
    with Image.open(out) as im:
        assert im.format == "JPEG" and im.width == 2 * 400 + 3 * 28, "two panels in a row"
    (paths.episode_dir("fresh")).mkdir()
    (paths.episode_dir("fresh") / "episode.yaml").write_text(PLAIN.replace("Plain", "Fresh"))
    assert main(["storyboard", "fresh"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "vidpipe: error: episode fresh: no shot has a rendered clip yet; run `vidpipe render fresh` first"
