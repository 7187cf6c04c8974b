"""The cast as silhouettes (or their own reference photos), the camera move as an arrow, the bubble's tail.

Each identity keeps its colour and build in every shot (from `Member`); its kind picks the
silhouette (person, hands, boat, animal, prop); a place is never a figure (it is the backdrop).
Figures are placed in picture coordinates at rest (`placements`) and drawn per frame through the
camera's crop, so a push-in really enlarges them. They act in place: every gesture and step is
a whole number of back-and-forth cycles per panel, so people move within the frame while their
net motion (what a camera-motion estimate integrates) is zero; only the camera moves the picture.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from PIL import Image, ImageDraw

from vidpipe.storyboard.art import INK, Box
from vidpipe.storyboard.plan import Member, Panel
from vidpipe.storyboard.scene import HEAD, composition

WHITE = (255, 255, 255)
_LOCOMOTION = re.compile(r"\b(walk|walks|run|runs|climb|climbs|cross|crosses|approach|approaches|enter|enters|"
                         r"leave|leaves|ride|rides|sail|sails|passing|pass|passes|drive|drives|hurr\w+)\b", re.I)


@dataclass(frozen=True)
class Placement:
    """Where a member stands: focus point (head / lantern / deck) and unit size, in picture coordinates."""

    member: Member
    x: float
    y: float
    unit: float
    kind: str
    pose: str  # idle | walk | climb


def _mix(a: tuple[int, ...], b: tuple[int, ...], f: float) -> tuple[int, int, int]:
    return (int(a[0] * (1 - f) + b[0] * f), int(a[1] * (1 - f) + b[1] * f), int(a[2] * (1 - f) + b[2] * f))


def placements(panel: Panel, picture: Box) -> list[Placement]:
    """The main member at its third, others opposite it (a place is the backdrop, never a figure)."""
    horizon, sx, unit = composition(panel, picture)
    x0, y0, x1, y1 = picture
    pw, ph = x1 - x0, y1 - y0
    pose = "climb" if re.search(r"\bclimb", panel.caption, re.I) else (
        "walk" if _LOCOMOTION.search(panel.caption) else "idle")
    out: list[Placement] = []
    for i, m in enumerate([m for m in panel.members if m.kind != "place"][:4]):
        kind = m.kind
        size = panel.size
        u = HEAD[size] * ph * (1.1 if panel.angle == "low" else 1.0)
        x = sx if i == 0 else x0 + pw - (sx - x0) + (i - 1) * pw * 0.12
        if kind == "hands" and size in ("wide", "medium"):
            kind = "person"
        if kind == "person":
            if size == "wide":
                feet = max(horizon + 0.3 * (y1 - horizon), y0 + 0.62 * ph)
                y = feet - 6.6 * u
            else:
                y = y0 + {"medium": 0.36, "medium close-up": 0.38, "close-up": 0.45,
                          "extreme close-up": 0.5}[size] * ph + (0.04 * ph if panel.angle == "high" else 0)
        elif kind == "hands":
            u, y = u * 0.55, y0 + 0.5 * ph
            x = x0 + pw * 0.5 if i == 0 else x
        else:
            u = u * (0.8 if size == "wide" else 1.6)
            y = horizon + (0.12 if size == "wide" else 0.25) * ph
        out.append(Placement(m, x, y, u, kind, pose if i == 0 else "idle"))
    return out


def performed(p: Placement, t: float, progress: float, pw: float, ph: float, cycles: int = 1) -> Placement:
    """The placement at time `t` (s), `progress` in [0, 1] of its panel: steps and sways go there and back.

    `cycles` whole periods per panel keep the net displacement (and its mean velocity) at zero.
    """
    phase = 2 * math.pi * cycles * progress
    pw, ph = pw * min(1.0, 0.06 * ph / max(1e-6, p.unit)), ph * min(1.0, 0.06 * ph / max(1e-6, p.unit))
    # (a figure close to the camera moves less across the frame: its long edges would read as a camera move)
    if p.pose == "walk":
        return replace(p, x=p.x + math.sin(phase) * 0.05 * pw, y=p.y + abs(math.sin(t * 6.0)) * -0.006 * ph)
    if p.pose == "climb":
        return replace(p, x=p.x + math.sin(phase) * 0.03 * pw, y=p.y - math.sin(phase) * 0.03 * ph)
    sway = 0.01 * pw * math.sin(phase) + 0.004 * pw * math.sin(2 * phase + 1.0)
    return replace(p, x=p.x + sway, y=p.y + 0.005 * ph * math.sin(3 * phase))


def _limb(d: ImageDraw.ImageDraw, a: tuple[float, float], b: tuple[float, float], width: float,
          colour: tuple[int, int, int]) -> None:
    lw = max(1, int(width * 0.14))
    d.line([a, b], fill=INK, width=int(width + 2 * lw))
    for q in (a, b):
        r = width / 2 + lw
        d.ellipse([q[0] - r, q[1] - r, q[0] + r, q[1] + r], fill=INK)
    d.line([a, b], fill=colour, width=int(width))
    for q in (a, b):
        r = width / 2
        d.ellipse([q[0] - r, q[1] - r, q[0] + r, q[1] + r], fill=colour)


def person(d: ImageDraw.ImageDraw, x: float, y: float, u: float, m: Member, t: float, walking: bool,
           reach: float = 1.0) -> None:
    """A figure in head units `u` from the head centre (x, y): coat colour = identity colour.

    `t` is the gesture's phase (radians); `reach` scales the arm swing (a close figure swings less,
    so a gesture stays a small share of the frame).
    """
    b, c = m.build, m.colour
    dark, skin = _mix(c, (0, 0, 0), 0.4), _mix(c, (255, 236, 214), 0.62)
    lw = max(1, int(u * 0.07))
    step = math.sin(t) * 0.5 * u if walking else 0.0
    _limb(d, (x - 0.42 * u * b, y + 3.4 * u), (x - 0.55 * u * b + step, y + 6.5 * u), 0.55 * u, dark)
    _limb(d, (x + 0.42 * u * b, y + 3.4 * u), (x + 0.55 * u * b - step, y + 6.5 * u), 0.55 * u, dark)
    hem = 4.4 if "coat" in m.traits else 3.5
    torso = [(x - 1.1 * u * b, y + 0.8 * u), (x + 1.1 * u * b, y + 0.8 * u), (x + 0.95 * u * b, y + hem * u),
             (x - 0.95 * u * b, y + hem * u)]
    swing = math.radians(18 * reach * math.sin(t) + (10 if walking else 0))
    for s in (-1, 1):
        sx, sy = x + s * 1.0 * u * b, y + 1.0 * u
        ang = math.radians(10) + (swing if s > 0 else -swing * 0.5)
        _limb(d, (sx, sy), (sx + s * math.sin(ang) * 2.5 * u, sy + math.cos(ang) * 2.5 * u), 0.5 * u, c)
    d.polygon(torso, fill=c, outline=INK, width=lw)
    d.rectangle([x - 0.2 * u, y + 0.4 * u, x + 0.2 * u, y + 0.85 * u], fill=skin, outline=INK, width=lw)
    d.ellipse([x - 0.5 * u, y - 0.6 * u, x + 0.5 * u, y + 0.6 * u], fill=skin, outline=INK, width=lw)
    if "beard" in m.traits:
        d.chord([x - 0.48 * u, y - 0.2 * u, x + 0.48 * u, y + 0.62 * u], 0, 180, fill=(168, 164, 158),
                outline=INK, width=lw)
    if {"cap", "hat", "hood"} & m.traits:
        d.chord([x - 0.54 * u, y - 0.7 * u, x + 0.54 * u, y + 0.1 * u], 180, 360, fill=dark, outline=INK, width=lw)
    if u > 18:
        for s in (-1, 1):
            ex, ey, r = x + s * 0.2 * u, y - 0.05 * u, 0.06 * u
            d.ellipse([ex - r, ey - r, ex + r, ey + r], fill=INK)


def hands(d: ImageDraw.ImageDraw, x: float, y: float, u: float, m: Member, t: float, bottom: float) -> None:
    """Two hands at work seen close: sleeves in the identity colour rise from the frame's lower edge."""
    skin = _mix(m.colour, (255, 236, 214), 0.62)
    lw = max(1, int(u * 0.06))
    turn = math.sin(t) * 0.1 * u
    for s in (-1, 1):
        hx, hy = x + s * 1.5 * u + (turn if s > 0 else -turn * 0.5), y + (turn * 0.4 if s > 0 else 0)
        d.polygon([(hx - 0.75 * u, hy + 0.9 * u), (hx + 0.75 * u, hy + 0.9 * u), (hx + 0.95 * u + s * u, bottom),
                   (hx - 0.95 * u + s * u, bottom)], fill=m.colour, outline=INK, width=lw)
        for k in range(4):
            fx = hx - 0.6 * u + k * 0.4 * u
            d.rounded_rectangle([fx - 0.16 * u, hy - 1.3 * u + abs(k - 1.5) * 0.15 * u, fx + 0.16 * u, hy],
                                radius=0.15 * u, fill=skin, outline=INK, width=lw)
        d.ellipse([hx - 0.8 * u, hy - 0.5 * u, hx + 0.8 * u, hy + 1.0 * u], fill=skin, outline=INK, width=lw)
        tx = hx - s * 0.85 * u
        _limb(d, (tx, hy + 0.3 * u), (tx - s * 0.5 * u, hy - 0.4 * u), 0.34 * u, skin)


