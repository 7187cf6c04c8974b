"""burnt_in_text: captions, subtitles and watermark-like text in the frames.

Model: PP-OCRv4 text detection + recognition ONNX files shipped inside the rapidocr-onnxruntime
1.4.4 wheel (`rapidocr_onnxruntime/models/`), run directly with onnxruntime (nothing is downloaded;
the wrapper is not used, so we choose the input size). Cost control, in order:
1. frames: native luma planes every TEXT_SPACING_S, so any caption shown ≥ 1 s is seen at least once;
2. a cheap text-likelihood pre-filter on a 640-px copy (density of sharp 2-px luma steps per cell,
   in both directions),
   after blanking the clip's own label areas (vidpipe.qc.content.regions); frames with no dense
   cell never reach the network;
3. the detector runs only on the candidate bands, scaled to DET_WIDTH for the full frame width;
   a band whose pixels did not change since the previous frame reuses its result;
4. each detected line is confirmed by the recogniser's confidence (texture fools the detector,
   not the recogniser).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from vidpipe.qc.content.regions import Area, inside
from vidpipe.qc.technical import _r
from vidpipe.schema import Defect, Region

TEXT_SPACING_S = 0.9  # < 1 s: a caption held for one second always covers a looked-at frame
PREFILTER_WIDTH = 640  # a 24 px subtitle at 720p is 12 px here: its strokes survive the downscale
STEP_MIN = 48  # gray levels: a stroke edge (captions are ≥ 100 levels from their outline/background)
CELL = 16  # px at PREFILTER_WIDTH
# Calibration (min of both stroke directions per 16-px cell, at 640 px): Pillow subtitles of 18..40 px
# at 480p/720p peak at 0.33..0.47; clean footage — the scikit-image photos (astronaut, coffee, chelsea,
# gravel) at 720p and lavfi testsrc2's bars and noise squares — peaks at 0.02..0.21. A clean frame
# therefore never reaches the network.
CELL_DENSITY = 0.22
DET_WIDTH = 960  # the detector sees the frame at this width (at 640 a 22 px 720p subtitle and a 40 px
# translucent corner mark were missed on real footage: benchmarks/qc_bench; at 512 a 24 px one)
DET_THRESH = 0.3  # probability-map binarisation (PP-OCR's own default)
BOX_MIN_SCORE = 0.6  # mean probability inside a line box (PP-OCR's default box_thresh is 0.5)
BOX_MIN_H = 5  # px at DET_WIDTH (the DB kernel of a 22 px 720p subtitle is 6 px tall here)
# Recognition confidence (mean max-softmax over non-blank CTC steps): rendered captions 0.85..0.99;
# detector hits on texture that survived the shape checks 0.3..0.6.
REC_MIN = 0.75
REC_MIN_CHARS = 2
REUSE_DIFF = 3.0  # mean |Δ| gray levels: a band this close to last frame's is the same picture


def _models_dir() -> Path:
    import rapidocr_onnxruntime

    return Path(rapidocr_onnxruntime.__file__).parent / "models"


@lru_cache(maxsize=1)
def _sessions():
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1  # the audio decode runs beside us; one thread is the fastest here
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    d = _models_dir()
    det = ort.InferenceSession(str(d / "ch_PP-OCRv4_det_infer.onnx"), opts, providers=["CPUExecutionProvider"])
    rec = ort.InferenceSession(str(d / "ch_PP-OCRv4_rec_infer.onnx"), opts, providers=["CPUExecutionProvider"])
    return det, rec


def _norm(gray: np.ndarray) -> np.ndarray:
    x = (gray.astype(np.float32) / 127.5) - 1.0
    return np.repeat(x[None, None], 3, axis=1)


def _resize(gray: np.ndarray, w: int, h: int) -> np.ndarray:
    return np.asarray(Image.fromarray(gray).resize((max(1, w), max(1, h)), Image.Resampling.BILINEAR))


def candidate_bands(luma: np.ndarray, excluded: list[Area]) -> list[Area]:
    """Horizontal bands (fractions of the frame) whose cells are dense with sharp luma steps."""
    h0, w0 = luma.shape
    w = PREFILTER_WIDTH
    h = max(CELL, round(h0 * w / w0))
    small = _resize(luma, w, h).astype(np.int16)
    across = np.zeros(small.shape, dtype=bool)  # sharp steps along the row (vertical strokes)
    down = np.zeros(small.shape, dtype=bool)  # and along the column (horizontal strokes, dots, bowls)
    across[:, 1:-1] = np.abs(small[:, 2:] - small[:, :-2]) >= STEP_MIN
    down[1:-1, :] = np.abs(small[2:, :] - small[:-2, :]) >= STEP_MIN
    for x0, y0, x1, y1 in excluded:
        for m in (across, down):
            m[int(y0 * h): math.ceil(y1 * h), int(x0 * w): math.ceil(x1 * w)] = False
    rows, cols = h // CELL, w // CELL

    def density(m: np.ndarray) -> np.ndarray:
        return m[: rows * CELL, : cols * CELL].reshape(rows, CELL, cols, CELL).mean(axis=(1, 3))

    # Letters have strokes both ways; the edge of a bar, a horizon or a door frame has one direction.
    dens = np.minimum(density(across), 2 * density(down))
    hot = dens >= CELL_DENSITY
    bands: list[Area] = []
    r = 0
    while r < rows:
        if not hot[r].any():
            r += 1
            continue
        r1 = r
        while r1 + 1 < rows and hot[r1 + 1].any():
            r1 += 1
        cs = np.flatnonzero(hot[r: r1 + 1].any(axis=0))
        x0, x1 = max(0, cs.min() - 1) / cols, min(cols, cs.max() + 2) / cols
        # a cell row and a half of margin: the densest cells can be the lower half of a line of text
        bands.append((x0, max(0, r - 1.5) / rows, x1, min(rows, r1 + 2.5) / rows))
        r = r1 + 1
    return bands


@dataclass
class Line:
    box: Area  # fractions of the frame
    score: float
    confidence: float
    chars: int


def _detect(crop: np.ndarray) -> list[tuple[tuple[int, int, int, int], float]]:
    """Line boxes (x0, y0, x1, y1 in crop px) and their mean detector probability."""
    from scipy import ndimage

    det, _ = _sessions()
    h, w = crop.shape
    ph, pw = max(32, math.ceil(h / 32) * 32), max(32, math.ceil(w / 32) * 32)
    padded = np.full((ph, pw), int(np.median(crop)), dtype=np.uint8)
    padded[:h, :w] = crop
    prob = det.run(None, {det.get_inputs()[0].name: _norm(padded)})[0][0, 0][:h, :w]
    labels, n = ndimage.label(prob > DET_THRESH)
    out = []
    for k, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        ys, xs = sl
        bh, bw = ys.stop - ys.start, xs.stop - xs.start
        if bh < BOX_MIN_H or bw < 1.5 * bh:
            continue
        score = float(prob[sl][labels[sl] == k].mean())
        if score >= BOX_MIN_SCORE:
            # DB shrinks the text kernel; grow it back a little for the recogniser and the sheet
            g = max(2, bh // 3)
            out.append(((max(0, xs.start - g), max(0, ys.start - g), min(w, xs.stop + g), min(h, ys.stop + g)), score))
    return out


def _recognise(line: np.ndarray) -> tuple[float, int]:
    """(confidence, characters) of one line crop by the CTC recogniser."""
    _, rec = _sessions()
    h, w = line.shape
    tw = int(min(480, max(16, math.ceil(48 * w / max(1, h)))))
    x = _norm(_resize(line, tw, 48))
    probs = rec.run(None, {rec.get_inputs()[0].name: x})[0][0]
    best = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    keep = best != 0
    if not keep.any():
        return 0.0, 0
    chars = int(np.sum(keep & np.concatenate([[True], best[1:] != best[:-1]])))
    return float(conf[keep].mean()), chars


def read_lines(luma: np.ndarray, band: Area) -> list[Line]:
    """Detected and recognised text lines inside one band of a native luma plane."""
    h0, w0 = luma.shape
    x0, y0, x1, y1 = int(band[0] * w0), int(band[1] * h0), math.ceil(band[2] * w0), math.ceil(band[3] * h0)
    scale = DET_WIDTH / w0
    crop = luma[y0:y1, x0:x1]
    small = _resize(crop, round(crop.shape[1] * scale), round(crop.shape[0] * scale))
    out = []
    for (a, b, c, d), score in _detect(small):
        native = crop[int(b / scale): math.ceil(d / scale), int(a / scale): math.ceil(c / scale)]
        conf, chars = _recognise(native)
        box = ((x0 + a / scale) / w0, (y0 + b / scale) / h0, (x0 + c / scale) / w0, (y0 + d / scale) / h0)
        out.append(Line(box, score, conf, chars))
    return out


def text_times(duration_s: float) -> list[float]:
    """Instants to look at: every TEXT_SPACING_S, centred in the clip."""
    n = max(1, math.ceil(duration_s / TEXT_SPACING_S))
    return [duration_s * (k + 0.5) / n for k in range(n)]


def find_text(details: list[tuple[float, np.ndarray]], excluded: list[Area]) -> dict[float, list[Line]]:
    """Confirmed text lines per looked-at instant (empty list: looked, none)."""
    found: dict[float, list[Line]] = {}
    previous: dict[Area, tuple[np.ndarray, list[Line]]] = {}
    for t, luma in details:
        lines: list[Line] = []
        current: dict[Area, tuple[np.ndarray, list[Line]]] = {}
        h0, w0 = luma.shape
        for band in candidate_bands(luma, excluded):
            pix = luma[int(band[1] * h0): math.ceil(band[3] * h0), int(band[0] * w0): math.ceil(band[2] * w0)]
            same = previous.get(band)
            if same is not None and same[0].shape == pix.shape and \
                    float(np.abs(same[0].astype(np.int16) - pix).mean()) < REUSE_DIFF:
                got = same[1]
            else:
                got = [ln for ln in read_lines(luma, band) if not inside(ln.box, excluded)]
            current[band] = (pix, got)
            lines += [ln for ln in got if ln.confidence >= REC_MIN and ln.chars >= REC_MIN_CHARS]
        previous = current
        found[t] = lines
    return found


def text_defects(found: dict[float, list[Line]], *, forbidden: bool, spacing: float = TEXT_SPACING_S) -> list[Defect]:
    """burnt_in_text per run of looked-at instants with text (error when the prompt forbids text)."""
    times = sorted(found)
    out = []
    run: list[float] = []
    for t in times + [math.inf]:
        if t != math.inf and found[t]:
            run.append(t)
            continue
        if run:
            lines = [ln for s in run for ln in found[s]]
            best = max(ln.confidence for ln in lines)
            regions = [Region(t=_r(s), x=_r(ln.box[0]), y=_r(ln.box[1]), w=_r(ln.box[2] - ln.box[0]),
                              h=_r(ln.box[3] - ln.box[1])) for s in run for ln in found[s]]
            why = "the prompt forbids on-screen text" if forbidden else "no constraint forbids it"
            out.append(Defect(
                code="burnt_in_text", start_s=_r(max(0.0, run[0] - spacing / 2)), end_s=_r(run[-1] + spacing / 2),
                severity="error" if forbidden else "warning", value=_r(best), threshold=REC_MIN, regions=regions,
                detail=f"{len(regions)} text line(s) in {len(run)} of {len(times)} frames looked at "
                       f"(recognition confidence {best:.2f} ≥ {REC_MIN}); {why}"))
            run = []
    return out
