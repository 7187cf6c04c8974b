"""The labelled QC benchmark: clips (recipes for footage.render) and cases (a clip + the request QC judges it
against + what QC must report). Truth is by construction: a clip was made to have a defect, or not.

A case's `expect` maps a code to the severity it must be reported at; `allow` lists codes that may appear
(as warnings) without counting either way — e.g. text that belongs to the scene when the prompt allows text,
or softness of a 176x144 source shown at 480p. Every other measured code must stay silent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MEASURED = ("camera_move_mismatch", "burnt_in_text", "cut_count_mismatch", "speech_missing", "face_missing",
            "faces_extra", "flicker", "blurry", "blocky", "frozen_frames", "black_frames")


@dataclass
class Case:
    id: str
    clip: str
    request: dict[str, Any]
    group: str
    expect: dict[str, str] = field(default_factory=dict)
    allow: frozenset[str] = frozenset()


WORDS = {"static": "locked-off tripod", "pan_left": "slow pan left", "pan_right": "pan right",
         "tilt_up": "tilt up", "tilt_down": "tilt down", "zoom_in": "slow push-in", "zoom_out": "pull-out",
         "dolly_in": "dolly in", "orbit": "slow orbit", "handheld": "handheld"}
CONTRA = {"pan_left": "pan right", "pan_right": "pan left", "tilt_up": "tilt down", "tilt_down": "tilt up",
          "zoom_in": "slow pull-out", "zoom_out": "slow push-in", "dolly_in": "pull back", "orbit": "static tripod",
          "static": "slow pan left"}
SUBJECT = {"astronaut": "An astronaut poses by a flag", "coffee": "A cup of coffee on a table",
           "chelsea": "A tabby cat looks up", "rocket": "A rocket on its launch pad",
           "motorcycle": "A motorcycle in a workshop", "hubble_deep_field": "A field of distant galaxies",
           "immunohistochemistry": "Stained tissue under a microscope", "bunny": "A big rabbit wakes in a meadow"}
LINE = 'The keeper says: "Steer north of the light."'


def _subject(src: str) -> str:
    key = src.split("@")[0].replace("video:", "")
    return SUBJECT.get(key, "A scene")


def cam(src: str, words: str, extra: str = "") -> dict[str, Any]:
    return {"prompt": f"{_subject(src)}. Camera: {words}. Style: natural light.{extra}", "generate_audio": False}


def plain(src: str, constraints: str = "") -> dict[str, Any]:
    tail = f" Constraints: {constraints}" if constraints else ""
    return {"prompt": f"{_subject(src)}. Style: natural light.{tail}", "generate_audio": False}


def speaking(constraints: str = "") -> dict[str, Any]:
    tail = f" Constraints: {constraints}" if constraints else ""
    return {"prompt": f"{LINE} Style: natural light.{tail}", "generate_audio": True}


def build_cases() -> tuple[dict[str, dict[str, Any]], list[Case]]:
    clips: dict[str, dict[str, Any]] = {}
    cases: list[Case] = []

    def clip(name: str, **recipe: Any) -> str:
        recipe.setdefault("seconds", 2.5)
        clips[name] = recipe
        return name

    def case(cid: str, c: str, req: dict[str, Any], group: str, expect: dict[str, str] | None = None,
             allow: tuple[str, ...] = ()) -> None:
        cases.append(Case(cid, c, req, group, dict(expect or {}), frozenset(allow)))

    # 1. Camera moves of every kind, made by warping real photos (and a real 720p still).
    sources = ["astronaut", "coffee", "chelsea", "rocket", "motorcycle", "bunny@1.0", "hubble_deep_field"]
    moves = ["pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out", "dolly_in", "orbit", "handheld"]
    for mi, move in enumerate(moves):
        for k in range(5):
            src = sources[(mi + k) % len(sources)]
            speed = 1.0 if k % 2 == 0 else 0.6
            c = clip(f"move_{move}_{src.replace('@', '')}", src=src, move=move, speed=speed)
            case(c + "/asked", c, cam(src, WORDS[move]), "camera")
            if move in CONTRA:
                case(c + "/contra", c, cam(src, CONTRA[move]), "camera", {"camera_move_mismatch": "error"})

    # 2. Locked-off shots with large subject motion: real sprites over a still real background, real footage,
    # moving lights. Asked "static": nothing to report. Asked to move: the camera did not.
    spr = ["astronaut", "rocket", "cat", "cup", "face"]
    paths = ["cross", "cross_back", "rise", "approach", "dance"]
    bgs = ["coffee", "rocket", "bunny@3.0", "hubble_deep_field", "motorcycle", "chelsea"]
    for i in range(15):
        s, p, bg = spr[i % 5], paths[(i + i // 5) % 5], bgs[i % 6]
        c = clip(f"locked_{s}_{p}_{bg.replace('@', '')}", src=bg, sprite=s, path=p, move="static", grain=5.0)
        case(c + "/static", c, cam(bg, "static, locked-off"), "static_subject")
        if i % 3 == 0:
            case(c + "/asked_pan", c, cam(bg, "slow pan right"), "static_subject", {"camera_move_mismatch": "error"})
    for j, (lt, bg) in enumerate([("sweep", "coffee"), ("sweep", "rocket"), ("pulse", "motorcycle"),
                                  ("pulse", "astronaut"), ("ramp", "chelsea"), ("ramp", "bunny@2.0")]):
        c = clip(f"light_{lt}_{bg.replace('@', '')}", src=bg, light=lt, move="static", grain=2.0)
        case(c + "/static", c, cam(bg, "locked-off"), "static_light")
    for t0 in (0.0, 2.6):
        c = clip(f"bunny_real_{t0:g}", src="video:bunny", t0=t0, fps=25, size=(640, 360), base=1.0, move="static")
        # The film's opening shot (t0 0) cranes up slowly (the rocks slide down 6% of the height in 2.5 s,
        # every tracked cell agrees): a slow tilt up there; the later shot is locked off.
        case(c + "/static", c, cam("bunny", "static tripod" if t0 else "slow tilt up"), "static_subject")
        case(c + "/asked_zoom", c, cam("bunny", "slow push-in"), "static_subject", {"camera_move_mismatch": "error"})

    # 3. The camera moves AND a large subject moves against it: the camera must still read right.
    for move, s, p, bg in [("pan_left", "astronaut", "cross_back", "coffee"), ("pan_right", "cat", "cross", "rocket"),
                           ("zoom_in", "rocket", "cross", "motorcycle"), ("tilt_up", "cup", "rise", "hubble_deep_field"),
                           ("zoom_out", "face", "approach", "chelsea"), ("pan_left", "astronaut", "dance", "bunny@4.0")]:
        c = clip(f"moving_{move}_{s}_{bg.replace('@', '')}", src=bg, sprite=s, path=p, move=move)
        case(c + "/asked", c, cam(bg, WORDS[move]), "moving_subject")
        case(c + "/contra", c, cam(bg, CONTRA[move]), "moving_subject", {"camera_move_mismatch": "error"})
        case(c + "/static", c, cam(bg, "locked-off"), "moving_subject", {"camera_move_mismatch": "error"})
    for move in ("pan_left", "zoom_in"):
        c = clip(f"bunny_real_{move}", src="video:bunny", t0=0.5, fps=25, size=(640, 360), move=move, speed=0.8)
        case(c + "/asked", c, cam("bunny", WORDS[move]), "moving_subject")
        case(c + "/contra", c, cam("bunny", CONTRA[move]), "moving_subject", {"camera_move_mismatch": "error"})

    # 4. The preview backend's own animatics (rendered through the backend registry).
    for words, contra in [("slow push-in", "pull-out"), ("pan left", "pan right"), ("pan right", "pan left"),
                          ("tilt up", "tilt down"), ("static tripod", "pan left"), ("slow orbit", None)]:
        req = {"prompt": f"A red lighthouse on a grey cliff. Camera: {words}. Sound: wind. Constraints: no text.",
               "duration": 4, "resolution": "480p", "aspect_ratio": "16:9", "generate_audio": True}
        c = clip(f"preview_{words.replace(' ', '_')}", preview=req, seconds=4)
        case(c + "/asked", c, req, "preview")
        if contra:
            case(c + "/contra", c, {**req, "prompt": req["prompt"].replace(words, contra)}, "preview",
                 {"camera_move_mismatch": "error"})

    # 5. Cuts. "single continuous take" makes any cut an error; without it, an unasked cut count warns.
    takes = ["single continuous take", "no cuts", "one shot", "one continuous shot, no cuts", "unbroken single take"]
    trio = [("astronaut", "coffee", "rocket"), ("chelsea", "motorcycle", "hubble_deep_field"),
            ("rocket", "astronaut", "chelsea"), ("coffee", "hubble_deep_field", "motorcycle"),
            ("motorcycle", "chelsea", "astronaut")]
    for k, (a, b, d) in enumerate(trio):
        c = clip(f"cuts2_{k}", segments=[{"src": a, "move": "pan_left", "seconds": 1.0},
                                         {"src": b, "move": "zoom_in", "seconds": 1.0},
                                         {"src": d, "move": "pan_right", "seconds": 1.0}])
        case(c + "/single_take", c, plain(a, takes[k]), "cuts", {"cut_count_mismatch": "error"})
        if k < 2:
            case(c + "/unasked", c, plain(a), "cuts", {"cut_count_mismatch": "warning"})
            case(c + "/three_blocks", c, {"prompt": f"[00:00-00:01] {a}. [00:01-00:02] {b}. [00:02-00:03] {d}.",
                                          "generate_audio": False}, "cuts")
    for k, (a, b) in enumerate([("astronaut", "coffee"), ("rocket", "chelsea")]):
        c = clip(f"cuts1_{k}", segments=[{"src": a, "move": "pan_right", "seconds": 1.3},
                                         {"src": b, "move": "pan_right", "seconds": 1.3}])
        case(c + "/single_take", c, plain(a, takes[k + 2]), "cuts", {"cut_count_mismatch": "error"})
    for k, (t0, secs) in enumerate([(0.4, 3.2), (4.6, 3.4), (2.4, 3.4)]):  # two real cuts inside each
        c = clip(f"bikes_cuts_{k}", src="video:bikes", t0=t0, seconds=secs, fps=25, size=(640, 272), base=1.0)
        case(c + "/single_take", c, plain("bikes", takes[k]), "cuts", {"cut_count_mismatch": "error"})
        if k == 0:
            case(c + "/unasked", c, plain("bikes"), "cuts", {"cut_count_mismatch": "warning"})
    for k, (t0, secs) in enumerate([(1.3, 1.6), (3.14, 2.2), (5.58, 1.8), (7.58, 2.0)]):  # inside one real shot
        c = clip(f"bikes_shot_{k}", src="video:bikes", t0=t0, seconds=secs, fps=25, size=(640, 272), base=1.0)
        case(c + "/single_take", c, plain("bikes", takes[k]), "fast_action", allow=("blurry",))
    c = clip("whip_pan", src="coffee", move="whip", seconds=2.0, grain=5.0)
    case(c + "/single_take", c, plain("coffee", "single continuous take"), "fast_action")
    c = clip("flash_lightning", src="rocket", move="pan_right", speed=0.5, flash=(20, 21, 40))
    case(c + "/single_take", c, plain("rocket", "no cuts"), "fast_action")
    c = clip("fast_dance", src="motorcycle", sprite="astronaut", path="dance", move="handheld")
    case(c + "/single_take", c, plain("motorcycle", "one shot"), "fast_action")

    # 6. Burnt-in text (720p footage, 640x360 photos): an error only when the prompt forbids text.
    ban = "no subtitles, no on-screen text"
    caps = [("bunny_sub", "video:bunny", {"text": "Where did everybody go?", "px": 36}),
            ("bunny_title", "video:bunny", {"text": "THE MEADOW", "px": 56, "y": 0.15}),
            ("bunny_small", "video:bunny", {"text": "I was only sleeping for a minute", "px": 22}),
            ("bunny_yellow", "video:bunny", {"text": "Good morning, sunshine", "px": 32, "color": (255, 230, 40)}),
            ("bunny_lower3", "video:bunny", {"text": "Dr. Ada Reyes, botanist", "px": 30, "align": "left",
                                             "y": 0.8, "box": True}),
            ("bunny_mark", "video:bunny", {"text": "SAMPLE", "px": 40, "align": "right", "y": 0.08, "opacity": 0.6}),
            ("coffee_sub", "coffee", {"text": "Another cup, please", "px": 24}),
            ("rocket_title", "rocket", {"text": "LAUNCH DAY", "px": 40, "y": 0.2}),
            ("chelsea_flash", "chelsea", {"text": "Meow means hello", "px": 26, "t0": 0.8, "t1": 1.8}),
            ("hubble_sub", "hubble_deep_field", {"text": "Billions of years ago", "px": 24})]
    for name, src, cap in caps:
        video_src = src.startswith("video:")
        c = clip(f"text_{name}", src=src, caption=cap, move="pan_right", speed=0.15,
                 size=(1280, 720) if video_src else (640, 360), base=1.0 if video_src else 0.9,
                 fps=25 if video_src else 24, t0=1.0)
        case(c + "/banned", c, plain(src, ban), "text", {"burnt_in_text": "error"})
        if name in ("bunny_sub", "coffee_sub", "rocket_title"):
            case(c + "/allowed", c, plain(src), "text", {"burnt_in_text": "warning"})
    for src, t0 in [("video:bunny", 0.0), ("video:bunny", 2.6), ("coffee", 0), ("rocket", 0), ("chelsea", 0),
                    ("motorcycle", 0), ("hubble_deep_field", 0), ("immunohistochemistry", 0)]:
        video_src = src.startswith("video:")
        c = clip(f"notext_{src.replace('video:', '')}_{t0:g}", src=src, t0=t0, move="pan_left", speed=0.15,
                 size=(1280, 720) if video_src else (640, 360), base=1.0 if video_src else 0.9,
                 fps=25 if video_src else 24)
        case(c + "/banned", c, plain(src, ban), "text")
    c = clip("scene_taxi", src="video:bikes", t0=1.3, seconds=1.7, fps=25, size=(640, 272), base=1.0)
    case(c + "/allowed", c, {"prompt": "A taxi rank in the rain, the TAXI sign lit. Style: handheld documentary.",
                             "generate_audio": False}, "scene_text", allow=("burnt_in_text", "blurry"))
    for src, word in [("coffee", "BAKERY"), ("rocket", "HANGAR 9"), ("motorcycle", "GARAGE")]:
        c = clip(f"sign_{src}", src=src, sign=word, move="pan_right", speed=0.3, size=(640, 360), base=0.9)
        case(c + "/allowed", c, {"prompt": f"{_subject(src)}, under a shop sign reading {word}. Style: daylight.",
                                 "generate_audio": False}, "scene_text", allow=("burnt_in_text",))

    # 7. Picture quality: flicker, blur, blocking (warnings).
    for k, (src, amp, per) in enumerate([("astronaut", 4, 2), ("coffee", 8, 2), ("rocket", 3, 2), ("chelsea", 6, 4),
                                         ("video:bunny", 5, 2)]):
        kw: dict[str, Any] = {"size": (640, 360), "fps": 25, "base": 1.0} if src.startswith("video:") else {}
        c = clip(f"flicker_{k}", src=src, move="pan_left", speed=0.4, flicker=amp, flicker_period=per, **kw)
        case(c + "/plain", c, plain(src), "quality", {"flicker": "warning"})
    for k, (src, sigma) in enumerate([("astronaut", 1.5), ("coffee", 2.5), ("rocket", 2.0), ("video:bunny", 3.0),
                                      ("motorcycle", 1.8)]):
        c = clip(f"blur_{k}", src=src, move="pan_right", speed=0.3, blur=sigma, size=(640, 360),
                 base=1.0 if src.startswith("video:") else 0.9, fps=25 if src.startswith("video:") else 24)
        case(c + "/plain", c, plain(src), "quality", {"blurry": "warning"})
    for k, (src, codec) in enumerate([("astronaut", "crf51"), ("coffee", "nodeblock"), ("rocket", "mpeg2"),
                                      ("video:bunny", "crf51"), ("motorcycle", "nodeblock")]):
        c = clip(f"blocky_{k}", src=src, move="pan_right", speed=0.3, codec=codec, size=(640, 360),
                 base=1.0 if src.startswith("video:") else 0.9, fps=25 if src.startswith("video:") else 24)
        case(c + "/plain", c, plain(src), "quality", {"blocky": "warning"}, allow=("blurry",))

    # 8. Speech on dialogue shots (a real face close-up on screen): silence, noise, tone, music, ambience.
    for sound in ("silence", "noise", "tone", "chord", "wind"):
        c = clip(f"speech_none_{sound}", src="face", move="handheld", audio=sound, seconds=3.0)
        case(c + "/dialogue", c, speaking(), "speech", {"speech_missing": "error"})
    for k, sound in enumerate(("speech", "speech:en-us:120", "speech:en:200:0.25", "speech+noise",
                               "speech:en:160:0.7:1.2")):
        c = clip(f"speech_ok_{k}", src="face", move="handheld", audio=sound, seconds=3.0)
        case(c + "/dialogue", c, speaking(), "speech")

    # 9. Faces on dialogue shots (speech present): absent faces, and faces at real sizes and angles.
    for src in ("coffee", "rocket", "chelsea", "motorcycle", "hubble_deep_field"):
        c = clip(f"noface_{src}", src=src, move="pan_left", speed=0.3, audio="speech", seconds=3.0)
        case(c + "/dialogue", c, speaking(), "faces", {"face_missing": "error"})
    c = clip("noface_bikes_walker", src="video:bikes", t0=7.58, seconds=2.0, fps=25, size=(640, 272), base=1.0,
             audio="speech")
    case(c + "/dialogue", c, speaking(), "faces", {"face_missing": "error"}, allow=("blurry",))
    faces = [("carphone_480p", {"src": "video:carphone", "fps": 30, "size": (586, 480), "base": 1.0, "seconds": 3.9}),
             ("carphone_native", {"src": "video:carphone", "fps": 30, "size": (176, 144), "base": 1.0, "seconds": 3.9}),
             ("astronaut_medium", {"src": "astronaut", "move": "handheld", "base": 0.9}),
             ("astronaut_720p", {"src": "astronaut", "move": "zoom_in", "speed": 0.3, "size": (1280, 720), "base": 1.0}),
             ("face_close", {"src": "face", "move": "handheld", "base": 1.0}),
             ("face_tilted", {"src": "face", "move": "orbit", "speed": 2.0, "base": 0.9}),
             ("face_small", {"src": "coffee", "sprite": "face", "path": "small", "size": (640, 360), "move": "handheld",
                            "grain": 2.5}),
             ("face_small_720p", {"src": "rocket", "sprite": "face", "path": "small", "size": (1280, 720),
                                  "move": "handheld", "grain": 2.5}),
             ("face_lowres", {"src": "lfw:4", "move": "handheld", "base": 1.0}),
             ("face_mirrored", {"src": "face_mirror", "move": "handheld", "base": 1.0})]
    for name, recipe in faces:
        c = clip(f"face_{name}", audio="speech", **{"seconds": 3.0, **recipe})
        case(c + "/dialogue", c, speaking(), "faces", allow=("blurry",))
    for k, size in enumerate([(320, 180), (640, 360)]):
        c = clip(f"two_faces_{k}", src="two_faces", move="handheld", base=1.0, size=size, audio="speech", seconds=3.0)
        case(c + "/one_speaker", c, speaking("one speaker only"), "faces", {"faces_extra": "warning"},
             allow=("blurry",))

    # 10. Frozen pictures and black gaps (real footage and photos).
    for name, recipe in [("bunny", {"src": "video:bunny", "fps": 25, "size": (640, 360), "base": 1.0, "seconds": 3.0,
                                    "hold": (1.0, 2.2)}),
                         ("bikes", {"src": "video:bikes", "t0": 3.14, "fps": 25, "size": (640, 272), "base": 1.0,
                                    "seconds": 2.2, "hold": (0.5, 1.5)}),
                         ("photo", {"src": "coffee", "move": "pan_left", "seconds": 3.0, "hold": (0.8, 1.8)})]:
        c = clip(f"frozen_{name}", **recipe)
        case(c + "/plain", c, plain("bunny" if "bunny" in name else recipe["src"]), "frozen",
             {"frozen_frames": "error"}, allow=("blurry",))
    for name, recipe in [("photo", {"src": "rocket", "move": "pan_right", "seconds": 3.0, "black": (1.0, 1.6)}),
                         ("bunny", {"src": "video:bunny", "fps": 25, "size": (640, 360), "base": 1.0, "seconds": 3.0,
                                    "black": (1.5, 2.0)})]:
        c = clip(f"black_{name}", **recipe)
        case(c + "/plain", c, plain("bunny" if "bunny" in name else recipe["src"]), "frozen",
             {"black_frames": "error"})
    return clips, cases
