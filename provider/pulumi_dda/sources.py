"""Model archives as streams, from a local path or an ``s3://`` URI.

An S3 source is read straight from the ``GetObject`` body (no temporary download), and its
identity for change detection comes from a ``HeadObject`` (ETag and version id), which moves no
object bytes. A local file's identity is the SHA-256 of its content.

An S3 source may name one exact object version, ``s3://bucket/key?versionId=<id>``: it is read
and identified as that version (``GetObject``/``HeadObject`` with ``VersionId``), whatever was
written to the key since, so a pinned source keeps building the same component.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Required, TypedDict
from urllib.parse import unquote

from ._types import Progress, Readable, no_progress
from .aws import AwsClients, aws_errors
from .errors import InputError

REPORT_EVERY = 64 * 1024 * 1024
VERSION_ID_PARAMETER = "versionId"


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` → ``(bucket, key)``; for artifact URIs, whose keys carry no query."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket or not key:
        raise InputError(f"{uri!r} is not an s3://bucket/key URI")
    return bucket, key


class ObjectArgs(TypedDict, total=False):
    """The arguments of ``GetObject`` and ``HeadObject`` that name one object (version)."""

    Bucket: Required[str]
    Key: Required[str]
    VersionId: str


@dataclass(frozen=True)
class S3Source:
    """A source archive in S3: the key's current object, or one version of it when pinned."""

    bucket: str
    key: str
    version_id: str | None = None

    def object_args(self) -> ObjectArgs:
        args = ObjectArgs(Bucket=self.bucket, Key=self.key)
        if self.version_id is not None:
            args["VersionId"] = self.version_id
        return args


def parse_s3_source(uri: str) -> S3Source:
    """``s3://bucket/key`` or ``s3://bucket/key?versionId=<id>`` → :class:`S3Source`.

    ``versionId`` is the only query accepted, once and not empty; the id may be
    percent-encoded, and a ``+`` in it stays a ``+`` (S3 version ids can contain one).
    """
    location, question_mark, query = uri.partition("?")
    bucket, _, key = location.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket or not key:
        raise InputError(f"{uri!r} is not an s3://bucket/key[?versionId=<id>] URI")
    if not question_mark:
        return S3Source(bucket, key)
    return S3Source(bucket, key, _version_id(uri, query))


def _version_id(uri: str, query: str) -> str:
    pairs = [part.partition("=") for part in query.split("&")]
    names = [unquote(name) for name, _, _ in pairs]
    if names != [VERSION_ID_PARAMETER]:
        raise InputError(
            f"{uri!r}: the only query an s3:// source accepts is ?versionId=<id>, got {query!r}"
        )
    version_id = unquote(pairs[0][2])
    if not version_id:
        raise InputError(f"{uri!r}: versionId is empty")
    return version_id


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
    """Open a model archive (local path or ``s3://`` URI, maybe pinned) for streaming reads."""
    if not is_s3(uri):
        path = Path(uri)
        if not path.is_file():
            raise InputError(f"{uri}: no such file")
        with path.open("rb") as handle:
            yield handle
        return
    source = parse_s3_source(uri)
    clients = clients or AwsClients()
    with aws_errors(f"reading {uri}"):
        body = clients.s3.get_object(**source.object_args())["Body"]
    try:
        with aws_errors(f"reading {uri}"):
            yield _CountingReader(body, uri, progress)
    finally:
        body.close()


def source_identity(uri: str, clients: AwsClients | None = None) -> str:
    """A string that changes whenever the archive's content changes.

    ``sha256:<hex>`` for a local file; ``etag:<etag>`` for an S3 object, with
    ``;version:<id>`` when it has a version id (a pinned source's is the pinned version).
    """
    if not is_s3(uri):
        path = Path(uri)
        if not path.is_file():
            raise InputError(f"{uri}: no such file")
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(chunk)
        return f"sha256:{digest.hexdigest()}"
    source = parse_s3_source(uri)
    clients = clients or AwsClients()
    with aws_errors(f"looking up {uri}"):
        head = clients.s3.head_object(**source.object_args())
    identity = f"etag:{head['ETag'].strip(chr(34))}"
    version_id = head.get("VersionId") or source.version_id
    if version_id:
        identity += f";version:{version_id}"
    return identity
