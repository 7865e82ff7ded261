"""What the total deadline costs per request: archlint.netio.DeadlineSession (a watchdog timer and a
duplicated socket descriptor per request, the body read under a byte cap) against a plain
requests.Session with a per-read timeout, both reading the same answers from a local server.

    python bench/netio_bench.py              # 500 requests of 100 KB, then 500 of 2 KB
    python bench/netio_bench.py -n 2000

Target: under 1 ms more wall time per request than plain requests (an index request over the
internet costs 10-100 ms). Most of it is starting and joining the watchdog timer thread.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archlint.netio import DeadlineSession


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 20  # headers and body in one write: no Nagle / delayed-ACK stalls on small answers

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body = b"x" * int(self.path.strip("/"))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def measure(session: requests.Session, url: str, n: int) -> tuple[float, float]:
    session.get(url, timeout=10).content  # noqa: B018 - connect once, as a warm pool would be
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        assert len(session.get(url, timeout=10).content) > 0
    return (time.perf_counter() - t0) / n, (time.process_time() - c0) / n


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=500)
    args = ap.parse_args()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port = httpd.server_address[1]
    print(f"{args.n} sequential GETs per row, keep-alive, 127.0.0.1; load average {os.getloadavg()[0]:.1f}")
    print(f"{'':34}{'wall/request':>14}{'CPU/request':>14}")
    for size in (100_000, 2_000):
        url = f"http://127.0.0.1:{port}/{size}"
        plain = measure(requests.Session(), url, args.n)
        deadline = measure(DeadlineSession(10.0, 1 << 20), url, args.n)
        for label, (wall, cpu) in ((f"requests.Session ({size} B)", plain), (f"DeadlineSession ({size} B)", deadline)):
            print(f"{label:34}{wall * 1e3:>11.3f} ms{cpu * 1e3:>11.3f} ms")
        wall, cpu = deadline[0] - plain[0], deadline[1] - plain[1]
        print(f"{'  difference':34}{wall * 1e3:>11.3f} ms{cpu * 1e3:>11.3f} ms")
    httpd.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
