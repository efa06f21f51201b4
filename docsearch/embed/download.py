"""`docsearch models pull`: fetch an open-weight model from the Hugging Face Hub with httpx.

The Hub's public file protocol, nothing more:
- `GET {endpoint}/api/models/{repo}/tree/{revision}[/{folder}]` lists one folder of a repo (the
  top level without a folder; subfolders appear as `directory` entries, not their files) with
  each file's size and checksum: `lfs.oid` is the sha256 of a large (LFS) file, `oid` the git
  blob sha1 of a small one;
- `GET {endpoint}/{repo}/resolve/{revision}/{path}` serves the bytes (after a redirect to a CDN),
  and honours `Range` so that a partial download resumes where it stopped.

Files download into `<cache_dir>/models/.partial/NAME/`, which survives an interrupted run. Each
is verified against the Hub's checksum; a mismatch deletes it. The complete model is assembled
in a staging folder, loaded once to prove it runs, and only then renamed into place, so a
failed pull never leaves a broken model where a working one was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from docsearch.embed.models import MODEL_METADATA, HubFile, KnownModel, ModelStore, probe, spec_from_folder
from docsearch.errors import ServiceError, SettingsError
from docsearch.present import plural

DownloadProgress = Callable[[str, int, int], None]  # (file name, bytes done, bytes total)
CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class RemoteFile:
    file: HubFile
    url: str
    size: int
    sha256: str | None  # LFS files
    git_sha1: str | None  # small files kept in git


def _git_blob_sha1(path: Path) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(b"blob %d\0" % path.stat().st_size)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


class ModelDownloader:
    def __init__(
        self,
        endpoint: str,
        store: ModelStore,
        *,
        retries: int = 4,
        timeout: float = 30.0,
        backoff: float = 1.0,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.store = store
        self.retries = retries
        self.backoff = backoff
        self._client = httpx.Client(
            follow_redirects=True,
            timeout=httpx.Timeout(timeout, connect=10.0),
            headers={"User-Agent": "docsearch (model download)"},
        )

    def close(self) -> None:
        self._client.close()

    def _offline(self, exc: Exception, name: str) -> ServiceError:
        return ServiceError(
            f"cannot reach {self.endpoint} ({type(exc).__name__}): check the network, set HF_ENDPOINT "
            f"to a reachable mirror, or export the model yourself and run "
            f"`docsearch models add PATH --name {name}`"
        )

    def describe(self, model: KnownModel) -> list[RemoteFile]:
        """Sizes and checksums of the model's files, from the Hub's tree listing."""
        listings: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        remote: list[RemoteFile] = []
        for f in model.files:
            # The Hub lists one folder at a time: `onnx/model.onnx` is in the listing of `onnx`.
            folder = f.path.rpartition("/")[0]
            key = (f.repo, f.revision, folder)
            if key not in listings:
                below = "/" + quote(folder, safe="") if folder else ""
                url = f"{self.endpoint}/api/models/{f.repo}/tree/{f.revision}{below}"
                try:
                    response = self._client.get(url)
                except httpx.TransportError as exc:
                    raise self._offline(exc, model.name) from None
                if response.status_code != 200:
                    raise ServiceError(f"{url} answered HTTP {response.status_code}")
                try:
                    listing = response.json()
                except ValueError:
                    raise ServiceError(f"{url} did not answer JSON") from None
                listings[key] = listing if isinstance(listing, list) else []
            entry = next((e for e in listings[key] if e.get("path") == f.path), None)
            if entry is None:
                raise ServiceError(f"{f.repo}@{f.revision} has no file {f.path} on {self.endpoint}")
            lfs = entry.get("lfs") or {}
            remote.append(
                RemoteFile(
                    file=f,
                    url=f"{self.endpoint}/{f.repo}/resolve/{f.revision}/{f.path}",
                    size=int(lfs.get("size", entry.get("size", 0))),
                    sha256=lfs.get("oid"),
                    git_sha1=None if lfs else entry.get("oid"),
                )
            )
        return remote

    def pull(self, model: KnownModel, progress: DownloadProgress | None = None) -> Path:
        if model.kind != "download":
            raise SettingsError(f"{model.name} is not a downloadable model ({model.kind})")
        remote = self.describe(model)
        partial = self.store.root / ".partial" / model.name
        partial.mkdir(parents=True, exist_ok=True)
        for r in remote:
            self._download(r, partial / (r.file.target + ".part"), model.name, progress)
        return self._install(model, remote, partial)

    def _download(self, r: RemoteFile, part: Path, name: str, progress: DownloadProgress | None) -> None:
        if part.exists() and part.stat().st_size > r.size:
            part.unlink()  # not a prefix of this file: start over
        attempt = 0
        while True:
            have = part.stat().st_size if part.exists() else 0
            if have == r.size:
                break
            headers = {"Range": f"bytes={have}-"} if have else {}
            try:
                with self._client.stream("GET", r.url, headers=headers) as response:
                    if response.status_code == 416:
                        part.unlink(missing_ok=True)  # the server disowns our prefix
                        raise ServiceError(f"{r.url}: the server refused to resume; run again")
                    if response.status_code not in (200, 206):
                        raise ServiceError(f"{r.url} answered HTTP {response.status_code}")
                    mode = "ab" if response.status_code == 206 else "wb"
                    done = have if mode == "ab" else 0
                    with open(part, mode) as out:
                        # No chunk_size: a fixed size would buffer, and lose what is buffered
                        # when the connection drops; written as it comes, every byte counts.
                        for block in response.iter_bytes():
                            out.write(block)
                            done += len(block)
                            if progress:
                                progress(r.file.target, done, r.size)
            except httpx.TransportError as exc:
                # A dropped connection or a stall: what arrived is kept and the next try resumes.
                attempt += 1
                if attempt > self.retries:
                    if isinstance(exc, httpx.ConnectError) and not have:
                        raise self._offline(exc, name) from None
                    raise ServiceError(
                        f"downloading {r.file.path} failed ({type(exc).__name__}) after "
                        f"{plural(attempt, 'try', 'tries')}; "
                        f"run `docsearch models pull {name}` again to resume"
                    ) from None
                time.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            if part.exists() and part.stat().st_size >= r.size:
                break
            attempt += 1  # the body ended early without an error: resume, within limits
            if attempt > self.retries:
                raise ServiceError(f"downloading {r.file.path} keeps ending early; run the command again")
        self._verify(r, part)

    def _verify(self, r: RemoteFile, part: Path) -> None:
        if r.sha256:
            got, want, kind = _sha256(part), r.sha256, "sha256"
        elif r.git_sha1:
            got, want, kind = _git_blob_sha1(part), r.git_sha1, "git sha1"
        else:
            raise ServiceError(
                f"the Hub gave no checksum for {r.file.path}; refusing to install it unverified"
            )
        if got != want:
            part.unlink(missing_ok=True)
            raise ServiceError(
                f"checksum mismatch for {r.file.path}: expected {kind} {want}, got {got}; "
                "the download was deleted, run the command again"
            )

    def _install(self, model: KnownModel, remote: list[RemoteFile], partial: Path) -> Path:
        root = self.store.root
        staging = root / f".staging-{model.name}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            for r in remote:
                os.replace(partial / (r.file.target + ".part"), staging / r.file.target)
            (staging / MODEL_METADATA).write_text(json.dumps(model.metadata, indent=2), encoding="utf-8")
            source = {
                "endpoint": self.endpoint,
                "files": [
                    {
                        "url": r.url,
                        "target": r.file.target,
                        "size": r.size,
                        "sha256": r.sha256,
                        "git_sha1": r.git_sha1,
                    }
                    for r in remote
                ],
                "installed": time.time(),
            }
            (staging / "source.json").write_text(json.dumps(source, indent=2), encoding="utf-8")
            problem = probe(spec_from_folder(staging))
            if problem:
                raise ServiceError(f"the downloaded {model.name} {problem}")
            final = self.store.folder(model.name)
            old = root / f".old-{model.name}-{os.getpid()}"
            if final.exists():
                os.replace(final, old)
            os.replace(staging, final)
            shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            # Keep the verified files for the next try rather than downloading them again.
            for r in remote:
                with contextlib.suppress(OSError):
                    os.replace(staging / r.file.target, partial / (r.file.target + ".part"))
            shutil.rmtree(staging, ignore_errors=True)
            raise
        shutil.rmtree(partial, ignore_errors=True)
        return final
