"""The SDKs in sdk/: generated from the schema by the upstream generators, and each one builds.

``sdk/generate.sh`` writes them with ``tools/pulumi/bin/gen-sdk`` (pkg/v3's codegen for Node.js,
Python and Go at the CLI's version); the committed files must be what it writes now. Then:
the Go SDK ``go build``s as its module ``github.com/pulumi-dda/pulumi-dda/sdk``; the TypeScript
SDK compiles with ``tsc`` (strict, its own tsconfig, the examples' locked npm packages); the
Python SDK installs into a fresh virtual environment beside pulumi-dda itself (no clash of
import names), imports, and a typed program using it passes mypy.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from e2e_harness import REPO

SDK = REPO / "sdk"
GENERATOR = REPO / "tools" / "pulumi" / "bin" / "gen-sdk"
SCHEMA = REPO / "provider" / "pulumi-resource-dda" / "schema.json"
NODE_MODULES = REPO / "examples" / "typescript" / "node_modules"
REGENERATE = "regenerate: make engine && sdk/generate.sh"


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=600
    )
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done.stdout


def _differences(left: Path, right: Path) -> list[str]:
    compared = filecmp.dircmp(left, right)
    found = [str(Path(left.name) / n) for n in compared.left_only + compared.right_only]
    found += [str(Path(left.name) / n) for n in compared.diff_files]
    for sub, nested in compared.subdirs.items():
        found += [str(Path(left.name) / p) for p in _differences(left / sub, right / sub)]
        del nested
    return found


@pytest.mark.parametrize("language", ["nodejs", "python", "go"])
def test_the_committed_sdk_is_what_the_generator_writes(language: str, tmp_path: Path) -> None:
    if not GENERATOR.exists():
        pytest.fail(f"{GENERATOR} is missing: make engine")
    _run([str(GENERATOR), language, str(SCHEMA), str(tmp_path / language)], cwd=tmp_path)
    assert _differences(SDK / language, tmp_path / language) == [], REGENERATE


def test_the_go_sdk_builds(tmp_path: Path) -> None:
    go = shutil.which("go") or "/usr/local/go/bin/go"
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly"}
    _run([go, "build", "-trimpath", "./..."], cwd=SDK, env=env)
    listed = _run([go, "list", "./..."], cwd=SDK, env=env).split()
    assert "github.com/pulumi-dda/pulumi-dda/sdk/go/dda" in listed


def test_the_typescript_sdk_compiles(tmp_path: Path) -> None:
    if not NODE_MODULES.exists():
        pytest.fail(f"{NODE_MODULES} is missing: build the examples first (make examples)")
    work = tmp_path / "nodejs"
    shutil.copytree(SDK / "nodejs", work)
    (work / "node_modules").symlink_to(NODE_MODULES)
    _run(["node", str(NODE_MODULES / "typescript" / "bin" / "tsc"), "-p", "."], cwd=work)
    assert (work / "bin" / "index.js").exists()
    assert (work / "bin" / "types" / "enums" / "index.d.ts").exists()


CONSUMER = """
import pulumi
import pulumi_dda_sdk as dda

model = dda.ModelComponent(
    "model",
    component_name="model-defects",
    trained_model_uri="s3://ml-models/train/model.tar.gz",
    compiled_models={dda.CompilationTarget.X86_64_CPU: "s3://ml-models/neo/x86/model.tar.gz"},
    artifact_bucket="edge-artifacts",
    archive_limits=dda.ArchiveLimitsArgs(max_members=1000),
)
deployment = dda.GreengrassDeployment(
    "line",
    target_arn="arn:aws:iot:eu-west-1:123456789012:thinggroup/line",
    components=model.versions.apply(
        lambda v: {
            v["x86_64-cpu"].component_name: dda.DeploymentComponentArgs(
                component_version=v["x86_64-cpu"].component_version
            )
        }
    ),
    deployment_policies=dda.DeploymentPoliciesArgs(
        failure_handling_policy=dda.DeploymentFailureHandlingPolicy.ROLLBACK
    ),
)
name: pulumi.Output[str] = model.model_name
"""


def test_the_python_sdk_installs_beside_pulumi_dda_and_type_checks(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    python = str(venv / "bin" / "python")
    mypy = subprocess.run(
        [sys.executable, "-c", "import mypy.version; print(mypy.version.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    _run(["uv", "venv", "--quiet", str(venv), "--python", "3.11"], cwd=tmp_path, env=env)
    source = tmp_path / "python"  # a setuptools build writes into its source folder
    shutil.copytree(SDK / "python", source)
    packages = [str(source), str(REPO), f"mypy=={mypy}"]
    _run(["uv", "pip", "install", "--quiet", "--python", python, *packages], cwd=tmp_path, env=env)
    imported = _run(
        [python, "-c", "import pulumi_dda, pulumi_dda_sdk; print(pulumi_dda_sdk.ModelComponent)"],
        cwd=tmp_path,
        env=env,
    )
    assert "pulumi_dda_sdk.model_component.ModelComponent" in imported
    (tmp_path / "program.py").write_text(CONSUMER)
    # Upstream's helper module (_utilities, shared by every generated Python SDK) has typing
    # errors of its own; the dda modules and a program using them are checked.
    (tmp_path / "mypy.ini").write_text(
        "[mypy]\npython_version = 3.11\n\n[mypy-pulumi_dda_sdk._utilities]\nignore_errors = True\n"
    )
    for target in (["program.py"], ["-p", "pulumi_dda_sdk"]):
        _run([python, "-m", "mypy", "--config-file", "mypy.ini", *target], cwd=tmp_path, env=env)