def boat(d: ImageDraw.ImageDraw, x: float, y: float, u: float, m: Member, t: float) -> None:
    lw = max(1, int(u * 0.08))
    y = y + math.sin(t) * 0.15 * u
    d.line([(x + 0.3 * u, y - 2.6 * u), (x + 0.3 * u, y)], fill=INK, width=max(1, int(u * 0.15)))
    d.rectangle([x - 0.9 * u, y - 1.0 * u, x + 0.4 * u, y], fill=_mix(m.colour, WHITE, 0.5), outline=INK, width=lw)
    d.polygon([(x - 2.2 * u, y), (x + 2.4 * u, y), (x + 1.6 * u, y + 0.9 * u), (x - 1.7 * u, y + 0.9 * u)],
              fill=m.colour, outline=INK, width=lw)


def animal(d: ImageDraw.ImageDraw, x: float, y: float, u: float, m: Member, t: float) -> None:
    lw = max(1, int(u * 0.08))
    for k in (-1.0, -0.5, 0.6, 1.1):
        _limb(d, (x + k * u, y + 0.3 * u), (x + k * u + math.sin(t + k) * 0.2 * u, y + 1.6 * u), 0.3 * u,
              m.colour)
    d.ellipse([x - 1.5 * u, y - 0.6 * u, x + 1.5 * u, y + 0.6 * u], fill=m.colour, outline=INK, width=lw)
    d.ellipse([x + 1.1 * u, y - 1.3 * u, x + 2.0 * u, y - 0.3 * u], fill=m.colour, outline=INK, width=lw)


