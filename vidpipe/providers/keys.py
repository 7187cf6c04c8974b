"""Provider keys: read from the environment only when a client is built; never printed, logged or stored."""

from __future__ import annotations

import os

from vidpipe.environment import KEY_ENV
from vidpipe.errors import ProviderNotConfigured


def require_key(provider: str) -> str:
    """The provider's key from the environment, or ProviderNotConfigured naming the variable."""
    var = KEY_ENV[provider]
    value = os.environ.get(var, "").strip()
    if not value:
        raise ProviderNotConfigured(
            f"{provider} is not configured: set {var} in the environment, or use --backend preview "
            "to render an offline preview instead",
            provider=provider,
            code="not_configured",
        )
    return value
