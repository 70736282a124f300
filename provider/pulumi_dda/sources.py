"""Model archives as streams, from a local path or an ``s3://`` URI.

An S3 source is read straight from ``GetObject`` responses (no temporary download), and its
identity for change detection comes from a ``HeadObject`` (ETag and version id), which moves no
object bytes. A local file's identity is the SHA-256 of its content.

Large objects are read like s3transfer downloads them, with the settings of
:func:`transfer_config` (s3transfer's defaults, which artifact uploads use too): ranged GETs of
``multipart_chunksize`` bytes, ``max_request_concurrency`` of them in flight, each retried up to
``num_download_attempts`` times when its body breaks off, and every range after the first
pinned to the first one's ETag (``If-Match``), so an object overwritten meanwhile is an error,
not a mix. S3 serves each connection at a limited rate, so parallel ranges are faster than one
stream once an object is larger than one part. Parts are handed over in order and at most
``max_request_concurrency`` wait in memory (80 MiB with the defaults); across all readers of a
process at most ``max_request_concurrency`` GETs run at once, which fits botocore's connection
pool. ``use_threads=False`` reads one stream.

An S3 source may name one exact object version, ``s3://bucket/key?versionId=<id>``: it is read
and identified as that version (``GetObject``/``HeadObject`` with ``VersionId``), whatever was
written to the key since, so a pinned source keeps building the same component.

**A source is read as the object its identity names.** :func:`resolve_source` looks a source up
once (``HeadObject``, or the SHA-256 of a local file) into a :data:`ResolvedSource`, whose
``identity`` is what check records and fingerprints; :func:`open_resolved` reads exactly that
object and nothing else, so what is packaged is what the identity names. An S3 object is read
with the version id it had (when it has one) and ``If-Match`` its ETag on every GET, the first
included; an object overwritten since (or a ``null`` version written again) makes S3 answer
``412 PreconditionFailed`` ("At least one of the pre-conditions you specified did not hold",
`GetObject <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html>`_, ``If-Match``:
"Return the object only if its entity tag (ETag) is the same as the one specified in this
header; otherwise, return a 412 Precondition Failed error"), which becomes
:class:`~pulumi_dda.errors.SourceChangedError`. A local file is hashed while it is read and the
same error is raised if its bytes are not the ones looked up. A source that was looked up
earlier (by a check whose identities are in state) is rebuilt from the URI and its identity
with :func:`recorded_source`; :func:`open_source` looks a URI up and reads it at once.

**Sources by SageMaker name** (:mod:`.sagemaker`): ``sagemaker://training-job/<name>``,
``sagemaker://compilation-job/<name>``, ``sagemaker://model-package/<group>/<version>`` and
``sagemaker://model-package/<group>:latest-approved`` (or an ARN for the name). *Decision:* URI
schemes inside the existing inputs (``trained_model_uri``, ``compiled_models.<target>``), not
inputs of their own: a stack file, Pulumi YAML and the schema keep one string per source, a
source changes form without another key appearing or vanishing, each target can mix forms (one
Neo job per device type next to an S3 URI), and ``?versionId=<id>`` pins the object exactly as
for ``s3://`` (``sagemaker://compilation-job/defects-x86?versionId=<id>``). A name is resolved
where an S3 URI is looked up, at check: the job or package is described and refused in one line
unless it can ship (see :mod:`.sagemaker`), then what it names is looked up like any S3 object.
The identity records the resolution with the object (``etag:<etag>;version:<id>;via:model-
package/<version ARN>;at:s3://ml-models/train/model.tar.gz``), so state pins it: create reads
exactly that object (:func:`recorded_source` needs no SageMaker call), the next check resolves
the name again and a new approved package version is a change, and ``promote`` writes the
pinned name (``sagemaker://model-package/<version ARN>?versionId=<id>``) into the next stack.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Required, TypedDict
from urllib.parse import unquote

from ._types import Progress, Readable, no_progress
from .aws import AwsClients, aws_errors, error_code
from .errors import AwsError, DdaError, InputError, NotFoundError, SourceChangedError
from .sagemaker import is_sagemaker, parse_name, resolve_name, shown_name

if TYPE_CHECKING:
    from boto3.s3.transfer import TransferConfig
    from mypy_boto3_s3 import S3Client

REPORT_EVERY = 64 * 1024 * 1024
READ_BLOCK = 1024 * 1024
VERSION_ID_PARAMETER = "versionId"
MAX_REQUESTS = 10
"""s3transfer's default ``max_request_concurrency`` (without importing it: see ``aws.py``)."""
_GONE = frozenset({"PreconditionFailed", "NoSuchKey", "NoSuchVersion"})
"""The answers to a GET of a looked-up object that is not there as it was any more."""
_GETS = threading.BoundedSemaphore(MAX_REQUESTS)
PART_BUFFERS = MAX_REQUESTS
"""Part buffers the ranged reads of a process hold at most (80 MiB with 8 MiB parts), plus one
per reader for the part it needs next: as many as GETs run at once in the process (``_GETS``),
so one reader is as fast as with buffers of its own, and memory stays flat however many targets
read at once (each reader held ten before)."""


