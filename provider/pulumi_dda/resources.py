"""The Pulumi resources of pulumi-dda for Python programs, served by the ``dda`` provider plugin.

Generated from :mod:`pulumi_dda.properties` by ``python -m
pulumi_dda.plugin --python``; do not edit.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import (
    TYPE_CHECKING,
    Any,
    NotRequired,
    Required,
    TypedDict,
    cast,
    overload,
)

import pulumi

from ._register import input_name, output_name, register
from .properties import DEPLOYMENT, MODEL

__all__ = [
    "ArchiveLimits",
    "ArchiveLimitsArgs",
    "CompilationTarget",
    "ComponentVersion",
    "ConfigurationUpdate",
    "ConfigurationUpdateArgs",
    "DdaModelComponent",
    "DdaModelComponentArgs",
    "DeploymentComponent",
    "DeploymentComponentArgs",
    "DeploymentComponentUpdatePolicy",
    "DeploymentComponentUpdatePolicyAction",
    "DeploymentComponentUpdatePolicyArgs",
    "DeploymentConfigurationValidationPolicy",
    "DeploymentConfigurationValidationPolicyArgs",
    "DeploymentFailureHandlingPolicy",
    "DeploymentPolicies",
    "DeploymentPoliciesArgs",
    "DeploymentStage",
    "DeploymentStageArgs",
    "GreengrassDeployment",
    "GreengrassDeploymentArgs",
    "IotJobAbortAction",
    "IotJobAbortConfig",
    "IotJobAbortConfigArgs",
    "IotJobAbortCriteria",
    "IotJobAbortCriteriaArgs",
    "IotJobConfiguration",
    "IotJobConfigurationArgs",
    "IotJobExecutionFailureType",
    "IotJobExecutionsRolloutConfig",
    "IotJobExecutionsRolloutConfigArgs",
    "IotJobExponentialRolloutRate",
    "IotJobExponentialRolloutRateArgs",
    "IotJobRateIncreaseCriteria",
    "IotJobRateIncreaseCriteriaArgs",
    "IotJobTimeoutConfig",
    "IotJobTimeoutConfigArgs",
    "PublishedComponent",
    "RolloutFailureAction",
    "RolloutPolicy",
    "RolloutPolicyArgs",
    "RolloutResult",
]


class CompilationTarget(enum.StrEnum):
    """A Neo compilation target DDA runs on: the keys of `compiledModels` (and of the per-target
    outputs)."""

    JETSON_XAVIER = "jetson-xavier"
    """Architecture `aarch64`, dependency `aws.edgeml.dda.LocalServer.arm64`."""
    ARM64_CPU = "arm64-cpu"
    """Architecture `aarch64`, dependency `aws.edgeml.dda.LocalServer.arm64`."""
    X86_64_CPU = "x86_64-cpu"
    """Architecture `amd64`, dependency `aws.edgeml.dda.LocalServer.amd64`."""
    X86_64_CUDA = "x86_64-cuda"
    """Architecture `amd64`, dependency `aws.edgeml.dda.LocalServer.amd64`."""


class RolloutFailureAction(enum.StrEnum):
    """What a revision that does not meet its rollout policy does."""

    FAIL = "fail"
    """The update fails with one line."""
    REVERT = "revert"
    """Deploy the last revision that met its policy again, wait for it, then fail saying so."""


class DeploymentFailureHandlingPolicy(enum.StrEnum):
    """What devices do when the deployment fails."""

    ROLLBACK = "ROLLBACK"
    """Roll the device back to its previous configuration."""
    DO_NOTHING = "DO_NOTHING"
    """Keep the failed configuration."""


class DeploymentComponentUpdatePolicyAction(enum.StrEnum):
    """Whether components are asked before they are updated."""

    NOTIFY_COMPONENTS = "NOTIFY_COMPONENTS"
    """Notify components, which may defer the update."""
    SKIP_NOTIFY_COMPONENTS = "SKIP_NOTIFY_COMPONENTS"
    """Update without notifying."""


class IotJobExecutionFailureType(enum.StrEnum):
    """Which failures an abort criterion counts."""

    FAILED = "FAILED"
    """Executions that failed."""
    REJECTED = "REJECTED"
    """Executions the device rejected."""
    TIMED_OUT = "TIMED_OUT"
    """Executions that timed out."""
    ALL = "ALL"
    """All of these."""


class IotJobAbortAction(enum.StrEnum):
    """What an abort criterion does."""

    CANCEL = "CANCEL"
    """Cancel the job."""


class ConfigurationUpdateArgs(TypedDict, total=False):
    """What a deployment does to a component's configuration on the devices."""

    merge: pulumi.Input[str]
    """JSON text of an object merged into the component's configuration."""
    reset: pulumi.Input[Sequence[pulumi.Input[str]]]
    """JSON pointers of configuration values reset to their defaults (before `merge` is
    applied)."""


class DeploymentComponentArgs(TypedDict, total=False):
    """One component of a deployment."""

    component_version: Required[pulumi.Input[str]]
    """Version of the component to run (semantic version)."""
    configuration_update: pulumi.Input[ConfigurationUpdateArgs]
    """Configuration changes to apply."""


class RolloutPolicyArgs(TypedDict, total=False):
    """When a new revision counts as rolled out, and what to do when it does not. The devices
    that count are the target's core devices when the revision is created; devices that join
    later never block it."""

    success_percent: pulumi.Input[float]
    """At least this percentage of them (rounded up) must report `SUCCEEDED` for the revision.
    Default: 100."""
    timeout_seconds: pulumi.Input[float]
    """How long `up` waits for that, in seconds. Default: 600."""
    on_failure: pulumi.Input[str | RolloutFailureAction]
    """What a revision that does not meet the policy does (see `RolloutFailureAction`). Default:
    `fail`."""
    ignore_unhealthy: pulumi.Input[bool]
    """Leave out devices that are `UNHEALTHY` when the revision is created. Default: `true`."""
    bake_seconds: pulumi.Input[float]
    """Once the policy is met, keep watching the devices this long: a counted device that
    reports a failure or turns `UNHEALTHY` meanwhile counts as failed, and the revision fails if
    the policy is no longer met. Default: 0."""


