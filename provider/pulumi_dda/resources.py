"""The Pulumi resources of pulumi-dda for Python programs, served by the ``dda`` provider plugin.

Generated from :mod:`pulumi_dda.properties` by ``python -m
pulumi_dda.plugin --python``; do not edit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload

import pulumi

from ._register import input_name, output_name, register
from .properties import DEPLOYMENT, MODEL

__all__ = [
    "DdaModelComponent",
    "DdaModelComponentArgs",
    "GreengrassDeployment",
    "GreengrassDeploymentArgs",
]


@dataclass
class DdaModelComponentArgs:
    """The inputs of :class:`DdaModelComponent` (see its keyword arguments)."""

    component_name: pulumi.Input[str]
    """Greengrass component name: starts with `model-`, at most 128 characters of
    `[A-Za-z0-9._-]`. Each target's component is `<componentName>-<target>` (`_` becomes `-`)."""
    trained_model_uri: pulumi.Input[str]
    """The SageMaker training output archive (`model.tar.gz`): an `s3://bucket/key` URI
    (`?versionId=<id>` pins one object version), a local path, or a SageMaker name resolved at
    check: `sagemaker://training-job/<name>`, `sagemaker://model-package/<group>/<version>` or
    `sagemaker://model-package/<group>:latest-approved` (an ARN instead of the name for another
    account). The DDA manifest is built from it."""
    compiled_models: pulumi.Input[Mapping[str, pulumi.Input[str]]]
    """Compilation target (`jetson-xavier`, `arm64-cpu`, `x86_64-cpu`, `x86_64-cuda`) to its
    Neo-compiled model archive: an `s3://` URI, a local path,
    `sagemaker://compilation-job/<name>` (a `COMPLETED` Neo job for that target) or a
    `sagemaker://model-package/...` name."""
    artifact_bucket: pulumi.Input[str]
    """S3 bucket the model packages are uploaded to; the devices' token-exchange role must be
    able to read them."""
    component_version: pulumi.Input[str] | None = None
    """Version of every target's component, `N.0.0` with N >= 1; a content change needs a bump.
    Omitted or empty: each target gets its own version, the next free major version when its
    content changes."""
    artifact_prefix: pulumi.Input[str] | None = None
    """Key prefix for the packages in `artifactBucket`: empty or ending in `/`."""
    friendly_name: pulumi.Input[str] | None = None
    """Display name of the model; each target's is `<friendlyName> (<target>)`. Empty:
    `componentName`."""
    target_suffix: pulumi.Input[bool] | None = None
    """False: notebook naming, exactly one target, and the component named `componentName` as
    given."""
    tags: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None
    """Tags of every component version (keys starting with `aws:` or `pulumi-dda:` are
    reserved). Changing them updates in place."""
    role_arn: pulumi.Input[str] | None = None
    """IAM role to assume for every AWS call of this resource (a use-case account). Empty: the
    provider's own credentials. Changing it replaces the resource."""
    region: pulumi.Input[str] | None = None
    """AWS region. Empty: the provider's `dda:region` config, else the standard AWS environment.
    Changing it replaces the resource."""
    relax_device_checks: pulumi.Input[bool] | None = None
    """Accept a DDA manifest that misses what the device needs (stage threshold, image size,
    input shape); for experiments only."""
    wait_timeout_seconds: pulumi.Input[float] | None = None
    """How long to wait for each version to become `DEPLOYABLE`. 0 or omitted: 900 seconds."""
    archive_limits: pulumi.Input[Mapping[str, pulumi.Input[int]]] | None = None
    """Caps on every archive read: `max_total_bytes` (uncompressed, extension headers included,
    default 8 GiB), `max_members` (default 10000) and `max_compression_ratio` (decompressed per
    compressed byte past 64 MiB, default 100)."""


