"""`vidpipe tts "text" | --file script.txt` — voiceover MP3 (44.1 kHz) with alignment and SRT."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from vidpipe.cli import app
from vidpipe.tts import synthesize_speech


@app.command()
def tts(
    text: Optional[str] = typer.Argument(None, help="What to say (or use --file)"),
    file: Optional[Path] = typer.Option(None, "--file", help="A text file to read instead"),
    voice: Optional[str] = typer.Option(None, "--voice",
                                        help="ElevenLabs voice id (default: the profile's; see `vidpipe voices`)"),
    model: Optional[str] = typer.Option(None, "--model", help="ElevenLabs model id (default eleven_multilingual_v2)"),
    out: Path = typer.Option(Path("speech.mp3"), "--out", help="MP3 to write (+ .alignment.json, .srt)"),
    backend: Optional[str] = typer.Option(None, help="preview | elevenlabs (default: elevenlabs if its key is set)"),
) -> None:
    """Synthesize speech; prints the MP3 path, its length and where the cues went."""
    if (text is None) == (file is None):
        raise typer.BadParameter("give the text or --file, not both and not neither")
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise typer.BadParameter(f"cannot read {file}: {exc.strerror}", param_hint="--file") from None

    res = synthesize_speech(text or "", out, voice_id=voice, backend=backend, model_id=model)
    typer.echo(str(res.path))
    typer.echo(f"{res.duration_s:.2f}s via {res.backend} (voice {res.voice_id}), {len(res.cues)} cues → "
               f"{res.srt_path}, {res.alignment_path}", err=True)
