"""The DDA edge stack: artifact bucket, device fleet, token-exchange role, model, deployments.

Everything a stack differs in comes from its config file (``Pulumi.<stack>.yaml``); the
program never branches on the stack name, so promoting a model from dev to prod is copying
dev's ``model`` block into prod's file. ``manageInfrastructure: false`` (the local demo stack)
declares only the model component and the deployments, against a bucket, thing groups and
things that already exist.

Stack config (namespace ``pulumi-dda`` unless written out):

- ``aws:region``: region of everything, the model component and deployments included.
- ``manageInfrastructure`` (bool, default true): declare the bucket, thing groups, things and
  token-exchange role; false: take them as existing (the local demo stack).
- ``accountId``: 12 digits; required when ``manageInfrastructure`` is false, to build the
  thing-group ARNs ``arn:aws:iot:<region>:<accountId>:thinggroup/dda-<target>``.
- ``artifactBucket``: the bucket the component packages go to (created when managed).
- ``artifactPrefix`` (default ""): key prefix of the packages, empty or ending in "/".
- ``devices``: compilation target -> thing names; one thing group ``dda-<target>`` ("_"
  becomes "-") and one deployment per target.
- ``model``: ``componentName``, ``componentVersion`` (optional: the next free major),
  ``friendlyName`` (optional), ``trainedModelUri``, ``compiledModels`` (target -> URI);
  every target in ``devices`` needs a compiled model.
- ``tags`` (default {}): tags of every resource that takes them.

This module is imported by ``__main__.py`` and by the wiring tests, so it has no side effects
at import time: :func:`main` reads the config and declares the resources.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import partial
from typing import Any

import pulumi
import pulumi_aws as aws

from pulumi_dda.deployment import GreengrassDeployment
from pulumi_dda.model_component import DdaModelComponent
from pulumi_dda.recipe import TARGETS

MODEL_KEYS = {
    "componentName",
    "componentVersion",
    "friendlyName",
    "trainedModelUri",
    "compiledModels",
}
_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
# IoT names are per account and region; each stage has an account of its own (see
# Pulumi.prod.yaml), so the names need no stage in them.
NAME_PREFIX = "dda"


@dataclass(frozen=True)
class ModelConfig:
    """The config ``model`` block: what ``DdaModelComponent`` builds."""

    component_name: str
    trained_model_uri: str
    compiled_models: dict[str, str]
    component_version: str | None
    friendly_name: str | None


@dataclass(frozen=True)
class StackConfig:
    """The validated stack config (namespace ``pulumi-dda`` plus ``aws:region``)."""

    region: str
    manage_infrastructure: bool
    account_id: str | None
    artifact_bucket: str
    artifact_prefix: str
    devices: dict[str, list[str]]
    model: ModelConfig
    tags: dict[str, str]


def thing_group_name(target: str) -> str:
    """``dda-x86-64-cpu``: the local demo's bootstrap creates its groups by this convention."""
    return f"{NAME_PREFIX}-{target.replace('_', '-')}"


def thing_group_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:iot:{region}:{account_id}:thinggroup/{name}"


def read_config() -> StackConfig:
    """Read and check the stack config; a mistake stops the program before any resource."""
    config = pulumi.Config()
    manage = config.get_bool("manageInfrastructure", True)
    account_id = config.get("accountId")
    if not manage and not (account_id and _ACCOUNT_ID.match(account_id)):
        # Without managed groups there is no resource to take the thing-group ARNs from.
        raise pulumi.RunError(
            "pulumi-dda:accountId (12 digits) is required when manageInfrastructure is false"
        )
    devices = _read_devices(config.require_object("devices"))
    model = _read_model(config.require_object("model"))
    missing = sorted(set(devices) - set(model.compiled_models))
    if missing:
        raise pulumi.RunError(
            f"pulumi-dda:devices has thing groups for {', '.join(missing)} but "
            "pulumi-dda:model.compiledModels has no compiled model for them"
        )
    tags = config.get_object("tags", {})
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise pulumi.RunError("pulumi-dda:tags must be a mapping of strings")
    return StackConfig(
        region=pulumi.Config("aws").require("region"),
        manage_infrastructure=manage,
        account_id=account_id,
        artifact_bucket=config.require("artifactBucket"),
        artifact_prefix=config.get("artifactPrefix", ""),
        devices=devices,
        model=model,
        tags={str(k): v for k, v in tags.items()},
    )


