"""Usage errors that help: a bad choice says what it probably meant; an unknown flag is reported
with the usage of the command it was given to, and the message is prefixed once."""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Callable, Iterable, Sequence

from archlint.errors import FatalError


class UsageError(FatalError):
    """A command-line mistake, reported as `PROG: error: MESSAGE` after PROG's usage."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog


# Letters typed for the digits they look like, in codes such as ARCH1O1 or ARCHl01.
_CONFUSABLE = str.maketrans({"o": "0", "l": "1", "i": "1"})


def suggest(value: str, options: Iterable[str]) -> str | None:
    """The option `value` most likely meant (a typo, or a different case), if any is close."""
    opts = list(options)
    lowered = {o.lower(): o for o in opts}
    for guess in (value.lower(), value.lower().translate(_CONFUSABLE)):
        if guess in lowered:
            return lowered[guess]
    close = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def did_you_mean(value: str, options: Iterable[str]) -> str:
    best = suggest(value, options)
    return f" (did you mean {best!r}?)" if best else ""


def choice(options: Sequence[str]) -> Callable[[str], str]:
    """An argparse `type` that accepts one of `options` and otherwise names the closest one."""

    def parse(value: str) -> str:
        if value in options:
            return value
        hint = did_you_mean(value, options)
        raise argparse.ArgumentTypeError(f"invalid choice: {value!r}{hint}; choose from {', '.join(options)}")

    parse.__name__ = "choice"  # argparse names the type in some messages
    return parse


def metavar(options: Sequence[str]) -> str:
    return "{" + ",".join(options) + "}"
