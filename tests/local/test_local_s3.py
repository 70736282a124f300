"""S3 through the same port (moto): the object calls a DDA workflow makes, incl. multipart."""

from __future__ import annotations

import io
from typing import Any

import pytest
from botocore.exceptions import ClientError
from dda_local_helpers import BUCKET

from pulumi_dda.local import LocalEndpoint


def test_put_get_head_list_delete(s3: Any) -> None:
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="models/a b+c.bin", Body=b"abc", Metadata={"x_y": "1"})
    assert s3.get_object(Bucket=BUCKET, Key="models/a b+c.bin")["Body"].read() == b"abc"
    head = s3.head_object(Bucket=BUCKET, Key="models/a b+c.bin")
    assert head["ContentLength"] == 3
    assert head["Metadata"] == {"x_y": "1"}
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="models/")
    assert [o["Key"] for o in listed["Contents"]] == ["models/a b+c.bin"]
    s3.delete_object(Bucket=BUCKET, Key="models/a b+c.bin")
    with pytest.raises(ClientError) as info:
        s3.head_object(Bucket=BUCKET, Key="models/a b+c.bin")
    assert info.value.response["Error"]["Code"] == "404"


def test_multipart_upload_is_logged_with_its_bytes(ep: LocalEndpoint, s3: Any) -> None:
    from boto3.s3.transfer import TransferConfig

    s3.create_bucket(Bucket=BUCKET)
    data = bytes(range(256)) * (6 * 1024 * 4)  # 6 MiB
    config = TransferConfig(
        multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024
    )
    s3.upload_fileobj(io.BytesIO(data), BUCKET, "big.bin", Config=config)
    assert s3.get_object(Bucket=BUCKET, Key="big.bin")["Body"].read() == data
    parts = [r for r in ep.request_log() if r.operation == "UploadPart"]
    assert len(parts) == 2
    assert sum(r.bytes_in for r in parts) >= len(data)