class _PartBuffers:
    """The part buffers of every ranged read in the process; a buffer given back is kept for
    the next part of the same size."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._free: list[bytearray] = []
        self._lock = threading.Lock()

    def take(self, size: int, *, needed: bool) -> bytearray | None:
        """A buffer of ``size`` bytes, or ``None`` when all are in use and it is not ``needed``."""
        with self._lock:
            if not needed and self.used >= self.limit:
                return None
            self.used += 1
            for index, buffer in enumerate(self._free):
                if len(buffer) == size:
                    return self._free.pop(index)
        return bytearray(size)

    def give(self, buffer: bytearray) -> None:
        with self._lock:
            self.used -= 1
            if len(self._free) + self.used < self.limit:
                self._free.append(buffer)


_BUFFERS = _PartBuffers(PART_BUFFERS)


@cache
def transfer_config() -> TransferConfig:
    """s3transfer's default settings: what ``upload_file`` uses for artifacts, and ranged reads."""
    from boto3.s3.transfer import TransferConfig

    return TransferConfig()


def _broken_body() -> tuple[type[Exception], ...]:
    """botocore's errors of a response body that broke off (imported once a GET ran)."""
    from botocore.exceptions import (
        ConnectionClosedError,
        IncompleteReadError,
        ReadTimeoutError,
        ResponseStreamingError,
    )

    return (ConnectionClosedError, IncompleteReadError, ReadTimeoutError, ResponseStreamingError)


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


class GetArgs(ObjectArgs, total=False):
    """The arguments of ``GetObject`` that read one object exactly as it was looked up."""

    IfMatch: str


@dataclass(frozen=True)
class Identity:
    """What a source was when it was looked up, as state records it: ``sha256:<hex>`` (a local
    file), ``etag:<etag>`` or ``etag:<etag>;version:<id>`` (an S3 object), and for a SageMaker
    name ``...;via:<pinned name>;at:<s3 location>`` (``via:model-package/<version ARN>;at:s3://
    ml-models/train/model.tar.gz``: what the name resolved to). Written and read only here."""

    kind: str
    value: str
    version_id: str = ""
    via: str = ""
    """The SageMaker name pinned (a ``:latest-approved`` as the version it found), or empty."""
    at: str = ""
    """The ``s3://bucket/key`` a SageMaker name resolved to, or empty."""

    @classmethod
    def parse(cls, text: str) -> Identity:
        head, _, at = text.partition(";at:")  # last: a key may hold anything
        head, _, via = head.partition(";via:")
        head, _, version_id = head.partition(";version:")
        kind, _, value = head.partition(":")
        return cls(kind, value, version_id, via, at)

    def __str__(self) -> str:
        via = f";via:{self.via};at:{self.at}" if self.via else ""
        return self.content + (f";version:{self.version_id}" if self.version_id else "") + via

    @property
    def content(self) -> str:
        """The part that names the bytes (see :func:`content_identity`)."""
        return f"{self.kind}:{self.value}"

    def short(self) -> str:
        """``etag:04f3ebe72528``: enough to tell two in a preview."""
        return f"{self.kind}:{self.value[:12]}"

    def resolved(self) -> str:
        """``model package defects/3 → s3://ml-models/train/model.tar.gz``, or empty."""
        return f"{shown_name(self.via)} → {self.at}" if self.via else ""


