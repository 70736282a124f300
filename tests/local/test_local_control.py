"""Fault injection, the request log, reset and accounts, in process and over the admin API."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from dda_local_helpers import ACCOUNT, BUCKET, REGION, recipe

from pulumi_dda.local import AdminClient, AdminError, LocalEndpoint


def test_injected_throttling_has_status_and_retry_after(gg: Any, control: Any) -> None:
    control.inject_fault("ListComponents", "ThrottlingException", count=2)
    for _ in range(2):
        with pytest.raises(ClientError) as info:
            gg.list_components()
        response = info.value.response
        assert response["Error"]["Code"] == "ThrottlingException"
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "1"
    assert gg.list_components()["components"] == []
    assert control.faults() == []


def test_injected_internal_error(gg: Any, control: Any) -> None:
    control.inject_fault("DescribeComponent", "InternalServerException", message="boom")
    with pytest.raises(ClientError) as info:
        gg.describe_component(
            arn=f"arn:aws:greengrass:{REGION}:{ACCOUNT}:components:a:versions:1.0.0"
        )
    response = info.value.response
    assert (response["Error"]["Code"], response["Error"]["Message"]) == (
        "InternalServerException",
        "boom",
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_standard_retries_get_through_a_throttling_storm(
    endpoint: LocalEndpoint, ep: LocalEndpoint, component: Callable[..., dict[str, Any]]
) -> None:
    arn = component()["arn"]
    retrying = endpoint.client(
        "greengrassv2", config=Config(retries={"mode": "standard", "total_max_attempts": 4})
    )
    ep.inject_fault("DescribeComponent", "ThrottlingException", count=2)
    described = retrying.describe_component(arn=arn)
    assert described["ResponseMetadata"]["RetryAttempts"] == 2
    calls = [r for r in ep.request_log() if r.operation == "DescribeComponent"]
    assert [(r.status, r.injected_fault) for r in calls] == [(429, True), (429, True), (200, False)]


def test_s3_fault_uses_s3_error_format(s3: Any, control: Any) -> None:
    s3.create_bucket(Bucket=BUCKET)
    control.inject_fault("PutObject", "SlowDown", service="s3")
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    assert info.value.response["Error"]["Code"] == "SlowDown"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"x")


def test_a_fault_for_a_service_not_served_is_refused(ep: Any) -> None:
    """``greengrass`` is not the signing name of Greengrass v2 (``greengrassv2``): a fault
    naming it would never match, and a race test using it would test nothing."""
    with pytest.raises(ValueError, match="service 'greengrass' is not one of greengrassv2"):
        ep.inject_fault("UntagResource", "", delay=1.0, service="greengrass")
    assert ep.faults() == []


def test_force_failed_and_config(
    gg: Any, control: Any, component: Callable[..., dict[str, Any]]
) -> None:
    arn = component()["arn"]
    control.force_failed(arn, "broken on purpose")
    assert gg.describe_component(arn=arn)["status"]["componentState"] == "FAILED"
    assert control.configure(state_delay=1.5)["state_delay"] == 1.5


def test_request_log_records_every_service(
    gg: Any, s3: Any, control: Any, component: Callable[..., dict[str, Any]]
) -> None:
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="a/model.zip", Body=b"0123456789")
    got = s3.get_object(Bucket=BUCKET, Key="a/model.zip")["Body"].read()
    uri = f"s3://{BUCKET}/a/model.zip"
    component(recipe(artifacts=[uri]))
    log = control.request_log()
    assert [(r.service, r.operation) for r in log] == [
        ("s3", "CreateBucket"),
        ("s3", "PutObject"),
        ("s3", "GetObject"),
        ("greengrassv2", "CreateComponentVersion"),
    ]
    put, get, create = log[1], log[2], log[3]
    assert (put.method, put.path, put.bytes_in) == ("PUT", f"/{BUCKET}/a/model.zip", 10)
    assert get.bytes_out == len(got) == 10
    assert (create.status, create.account_id, create.region) == (201, ACCOUNT, REGION)
    assert create.bytes_in > 0
    assert create.bytes_out > 0
    control.clear_request_log()
    gg.list_components()
    assert [r.operation for r in control.request_log()] == ["ListComponents"]


def test_log_shows_no_artifact_transfer_for_a_metadata_only_workflow(
    gg: Any, control: Any, component: Callable[..., dict[str, Any]]
) -> None:
    arn = component()["arn"]
    gg.describe_component(arn=arn)
    log = control.request_log()
    assert not [r for r in log if r.service == "s3" and r.operation == "GetObject"]
    assert not [r for r in log if r.method == "PUT"]
    assert sum(r.bytes_out for r in log) > 0


def test_reset_clears_aws_state_faults_and_log(
    gg: Any, s3: Any, control: Any, component: Callable[..., dict[str, Any]]
) -> None:
    component()
    s3.create_bucket(Bucket=BUCKET)
    control.inject_fault("ListComponents", "ThrottlingException", count=5)
    control.configure(state_delay=9)
    control.reset()
    assert control.request_log() == []
    assert gg.list_components()["components"] == []
    assert s3.list_buckets()["Buckets"] == []
    assert control.configure()["state_delay"] == 0.05


def test_admin_client_reports_bad_requests(ep: LocalEndpoint) -> None:
    admin = AdminClient(ep.url)
    with pytest.raises(AdminError, match="404"):
        admin.force_failed(
            f"arn:aws:greengrass:{REGION}:{ACCOUNT}:components:x:versions:1.0.0", "m"
        )
    with pytest.raises(AdminError, match="400"):
        admin._call("POST", "config", {"colour": "blue"})


def test_second_account_has_separate_state(
    endpoint: LocalEndpoint, gg: Any, component: Callable[..., dict[str, Any]]
) -> None:
    other = "111111111111"
    sts = endpoint.client("sts")
    assert sts.get_caller_identity()["Account"] == ACCOUNT
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{other}:role/dda", RoleSessionName="tests")[
        "Credentials"
    ]
    keys = {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }
    gg_other = endpoint.client("greengrassv2", **keys)
    s3_other = endpoint.client("s3", **keys)
    s3_other.create_bucket(Bucket="other-artifacts")
    s3_other.put_object(Bucket="other-artifacts", Key="m.zip", Body=b"m")
    blob = json.dumps(recipe(artifacts=["s3://other-artifacts/m.zip"])).encode()
    created = gg_other.create_component_version(inlineRecipe=blob)
    assert f":{other}:components:" in created["arn"]
    assert gg.list_components()["components"] == []
    component()  # the same name+version is free in the default account
    assert len(gg_other.list_components()["components"]) == 1
    with pytest.raises(ClientError):
        gg.describe_component(arn=created["arn"])
