"""Model packages in S3: upload once to a content-addressed key, never overwrite, clean up.

The key holds the package id (derived from the ZIP's SHA-256), so the same bytes always go to
the same key. Before uploading, a ``HeadObject`` tells whether the key already holds these
bytes (object metadata ``sha256``) and the upload is skipped; a key holding *other* bytes is an
error, never overwritten, because devices that already run a component built on that key would
fail its checksum. Uploads use boto3's managed transfer (s3transfer: multipart, threads) and
report progress. Metadata ``sha256`` marks an object as pulumi-dda's (only such objects are
ever deleted, and only once no component version references them); metadata ``owner`` tells a
person browsing the bucket which stack resource uploaded it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import TYPE_CHECKING

from ._types import Progress, no_progress
from .aws import aws_errors
from .errors import AwsError, ConflictError, InputError, NotFoundError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SHA256_META = "sha256"
OWNER_META = "pulumi-dda-owner"
REPORT_EVERY = 0.25


@dataclass(frozen=True)
class ArtifactState:
    """What is at an artifact key: whether it exists and the content hash pulumi-dda recorded."""

    exists: bool
    sha256: str = ""


def check_bucket(s3: S3Client, bucket: str, region: str) -> None:
    """The artifact bucket exists, is reachable, and is in ``region`` (one ``HeadBucket``).

    Greengrass reads artifacts only from a bucket in the component's region and checks them
    when the version is created; this finds the problem at preview instead.
    """
    try:
        with aws_errors(f"looking up artifact_bucket {bucket}"):
            head = s3.head_bucket(Bucket=bucket)
    except NotFoundError as exc:
        raise InputError(
            f"artifact_bucket {bucket} does not exist: create it in {region} or name another",
            field="artifact_bucket",
        ) from exc
    except AwsError as exc:
        raise InputError(
            f"artifact_bucket {bucket} is not reachable: {exc}", field="artifact_bucket"
        ) from exc
    found = head.get("BucketRegion") or head["ResponseMetadata"]["HTTPHeaders"].get(
        "x-amz-bucket-region", ""
    )
    if found and found != region:
        raise InputError(
            f"artifact_bucket {bucket} is in {found}, but the component versions are published "
            f"in {region}: Greengrass reads artifacts only from a bucket in the component's region",
            field="artifact_bucket",
        )


def head_artifact(s3: S3Client, bucket: str, key: str) -> ArtifactState:
    try:
        with aws_errors(f"looking up s3://{bucket}/{key}"):
            head = s3.head_object(Bucket=bucket, Key=key)
    except NotFoundError:
        return ArtifactState(exists=False)
    meta = head.get("Metadata", {})
    return ArtifactState(True, meta.get(SHA256_META, ""))


def _object_sha256(s3: S3Client, bucket: str, key: str) -> str:
    digest = hashlib.sha256()
    with aws_errors(f"reading s3://{bucket}/{key}"):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        for chunk in body.iter_chunks(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


class _UploadProgress:
    def __init__(self, label: str, total: int, progress: Progress) -> None:
        self._label, self._total, self._progress = label, max(total, 1), progress
        self._done = 0
        self._next = REPORT_EVERY
        self._lock = Lock()

    def __call__(self, sent: int) -> None:
        with self._lock:
            self._done += sent
            while self._done / self._total >= self._next:
                self._progress(f"uploading {self._label}: {int(self._next * 100)}%")
                self._next += REPORT_EVERY


def ensure_artifact(
    s3: S3Client,
    bucket: str,
    key: str,
    path: Path,
    sha256: str,
    owner: str,
    progress: Progress = no_progress,
) -> bool:
    """Make ``s3://bucket/key`` hold the file's bytes; ``True`` if this call uploaded them."""
    uri = f"s3://{bucket}/{key}"
    state = head_artifact(s3, bucket, key)
    if state.exists:
        existing = state.sha256 or _object_sha256(s3, bucket, key)
        if existing != sha256:
            raise ConflictError(
                f"{uri} already holds other bytes (sha256 {existing[:12]}…); an artifact key is "
                "never overwritten because devices verify it against the component's digest"
            )
        progress(f"{uri} already holds this package; upload skipped")
        return False
    size = path.stat().st_size
    with aws_errors(f"uploading {uri}"):
        s3.upload_file(
            str(path),
            bucket,
            key,
            ExtraArgs={
                "Metadata": {SHA256_META: sha256, OWNER_META: owner},
                "ContentType": "application/zip",
            },
            Callback=_UploadProgress(uri, size, progress),
        )
    progress(f"uploaded {uri} ({size} bytes)")
    return True


def copy_artifact(s3: S3Client, bucket: str, source_key: str, key: str) -> None:
    """Server-side copy within ``bucket``, metadata included (``CopyObject``: up to 5 GiB)."""
    with aws_errors(f"copying s3://{bucket}/{source_key} to {key}"):
        s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": source_key})


def delete_artifact(s3: S3Client, bucket: str, key: str) -> None:
    """Delete an object (already gone is fine)."""
    try:
        with aws_errors(f"deleting s3://{bucket}/{key}"):
            s3.delete_object(Bucket=bucket, Key=key)
    except NotFoundError:
        return
