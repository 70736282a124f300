"""A core device backed by the real Greengrass nucleus (``kind=nucleus``), reached by deployments
through the endpoint: the nucleus verifies the digest, unarchives the package the project built
and runs its lifecycle, and the data plane reports what it answered.

One endpoint and one nucleus for the module (a nucleus takes seconds to start): the module's
own ``ep`` replaces the per-test reset of conftest.py, and each test uses its own component
name, so the tests do not depend on each other's order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nucleus_helpers import (
    REGION,
    converted,
    files_under,
    installed,
    publish_model,
    unarchived,
    wait_effective,
    zip_members,
)

from pulumi_dda.local import LocalEndpoint
from pulumi_dda.local.local_server import seed_local_servers

#: One worker runs the whole module (``make test`` uses ``--dist loadgroup``): one nucleus.
pytestmark = pytest.mark.xdist_group("nucleus-device")
BUCKET = "nucleus-artifacts"
DEVICE = "core-real"
GROUP = "line-real"
LOCAL_SERVER = "aws.edgeml.dda.LocalServer.amd64"


@pytest.fixture(scope="module")
def real() -> Iterator[LocalEndpoint]:
    with LocalEndpoint(host="127.0.0.1", port=0, region=REGION, state_delay=0.05) as endpoint:
        seed_local_servers(endpoint.client("greengrassv2"))
        endpoint.client("s3").create_bucket(Bucket=BUCKET)
        endpoint.client("iot").create_thing_group(thingGroupName=GROUP)
        endpoint.add_core_device(DEVICE, kind="nucleus", thing_groups=[GROUP])
        yield endpoint
    assert not endpoint.app.greengrass.nuclei.running(), "stopping the endpoint stops its nuclei"


@pytest.fixture
def ep(real: LocalEndpoint) -> LocalEndpoint:
    """Replaces conftest's per-test reset, which would stop the module's nucleus."""
    return real


@pytest.fixture(scope="module")
def clients(real: LocalEndpoint) -> dict[str, Any]:
    return {name: real.client(name) for name in ("greengrassv2", "s3", "iot")}


def _group_arn(clients: dict[str, Any]) -> str:
    return str(clients["iot"].describe_thing_group(thingGroupName=GROUP)["thingGroupArn"])


def _deploy(clients: dict[str, Any], component: dict[str, Any]) -> str:
    created = clients["greengrassv2"].create_deployment(
        targetArn=_group_arn(clients),
        components={
            component["component_name"]: {"componentVersion": component["component_version"]}
        },
    )
    return str(created["deploymentId"])


def _device(real: LocalEndpoint) -> dict[str, Any]:
    found: dict[str, Any] = next(d for d in real.core_devices() if d["thing_name"] == DEVICE)
    return found


def test_a_model_deployed_to_a_nucleus_device_is_installed_by_the_nucleus(
    real: LocalEndpoint, clients: dict[str, Any], tmp_path: Path
) -> None:
    gg = clients["greengrassv2"]
    model = publish_model(real.url, tmp_path, "model-real", bucket=BUCKET, seed=11)
    name = model["component_name"]
    deployment = _deploy(clients, model)
    record = wait_effective(gg, DEVICE, deployment)
    assert record["coreDeviceExecutionStatus"] == "SUCCEEDED", record
    assert "statusDetails" not in record
    assert installed(gg, DEVICE) == {name: ("1.0.0", "RUNNING")}
    everything = installed(gg, DEVICE, "ALL")
    assert everything[LOCAL_SERVER] == ("1.0.0", "FINISHED"), "the stand-in's Run step ended"
    nucleus_version = everything["aws.greengrass.Nucleus"][0]
    assert nucleus_version.startswith("2.18.")
    core = gg.get_core_device(coreDeviceThingName=DEVICE)
    assert (core["status"], core["coreVersion"]) == ("HEALTHY", nucleus_version)
    listed = gg.list_core_devices(thingGroupArn=_group_arn(clients))["coreDevices"]
    assert [d["coreDeviceThingName"] for d in listed] == [DEVICE]

    device = _device(real)
    folder = unarchived(Path(device["nucleus_root"]), model)
    assert files_under(folder) == zip_members(clients["s3"], model["artifact_uri"])
    assert {"manifest.json", "classification/compiled.params"} <= files_under(folder)
    conversion = converted(Path(device["dda_root"]), model)
    assert (conversion["model_version"], conversion["stages"]) == ("1.0.0", ["classification"])
    assert Path(conversion["path"]).resolve() == folder.resolve(), "{artifacts:decompressedPath}"


def test_a_wrong_digest_fails_with_the_nucleus_reason_and_the_device_keeps_what_it_ran(
    real: LocalEndpoint, clients: dict[str, Any], tmp_path: Path
) -> None:
    gg, s3 = clients["greengrassv2"], clients["s3"]
    good = publish_model(real.url, tmp_path, "model-digest", bucket=BUCKET, seed=21)
    first = _deploy(clients, good)
    assert wait_effective(gg, DEVICE, first)["coreDeviceExecutionStatus"] == "SUCCEEDED"
    name = good["component_name"]
    assert installed(gg, DEVICE) == {name: ("1.0.0", "RUNNING")}

    bad = publish_model(real.url, tmp_path, "model-digest", bucket=BUCKET, seed=22)
    assert (bad["component_name"], bad["component_version"]) == (name, "2.0.0")
    bucket, key = bad["artifact_uri"].removeprefix("s3://").split("/", 1)
    s3.put_object(Bucket=bucket, Key=key, Body=b"not the package the digest was taken of")
    second = _deploy(clients, bad)
    record = wait_effective(gg, DEVICE, second)
    assert record["coreDeviceExecutionStatus"] == "FAILED", record
    # The nucleus finds that the package it was handed does not match the recipe's Digest,
    # discards it and would download it again, which an offline nucleus cannot do (nucleus.py).
    assert record["statusDetails"] == {
        "errorStack": [
            "DEPLOYMENT_FAILURE",
            "ARTIFACT_DOWNLOAD_ERROR",
            "DEVICE_CONFIG_NOT_VALID_FOR_ARTIFACT_DOWNLOAD",
        ],
        "errorTypes": ["DEVICE_ERROR"],
    }
    assert record["reason"].startswith(
        f"FAILED_NO_STATE_CHANGE: Download required for artifact {bad['artifact_uri']}"
    ), record
    assert installed(gg, DEVICE) == {name: ("1.0.0", "RUNNING")}, "the previous version stays"
    assert gg.get_core_device(coreDeviceThingName=DEVICE)["status"] == "HEALTHY"
    root = Path(_device(real)["nucleus_root"])
    assert not unarchived(root, bad).exists(), "nothing of the corrupt package was unarchived"
    assert unarchived(root, good).is_dir()
    assert converted(Path(_device(real)["dda_root"]), good)["model_version"] == "1.0.0"