@dataclass(frozen=True)
class ResolvedS3:
    """An S3 source as it was looked up: its identity, and the GET that reads exactly it.

    Both are derived from this one value: ``identity`` names the ETag (and the version id when
    the object has one), ``get_args()`` asks for that version and that ETag (``If-Match``), so a
    read of other bytes than the identity names fails instead (see the module docstring).
    """

    uri: str
    bucket: str
    key: str
    etag: str
    """Without the quotes S3 puts around it."""
    version_id: str | None = None
    via: str = ""
    """For a ``sagemaker://`` source: the name it resolved through, pinned (see
    :class:`Identity`); ``bucket`` and ``key`` are then what it resolved to."""

    @property
    def identity(self) -> str:
        """``etag:<etag>``, with ``;version:<id>`` when the object has a version id (and the
        SageMaker resolution, for a ``sagemaker://`` source)."""
        at = f"s3://{self.bucket}/{self.key}" if self.via else ""
        return str(Identity("etag", self.etag, self.version_id or "", self.via, at))

    def head_args(self) -> ObjectArgs:
        """The object as named (its version, if it has one), whatever its ETag is now."""
        args = ObjectArgs(Bucket=self.bucket, Key=self.key)
        if self.version_id:
            args["VersionId"] = self.version_id
        return args

    def get_args(self) -> GetArgs:
        """The object (version) with the ETag of the identity, and no other."""
        return GetArgs(**self.head_args(), IfMatch=f'"{self.etag}"')


@dataclass(frozen=True)
class ResolvedFile:
    """A local source as it was looked up: its path and the SHA-256 of its bytes then."""

    uri: str
    sha256: str

    @property
    def identity(self) -> str:
        return str(Identity("sha256", self.sha256))


ResolvedSource = ResolvedS3 | ResolvedFile
"""A source looked up: what its identity names is exactly what :func:`open_resolved` reads."""


def _local_path(uri: str) -> Path:
    path = Path(uri)
    if not path.is_file():
        raise InputError(f"{uri}: no such file")
    return path


def resolve_source(
    uri: str, clients: AwsClients | None = None, *, target: str | None = None
) -> ResolvedSource:
    """Look a source up: ``HeadObject`` for S3 (no object bytes move), the SHA-256 of a file;
    a SageMaker name is resolved first (:func:`.sagemaker.resolve_name`; ``target``: the
    compilation target a compiled model is declared for, which a compilation job must match).
    """
    if is_sagemaker(uri):
        clients = clients or AwsClients()
        resolution = resolve_name(uri, clients, target)
        location = parse_s3_source(resolution.location)
        pinned_version = parse_name(uri).version_id
        found = _head(uri, S3Source(location.bucket, location.key, pinned_version), clients)
        return replace(found, via=resolution.pinned)
    if not is_s3(uri):
        digest = hashlib.sha256()
        with _local_path(uri).open("rb") as handle:
            for chunk in iter(lambda: handle.read(READ_BLOCK), b""):
                digest.update(chunk)
        return ResolvedFile(uri, digest.hexdigest())
    return _head(uri, parse_s3_source(uri), clients or AwsClients())


def _head(uri: str, source: S3Source, clients: AwsClients) -> ResolvedS3:
    with aws_errors(
        f"looking up {uri}" + ("" if is_s3(uri) else f" ({source.bucket}/{source.key})")
    ):
        head = clients.s3.head_object(**source.object_args())
    version_id = head.get("VersionId") or source.version_id
    return ResolvedS3(uri, source.bucket, source.key, head["ETag"].strip('"'), version_id)


def recorded_source(uri: str, identity: str) -> ResolvedSource:
    """The source ``uri`` as looked up when ``identity`` was recorded (by a check earlier)."""
    recorded = Identity.parse(identity)
    resolved: ResolvedSource | None = None
    if is_sagemaker(uri) and recorded.kind == "etag" and recorded.via and is_s3(recorded.at):
        name, at = parse_name(uri), parse_s3_source(recorded.at)
        same_kind = recorded.via.partition("/")[0] == name.kind
        as_pinned = name.version_id in (None, recorded.version_id)
        if same_kind and as_pinned and at.version_id is None and ";" not in recorded.value:
            resolved = ResolvedS3(
                uri, at.bucket, at.key, recorded.value, recorded.version_id or None, recorded.via
            )
    elif is_s3(uri) and recorded.kind == "etag":
        source = parse_s3_source(uri)
        etag, version_id = recorded.value, recorded.version_id
        as_pinned = source.version_id in (None, version_id)  # a pinned URI: that version
        if etag and ";" not in etag and as_pinned:  # no ETag holds a ";"
            resolved = ResolvedS3(uri, source.bucket, source.key, etag, version_id or None)
    elif not is_s3(uri) and not is_sagemaker(uri) and recorded.kind == "sha256" and recorded.value:
        resolved = ResolvedFile(uri, recorded.value)
    if resolved is None or resolved.identity != identity:
        raise DdaError(f"{uri}: the recorded identity {identity!r} is not one of this source")
    return resolved


