"""Run the real Pulumi CLI (built from Go modules) against the local AWS endpoint.

Stacks are driven with the Automation API; engine events are collected so tests assert the
operation on each resource and the names of changed properties, not only exit codes.
"""

from __future__ import annotations

import copy
import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pulumi import automation as auto

from pulumi_dda import samples
from pulumi_dda.artifacts import GRACE_ENV
from pulumi_dda.plugin.schema import NAME_TO_SNAKE, RESOURCES, to_provider

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import demo  # tools/demo.py: the engine build and CLI environment `make demo` uses

REPO = Path(__file__).resolve().parents[2]
TYPES = ("dda:index:ModelComponent", "dda:index:GreengrassDeployment")
LEGACY_TYPES = (
    "pulumi-python:dynamic/dda:ModelComponent",
    "pulumi-python:dynamic/dda:GreengrassDeployment",
)
PLUGIN = REPO / "provider" / "pulumi-resource-dda"
REGION = "us-east-1"
MODELS = "ml-models"
ARTIFACTS = "edge-artifacts"
SAMPLE_MODEL = {
    "componentName": "model-defects",
    "componentVersion": "1.0.0",
    "friendlyName": "Defects",
    "trainedModelUri": f"s3://{MODELS}/train/model.tar.gz",
    "compiledModels": {
        "x86_64-cpu": f"s3://{MODELS}/neo/x86/model.tar.gz",
        "jetson-xavier": f"s3://{MODELS}/neo/jx/model.tar.gz",
    },
}
"""The ``model`` config of the sample archives :func:`sample_model_config` uploads."""


def model_components(gg: Any) -> list[dict[str, Any]]:
    """The private components pulumi-dda made (``model-*``; not the LocalServer stand-ins)."""
    listed = gg.list_components(scope="PRIVATE")["components"]
    return [c for c in listed if c["componentName"].startswith("model-")]


def engine_root() -> Path:
    """Build (or reuse) the pinned CLI; returns the directory that holds ``bin/pulumi``."""
    return demo.engine_bin().parent


def cli_env(endpoint_url: str, state: Path, engine: Path) -> dict[str, str]:
    """The CLI's environment: file backend in ``state``, the local endpoint, dummy credentials.

    Released artifacts are deleted by the operation that releases them (grace period 0, see
    :mod:`pulumi_dda.artifacts`), so a test can check that a destroy leaves nothing."""
    state.mkdir(parents=True, exist_ok=True)
    return {**demo.pulumi_env(endpoint_url, state, REGION, engine / "bin"), GRACE_ENV: "0"}


def sample_model_config(s3: Any, work: Path, name: str = "model-defects") -> dict[str, Any]:
    """Buckets and sample archives in the local S3; returns the program's ``model`` config."""
    s3.create_bucket(Bucket=MODELS)
    s3.create_bucket(Bucket=ARTIFACTS)
    keys = {
        "train/model.tar.gz": samples.write_trained_model(work / "in" / "t.tar.gz"),
        "neo/x86/model.tar.gz": samples.write_compiled_model(work / "in" / "x.tar.gz", seed=1),
        "neo/jx/model.tar.gz": samples.write_compiled_model(
            work / "in" / "j.tar.gz", seed=2, target="jetson-xavier"
        ),
    }
    for key, path in keys.items():
        s3.upload_file(str(path), MODELS, key)
    return copy.deepcopy({**SAMPLE_MODEL, "componentName": name})


def unpinned(model: dict[str, Any]) -> dict[str, Any]:
    """The ``model`` config without ``componentVersion``: the provider chooses the versions."""
    return {k: v for k, v in model.items() if k != "componentVersion"}


def retrain_x86(s3: Any, work: Path, seed: int = 42) -> None:
    """A new x86 compiled model at the same key (what a new training run writes)."""
    changed = samples.write_compiled_model(work / "x86-v2.tar.gz", seed=seed)
    s3.upload_file(str(changed), MODELS, "neo/x86/model.tar.gz")


def thing_groups(ep: Any, targets: Any) -> dict[str, str]:
    """Target → ARN of a new thing group ``dda-<target>`` on the local endpoint."""
    iot = ep.client("iot")
    return {
        t: iot.create_thing_group(thingGroupName=f"dda-{t.replace('_', '-')}")["thingGroupArn"]
        for t in targets
    }