class DeploymentStageArgs(TypedDict, total=False):
    """A stage of a staged rollout: a target that gets each new revision before the resource's
    own target, gated by its rollout policy. A failed gate reverts the stage to the previous
    revision and leaves the later stages and the resource's target untouched."""

    target_arn: Required[pulumi.Input[str]]
    """ARN of the stage's IoT thing or thing group (not the resource's `targetArn`)."""
    rollout: pulumi.Input[RolloutPolicyArgs]
    """The gate: when the stage's revision counts as rolled out. A failed gate always reverts
    the stage: `onFailure` may only be `revert`. Default: every counted device must succeed
    within 600 seconds."""
    subdeployment: pulumi.Input[bool]
    """Deploy the stage as a subdeployment of the resource's current deployment
    (`parentTargetArn`; the stage's thing group must be a child of `targetArn`'s, and its
    devices run Greengrass nucleus 2.9.0 or later). The first revision, which has no parent
    deployment yet, skips such a stage. Default: `false`."""


class ArchiveLimitsArgs(TypedDict, total=False):
    """Caps on every archive a model component reads (the trained model at preview, the compiled
    models at `up`); an archive over a cap is refused in one line naming it."""

    max_total_bytes: pulumi.Input[int]
    """Uncompressed bytes, tar extension headers included. Default: 8589934592 (8 GiB)."""
    max_members: pulumi.Input[int]
    """Members of one archive. Default: 10000."""
    max_compression_ratio: pulumi.Input[int]
    """Decompressed bytes per compressed byte read, past the first 64 MiB. Default: 100."""


class DeploymentComponentUpdatePolicyArgs(TypedDict, total=False):
    """How components on the devices are told about an update."""

    timeout_in_seconds: pulumi.Input[int]
    """Seconds each component has to get ready. Default: 60."""
    action: pulumi.Input[str | DeploymentComponentUpdatePolicyAction]
    """Notify components or not. Default: `NOTIFY_COMPONENTS`."""


class DeploymentConfigurationValidationPolicyArgs(TypedDict, total=False):
    """How long components have to validate a configuration update."""

    timeout_in_seconds: pulumi.Input[int]
    """Seconds to validate. Default: 30."""


class DeploymentPoliciesArgs(TypedDict, total=False):
    """Deployment policies, as in the Greengrass API's `CreateDeployment`
    (`deploymentPolicies`)."""

    failure_handling_policy: pulumi.Input[str | DeploymentFailureHandlingPolicy]
    """What devices do when the deployment fails. Default: `ROLLBACK`."""
    component_update_policy: pulumi.Input[DeploymentComponentUpdatePolicyArgs]
    """How components are told about an update."""
    configuration_validation_policy: pulumi.Input[DeploymentConfigurationValidationPolicyArgs]
    """How long components have to validate a configuration update."""


class IotJobRateIncreaseCriteriaArgs(TypedDict, total=False):
    """When the rollout rate increases (one of the two)."""

    number_of_notified_things: pulumi.Input[int]
    """After this many devices were notified."""
    number_of_succeeded_things: pulumi.Input[int]
    """After this many devices succeeded."""


class IotJobExponentialRolloutRateArgs(TypedDict, total=False):
    """An exponentially increasing rollout rate."""

    base_rate_per_minute: Required[pulumi.Input[int]]
    """Devices notified per minute at first (1-1000)."""
    increment_factor: Required[pulumi.Input[float]]
    """Factor the rate grows by (1-5)."""
    rate_increase_criteria: Required[pulumi.Input[IotJobRateIncreaseCriteriaArgs]]
    """When the rate grows."""


class IotJobExecutionsRolloutConfigArgs(TypedDict, total=False):
    """How fast the deployment's IoT job notifies devices."""

    exponential_rate: pulumi.Input[IotJobExponentialRolloutRateArgs]
    """An increasing rate."""
    maximum_per_minute: pulumi.Input[int]
    """At most this many devices per minute (1-1000)."""


class IotJobAbortCriteriaArgs(TypedDict, total=False):
    """When the deployment's IoT job is cancelled."""

    failure_type: Required[pulumi.Input[str | IotJobExecutionFailureType]]
    """Failures counted."""
    action: Required[pulumi.Input[str | IotJobAbortAction]]
    """What to do."""
    threshold_percentage: Required[pulumi.Input[float]]
    """Percentage of failed executions (up to 100)."""
    min_number_of_executed_things: Required[pulumi.Input[int]]
    """Executions needed before the criterion applies."""


class IotJobAbortConfigArgs(TypedDict, total=False):
    """When the deployment's IoT job stops notifying devices."""

    criteria_list: Required[pulumi.Input[Sequence[pulumi.Input[IotJobAbortCriteriaArgs]]]]
    """The criteria (at least one)."""


class IotJobTimeoutConfigArgs(TypedDict, total=False):
    """How long each device has for the deployment."""

    in_progress_timeout_in_minutes: pulumi.Input[int]
    """Minutes a device may stay `IN_PROGRESS`."""


class IotJobConfigurationArgs(TypedDict, total=False):
    """The IoT job that delivers the deployment, as in the Greengrass API's `CreateDeployment`
    (`iotJobConfiguration`)."""

    job_executions_rollout_config: pulumi.Input[IotJobExecutionsRolloutConfigArgs]
    """How fast devices are notified."""
    abort_config: pulumi.Input[IotJobAbortConfigArgs]
    """When the job is cancelled."""
    timeout_config: pulumi.Input[IotJobTimeoutConfigArgs]
    """How long each device has."""


