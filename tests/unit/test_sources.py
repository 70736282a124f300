"""Source archives by ``s3://`` URI, pinned to one object version with ``?versionId=``, and
read exactly as they were looked up (a source changed since is refused, never read).

Against the local endpoint's S3 (moto, with versioning), through the standard AWS
environment, as the provider and the CLI reach S3.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ResponseStreamingError

from pulumi_dda import samples, sources
from pulumi_dda.aws import AwsClients
from pulumi_dda.build import BuildRequest, build_target, read_manifest, validate_request
from pulumi_dda.errors import AwsError, DdaError, InputError, NotFoundError, SourceChangedError
from pulumi_dda.local import LocalEndpoint
from pulumi_dda.sources import (
    ResolvedS3,
    S3Source,
    open_resolved,
    open_source,
    parse_s3_source,
    recorded_source,
    resolve_source,
    source_identity,
)

KEY = "train/model.tar.gz"


@pytest.fixture
def versioned_bucket(endpoint: LocalEndpoint) -> tuple[Any, str]:
    """An S3 client and a fresh bucket with versioning enabled (moto's state is shared)."""
    s3 = endpoint.client("s3")
    bucket = f"models-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return s3, bucket


def read(uri: str, clients: AwsClients) -> bytes:
    with open_source(uri, clients) as stream:
        return stream.read()


def etag(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_pinned_source_reads_and_identifies_its_version_after_overwrite(
    clients: AwsClients, versioned_bucket: tuple[Any, str]
) -> None:
    s3, bucket = versioned_bucket
    old = s3.put_object(Bucket=bucket, Key=KEY, Body=b"old model bytes")["VersionId"]
    latest = f"s3://{bucket}/{KEY}"
    pinned = f"{latest}?versionId={old}"
    assert source_identity(pinned, clients) == source_identity(latest, clients)

    new = s3.put_object(Bucket=bucket, Key=KEY, Body=b"new model bytes")["VersionId"]
    assert new != old
    assert read(pinned, clients) == b"old model bytes"
    assert source_identity(pinned, clients) == f"etag:{etag(b'old model bytes')};version:{old}"
    assert read(latest, clients) == b"new model bytes"
    assert source_identity(latest, clients) == f"etag:{etag(b'new model bytes')};version:{new}"


def test_pinned_source_survives_deletion_of_the_key(
    clients: AwsClients, versioned_bucket: tuple[Any, str]
) -> None:
    s3, bucket = versioned_bucket
    old = s3.put_object(Bucket=bucket, Key=KEY, Body=b"kept")["VersionId"]
    s3.delete_object(Bucket=bucket, Key=KEY)  # a delete marker becomes the current version
    pinned = f"s3://{bucket}/{KEY}?versionId={old}"
    assert read(pinned, clients) == b"kept"
    assert source_identity(pinned, clients).endswith(f";version:{old}")
    with pytest.raises(NotFoundError, match=f"s3://{bucket}/{KEY}"):
        read(f"s3://{bucket}/{KEY}", clients)


def test_unknown_version_is_an_aws_error_naming_the_uri(
    clients: AwsClients, versioned_bucket: tuple[Any, str]
) -> None:
    s3, bucket = versioned_bucket
    s3.put_object(Bucket=bucket, Key=KEY, Body=b"x")
    pinned = f"s3://{bucket}/{KEY}?versionId=no-such-version"
    with pytest.raises(AwsError, match=r"looking up s3://.*\?versionId=no-such-version"):
        source_identity(pinned, clients)


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("versionId=", "versionId is empty"),
        ("versionId", "versionId is empty"),
        ("", "only query"),
        ("partNumber=1", "only query"),
        ("versionId=abc&partNumber=1", "only query"),
        ("versionId=abc&versionId=abc", "only query"),
        ("VersionId=abc", "only query"),
    ],
)
def test_any_other_query_is_an_input_error_naming_the_uri(query: str, fragment: str) -> None:
    uri = f"s3://bucket/{KEY}?{query}"
    for call in (parse_s3_source, source_identity):
        with pytest.raises(InputError, match=fragment) as info:
            call(uri)
        assert repr(uri) in str(info.value)
    with pytest.raises(InputError, match=fragment), open_source(uri):
        pass