def shown_changes(meta: Any) -> set[str]:
    """The inputs whose value a ``--diff`` preview shows changing: the new inputs against the
    old outputs (what the engine displays for a provider without previews), leaving out the
    ``__``-prefixed state the engine never displays."""
    if meta.old is None or meta.new is None:
        return set()
    old, new = meta.old.outputs or meta.old.inputs or {}, meta.new.inputs or {}
    return {k for k in new if not k.startswith("__") and old.get(k) != new.get(k)}


@dataclass
class Events:
    """What the engine reported for one operation."""

    ops: dict[str, list[str]] = field(default_factory=dict)
    diffs: dict[str, list[str]] = field(default_factory=dict)
    """Changed input names per resource: the provider's replace keys and old/new inputs."""
    messages: list[str] = field(default_factory=list)
    resource_messages: list[tuple[str, bool, str]] = field(default_factory=list)
    """The project's own lines: (resource name or "" for the Stack, ephemeral, text)."""
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The new inputs the engine planned for each resource (the preview's values)."""

    def __call__(self, event: auto.EngineEvent) -> None:
        pre = event.resource_pre_event
        if pre is not None and pre.metadata.type in (*TYPES, *LEGACY_TYPES):
            name = pre.metadata.urn.rsplit("::", 1)[-1]
            meta = pre.metadata
            self.ops.setdefault(name, []).append(meta.op.value)
            # In the providers' names (snake_case), whichever host served the resource.
            changed = {NAME_TO_SNAKE.get(k, k) for k in set(meta.keys or []) | shown_changes(meta)}
            table = RESOURCES.get(meta.type)
            if meta.new is not None:
                inputs = dict(meta.new.inputs or {})
                self.inputs[name] = to_provider(table, inputs) if table else inputs
            self.diffs[name] = sorted(set(self.diffs.get(name, [])) | changed)
        diag = event.diagnostic_event
        if diag is not None:
            self.messages.append(diag.message)
            if "pulumi-dda" in diag.message or (diag.urn and "dda:" in diag.urn):
                name = (diag.urn or "").rsplit("::", 1)[-1]
                self.resource_messages.append((name, bool(diag.ephemeral), diag.message))

    def model_ops(self) -> dict[str, list[str]]:
        """Operations per model resource, in the order the engine ran them."""
        return dict(self.ops)


def copy_repo_project(root: Path, *, stack_files: bool = True) -> Path:
    """A copy of the repository's project (``stacks/`` and ``Pulumi.yaml``) in ``root``, whose
    runtime uses this test's virtualenv and whose ``packages:`` paths point into this checkout."""
    ignored = ("__pycache__",) if stack_files else ("__pycache__", "*.yaml")
    shutil.copytree(REPO / "stacks", root / "stacks", ignore=shutil.ignore_patterns(*ignored))
    spec = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    spec["runtime"]["options"] = {"virtualenv": sys.prefix}
    spec["packages"] = {name: str(REPO / path) for name, path in spec["packages"].items()}
    (root / "Pulumi.yaml").write_text(yaml.safe_dump(spec))
    return root


def make_project(tmp: Path, name: str = "dda-e2e") -> Path:
    project = tmp / name
    shutil.copytree(Path(__file__).parent / "program", project)
    (project / "Pulumi.yaml").write_text(
        yaml.safe_dump(
            {
                "name": name,
                "runtime": {"name": "python", "options": {"virtualenv": sys.prefix}},
                "packages": {"dda": str(PLUGIN)},
            }
        )
    )
    return project


def workspace(project: Path, env: dict[str, str], root: Path) -> auto.LocalWorkspace:
    """The project's workspace, run by the CLI in ``root`` with the environment ``env``."""
    return auto.LocalWorkspace(
        work_dir=str(project),
        pulumi_command=auto.PulumiCommand(root=str(root), skip_version_check=True),
        env_vars=env,
    )


def make_stack(
    project: Path, stack: str, env: dict[str, str], root: Path, config: dict[str, Any]
) -> auto.Stack:
    result = auto.Stack.create(stack, workspace(project, env, root))
    for key, value in config.items():
        set_config(result, key, value)
    return result


def set_config(stack: auto.Stack, key: str, value: Any) -> None:
    """Strings as they are, anything else as JSON (what ``Config.require_object`` reads)."""
    text = value if isinstance(value, str) else json.dumps(value)
    stack.set_config(key, auto.ConfigValue(value=text))