def _read_devices(raw: Any) -> dict[str, list[str]]:
    if not isinstance(raw, dict) or not raw:
        raise pulumi.RunError("pulumi-dda:devices must map compilation targets to thing names")
    devices: dict[str, list[str]] = {}
    seen: set[str] = set()
    for target, things in raw.items():
        if target not in TARGETS:
            known = ", ".join(sorted(TARGETS))
            raise pulumi.RunError(f"pulumi-dda:devices: unknown target {target!r} ({known})")
        if not isinstance(things, list) or not things:
            raise pulumi.RunError(f"pulumi-dda:devices.{target} must be a non-empty list")
        # A thing in two platform groups would receive two models for different hardware.
        twice = seen.intersection(things)
        if twice or len(set(things)) != len(things):
            raise pulumi.RunError(
                f"pulumi-dda:devices.{target}: thing names listed twice: {sorted(twice) or things}"
            )
        seen.update(things)
        devices[target] = [str(t) for t in things]
    return devices


def _read_model(raw: Any) -> ModelConfig:
    if not isinstance(raw, dict):
        raise pulumi.RunError("pulumi-dda:model must be a mapping")
    # A misspelt optional key (say ``componentVerison``) would otherwise be silently ignored.
    unknown = sorted(set(raw) - MODEL_KEYS)
    if unknown:
        raise pulumi.RunError(f"pulumi-dda:model: unknown keys {unknown}")
    for key in ("componentName", "trainedModelUri", "compiledModels"):
        if not raw.get(key):
            raise pulumi.RunError(f"pulumi-dda:model.{key} is required")
    compiled = raw["compiledModels"]
    if not isinstance(compiled, dict):
        raise pulumi.RunError("pulumi-dda:model.compiledModels must map targets to archive URIs")
    return ModelConfig(
        component_name=str(raw["componentName"]),
        trained_model_uri=str(raw["trainedModelUri"]),
        compiled_models={str(t): str(uri) for t, uri in compiled.items()},
        component_version=str(raw["componentVersion"]) if raw.get("componentVersion") else None,
        friendly_name=str(raw["friendlyName"]) if raw.get("friendlyName") else None,
    )


