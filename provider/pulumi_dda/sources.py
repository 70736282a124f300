"""Model archives as streams, from a local path or an ``s3://`` URI.

An S3 source is read straight from the ``GetObject`` body (no temporary download), and its
identity for change detection comes from a ``HeadObject`` (ETag and version id), which moves no
object bytes. A local file's identity is the SHA-256 of its content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ._types import Progress, Readable, no_progress
from .aws import AwsClients, aws_errors
from .errors import InputError

REPORT_EVERY = 64 * 1024 * 1024


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` → ``(bucket, key)``."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket or not key:
        raise InputError(f"{uri!r} is not an s3://bucket/key URI")
    return bucket, key


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


class _CountingReader:
    """Wraps a binary stream and reports progress every :data:`REPORT_EVERY` bytes."""

    def __init__(self, raw: Readable, label: str, progress: Progress) -> None:
        self._raw = raw
        self._label = label
        self._progress = progress
        self.count = 0
        self._next_report = REPORT_EVERY

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.count += len(data)
        if self.count >= self._next_report:
            self._progress(f"downloading {self._label}: {self.count // (1024 * 1024)} MiB")
            self._next_report += REPORT_EVERY
        return data


@contextmanager
def open_source(
    uri: str, clients: AwsClients | None = None, progress: Progress = no_progress
) -> Iterator[Readable]:
    """Open a model archive for streaming reads."""
    if not is_s3(uri):
        path = Path(uri)
        if not path.is_file():
            raise InputError(f"{uri}: no such file")
        with path.open("rb") as handle:
            yield handle
        return
    bucket, key = parse_s3_uri(uri)
    clients = clients or AwsClients()
    with aws_errors(f"reading {uri}"):
        body = clients.s3.get_object(Bucket=bucket, Key=key)["Body"]
    try:
        with aws_errors(f"reading {uri}"):
            yield _CountingReader(body, uri, progress)
    finally:
        body.close()


def source_identity(uri: str, clients: AwsClients | None = None) -> str:
    """A string that changes whenever the archive's content changes."""
    if not is_s3(uri):
        path = Path(uri)
        if not path.is_file():
            raise InputError(f"{uri}: no such file")
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(chunk)
        return f"sha256:{digest.hexdigest()}"
    bucket, key = parse_s3_uri(uri)
    clients = clients or AwsClients()
    with aws_errors(f"looking up {uri}"):
        head = clients.s3.head_object(Bucket=bucket, Key=key)
    identity = f"etag:{head['ETag'].strip(chr(34))}"
    if head.get("VersionId"):
        identity += f";version:{head['VersionId']}"
    return identity
