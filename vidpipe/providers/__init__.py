"""Provider adapters: fal (six video models + Flux), Gemini (Veo, an image model), ElevenLabs, offline preview.

Keys come only from the environment and are read when a client is built, never at import; they
are never printed, logged or written anywhere (sidecars, ledger, manifests hold no secrets).

This package file stays light: every `vidpipe.providers.x` import runs it, so it must not import
the adapters (the preview renderer alone costs ~0.3 s of numpy and Pillow). The adapters are
built by `registry.get_backend`.
"""

from __future__ import annotations

import importlib.util

from vidpipe.environment import BACKENDS, KEY_ENV, video_backend
from vidpipe.providers.keys import require_key

SDKS = {"preview": None, "fal": "fal_client", "gemini": "google.genai", "elevenlabs": "elevenlabs"}

__all__ = ["AVAILABLE_PROVIDERS", "BACKENDS", "KEY_ENV", "require_key", "select_backend"]


def _importable(module: str | None) -> bool:
    if module is None:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


# Adapters whose SDK is installed (found without importing it: the SDKs are slow to import).
AVAILABLE_PROVIDERS: tuple[str, ...] = tuple(name for name, mod in SDKS.items() if _importable(mod))


def select_backend(requested: str | None, model: str) -> str:
    """Which backend runs video `model` (decided in vidpipe.environment, the one place that decides)."""
    return video_backend(requested, model)

