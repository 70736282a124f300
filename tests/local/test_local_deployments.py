"""Greengrass v2 deployments: revisions per target, cancel/delete rules, checks, idempotency."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from dda_local_helpers import ACCOUNT, REGION

from pulumi_dda.local import LocalEndpoint


def code_of(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def test_create_get_list(
    gg: Any, deployable: Callable[..., str], thing_group: Callable[[str], str]
) -> None:
    deployable()
    target = thing_group("dda-group")
    created = gg.create_deployment(
        targetArn=target,
        deploymentName="dda",
        components={
            "com.example.Model": {"componentVersion": "1.0.0"},
            "aws.greengrass.Nucleus": {"componentVersion": "2.12.0"},
        },
        deploymentPolicies={"failureHandlingPolicy": "DO_NOTHING"},
        tags={"env": "test"},
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["iotJobArn"] == f"arn:aws:iot:{REGION}:{ACCOUNT}:job/{created['iotJobId']}"
    got = gg.get_deployment(deploymentId=created["deploymentId"])
    assert got["targetArn"] == target
    assert got["revisionId"] == "1"
    assert got["deploymentStatus"] == "ACTIVE"
    assert got["isLatestForTarget"] is True
    assert got["deploymentName"] == "dda"
    assert got["tags"] == {"env": "test"}
    policies = got["deploymentPolicies"]
    assert policies["failureHandlingPolicy"] == "DO_NOTHING"
    assert policies["componentUpdatePolicy"] == {
        "timeoutInSeconds": 60,
        "action": "NOTIFY_COMPONENTS",
    }
    listed = gg.list_deployments()["deployments"]
    assert [d["deploymentId"] for d in listed] == [created["deploymentId"]]


def test_new_deployment_supersedes_previous_for_same_target(
    gg: Any, deployable: Callable[..., str], thing_group: Callable[[str], str]
) -> None:
    deployable("com.example.Model", "1.0.0")
    deployable("com.example.Model", "1.1.0")
    target = thing_group("dda-group")
    first = gg.create_deployment(
        targetArn=target, components={"com.example.Model": {"componentVersion": "1.0.0"}}
    )["deploymentId"]
    second = gg.create_deployment(
        targetArn=target, components={"com.example.Model": {"componentVersion": "1.1.0"}}
    )["deploymentId"]
    old = gg.get_deployment(deploymentId=first)
    assert (old["isLatestForTarget"], old["deploymentStatus"]) == (False, "INACTIVE")
    new = gg.get_deployment(deploymentId=second)
    assert (new["isLatestForTarget"], new["revisionId"]) == (True, "2")
    latest = gg.list_deployments(targetArn=target)["deployments"]
    assert [d["deploymentId"] for d in latest] == [second]
    history = gg.list_deployments(targetArn=target, historyFilter="ALL")["deployments"]
    assert [d["deploymentId"] for d in history] == [second, first]


def test_cancel_then_delete(gg: Any, thing_group: Callable[[str], str]) -> None:
    deployment_id = gg.create_deployment(targetArn=thing_group("g"), components={})["deploymentId"]
    with pytest.raises(ClientError) as info:
        gg.delete_deployment(deploymentId=deployment_id)
    assert code_of(info) == "ConflictException"
    assert gg.cancel_deployment(deploymentId=deployment_id)["message"] == "SUCCESS"
    assert gg.get_deployment(deploymentId=deployment_id)["deploymentStatus"] == "CANCELED"
    with pytest.raises(ClientError) as info:
        gg.cancel_deployment(deploymentId=deployment_id)
    assert code_of(info) == "ConflictException"
    assert (
        gg.delete_deployment(deploymentId=deployment_id)["ResponseMetadata"]["HTTPStatusCode"]
        == 204
    )
    with pytest.raises(ClientError) as info:
        gg.get_deployment(deploymentId=deployment_id)
    assert code_of(info) == "ResourceNotFoundException"


def test_superseded_deployment_can_be_deleted(gg: Any, thing_group: Callable[[str], str]) -> None:
    target = thing_group("g")
    first = gg.create_deployment(targetArn=target, components={})["deploymentId"]
    gg.create_deployment(targetArn=target, components={})
    gg.delete_deployment(deploymentId=first)
    assert len(gg.list_deployments(historyFilter="ALL")["deployments"]) == 1


def test_target_must_exist_unless_configured(ep: LocalEndpoint, gg: Any) -> None:
    target = f"arn:aws:iot:{REGION}:{ACCOUNT}:thinggroup/absent"
    with pytest.raises(ClientError) as info:
        gg.create_deployment(targetArn=target, components={})
    assert code_of(info) == "ResourceNotFoundException"
    ep.configure(check_deployment_targets=False)
    assert gg.create_deployment(targetArn=target, components={})["deploymentId"]


def test_thing_target_in_other_region_is_refused(gg: Any, iot: Any) -> None:
    iot.create_thing(thingName="core-1")
    target = f"arn:aws:iot:eu-west-1:{ACCOUNT}:thing/core-1"
    with pytest.raises(ClientError) as info:
        gg.create_deployment(targetArn=target, components={})
    assert code_of(info) == "ValidationException"


def test_components_must_exist_and_be_deployable(
    ep: LocalEndpoint,
    gg: Any,
    component: Callable[..., dict[str, Any]],
    thing_group: Callable[[str], str],
) -> None:
    target = thing_group("g")
    spec = {"com.example.Model": {"componentVersion": "1.0.0"}}
    with pytest.raises(ClientError) as info:
        gg.create_deployment(targetArn=target, components=spec)
    assert code_of(info) == "ResourceNotFoundException"
    ep.set_state_delay(30)
    component()
    with pytest.raises(ClientError) as info:
        gg.create_deployment(targetArn=target, components=spec)
    assert code_of(info) == "ValidationException"
    assert "REQUESTED" in info.value.response["Error"]["Message"]


def test_client_token_idempotency(gg: Any, thing_group: Callable[[str], str]) -> None:
    target = thing_group("g")
    first = gg.create_deployment(targetArn=target, components={}, clientToken="abc-1")
    again = gg.create_deployment(targetArn=target, components={}, clientToken="abc-1")
    assert again["deploymentId"] == first["deploymentId"]
    assert len(gg.list_deployments(historyFilter="ALL")["deployments"]) == 1
    with pytest.raises(ClientError) as info:
        gg.create_deployment(targetArn=target, deploymentName="other", clientToken="abc-1")
    assert code_of(info) == "ConflictException"


def test_model_validation_names_the_field(gg: Any) -> None:
    with pytest.raises(ClientError) as info:
        gg.create_deployment(targetArn="arn:aws:iot:us-east-1:123:rule/x", components={})
    error = info.value.response
    assert error["Error"]["Code"] == "ValidationException"
    assert "'targetArn'" in error["Error"]["Message"]
    assert error["fields"][0]["name"] == "targetArn"
    assert error["reason"] == "FIELD_VALIDATION_FAILED"
