"""Stand-ins for DDA's LocalServer components, published into the local endpoint.

Every DDA model recipe has a HARD dependency on ``aws.edgeml.dda.LocalServer.<arch>``
(``arm64`` for Jetson and ARM targets, ``amd64`` for x86), which must exist as a component
version in the same account and region. In a real account it is published from the DDA
repository (its GDK build) before ``pulumi up``; on the local endpoint these stand-ins take its
place: version 1.0.0, the right platform, no artifacts, a lifecycle that only says what it is.

``make demo`` seeds them in its bootstrap, ``pulumi-dda local --seed-local-server`` at start;
tests that need them call :func:`seed_local_server`
with a ``greengrassv2`` client of the endpoint.
"""

from __future__ import annotations

import json
import time
from typing import Any

from botocore.exceptions import ClientError

LOCAL_SERVER = "aws.edgeml.dda.LocalServer"
VERSION = "1.0.0"
# Component name suffix -> the recipe's platform architecture (Greengrass says aarch64).
ARCHITECTURES = {"arm64": "aarch64", "amd64": "amd64"}
PENDING = {"REQUESTED", "INITIATED"}


def local_server_recipe(arch: str, version: str = VERSION) -> dict[str, Any]:
    """A minimal recipe for ``aws.edgeml.dda.LocalServer.<arch>`` (no artifacts)."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown LocalServer architecture {arch!r} ({', '.join(ARCHITECTURES)})")
    return {
        "RecipeFormatVersion": "2020-01-25",
        "ComponentName": f"{LOCAL_SERVER}.{arch}",
        "ComponentVersion": version,
        "ComponentType": "aws.greengrass.generic",
        "ComponentDescription": "Local stand-in for DDA's LocalServer (pulumi-dda local endpoint)",
        "ComponentPublisher": "pulumi-dda",
        "Manifests": [
            {
                "Platform": {"os": "linux", "architecture": ARCHITECTURES[arch]},
                "Lifecycle": {"Run": "echo 'DDA LocalServer stand-in: publish the real one'"},
            }
        ],
    }


def seed_local_server(gg: Any, arch: str, version: str = VERSION, timeout: float = 30.0) -> str:
    """Publish the stand-in (or find it already there) and wait until it is DEPLOYABLE.

    Returns the component version ARN. ``gg`` is a boto3 ``greengrassv2`` client.
    """
    recipe = local_server_recipe(arch, version)
    try:
        arn = str(gg.create_component_version(inlineRecipe=json.dumps(recipe).encode())["arn"])
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConflictException":
            raise
        arn = _existing_version_arn(gg, recipe["ComponentName"], version)
    _wait_deployable(gg, arn, timeout)
    return arn


def seed_local_servers(gg: Any, version: str = VERSION) -> dict[str, str]:
    """Both stand-ins (``arm64`` and ``amd64``); component name -> version ARN."""
    return {
        f"{LOCAL_SERVER}.{arch}": seed_local_server(gg, arch, version) for arch in ARCHITECTURES
    }


def _existing_version_arn(gg: Any, name: str, version: str) -> str:
    for page in gg.get_paginator("list_components").paginate(scope="PRIVATE"):
        for component in page["components"]:
            if component["componentName"] == name:
                return f"{component['arn']}:versions:{version}"
    raise LookupError(f"{name} {version} conflicts but is not listed")


def _wait_deployable(gg: Any, arn: str, timeout: float) -> None:
    deadline, delay = time.monotonic() + timeout, 0.05
    while True:
        status = gg.describe_component(arn=arn)["status"]
        state = status["componentState"]
        if state == "DEPLOYABLE":
            return
        if state not in PENDING or time.monotonic() > deadline:
            raise RuntimeError(
                f"waiting for {arn} to become DEPLOYABLE: {state}: {status.get('message', '')}"
            )
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