if TYPE_CHECKING:

    class ComponentVersion(TypedDict):
        """A Greengrass component name and version."""

        component_name: str
        """The target's component name: `<componentName>-<target>`, or `componentName` itself
        with `targetSuffix: false`."""
        component_version: str
        """Its version (`N.0.0`)."""

    class PublishedComponent(TypedDict):
        """A component version as published for one compilation target."""

        component_name: str
        """The target's component name: `<componentName>-<target>`, or `componentName` itself
        with `targetSuffix: false`."""
        component_version: str
        """Its version (`N.0.0`)."""
        arn: str
        """ARN of the component version."""
        platform: str
        """Device architecture the recipe selects (`aarch64` or `amd64`)."""
        local_server_component: str
        """DDA LocalServer component the recipe depends on (`aws.edgeml.dda.LocalServer.arm64`
        or `.amd64`)."""
        artifact_uri: str
        """S3 URI of the model package the recipe downloads."""
        package_id: str
        """Content id of the package (the artifact's file name)."""
        digest: str
        """Digest of the artifact as stored in the recipe."""
        adopted: bool
        """True when an identical version made by another stack or resource was taken over
        instead of created."""

    class ConfigurationUpdate(TypedDict):
        """What a deployment does to a component's configuration on the devices."""

        merge: NotRequired[str]
        """JSON text of an object merged into the component's configuration."""
        reset: NotRequired[Sequence[str]]
        """JSON pointers of configuration values reset to their defaults (before `merge` is
        applied)."""

    class DeploymentComponent(TypedDict):
        """One component of a deployment."""

        component_version: str
        """Version of the component to run (semantic version)."""
        configuration_update: NotRequired[ConfigurationUpdate]
        """Configuration changes to apply."""

    class RolloutPolicy(TypedDict):
        """When a new revision counts as rolled out, and what to do when it does not. The
        devices that count are the target's core devices when the revision is created; devices
        that join later never block it."""

        success_percent: NotRequired[float]
        """At least this percentage of them (rounded up) must report `SUCCEEDED` for the
        revision. Default: 100."""
        timeout_seconds: NotRequired[float]
        """How long `up` waits for that, in seconds. Default: 600."""
        on_failure: NotRequired[RolloutFailureAction]
        """What a revision that does not meet the policy does (see `RolloutFailureAction`).
        Default: `fail`."""
        ignore_unhealthy: NotRequired[bool]
        """Leave out devices that are `UNHEALTHY` when the revision is created. Default: `true`."""
        bake_seconds: NotRequired[float]
        """Once the policy is met, keep watching the devices this long: a counted device that
        reports a failure or turns `UNHEALTHY` meanwhile counts as failed, and the revision
        fails if the policy is no longer met. Default: 0."""

    class DeploymentStage(TypedDict):
        """A stage of a staged rollout: a target that gets each new revision before the
        resource's own target, gated by its rollout policy. A failed gate reverts the stage to
        the previous revision and leaves the later stages and the resource's target untouched."""

        target_arn: str
        """ARN of the stage's IoT thing or thing group (not the resource's `targetArn`)."""
        rollout: NotRequired[RolloutPolicy]
        """The gate: when the stage's revision counts as rolled out. A failed gate always
        reverts the stage: `onFailure` may only be `revert`. Default: every counted device must
        succeed within 600 seconds."""
        subdeployment: NotRequired[bool]
        """Deploy the stage as a subdeployment of the resource's current deployment
        (`parentTargetArn`; the stage's thing group must be a child of `targetArn`'s, and its
        devices run Greengrass nucleus 2.9.0 or later). The first revision, which has no parent
        deployment yet, skips such a stage. Default: `false`."""

    class RolloutResult(TypedDict):
        """What the counted devices reported for the last revision this resource deployed."""

        deployment_id: str
        """The revision."""
        devices: int
        """Devices counted."""
        succeeded: int
        """Devices that reported `SUCCEEDED`."""
        failed: int
        """Devices that reported a failure."""
        pending: int
        """Devices that had not reported yet."""
        outcome: str
        """`met` (the update failed otherwise)."""
        drifted: NotRequired[Mapping[str, str]]
        """As last refreshed: each device that took the revision but now runs other versions of
        its components (moved outside the stack), e.g. `core-3: model-x 1.0.0`."""

    class ArchiveLimits(TypedDict):
        """Caps on every archive a model component reads (the trained model at preview, the
        compiled models at `up`); an archive over a cap is refused in one line naming it."""

        max_total_bytes: NotRequired[int]
        """Uncompressed bytes, tar extension headers included. Default: 8589934592 (8 GiB)."""
        max_members: NotRequired[int]
        """Members of one archive. Default: 10000."""
        max_compression_ratio: NotRequired[int]
        """Decompressed bytes per compressed byte read, past the first 64 MiB. Default: 100."""

    class DeploymentComponentUpdatePolicy(TypedDict):
        """How components on the devices are told about an update."""

        timeout_in_seconds: NotRequired[int]
        """Seconds each component has to get ready. Default: 60."""
        action: NotRequired[DeploymentComponentUpdatePolicyAction]
        """Notify components or not. Default: `NOTIFY_COMPONENTS`."""

    class DeploymentConfigurationValidationPolicy(TypedDict):
        """How long components have to validate a configuration update."""

        timeout_in_seconds: NotRequired[int]
        """Seconds to validate. Default: 30."""

    class DeploymentPolicies(TypedDict):
        """Deployment policies, as in the Greengrass API's `CreateDeployment`
        (`deploymentPolicies`)."""

        failure_handling_policy: NotRequired[DeploymentFailureHandlingPolicy]
        """What devices do when the deployment fails. Default: `ROLLBACK`."""
        component_update_policy: NotRequired[DeploymentComponentUpdatePolicy]
        """How components are told about an update."""
        configuration_validation_policy: NotRequired[DeploymentConfigurationValidationPolicy]
        """How long components have to validate a configuration update."""

    class IotJobRateIncreaseCriteria(TypedDict):
        """When the rollout rate increases (one of the two)."""

        number_of_notified_things: NotRequired[int]
        """After this many devices were notified."""
        number_of_succeeded_things: NotRequired[int]
        """After this many devices succeeded."""

    class IotJobExponentialRolloutRate(TypedDict):
        """An exponentially increasing rollout rate."""

        base_rate_per_minute: int
        """Devices notified per minute at first (1-1000)."""
        increment_factor: float
        """Factor the rate grows by (1-5)."""
        rate_increase_criteria: IotJobRateIncreaseCriteria
        """When the rate grows."""

    class IotJobExecutionsRolloutConfig(TypedDict):
        """How fast the deployment's IoT job notifies devices."""

        exponential_rate: NotRequired[IotJobExponentialRolloutRate]
        """An increasing rate."""
        maximum_per_minute: NotRequired[int]
        """At most this many devices per minute (1-1000)."""

    class IotJobAbortCriteria(TypedDict):
        """When the deployment's IoT job is cancelled."""

        failure_type: IotJobExecutionFailureType
        """Failures counted."""
        action: IotJobAbortAction
        """What to do."""
        threshold_percentage: float
        """Percentage of failed executions (up to 100)."""
        min_number_of_executed_things: int
        """Executions needed before the criterion applies."""

    class IotJobAbortConfig(TypedDict):
        """When the deployment's IoT job stops notifying devices."""

        criteria_list: Sequence[IotJobAbortCriteria]
        """The criteria (at least one)."""

    class IotJobTimeoutConfig(TypedDict):
        """How long each device has for the deployment."""

        in_progress_timeout_in_minutes: NotRequired[int]
        """Minutes a device may stay `IN_PROGRESS`."""

    class IotJobConfiguration(TypedDict):
        """The IoT job that delivers the deployment, as in the Greengrass API's
        `CreateDeployment` (`iotJobConfiguration`)."""

        job_executions_rollout_config: NotRequired[IotJobExecutionsRolloutConfig]
        """How fast devices are notified."""
        abort_config: NotRequired[IotJobAbortConfig]
        """When the job is cancelled."""
        timeout_config: NotRequired[IotJobTimeoutConfig]
        """How long each device has."""

