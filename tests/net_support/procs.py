"""Running archlint the way a user's shell does, and looking for what it leaves behind.

`launcher` prefixes a command so that it starts with Ctrl-C at its default (a test runner may have
been started with SIGINT ignored, and children inherit that) and, optionally, under an
address-space limit; an exec wrapper rather than `preexec_fn`, which is unsafe in a process with
threads (the test servers)."""

from __future__ import annotations

import os
import sys
import time

_WRAPPER = (
    "import os, resource, signal, sys\n"
    "signal.signal(signal.SIGINT, signal.SIG_DFL)\n"
    "limit = int(sys.argv[1])\n"
    "if limit:\n"
    "    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def launcher(memory_limit: int = 0) -> list[str]:
    return [sys.executable, "-c", _WRAPPER, str(memory_limit)]


def archlint(*args: str, memory_limit: int = 0) -> list[str]:
    return [*launcher(memory_limit), sys.executable, "-m", "archlint", *args]


def group_members(pgid: int) -> list[str]:
    """`pid command` of every process still in process group `pgid`."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(f"{entry} {cmd}")
    return out


def leftovers(pgid: int, grace: float = 1.0) -> list[str]:
    """Processes of the group still there `grace` seconds after its leader exited."""
    end = time.monotonic() + grace
    while True:
        left = group_members(pgid)
        if not left or time.monotonic() > end:
            return left
        time.sleep(0.05)


def foreign_lines(stderr: str) -> list[str]:
    """Lines on stderr that are not archlint's own (`archlint: ...`)."""
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith("archlint: ")]