def test_parse_s3_source() -> None:
    assert parse_s3_source("s3://b/k/m.tar.gz") == S3Source("b", "k/m.tar.gz")
    pinned = parse_s3_source("s3://b/k?versionId=3/L4k+rm%2BSp.x_y")
    assert pinned == S3Source("b", "k", "3/L4k+rm+Sp.x_y")
    assert pinned.object_args() == {"Bucket": "b", "Key": "k", "VersionId": "3/L4k+rm+Sp.x_y"}
    assert S3Source("b", "k").object_args() == {"Bucket": "b", "Key": "k"}
    for bad in ("s3://b", "s3://b/?versionId=1", "https://b/k?versionId=1"):
        with pytest.raises(InputError, match="is not an s3://bucket/key"):
            parse_s3_source(bad)


SMALL_PARTS = TransferConfig(multipart_chunksize=64 * 1024, max_concurrency=4)


def _gets(endpoint: LocalEndpoint) -> int:
    return len([r for r in endpoint.request_log() if r.operation == "GetObject"])


def test_a_large_object_is_read_as_ranged_gets_in_order(
    endpoint: LocalEndpoint, clients: AwsClients, versioned_bucket: tuple[Any, str]
) -> None:
    s3, bucket = versioned_bucket
    data = random.Random(7).randbytes(1024 * 1024 + 123)
    s3.put_object(Bucket=bucket, Key=KEY, Body=data)
    uri = f"s3://{bucket}/{KEY}"
    endpoint.clear_request_log()
    with open_source(uri, clients, config=SMALL_PARTS) as stream:
        assert b"".join(iter(lambda: stream.read(10_000), b"")) == data
    assert _gets(endpoint) == 17
    endpoint.clear_request_log()
    one_stream = TransferConfig(use_threads=False)
    with open_source(uri, clients, config=one_stream) as stream:
        assert stream.read() == data
    assert _gets(endpoint) == 1


