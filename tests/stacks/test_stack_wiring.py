"""Wiring of the stack program (stacks/dda_stack.py) under Pulumi's mocks, one run per stack.

Each stack's ``Pulumi.<stack>.yaml`` is loaded into the runtime config exactly as the CLI passes
it (strings as-is, everything else as JSON) and the program runs against a mock monitor that
records every registered resource. The mocks stand in for the engine only: they answer the
dynamic ``DdaModelComponent`` with the components it would build (names and platforms from
``pulumi_dda.recipe``), so the deployments are wired to realistic outputs.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.runtime import settings

from pulumi_dda.recipe import TARGETS

STACKS_DIR = Path(__file__).resolve().parents[2] / "stacks"
sys.path.insert(0, str(STACKS_DIR))

import dda_stack  # noqa: E402 - lives in stacks/, which the line above puts on sys.path

# pulumi_aws.s3 warns when it loads about the deprecated classes it still defines (BucketV2...);
# loading it here under a filter keeps those out of the report while a deprecated class the
# program instantiates would still warn.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import pulumi_aws

    pulumi_aws.s3.Bucket  # noqa: B018 - the package loads its modules on first attribute use

PROJECT = "pulumi-dda"
ACCOUNT = "111122223333"
DYNAMIC = "pulumi-python:dynamic:Resource"
PROVIDER_KEY = "__provider"
DEV_CONFIG_AS_PROD = "dev-config-as-prod"


@dataclass(frozen=True)
class Registered:
    typ: str
    name: str
    inputs: dict[str, Any]
    id: str
    outputs: dict[str, Any]


@dataclass(frozen=True)
class StackRun:
    stack: str
    config: dict[str, Any]
    resources: list[Registered]
    outputs: dict[str, Any]

    def of_type(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.typ == typ]

    def dynamic(self, key: str) -> list[Registered]:
        """Dynamic resources all share one type; tell them apart by an input only one has."""
        return [r for r in self.of_type(DYNAMIC) if key in r.inputs]

    def one(self, typ: str) -> Registered:
        (found,) = self.of_type(typ)
        return found


def stack_config(stack: str) -> dict[str, Any]:
    document = yaml.safe_load((STACKS_DIR / f"Pulumi.{stack}.yaml").read_text())
    return dict(document["config"])


def project_config(config: dict[str, Any], key: str, default: Any = None) -> Any:
    return config.get(f"{PROJECT}:{key}", default)


class RecordingMocks(pulumi.runtime.Mocks):
    """Records each registration and answers with the outputs the real resource would have."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.registered: list[Registered] = []

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        raise AssertionError(f"the program should make no provider calls: {args.token}")

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = {k: v for k, v in args.inputs.items() if k != PROVIDER_KEY}
        id_, outputs = self._answer(args.typ, args.name, inputs)
        self.registered.append(Registered(args.typ, args.name, inputs, id_, outputs))
        return id_, outputs

    def _answer(self, typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if typ == DYNAMIC and "compiled_models" in inputs:
            return self._model(inputs)
        if typ == DYNAMIC and "target_arn" in inputs:
            # GreengrassDeployment: the id is the target ARN, deployment_id the revision.
            revision = hashlib.sha256(name.encode()).hexdigest()[:36]
            return inputs["target_arn"], {**inputs, "deployment_id": revision}
        arn_prefix = f"arn:aws:iot:{self.region}:{ACCOUNT}"
        outputs: dict[str, dict[str, Any]] = {
            "aws:s3/bucket:Bucket": {"arn": f"arn:aws:s3:::{inputs.get('bucket')}"},
            "aws:iot/thingGroup:ThingGroup": {
                "arn": f"{arn_prefix}:thinggroup/{inputs.get('name')}"
            },
            "aws:iot/thing:Thing": {"arn": f"{arn_prefix}:thing/{inputs.get('name')}"},
            "aws:iot/roleAlias:RoleAlias": {"arn": f"{arn_prefix}:rolealias/{inputs.get('alias')}"},
            "aws:iam/role:Role": {"arn": f"arn:aws:iam::{ACCOUNT}:role/{name}"},
        }
        physical = inputs.get("bucket") or inputs.get("name") or name
        return str(physical), {**inputs, **outputs.get(typ, {})}

    def _model(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        version = inputs["component_version"] or "1.0.0"
        components = {}
        for target, uri in inputs["compiled_models"].items():
            package_id = hashlib.sha256(uri.encode()).hexdigest()[:12]
            name = f"{inputs['component_name']}-{target.replace('_', '-')}"
            key = f"{inputs['artifact_prefix']}model_artifacts/model-{package_id}"
            components[target] = {
                "component_name": name,
                "component_version": version,
                "arn": f"arn:aws:greengrass:{self.region}:{ACCOUNT}:components:{name}"
                f":versions:{version}",
                "platform": TARGETS[target].architecture,
                "local_server_component": TARGETS[target].local_server_component,
                "artifact_uri": f"s3://{inputs['artifact_bucket']}/{key}/"
                f"{package_id}_greengrass_model_component.zip",
                "package_id": package_id,
                "digest": "digest-" + package_id,
                "adopted": False,
            }
        outputs = {
            **inputs,
            "component_version": version,
            "components": components,
            "manifest": {"model_graph": {"stages": [{"type": "classification"}]}},
            "model_name": "classification",
        }
        return f"{inputs['component_name']}@{version}", outputs


def _cli_config(config: dict[str, Any]) -> dict[str, str]:
    """The config map the CLI hands the program: non-string values arrive as JSON text."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def run_stack(stack: str, config_of: str | None = None) -> StackRun:
    """Run the program for one stack on fresh mocks, settings, root resource and config.

    ``config_of`` runs the stack with another stack's config file.
    """
    config = stack_config(config_of or stack)
    # Pulumi's mocks run on the thread's current event loop; an earlier asyncio.run() in the
    # same process leaves none.
    asyncio.set_event_loop(asyncio.new_event_loop())
    mocks = RecordingMocks(config["aws:region"])
    settings.reset_options(project=PROJECT, stack=stack, preview=False)
    pulumi.runtime.set_all_config(_cli_config(config))
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False)
    outputs: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[None]:
        exports = dda_stack.define_stack(dda_stack.read_config())
        return pulumi.Output.from_input(exports).apply(outputs.update)

    program()
    return StackRun(stack, config, mocks.registered, outputs)


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, StackRun]]:
    try:
        runs = {stack: run_stack(stack) for stack in ("dev", "prod", "local")}
        runs[DEV_CONFIG_AS_PROD] = run_stack("prod", config_of="dev")
        yield runs
    finally:
        # Leave no mock monitor or stack config behind for other test modules.
        settings.reset_options()
        pulumi.runtime.set_all_config({})


def _deployments_by_target_arn(run: StackRun) -> dict[str, Registered]:
    deployments = run.dynamic("target_arn")
    by_arn = {d.inputs["target_arn"]: d for d in deployments}
    assert len(by_arn) == len(deployments), "two deployments target the same thing group"
    return by_arn


@pytest.mark.parametrize("stack", ["dev", "prod", "local"])
def test_each_group_gets_only_its_platform_component(runs: dict[str, StackRun], stack: str) -> None:
    run = runs[stack]
    devices: dict[str, list[str]] = project_config(run.config, "devices")
    model = project_config(run.config, "model")
    region = run.config["aws:region"]
    account = project_config(run.config, "accountId", ACCOUNT)
    by_arn = _deployments_by_target_arn(run)
    assert len(by_arn) == len(devices)
    for target in devices:
        group = f"dda-{target.replace('_', '-')}"
        deployment = by_arn[f"arn:aws:iot:{region}:{account}:thinggroup/{group}"]
        assert deployment.inputs["components"] == {
            f"{model['componentName']}-{target.replace('_', '-')}": {
                "component_version": model["componentVersion"]
            }
        }
        assert deployment.inputs["deployment_name"] == f"dda-{target}"
    assert run.outputs["deployments"] == {
        target: by_arn[arn].outputs["deployment_id"]
        for target, arn in run.outputs["thingGroupArns"].items()
    }


def test_x86_and_jetson_groups_get_their_own_components(runs: dict[str, StackRun]) -> None:
    run = runs["local"]
    by_arn = _deployments_by_target_arn(run)
    prefix = "arn:aws:iot:us-east-1:123456789012:thinggroup"
    assert by_arn[f"{prefix}/dda-x86-64-cpu"].inputs["components"] == {
        "model-defect-classifier-x86-64-cpu": {"component_version": "1.0.0"}
    }
    assert by_arn[f"{prefix}/dda-jetson-xavier"].inputs["components"] == {
        "model-defect-classifier-jetson-xavier": {"component_version": "1.0.0"}
    }
    # Through the model's outputs, each group's component depends on its platform's LocalServer.
    by_name = {c["component_name"]: c for c in run.outputs["components"].values()}
    servers = {
        group: {by_name[name]["local_server_component"] for name in d.inputs["components"]}
        for group, d in by_arn.items()
    }
    assert servers == {
        f"{prefix}/dda-x86-64-cpu": {"aws.edgeml.dda.LocalServer.amd64"},
        f"{prefix}/dda-jetson-xavier": {"aws.edgeml.dda.LocalServer.arm64"},
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_things_are_members_of_their_platform_group(runs: dict[str, StackRun], stack: str) -> None:
    run = runs[stack]
    devices: dict[str, list[str]] = project_config(run.config, "devices")
    groups = {g.inputs["name"] for g in run.of_type("aws:iot/thingGroup:ThingGroup")}
    things = {t.inputs["name"] for t in run.of_type("aws:iot/thing:Thing")}
    memberships = {
        (m.inputs["thingName"], m.inputs["thingGroupName"])
        for m in run.of_type("aws:iot/thingGroupMembership:ThingGroupMembership")
    }
    assert groups == {f"dda-{t.replace('_', '-')}" for t in devices}
    assert things == {thing for names in devices.values() for thing in names}
    assert memberships == {
        (thing, f"dda-{target.replace('_', '-')}")
        for target, names in devices.items()
        for thing in names
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_device_role_reads_only_model_artifacts(runs: dict[str, StackRun], stack: str) -> None:
    run = runs[stack]
    bucket = project_config(run.config, "artifactBucket")
    prefix = project_config(run.config, "artifactPrefix", "")
    trust = json.loads(run.one("aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert [s["Principal"] for s in trust["Statement"]] == [
        {"Service": "credentials.iot.amazonaws.com"}
    ]
    policy = json.loads(run.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    s3_statements = [s for s in policy["Statement"] if _touches_s3(s)]
    assert s3_statements == [
        {
            "Sid": "ReadModelArtifacts",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/{prefix}model_artifacts/*",
        }
    ]
    others = [s for s in policy["Statement"] if not _touches_s3(s)]
    assert all(a.startswith("logs:") for s in others for a in _listed(s["Action"]))
    assert all(s["Effect"] == "Allow" and "NotAction" not in s for s in policy["Statement"])
    alias = run.one("aws:iot/roleAlias:RoleAlias")
    assert run.outputs["roleAliasArn"].endswith(f":rolealias/{alias.inputs['alias']}")


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _touches_s3(statement: dict[str, Any]) -> bool:
    actions = _listed(statement.get("Action", [])) + _listed(statement.get("NotAction", []))
    return any(a == "*" or a.startswith("s3:") for a in actions) or "s3" in str(
        statement.get("Resource")
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_bucket_is_versioned_encrypted_and_private(runs: dict[str, StackRun], stack: str) -> None:
    run = runs[stack]
    bucket = run.one("aws:s3/bucket:Bucket")
    assert bucket.inputs["bucket"] == project_config(run.config, "artifactBucket")
    versioning = run.one("aws:s3/bucketVersioning:BucketVersioning").inputs
    assert versioning["bucket"] == bucket.inputs["bucket"]
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    encryption = run.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ).inputs
    assert encryption["bucket"] == bucket.inputs["bucket"]
    (rule,) = encryption["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] in {"AES256", "aws:kms"}
    block = run.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert block["bucket"] == bucket.inputs["bucket"]
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    assert {flag: block.get(flag) for flag in flags} == dict.fromkeys(flags, True)


def test_model_component_from_config(runs: dict[str, StackRun]) -> None:
    for run in runs.values():
        (model,) = run.dynamic("compiled_models")
        config = project_config(run.config, "model")
        assert model.inputs["component_name"] == config["componentName"]
        assert model.inputs["compiled_models"] == config["compiledModels"]
        assert model.inputs["trained_model_uri"] == config["trainedModelUri"]
        assert model.inputs["artifact_bucket"] == project_config(run.config, "artifactBucket")
        assert model.inputs["artifact_prefix"] == project_config(run.config, "artifactPrefix", "")
        assert model.inputs["tags"] == project_config(run.config, "tags")
        assert model.inputs["region"] == run.config["aws:region"]
        assert set(run.outputs["components"]) == set(config["compiledModels"])


def test_local_stack_registers_no_aws_resources(runs: dict[str, StackRun]) -> None:
    run = runs["local"]
    assert [r.typ for r in run.resources if r.typ != DYNAMIC] == []
    assert "roleAliasArn" not in run.outputs
    assert run.outputs["artifactBucket"] == "edge-artifacts"
    assert run.outputs["thingGroupArns"] == {
        "x86_64-cpu": "arn:aws:iot:us-east-1:123456789012:thinggroup/dda-x86-64-cpu",
        "jetson-xavier": "arn:aws:iot:us-east-1:123456789012:thinggroup/dda-jetson-xavier",
    }


def _config_placeholders(config: dict[str, Any], path: str = "") -> dict[str, str]:
    """Every string leaf of a stack config, mapped to ``<its config path>``."""
    found: dict[str, str] = {}
    for key, value in config.items():
        where = f"{path}.{key}" if path else key
        if isinstance(value, dict):
            found.update(_config_placeholders(value, where))
        elif isinstance(value, list):
            found.update(_config_placeholders({str(i): v for i, v in enumerate(value)}, where))
        else:
            found.setdefault(str(value), f"<{where}>")
    return found


def _normalise(run: StackRun) -> set[str]:
    """The registered resources with each config value replaced by the path it came from.

    Values of a few characters (``stage: dev``) are replaced only where they are the whole
    string; longer ones also inside names, ARNs and policies. The model's ``owner`` holds the
    stack name by design (it keys component ownership), so the stack name is normalised there.
    """
    placeholders = _config_placeholders(run.config)
    ordered = sorted(placeholders, key=len, reverse=True)

    def norm(value: Any) -> Any:
        if isinstance(value, dict):
            return {norm(k): norm(v) for k, v in value.items()}
        if isinstance(value, list):
            return [norm(v) for v in value]
        if not isinstance(value, str):
            return value
        if value in placeholders:
            return placeholders[value]
        for raw in ordered:
            if len(raw) >= 6:
                value = value.replace(raw, placeholders[raw])
        return value

    normalised = set()
    for resource in run.resources:
        inputs = dict(resource.inputs)
        if "owner" in inputs:
            inputs["owner"] = inputs["owner"].replace(f"/{run.stack}/", "/<stack>/")
        # Policies are JSON text: compare them parsed, so placeholders land in their values.
        for key in ("policy", "assumeRolePolicy"):
            if key in inputs:
                inputs[key] = json.loads(inputs[key])
        entry = {"type": resource.typ, "name": norm(resource.name), "inputs": norm(inputs)}
        normalised.add(json.dumps(entry, sort_keys=True))
    return normalised


def _by_name_with_stack_placeholder(run: StackRun) -> dict[tuple[str, str], dict[str, Any]]:
    """Inputs by (type, name), the stack name in ``owner`` (the ownership key) replaced."""
    return {
        (r.typ, r.name): {
            k: v.replace(f"/{run.stack}/", "/<stack>/") if k == "owner" else v
            for k, v in r.inputs.items()
        }
        for r in run.resources
    }


def test_program_ignores_the_stack_name(runs: dict[str, StackRun]) -> None:
    # Dev's config under the stack name "prod" must declare exactly dev's resources: the
    # stack file alone decides what a stage gets (the placeholder comparison below cannot
    # tell a stack name from a config value that happens to equal it, like tags.stage).
    dev, disguised = runs["dev"], runs[DEV_CONFIG_AS_PROD]
    assert disguised.stack == "prod"
    assert _by_name_with_stack_placeholder(disguised) == _by_name_with_stack_placeholder(dev)
    assert disguised.outputs == dev.outputs


def test_prod_differs_from_dev_only_where_its_config_does(runs: dict[str, StackRun]) -> None:
    dev, prod = runs["dev"], runs["prod"]
    dev_resources, prod_resources = _normalise(dev), _normalise(prod)
    # Prod's config has two more devices (config paths devices.<target>[1]); nothing else may
    # differ once every config value is replaced by its path.
    only_dev = dev_resources - prod_resources
    only_prod = prod_resources - dev_resources
    assert only_dev == set()
    paths_only_in_prod = set(_config_placeholders(prod.config).values()) - set(
        _config_placeholders(dev.config).values()
    )
    for entry in only_prod:
        assert any(path in entry for path in paths_only_in_prod), entry
    assert len(only_prod) == 4  # two things and their two memberships
