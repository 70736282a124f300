"""The DDA edge stack: artifact bucket, device fleet, token-exchange role, model, deployments.

Everything a stack differs in comes from its config file (``Pulumi.<stack>.yaml``); the
program never branches on the stack name, so promoting a model from dev to prod is copying
dev's ``model`` block into prod's file. ``manageInfrastructure: false`` (the local demo stack)
declares only the model component and the deployments, against a bucket, thing groups and
things that already exist.

Prerequisite in every account and region: DDA's LocalServer components
(``aws.edgeml.dda.LocalServer.arm64`` / ``.amd64``), published from the DDA repository. Every
model recipe depends on its platform's LocalServer (HARD), so a device cannot deploy the model
without it; the device role may read exactly the ``s3://`` artifacts its newest ``^1.0.0``
recipe names (``DdaModelComponent.local_server_artifacts``, read at preview).

Stack config (namespace ``pulumi-dda`` unless written out):

- ``aws:region``: region of everything, the model component and deployments included.
- ``roleArn`` (optional): an IAM role in the account the stack deploys to (a use-case
  account), assumed for every AWS call: the model (``role_arn``), the deployments
  (``role_arn``) and, when managed, every pulumi-aws resource and lookup through one explicit
  provider (region and ``aws:profile`` handed to it). The deployer's own credentials then only
  need ``sts:AssumeRole`` on it. Unmanaged, the role must be in ``accountId``.
- ``manageInfrastructure`` (bool, default true): declare the bucket, thing groups, things,
  certificates, IoT policies and token-exchange role; false: take them as existing (the local
  demo stack; the device keys below are then refused).
- ``accountId``: 12 digits; required when ``manageInfrastructure`` is false, to build the
  thing-group ARNs ``arn:aws:iot:<region>:<accountId>:thinggroup/dda-<target>``.
- ``artifactBucket``: the bucket the component packages go to (created when managed).
- ``artifactPrefix`` (default ""): key prefix of the packages, empty or ending in "/".
- ``devices``: compilation target -> thing names (``[A-Za-z0-9_-]``, at most 119 characters);
  one thing group ``dda-<target>`` ("_" becomes "-") and one deployment per target. A list may
  be empty only with ``fleetProvisioning`` (devices then join by themselves).
- ``certificateRequests`` (managed): thing name -> the PEM CSR the device made (its private key
  never leaves it); every listed thing needs one. Each becomes an active certificate attached
  exclusively to the thing, with the thing's own minimal IoT policy.
- ``fleetProvisioning`` (optional, managed): ``thingNamePrefix`` (names of self-registering
  devices; no listed thing may start with it, and it may not overlap ``dda-claim-``, the
  claim certificates' client ids), ``claimCertificateRequest`` (PEM CSR of the claim
  certificate) and ``preProvisioningHookArn`` (optional: a Lambda function AWS IoT asks before
  each registration, the only way to refuse unknown serial numbers). Adds a provisioning
  role, one template per target, the fleet IoT policy and the claim certificate with its
  provisioning-only policy.
- ``localServerArtifacts``: deprecated and ignored (a warning says so): the device role reads
  exactly the artifacts the LocalServer recipes name.
- ``nucleusVersion`` (managed): the Greengrass nucleus version written into each device's
  rendered ``config.yaml`` (the version of the installer the devices run); 2.6.0 or later
  (2.5.0 for the declared IoT policy, 2.6.0 for the Greengrass CLI IPC service).
- ``greengrassCli`` (managed): ``componentVersion`` of ``aws.greengrass.Cli`` (2.6.0 or later),
  deployed with every model: DDA's LocalServer restarts and stops models through its IPC
  service.
- ``logManager`` (optional): ``componentVersion`` of ``aws.greengrass.LogManager`` (2.3.5 or
  later recommended by its page); every deployment then uploads system, model and LocalServer
  logs to CloudWatch Logs, and only then may the device role write ``/aws/greengrass/*`` logs.
- ``model``: ``componentName``, ``componentVersion`` (optional: the next free major),
  ``friendlyName`` (optional), ``trainedModelUri``, ``compiledModels`` (target -> URI);
  every target in ``devices`` needs a compiled model.
- ``rollout`` (optional): how each new model reaches the devices. ``policy``: every
  deployment's outcome policy (``successPercent``, ``timeoutSeconds``, ``onFailure``
  ``fail``/``revert``, ``ignoreUnhealthy``, ``bakeSeconds``): ``up`` waits for the devices and
  fails (after reverting) when too few succeed. ``canary``: target -> some of its things, put in
  a child group ``dda-<target>-canary`` that gets each new model first as a subdeployment,
  gated by ``gate`` (a policy; default: every canary device succeeds within 600 s); a failed
  gate reverts the canary and the rest of the target never sees the model. ``keepRevisions``
  (default 3): the newest revisions per target whose versions stay for ``pulumi-dda rollback``.
- ``tags`` (default {}): tags of every resource that takes them.
- ``takeOver`` (bool, default false): the deployments may supersede a thing group's current
  deployment that another owner made (another stack, or by hand); without it such a preview
  fails naming that deployment. Set it for the one ``up`` that takes the groups over (or back),
  then remove it: two stacks that both keep it supersede each other on every ``up``.

This module is imported by ``__main__.py`` and by the wiring tests, so it has no side effects
at import time: :func:`main` reads the config and declares the resources. Beside it:
``dda_config`` (reading and checking these keys), ``dda_policies`` (the IAM and IoT policy
documents, pure), ``dda_devices`` (certificates, IoT policies, fleet provisioning and the
rendered nucleus config) and ``dda_account`` (the provider that assumes ``roleArn``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from typing import Any

import pulumi
import pulumi_aws as aws

from dda_account import StackAccount, stack_account
from dda_config import StackConfig, read_config
from dda_devices import (
    DeviceContext,
    core_device,
    device_setup,
    fleet_provisioning,
    iot_endpoints,
)
from dda_policies import (
    S3Location,
    greengrass_log_groups_arn,
    token_exchange_policy,
    token_exchange_trust_policy,
)
from pulumi_dda.recipe import platform_for
from pulumi_dda.resources import DdaModelComponent, GreengrassDeployment

__all__ = ["define_stack", "main", "read_config"]

LOG_MANAGER = "aws.greengrass.LogManager"
GREENGRASS_CLI = "aws.greengrass.Cli"
# IoT names are per account and region; each stage has an account of its own (see
# Pulumi.prod.yaml), so the names need no stage in them.
NAME_PREFIX = "dda"


def thing_group_name(target: str) -> str:
    """``dda-x86-64-cpu``: the local demo's bootstrap creates its groups by this convention."""
    return f"{NAME_PREFIX}-{target.replace('_', '-')}"


