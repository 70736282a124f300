"""Fixtures for GreengrassDeployment: its own provider server, thing groups, component versions.

Loaded through ``pytest_plugins`` by ``test_deployment.py`` (importing it there instead would
stop pytest from rewriting it); reuses conftest's ``endpoint``, ``ep``, ``s3`` and ``gg``.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from plugin_harness import PluginProviderProcess, start_plugin

from pulumi_dda.deployment import GreengrassDeploymentProvider
from pulumi_dda.greengrass import wait_component_deployable
from pulumi_dda.local import LocalEndpoint

ARTIFACT_BUCKET = "gg-artifacts"
Versions = dict[str, list[str]]


@pytest.fixture(scope="session", params=["plugin"])
def deployment_provider(
    request: pytest.FixtureRequest,
    endpoint: LocalEndpoint,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PluginProviderProcess]:
    """The ``dda`` provider plugin serving the deployment resource."""
    log = tmp_path_factory.mktemp(f"deployment-provider-{request.param}") / "stderr.log"
    start = start_plugin
    process = start(GreengrassDeploymentProvider(), endpoint.url, log)
    yield process
    process.stop()


@pytest.fixture
def thing_groups(ep: LocalEndpoint) -> list[str]:
    """Two IoT thing groups (deployment targets); returns their ARNs."""
    iot = ep.client("iot")
    return [iot.create_thing_group(thingGroupName=f"line-{n}")["thingGroupArn"] for n in (1, 2)]


def _artifact_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app/app.py", "print('inspecting')\n")
    return buffer.getvalue()


def _recipe(name: str, version: str) -> str:
    uri = f"s3://{ARTIFACT_BUCKET}/{name}/{version}/app.zip"
    return json.dumps(
        {
            "RecipeFormatVersion": "2020-01-25",
            "ComponentName": name,
            "ComponentVersion": version,
            "ComponentPublisher": "pulumi-dda tests",
            "ComponentConfiguration": {"DefaultConfiguration": {"intervalSeconds": 5}},
            "Manifests": [
                {
                    "Platform": {"os": "linux"},
                    "Lifecycle": {"Run": "python3 -u {artifacts:decompressedPath}/app/app.py"},
                    "Artifacts": [{"Uri": uri, "Unarchive": "ZIP"}],
                }
            ],
        }
    )


@pytest.fixture
def publish_components(ep: LocalEndpoint, s3: Any, gg: Any) -> Callable[[Versions], None]:
    """Make DEPLOYABLE private versions, each with a zip artifact in S3."""
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)

    def publish(versions: Versions) -> None:
        arns = []
        for name, numbers in versions.items():
            for version in numbers:
                key = f"{name}/{version}/app.zip"
                s3.put_object(Bucket=ARTIFACT_BUCKET, Key=key, Body=_artifact_zip())
                made = gg.create_component_version(inlineRecipe=_recipe(name, version).encode())
                arns.append(made["arn"])
        for arn in arns:
            wait_component_deployable(gg, arn, timeout=30)

    return publish
