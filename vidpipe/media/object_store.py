"""Publish finished media to S3 (or any S3-compatible store) so other machines and people can reach it.

Why: on one machine `data/media/` is the whole story; beyond one machine the webserver, run
workers and reviewers do not share a disk, so every output file an asset writes is also
published to `s3://<bucket>/<prefix>/<path relative to data/media>`. The key mirrors the local
layout (`ep01/shots/s001/clip.mp4`), so a key can always be derived from an episode and shot.

Settings come from the environment (no secrets here; boto3 finds credentials itself):
`VIDPIPE_S3_BUCKET` (empty = publishing off, `publish` returns the local path),
`VIDPIPE_S3_PREFIX` (optional key prefix), `VIDPIPE_S3_ENDPOINT_URL` (MinIO, R2, moto, …).

Uploads are idempotent: each object carries the file's sha256 in its metadata, and an object
that already holds the same bytes is not uploaded again (re-materializing a cached shot costs
one HEAD request, not a re-upload of a large delivery file).
"""

from __future__ import annotations

import mimetypes
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from vidpipe.errors import MediaError
from vidpipe.media.verify import sha256_file

ENV_BUCKET = "VIDPIPE_S3_BUCKET"
ENV_PREFIX = "VIDPIPE_S3_PREFIX"
ENV_ENDPOINT = "VIDPIPE_S3_ENDPOINT_URL"
SHA_META = "sha256"


@lru_cache(maxsize=8)
def _client(endpoint_url: str) -> Any:
    """One boto3 client per endpoint and process (creating one costs ~50 ms; clients are thread-safe)."""
    import boto3

    return boto3.client("s3", endpoint_url=endpoint_url or None)


@dataclass(frozen=True)
class ObjectStore:
    """Where published media goes. An empty bucket means "local only"."""

    bucket: str = ""
    prefix: str = ""
    endpoint_url: str = ""

    @classmethod
    def from_env(cls, bucket: str = "", prefix: str = "", endpoint_url: str = "") -> ObjectStore:
        """Explicit values win; empty ones fall back to VIDPIPE_S3_BUCKET / _PREFIX / _ENDPOINT_URL."""
        return cls(
            bucket=bucket or os.environ.get(ENV_BUCKET, ""),
            prefix=(prefix or os.environ.get(ENV_PREFIX, "")).strip("/"),
            endpoint_url=endpoint_url or os.environ.get(ENV_ENDPOINT, ""),
        )

    @property
    def enabled(self) -> bool:
        return bool(self.bucket)

    def client(self) -> Any:
        return _client(self.endpoint_url)

    def key_for(self, local_path: Path, media_root: Path) -> str:
        """The object key: prefix + the file's path relative to the media root, with forward slashes."""
        try:
            rel = Path(local_path).resolve().relative_to(Path(media_root).resolve())
        except ValueError:
            raise MediaError(
                f"cannot publish {local_path}: it is not under the media root {media_root} "
                "(object keys mirror data/media/; write outputs there)"
            ) from None
        return "/".join(p for p in (self.prefix, rel.as_posix()) if p)

    def publish(self, local_path: Path, media_root: Path) -> str:
        """Upload `local_path` (unless the same bytes are already there) and return its URI.

        With no bucket configured this is a no-op that returns the local path, so callers
        never branch on the deployment.
        """
        local_path = Path(local_path)
        if not self.enabled:
            return str(local_path.resolve())
        if not local_path.is_file():
            raise MediaError(f"cannot publish {local_path}: no such file")
        key = self.key_for(local_path, media_root)
        digest = sha256_file(local_path)
        if self._remote_sha(key) != digest:
            extra: dict[str, Any] = {"Metadata": {SHA_META: digest}}
            ctype = mimetypes.guess_type(local_path.name)[0]
            if ctype:
                extra["ContentType"] = ctype
            try:
                self.client().upload_file(str(local_path), self.bucket, key, ExtraArgs=extra)
            except Exception as exc:  # boto3 raises several unrelated types (ClientError, S3UploadFailedError, …)
                raise MediaError(
                    f"upload of {local_path} to s3://{self.bucket}/{key} failed: {exc.__class__.__name__}: {exc} "
                    f"(check {ENV_BUCKET}, {ENV_ENDPOINT} and the AWS credentials of this process)"
                ) from exc
        return f"s3://{self.bucket}/{key}"

    def _remote_sha(self, key: str) -> str | None:
        """The sha256 recorded on an existing object, or None when it is missing (or unknown)."""
        from botocore.exceptions import ClientError

        try:
            head = self.client().head_object(Bucket=self.bucket, Key=key)
        except ClientError:
            return None
        meta = head.get("Metadata") or {}
        return meta.get(SHA_META)

    def download(self, uri: str, dest: Path) -> Path:
        """Fetch a published object (e.g. a clip rendered on another machine) to `dest`."""
        if not uri.startswith("s3://"):
            return Path(uri)
        bucket, _, key = uri[len("s3://"):].partition("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        self.client().download_file(bucket, key, str(dest))
        return dest