def canary_group_name(target: str) -> str:
    """``dda-x86-64-cpu-canary``: the child group of a target's canary things."""
    return f"{thing_group_name(target)}-canary"


def thing_group_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:iot:{region}:{account_id}:thinggroup/{name}"


def _artifact_bucket(
    cfg: StackConfig, where: StackAccount
) -> tuple[pulumi.Output[str], list[pulumi.Resource]]:
    bucket = aws.s3.Bucket(
        "artifact-bucket",
        bucket=cfg.artifact_bucket,
        tags=cfg.tags,
        opts=where.resource_options(),
    )
    # Component versions are immutable and devices check the recipe's digest, so an artifact
    # key must never silently change: versioning keeps every byte ever published.
    versioning = aws.s3.BucketVersioning(
        "artifact-bucket-versioning",
        bucket=bucket.id,
        versioning_configuration={"status": "Enabled"},
        opts=where.resource_options(),
    )
    # SSE-S3 rather than KMS: devices then need no kms:Decrypt beside s3:GetObject.
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        "artifact-bucket-encryption",
        bucket=bucket.id,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
        opts=where.resource_options(),
    )
    public_access = aws.s3.BucketPublicAccessBlock(
        "artifact-bucket-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=where.resource_options(),
    )
    return bucket.bucket, [bucket, versioning, encryption, public_access]


@dataclass(frozen=True)
class Registry:
    """The thing groups (target -> ARN) and, when managed, their resources."""

    group_arns: dict[str, pulumi.Output[str]]
    groups: dict[str, aws.iot.ThingGroup]
    things: dict[str, tuple[str, aws.iot.Thing]]  # thing name -> (target, thing)
    canary_arns: dict[str, pulumi.Output[str]]
    """Target -> its canary child group (``rollout.canary``)."""


def _thing_groups(cfg: StackConfig, where: StackAccount) -> Registry:
    registry = Registry({}, {}, {}, {})
    for target, things in cfg.devices.items():
        name = thing_group_name(target)
        if not cfg.manage_infrastructure:
            assert cfg.account_id is not None  # read_config checked it
            registry.group_arns[target] = pulumi.Output.from_input(
                thing_group_arn(cfg.region, cfg.account_id, name)
            )
            if target in cfg.rollout.canary:
                registry.canary_arns[target] = pulumi.Output.from_input(
                    thing_group_arn(cfg.region, cfg.account_id, canary_group_name(target))
                )
            continue
        group = aws.iot.ThingGroup(
            f"thing-group-{target}", name=name, tags=cfg.tags, opts=where.resource_options()
        )
        for thing_name in things:
            thing = aws.iot.Thing(
                f"thing-{thing_name}", name=thing_name, opts=where.resource_options()
            )
            aws.iot.ThingGroupMembership(
                f"membership-{thing_name}",
                thing_group_name=group.name,
                thing_name=thing.name,
                opts=where.resource_options(),
            )
            registry.things[thing_name] = (target, thing)
        registry.groups[target] = group
        registry.group_arns[target] = group.arn
        if target in cfg.rollout.canary:
            registry.canary_arns[target] = _canary_group(cfg, registry, target, group, where)
    return registry


