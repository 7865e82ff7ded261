"""What the registry fixtures push, and the credentials the token server accepts."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from registry_support.servers import RegistryProcess, TokenServer

# repository:tag -> what it is, as pushed by `_push_all`.
IMAGES = {
    "archlint/multi:1.0": ("linux/amd64", "linux/arm64"),
    "archlint/amd64only:1.0": ("linux/amd64",),
    "archlint/arm64only:1.0": ("linux/arm64",),
    "archlint/dockerlist:1.0": ("linux/amd64", "linux/arm/v7", "linux/arm64"),
    "archlint/attested:1.0": ("linux/amd64",),
    "team/deep/nested/api:2.0": ("linux/amd64", "linux/arm64"),
}

USERS = {"ci": "s3cret-pa55"}
REFRESH_TOKENS = {"refresh-0123456789"}


@dataclass
class Pushed:
    registry: RegistryProcess
    digests: dict[str, str] = field(default_factory=dict)  # "repo:tag" -> top manifest digest
    token_server: TokenServer | None = None

    @property
    def host(self) -> str:
        return self.registry.host

    def ref(self, name: str) -> str:
        return f"{self.host}/{name}"


def basic_auth_entry(user: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