def content_identity(identity: str) -> str:
    """The part of an identity that names the bytes: ``etag:<etag>`` or ``sha256:<hex>``.

    Without the version id, which S3 gives every upload to a versioned bucket, even of
    identical bytes. So a component's identity follows its content (see
    ``ownership.fingerprint``), while reads stay pinned to the version looked up. The same
    bytes uploaded the same way (one part, or the same part size) have the same ETag; bytes
    uploaded with another part size have another and publish a new version, never a wrong one.
    """
    return Identity.parse(identity).content


def source_identity(uri: str, clients: AwsClients | None = None) -> str:
    """A string that changes whenever the archive's content changes.

    ``sha256:<hex>`` for a local file; ``etag:<etag>`` for an S3 object, with
    ``;version:<id>`` when it has a version id (a pinned source's is the pinned version).
    """
    return resolve_source(uri, clients).identity


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


class _RangedReader:
    """An S3 object as ranged GETs in parallel, read in order.

    The first part streams from the response that told the object's size, while workers fetch
    the next parts whole, each into a part-sized buffer that is used again once read; the
    buffers of all readers of the process are bounded together (:data:`PART_BUFFERS`); a part
    whose body breaks off is asked for again.
    """

    def __init__(
        self, s3: S3Client, args: dict[str, Any], size: int, first: Any, config: TransferConfig
    ) -> None:
        self._s3, self._args, self._size = s3, args, size
        self._part, self._attempts = config.multipart_chunksize, config.num_download_attempts
        self._window = config.max_request_concurrency
        self._pool = ThreadPoolExecutor(self._window, thread_name_prefix="pulumi-dda-get")
        self._waiting: deque[tuple[Future[memoryview], bytearray]] = deque()
        self._first: Any = first
        self._first_read, self._first_size = 0, min(size, self._part)
        self._next = 1
        self._current, self._at = memoryview(b""), 0
        self._request_more()

    def _request_more(self) -> None:
        """Ask for the next parts while the window and the process's part buffers allow; a
        reader that holds no buffer (none waiting, none being read) gets one in any case, so no
        reader waits for another's parts to be read and each holds at most one over the limit."""
        window = self._window - (self._first is not None)
        while len(self._waiting) < window and self._next * self._part < self._size:
            holds = self._waiting or isinstance(self._current.obj, bytearray)
            buffer = _BUFFERS.take(self._part, needed=not holds)
            if buffer is None:
                return
            start = self._next * self._part
            end = min(self._size, start + self._part) - 1
            self._waiting.append((self._pool.submit(self._get, start, end, buffer), buffer))
            self._next += 1

    def _get(self, start: int, end: int, buffer: bytearray) -> memoryview:
        """The range, read in blocks into a part buffer."""
        part = memoryview(buffer)[: end - start + 1]
        for attempt in range(1, self._attempts + 1):
            try:
                with _GETS:
                    body = self._s3.get_object(**self._args, Range=f"bytes={start}-{end}")["Body"]
                    try:
                        filled = 0
                        for block in body.iter_chunks(READ_BLOCK):
                            part[filled : filled + len(block)] = block
                            filled += len(block)
                    except ValueError:  # more bytes than the range
                        filled = -1
                    finally:
                        body.close()
                if filled != len(part):
                    from botocore.exceptions import IncompleteReadError

                    raise IncompleteReadError(actual_bytes=filled, expected_bytes=len(part))
                return part
            except _broken_body():
                if attempt == self._attempts:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _read_first(self, size: int) -> bytes:
        """Bytes of the first part; when it is done (or broke off) the rest comes as ranges."""
        data = b""
        with suppress(*_broken_body()):  # the rest of the part is asked for again below
            data = self._first.read(min(size, self._first_size - self._first_read))
        self._first_read += len(data)
        if data and self._first_read < self._first_size:
            return data
        self._first.close()
        self._first = None
        if self._first_read < self._first_size:
            buffer = _BUFFERS.take(self._part, needed=True)
            assert buffer is not None
            self._current = self._get(self._first_read, self._first_size - 1, buffer)
            self._at = 0
        self._request_more()
        return data

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            return b"".join(iter(lambda: self.read(self._part), b""))
        if self._first is not None and (data := self._read_first(size)):
            return data
        if self._at == len(self._current):
            self._release_current()
            if not self._waiting:
                self._request_more()  # parts the buffers did not allow before
                if not self._waiting:
                    return b""
            self._current, self._at = self._waiting.popleft()[0].result(), 0
            self._request_more()
        end = min(len(self._current), self._at + size)
        data = self._current[self._at : end].tobytes()
        self._at = end
        return data

    def _release_current(self) -> None:
        if isinstance(self._current.obj, bytearray):
            _BUFFERS.give(self._current.obj)
        self._current, self._at = memoryview(b""), 0

    def close(self) -> None:
        if self._first is not None:
            self._first.close()
        for future, _buffer in self._waiting:
            future.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._release_current()
        while self._waiting:
            _BUFFERS.give(self._waiting.popleft()[1])


