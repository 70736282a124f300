"""Helpers for the simulated-fleet tests: wait for what devices report, read it compactly."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

MODEL = "com.example.Model"


def wait_for(check: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
    """Poll ``check`` until it returns something truthy; fail with its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}: last {value!r}")
        time.sleep(0.02)


def statuses(gg: Any, device: str, deployment_id: str) -> list[str]:
    """The device's execution statuses of one deployment (usually one)."""
    listed = gg.list_effective_deployments(coreDeviceThingName=device)["effectiveDeployments"]
    return [e["coreDeviceExecutionStatus"] for e in listed if e["deploymentId"] == deployment_id]


def effective(gg: Any, device: str, deployment_id: str) -> dict[str, Any]:
    listed = gg.list_effective_deployments(coreDeviceThingName=device)["effectiveDeployments"]
    found = [e for e in listed if e["deploymentId"] == deployment_id]
    assert len(found) == 1, found
    return dict(found[0])


def installed(gg: Any, device: str, topology: str = "ROOT") -> dict[str, tuple[str, str]]:
    """component name -> (version, lifecycleState) as the device reports it."""
    listed = gg.list_installed_components(coreDeviceThingName=device, topologyFilter=topology)
    return {
        c["componentName"]: (c["componentVersion"], c["lifecycleState"])
        for c in listed["installedComponents"]
    }


def deploy(gg: Any, target: str, version: str, **extra: Any) -> str:
    created = gg.create_deployment(
        targetArn=target, components={MODEL: {"componentVersion": version}}, **extra
    )
    return str(created["deploymentId"])


def settled(gg: Any, devices: list[str], deployment_id: str, wanted: str) -> bool:
    return all(statuses(gg, d, deployment_id) == [wanted] for d in devices)
