"""Wiring of the stack program (stacks/dda_stack.py) under Pulumi's mocks, one run per stack.

The harness (``stack_harness``) runs the program on each stack file's config; the ``runs``
fixture (conftest) holds those runs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from stack_harness import (
    ACCOUNT,
    DEV_CONFIG_AS_PROD,
    DYNAMIC,
    MODEL,
    Registered,
    StackRun,
    project_config,
    run_stack,
)

from pulumi_dda.properties import camel


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
    log_manager = project_config(run.config, "logManager")
    cli = project_config(run.config, "greengrassCli")
    region = run.config["aws:region"]
    account = project_config(run.config, "accountId", ACCOUNT)
    by_arn = _deployments_by_target_arn(run)
    assert len(by_arn) == len(devices)
    for target in devices:
        group = f"dda-{target.replace('_', '-')}"
        deployment = by_arn[f"arn:aws:iot:{region}:{account}:thinggroup/{group}"]
        components = dict(deployment.inputs["components"])
        if log_manager:
            uploader = components.pop("aws.greengrass.LogManager")
            assert uploader["component_version"] == log_manager["componentVersion"]
        if cli:
            # DDA's LocalServer restarts models through the Greengrass CLI's IPC service.
            assert components.pop("aws.greengrass.Cli") == {
                "component_version": cli["componentVersion"]
            }
        # The version the model resolves (the mocked model: 1.0.0 when the block names none).
        version = model.get("componentVersion") or "1.0.0"
        assert components == {
            f"{model['componentName']}-{target.replace('_', '-')}": {"component_version": version}
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
def test_token_exchange_role_alias_and_trust(runs: dict[str, StackRun], stack: str) -> None:
    """The alias points at the role, whose trust is AWS's documented one, verbatim."""
    run = runs[stack]
    (role,) = [r for r in run.of_type("aws:iam/role:Role") if r.name == "token-exchange-role"]
    assert json.loads(role.inputs["assumeRolePolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "credentials.iot.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    (policy,) = run.of_type("aws:iam/rolePolicy:RolePolicy")
    assert policy.inputs["role"] == role.id
    alias = run.one("aws:iot/roleAlias:RoleAlias")
    assert alias.inputs["roleArn"] == role.outputs["arn"]
    assert run.outputs["roleAliasArn"].endswith(f":rolealias/{alias.inputs['alias']}")
    assert run.outputs["roleAlias"] == alias.inputs["alias"]
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert all(s["Effect"] == "Allow" and "NotAction" not in s for s in statements.values())


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_logs_only_with_log_manager_and_in_this_account(
    runs: dict[str, StackRun], stack: str
) -> None:
    with_logs = runs[stack]
    region = with_logs.config["aws:region"]
    statements = _role_statements(with_logs)
    assert statements["GreengrassLogs"]["Resource"] == (
        f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/aws/greengrass/*"
    )
    without = run_stack(stack, overrides={"pulumi-dda:logManager": None})
    assert "GreengrassLogs" not in _role_statements(without)
    assert not any(
        a.startswith("logs:")
        for s in _role_statements(without).values()
        for a in _listed(s["Action"])
    )
    for deployment in without.dynamic("target_arn"):
        assert "aws.greengrass.LogManager" not in deployment.inputs["components"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_device_role_reads_exactly_the_local_server_artifacts_the_recipes_name(
    runs: dict[str, StackRun], stack: str
) -> None:
    """The grant is the model's ``local_server_artifacts`` (what check read from the published
    LocalServer recipes), so it cannot drift from what the devices download."""
    run = runs[stack]
    (model,) = run.of_type(MODEL)
    uris = {u for uris in model.outputs["local_server_artifacts"].values() for u in uris}
    assert uris  # the harness answers like a LocalServer with artifacts on both platforms
    objects = sorted(
        f"arn:aws:s3:::{uri.removeprefix('s3://').replace('%20', ' ')}" for uri in uris
    )
    statements = _role_statements(run)
    assert statements["ReadLocalServerArtifacts"] == {
        "Sid": "ReadLocalServerArtifacts",
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": objects,
    }
    buckets = {f"arn:aws:s3:::{uri.removeprefix('s3://').split('/')[0]}" for uri in uris}
    assert buckets <= set(statements["ArtifactBucketLocation"]["Resource"])
    # The deprecated config key changes nothing.
    former = {"pulumi-dda:localServerArtifacts": ["s3://elsewhere/"]}
    assert _role_statements(run_stack(stack, overrides=former)) == statements


def _role_statements(run: StackRun) -> dict[str, dict[str, Any]]:
    policy = json.loads(run.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    return {s["Sid"]: s for s in policy["Statement"]}


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


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
    assert [r.typ for r in run.resources if r.typ not in DYNAMIC] == []
    assert {r.typ for r in run.resources} == set(DYNAMIC)
    assert "roleAliasArn" not in run.outputs
    assert run.outputs["artifactBucket"] == "edge-artifacts"
    assert run.outputs["thingGroupArns"] == {
        "x86_64-cpu": "arn:aws:iot:us-east-1:123456789012:thinggroup/dda-x86-64-cpu",
        "jetson-xavier": "arn:aws:iot:us-east-1:123456789012:thinggroup/dda-jetson-xavier",
    }


def _config_placeholders(
    config: dict[str, Any], path: str = "", names: dict[str, str] | None = None
) -> dict[str, str]:
    """Every string leaf of a stack config, mapped to ``<its config path>``.

    The bucket of an ``s3://`` value gets a placeholder of its own. A mapping key that is
    itself a config value (``certificateRequests`` is keyed by thing name) is written in the
    path as that value's placeholder, so no stage's names leak into it.
    """
    if names is None:
        names = _config_placeholders(config, names={})
    found: dict[str, str] = {}
    for key, value in config.items():
        segment = names.get(str(key), str(key)) if path else str(key)
        where = f"{path}.{segment}" if path else segment
        if isinstance(value, dict):
            found.update(_config_placeholders(value, where, names))
        elif isinstance(value, list):
            items = {str(i): v for i, v in enumerate(value)}
            found.update(_config_placeholders(items, where, names))
        else:
            found.setdefault(str(value), f"<{where}>")
            if str(value).startswith("s3://"):
                # Policies name the bucket of an s3:// location in ARNs of their own.
                found.setdefault(str(value)[5:].split("/", 1)[0], f"<{where}:bucket>")
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
        for key in ("policy", "assumeRolePolicy", "templateBody"):
            if str(inputs.get(key, "")).startswith("{"):
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
    # Per extra device: thing, membership, certificate, its thing attachment, IoT policy and
    # the policy's attachment.
    assert len(only_prod) == 2 * 6


def test_deployments_take_over_only_when_the_config_says_so(runs: dict[str, StackRun]) -> None:
    """``takeOver`` (default false) reaches every deployment's ``take_over``."""
    assert {d.inputs["take_over"] for d in runs["dev"].dynamic("target_arn")} == {False}
    run = run_stack("dev", overrides={"pulumi-dda:takeOver": True})
    deployments = run.dynamic("target_arn")
    assert deployments
    assert {d.inputs["take_over"] for d in deployments} == {True}


def test_the_rollout_block_gives_each_deployment_its_policy_and_the_canary_stage(
    runs: dict[str, StackRun],
) -> None:
    run = runs["local"]
    rollout = project_config(run.config, "rollout")
    region, account = run.config["aws:region"], project_config(run.config, "accountId")
    group = f"arn:aws:iot:{region}:{account}:thinggroup/dda-x86-64-cpu"
    by_arn = _deployments_by_target_arn(run)
    x86, jetson = by_arn[group], by_arn[group.replace("x86-64-cpu", "jetson-xavier")]
    policy = {"success_percent": 100, "timeout_seconds": 120, "on_failure": "revert"}
    assert {k: rollout["policy"][camel(k)] for k in policy} == policy
    for deployment in (x86, jetson):
        assert deployment.inputs["rollout"] == policy
        assert deployment.inputs["keep_revisions"] == rollout["keepRevisions"]
    assert x86.inputs["stages"] == [
        {
            "target_arn": f"{group}-canary",
            "subdeployment": True,
            "rollout": {"success_percent": 100, "timeout_seconds": 60, "bake_seconds": 2},
        }
    ]
    assert jetson.inputs.get("stages") in (None, [])


@pytest.mark.parametrize(
    ("rollout", "message"),
    [
        ({"canary": {"x86_64-cpu": ["not-a-device"]}}, "rollout.canary.x86_64-cpu must list"),
        ({"canaries": {}}, "pulumi-dda:rollout must be a mapping with keys"),
    ],
)
def test_rollout_mistakes_stop_the_program(rollout: dict[str, Any], message: str) -> None:
    with pytest.raises(Exception, match=message):
        run_stack("local", overrides={"pulumi-dda:rollout": rollout})


def test_the_managed_canary_is_a_child_group_of_the_line_with_its_things() -> None:
    devices = project_config(run_stack("dev").config, "devices")
    thing = devices["x86_64-cpu"][0]
    run = run_stack("dev", overrides={"pulumi-dda:rollout": {"canary": {"x86_64-cpu": [thing]}}})
    (canary,) = [
        g for g in run.of_type("aws:iot/thingGroup:ThingGroup") if g.name.endswith("-canary")
    ]
    assert canary.inputs["name"] == "dda-x86-64-cpu-canary"
    assert canary.inputs["parentGroupName"] == "dda-x86-64-cpu"
    members = [
        m.inputs
        for m in run.of_type("aws:iot/thingGroupMembership:ThingGroupMembership")
        if m.inputs["thingGroupName"] == "dda-x86-64-cpu-canary"
    ]
    assert members == [{"thingGroupName": "dda-x86-64-cpu-canary", "thingName": thing}]
