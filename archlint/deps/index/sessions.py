"""Deadline sessions (archlint/netio.py) for hundreds of requests to one or two hosts, without
per-request overhead.

Two costs of a plain `requests.Session` dominate a cold dependency-tree run (measured with
bench/deps_tree_bench.py): with a CA bundle from the environment (REQUESTS_CA_BUNDLE,
CURL_CA_BUNDLE: corporate proxies, CI images), every new connection parses the whole bundle again
(~20 ms of CPU each); and every request re-reads the proxy settings from the environment. Here the
bundle is loaded once per process into an SSLContext (through the hook requests documents for
that, `build_connection_pool_key_attributes`, requests >= 2.32; older releases keep their default
behaviour), and the environment settings are computed once per scheme and host. What is verified,
and which proxies and credentials are used, is exactly what requests would do.
"""

from __future__ import annotations

import ssl
import threading
from typing import Any
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter

from archlint.netio import DeadlineSession, WatchedPools

_contexts: dict[str, ssl.SSLContext | None] = {}
_lock = threading.Lock()


def _context(cafile: str) -> ssl.SSLContext | None:
    """One context per bundle for the process (the identity matters: see cert_verify)."""
    with _lock:
        if cafile not in _contexts:
            try:
                _contexts[cafile] = ssl.create_default_context(cafile=cafile)
            except (OSError, ssl.SSLError, ValueError):
                _contexts[cafile] = None  # let requests and urllib3 report it as they would
        return _contexts[cafile]


class PreloadedCAAdapter(HTTPAdapter):
    def build_connection_pool_key_attributes(self, request: Any, verify: Any, cert: Any = None) -> Any:
        host, kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        pool: dict[str, Any] = dict(kwargs)
        cafile = pool.get("ca_certs")
        if isinstance(cafile, str) and "ssl_context" not in pool and pool.get("cert_reqs") == "CERT_REQUIRED":
            ctx = _context(cafile)
            if ctx is not None:
                del pool["ca_certs"]
                pool["ssl_context"] = ctx
        return host, pool

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        # requests sets the bundle on the pool after choosing it; a pool that holds the preloaded
        # context for that very bundle needs no second load per connection.
        super().cert_verify(conn, url, verify, cert)
        cafile = getattr(conn, "ca_certs", None)
        kw = getattr(conn, "conn_kw", None)
        if isinstance(cafile, str) and isinstance(kw, dict) and kw.get("ssl_context") is _context(cafile):
            conn.ca_certs = None


class _WatchedPreloadedCAAdapter(WatchedPools, PreloadedCAAdapter):
    """The deadline watchdog's connection classes (netio) with the preloaded CA bundle."""


class Session(DeadlineSession):
    """A deadline session whose environment-derived settings are computed once per scheme and host."""

    def __init__(self, deadline: float, max_bytes: int, adapter: HTTPAdapter) -> None:
        super().__init__(deadline, max_bytes, adapter=adapter)
        self._settings: dict[tuple[object, ...], Any] = {}

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        try:
            parts = urlsplit(url)
            key: tuple[object, ...] = (parts.scheme, parts.hostname, parts.port, repr(proxies), stream, verify, cert)
        except (TypeError, ValueError):
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        if key not in self._settings:
            self._settings[key] = super().merge_environment_settings(url, proxies, stream, verify, cert)
        return dict(self._settings[key])


def session(pools: int, workers: int, deadline: float, max_bytes: int) -> Session:
    """Every request ends within `deadline` seconds (connect, headers and body) and reads at most
    `max_bytes` unless the call says otherwise (netio.DeadlineSession.request)."""
    adapter = _WatchedPreloadedCAAdapter(pool_connections=pools, pool_maxsize=workers, max_retries=0)
    return Session(deadline, max_bytes, adapter)
