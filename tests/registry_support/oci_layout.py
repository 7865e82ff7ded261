"""Build real OCI image layouts in Python and push them to a registry over its HTTP API.

The layouts follow the OCI image-layout spec (`oci-layout`, `index.json`, `blobs/sha256/…`):
each image has a gzip'd tar layer, a config blob naming its os/architecture, and a manifest;
indexes and Docker manifest lists reference per-platform manifests. `push` walks a tagged
descriptor's graph and uploads blobs, child manifests (by digest) and the top manifest (by tag),
exactly as `docker push`/`oras` do, so the registry validates every reference.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
IN_TOTO = "application/vnd.in-toto+json"
REF_NAME = "org.opencontainers.image.ref.name"

Descriptor = dict[str, Any]


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


class Layout:
    """An OCI image layout directory being written."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
        self.tags: list[Descriptor] = []
        self._write_index()

    def blob(self, data: bytes, media_type: str) -> Descriptor:
        digest = _digest(data)
        (self.root / "blobs" / "sha256" / digest.split(":", 1)[1]).write_bytes(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def read(self, digest: str) -> bytes:
        return (self.root / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes()

    def image(self, arch: str, os: str = "linux", variant: str = "", docker: bool = False) -> Descriptor:
        """A one-layer image for os/arch[/variant]; Docker v2 media types when `docker`."""
        tar_bytes = io.BytesIO()
        with tarfile.open(fileobj=tar_bytes, mode="w") as tar:
            payload = f"built for {os}/{arch}{'/' + variant if variant else ''}\n".encode()
            info = tarfile.TarInfo("etc/archlint-platform")
            info.size = len(payload)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(payload))
        raw = tar_bytes.getvalue()
        layer = self.blob(gzip.compress(raw, mtime=0), DOCKER_LAYER if docker else OCI_LAYER)
        config: dict[str, Any] = {
            "architecture": arch,
            "os": os,
            "config": {"Entrypoint": ["/bin/true"]},
            "rootfs": {"type": "layers", "diff_ids": [_digest(raw)]},
            "history": [{"created_by": "archlint test builder"}],
        }
        if variant:
            config["variant"] = variant
        cfg = self.blob(_canonical(config), DOCKER_CONFIG if docker else OCI_CONFIG)
        manifest = {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST,
            "config": cfg,
            "layers": [layer],
        }
        desc = self.blob(_canonical(manifest), manifest["mediaType"])
        desc["platform"] = {"architecture": arch, "os": os, **({"variant": variant} if variant else {})}
        return desc

    def attestation(self, subject: Descriptor) -> Descriptor:
        """A buildx-style provenance attestation manifest for `subject` (an `unknown/unknown` index entry)."""
        statement = {
            "_type": "https://in-toto.io/Statement/v0.1",
            "subject": [{"digest": {"sha256": subject["digest"][7:]}}],
        }
        layer = self.blob(_canonical(statement), IN_TOTO)
        layer["annotations"] = {"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"}
        config = {"architecture": "unknown", "os": "unknown", "rootfs": {"type": "layers", "diff_ids": []}}
        cfg = self.blob(_canonical(config), OCI_CONFIG)
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": cfg, "layers": [layer]}
        desc = self.blob(_canonical(manifest), OCI_MANIFEST)
        desc["platform"] = {"architecture": "unknown", "os": "unknown"}
        desc["annotations"] = {
            "vnd.docker.reference.digest": subject["digest"],
            "vnd.docker.reference.type": "attestation-manifest",
        }
        return desc

    def index(self, children: list[Descriptor], docker: bool = False) -> Descriptor:
        """An OCI image index, or a Docker manifest list when `docker`."""
        media_type = DOCKER_LIST if docker else OCI_INDEX
        doc = {"schemaVersion": 2, "mediaType": media_type, "manifests": children}
        return self.blob(_canonical(doc), media_type)

    def tag(self, desc: Descriptor, name: str) -> Descriptor:
        entry = {k: v for k, v in desc.items() if k != "platform"}
        entry["annotations"] = {**entry.get("annotations", {}), REF_NAME: name}
        self.tags.append(entry)
        self._write_index()
        return desc

    def _write_index(self) -> None:
        doc = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": self.tags}
        (self.root / "index.json").write_text(json.dumps(doc, indent=2))


class Pusher:
    """Upload an OCI layout's tagged images to a registry (monolithic blob uploads)."""

    def __init__(self, base_url: str, authorize: Callable[[str, str], str | None] | None = None) -> None:
        self.base = base_url.rstrip("/")
        self.session = requests.Session()
        self.authorize = authorize  # (repository, WWW-Authenticate) -> Authorization header value
        self._authz: dict[str, str] = {}

    def _call(self, method: str, url: str, repository: str, **kw: Any) -> requests.Response:
        for _ in range(2):
            headers = dict(kw.pop("headers", {}) or {})
            if repository in self._authz:
                headers["Authorization"] = self._authz[repository]
            resp = self.session.request(method, url, headers=headers, timeout=30, **kw)
            kw["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
            if resp.status_code == 401 and self.authorize is not None:
                value = self.authorize(repository, resp.headers.get("WWW-Authenticate", ""))
                if value:
                    self._authz[repository] = value
                    continue
            return resp
        return resp

    def push(self, layout: Layout, repository: str, ref_name: str, tag: str) -> str:
        """Push the layout entry named `ref_name` as `repository:tag`; returns the top manifest digest."""
        entry = next(d for d in layout.tags if d.get("annotations", {}).get(REF_NAME) == ref_name)
        self._push_manifest(layout, repository, entry, tag)
        return str(entry["digest"])

    def _push_blob(self, layout: Layout, repository: str, desc: Descriptor) -> None:
        head = self._call("HEAD", f"{self.base}/v2/{repository}/blobs/{desc['digest']}", repository)
        if head.status_code == 200:
            return
        start = self._call("POST", f"{self.base}/v2/{repository}/blobs/uploads/", repository)
        assert start.status_code == 202, (start.status_code, start.text)
        location = start.headers["Location"]
        if location.startswith("/"):
            location = self.base + location
        sep = "&" if "?" in location else "?"
        put = self._call(
            "PUT",
            f"{location}{sep}digest={desc['digest']}",
            repository,
            data=layout.read(desc["digest"]),
            headers={"Content-Type": "application/octet-stream"},
        )
        assert put.status_code == 201, (put.status_code, put.text)

    def _push_manifest(self, layout: Layout, repository: str, desc: Descriptor, reference: str) -> None:
        body = layout.read(desc["digest"])
        doc = json.loads(body)
        if "manifests" in doc:
            for child in doc["manifests"]:
                self._push_manifest(layout, repository, child, child["digest"])
        else:
            for blob in [doc["config"], *doc["layers"]]:
                self._push_blob(layout, repository, blob)
        put = self._call(
            "PUT",
            f"{self.base}/v2/{repository}/manifests/{reference}",
            repository,
            data=body,
            headers={"Content-Type": desc["mediaType"]},
        )
        assert put.status_code == 201, (put.status_code, put.text)