class DdaModelComponent(pulumi.CustomResource):
    """A DDA (Defect Detection Application) model component: the DDA manifest and a reproducible
    model package in S3, and one Greengrass v2 component version per compilation target, waited
    on until `DEPLOYABLE`. Check validates everything (names, version, targets, the trained
    model's DDA manifest) at preview and resolves each target's version, so `versions` is known
    in a preview. A changed version replaces the resource (new versions first); tags and
    anything that leaves every version as it is update in place. Destroy deletes a version only
    when no other stack holds it and no latest deployment uses it."""

    component_name: pulumi.Output[str]
    """Greengrass component name: starts with `model-`, at most 128 characters of
    `[A-Za-z0-9._-]`. Each target's component is `<componentName>-<target>` (`_` becomes `-`)."""
    component_version: pulumi.Output[str]
    """Version of every target's component, `N.0.0` with N >= 1; a content change needs a bump.
    Omitted or empty: each target gets its own version, the next free major version when its
    content changes."""
    trained_model_uri: pulumi.Output[str]
    """The SageMaker training output archive (`model.tar.gz`): an `s3://bucket/key` URI
    (`?versionId=<id>` pins one object version), a local path, or a SageMaker name resolved at
    check: `sagemaker://training-job/<name>`, `sagemaker://model-package/<group>/<version>` or
    `sagemaker://model-package/<group>:latest-approved` (an ARN instead of the name for another
    account). The DDA manifest is built from it."""
    compiled_models: pulumi.Output[Mapping[str, str]]
    """Compilation target (`jetson-xavier`, `arm64-cpu`, `x86_64-cpu`, `x86_64-cuda`) to its
    Neo-compiled model archive: an `s3://` URI, a local path,
    `sagemaker://compilation-job/<name>` (a `COMPLETED` Neo job for that target) or a
    `sagemaker://model-package/...` name."""
    artifact_bucket: pulumi.Output[str]
    """S3 bucket the model packages are uploaded to; the devices' token-exchange role must be
    able to read them."""
    artifact_prefix: pulumi.Output[str]
    """Key prefix for the packages in `artifactBucket`: empty or ending in `/`."""
    friendly_name: pulumi.Output[str]
    """Display name of the model; each target's is `<friendlyName> (<target>)`. Empty:
    `componentName`."""
    target_suffix: pulumi.Output[bool]
    """False: notebook naming, exactly one target, and the component named `componentName` as
    given."""
    tags: pulumi.Output[Mapping[str, str]]
    """Tags of every component version (keys starting with `aws:` or `pulumi-dda:` are
    reserved). Changing them updates in place."""
    role_arn: pulumi.Output[str]
    """IAM role to assume for every AWS call of this resource (a use-case account). Empty: the
    provider's own credentials. Changing it replaces the resource."""
    region: pulumi.Output[str]
    """AWS region. Empty: the provider's `dda:region` config, else the standard AWS environment.
    Changing it replaces the resource."""
    relax_device_checks: pulumi.Output[bool]
    """Accept a DDA manifest that misses what the device needs (stage threshold, image size,
    input shape); for experiments only."""
    wait_timeout_seconds: pulumi.Output[float]
    """How long to wait for each version to become `DEPLOYABLE`. 0 or omitted: 900 seconds."""
    archive_limits: pulumi.Output[Mapping[str, int]]
    """Caps on every archive read: `max_total_bytes` (uncompressed, extension headers included,
    default 8 GiB), `max_members` (default 10000) and `max_compression_ratio` (decompressed per
    compressed byte past 64 MiB, default 100)."""
    versions: pulumi.Output[Mapping[str, Any]]
    """Target to its component name and version. Resolved at check, so known in a preview: wire
    deployments from it."""
    components: pulumi.Output[Mapping[str, Any]]
    """Target to the published component version (known after the resource is created or
    updated)."""
    plan: pulumi.Output[Mapping[str, str]]
    """Target to what this update does to it, e.g. `new compiled model (etag:04f3ebe72528) →
    2.0.0`, or `unchanged` when its version stays; resolved at check, so a preview shows it."""
    resolved_sources: pulumi.Output[Mapping[str, str]]
    """`trained` (the trained model) or a target to what its `sagemaker://` source resolved to
    at check, e.g. `model package defects/3 → s3://ml-models/train/model.tar.gz` (known in a
    preview); a new resolution, such as a newly approved package version, is a change. Sources
    given as `s3://` URIs or paths are not listed."""
    model_name: pulumi.Output[str]
    """The model's type, `model_graph.stages[0].type` of the manifest."""
    local_server_artifacts: pulumi.Output[Mapping[str, Sequence[str]]]
    """Target to the sorted `s3://` artifact URIs of the newest published `^1.0.0` version of
    the DDA LocalServer its recipe depends on; resolved at check (known in a preview) for each
    target whose version changes. Grant the device role `s3:GetObject` on exactly these."""

    @overload
    def __init__(
        self,
        resource_name: str,
        args: DdaModelComponentArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None: ...

    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        component_name: pulumi.Input[str],
        trained_model_uri: pulumi.Input[str],
        compiled_models: pulumi.Input[Mapping[str, pulumi.Input[str]]],
        artifact_bucket: pulumi.Input[str],
        component_version: pulumi.Input[str] | None = None,
        artifact_prefix: pulumi.Input[str] | None = None,
        friendly_name: pulumi.Input[str] | None = None,
        target_suffix: pulumi.Input[bool] | None = None,
        tags: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
        role_arn: pulumi.Input[str] | None = None,
        region: pulumi.Input[str] | None = None,
        relax_device_checks: pulumi.Input[bool] | None = None,
        wait_timeout_seconds: pulumi.Input[float] | None = None,
        archive_limits: pulumi.Input[Mapping[str, pulumi.Input[int]]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None: ...

    def __init__(
        self,
        resource_name: str,
        args: DdaModelComponentArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **inputs: Any,
    ) -> None:
        values = vars(args) if args is not None else inputs
        register(self, MODEL, resource_name, dict(values), opts)

    def translate_input_property(self, prop: str) -> str:
        return input_name(prop)

    def translate_output_property(self, prop: str) -> str:
        return output_name(prop)


@dataclass
class GreengrassDeploymentArgs:
    """The inputs of :class:`GreengrassDeployment` (see its keyword arguments)."""

    target_arn: pulumi.Input[str]
    """ARN of the IoT thing or thing group to deploy to."""
    components: pulumi.Input[Mapping[str, Any]]
    """Component name to what to run. Wire model components from `ModelComponent.versions`."""
    deployment_name: pulumi.Input[str] | None = None
    """Name of the deployment."""
    deployment_policies: pulumi.Input[Mapping[str, Any]] | None = None
    """Deployment policies in the Greengrass API's shape (`failureHandlingPolicy`,
    `componentUpdatePolicy`, `configurationValidationPolicy`)."""
    iot_job_configuration: pulumi.Input[Mapping[str, Any]] | None = None
    """IoT job configuration in the Greengrass API's shape (`jobExecutionsRolloutConfig`,
    `abortConfig`, `timeoutConfig`)."""
    tags: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None
    """Tags of the deployment (keys starting with `aws:` or `pulumi-dda:` are reserved)."""
    region: pulumi.Input[str] | None = None
    """AWS region; must be the target's. Empty: the target ARN's region."""
    role_arn: pulumi.Input[str] | None = None
    """IAM role to assume for every AWS call of this resource (a use-case account). Empty: the
    provider's own credentials. Changing it replaces the resource."""
    rollout: Any | None = None
    """Wait for the devices after each new revision and judge it (see `RolloutPolicy`); a
    preview never waits. Omitted: `up` ends when the service accepts the deployment."""
    stages: pulumi.Input[Sequence[Any]] | None = None
    """Targets that get each new revision first, in order, each gated by its own rollout policy:
    `up` starts a stage (and finally `targetArn`) only after the previous gate passed; a preview
    names each stage, its target and what it moves to."""
    keep_revisions: pulumi.Input[int] | None = None
    """How many of the target's newest revisions keep their component versions for a rollback
    (`pulumi-dda rollback`): no stack deletes a version one of them uses. Recorded on the
    revision (tag `pulumi-dda:keep-revisions`). Default 3, at least 1."""
    take_over: pulumi.Input[bool] | None = None
    """Allow superseding the target's current deployment when another owner made it (another
    stack or resource, or not pulumi-dda: no `pulumi-dda:owner` tag). Without it, check fails
    naming that deployment, and a stack whose deployment another owner superseded fails its
    preview instead of deploying again. Changing only this input changes nothing."""


class GreengrassDeployment(pulumi.CustomResource):
    """The Greengrass v2 deployment of one IoT thing or thing group. Its id is the target ARN; a
    change is a new revision for the same target (a tags-only change just re-tags), and a
    changed `targetArn`, `region` or `roleArn` replaces it. Destroy cancels the current revision
    if it is still rolling out and deletes it: devices that applied it keep running its
    components. Use one resource per target. Check fails when the target does not exist, or when
    its current deployment belongs to another owner (tag `pulumi-dda:owner`) unless `takeOver`
    is set."""

    target_arn: pulumi.Output[str]
    """ARN of the IoT thing or thing group to deploy to."""
    components: pulumi.Output[Mapping[str, Any]]
    """Component name to what to run. Wire model components from `ModelComponent.versions`."""
    deployment_name: pulumi.Output[str]
    """Name of the deployment."""
    deployment_policies: pulumi.Output[Mapping[str, Any]]
    """Deployment policies in the Greengrass API's shape (`failureHandlingPolicy`,
    `componentUpdatePolicy`, `configurationValidationPolicy`)."""
    iot_job_configuration: pulumi.Output[Mapping[str, Any]]
    """IoT job configuration in the Greengrass API's shape (`jobExecutionsRolloutConfig`,
    `abortConfig`, `timeoutConfig`)."""
    tags: pulumi.Output[Mapping[str, str]]
    """Tags of the deployment (keys starting with `aws:` or `pulumi-dda:` are reserved)."""
    region: pulumi.Output[str]
    """AWS region; must be the target's. Empty: the target ARN's region."""
    role_arn: pulumi.Output[str]
    """IAM role to assume for every AWS call of this resource (a use-case account). Empty: the
    provider's own credentials. Changing it replaces the resource."""
    rollout: pulumi.Output[Any]
    """Wait for the devices after each new revision and judge it (see `RolloutPolicy`); a
    preview never waits. Omitted: `up` ends when the service accepts the deployment."""
    stages: pulumi.Output[Sequence[Any]]
    """Targets that get each new revision first, in order, each gated by its own rollout policy:
    `up` starts a stage (and finally `targetArn`) only after the previous gate passed; a preview
    names each stage, its target and what it moves to."""
    keep_revisions: pulumi.Output[int]
    """How many of the target's newest revisions keep their component versions for a rollback
    (`pulumi-dda rollback`): no stack deletes a version one of them uses. Recorded on the
    revision (tag `pulumi-dda:keep-revisions`). Default 3, at least 1."""
    take_over: pulumi.Output[bool]
    """Allow superseding the target's current deployment when another owner made it (another
    stack or resource, or not pulumi-dda: no `pulumi-dda:owner` tag). Without it, check fails
    naming that deployment, and a stack whose deployment another owner superseded fails its
    preview instead of deploying again. Changing only this input changes nothing."""
    deployment_id: pulumi.Output[str]
    """Id of the current revision."""
    arn: pulumi.Output[str]
    """ARN of the current revision."""
    iot_job_id: pulumi.Output[str]
    """Id of the IoT job of the current revision."""
    iot_job_arn: pulumi.Output[str]
    """ARN of that IoT job."""
    deployment_status: pulumi.Output[str]
    """Status of the current revision as last read."""
    revision_count: pulumi.Output[int]
    """Revisions this resource has deployed to the target."""
    stage_deployments: pulumi.Output[Mapping[str, str]]
    """Stage target ARN to the id of the revision this resource last deployed there."""
    rollout_result: pulumi.Output[Any]
    """With a `rollout` policy: what the devices reported for the last revision (empty
    otherwise)."""
    takes_over: pulumi.Output[str]
    """Filled in at check, so a preview shows it: `takes over deployment <id> "<name>" of
    <owner>` when the next revision supersedes another owner's deployment (`takeOver: true`);
    empty otherwise."""

    @overload
    def __init__(
        self,
        resource_name: str,
        args: GreengrassDeploymentArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None: ...

    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        target_arn: pulumi.Input[str],
        components: pulumi.Input[Mapping[str, Any]],
        deployment_name: pulumi.Input[str] | None = None,
        deployment_policies: pulumi.Input[Mapping[str, Any]] | None = None,
        iot_job_configuration: pulumi.Input[Mapping[str, Any]] | None = None,
        tags: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
        region: pulumi.Input[str] | None = None,
        role_arn: pulumi.Input[str] | None = None,
        rollout: Any | None = None,
        stages: pulumi.Input[Sequence[Any]] | None = None,
        keep_revisions: pulumi.Input[int] | None = None,
        take_over: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None: ...

    def __init__(
        self,
        resource_name: str,
        args: GreengrassDeploymentArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **inputs: Any,
    ) -> None:
        values = vars(args) if args is not None else inputs
        register(self, DEPLOYMENT, resource_name, dict(values), opts)

    def translate_input_property(self, prop: str) -> str:
        return input_name(prop)

    def translate_output_property(self, prop: str) -> str:
        return output_name(prop)
