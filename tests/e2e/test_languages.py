"""The examples in examples/: the model component and its deployments from Pulumi YAML and from
TypeScript, through the provider plugin, against the local endpoint.

Each example runs as committed (its project file copied into a temporary directory, the
`packages:` path made absolute) under the engine built by tools/pulumi/build.sh: the YAML
program through the YAML language host built there; the TypeScript one twice, as a standard
installation runs it (plain `pulumi up`: the Node.js language host built there runs
`dist/main.js`, whose module exports the program) and through its Automation API runner
(examples/typescript/dist/run.js); both built by examples/build.sh. Each goes through the same
sequence: preview and up, a preview with no changes, a tags-only update in place, a model
change that moves only that target's deployment, and destroy to an empty account.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import pytest
import yaml
from e2e_harness import (
    ARTIFACTS,
    MODELS,
    REPO,
    make_stack,
    model_components,
    set_config,
    shown_changes,
    thing_groups,
)
from pulumi import automation as auto

from pulumi_dda import samples
from pulumi_dda.local import LocalEndpoint

EXAMPLES = REPO / "examples"
TARGETS = ("x86_64-cpu", "jetson-xavier")
COMPONENTS = {t: f"model-defects-{t.replace('_', '-')}" for t in TARGETS}


@dataclass
class Result:
    """What the engine reported for one operation, per resource name."""

    ops: dict[str, list[str]] = field(default_factory=dict)
    diffs: dict[str, list[str]] = field(default_factory=dict)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)


class Program(Protocol):
    deployments: dict[str, str]
    """Target → the name of its deployment resource in this program."""

    def configure(self, settings: dict[str, Any]) -> None: ...

    def run(self, operation: str, *, expect_no_changes: bool = False) -> Result: ...


def _copy_project(example: str, dest: Path) -> Path:
    """The example's files in ``dest``, with its ``packages:`` path made absolute."""
    source = EXAMPLES / example
    shutil.copytree(
        source, dest, ignore=shutil.ignore_patterns("node_modules", "dist", "sdk", "Pulumi.*.yaml")
    )
    project = yaml.safe_load((dest / "Pulumi.yaml").read_text())
    project["packages"] = {
        name: str((source / path).resolve()) for name, path in project["packages"].items()
    }
    (dest / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    return dest


class CliProgram:
    """A project the CLI runs (``pulumi preview/up/destroy`` in its folder, through the Python
    Automation API's local workspace), with its language host."""

    stack: auto.Stack

    def run(self, operation: str, *, expect_no_changes: bool = False) -> Result:
        result = Result()

        def on_event(event: auto.EngineEvent) -> None:
            pre = event.resource_pre_event
            if pre is None or not pre.metadata.type.startswith("dda:"):
                return
            meta = pre.metadata
            name = meta.urn.rsplit("::", 1)[-1]
            result.ops.setdefault(name, []).append(meta.op.value)
            changed = set(result.diffs.get(name, [])) | set(meta.diffs or []) | set(meta.keys or [])
            result.diffs[name] = sorted(changed | shown_changes(meta))
            if meta.new is not None:
                result.inputs[name] = dict(meta.new.inputs or {})

        if operation == "preview":
            self.stack.preview(on_event=on_event, expect_no_changes=expect_no_changes)
        elif operation == "up":
            outputs = self.stack.up(on_event=on_event).outputs
            result.outputs = {k: v.value for k, v in outputs.items()}
        else:
            assert operation == "destroy"
            self.stack.destroy(on_event=on_event)
        return result

    def remove(self) -> None:
        self.stack.workspace.remove_stack(self.stack.name, force=True)


class PlainTypeScriptProgram(CliProgram):
    """examples/typescript under plain ``pulumi up``: the Node.js language host runs Pulumi.yaml's
    ``main`` (dist/main.js, ``export = program``) with the example's npm packages."""

    deployments: ClassVar = {t: f"deploy-{t}" for t in TARGETS}
    built = EXAMPLES / "typescript" / "dist" / "main.js"

    def __init__(self, work: Path, env: dict[str, str], engine: Path) -> None:
        if not self.built.exists():
            pytest.fail(f"{self.built} is missing: build the examples first (make examples)")
        project = _copy_project("typescript", work / "typescript")
        for built in ("dist", "node_modules"):
            (project / built).symlink_to(EXAMPLES / "typescript" / built)
        self.stack = make_stack(project, "dev", env, engine, {})

    def configure(self, settings: dict[str, Any]) -> None:
        for key, value in settings.items():
            set_config(self.stack, key, value)  # objects as JSON: config.requireObject


class YamlProgram(CliProgram):
    """examples/yaml through the Automation API (Python) and the YAML language host."""

    deployments: ClassVar = {"x86_64-cpu": "deploy-x86", "jetson-xavier": "deploy-jetson"}

    def __init__(self, work: Path, env: dict[str, str], engine: Path) -> None:
        self.stack = make_stack(_copy_project("yaml", work / "yaml"), "dev", env, engine, {})

    def configure(self, settings: dict[str, Any]) -> None:
        names = {"x86_64-cpu": "x86", "jetson-xavier": "jetson"}
        for key, value in settings.items():
            if key == "compiledModels":
                for target, uri in value.items():
                    set_config(self.stack, f"{names[target]}ModelUri", uri)
            elif key == "thingGroups":
                for target, arn in value.items():
                    set_config(self.stack, f"{names[target]}ThingGroupArn", arn)
            else:
                set_config(self.stack, key, value)


class TypeScriptProgram:
    """examples/typescript through its Automation API runner (node dist/run.js)."""

    deployments: ClassVar = {t: f"deploy-{t}" for t in TARGETS}
    runner = EXAMPLES / "typescript" / "dist" / "run.js"

    def __init__(self, work: Path, env: dict[str, str]) -> None:
        if not self.runner.exists():
            pytest.fail(f"{self.runner} is missing: build the examples first (make examples)")
        self.work_dir = _copy_project("typescript", work / "typescript")
        # The project's `main` (dist/main.js) must exist, though the runner's program is inline.
        (self.work_dir / "dist").symlink_to(EXAMPLES / "typescript" / "dist")
        self.env = env
        self.settings: dict[str, Any] = {}
        self.config = work / "typescript-config.json"

    def configure(self, settings: dict[str, Any]) -> None:
        self.settings.update(settings)
        self.config.write_text(json.dumps(self.settings))

    def run(self, operation: str, *, expect_no_changes: bool = False) -> Result:
        args = ["node", str(self.runner), operation, "--work-dir", str(self.work_dir)]
        args += ["--config", str(self.config)]
        if expect_no_changes:
            args.append("--expect-no-changes")
        done = subprocess.run(args, env=self.env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr[-4000:]
        summary = json.loads(done.stdout.strip().splitlines()[-1])
        return Result(
            ops=summary["ops"],
            diffs=summary["diffs"],
            inputs=summary["inputs"],
            outputs=summary.get("outputs", {}),
        )


def _versions(gg: Any) -> list[str]:
    return sorted(
        f"{c['componentName']}@{v['componentVersion']}"
        for c in model_components(gg)
        for v in gg.list_component_versions(arn=c["arn"])["componentVersions"]
    )


def _deployed(gg: Any, group_arn: str) -> dict[str, Any]:
    latest = gg.list_deployments(targetArn=group_arn, historyFilter="LATEST_ONLY")["deployments"]
    assert len(latest) == 1
    deployment = gg.get_deployment(deploymentId=latest[0]["deploymentId"])
    return {
        "revision": deployment["revisionId"],
        "components": {k: v["componentVersion"] for k, v in deployment["components"].items()},
        "tags": deployment.get("tags", {}),
    }


@pytest.fixture
def settings(ep: LocalEndpoint, model_config: dict[str, Any]) -> dict[str, Any]:
    """What both programs are configured with: the sample models, one thing group per target,
    no componentVersion (each target gets its own version)."""
    return {
        "trainedModelUri": model_config["trainedModelUri"],
        "compiledModels": model_config["compiledModels"],
        "artifactBucket": ARTIFACTS,
        "thingGroups": thing_groups(ep, TARGETS),
        "team": "vision",
    }


@pytest.fixture
def yaml_program(tmp_path: Path, env: dict[str, str], engine: Path) -> Iterator[YamlProgram]:
    program = YamlProgram(tmp_path, env, engine)
    yield program
    program.remove()


def test_yaml_example(
    yaml_program: YamlProgram, settings: dict[str, Any], gg: Any, s3: Any, tmp_path: Path
) -> None:
    _lifecycle(yaml_program, settings, gg, s3, tmp_path)


def test_typescript_example(
    tmp_path: Path, env: dict[str, str], settings: dict[str, Any], gg: Any, s3: Any
) -> None:
    _lifecycle(TypeScriptProgram(tmp_path, env), settings, gg, s3, tmp_path)


def test_typescript_example_under_plain_pulumi_up(
    tmp_path: Path,
    env: dict[str, str],
    engine: Path,
    settings: dict[str, Any],
    gg: Any,
    s3: Any,
) -> None:
    program = PlainTypeScriptProgram(tmp_path, env, engine)
    try:
        _lifecycle(program, settings, gg, s3, tmp_path)
    finally:
        program.remove()


def _lifecycle(
    program: Program, settings: dict[str, Any], gg: Any, s3: Any, tmp_path: Path
) -> None:
    program.configure(settings)
    _up(program, settings, gg)
    no_change = program.run("preview", expect_no_changes=True)
    assert all(ops == ["same"] for ops in no_change.ops.values())
    _tags_only(program, settings, gg)
    _model_change(program, settings, gg, s3, tmp_path)
    program.run("destroy")
    assert _versions(gg) == []
    assert "Contents" not in s3.list_objects_v2(Bucket=ARTIFACTS)


def _up(program: Program, settings: dict[str, Any], gg: Any) -> None:
    dx, dj = (program.deployments[t] for t in TARGETS)
    preview = program.run("preview")
    assert preview.ops == {"model": ["create"], dx: ["create"], dj: ["create"]}
    # The versions deployments are wired from are known in the preview.
    assert preview.inputs[dx]["components"] == {
        COMPONENTS["x86_64-cpu"]: {"componentVersion": "1.0.0"}
    }

    up = program.run("up")
    assert up.ops == {"model": ["create"], dx: ["create"], dj: ["create"]}
    assert up.outputs["versions"] == {
        t: {"componentName": COMPONENTS[t], "componentVersion": "1.0.0"} for t in TARGETS
    }
    x86 = up.outputs["components"]["x86_64-cpu"]
    assert x86["platform"] == "amd64"
    assert x86["localServerComponent"] == "aws.edgeml.dda.LocalServer.amd64"
    assert x86["adopted"] is False
    assert up.outputs["modelName"] == "classification"
    assert _versions(gg) == sorted(f"{c}@1.0.0" for c in COMPONENTS.values())
    for target in TARGETS:
        deployed = _deployed(gg, settings["thingGroups"][target])
        assert deployed["components"] == {COMPONENTS[target]: "1.0.0"}


def _tags_only(program: Program, settings: dict[str, Any], gg: Any) -> None:
    arns = {c["componentName"]: c["arn"] for c in model_components(gg)}
    program.configure({"team": "ml"})
    if isinstance(program, YamlProgram):
        # Per-entry detailed diffs: each resource shows the changed tag and nothing else.
        text = program.stack.preview(diff=True).stdout
        lines = text.partition("Resources:")[0].splitlines()
        changed = {" ".join(line.split()) for line in lines if line.lstrip()[:2] == "~ "}
        assert changed == {
            "~ dda:index:ModelComponent: (update)",
            "~ dda:index:GreengrassDeployment: (update)",
            "~ tags: {",
            '~ team: "vision" => "ml"',
        }, text
    up = program.run("up")
    assert up.ops["model"] == ["update"]
    assert set(up.diffs["model"]) <= {"tags", "plan"}
    assert "tags" in up.diffs["model"]
    for target in TARGETS:
        assert up.ops[program.deployments[target]] == ["update"]
        assert up.diffs[program.deployments[target]] == ["tags"]
        deployed = _deployed(gg, settings["thingGroups"][target])
        assert deployed["revision"] == "1"  # re-tagged, not redeployed
        assert deployed["tags"]["team"] == "ml"
    for component in COMPONENTS.values():
        version = f"{arns[component]}:versions:1.0.0"
        assert gg.list_tags_for_resource(resourceArn=version)["tags"]["team"] == "ml"
    assert _versions(gg) == sorted(f"{c}@1.0.0" for c in COMPONENTS.values())


def _model_change(
    program: Program, settings: dict[str, Any], gg: Any, s3: Any, tmp_path: Path
) -> None:
    """A new x86 model at the same key: only x86 takes a new version and only its deployment
    moves; jetson's version passes to the replacement as it is."""
    dx, dj = (program.deployments[t] for t in TARGETS)
    retrained = samples.write_compiled_model(tmp_path / "x86-run2.tar.gz", seed=42)
    s3.upload_file(str(retrained), MODELS, "neo/x86/model.tar.gz")

    preview = program.run("preview")
    assert preview.ops["model"] == ["create-replacement", "replace", "delete-replaced"]
    assert preview.ops[dx] == ["update"]
    assert preview.ops[dj] == ["same"]
    if isinstance(program, YamlProgram):
        # The plugin's per-target diff names x86 alone; the resource line names its move.
        text = program.stack.preview(diff=True).stdout  # resources, then the stack's outputs
        shown = text.partition("--outputs:--")[0].partition("Resources:")[0]
        assert COMPONENTS["x86_64-cpu"] in shown
        assert "jetson" not in shown
        plain = program.stack.preview().stdout
        assert "x86_64-cpu: 1.0.0 → 2.0.0, new compiled model" in plain
        assert "1.0.0 released after the update" in plain
    assert preview.inputs[dx]["components"] == {
        COMPONENTS["x86_64-cpu"]: {"componentVersion": "2.0.0"}
    }

    up = program.run("up")
    assert up.outputs["versions"]["x86_64-cpu"]["componentVersion"] == "2.0.0"
    assert up.outputs["versions"]["jetson-xavier"]["componentVersion"] == "1.0.0"
    # jetson's 1.0.0 stays, held by the replacement; x86 1.0.0 stays too: revision 1 of its
    # deployment, which uses it, is among the target's newest `keepRevisions` (default 3).
    assert _versions(gg) == [
        f"{COMPONENTS['jetson-xavier']}@1.0.0",
        f"{COMPONENTS['x86_64-cpu']}@1.0.0",
        f"{COMPONENTS['x86_64-cpu']}@2.0.0",
    ]
    x86 = _deployed(gg, settings["thingGroups"]["x86_64-cpu"])
    assert x86["revision"] == "2"
    assert x86["components"] == {COMPONENTS["x86_64-cpu"]: "2.0.0"}
    assert _deployed(gg, settings["thingGroups"]["jetson-xavier"])["revision"] == "1"
    assert all(
        ops == ["same"] for ops in program.run("preview", expect_no_changes=True).ops.values()
    )
