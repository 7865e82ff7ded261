"""An HTTP server for tests that says nothing when a client hangs up.

socketserver prints a traceback for every connection error; the deadline tests drop connections
on purpose, and a clean test run must not look like a crash."""

from __future__ import annotations

from http.server import ThreadingHTTPServer
from typing import Any


class QuietHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass
