"""Helpers for the tests that run the real Greengrass nucleus (../shared/greengrass-nucleus):
publish a model through the project's own path, read what a nucleus unarchived."""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pulumi_dda import cli, publish, samples

REGION = "us-east-1"
#: A deployment reaches a nucleus that is not started yet: start (3 s idle, far more on a busy
#: CI machine), the CLI's round trips, the model's Startup step.
DEVICE_TIMEOUT = 300.0


@contextmanager
def aws_env(url: str) -> Iterator[None]:
    """The environment ``pulumi-dda publish`` reads, pointed at the local endpoint."""
    wanted = {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_PROFILE": None,
    }
    saved = {key: os.environ.get(key) for key in wanted}
    try:
        for key, value in wanted.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def publish_model(
    url: str,
    workdir: Path,
    name: str,
    *,
    bucket: str,
    target: str = "x86_64-cpu",
    seed: int = 1,
    suffix: bool = True,
    prefix: str = "",
) -> dict[str, Any]:
    """Sample trained and compiled models through ``pulumi-dda publish`` (the provider's check
    and create, in process); the target's ``components`` entry (name, version, artifact...)."""
    trained = samples.write_trained_model(workdir / "trained.tar.gz")
    compiled = samples.write_compiled_model(
        workdir / f"{target}-{seed}.tar.gz", seed=seed, target=target
    )
    argv = ["publish", "--trained", str(trained), "--compiled", f"{target}={compiled}"]
    argv += ["--component-name", name, "--bucket", bucket, "--region", REGION]
    argv += ["--prefix", prefix] if prefix else []
    argv += [] if suffix else ["--no-target-suffix"]
    with aws_env(url):
        out = publish.run(cli._parser().parse_args(argv))
    component: dict[str, Any] = out["components"][target]
    return component


def zip_members(s3: Any, artifact_uri: str) -> set[str]:
    """The files (not directories) of the package at ``artifact_uri``."""
    bucket, key = artifact_uri.removeprefix("s3://").split("/", 1)
    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {i.filename for i in archive.infolist() if not i.is_dir()}


def unarchived(root: Path, component: dict[str, Any]) -> Path:
    """Where the nucleus unzips the package: ``{artifacts:decompressedPath}/<zip stem>``."""
    stem = component["artifact_uri"].rsplit("/", 1)[-1].removesuffix(".zip")
    base = root / "packages" / "artifacts-unarchived"
    return base / component["component_name"] / component["component_version"] / stem


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def converted(dda_root: Path, component: dict[str, Any]) -> dict[str, Any]:
    """What the DDA convertor stand-in recorded when the model's Startup step ran."""
    record = dda_root / "models" / f"{component['component_name']}.json"
    loaded: dict[str, Any] = json.loads(record.read_text())
    return loaded


def wait_effective(gg: Any, device: str, deployment_id: str) -> dict[str, Any]:
    """Poll ListEffectiveDeployments until the device's execution of the deployment ended."""
    deadline = time.monotonic() + DEVICE_TIMEOUT
    while True:
        listed = gg.list_effective_deployments(coreDeviceThingName=device)["effectiveDeployments"]
        found = [e for e in listed if e["deploymentId"] == deployment_id]
        if found and found[0]["coreDeviceExecutionStatus"] not in ("QUEUED", "IN_PROGRESS"):
            return dict(found[0])
        if time.monotonic() > deadline:
            raise AssertionError(f"{device} did not finish {deployment_id}: {found}")
        time.sleep(0.25)


def installed(gg: Any, device: str, topology: str = "ROOT") -> dict[str, tuple[str, str]]:
    listed = gg.list_installed_components(coreDeviceThingName=device, topologyFilter=topology)
    return {
        c["componentName"]: (c["componentVersion"], c["lifecycleState"])
        for c in listed["installedComponents"]
    }
