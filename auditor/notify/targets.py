"""--notify targets: parsed and checked before any collection, secrets read only from the environment."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

KINDS = ("email", "teams", "slack", "webhook")
# A webhook URL carries its own secret (a signature or token in path or query), so the command line may
# name an environment variable instead: --notify teams:env:AUDITOR_TEAMS_URL.
ENV_PREFIX = "env:"
_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


class TargetError(ValueError):
    """A --notify value that cannot be used, with the reason."""


@dataclass(frozen=True)
class Target:
    """Where one notification goes: an e-mail address or a webhook URL of one kind."""

    kind: str
    address: str

    @property
    def shown(self) -> str:
        """The target as logs and reports may show it: a webhook keeps only its scheme and host."""
        if self.kind == "email":
            return f"email:{self.address}"
        parts = urlsplit(self.address)
        return f"{self.kind}:{parts.scheme}://{parts.hostname or ''}{':' + str(parts.port) if parts.port else ''}/…"


def parse_target(text: str) -> Target:
    """One --notify value: email:ADDRESS, teams:URL, slack:URL or webhook:URL (URL may be env:NAME)."""
    kind, sep, rest = text.partition(":")
    if not sep or kind not in KINDS:
        raise TargetError(f"--notify {_safe(text)}: expected one of {', '.join(k + ':...' for k in KINDS)}")
    if kind == "email":
        if not _ADDRESS.match(rest):
            raise TargetError(f"--notify {text}: {rest!r} is not an e-mail address")
        return Target(kind, rest)
    url = rest
    if rest.startswith(ENV_PREFIX):
        name = rest[len(ENV_PREFIX) :]
        url = os.environ.get(name, "").strip()
        if not url:
            raise TargetError(f"--notify {kind}:{rest}: environment variable {name} is not set")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        # Webhook URLs are credentials: never send one, or the findings, over plain HTTP.
        raise TargetError(f"--notify {kind}:...: expected an https:// URL")
    return Target(kind, url)


def _safe(text: str) -> str:
    """A rejected value with anything after a scheme cut, in case it carried a secret."""
    return text.split("//", 1)[0] + ("//…" if "//" in text else "")
