"""The provider plugin installed like a third-party Pulumi provider, outside this checkout.

The versioned artifact ``tools/package_plugin.py`` builds (its own ``pyproject.toml`` and
``uv.lock``, the pulumi-dda wheel inside) is installed with ``pulumi plugin install resource dda
<version> --file <artifact>`` into an empty ``PULUMI_HOME`` under the test's temporary directory
(not in the checkout), which makes a fresh virtual environment of its own there. A YAML program
with no ``packages:`` entry then runs the model component and a deployment with typed inputs
against the local endpoint: preview, up, a preview with no changes, destroy. Nothing of this
checkout is on the CLI's ``PATH`` but the engine itself, and no ``VIRTUAL_ENV`` is set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from e2e_harness import ARTIFACTS, REPO, thing_groups

from pulumi_dda.local import LocalEndpoint

PACKAGER = REPO / "tools" / "package_plugin.py"


def _version() -> str:
    done = subprocess.run(
        [sys.executable, str(PACKAGER), "--version"], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, str(PACKAGER), "--out", str(out)], check=True)
    return out / f"pulumi-resource-dda-v{_version()}-linux-amd64.tar.gz"


def _outside_env(env: dict[str, str], home: Path) -> dict[str, str]:
    """The CLI's environment with nothing of this checkout but the engine: no virtualenv."""
    clean = {k: v for k, v in env.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
    venv_bin = str(REPO / ".venv" / "bin")
    path = [p for p in env["PATH"].split(os.pathsep) if p != venv_bin]
    return {**clean, "PATH": os.pathsep.join(path), "PULUMI_HOME": str(home)}


def _pulumi(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["pulumi", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"pulumi {' '.join(args)}:\n{done.stdout[-3000:]}{done.stderr}"
    return done.stdout


def _program(model_config: dict[str, Any], group_arn: str) -> dict[str, Any]:
    x86 = model_config["compiledModels"]["x86_64-cpu"]
    return {
        "name": "dda-installed",
        "runtime": "yaml",
        "resources": {
            "model": {
                "type": "dda:ModelComponent",
                "properties": {
                    "componentName": "model-installed",
                    "trainedModelUri": model_config["trainedModelUri"],
                    "compiledModels": {"x86_64-cpu": x86},
                    "artifactBucket": ARTIFACTS,
                    "archiveLimits": {"maxMembers": 1000},
                },
            },
            "deploy": {
                "type": "dda:GreengrassDeployment",
                "properties": {
                    "targetArn": group_arn,
                    "components": {
                        '${model.versions["x86_64-cpu"].componentName}': {
                            "componentVersion": '${model.versions["x86_64-cpu"].componentVersion}'
                        }
                    },
                    "deploymentPolicies": {"failureHandlingPolicy": "DO_NOTHING"},
                },
            },
        },
        "outputs": {"versions": "${model.versions}", "deploymentId": "${deploy.deploymentId}"},
    }


def test_the_artifact_installs_outside_the_checkout_and_runs_a_yaml_program(
    artifact: Path,
    ep: LocalEndpoint,
    env: dict[str, str],
    model_config: dict[str, Any],
    gg: Any,
    tmp_path: Path,
) -> None:
    assert not tmp_path.resolve().is_relative_to(REPO)
    home = tmp_path / "pulumi-home"
    home.mkdir()
    cli = _outside_env(env, home)
    version = _version()

    started = time.monotonic()
    _pulumi(cli, tmp_path, "plugin", "install", "resource", "dda", version, "--file", str(artifact))
    install_seconds = time.monotonic() - started
    listed = json.loads(_pulumi(cli, tmp_path, "plugin", "ls", "--json"))
    assert [(p["name"], p["kind"], p["version"]) for p in listed] == [("dda", "resource", version)]
    plugin_dir = home / "plugins" / f"resource-dda-v{version}"
    # A virtual environment of its own, holding the wheel (no link to this checkout).
    installed = list(plugin_dir.glob(".venv/lib/python3*/site-packages/pulumi_dda/plugin"))
    assert len(installed) == 1
    links = [p.read_text() for p in plugin_dir.glob(".venv/lib/python3*/site-packages/*.pth")]
    assert not [text for text in links if str(REPO) in text]

    schema = json.loads(_pulumi(cli, tmp_path, "package", "get-schema", "dda"))
    assert schema["version"] == version
    assert schema["pluginDownloadURL"].startswith("github://api.github.com/")
    assert artifact.name == f"pulumi-resource-dda-v{version}-linux-amd64.tar.gz"

    project = tmp_path / "project"
    project.mkdir()
    group = thing_groups(ep, ["x86_64-cpu"])["x86_64-cpu"]
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(_program(model_config, group)))
    assert "packages" not in (project / "Pulumi.yaml").read_text()
    _pulumi(cli, project, "stack", "init", "dev")
    started = time.monotonic()
    preview = _pulumi(cli, project, "preview", "--non-interactive")
    preview_seconds = time.monotonic() - started
    assert "dda:index:ModelComponent" in preview
    _pulumi(cli, project, "up", "--yes", "--skip-preview", "--non-interactive")
    outputs = json.loads(_pulumi(cli, project, "stack", "output", "--json"))
    assert outputs["versions"]["x86_64-cpu"] == {
        "componentName": "model-installed-x86-64-cpu",
        "componentVersion": "1.0.0",
    }
    deployed = gg.get_deployment(deploymentId=outputs["deploymentId"])
    assert deployed["deploymentPolicies"]["failureHandlingPolicy"] == "DO_NOTHING"
    _pulumi(cli, project, "preview", "--expect-no-changes", "--non-interactive")
    _pulumi(cli, project, "destroy", "--yes", "--skip-preview", "--non-interactive")
    names = [c["componentName"] for c in gg.list_components(scope="PRIVATE")["components"]]
    assert not [n for n in names if n.startswith("model-installed")]
    _pulumi(cli, project, "stack", "rm", "dev", "--yes")
    print(
        f"\nplugin artifact {artifact.stat().st_size} bytes; install {install_seconds:.1f} s; "
        f"first preview {preview_seconds:.1f} s"
    )
