"""The one error type that maps to exit code 2 (usage, config, internal)."""

from __future__ import annotations


class FatalError(Exception):
    """A user mistake (bad flag, bad config) or an internal error: exit 2.

    Problems in *scanned* files are never FatalError: they become findings.
    """