else:
    ComponentVersion = dict
    PublishedComponent = dict
    ConfigurationUpdate = dict
    DeploymentComponent = dict
    RolloutPolicy = dict
    DeploymentStage = dict
    RolloutResult = dict
    ArchiveLimits = dict
    DeploymentComponentUpdatePolicy = dict
    DeploymentConfigurationValidationPolicy = dict
    DeploymentPolicies = dict
    IotJobRateIncreaseCriteria = dict
    IotJobExponentialRolloutRate = dict
    IotJobExecutionsRolloutConfig = dict
    IotJobAbortCriteria = dict
    IotJobAbortConfig = dict
    IotJobTimeoutConfig = dict
    IotJobConfiguration = dict


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
    """Compilation target (`jetson-xavier`, `arm64-cpu`, `x86_64-cpu`, `x86_64-cuda`:
    `CompilationTarget`) to its Neo-compiled model archive: an `s3://` URI, a local path,
    `sagemaker://compilation-job/<name>` (a `COMPLETED` Neo job for that target) or a
    `sagemaker://model-package/...` name."""
    artifact_bucket: pulumi.Input[str]
    """S3 bucket the model packages are uploaded to; the devices' token-exchange role must be
    able to read them."""
    component_version: pulumi.Input[str] | None = None
    """Version of every target's component, `N.0.0` with N >= 1; a content change needs a bump.
    Omitted or empty: each target gets its own version, the next free major version when its
    content changes. Default: each target its own version."""
    artifact_prefix: pulumi.Input[str] | None = None
    """Key prefix for the packages in `artifactBucket`: empty or ending in `/`. Default: none
    (the bucket's root)."""
    friendly_name: pulumi.Input[str] | None = None
    """Display name of the model; each target's is `<friendlyName> (<target>)`. Default:
    `componentName`."""
    target_suffix: pulumi.Input[bool] | None = None
    """False: notebook naming, exactly one target, and the component named `componentName` as
    given. Default: `true`."""
    tags: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None
    """Tags of every component version (keys starting with `aws:` or `pulumi-dda:` are
    reserved). Changing them updates in place. Default: `{}`."""
    role_arn: pulumi.Input[str] | None = None
    """IAM role to assume for every AWS call of this resource (a use-case account). Changing it
    replaces the resource. Default: none: the provider's own credentials."""
    region: pulumi.Input[str] | None = None
    """AWS region. Changing it replaces the resource. Default: the provider's `dda:region`
    config, else the standard AWS environment."""
    relax_device_checks: pulumi.Input[bool] | None = None
    """Accept a DDA manifest that misses what the device needs (stage threshold, image size,
    input shape); for experiments only. Default: `false`."""
    wait_timeout_seconds: pulumi.Input[float] | None = None
    """How long to wait for each version to become `DEPLOYABLE`, in seconds. Default: 900."""
    archive_limits: pulumi.Input[ArchiveLimitsArgs] | None = None
    """Caps on every archive read (see `ArchiveLimits`). Default: each cap's own default."""


