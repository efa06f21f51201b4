"""A fake Hugging Face Hub on 127.0.0.1 for `docsearch models pull`.

It serves the two endpoints the downloader uses, as the real Hub does:
- `GET /api/models/{repo}/tree/{revision}`: a JSON list of files; large files carry
  `lfs: {oid: sha256, size}`, small ones only `oid` (their git blob sha1);
- `GET /{repo}/resolve/{revision}/{path}`: a 302 redirect to `/cdn/...` (the Hub sends files
  through a CDN), which serves the bytes with `Range` support (206 / Content-Range).

Faults: `cut_after[path] = n` ends the next responses for that file after n bytes (the
connection drops mid-body, `cuts` times), and `wrong_sha256` makes the listing lie.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer

from tests.local_server import QuietHandler, ServedFake, serve


@dataclass
class HubFile:
    repo: str
    path: str
    data: bytes
    lfs: bool


@dataclass
class FakeHub(ServedFake):
    files: list[HubFile]
    revision: str = "main"
    cut_after: dict[str, int] = field(default_factory=dict)
    cuts: int = 1
    wrong_sha256: bool = False
    ranges: list[str] = field(default_factory=list)  # Range headers received on file downloads
    _server: ThreadingHTTPServer | None = None

    def listing(self, repo: str) -> list[dict]:
        out = []
        for f in self.files:
            if f.repo != repo:
                continue
            blob = hashlib.sha1(b"blob %d\0" % len(f.data) + f.data, usedforsecurity=False).hexdigest()
            entry: dict = {"type": "file", "oid": blob, "size": len(f.data), "path": f.path}
            if f.lfs:
                sha = hashlib.sha256(f.data).hexdigest()
                if self.wrong_sha256:
                    sha = "0" * 64
                entry["lfs"] = {"oid": sha, "size": len(f.data), "pointerSize": 134}
            out.append(entry)
        return out

    def start(self) -> FakeHub:
        hub = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                parts = self.path.split("/")
                if self.path.startswith("/api/models/"):
                    # /api/models/{owner}/{name}/tree/{revision}
                    repo = "/".join(parts[3:5])
                    if parts[5:7] != ["tree", hub.revision] or not hub.listing(repo):
                        return self.send(404, b'{"error":"Repository not found"}', {})
                    body = json.dumps(hub.listing(repo)).encode()
                    return self.send(200, body, {"Content-Type": "application/json"})
                if len(parts) > 4 and parts[3] == "resolve":
                    target = "/cdn/" + "/".join(parts[1:3] + parts[5:])
                    return self.send(302, b"", {"Location": target})
                if self.path.startswith("/cdn/"):
                    repo, path = "/".join(parts[2:4]), "/".join(parts[4:])
                    match = [f for f in hub.files if f.repo == repo and f.path == path]
                    if not match:
                        return self.send(404, b"not found", {})
                    return self._file(match[0])
                return self.send(404, b"not found", {})

            def _file(self, f: HubFile) -> None:
                data, start = f.data, 0
                range_header = self.headers.get("Range")
                if range_header:
                    hub.ranges.append(range_header)
                    start = int(range_header.removeprefix("bytes=").split("-")[0])
                    if start >= len(data):
                        return self.send(416, b"", {"Content-Range": f"bytes */{len(data)}"})
                body = data[start:]
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                cut = hub.cut_after.get(f.path)
                if cut is not None and hub.cuts > 0:
                    hub.cuts -= 1
                    self.wfile.write(body[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    return None  # the body stops short of Content-Length: a dropped download
                self.wfile.write(body)
                return None

        self._server = serve(Handler)
        return self

