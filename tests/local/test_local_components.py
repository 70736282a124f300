"""Greengrass v2 components through real boto3 clients: lifecycle, recipes, artifacts, states."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError
from dda_local_helpers import ACCOUNT, REGION, recipe, wait_state

from pulumi_dda.local import LocalEndpoint


def error_of(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = info.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def test_create_describe_get_list_delete(
    gg: Any, component: Callable[..., dict[str, Any]], artifact: Callable[..., str]
) -> None:
    uri = artifact()
    created = component(recipe(artifacts=[uri]), tags={"team": "dda"})
    arn = f"arn:aws:greengrass:{REGION}:{ACCOUNT}:components:com.example.Model:versions:1.0.0"
    assert created["arn"] == arn
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["status"]["componentState"] == "REQUESTED"
    assert created["componentName"] == "com.example.Model"

    described = wait_state(gg, arn, "DEPLOYABLE")
    assert described["publisher"] == "pulumi-dda tests"
    assert described["description"] == "A test component"
    assert described["platforms"] == [{"attributes": {"os": "linux"}}]
    assert described["tags"] == {"team": "dda"}
    assert described["status"] == {"componentState": "DEPLOYABLE", "message": "NONE", "errors": {}}

    got = gg.get_component(arn=arn)
    assert got["recipeOutputFormat"] == "JSON"
    assert json.loads(got["recipe"])["ComponentVersion"] == "1.0.0"
    assert got["tags"] == {"team": "dda"}

    listed = gg.list_components()["components"]
    assert [c["componentName"] for c in listed] == ["com.example.Model"]
    assert listed[0]["arn"] == arn.rsplit(":versions:", 1)[0]

    deleted = gg.delete_component(arn=arn)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as info:
        gg.describe_component(arn=arn)
    assert error_of(info)[0] == "ResourceNotFoundException"
    assert gg.list_components()["components"] == []


def test_service_computes_digest_and_overrides_client_value(
    gg: Any, component: Callable[..., dict[str, Any]], artifact: Callable[..., str]
) -> None:
    data = b"\x00model weights\xff" * 100
    uri = artifact(body=data)
    body = recipe(artifacts=[uri])
    body["Manifests"][0]["Artifacts"][0].update(Digest="bogus", Algorithm="MD5")
    arn = component(body)["arn"]
    stored = json.loads(gg.get_component(arn=arn)["recipe"])
    stored_artifact = stored["Manifests"][0]["Artifacts"][0]
    assert stored_artifact["Digest"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert stored_artifact["Algorithm"] == "SHA-256"


def test_yaml_recipe_and_yaml_output(gg: Any) -> None:
    text = yaml.safe_dump(recipe("com.example.Yaml", "2.0.0"))
    arn = gg.create_component_version(inlineRecipe=text.encode())["arn"]
    got = gg.get_component(arn=arn, recipeOutputFormat="YAML")
    assert got["recipeOutputFormat"] == "YAML"
    assert yaml.safe_load(got["recipe"])["ComponentName"] == "com.example.Yaml"


@pytest.mark.parametrize("blob", [b"{not json", b"- just\n- a list\n", b"\xff\xfe"])
def test_unparsable_recipe_is_access_denied_like_aws(gg: Any, blob: bytes) -> None:
    with pytest.raises(ClientError) as info:
        gg.create_component_version(inlineRecipe=blob)
    code, message, status = error_of(info)
    assert (code, status) == ("AccessDeniedException", 403)
    assert "not authorized to perform: null" in message


def test_existing_version_conflicts_with_real_text(
    component: Callable[..., dict[str, Any]],
) -> None:
    component()
    with pytest.raises(ClientError) as info:
        component()
    code, message, status = error_of(info)
    assert (code, status) == ("ConflictException", 409)
    assert message.startswith(
        f"Component [com.example.Model : 1.0.0] for account [{ACCOUNT}] already exists "
        "and can't be created again"
    )
    assert info.value.response["resourceType"] == "COMPONENT_VERSION"


def test_deleted_version_can_be_created_again_by_default(
    gg: Any, component: Callable[..., dict[str, Any]], artifact: Callable[..., str]
) -> None:
    first = component(recipe(artifacts=[artifact(body=b"first")]))
    gg.delete_component(arn=first["arn"])
    with pytest.raises(ClientError) as info:
        gg.describe_component(arn=first["arn"])
    assert error_of(info)[::2] == ("ResourceNotFoundException", 404)

    uri = artifact("artifacts/second.zip", b"second bytes")
    again = component(recipe(artifacts=[uri], ComponentDescription="second life"))
    assert again["arn"] == first["arn"]
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert again["status"]["componentState"] == "REQUESTED"
    assert again["creationTimestamp"] >= first["creationTimestamp"]
    described = wait_state(gg, again["arn"], "DEPLOYABLE")
    assert described["description"] == "second life"
    stored = json.loads(gg.get_component(arn=again["arn"])["recipe"])
    assert stored["Manifests"][0]["Artifacts"][0]["Uri"] == uri
    versions = gg.list_component_versions(arn=first["arn"].rsplit(":versions:", 1)[0])
    assert [v["componentVersion"] for v in versions["componentVersions"]] == ["1.0.0"]


def test_strict_mode_refuses_recreating_a_deleted_version(
    gg: Any, control: Any, component: Callable[..., dict[str, Any]]
) -> None:
    assert control.configure()["allow_recreate_deleted_versions"] is True
    settings = control.configure(allow_recreate_deleted_versions=False)
    assert settings["allow_recreate_deleted_versions"] is False
    arn = component()["arn"]
    gg.delete_component(arn=arn)
    with pytest.raises(ClientError) as info:
        component()
    code, message, status = error_of(info)
    assert (code, status) == ("ConflictException", 409)
    assert message.startswith(
        f"Component [com.example.Model : 1.0.0] for account [{ACCOUNT}] already exists"
    )
    assert info.value.response["resourceId"] == arn
    control.configure(allow_recreate_deleted_versions=True)
    assert component()["arn"] == arn


def test_missing_artifact_is_validation_error_with_real_text(
    component: Callable[..., dict[str, Any]], artifact: Callable[..., str]
) -> None:
    artifact()  # the bucket exists, the key does not
    uri = "s3://dda-artifacts/missing/model.zip"
    with pytest.raises(ClientError) as info:
        component(recipe(artifacts=[uri]))
    code, message, status = error_of(info)
    assert (code, status) == ("ValidationException", 400)
    assert message == (
        "Invalid Input: Encountered following errors in Artifacts: "
        f"{{{uri} = Specified artifact resource cannot be accessed}}"
    )


def test_artifact_bucket_in_another_region_cannot_be_accessed(
    endpoint: LocalEndpoint, ep: LocalEndpoint, component: Callable[..., dict[str, Any]]
) -> None:
    s3_eu = endpoint.client("s3", region_name="eu-west-1")
    s3_eu.create_bucket(
        Bucket="dda-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    s3_eu.put_object(Bucket="dda-eu", Key="model.zip", Body=b"x")
    with pytest.raises(ClientError) as info:
        component(recipe(artifacts=["s3://dda-eu/model.zip"]))
    assert "s3://dda-eu/model.zip = Specified artifact resource" in error_of(info)[1]


@pytest.mark.parametrize(
    ("name", "version", "fragment"),
    [
        ("aws.greengrass.Mine", "1.0.0", "reserved prefix"),
        ("x" * 129, "1.0.0", "1 to 128"),
        ("com.example.Bad", "1.0", "semantic version"),
        ("com example", "1.0.0", "must match"),
    ],
)
def test_name_and_version_limits(
    component: Callable[..., dict[str, Any]], name: str, version: str, fragment: str
) -> None:
    with pytest.raises(ClientError) as info:
        component(recipe(name, version))
    code, message, _ = error_of(info)
    assert code == "ValidationException"
    assert fragment in message


def test_state_machine_requested_initiated_deployable(
    ep: LocalEndpoint, gg: Any, component: Callable[..., dict[str, Any]]
) -> None:
    ep.set_state_delay(0.3)
    arn = component()["arn"]
    assert gg.describe_component(arn=arn)["status"]["componentState"] == "REQUESTED"
    time.sleep(0.35)
    assert gg.describe_component(arn=arn)["status"]["componentState"] == "INITIATED"
    time.sleep(0.3)
    assert gg.describe_component(arn=arn)["status"]["componentState"] == "DEPLOYABLE"


def test_artifact_deleted_before_processing_completes_fails_version(
    ep: LocalEndpoint,
    gg: Any,
    s3: Any,
    component: Callable[..., dict[str, Any]],
    artifact: Callable[..., str],
) -> None:
    ep.set_state_delay(0.2)
    uri = artifact()
    arn = component(recipe(artifacts=[uri]))["arn"]
    s3.delete_object(Bucket="dda-artifacts", Key="artifacts/model.zip")
    failed = wait_state(gg, arn, "FAILED")
    assert failed["status"]["errors"] == {uri: "Specified artifact resource cannot be accessed"}


def test_force_failed(ep: LocalEndpoint, gg: Any, component: Callable[..., dict[str, Any]]) -> None:
    arn = component()["arn"]
    ep.force_failed(arn, "forced by test", {"s3://x/y": "gone"})
    status = gg.describe_component(arn=arn)["status"]
    assert status == {
        "componentState": "FAILED",
        "message": "forced by test",
        "errors": {"s3://x/y": "gone"},
    }


def test_list_components_shows_latest_version(
    gg: Any, component: Callable[..., dict[str, Any]]
) -> None:
    for version in ("1.0.0", "1.10.0", "1.2.0"):
        component(recipe(version=version))
    component(recipe("com.example.Other", "0.1.0"))
    listed = gg.list_components(scope="PRIVATE")["components"]
    latest = {c["componentName"]: c["latestVersion"]["componentVersion"] for c in listed}
    assert latest == {"com.example.Model": "1.10.0", "com.example.Other": "0.1.0"}
    assert gg.list_components(scope="PUBLIC")["components"] == []


def test_list_component_versions_newest_first(
    gg: Any, component: Callable[..., dict[str, Any]]
) -> None:
    for version in ("1.0.0", "2.0.0", "1.5.0", "2.0.0-rc.1"):
        component(recipe(version=version))
    arn = f"arn:aws:greengrass:{REGION}:{ACCOUNT}:components:com.example.Model"
    versions = gg.list_component_versions(arn=arn)["componentVersions"]
    assert [v["componentVersion"] for v in versions] == ["2.0.0", "2.0.0-rc.1", "1.5.0", "1.0.0"]
    assert versions[0]["arn"] == f"{arn}:versions:2.0.0"


def test_unknown_component_is_not_found(gg: Any) -> None:
    arn = f"arn:aws:greengrass:{REGION}:{ACCOUNT}:components:com.example.None"
    with pytest.raises(ClientError) as info:
        gg.list_component_versions(arn=arn)
    assert error_of(info)[:1] == ("ResourceNotFoundException",)
    with pytest.raises(ClientError) as info:
        gg.get_component(arn=f"{arn}:versions:1.0.0")
    assert error_of(info)[2] == 404


def test_client_token_idempotency(gg: Any, ep: LocalEndpoint) -> None:
    blob = json.dumps(recipe()).encode()
    first = gg.create_component_version(inlineRecipe=blob, clientToken="token-1")
    again = gg.create_component_version(inlineRecipe=blob, clientToken="token-1")
    assert again["arn"] == first["arn"]
    assert again["creationTimestamp"] == first["creationTimestamp"]
    other = json.dumps(recipe(version="9.9.9")).encode()
    with pytest.raises(ClientError) as info:
        gg.create_component_version(inlineRecipe=other, clientToken="token-1")
    assert error_of(info)[0] == "ConflictException"
