"""Vulnerability answers kept between runs, so a warm run never imports pip-audit.

pip-audit's import alone costs ~0.1 s and runs `python -m pip --version` (pip-api); its own HTTP
cache still needs that import. An answer (name, version -> advisories) is kept for a day: new
advisories appear, so it must not live forever, but a pre-commit run should not ask again.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from archlint.cachefile import read_entry, write_entry
from archlint.deps.vulns.interface import Advisory

TTL = 24 * 3600.0
MAX_ENTRY = 1 << 20


class AnswerCache:
    def __init__(self, directory: Path, service: str) -> None:
        self.directory = directory
        self.service = service  # the service and its URL: answers of two services never mix

    def _path(self, name: str, version: str) -> Path:
        key = hashlib.sha256(f"{self.service}\x00{name}\x00{version}".encode()).hexdigest()
        return self.directory / key[:2] / key

    def get(self, name: str, version: str) -> list[Advisory] | None:
        raw = read_entry(self._path(name, version), MAX_ENTRY)
        if raw is None:
            return None
        try:
            doc = json.loads(raw)
            if time.time() - float(doc["at"]) > TTL:
                return None
            return [Advisory(str(a["id"]), tuple(str(x) for x in a["aliases"]), str(a["summary"])) for a in doc["ads"]]
        except (ValueError, KeyError, TypeError, RecursionError):
            return None  # a foreign or damaged entry is a miss

    def put(self, name: str, version: str, ads: list[Advisory]) -> None:
        doc = {"at": time.time(), "ads": [{"id": a.id, "aliases": list(a.aliases), "summary": a.summary} for a in ads]}
        write_entry(self._path(name, version), json.dumps(doc).encode())