def test_readers_at_once_share_the_part_buffers_of_the_process(
    clients: AwsClients, versioned_bucket: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four targets read at once hold at most ``PART_BUFFERS`` part buffers plus one each (each
    held ten of its own before), every reader gets its bytes in order, and all are given back."""
    s3, bucket = versioned_bucket
    objects = [random.Random(n).randbytes(1024 * 1024 + n) for n in range(4)]
    for n, data in enumerate(objects):
        s3.put_object(Bucket=bucket, Key=f"m{n}", Body=data)
    budget = sources._BUFFERS
    take, most = budget.take, [0]

    def counted(size: int, *, needed: bool) -> bytearray | None:
        buffer = take(size, needed=needed)
        most[0] = max(most[0], budget.used)
        return buffer

    monkeypatch.setattr(budget, "take", counted)
    config = TransferConfig(multipart_chunksize=64 * 1024, max_concurrency=10)
    with contextlib.ExitStack() as stack:
        streams = [
            stack.enter_context(open_source(f"s3://{bucket}/m{n}", clients, config=config))
            for n in range(4)
        ]
        got = [bytearray() for _ in streams]
        while any(block := [s.read(48 * 1024) for s in streams]):  # round robin, all open
            for out, data in zip(got, block, strict=True):
                out.extend(data)
    assert [bytes(g) for g in got] == objects
    assert sources.PART_BUFFERS < most[0] <= sources.PART_BUFFERS + 4
    assert budget.used == 0


def test_ranged_reads_of_a_pinned_version_and_of_an_empty_object(
    clients: AwsClients, versioned_bucket: tuple[Any, str]
) -> None:
    s3, bucket = versioned_bucket
    data = random.Random(8).randbytes(300_000)
    old = s3.put_object(Bucket=bucket, Key=KEY, Body=data)["VersionId"]
    s3.put_object(Bucket=bucket, Key=KEY, Body=b"newer")
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    with open_source(f"s3://{bucket}/{KEY}?versionId={old}", clients, config=SMALL_PARTS) as s:
        assert s.read() == data
    with open_source(f"s3://{bucket}/empty", clients, config=SMALL_PARTS) as stream:
        assert stream.read() == b""


def test_an_object_overwritten_while_read_is_an_error_not_a_mix(
    clients: AwsClients, bucket: tuple[Any, str]
) -> None:
    s3, bucket_name = bucket
    old, new = bytes(1024 * 1024), b"\1" * 1024 * 1024
    s3.put_object(Bucket=bucket_name, Key=KEY, Body=old)
    config = TransferConfig(multipart_chunksize=64 * 1024, max_concurrency=1)

    def read_while_overwritten() -> None:
        with open_source(f"s3://{bucket_name}/{KEY}", clients, config=config) as stream:
            stream.read(64 * 1024)
            s3.put_object(Bucket=bucket_name, Key=KEY, Body=new)
            stream.read()

    with pytest.raises(SourceChangedError) as info:
        read_while_overwritten()
    assert str(info.value) == (
        f"s3://{bucket_name}/{KEY} changed since it was looked up (etag {etag(old)} → {etag(new)})"
    )


def test_a_versioned_object_overwritten_while_read_is_read_as_looked_up(
    clients: AwsClients, versioned_bucket: tuple[Any, str]
) -> None:
    s3, bucket = versioned_bucket
    old = random.Random(5).randbytes(1024 * 1024)
    s3.put_object(Bucket=bucket, Key=KEY, Body=old)
    config = TransferConfig(multipart_chunksize=64 * 1024, max_concurrency=1)
    with open_source(f"s3://{bucket}/{KEY}", clients, config=config) as stream:
        first = stream.read(64 * 1024)
        s3.put_object(Bucket=bucket, Key=KEY, Body=b"\1" * 1024 * 1024)
        assert first + stream.read() == old


@pytest.fixture
def bucket(endpoint: LocalEndpoint) -> tuple[Any, str]:
    """An S3 client and a fresh bucket without versioning: an overwrite replaces the object."""
    s3 = endpoint.client("s3")
    name = f"models-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return s3, name


READS = {
    "one stream": TransferConfig(use_threads=False),
    "ranges, one part": TransferConfig(multipart_chunksize=1024 * 1024),
    "ranges": SMALL_PARTS,
}


@pytest.mark.parametrize("read", sorted(READS))
def test_an_object_overwritten_after_its_lookup_is_refused_at_the_first_get(
    clients: AwsClients, bucket: tuple[Any, str], read: str
) -> None:
    """Without versioning, the looked-up ETag is all that names the object: If-Match on the
    first GET refuses the object written since, however it is read."""
    s3, bucket_name = bucket
    old, new = random.Random(1).randbytes(300_000), random.Random(2).randbytes(300_000)
    s3.put_object(Bucket=bucket_name, Key=KEY, Body=old)
    resolved = resolve_source(f"s3://{bucket_name}/{KEY}", clients)
    assert resolved.identity == f"etag:{etag(old)}"
    s3.put_object(Bucket=bucket_name, Key=KEY, Body=new)
    with (
        pytest.raises(SourceChangedError, match=rf"\(etag {etag(old)} → {etag(new)}\)$"),
        open_resolved(resolved, clients, config=READS[read]) as stream,
    ):
        stream.read()
    s3.delete_object(Bucket=bucket_name, Key=KEY)
    with (
        pytest.raises(SourceChangedError, match=rf"\(etag {etag(old)} → \(deleted\)\)$"),
        open_resolved(resolved, clients, config=READS[read]) as stream,
    ):
        stream.read()


@pytest.mark.parametrize("read", sorted(READS))
def test_a_versioned_object_is_read_as_the_version_looked_up(
    clients: AwsClients, versioned_bucket: tuple[Any, str], read: str
) -> None:
    s3, bucket = versioned_bucket
    old = random.Random(3).randbytes(300_000)
    version = s3.put_object(Bucket=bucket, Key=KEY, Body=old)["VersionId"]
    resolved = resolve_source(f"s3://{bucket}/{KEY}", clients)
    assert resolved.identity == f"etag:{etag(old)};version:{version}"
    s3.put_object(Bucket=bucket, Key=KEY, Body=b"overwritten")
    with open_resolved(resolved, clients, config=READS[read]) as stream:
        assert stream.read() == old


def test_a_looked_up_source_is_rebuilt_from_its_recorded_identity(
    clients: AwsClients, versioned_bucket: tuple[Any, str], tmp_path: Path
) -> None:
    s3, bucket = versioned_bucket
    version = s3.put_object(Bucket=bucket, Key=KEY, Body=b"model")["VersionId"]
    local = tmp_path / "model.tar.gz"
    local.write_bytes(b"model")
    for uri in (f"s3://{bucket}/{KEY}", f"s3://{bucket}/{KEY}?versionId={version}", str(local)):
        resolved = resolve_source(uri, clients)
        assert recorded_source(uri, resolved.identity) == resolved
    resolved = resolve_source(f"s3://{bucket}/{KEY}", clients)
    assert isinstance(resolved, ResolvedS3)
    assert resolved.get_args() == {
        "Bucket": bucket, "Key": KEY, "VersionId": version, "IfMatch": f'"{etag(b"model")}"'
    }  # fmt: skip
    unversioned = ResolvedS3("s3://b/k", "b", "k", "abc")
    assert unversioned.get_args() == {"Bucket": "b", "Key": "k", "IfMatch": '"abc"'}
    for uri, identity in [
        ("s3://b/k", f"sha256:{'0' * 64}"),
        (str(local), "etag:abc"),
        ("s3://b/k", "etag:"),
        ("s3://b/k", "etag:abc;version:"),
        ("s3://b/k", "etag:abc;size:3"),
    ]:
        with pytest.raises(DdaError, match="is not one of this source"):
            recorded_source(uri, identity)


def test_a_local_file_changed_after_its_lookup_is_refused(tmp_path: Path) -> None:
    """Its bytes are hashed as they are read, the rest when the reader stops early."""
    path = tmp_path / "model.tar.gz"
    old = random.Random(4).randbytes(3 * 1024 * 1024)
    path.write_bytes(old)
    resolved = resolve_source(str(path))
    assert resolved.identity == f"sha256:{hashlib.sha256(old).hexdigest()}"
    with open_resolved(resolved) as stream:
        assert stream.read(10) == old[:10]  # stops early: the rest is the same, no error
    new = old[:-1] + bytes([old[-1] ^ 1])  # the last byte, which no early stop reads
    path.write_bytes(new)
    change = f"sha256 {hashlib.sha256(old).hexdigest()} → {hashlib.sha256(new).hexdigest()}"
    for size in (10, -1):
        with (
            pytest.raises(SourceChangedError, match=f"looked up \\({change}\\)$"),
            open_resolved(resolved) as stream,
        ):
            stream.read(size)


def test_build_target_refuses_a_changed_source_and_leaves_no_package(tmp_path: Path) -> None:
    compiled = samples.write_compiled_model(tmp_path / "c.tar.gz", seed=1)
    request = BuildRequest(
        trained_model=str(samples.write_trained_model(tmp_path / "t.tar.gz")),
        compiled_models={"x86_64-cpu": str(compiled)},
        component_name="model-d",
        component_version="1.0.0",
        artifact_bucket="edge",
    )
    naming = validate_request(request)["x86_64-cpu"]
    manifest = read_manifest(request.trained_model)
    resolved = resolve_source(str(compiled))
    samples.write_compiled_model(compiled, seed=2)  # a whole other archive, read whole
    out = tmp_path / "out"
    with pytest.raises(SourceChangedError, match=f"{compiled} changed since it was looked up"):
        build_target(request, naming, manifest, resolved, out)
    assert list(out.iterdir()) == []
    other = resolve_source(str(tmp_path / "t.tar.gz"))
    with pytest.raises(DdaError, match="is not its compiled model"):
        build_target(request, naming, manifest, other, out)


class _FlakyBody:
    def __init__(self, data: bytes, fail: bool) -> None:
        self._data, self._fail = data, fail

    def read(self, amt: int | None = None) -> bytes:
        if self._fail:
            raise ResponseStreamingError(error="connection reset")
        data, self._data = self._data[:amt], self._data[len(self._data[:amt]) :]
        return data

    def iter_chunks(self, size: int) -> Iterator[bytes]:
        return iter(lambda: self.read(size), b"")

    def close(self) -> None:
        pass


class _FlakyS3:
    """Answers ranged GETs of ``data``; the first body of each range breaks off."""

    def __init__(self, data: bytes) -> None:
        self.data, self.calls = data, Counter[str]()
        self.lock = threading.Lock()

    def get_object(self, **args: Any) -> dict[str, Any]:
        start, end = (int(n) for n in args["Range"].removeprefix("bytes=").split("-"))
        with self.lock:
            self.calls[args["Range"]] += 1
            fail = self.calls[args["Range"]] == 1
        part = self.data[start : end + 1]
        return {
            "Body": _FlakyBody(part, fail),
            "ContentRange": f"bytes {start}-{start + len(part) - 1}/{len(self.data)}",
            "ETag": '"e"',
        }


def test_a_part_whose_body_breaks_off_is_fetched_again(monkeypatch: pytest.MonkeyPatch) -> None:
    data = random.Random(9).randbytes(200_000)
    fake = _FlakyS3(data)
    clients = AwsClients()
    monkeypatch.setitem(clients.__dict__, "s3", fake)
    with open_resolved(ResolvedS3("s3://b/k", "b", "k", "e"), clients, config=SMALL_PARTS) as s:
        assert s.read() == data
    assert sorted(fake.calls.values()) == [2, 2, 2, 2]
