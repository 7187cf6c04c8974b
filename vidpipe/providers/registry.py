"""Build a video backend's adapter by name (kept out of the package file, which every provider import runs)."""

from __future__ import annotations

from vidpipe.environment import BACKENDS
from vidpipe.providers.base import Backend
from vidpipe.providers.fal import FalBackend
from vidpipe.providers.gemini import GeminiBackend
from vidpipe.providers.preview_backend import PreviewBackend


def get_backend(name: str) -> Backend:
    """A fresh adapter for backend `name` (the adapters import their SDK on first use, not at import)."""
    if name == "preview":
        return PreviewBackend()
    if name == "fal":
        return FalBackend()
    if name == "gemini":
        return GeminiBackend()
    raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
