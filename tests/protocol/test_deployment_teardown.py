"""GreengrassDeployment read and delete for every state a deployment can reach: a deployment to
one simulated core device ends COMPLETED or FAILED, one cancelled before the device got it is
CANCELED. Through the real provider servers (dynamic and plugin) and the local endpoint."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from plugin_harness import PluginProviderProcess
from provider_process import REGION

from pulumi_dda.local import LocalEndpoint

pytest_plugins = ("deployment_fixtures",)

ACCOUNT = "123456789012"
MODEL = "com.example.Inspector"
DEVICE = "core-1"


def _news(target: str) -> dict[str, Any]:
    return {
        "target_arn": target,
        "components": {MODEL: {"component_version": "1.0.0"}},
        "deployment_name": "line-1",
        "deployment_policies": {},
        "iot_job_configuration": {},
        "tags": {},
        "region": "",
        "role_arn": "",
        "take_over": False,
        "owner": "pulumi-dda/test/line-1",
        "deployment_id": None,
        "arn": None,
        "iot_job_id": None,
        "iot_job_arn": None,
        "deployment_status": None,
        "revision_count": None,
        "takes_over": None,
    }


def _wait_status(gg: Any, deployment_id: str, wanted: str) -> None:
    deadline = time.monotonic() + 10
    while gg.get_deployment(deploymentId=deployment_id)["deploymentStatus"] != wanted:
        assert time.monotonic() < deadline, f"{deployment_id} never became {wanted}"
        time.sleep(0.05)


def _succeeds(ep: LocalEndpoint, gg: Any, deployment_id: str) -> None:
    _wait_status(gg, deployment_id, "COMPLETED")


def _fails(ep: LocalEndpoint, gg: Any, deployment_id: str) -> None:
    _wait_status(gg, deployment_id, "FAILED")


def _cancelled_while_offline(ep: LocalEndpoint, gg: Any, deployment_id: str) -> None:
    gg.cancel_deployment(deploymentId=deployment_id)


@pytest.mark.parametrize(
    ("behaviour", "settle", "status", "operations"),
    [
        ({}, _succeeds, "COMPLETED", ["GetDeployment", "CancelDeployment", "DeleteDeployment"]),
        (
            {"outcome": "fail"},
            _fails,
            "FAILED",
            ["GetDeployment", "CancelDeployment", "DeleteDeployment"],
        ),
        (
            {"online": False},
            _cancelled_while_offline,
            "CANCELED",
            ["GetDeployment", "DeleteDeployment"],
        ),
    ],
    ids=["completed", "failed", "canceled"],
)
def test_read_keeps_and_delete_removes_a_finished_thing_deployment(
    deployment_provider: PluginProviderProcess,
    ep: LocalEndpoint,
    gg: Any,
    publish_components: Callable[[dict[str, list[str]]], None],
    behaviour: dict[str, Any],
    settle: Callable[[LocalEndpoint, Any, str], None],
    status: str,
    operations: list[str],
) -> None:
    publish_components({MODEL: ["1.0.0"]})
    ep.add_core_device(DEVICE, delay=0.1)
    ep.add_core_device(DEVICE, **behaviour)
    target = f"arn:aws:iot:{REGION}:{ACCOUNT}:thing/{DEVICE}"
    inputs, failures = deployment_provider.check({}, _news(target))
    assert failures == []
    id_, outs = deployment_provider.create(inputs)
    settle(ep, gg, outs["deployment_id"])

    read_id, read_outs, _ = deployment_provider.read(id_, outs)
    if status == "CANCELED":
        assert (read_id, read_outs) == ("", {}), "cancelled outside the stack: dropped"
    else:
        assert (read_id, read_outs["deployment_status"]) == (id_, status)

    ep.clear_request_log()
    deployment_provider.delete(id_, outs)
    calls = [r for r in ep.request_log() if r.service == "greengrassv2"]
    assert [r.operation for r in calls] == operations
    assert calls[-1].status == 204
    with pytest.raises(gg.exceptions.ResourceNotFoundException):
        gg.get_deployment(deploymentId=outs["deployment_id"])
    assert f"deleted deployment {outs['deployment_id']} of {id_}" in deployment_provider.stderr()
