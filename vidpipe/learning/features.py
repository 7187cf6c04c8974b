"""Prompt features stored with every QC pass and score, so patterns can be mined later."""

from __future__ import annotations

import re
from typing import Any

from vidpipe.qc.content.intent import read_intent

_BLOCK = re.compile(r"\[\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}\]")
_QUOTE = re.compile(r"\"[^\"]{2,}\"|“[^”]{2,}”")
STYLE_ANCHORS = ("kodak", "fuji", "35mm film", "film grain", "grain", "lens", "palette", "deakins", "lubezki",
                 "wes anderson", "tungsten", "anamorphic", "noir", "pastel", "sodium", "teal", "amber")
CAMERA_TERMS = ("push-in", "pull-out", "pan", "tilt", "orbit", "dolly", "handheld", "tracking", "drone", "crane",
                "close-up", "wide shot", "medium shot", "low angle", "high angle", "static", "tripod", "zoom")


INTENT_FEATURES = ("forbids_text", "speaking", "one_speaker", "camera_move")


def extract_features(request: dict[str, Any], *, category: str | None = None, mode: str | None = None,
                     model: str | None = None, intent: bool = True) -> dict[str, Any]:
    """Category, mode, word/block counts, dialogue, audio, aspect, duration, refs, style and camera terms,
    and (with `intent`) what the content QC judges against — the costly part: lint asks for it only
    when a rule names one of INTENT_FEATURES."""
    prompt = str(request.get("prompt") or "")
    low = prompt.lower()
    feats = {
        "category": category or "general",
        "mode": mode,
        "model": model,
        "word_count": len(prompt.split()),
        "block_count": len(_BLOCK.findall(prompt)),
        "has_dialogue": bool(_QUOTE.search(prompt)),
        "audio_on": request.get("generate_audio", True) is not False,
        "aspect_ratio": request.get("aspect_ratio"),
        "duration": request.get("duration"),
        "resolution": request.get("resolution"),
        "n_reference_images": len(request.get("reference_images") or []),
        "n_reference_videos": len(request.get("reference_videos") or []),
        "n_reference_audios": len(request.get("reference_audios") or []),
        "has_image": bool(request.get("image")),
        "style_anchor_count": sum(1 for a in STYLE_ANCHORS if a in low),
        "camera_terms": [c for c in CAMERA_TERMS if c in low],
    }
    if intent:  # what the content QC judges against (vidpipe.qc.content.intent), so defect rates can be mined
        read = read_intent(request, mode=mode, model=model, duration_s=1e6)  # every block counts here
        feats.update(forbids_text=read.forbids_text, speaking=read.speaking, one_speaker=read.one_speaker,
                     camera_move=read.blocks[0].asked if read.blocks else None)
    return feats