class DdaModelComponent(pulumi.CustomResource):
    """A DDA (Defect Detection Application) model component: the DDA manifest and a reproducible
    model package in S3, and one Greengrass v2 component version per compilation target, waited
    on until `DEPLOYABLE`. Check validates everything (names, version, targets, the trained
    model's DDA manifest) at preview and resolves each target's version, so `versions` is known
    in a preview. A changed version replaces the resource (new versions first); tags and
    anything that leaves every version as it is update in place. Destroy deletes a version only
    when no other stack holds it and no latest deployment uses it."""

    @overload
    def __init__(
        self,
        resource_name: str,
        args: DdaModelComponentArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        Declare a DdaModelComponent from one :class:`DdaModelComponentArgs` value.

        :param resource_name: The name of the resource.
        :param args: The inputs.
        :param opts: Options of the resource.
        """

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
        archive_limits: pulumi.Input[ArchiveLimitsArgs] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        Declare a DdaModelComponent from keyword arguments.

        :param resource_name: The name of the resource.
        :param opts: Options of the resource.
        :param component_name: Greengrass component name: starts with `model-`, at most 128
            characters of `[A-Za-z0-9._-]`. Each target's component is
            `<componentName>-<target>` (`_` becomes `-`).
        :param trained_model_uri: The SageMaker training output archive (`model.tar.gz`): an
            `s3://bucket/key` URI (`?versionId=<id>` pins one object version), a local path, or
            a SageMaker name resolved at check: `sagemaker://training-job/<name>`,
            `sagemaker://model-package/<group>/<version>` or
            `sagemaker://model-package/<group>:latest-approved` (an ARN instead of the name for
            another account). The DDA manifest is built from it.
        :param compiled_models: Compilation target (`jetson-xavier`, `arm64-cpu`, `x86_64-cpu`,
            `x86_64-cuda`: `CompilationTarget`) to its Neo-compiled model archive: an `s3://`
            URI, a local path, `sagemaker://compilation-job/<name>` (a `COMPLETED` Neo job for
            that target) or a `sagemaker://model-package/...` name.
        :param artifact_bucket: S3 bucket the model packages are uploaded to; the devices'
            token-exchange role must be able to read them.
        :param component_version: Version of every target's component, `N.0.0` with N >= 1; a
            content change needs a bump. Omitted or empty: each target gets its own version, the
            next free major version when its content changes. Default: each target its own
            version.
        :param artifact_prefix: Key prefix for the packages in `artifactBucket`: empty or ending
            in `/`. Default: none (the bucket's root).
        :param friendly_name: Display name of the model; each target's is `<friendlyName>
            (<target>)`. Default: `componentName`.
        :param target_suffix: False: notebook naming, exactly one target, and the component
            named `componentName` as given. Default: `true`.
        :param tags: Tags of every component version (keys starting with `aws:` or `pulumi-dda:`
            are reserved). Changing them updates in place. Default: `{}`.
        :param role_arn: IAM role to assume for every AWS call of this resource (a use-case
            account). Changing it replaces the resource. Default: none: the provider's own
            credentials.
        :param region: AWS region. Changing it replaces the resource. Default: the provider's
            `dda:region` config, else the standard AWS environment.
        :param relax_device_checks: Accept a DDA manifest that misses what the device needs
            (stage threshold, image size, input shape); for experiments only. Default: `false`.
        :param wait_timeout_seconds: How long to wait for each version to become `DEPLOYABLE`,
            in seconds. Default: 900.
        :param archive_limits: Caps on every archive read (see `ArchiveLimits`). Default: each
            cap's own default.
        """

    def __init__(
        self,
        resource_name: str,
        args: DdaModelComponentArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **inputs: Any,
    ) -> None:
        values = vars(args) if args is not None else inputs
        register(self, MODEL, resource_name, dict(values), opts)

    @property
    @pulumi.getter(name="componentName")
    def component_name(self) -> pulumi.Output[str]:
        """Greengrass component name: starts with `model-`, at most 128 characters of
        `[A-Za-z0-9._-]`. Each target's component is `<componentName>-<target>` (`_` becomes
        `-`)."""
        return cast("pulumi.Output[str]", pulumi.get(self, "component_name"))

    @property
    @pulumi.getter(name="componentVersion")
    def component_version(self) -> pulumi.Output[str]:
        """Version of every target's component, `N.0.0` with N >= 1; a content change needs a
        bump. Omitted or empty: each target gets its own version, the next free major version
        when its content changes. Default: each target its own version."""
        return cast("pulumi.Output[str]", pulumi.get(self, "component_version"))

    @property
    @pulumi.getter(name="trainedModelUri")
    def trained_model_uri(self) -> pulumi.Output[str]:
        """The SageMaker training output archive (`model.tar.gz`): an `s3://bucket/key` URI
        (`?versionId=<id>` pins one object version), a local path, or a SageMaker name resolved
        at check: `sagemaker://training-job/<name>`,
        `sagemaker://model-package/<group>/<version>` or
        `sagemaker://model-package/<group>:latest-approved` (an ARN instead of the name for
        another account). The DDA manifest is built from it."""
        return cast("pulumi.Output[str]", pulumi.get(self, "trained_model_uri"))

    @property
    @pulumi.getter(name="compiledModels")
    def compiled_models(self) -> pulumi.Output[Mapping[str, str]]:
        """Compilation target (`jetson-xavier`, `arm64-cpu`, `x86_64-cpu`, `x86_64-cuda`:
        `CompilationTarget`) to its Neo-compiled model archive: an `s3://` URI, a local path,
        `sagemaker://compilation-job/<name>` (a `COMPLETED` Neo job for that target) or a
        `sagemaker://model-package/...` name."""
        return cast("pulumi.Output[Mapping[str, str]]", pulumi.get(self, "compiled_models"))

    @property
    @pulumi.getter(name="artifactBucket")
    def artifact_bucket(self) -> pulumi.Output[str]:
        """S3 bucket the model packages are uploaded to; the devices' token-exchange role must
        be able to read them."""
        return cast("pulumi.Output[str]", pulumi.get(self, "artifact_bucket"))

    @property
    @pulumi.getter(name="artifactPrefix")
    def artifact_prefix(self) -> pulumi.Output[str]:
        """Key prefix for the packages in `artifactBucket`: empty or ending in `/`. Default:
        none (the bucket's root)."""
        return cast("pulumi.Output[str]", pulumi.get(self, "artifact_prefix"))

    @property
    @pulumi.getter(name="friendlyName")
    def friendly_name(self) -> pulumi.Output[str]:
        """Display name of the model; each target's is `<friendlyName> (<target>)`. Default:
        `componentName`."""
        return cast("pulumi.Output[str]", pulumi.get(self, "friendly_name"))

    @property
    @pulumi.getter(name="targetSuffix")
    def target_suffix(self) -> pulumi.Output[bool]:
        """False: notebook naming, exactly one target, and the component named `componentName`
        as given. Default: `true`."""
        return cast("pulumi.Output[bool]", pulumi.get(self, "target_suffix"))

    @property
    @pulumi.getter(name="tags")
    def tags(self) -> pulumi.Output[Mapping[str, str]]:
        """Tags of every component version (keys starting with `aws:` or `pulumi-dda:` are
        reserved). Changing them updates in place. Default: `{}`."""
        return cast("pulumi.Output[Mapping[str, str]]", pulumi.get(self, "tags"))

    @property
    @pulumi.getter(name="roleArn")
    def role_arn(self) -> pulumi.Output[str]:
        """IAM role to assume for every AWS call of this resource (a use-case account). Changing
        it replaces the resource. Default: none: the provider's own credentials."""
        return cast("pulumi.Output[str]", pulumi.get(self, "role_arn"))

    @property
    @pulumi.getter(name="region")
    def region(self) -> pulumi.Output[str]:
        """AWS region. Changing it replaces the resource. Default: the provider's `dda:region`
        config, else the standard AWS environment."""
        return cast("pulumi.Output[str]", pulumi.get(self, "region"))

    @property
    @pulumi.getter(name="relaxDeviceChecks")
    def relax_device_checks(self) -> pulumi.Output[bool]:
        """Accept a DDA manifest that misses what the device needs (stage threshold, image size,
        input shape); for experiments only. Default: `false`."""
        return cast("pulumi.Output[bool]", pulumi.get(self, "relax_device_checks"))

    @property
    @pulumi.getter(name="waitTimeoutSeconds")
    def wait_timeout_seconds(self) -> pulumi.Output[float]:
        """How long to wait for each version to become `DEPLOYABLE`, in seconds. Default: 900."""
        return cast("pulumi.Output[float]", pulumi.get(self, "wait_timeout_seconds"))

    @property
    @pulumi.getter(name="archiveLimits")
    def archive_limits(self) -> pulumi.Output[ArchiveLimits]:
        """Caps on every archive read (see `ArchiveLimits`). Default: each cap's own default."""
        return cast("pulumi.Output[ArchiveLimits]", pulumi.get(self, "archive_limits"))

    @property
    @pulumi.getter(name="versions")
    def versions(self) -> pulumi.Output[Mapping[str, ComponentVersion]]:
        """Target to its component name and version. Resolved at check, so known in a preview:
        wire deployments from it."""
        return cast("pulumi.Output[Mapping[str, ComponentVersion]]", pulumi.get(self, "versions"))

    @property
    @pulumi.getter(name="components")
    def components(self) -> pulumi.Output[Mapping[str, PublishedComponent]]:
        """Target to the published component version (known after the resource is created or
        updated)."""
        return cast(
            "pulumi.Output[Mapping[str, PublishedComponent]]", pulumi.get(self, "components")
        )

    @property
    @pulumi.getter(name="plan")
    def plan(self) -> pulumi.Output[Mapping[str, str]]:
        """Target to what this update does to it, e.g. `new compiled model (etag:04f3ebe72528) →
        2.0.0`, or `unchanged` when its version stays; resolved at check, so a preview shows it."""
        return cast("pulumi.Output[Mapping[str, str]]", pulumi.get(self, "plan"))

    @property
    @pulumi.getter(name="resolvedSources")
    def resolved_sources(self) -> pulumi.Output[Mapping[str, str]]:
        """`trained` (the trained model) or a target to what its `sagemaker://` source resolved
        to at check, e.g. `model package defects/3 → s3://ml-models/train/model.tar.gz` (known
        in a preview); a new resolution, such as a newly approved package version, is a change.
        Sources given as `s3://` URIs or paths are not listed."""
        return cast("pulumi.Output[Mapping[str, str]]", pulumi.get(self, "resolved_sources"))

    @property
    @pulumi.getter(name="modelName")
    def model_name(self) -> pulumi.Output[str]:
        """The model's type, `model_graph.stages[0].type` of the manifest."""
        return cast("pulumi.Output[str]", pulumi.get(self, "model_name"))

    @property
    @pulumi.getter(name="localServerArtifacts")
    def local_server_artifacts(self) -> pulumi.Output[Mapping[str, Sequence[str]]]:
        """Target to the sorted `s3://` artifact URIs of the newest published `^1.0.0` version
        of the DDA LocalServer its recipe depends on; resolved at check (known in a preview) for
        each target whose version changes. Grant the device role `s3:GetObject` on exactly
        these."""
        return cast(
            "pulumi.Output[Mapping[str, Sequence[str]]]", pulumi.get(self, "local_server_artifacts")
        )

    def translate_input_property(self, prop: str) -> str:
        return input_name(prop)

    def translate_output_property(self, prop: str) -> str:
        return output_name(prop)


@dataclass
class GreengrassDeploymentArgs:
    """The inputs of :class:`GreengrassDeployment` (see its keyword arguments)."""

    target_arn: pulumi.Input[str]
    """ARN of the IoT thing or thing group to deploy to."""
    components: pulumi.Input[Mapping[str, pulumi.Input[DeploymentComponentArgs]]]
    """Component name to what to run. Wire model components from `ModelComponent.versions`."""
    deployment_name: pulumi.Input[str] | None = None
    """Name of the deployment. Default: none (the service shows the deployment id)."""
    deployment_policies: pulumi.Input[DeploymentPoliciesArgs] | None = None
    """Deployment policies (see `DeploymentPolicies`). Default: the service's."""
    iot_job_configuration: pulumi.Input[IotJobConfigurationArgs] | None = None
    """IoT job configuration (see `IotJobConfiguration`). Default: the service's."""
    tags: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None
    """Tags of the deployment (keys starting with `aws:` or `pulumi-dda:` are reserved).
    Default: `{}`."""
    region: pulumi.Input[str] | None = None
    """AWS region; must be the target's. Default: the target ARN's region."""
    role_arn: pulumi.Input[str] | None = None
    """IAM role to assume for every AWS call of this resource (a use-case account). Changing it
    replaces the resource. Default: none: the provider's own credentials."""
    rollout: pulumi.Input[RolloutPolicyArgs] | None = None
    """Wait for the devices after each new revision and judge it (see `RolloutPolicy`); a
    preview never waits. Default: none: `up` ends when the service accepts the deployment."""
    stages: pulumi.Input[Sequence[pulumi.Input[DeploymentStageArgs]]] | None = None
    """Targets that get each new revision first, in order, each gated by its own rollout policy:
    `up` starts a stage (and finally `targetArn`) only after the previous gate passed; a preview
    names each stage, its target and what it moves to. Default: none."""
    keep_revisions: pulumi.Input[int] | None = None
    """How many of the target's newest revisions keep their component versions for a rollback
    (`pulumi-dda rollback`): no stack deletes a version one of them uses. Recorded on the
    revision (tag `pulumi-dda:keep-revisions`). At least 1. Default: `3`."""
    take_over: pulumi.Input[bool] | None = None
    """Allow superseding the target's current deployment when another owner made it (another
    stack or resource, or not pulumi-dda: no `pulumi-dda:owner` tag). Without it, check fails
    naming that deployment, and a stack whose deployment another owner superseded fails its
    preview instead of deploying again. Changing only this input changes nothing. Default:
    `false`."""


class GreengrassDeployment(pulumi.CustomResource):
    """The Greengrass v2 deployment of one IoT thing or thing group. Its id is the target ARN; a
    change is a new revision for the same target (a tags-only change just re-tags), and a
    changed `targetArn`, `region` or `roleArn` replaces it. Destroy cancels the current revision
    if it is still rolling out and deletes it: devices that applied it keep running its
    components. Use one resource per target. Check fails when the target does not exist, or when
    its current deployment belongs to another owner (tag `pulumi-dda:owner`) unless `takeOver`
    is set."""

    @overload
    def __init__(
        self,
        resource_name: str,
        args: GreengrassDeploymentArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        Declare a GreengrassDeployment from one :class:`GreengrassDeploymentArgs` value.

        :param resource_name: The name of the resource.
        :param args: The inputs.
        :param opts: Options of the resource.
        """

    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        target_arn: pulumi.Input[str],
        components: pulumi.Input[Mapping[str, pulumi.Input[DeploymentComponentArgs]]],
        deployment_name: pulumi.Input[str] | None = None,
        deployment_policies: pulumi.Input[DeploymentPoliciesArgs] | None = None,
        iot_job_configuration: pulumi.Input[IotJobConfigurationArgs] | None = None,
        tags: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
        region: pulumi.Input[str] | None = None,
        role_arn: pulumi.Input[str] | None = None,
        rollout: pulumi.Input[RolloutPolicyArgs] | None = None,
        stages: pulumi.Input[Sequence[pulumi.Input[DeploymentStageArgs]]] | None = None,
        keep_revisions: pulumi.Input[int] | None = None,
        take_over: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        Declare a GreengrassDeployment from keyword arguments.

        :param resource_name: The name of the resource.
        :param opts: Options of the resource.
        :param target_arn: ARN of the IoT thing or thing group to deploy to.
        :param components: Component name to what to run. Wire model components from
            `ModelComponent.versions`.
        :param deployment_name: Name of the deployment. Default: none (the service shows the
            deployment id).
        :param deployment_policies: Deployment policies (see `DeploymentPolicies`). Default: the
            service's.
        :param iot_job_configuration: IoT job configuration (see `IotJobConfiguration`).
            Default: the service's.
        :param tags: Tags of the deployment (keys starting with `aws:` or `pulumi-dda:` are
            reserved). Default: `{}`.
        :param region: AWS region; must be the target's. Default: the target ARN's region.
        :param role_arn: IAM role to assume for every AWS call of this resource (a use-case
            account). Changing it replaces the resource. Default: none: the provider's own
            credentials.
        :param rollout: Wait for the devices after each new revision and judge it (see
            `RolloutPolicy`); a preview never waits. Default: none: `up` ends when the service
            accepts the deployment.
        :param stages: Targets that get each new revision first, in order, each gated by its own
            rollout policy: `up` starts a stage (and finally `targetArn`) only after the
            previous gate passed; a preview names each stage, its target and what it moves to.
            Default: none.
        :param keep_revisions: How many of the target's newest revisions keep their component
            versions for a rollback (`pulumi-dda rollback`): no stack deletes a version one of
            them uses. Recorded on the revision (tag `pulumi-dda:keep-revisions`). At least 1.
            Default: `3`.
        :param take_over: Allow superseding the target's current deployment when another owner
            made it (another stack or resource, or not pulumi-dda: no `pulumi-dda:owner` tag).
            Without it, check fails naming that deployment, and a stack whose deployment another
            owner superseded fails its preview instead of deploying again. Changing only this
            input changes nothing. Default: `false`.
        """

    def __init__(
        self,
        resource_name: str,
        args: GreengrassDeploymentArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **inputs: Any,
    ) -> None:
        values = vars(args) if args is not None else inputs
        register(self, DEPLOYMENT, resource_name, dict(values), opts)

    @property
    @pulumi.getter(name="targetArn")
    def target_arn(self) -> pulumi.Output[str]:
        """ARN of the IoT thing or thing group to deploy to."""
        return cast("pulumi.Output[str]", pulumi.get(self, "target_arn"))

    @property
    @pulumi.getter(name="components")
    def components(self) -> pulumi.Output[Mapping[str, DeploymentComponent]]:
        """Component name to what to run. Wire model components from `ModelComponent.versions`."""
        return cast(
            "pulumi.Output[Mapping[str, DeploymentComponent]]", pulumi.get(self, "components")
        )

    @property
    @pulumi.getter(name="deploymentName")
    def deployment_name(self) -> pulumi.Output[str]:
        """Name of the deployment. Default: none (the service shows the deployment id)."""
        return cast("pulumi.Output[str]", pulumi.get(self, "deployment_name"))

    @property
    @pulumi.getter(name="deploymentPolicies")
    def deployment_policies(self) -> pulumi.Output[DeploymentPolicies]:
        """Deployment policies (see `DeploymentPolicies`). Default: the service's."""
        return cast("pulumi.Output[DeploymentPolicies]", pulumi.get(self, "deployment_policies"))

    @property
    @pulumi.getter(name="iotJobConfiguration")
    def iot_job_configuration(self) -> pulumi.Output[IotJobConfiguration]:
        """IoT job configuration (see `IotJobConfiguration`). Default: the service's."""
        return cast("pulumi.Output[IotJobConfiguration]", pulumi.get(self, "iot_job_configuration"))

    @property
    @pulumi.getter(name="tags")
    def tags(self) -> pulumi.Output[Mapping[str, str]]:
        """Tags of the deployment (keys starting with `aws:` or `pulumi-dda:` are reserved).
        Default: `{}`."""
        return cast("pulumi.Output[Mapping[str, str]]", pulumi.get(self, "tags"))

    @property
    @pulumi.getter(name="region")
    def region(self) -> pulumi.Output[str]:
        """AWS region; must be the target's. Default: the target ARN's region."""
        return cast("pulumi.Output[str]", pulumi.get(self, "region"))

    @property
    @pulumi.getter(name="roleArn")
    def role_arn(self) -> pulumi.Output[str]:
        """IAM role to assume for every AWS call of this resource (a use-case account). Changing
        it replaces the resource. Default: none: the provider's own credentials."""
        return cast("pulumi.Output[str]", pulumi.get(self, "role_arn"))

    @property
    @pulumi.getter(name="rollout")
    def rollout(self) -> pulumi.Output[RolloutPolicy]:
        """Wait for the devices after each new revision and judge it (see `RolloutPolicy`); a
        preview never waits. Default: none: `up` ends when the service accepts the deployment."""
        return cast("pulumi.Output[RolloutPolicy]", pulumi.get(self, "rollout"))

    @property
    @pulumi.getter(name="stages")
    def stages(self) -> pulumi.Output[Sequence[DeploymentStage]]:
        """Targets that get each new revision first, in order, each gated by its own rollout
        policy: `up` starts a stage (and finally `targetArn`) only after the previous gate
        passed; a preview names each stage, its target and what it moves to. Default: none."""
        return cast("pulumi.Output[Sequence[DeploymentStage]]", pulumi.get(self, "stages"))

    @property
    @pulumi.getter(name="keepRevisions")
    def keep_revisions(self) -> pulumi.Output[int]:
        """How many of the target's newest revisions keep their component versions for a
        rollback (`pulumi-dda rollback`): no stack deletes a version one of them uses. Recorded
        on the revision (tag `pulumi-dda:keep-revisions`). At least 1. Default: `3`."""
        return cast("pulumi.Output[int]", pulumi.get(self, "keep_revisions"))

    @property
    @pulumi.getter(name="takeOver")
    def take_over(self) -> pulumi.Output[bool]:
        """Allow superseding the target's current deployment when another owner made it (another
        stack or resource, or not pulumi-dda: no `pulumi-dda:owner` tag). Without it, check
        fails naming that deployment, and a stack whose deployment another owner superseded
        fails its preview instead of deploying again. Changing only this input changes nothing.
        Default: `false`."""
        return cast("pulumi.Output[bool]", pulumi.get(self, "take_over"))

    @property
    @pulumi.getter(name="deploymentId")
    def deployment_id(self) -> pulumi.Output[str]:
        """Id of the current revision."""
        return cast("pulumi.Output[str]", pulumi.get(self, "deployment_id"))

    @property
    @pulumi.getter(name="arn")
    def arn(self) -> pulumi.Output[str]:
        """ARN of the current revision."""
        return cast("pulumi.Output[str]", pulumi.get(self, "arn"))

    @property
    @pulumi.getter(name="iotJobId")
    def iot_job_id(self) -> pulumi.Output[str]:
        """Id of the IoT job of the current revision."""
        return cast("pulumi.Output[str]", pulumi.get(self, "iot_job_id"))

    @property
    @pulumi.getter(name="iotJobArn")
    def iot_job_arn(self) -> pulumi.Output[str]:
        """ARN of that IoT job."""
        return cast("pulumi.Output[str]", pulumi.get(self, "iot_job_arn"))

    @property
    @pulumi.getter(name="deploymentStatus")
    def deployment_status(self) -> pulumi.Output[str]:
        """Status of the current revision as last read."""
        return cast("pulumi.Output[str]", pulumi.get(self, "deployment_status"))

    @property
    @pulumi.getter(name="revisionCount")
    def revision_count(self) -> pulumi.Output[int]:
        """Revisions this resource has deployed to the target."""
        return cast("pulumi.Output[int]", pulumi.get(self, "revision_count"))

    @property
    @pulumi.getter(name="stageDeployments")
    def stage_deployments(self) -> pulumi.Output[Mapping[str, str]]:
        """Stage target ARN to the id of the revision this resource last deployed there."""
        return cast("pulumi.Output[Mapping[str, str]]", pulumi.get(self, "stage_deployments"))

    @property
    @pulumi.getter(name="rolloutResult")
    def rollout_result(self) -> pulumi.Output[RolloutResult]:
        """With a `rollout` policy: what the devices reported for the last revision (empty
        otherwise)."""
        return cast("pulumi.Output[RolloutResult]", pulumi.get(self, "rollout_result"))

    @property
    @pulumi.getter(name="takesOver")
    def takes_over(self) -> pulumi.Output[str]:
        """Filled in at check, so a preview shows it: `takes over deployment <id> "<name>" of
        <owner>` when the next revision supersedes another owner's deployment (`takeOver:
        true`); empty otherwise."""
        return cast("pulumi.Output[str]", pulumi.get(self, "takes_over"))

    def translate_input_property(self, prop: str) -> str:
        return input_name(prop)

    def translate_output_property(self, prop: str) -> str:
        return output_name(prop)