def _open_object(s3: S3Client, source: ResolvedS3, config: TransferConfig) -> tuple[Readable, Any]:
    """A reader of the object and what closes it: one stream, or ranges when it is large.

    Every GET carries ``If-Match`` (the first one too): the ETag looked up, which every range
    after the first keeps (it is the first response's ETag as well)."""
    from botocore.exceptions import ClientError

    args: dict[str, Any] = dict(source.get_args())
    if not config.use_threads:
        body = s3.get_object(**args)["Body"]
        return body, body.close
    try:
        first = s3.get_object(**args, Range=f"bytes=0-{config.multipart_chunksize - 1}")
    except ClientError as exc:
        if error_code(exc) != "InvalidRange":  # an empty object has no byte to range over
            raise
        body = s3.get_object(**args)["Body"]
        return body, body.close
    total = first.get("ContentRange", "").rpartition("/")[2]
    if not total.isdigit() or int(total) <= config.multipart_chunksize:
        return first["Body"], first["Body"].close
    args["IfMatch"] = first["ETag"]
    reader = _RangedReader(s3, args, int(total), first["Body"], config)
    return reader, reader.close


class _VerifiedFile:
    """A local file read as it was looked up: its bytes are hashed as they are read, and
    :meth:`verify` (at the end of the read) refuses other bytes than the identity names."""

    def __init__(self, source: ResolvedFile, handle: Readable) -> None:
        self._source, self._handle = source, handle
        self._digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._digest.update(data)
        return data

    def verify(self) -> None:
        """Hash what the reader left unread, then compare with the identity."""
        for chunk in iter(lambda: self._handle.read(READ_BLOCK), b""):
            self._digest.update(chunk)
        read = self._digest.hexdigest()
        if read != self._source.sha256:
            raise SourceChangedError(self._source.uri, "sha256", self._source.sha256, read)


def _changed(s3: S3Client, source: ResolvedS3) -> SourceChangedError:
    """The error for an object whose ETag is no longer the one looked up, with the new one."""
    try:
        with aws_errors(f"looking up {source.uri}"):
            now = s3.head_object(**source.head_args())["ETag"].strip('"')
    except NotFoundError:
        now = "(deleted)"
    return SourceChangedError(source.uri, "etag", source.etag, now)


@contextmanager
def open_resolved(
    source: ResolvedSource,
    clients: AwsClients | None = None,
    progress: Progress = no_progress,
    *,
    config: TransferConfig | None = None,
) -> Iterator[Readable]:
    """Read exactly the object ``source`` names (see the module docstring).

    Raises :class:`~pulumi_dda.errors.SourceChangedError` when the object is not that one any
    more: at the first GET or any later range for S3, at the end of the block for a local file
    (whose unread rest is hashed then). ``config`` sets how an S3 object is read.
    """
    if isinstance(source, ResolvedFile):
        with _local_path(source.uri).open("rb") as handle:
            verified = _VerifiedFile(source, handle)
            yield verified
            verified.verify()
        return
    clients = clients or AwsClients()
    try:
        with aws_errors(f"reading {source.uri}"):
            reader, close = _open_object(clients.s3, source, config or transfer_config())
        try:
            with aws_errors(f"reading {source.uri}"):
                yield _CountingReader(reader, source.uri, progress)
        finally:
            close()
    except AwsError as exc:
        if exc.code not in _GONE:
            raise
        raise _changed(clients.s3, source) from exc


@contextmanager
def open_source(
    uri: str,
    clients: AwsClients | None = None,
    progress: Progress = no_progress,
    *,
    config: TransferConfig | None = None,
) -> Iterator[Readable]:
    """Look up a model archive (local path or ``s3://`` URI, maybe pinned) and read it.

    The same as :func:`open_resolved` of :func:`resolve_source`: what is read is the object
    looked up, or :class:`~pulumi_dda.errors.SourceChangedError`.
    """
    clients = clients or AwsClients()
    with open_resolved(resolve_source(uri, clients), clients, progress, config=config) as stream:
        yield stream
