"""Ranged S3 GetObject answered from the range alone, and the per-connection bandwidth cap."""

from __future__ import annotations

import json
import types
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError
from dda_local_helpers import BUCKET

from pulumi_dda.local import LocalEndpoint, control, moto_side


def _versioned_object(s3: Any, size: int) -> tuple[bytes, str]:
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    data = bytes(range(256)) * (size // 256)
    version = s3.put_object(Bucket=BUCKET, Key="m.tar.gz", Body=data, Metadata={"k": "v"})
    return data, version["VersionId"]


def test_a_ranged_get_returns_the_range_with_the_object_headers(
    ep: LocalEndpoint, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ranges: list[tuple[int, int]] = []
    read_range = moto_side.object_range

    def spy(*args: Any) -> bytes | None:
        ranges.append(args[-2:])
        return read_range(*args)

    monkeypatch.setattr(moto_side, "object_range", spy)
    data, old = _versioned_object(s3, 64 * 1024)
    s3.put_object(Bucket=BUCKET, Key="m.tar.gz", Body=b"newer")
    got = s3.get_object(Bucket=BUCKET, Key="m.tar.gz", VersionId=old, Range="bytes=1000-1999")
    assert got["Body"].read() == data[1000:2000]
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == f"bytes 1000-1999/{len(data)}"
    assert (got["ContentLength"], got["VersionId"], got["Metadata"]) == (1000, old, {"k": "v"})
    head = s3.head_object(Bucket=BUCKET, Key="m.tar.gz", VersionId=old)
    assert got["ETag"] == head["ETag"]
    again = s3.get_object(
        Bucket=BUCKET, Key="m.tar.gz", VersionId=old, Range="bytes=60000-", IfMatch=head["ETag"]
    )
    assert again["Body"].read() == data[60000:]
    gets = [r for r in ep.request_log() if r.operation == "GetObject"]
    assert [r.bytes_out for r in gets] == [1000, len(data) - 60000]
    assert ranges == [(1000, 1000), (60000, len(data) - 60000)]


def test_ranged_gets_keep_s3_errors(s3: Any) -> None:
    _versioned_object(s3, 1024)
    cases = {
        "PreconditionFailed": {"Range": "bytes=0-9", "IfMatch": '"not-the-etag"'},
        "InvalidRange": {"Range": "bytes=5000-6000"},
        "NoSuchKey": {"Range": "bytes=0-9", "Key": "absent"},
    }
    for code, extra in cases.items():
        with pytest.raises(ClientError) as info:
            s3.get_object(**{"Bucket": BUCKET, "Key": "m.tar.gz", **extra})
        assert info.value.response["Error"]["Code"] == code


def test_connection_bandwidth_is_a_setting_that_reset_restores(ep: LocalEndpoint) -> None:
    assert ep.configure()["connection_bandwidth"] == 0
    assert ep.configure(connection_bandwidth=2e6)["connection_bandwidth"] == 2e6
    request = urllib.request.Request(
        f"{ep.url}/_dda_local/config",
        data=json.dumps({"connection_bandwidth": 3e6}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request) as reply:
        assert json.load(reply)["connection_bandwidth"] == 3e6
    with pytest.raises(ValueError, match=">= 0"):
        ep.configure(connection_bandwidth=-1)
    ep.reset()
    assert ep.configure()["connection_bandwidth"] == 0
    capped = LocalEndpoint(connection_bandwidth=1e9)
    capped.reset()
    assert capped.configure()["connection_bandwidth"] == 1e9


def test_a_capped_endpoint_serves_the_same_bytes(ep: LocalEndpoint, s3: Any) -> None:
    data, _ = _versioned_object(s3, 256 * 1024)
    ep.configure(connection_bandwidth=50e6)
    assert s3.get_object(Bucket=BUCKET, Key="m.tar.gz")["Body"].read() == data
    ranged = s3.get_object(Bucket=BUCKET, Key="m.tar.gz", Range="bytes=100-200000")
    assert ranged["Body"].read() == data[100:200001]


def test_pace_sends_every_byte_and_waits_size_over_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = types.SimpleNamespace(now=0.0, slept=[])

    def sleep(seconds: float) -> None:
        clock.slept.append(seconds)
        clock.now += seconds

    fake_time = types.SimpleNamespace(monotonic=lambda: clock.now, sleep=sleep)
    monkeypatch.setattr(control, "time", fake_time)
    body = bytes(range(256)) * 1000
    pieces = list(control.BandwidthCap(lambda: 1000).pace(body))
    assert b"".join(pieces) == body
    assert max(len(p) for p in pieces) == control.PACE_PIECE
    assert sum(clock.slept) == pytest.approx(len(body) / 1000)
    assert list(control.BandwidthCap(lambda: 0).pace(body)) == [body]


class _Clock:
    """``control``'s clock: time passes only when it sleeps, so pacing is exact."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_cap_paces_request_bodies_as_well_as_replies(
    ep: LocalEndpoint, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3.create_bucket(Bucket=BUCKET)
    body = bytes(range(256)) * (3 * 1024 * 1024 // 256)
    clock = _Clock()
    monkeypatch.setattr(control, "time", clock)
    ep.configure(connection_bandwidth=1024 * 1024)
    s3.put_object(Bucket=BUCKET, Key="up.bin", Body=body)
    uploaded = sum(clock.slept)
    assert uploaded == pytest.approx(3.0)  # 3 MiB at 1 MiB/s, read in 64 KiB pieces
    assert len(clock.slept) == len(body) // control.PACE_PIECE
    ep.configure(connection_bandwidth=0)
    clock.slept.clear()
    s3.put_object(Bucket=BUCKET, Key="free.bin", Body=body)
    assert clock.slept == []
    ep.configure(connection_bandwidth=1024 * 1024)
    assert s3.get_object(Bucket=BUCKET, Key="up.bin")["Body"].read() == body
    # the reply at the same rate; its last sleep may come after the client has it all, so it
    # is asked for last
    assert sum(clock.slept) >= 3.0 - control.PACE_PIECE / (1024 * 1024)