def _canary_group(
    cfg: StackConfig,
    registry: Registry,
    target: str,
    parent: aws.iot.ThingGroup,
    where: StackAccount,
) -> pulumi.Output[str]:
    """The child group of a target's canary things: they stay in the target's group, and each
    new model reaches them first as a subdeployment."""
    canary = aws.iot.ThingGroup(
        f"thing-group-{target}-canary",
        name=canary_group_name(target),
        parent_group_name=parent.name,
        tags=cfg.tags,
        opts=where.resource_options(),
    )
    for thing_name in cfg.rollout.canary[target]:
        aws.iot.ThingGroupMembership(
            f"canary-membership-{thing_name}",
            thing_group_name=canary.name,
            thing_name=registry.things[thing_name][1].name,
            opts=where.resource_options(),
        )
    return canary.arn


def _stages(cfg: StackConfig, registry: Registry, target: str) -> list[dict[str, Any]]:
    """The target's canary stage (``rollout.canary``), gated by ``rollout.gate``."""
    if target not in registry.canary_arns:
        return []
    stage: dict[str, Any] = {"target_arn": registry.canary_arns[target], "subdeployment": True}
    if cfg.rollout.gate:
        stage["rollout"] = cfg.rollout.gate
    return [stage]


def _local_server_objects(artifacts: dict[str, list[str]] | None) -> list[str]:
    """Every target's LocalServer artifact URIs, once each (the role is shared)."""
    return sorted({uri for uris in (artifacts or {}).values() for uri in uris})


def _token_exchange(
    cfg: StackConfig,
    account: pulumi.Output[str],
    local_server: pulumi.Output[dict[str, list[str]]],
    where: StackAccount,
) -> tuple[aws.iot.RoleAlias, aws.iam.RolePolicy]:
    role = aws.iam.Role(
        "token-exchange-role",
        assume_role_policy=json.dumps(token_exchange_trust_policy()),
        tags=cfg.tags,
        opts=where.resource_options(),
    )
    artifacts = S3Location(cfg.artifact_bucket, cfg.artifact_prefix)
    # Exactly what the LocalServer recipes name, read by the model's check (known at preview):
    # the grant cannot drift from the recipes the devices resolve.
    document = pulumi.Output.all(account, local_server).apply(
        lambda args: token_exchange_policy(
            artifacts=artifacts,
            local_server=_local_server_objects(args[1]),
            logs_arn=(
                greengrass_log_groups_arn(cfg.region, args[0]) if cfg.log_manager_version else None
            ),
        )
    )
    policy = aws.iam.RolePolicy(
        "token-exchange-artifacts",
        role=role.id,
        policy=document.apply(json.dumps),
        opts=where.resource_options(),
    )
    alias = aws.iot.RoleAlias(
        "token-exchange-alias",
        alias=f"{NAME_PREFIX}-token-exchange",
        role_arn=role.arn,
        tags=cfg.tags,
        opts=where.resource_options(),
    )
    return alias, policy


def deployment_components(
    versions: dict[str, Any],
    target: str,
    log_manager: str | None = None,
    greengrass_cli: str | None = None,
) -> dict[str, Any]:
    """A thing group's deployment: its own platform's component (and LogManager if asked).

    A deployment revision replaces the group's previous one, so every component it should
    keep running must be listed; the LocalServer comes in as the component's HARD dependency.
    LogManager uploads the nucleus's logs and those of the model and its LocalServer.

    ``aws.greengrass.Cli``: DDA's LocalServer recipe grants itself the Greengrass CLI IPC
    operations ``RestartComponent`` and ``StopComponent`` on ``model*`` and ``ListComponents``,
    ``GetComponentDetails`` (its ``accessControl`` for ``aws.greengrass.Cli``) but does not
    depend on the CLI component. AWS serves that IPC service only where the Greengrass CLI
    component (2.6.0 or later) runs ("Manage local deployments and components"), so without it
    the LocalServer cannot start or switch a model; the deployment lists it.
    """
    built = versions[target]
    listed: dict[str, Any] = {
        built["component_name"]: {"component_version": built["component_version"]}
    }
    if greengrass_cli is not None:
        listed[GREENGRASS_CLI] = {"component_version": greengrass_cli}
    if log_manager is not None:
        uploads = {
            "logsUploaderConfiguration": {
                "systemLogsConfiguration": {"uploadToCloudWatch": "true"},
                "componentLogsConfigurationMap": {
                    built["component_name"]: {},
                    platform_for(target).local_server_component: {},
                },
            }
        }
        listed[LOG_MANAGER] = {
            "component_version": log_manager,
            "configuration_update": {"merge": json.dumps(uploads, sort_keys=True)},
        }
    return listed


