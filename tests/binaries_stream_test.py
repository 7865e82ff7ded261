"""Bounded random access over forward-only streams (zip and tar members)."""

from __future__ import annotations

import io
import random

import pytest

from archlint.binaries.interface import BytesSource, LimitExceeded, StreamSource


def _data(n: int) -> bytes:
    return random.Random(7).randbytes(n)


@pytest.mark.parametrize("keep", [64, 1000, 1 << 20])
def test_matches_random_access_with_reopen(keep: int) -> None:
    data = _data(100_000)
    opened = []

    def reopen() -> io.BytesIO:
        opened.append(1)
        return io.BytesIO(data)

    stream = io.BytesIO(data)
    src = StreamSource(stream, len(data), cap=1 << 30, prefix=stream.read(64), keep=keep, reopen=reopen)
    ref = BytesSource(data)
    rng = random.Random(keep)
    for _ in range(300):
        off, n = rng.randrange(0, len(data) + 10), rng.randrange(1, 5000)
        assert src.pread(off, n) == ref.pread(off, n), (off, n)
    if keep < len(data):
        assert opened  # backward reads past the window re-opened the stream


def test_forward_only_stream_refuses_backward_reads_past_the_window() -> None:
    data = _data(50_000)
    src = StreamSource(io.BytesIO(data), len(data), cap=1 << 30, keep=1000)
    assert src.pread(10, 20) == data[10:30]
    assert src.pread(40_000, 100) == data[40_000:40_100]
    assert src.pread(500, 10) == data[500:510]  # inside the retained window
    with pytest.raises(LimitExceeded, match="behind the stream"):
        src.pread(20_000, 10)


def test_work_cap() -> None:
    data = _data(10_000)
    src = StreamSource(io.BytesIO(data), len(data), cap=4096)
    assert src.pread(0, 100) == data[:100]
    with pytest.raises(LimitExceeded, match="read cap"):
        src.pread(5000, 10)
