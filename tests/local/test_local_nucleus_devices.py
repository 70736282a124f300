"""How a nucleus-backed device is declared, what it reports from the nucleus's own output, and
that a nucleus the endpoint started is stopped by ``reset()``."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from dda_local_helpers import ACCOUNT, REGION, wait_state
from nucleus_helpers import installed, wait_effective

from pulumi_dda.local import LocalEndpoint
from pulumi_dda.local.greengrass.devices import parse_device_spec
from pulumi_dda.local.greengrass.nucleus import parse_component_list, parse_status

# What greengrass-cli 2.18 printed on this machine for a local deployment whose model failed
# its Startup step, and its component list then (tests/local/test_local_nucleus*.py run it).
STATUS = """70f721ba-d479-43b0-91ec-355e8535609b: FAILED
Created on: 04-12-2026 17:26:34 UTC
Detailed Status: FAILED_ROLLBACK_NOT_REQUESTED
Deployment Error Stack: DEPLOYMENT_FAILURE, COMPONENT_UPDATE_ERROR, COMPONENT_BROKEN
Deployment Error Types: USER_COMPONENT_ERROR
Deployment Failure Cause: Service model-d-x86-64-cpu in broken state after deployment"""
LISTING = """Components currently running in Greengrass:
Component Name: DeploymentService
    Version: 0.0.0
    State: RUNNING
    Configuration: null
Component Name: aws.edgeml.dda.LocalServer.amd64
    Version: 1.0.0
    State: FINISHED
    Configuration: {}
Component Name: model-d-x86-64-cpu
    Version: 1.0.0
    State: BROKEN
    Configuration: {"Autostart":false,"ModelName":"model-d (x86_64-cpu)"}"""


def test_the_cli_output_is_read_as_the_nucleus_prints_it() -> None:
    status = parse_status(STATUS)
    assert (status.status, status.detailed_status) == ("FAILED", "FAILED_ROLLBACK_NOT_REQUESTED")
    assert status.error_stack[1:] == ["COMPONENT_UPDATE_ERROR", "COMPONENT_BROKEN"]
    assert status.error_types == ["USER_COMPONENT_ERROR"]
    assert status.reason == (
        "FAILED_ROLLBACK_NOT_REQUESTED: Service model-d-x86-64-cpu in broken state after deployment"
    )
    assert parse_component_list(LISTING) == {
        "DeploymentService": ("0.0.0", "RUNNING"),
        "aws.edgeml.dda.LocalServer.amd64": ("1.0.0", "FINISHED"),
        "model-d-x86-64-cpu": ("1.0.0", "BROKEN"),
    }


def test_the_kind_is_part_of_the_device_spec_and_fixed_once_declared(control: Any) -> None:
    assert parse_device_spec("name=core-r,kind=nucleus,thing_groups=a+b") == {
        "thing_name": "core-r",
        "kind": "nucleus",
        "thing_groups": ["a", "b"],
    }
    shown = control.add_core_device("core-r", kind="nucleus")
    assert (shown["kind"], shown["installed"]) == ("nucleus", {})
    assert control.add_core_device("core-r", online=False)["kind"] == "nucleus"
    assert control.add_core_device("core-s")["kind"] == "simulated"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "emulated"}, "kind must be one of simulated, nucleus"),
        ({"kind": "nucleus", "outcome": "fail"}, "cannot be scripted"),
        ({"kind": "nucleus", "delay": 2}, "cannot be scripted"),
        ({"kind": "nucleus", "architecture": "aarch64"}, "architecture is amd64"),
    ],
)
def test_what_a_nucleus_device_cannot_be_is_refused(
    ep: LocalEndpoint, spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ep.add_core_device("core-r", **spec)
    ep.add_core_device("core-s")
    with pytest.raises(ValueError, match="kind is fixed"):
        ep.add_core_device("core-s", kind="nucleus")


def test_a_thing_deployment_completes_on_the_nucleus_and_reset_stops_it(
    ep: LocalEndpoint, gg: Any, component: Callable[..., dict[str, Any]]
) -> None:
    """A deployment to the device's own thing ends COMPLETED (fleet.py) when its nucleus
    succeeded; ``reset()`` kills the nucleus and removes its root."""
    ep.add_core_device("core-r", kind="nucleus")
    recipe = {
        "RecipeFormatVersion": "2020-01-25",
        "ComponentName": "com.example.Hello",
        "ComponentVersion": "1.0.0",
        "Manifests": [{"Platform": {"os": "linux"}, "Lifecycle": {"Run": "echo hello"}}],
    }
    wait_state(gg, component(recipe)["arn"], "DEPLOYABLE")
    thing = f"arn:aws:iot:{REGION}:{ACCOUNT}:thing/core-r"
    created = gg.create_deployment(
        targetArn=thing, components={"com.example.Hello": {"componentVersion": "1.0.0"}}
    )
    record = wait_effective(gg, "core-r", created["deploymentId"])
    assert record["coreDeviceExecutionStatus"] == "COMPLETED", record
    deployment = gg.get_deployment(deploymentId=created["deploymentId"])
    assert deployment["deploymentStatus"] == "COMPLETED"
    assert installed(gg, "core-r") == {"com.example.Hello": ("1.0.0", "FINISHED")}
    device = next(d for d in ep.core_devices() if d["thing_name"] == "core-r")
    root, pid = Path(device["nucleus_root"]), device["nucleus_pid"]
    assert json.loads((root / "init-config.yaml").read_text())["system"]["thingName"] == "core-r"
    assert "hello" in (root / "logs" / "com.example.Hello.log").read_text()
    os.kill(pid, 0)
    ep.reset()
    assert not root.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
