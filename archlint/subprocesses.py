"""Running a helper program (kubectl, git, a docker credential helper) so that nothing it starts
outlives the call.

`subprocess.run(..., timeout=)` kills the child it started, not what that child started: a
credential helper that runs `gcloud`, or a plugin kubectl runs, keeps running after archlint is
gone. Here the child leads a process group of its own; on a timeout, Ctrl-C or any other way out,
the whole group is killed. A group of its own also keeps the terminal's Ctrl-C away from the
child (archlint stops it instead).
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


def run_captured(
    cmd: Sequence[str],
    *,
    timeout: float,
    input: bytes | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Like `subprocess.run(cmd, capture_output=True, timeout=timeout, input=input)`; raises
    subprocess.TimeoutExpired (after the group is killed) and OSError (cannot start)."""
    proc = subprocess.Popen(
        list(cmd),
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except BaseException:
        _kill_group(proc)
        raise
    finally:
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    return subprocess.CompletedProcess(list(cmd), proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # Windows: no process groups of this kind
            proc.kill()
    except OSError:
        pass  # already gone (and its group with it)
    proc.wait()