def _devices(
    cfg: StackConfig,
    registry: Registry,
    alias: aws.iot.RoleAlias,
    account: pulumi.Output[str],
    where: StackAccount,
) -> dict[str, Any]:
    """Certificates, IoT policies, fleet provisioning and what an operator needs from them."""
    assert cfg.nucleus_version is not None  # read_config requires it when managed
    data_endpoint, credentials_endpoint = iot_endpoints(where)
    ctx = DeviceContext(
        where=where,
        name_prefix=NAME_PREFIX,
        region=cfg.region,
        account=account,
        role_alias=alias,
        data_endpoint=data_endpoint,
        credentials_endpoint=credentials_endpoint,
        nucleus_version=cfg.nucleus_version,
        tags=cfg.tags,
    )
    outputs: dict[str, Any] = {
        "iotDataEndpoint": data_endpoint,
        "iotCredentialsEndpoint": credentials_endpoint,
        "deviceSetup": device_setup(cfg.nucleus_version),
        "devices": {
            name: {
                "thingGroup": thing_group_name(target),
                **core_device(
                    ctx,
                    target=target,
                    thing=thing,
                    thing_name=name,
                    csr=cfg.certificate_requests[name],
                ),
            }
            for name, (target, thing) in registry.things.items()
        },
    }
    if cfg.fleet is not None:
        outputs["fleetProvisioning"] = fleet_provisioning(ctx, cfg.fleet, registry.groups)
    return outputs


def define_stack(cfg: StackConfig) -> dict[str, Any]:
    """Declare the stack's resources; return the stack outputs (not yet exported)."""
    outputs: dict[str, Any] = {}
    model_deps: list[pulumi.Resource] = []
    deployment_deps: list[pulumi.Resource] = []
    where = StackAccount()
    if cfg.manage_infrastructure:
        where = stack_account(cfg.role_arn, cfg.region, cfg.aws_profile)
    registry = _thing_groups(cfg, where)
    if cfg.manage_infrastructure:
        bucket_name, bucket_resources = _artifact_bucket(cfg, where)
        # Upload only into a bucket that already encrypts and blocks public access.
        model_deps = bucket_resources
    else:
        bucket_name = pulumi.Output.from_input(cfg.artifact_bucket)

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
        role_arn=cfg.role_arn,
        opts=pulumi.ResourceOptions(depends_on=model_deps),
    )
    if cfg.manage_infrastructure:
        account = aws.get_caller_identity_output(opts=where.invoke_options()).account_id
        alias, policy = _token_exchange(cfg, account, model.local_server_artifacts, where)
        # Devices act on a deployment at once; without the policy their download would fail.
        deployment_deps = [policy]
        outputs["roleAliasArn"] = alias.arn
        outputs["roleAlias"] = alias.alias
        outputs.update(_devices(cfg, registry, alias, account, where))
    deployments: dict[str, pulumi.Output[str]] = {}
    for target, arn in registry.group_arns.items():
        deployment = GreengrassDeployment(
            f"deployment-{target}",
            target_arn=arn,
            # `versions` is known at preview: a deployment changes only when its version does.
            components=model.versions.apply(
                partial(
                    deployment_components,
                    target=target,
                    log_manager=cfg.log_manager_version,
                    greengrass_cli=cfg.greengrass_cli_version,
                )
            ),
            deployment_name=f"dda-{target}",
            tags=dict(cfg.tags),
            region=cfg.region,
            role_arn=cfg.role_arn,
            take_over=cfg.take_over,
            rollout=cfg.rollout.policy,
            stages=_stages(cfg, registry, target),
            keep_revisions=cfg.rollout.keep_revisions,
            opts=pulumi.ResourceOptions(depends_on=deployment_deps),
        )
        # The resource's id is the target ARN; deployment_id is the current revision's id.
        deployments[target] = deployment.deployment_id

    outputs.update(
        artifactBucket=bucket_name,
        thingGroupArns=registry.group_arns,
        components=model.components,
        deployments=deployments,
    )
    return outputs


def main() -> None:
    for name, value in define_stack(read_config()).items():
        pulumi.export(name, value)
