"""How long `--check-images` takes per image, against the real docker-registry on 127.0.0.1.

    python bench/registry_bench.py [--images 60]

Pushes N images (half multi-arch indexes, half single manifests read through their config blob),
then times archlint's client: sequential and concurrent with a cold cache, a warm cache (tags:
one HEAD each), digest-pinned references from the cache (no request), and, side by side, the
baseline a shell script would use: `skopeo inspect --raw` per image (when skopeo is installed).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from registry_support.fixtures import _build  # noqa: E402
from registry_support.oci_layout import Layout, Pusher  # noqa: E402
from registry_support.servers import RegistryProcess, registry_binary  # noqa: E402

from archlint.images import ImageRef, parse  # noqa: E402
from archlint.registry.auth import CredentialStore  # noqa: E402
from archlint.registry.cache import PlatformCache  # noqa: E402
from archlint.registry.oci import OCIRegistryClient, check_many  # noqa: E402


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


class LatencyProxy:
    """A loopback TCP proxy that delays every chunk the client sends by `delay` seconds, so each
    request costs about one round trip, as it does against a registry across the internet."""

    def __init__(self, upstream_port: int, delay: float) -> None:
        self.upstream_port, self.delay = upstream_port, delay
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            up = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._pump, args=(conn, up, self.delay), daemon=True).start()
            threading.Thread(target=self._pump, args=(up, conn, 0.0), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, delay: float) -> None:
        try:
            while data := src.recv(65536):
                if delay:
                    time.sleep(delay)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.sock.close()


def sequential(c: OCIRegistryClient, refs: list[ImageRef]) -> None:
    for r in refs:
        c.platforms(r)


def client(cache: Path | None) -> OCIRegistryClient:
    return OCIRegistryClient(credentials=CredentialStore([]), cache=PlatformCache(cache))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=60)
    ap.add_argument("--latency-ms", type=float, default=30.0, help="added per request (0: raw loopback)")
    args = ap.parse_args()
    if registry_binary() is None:
        print("docker-registry is not installed (apt-get install docker-registry)")
        return 1
    work = Path(tempfile.mkdtemp(prefix="archlint-registry-bench-"))
    layout = Layout(work / "layout")
    _build(layout)
    proc = RegistryProcess(work)
    proc.start()
    try:
        pusher = Pusher(proc.url)
        refs: list[ImageRef] = []
        pinned: list[ImageRef] = []
        for i in range(args.images):
            kind = ("multi", "amd64only", "dockerlist", "arm64only")[i % 4]
            digest = pusher.push(layout, f"bench/svc{i}", kind, "1.0")
            refs.append(parse(f"{proc.host}/bench/svc{i}:1.0"))
            pinned.append(parse(f"{proc.host}/bench/svc{i}@{digest}"))
        proxy = LatencyProxy(proc.port, args.latency_ms / 1000) if args.latency_ms else None
        if proxy is not None:  # the same images, reached through the slow link
            host = f"127.0.0.1:{proxy.port}"
            refs = [ImageRef(host, r.repository, r.tag, r.digest) for r in refs]
            pinned = [ImageRef(host, r.repository, r.tag, r.digest) for r in pinned]
        n = len(refs)
        cache = work / "cache"
        rows: list[tuple[str, float]] = []
        rows.append(("archlint, sequential, no cache", timed(lambda: sequential(client(None), refs))))
        rows.append(("archlint, 8 threads, no cache", timed(lambda: check_many(client(None), refs))))
        check_many(client(cache), refs)  # fill the cache
        rows.append(("archlint, sequential, warm cache (HEAD)", timed(lambda: sequential(client(cache), refs))))
        rows.append(("archlint, 8 threads, warm cache (HEAD)", timed(lambda: check_many(client(cache), refs))))
        check_many(client(cache), pinned)
        rows.append(("archlint, digest-pinned, warm cache", timed(lambda: check_many(client(cache), pinned))))
        skopeo = shutil.which("skopeo")
        if skopeo:

            def run_skopeo() -> None:
                for r in refs:
                    subprocess.run([skopeo, "inspect", "--raw", "--tls-verify=false", f"docker://{r}"],
                                   check=True, capture_output=True)  # fmt: skip

            rows.append(("baseline: skopeo inspect --raw, sequential", timed(run_skopeo)))
        else:
            rows.append(("baseline: skopeo inspect --raw (not installed)", float("nan")))
        link = f"+{args.latency_ms:g} ms per request through a proxy" if proxy else "raw loopback"
        print(f"{n} images on docker-registry {proc.host} ({link})")
        print(f"{'method':<48} {'total s':>9} {'ms/image':>9}")
        for label, secs in rows:
            print(f"{label:<48} {secs:>9.3f} {secs / n * 1000:>9.2f}")
        if proxy is not None:
            proxy.close()
    finally:
        proc.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
