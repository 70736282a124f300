"""The generated Python classes are typed for a type checker: nested inputs (``…Args``
``TypedDict``s), enums and outputs (``Mapping[str, ComponentVersion]``), checked by running mypy
on programs that use them; and at run time the outputs' nested types are plain ``dict``s, as
the values always were (snake_case keys, exported as they are)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("mypy-api")  # one worker, one warm mypy cache

PROGRAM = """
import pulumi
from pulumi_dda import DdaModelComponent, GreengrassDeployment
from pulumi_dda.resources import (
    ArchiveLimitsArgs,
    DeploymentFailureHandlingPolicy,
    DeploymentPoliciesArgs,
    RolloutPolicyArgs,
)

model = DdaModelComponent(
    "m",
    component_name="model-x",
    trained_model_uri="s3://b/t.tar.gz",
    compiled_models={"x86_64-cpu": "s3://b/x.tar.gz"},
    artifact_bucket="edge-artifacts",
    archive_limits=ArchiveLimitsArgs(max_members=100),
)
version: pulumi.Output[str] = model.versions.apply(lambda v: v["x86_64-cpu"]["component_version"])
GreengrassDeployment(
    "d",
    target_arn="arn:aws:iot:us-east-1:123456789012:thinggroup/g",
    components={"model-x-x86-64-cpu": {"component_version": version}},
    deployment_policies=DeploymentPoliciesArgs(
        failure_handling_policy=DeploymentFailureHandlingPolicy.ROLLBACK
    ),
    rollout=RolloutPolicyArgs(success_percent=90, on_failure="revert"),
)
"""

MISTAKES = {
    "an unknown key of a typed input": (
        "archive_limits=ArchiveLimitsArgs(max_members=100)",
        "archive_limits=ArchiveLimitsArgs(max_files=100)",
        'Extra key "max_files" for TypedDict "ArchiveLimitsArgs"',
    ),
    "a wrong type in a typed input": (
        "ArchiveLimitsArgs(max_members=100)",
        'ArchiveLimitsArgs(max_members="many")',
        '"max_members"',
    ),
    "an output key that does not exist": (
        'v["x86_64-cpu"]["component_version"]',
        'v["x86_64-cpu"]["componentVersion"]',
        'TypedDict "ComponentVersion" has no key "componentVersion"',
    ),
}


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for the module's runs (the SDK's and boto3's stubs are read once)."""
    return tmp_path_factory.mktemp("mypy-cache")


def _mypy(tmp_path: Path, cache: Path, text: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "program.py").write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), "program.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_program_using_the_typed_api_type_checks(tmp_path: Path, cache: Path) -> None:
    done = _mypy(tmp_path, cache, PROGRAM)
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_mistakes_fail_type_checking(mistake: str, tmp_path: Path, cache: Path) -> None:
    right, wrong, message = MISTAKES[mistake]
    assert right in PROGRAM
    done = _mypy(tmp_path, cache, PROGRAM.replace(right, wrong))
    assert done.returncode == 1
    assert message in done.stdout


def test_output_types_are_plain_dicts_at_run_time() -> None:
    from collections.abc import Mapping

    from pulumi import _types

    from pulumi_dda import resources

    assert resources.ComponentVersion is dict
    assert _types.resource_types(resources.DdaModelComponent)["versions"] == Mapping[str, dict]
    assert _types.resource_types(resources.GreengrassDeployment)["revisionCount"] is int
