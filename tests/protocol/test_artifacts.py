"""Artifact uploads against the local S3: skip identical bytes, never overwrite other bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from dynamic_harness import ARTIFACT_BUCKET

from pulumi_dda import artifacts
from pulumi_dda.errors import AwsError, ConflictError, InputError
from pulumi_dda.local import LocalEndpoint

KEY = "model_artifacts/model-abc/abc_greengrass_model_component.zip"


@pytest.fixture
def package(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "p.zip"
    path.write_bytes(b"zip bytes" * 1000)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def _puts(ep: LocalEndpoint) -> int:
    return sum(1 for r in ep.request_log() if r.operation in {"PutObject", "UploadPart"})


def test_uploads_once_then_skips(ep: LocalEndpoint, s3: Any, package: tuple[Path, str]) -> None:
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    path, sha = package
    lines: list[str] = []
    assert artifacts.ensure_artifact(s3, ARTIFACT_BUCKET, KEY, path, sha, "o", lines.append)
    assert not artifacts.ensure_artifact(s3, ARTIFACT_BUCKET, KEY, path, sha, "o", lines.append)
    assert _puts(ep) == 1
    head = s3.head_object(Bucket=ARTIFACT_BUCKET, Key=KEY)
    assert head["Metadata"] == {"sha256": sha, "pulumi-dda-owner": "o"}
    assert any("upload skipped" in line for line in lines)


def test_same_bytes_without_metadata_are_hashed_and_kept(
    ep: LocalEndpoint, s3: Any, package: tuple[Path, str]
) -> None:
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    path, sha = package
    s3.put_object(Bucket=ARTIFACT_BUCKET, Key=KEY, Body=path.read_bytes())
    ep.clear_request_log()
    assert not artifacts.ensure_artifact(s3, ARTIFACT_BUCKET, KEY, path, sha, "o")
    assert _puts(ep) == 0


def test_other_bytes_at_the_key_are_never_overwritten(
    ep: LocalEndpoint, s3: Any, package: tuple[Path, str]
) -> None:
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    path, sha = package
    s3.put_object(Bucket=ARTIFACT_BUCKET, Key=KEY, Body=b"something else")
    with pytest.raises(ConflictError, match="already holds other bytes"):
        artifacts.ensure_artifact(s3, ARTIFACT_BUCKET, KEY, path, sha, "o")
    assert s3.get_object(Bucket=ARTIFACT_BUCKET, Key=KEY)["Body"].read() == b"something else"


def test_a_failed_upload_is_an_aws_error_naming_the_key_and_the_service_code(
    ep: LocalEndpoint, s3: Any, package: tuple[Path, str]
) -> None:
    """boto3's managed upload raises S3UploadFailedError, not a ClientError: the error
    boundary translates it like every other AWS error."""
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    path, sha = package
    ep.inject_fault("PutObject", "AccessDenied", count=20, status=403, service="s3")
    with pytest.raises(AwsError) as info:
        artifacts.ensure_artifact(s3, ARTIFACT_BUCKET, KEY, path, sha, "o")
    assert info.value.code == "AccessDenied"
    assert str(info.value).startswith(f"uploading s3://{ARTIFACT_BUCKET}/{KEY}: AccessDenied:")


def test_a_missing_bucket_is_refused_at_check_time(s3: Any) -> None:
    with pytest.raises(InputError, match="artifact_bucket nowhere does not exist") as info:
        artifacts.check_bucket(s3, "nowhere", "us-east-1")
    assert info.value.field == "artifact_bucket"
