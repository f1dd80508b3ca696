"""Credentials: DefaultAzureCredential for Azure, a static bearer token for the local endpoint."""

from __future__ import annotations

import time
from typing import Any

from azure.core.credentials import AccessToken


class StaticTokenCredential:
    """Hands out one fixed bearer token; only ever used against the local endpoint."""

    def __init__(self, token: str, lifetime_seconds: int = 3600) -> None:
        self._token = token
        self._lifetime = lifetime_seconds

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """A token that expires an hour from now, whatever the scope."""
        return AccessToken(self._token, int(time.time()) + self._lifetime)