def token_exchange_trust_policy() -> dict[str, Any]:
    """Only the IoT credentials provider may assume the role (for a device's certificate)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "credentials.iot.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def token_exchange_policy(bucket: str, prefix: str, region: str) -> dict[str, Any]:
    """What every device may do with its role-alias credentials.

    S3: only read the packages ``DdaModelComponent`` uploads (``<prefix>model_artifacts/``);
    Greengrass downloads an artifact with ``GetObject`` and nothing else, so the broader
    ``s3:GetBucketLocation`` of AWS's sample policy is left out. The bucket uses SSE-S3, so
    no ``kms:Decrypt`` either.

    Logs: the four actions of Greengrass's documented token-exchange policy, narrowed to the
    ``/aws/greengrass/*`` log groups the LogManager component writes; without them a model
    that fails to convert on a device is visible only on the device itself.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadModelArtifacts",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/{prefix}model_artifacts/*",
            },
            {
                "Sid": "GreengrassLogs",
                "Effect": "Allow",
                "Action": [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                "Resource": f"arn:aws:logs:{region}:*:log-group:/aws/greengrass/*",
            },
        ],
    }


def _artifact_bucket(cfg: StackConfig) -> tuple[pulumi.Output[str], list[pulumi.Resource]]:
    bucket = aws.s3.Bucket("artifact-bucket", bucket=cfg.artifact_bucket, tags=cfg.tags)
    # Component versions are immutable and devices check the recipe's digest, so an artifact
    # key must never silently change: versioning keeps every byte ever published.
    versioning = aws.s3.BucketVersioning(
        "artifact-bucket-versioning",
        bucket=bucket.id,
        versioning_configuration={"status": "Enabled"},
    )
    # SSE-S3 rather than KMS: devices then need no kms:Decrypt beside s3:GetObject.
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        "artifact-bucket-encryption",
        bucket=bucket.id,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
    )
    public_access = aws.s3.BucketPublicAccessBlock(
        "artifact-bucket-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    return bucket.bucket, [bucket, versioning, encryption, public_access]


def _thing_groups(cfg: StackConfig) -> dict[str, pulumi.Output[str]]:
    arns: dict[str, pulumi.Output[str]] = {}
    for target, things in cfg.devices.items():
        name = thing_group_name(target)
        if not cfg.manage_infrastructure:
            assert cfg.account_id is not None  # read_config checked it
            arns[target] = pulumi.Output.from_input(
                thing_group_arn(cfg.region, cfg.account_id, name)
            )
            continue
        group = aws.iot.ThingGroup(f"thing-group-{target}", name=name, tags=cfg.tags)
        for thing_name in things:
            thing = aws.iot.Thing(f"thing-{thing_name}", name=thing_name)
            aws.iot.ThingGroupMembership(
                f"membership-{thing_name}",
                thing_group_name=group.name,
                thing_name=thing.name,
            )
        arns[target] = group.arn
    return arns


def _token_exchange(cfg: StackConfig) -> tuple[aws.iot.RoleAlias, aws.iam.RolePolicy]:
    role = aws.iam.Role(
        "token-exchange-role",
        assume_role_policy=json.dumps(token_exchange_trust_policy()),
        tags=cfg.tags,
    )
    policy = aws.iam.RolePolicy(
        "token-exchange-artifacts",
        role=role.id,
        policy=json.dumps(
            token_exchange_policy(cfg.artifact_bucket, cfg.artifact_prefix, cfg.region)
        ),
    )
    alias = aws.iot.RoleAlias(
        "token-exchange-alias",
        alias=f"{NAME_PREFIX}-token-exchange",
        role_arn=role.arn,
        tags=cfg.tags,
    )
    return alias, policy


def deployment_components(components: dict[str, Any], target: str) -> dict[str, Any]:
    """A thing group's deployment: its own platform's component and nothing else.

    A deployment revision replaces the group's previous one, so every component it should
    keep running must be listed; the LocalServer comes in as the component's HARD dependency.
    """
    built = components[target]
    return {built["component_name"]: {"component_version": built["component_version"]}}


def define_stack(cfg: StackConfig) -> dict[str, Any]:
    """Declare the stack's resources; return the stack outputs (not yet exported)."""
    outputs: dict[str, Any] = {}
    model_deps: list[pulumi.Resource] = []
    deployment_deps: list[pulumi.Resource] = []
    if cfg.manage_infrastructure:
        bucket_name, bucket_resources = _artifact_bucket(cfg)
        # Upload only into a bucket that already encrypts and blocks public access.
        model_deps = bucket_resources
        alias, policy = _token_exchange(cfg)
        # Devices act on a deployment at once; without the policy their download would fail.
        deployment_deps = [policy]
        outputs["roleAliasArn"] = alias.arn
        outputs["roleAlias"] = alias.alias
    else:
        bucket_name = pulumi.Output.from_input(cfg.artifact_bucket)
    group_arns = _thing_groups(cfg)

    model = DdaModelComponent(
        "model",
        component_name=cfg.model.component_name,
        trained_model_uri=cfg.model.trained_model_uri,
        compiled_models=dict(cfg.model.compiled_models),
        component_version=cfg.model.component_version,
        friendly_name=cfg.model.friendly_name,
        # The name from config, not the bucket's output: preview can then check the model.
        artifact_bucket=cfg.artifact_bucket,
        artifact_prefix=cfg.artifact_prefix,
        tags=dict(cfg.tags),
        region=cfg.region,
        opts=pulumi.ResourceOptions(depends_on=model_deps),
    )
    deployments: dict[str, pulumi.Output[str]] = {}
    for target, arn in group_arns.items():
        deployment = GreengrassDeployment(
            f"deployment-{target}",
            target_arn=arn,
            components=model.components.apply(partial(deployment_components, target=target)),
            deployment_name=f"dda-{target}",
            tags=dict(cfg.tags),
            region=cfg.region,
            opts=pulumi.ResourceOptions(depends_on=deployment_deps),
        )
        # The resource's id is the target ARN; deployment_id is the current revision's id.
        deployments[target] = deployment.deployment_id

    outputs.update(
        artifactBucket=bucket_name,
        thingGroupArns=group_arns,
        components=model.components,
        deployments=deployments,
    )
    return outputs


def main() -> None:
    for name, value in define_stack(read_config()).items():
        pulumi.export(name, value)
