"""Every package layout the project produces is installed by the real Greengrass nucleus.

Independent of deployments and devices: each layout is published through the project's own
path (``pulumi-dda publish``, the provider's check and create) into the local endpoint, its
recipe read back with ``GetComponent`` and its artifacts with S3 ``GetObject`` (boto3 over
HTTP), and handed straight to one nucleus shared by the module as a local deployment.

Layouts (package.py, recipe.py): the component named ``<name>-<target>`` or as given
(``target_suffix``), the package under an empty or a custom key prefix, and each compilation
target's recipe. This machine is linux/amd64, so the amd64 targets (``x86_64-cpu``,
``x86_64-cuda``) install; an aarch64-only recipe (``arm64-cpu``, ``jetson-xavier``) is refused
by the nucleus's platform resolution (the build's README), which is asserted too.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dda_local_helpers import BUCKET
from nucleus_helpers import converted, files_under, publish_model, unarchived, zip_members

from pulumi_dda.local import LocalEndpoint
from pulumi_dda.local.greengrass.nucleus import InstallRequest, InstallResult, NucleusRuntime
from pulumi_dda.local.local_server import seed_local_servers

#: One worker runs the whole module (``make test`` uses ``--dist loadgroup``): one nucleus.
pytestmark = pytest.mark.xdist_group("nucleus-layouts")
PREFIX = "teams/vision/"
LAYOUTS = [
    pytest.param("x86_64-cpu", True, "", id="x86_64-cpu-suffixed"),
    pytest.param("x86_64-cpu", False, PREFIX, id="x86_64-cpu-as-named-prefixed"),
    pytest.param("x86_64-cuda", True, PREFIX, id="x86_64-cuda-suffixed-prefixed"),
    pytest.param("x86_64-cuda", False, "", id="x86_64-cuda-as-named"),
]


@pytest.fixture(scope="module")
def nucleus() -> Iterator[NucleusRuntime]:
    runtime = NucleusRuntime("core-layouts")
    yield runtime
    runtime.stop()
    assert runtime.pid is None
    assert not (runtime.root and runtime.root.exists())


def _install(
    ep: LocalEndpoint, gg: Any, s3: Any, nucleus: NucleusRuntime, component: dict[str, Any]
) -> InstallResult:
    """The component and its LocalServer dependency, as a device would fetch them."""
    local_server = component["local_server_component"]
    dependency = next(
        f"{c['arn']}:versions:{c['latestVersion']['componentVersion']}"
        for c in gg.list_components()["components"]
        if c["componentName"] == local_server
    )
    arns = [component["arn"], dependency]
    recipes: dict[str, bytes] = {}
    artifacts: dict[str, bytes] = {}
    for arn in arns:
        name, version = arn.split(":components:")[1].split(":versions:")
        recipes[f"{name}-{version}.json"] = gg.get_component(arn=arn)["recipe"]
    uri = component["artifact_uri"]
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    file = f"{component['component_name']}/{component['component_version']}/{Path(key).name}"
    artifacts[file] = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    merge = {component["component_name"]: component["component_version"]}
    return nucleus.install(InstallRequest(component["arn"], merge, [], recipes, artifacts))


@pytest.fixture
def bucket(gg: Any, s3: Any) -> str:
    """The artifact bucket, and DDA's LocalServer stand-ins every model recipe depends on."""
    seed_local_servers(gg)
    s3.create_bucket(Bucket=BUCKET)
    return BUCKET


@pytest.mark.parametrize(("target", "suffix", "prefix"), LAYOUTS)
def test_the_nucleus_installs_every_amd64_package_layout(
    ep: LocalEndpoint,
    gg: Any,
    s3: Any,
    bucket: str,
    nucleus: NucleusRuntime,
    tmp_path: Path,
    target: str,
    suffix: bool,
    prefix: str,
) -> None:
    given = f"model-layout-{target.replace('_', '-')}-{'s' if suffix else 'n'}"
    model = publish_model(
        ep.url, tmp_path, given, bucket=bucket, target=target, suffix=suffix, prefix=prefix
    )
    name = model["component_name"]
    assert name == (f"{given}-{target.replace('_', '-')}" if suffix else given)
    assert model["artifact_uri"].startswith(f"s3://{bucket}/{prefix}model_artifacts/model-")

    result = _install(ep, gg, s3, nucleus, model)
    assert result.status == "SUCCEEDED", result
    assert result.components[name] == ("1.0.0", "RUNNING")
    assert nucleus.root is not None
    folder = unarchived(nucleus.root, model)
    assert files_under(folder) == zip_members(s3, model["artifact_uri"])
    for path in folder.rglob("*"):
        if path.is_file():  # Permission Read/Execute ALL (recipe.build_recipe)
            assert stat.S_IMODE(path.stat().st_mode) & 0o555 == 0o555, path
    conversion = converted(nucleus.root.parent / "aws_dda", model)
    assert (conversion["model_name"], conversion["model_version"]) == (name, "1.0.0")
    assert Path(conversion["path"]).resolve() == folder.resolve()


@pytest.mark.parametrize("target", ["arm64-cpu", "jetson-xavier"])
def test_the_nucleus_refuses_an_aarch64_recipe_on_this_amd64_machine(
    ep: LocalEndpoint,
    gg: Any,
    s3: Any,
    bucket: str,
    nucleus: NucleusRuntime,
    tmp_path: Path,
    target: str,
) -> None:
    model = publish_model(ep.url, tmp_path, "model-layout-arm", bucket=bucket, target=target)
    result = _install(ep, gg, s3, nucleus, model)
    assert result.status == "FAILED", result
    assert "LOCAL_RECIPE_NOT_FOUND" in result.error_stack, result
    assert result.cause.startswith("Failed to find usable recipe for current platform"), result
    assert "architecture=amd64" in result.cause
    assert model["component_name"] not in result.components
    assert nucleus.root is not None
    assert not unarchived(nucleus.root, model).exists()