def prop(d: ImageDraw.ImageDraw, x: float, y: float, u: float, m: Member, t: float) -> None:
    lw = max(1, int(u * 0.08))
    y = y + math.sin(t) * 0.1 * u
    d.rounded_rectangle([x - 1.2 * u, y - 1.2 * u, x + 1.2 * u, y + 1.2 * u], radius=0.4 * u, fill=m.colour,
                        outline=INK, width=lw)
    d.ellipse([x - 0.7 * u, y - 0.8 * u, x - 0.1 * u, y - 0.3 * u], fill=_mix(m.colour, WHITE, 0.6))


def draw_member(d: ImageDraw.ImageDraw, p: Placement, x: float, y: float, u: float, t: float, *,
                bottom: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """Draw one placement at frame position (x, y), unit `u`, gesture phase `t` (radians).

    Returns (where its voice comes from, its foot).
    """
    m = p.member
    if p.kind == "person":
        person(d, x, y, u, m, t, p.pose != "idle", reach=min(1.0, 0.04 * bottom / max(1e-6, 2.5 * u)))
        return (x, y + 0.35 * u), (x, y + 6.6 * u)
    if p.kind == "hands":
        hands(d, x, y, u, m, t, bottom)
        return (x, y), (x, y + 1.5 * u)
    if p.kind == "vessel":
        boat(d, x, y, u, m, t)
    elif p.kind == "animal":
        animal(d, x, y, u, m, t)
    else:
        prop(d, x, y, u, m, t)
    return (x, y), (x, y + 1.2 * u)


def card_box(p: Placement, x: float, y: float, u: float, picture_h: float) -> tuple[float, float, float, float]:
    """Where a member's own photo stands in for its silhouette: a portrait card over the figure's extent."""
    top, foot = {"person": (-0.8, 6.6), "hands": (-1.4, 1.6)}.get(p.kind, (-1.3, 1.3))
    h = min((foot - top) * u, picture_h * 1.05)
    w = h * 0.75
    cy = y + (top + foot) / 2 * u if (foot - top) * u <= picture_h * 1.05 else y + top * u + h / 2
    return (x - w / 2, cy - h / 2, x + w / 2, cy + h / 2)


def draw_card(frame: Image.Image, photo: Image.Image, box: tuple[float, float, float, float],
              colour: tuple[int, int, int]) -> None:
    """Paste the member's photo into `box` (cover-fitted), framed in its identity colour."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    w, h = x1 - x0, y1 - y0
    if w < 4 or h < 4:
        return
    scale = max(w / photo.width, h / photo.height)
    cw, ch = min(photo.width, w / scale), min(photo.height, h / scale)
    left, top = max(0.0, (photo.width - cw) / 2), max(0.0, (photo.height - ch) / 2)
    frame.paste(photo.resize((w, h), Image.Resampling.BILINEAR, box=(left, top, left + cw, top + ch)), (x0, y0))
    lw = max(2, int(min(w, h) * 0.035))
    d = ImageDraw.Draw(frame)
    d.rectangle([x0, y0, x1 - 1, y1 - 1], outline=INK, width=lw + 2)
    d.rectangle([x0 + 1, y0 + 1, x1 - 2, y1 - 2], outline=colour, width=lw)


def _arrow(d: ImageDraw.ImageDraw, pts: list[tuple[float, float]], lw: int) -> None:
    """A storyboard arrow: white stroke, ink outline, solid head at the last point."""
    (ax, ay), (bx, by) = pts[-2], pts[-1]
    ang = math.atan2(by - ay, bx - ax)
    hl = lw * 4.5
    head = [(bx + math.cos(ang) * hl * 0.6, by + math.sin(ang) * hl * 0.6),
            (bx + math.cos(ang + 2.5) * hl, by + math.sin(ang + 2.5) * hl),
            (bx + math.cos(ang - 2.5) * hl, by + math.sin(ang - 2.5) * hl)]
    d.line(pts, fill=INK, width=lw * 2 + 2, joint="curve")
    d.polygon(head, fill=INK)
    d.line(pts, fill=WHITE, width=lw, joint="curve")
    shrink = [(bx + (q[0] - bx) * 0.62, by + (q[1] - by) * 0.62) for q in head]
    d.polygon(shrink, fill=WHITE)


def draw_move(d: ImageDraw.ImageDraw, move: str, picture: Box, frame: tuple[int, int],
              subject: tuple[float, float], zoom: float = 1.25) -> None:
    """The camera move as storyboards draw it: pans/tilts/cranes as arrows, push/pull as corner arrows."""
    x0, y0, x1, y1 = picture
    pw, ph = x1 - x0, y1 - y0
    lw = max(2, int(min(frame) * 0.008))
    if move in ("pan_left", "pan_right"):
        a, b = x0 + 0.66 * pw, x0 + 0.34 * pw
        y = y0 + 0.1 * ph
        _arrow(d, [(a, y), (b, y)] if move == "pan_left" else [(b, y), (a, y)], lw)
    elif move in ("tilt_up", "tilt_down", "crane_up", "crane_down"):
        x = x0 + 0.93 * pw
        a, b = y0 + 0.75 * ph, y0 + 0.25 * ph
        up = move.endswith("_up")
        _arrow(d, [(x, a), (x, b)] if up else [(x, b), (x, a)], lw)
        if move.startswith("crane"):  # a crane moves the camera: a second, parallel arrow
            _arrow(d, [(x - 3 * lw, a), (x - 3 * lw, b)] if up else [(x - 3 * lw, b), (x - 3 * lw, a)], lw)
    elif move in ("zoom_in", "zoom_out"):
        cx, cy = frame[0] / 2, frame[1] / 2
        ix, iy = frame[0] / (2 * zoom), frame[1] / (2 * zoom)
        # the corner arrows only: a frame-in-frame held still over the picture is a long static edge
        # right where a zoom moves the picture most, and would pull a camera-motion estimate to "static"
        inner = (cx - ix, max(y0 + lw * 3, cy - iy), cx + ix, min(y1 - lw * 3, cy + iy))
        for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            outer = (x0 + pw * (0.04 if sx < 0 else 0.96), y0 + ph * (0.08 if sy < 0 else 0.92))
            corner = (inner[0] if sx < 0 else inner[2], inner[1] if sy < 0 else inner[3])
            mid = (outer[0] + (corner[0] - outer[0]) * 0.8, outer[1] + (corner[1] - outer[1]) * 0.8)
            _arrow(d, [outer, mid] if move == "zoom_in" else [mid, outer], lw)
    elif move == "orbit":
        cx, cy = subject
        rx, ry = pw * 0.24, ph * 0.06
        pts = [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in
               [math.radians(v) for v in range(200, 521, 12)]]
        pts = [(min(max(px, x0 + lw * 4), x1 - lw * 4), min(max(py, y0 + lw * 4), y1 - lw * 4)) for px, py in pts]
        _arrow(d, pts, lw)
    elif move == "handheld":
        bx, by = x0 + 0.05 * pw, y0 + 0.1 * ph
        pts = [(bx + k * pw * 0.018, by + (lw * 2.5 if k % 2 else -lw * 2.5)) for k in range(8)]
        _arrow(d, pts, lw)
    else:  # locked off: a tripod
        bx, by, s = x0 + 0.06 * pw, y0 + 0.12 * ph, ph * 0.08
        for dx in (-0.8, 0.0, 0.8):
            d.line([(bx, by), (bx + dx * s, by + 1.6 * s)], fill=INK, width=lw + 2)
            d.line([(bx, by), (bx + dx * s, by + 1.6 * s)], fill=WHITE, width=max(1, lw - 1))
        d.rectangle([bx - 0.7 * s, by - 0.6 * s, bx + 0.7 * s, by], fill=WHITE, outline=INK, width=max(1, lw // 2))


def bubble_tail(d: ImageDraw.ImageDraw, bubble: Box, mouth: tuple[float, float], picture: Box) -> None:
    """The speech bubble's tail: from the bubble's top edge toward the speaker's mouth."""
    bx = min(max(mouth[0], bubble[0] + (bubble[2] - bubble[0]) * 0.15), bubble[0] + (bubble[2] - bubble[0]) * 0.45)
    base_y = bubble[1]
    half = max(6.0, (bubble[2] - bubble[0]) * 0.04)
    tip_x = bx + (mouth[0] - bx) * 0.85
    tip_y = max(picture[1] + 4, base_y + (mouth[1] - base_y) * 0.82)
    lw = max(2, int((picture[3] - picture[1]) * 0.005))
    d.polygon([(bx - half, base_y + lw * 2), (tip_x, tip_y), (bx + half, base_y + lw * 2)], fill=WHITE)
    d.line([(bx - half, base_y + lw), (tip_x, tip_y), (bx + half, base_y + lw)], fill=INK, width=lw)
