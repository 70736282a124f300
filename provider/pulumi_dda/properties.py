"""Every input and output of the ``dda`` resources, declared once.

One table per resource (:data:`MODEL`, :data:`DEPLOYMENT`): each property's name (the
providers' snake_case; the schema's camelCase is derived), type, description, default and — for
an input — what a change to it does (:data:`Change`), which the constructors
(:func:`replaces`, :func:`new_version`, :func:`in_place`, :func:`no_change`) make impossible to
leave out. Derived from these tables: the providers' key classifications
(:meth:`ResourceType.changing`, :meth:`ResourceType.defaults`), the plugin's schema and its
name translation (:mod:`.plugin.schema`), the Python resource classes' signatures and typed
``…Args`` (:mod:`._resources`, generated from here and checked by a snapshot test) and
``pulumi-dda publish``'s options (:attr:`Input.cli`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeAlias

from .recipe import TARGETS

PACKAGE = "dda"
REPOSITORY = "pulumi-dda/pulumi-dda"
"""The GitHub repository whose releases publish the plugin (``.github/workflows/release.yml``)."""
PLUGIN_DOWNLOAD_URL = f"github://api.github.com/{REPOSITORY}"
"""Where an engine that lacks the plugin downloads it: the release asset
``pulumi-resource-dda-v<version>-<os>-<arch>.tar.gz`` of the release ``v<version>``."""
MODEL_COMPONENT = f"{PACKAGE}:index:ModelComponent"
GREENGRASS_DEPLOYMENT = f"{PACKAGE}:index:GreengrassDeployment"

LEGACY_TYPES = {
    MODEL_COMPONENT: ("pulumi-python:dynamic/dda:ModelComponent", "pulumi-python:dynamic:Resource"),
    GREENGRASS_DEPLOYMENT: (
        "pulumi-python:dynamic/dda:GreengrassDeployment",
        "pulumi-python:dynamic:Resource",
    ),
}
"""The types each resource had when it was a Pulumi dynamic resource (typed, then generic):
aliases move such stacks to the plugin (see :mod:`._register`)."""

Change: TypeAlias = Literal["replace", "new_version", "in_place", "none"]
"""What changing an input does: ``replace`` replaces the resource; ``new_version`` gives every
target a new component version (a model) or makes a new revision (a deployment), which moves
every device it reaches; ``in_place`` updates the resource (a model's versions change only if
their content does); ``none`` changes nothing (a permission, not a property)."""


def camel(snake: str) -> str:
    """``compiled_models`` → ``compiledModels``."""
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass(frozen=True)
class Scalar:
    name: Literal["string", "boolean", "number", "integer"]


@dataclass(frozen=True)
class AnyValue:
    """JSON of any shape, passed through as it is."""


@dataclass(frozen=True)
class MapOf:
    values: Kind


@dataclass(frozen=True)
class ListOf:
    items: Kind


@dataclass(frozen=True)
class Ref:
    object_type: ObjectType


@dataclass(frozen=True)
class EnumValue:
    value: str
    name: str
    """The value's name in the SDKs (an identifier)."""
    description: str


@dataclass(frozen=True)
class EnumOf:
    """A string of a fixed set of values (an enum type of the schema)."""

    token: str
    description: str
    values: tuple[EnumValue, ...]

    def allowed(self) -> list[str]:
        return [v.value for v in self.values]


Kind: TypeAlias = Scalar | AnyValue | MapOf | ListOf | Ref | EnumOf
STRING, BOOLEAN, NUMBER, INTEGER = (
    Scalar("string"),
    Scalar("boolean"),
    Scalar("number"),
    Scalar("integer"),
)


@dataclass(frozen=True)
class Prop:
    """One property, named as its provider names it (snake_case)."""

    snake: str
    kind: Kind
    description: str
    required: bool = False
    default: Any = None
    """What the provider's hooks receive when the program leaves the input out (the plugin's
    Check fills it in). Without :attr:`documented` it is a real default: published in the
    schema and kept in state. With it, it is a placeholder the hooks read as "not set": never
    published, and the plugin leaves the input absent from state and outputs."""
    documented: str = ""
    """The real default in words, for a placeholder :attr:`default` (``900 seconds``)."""

    @property
    def name(self) -> str:
        return camel(self.snake)

    @property
    def placeholder(self) -> bool:
        """:attr:`default` only stands for "not set" (see :attr:`documented`)."""
        return bool(self.documented) and self.default is not None

    def described(self) -> str:
        """The description with the default, for the schema and the SDKs' docs."""
        if self.required:
            return self.description
        if self.documented:
            return f"{self.description} Default: {self.documented}."
        if self.default is not None:
            return f"{self.description} Default: `{json.dumps(self.default)}`."
        return self.description


@dataclass(frozen=True)
class Cli:
    """How ``pulumi-dda publish`` takes an input: its option and a short help with an example."""

    flag: str
    help: str


@dataclass(frozen=True, kw_only=True)
class Input(Prop):
    """An input: a property plus what a change to it does (no default: never left out)."""

    change: Change
    cli: Cli | None = None


class _Declare(Protocol):
    def __call__(
        self,
        snake: str,
        kind: Kind,
        description: str,
        *,
        required: bool = False,
        default: Any = None,
        documented: str = "",
        cli: Cli | None = None,
    ) -> Input: ...


def _input(change: Change) -> _Declare:
    def declare(
        snake: str,
        kind: Kind,
        description: str,
        *,
        required: bool = False,
        default: Any = None,
        documented: str = "",
        cli: Cli | None = None,
    ) -> Input:
        return Input(
            snake, kind, description, required, default, documented, change=change, cli=cli
        )

    return declare


replaces = _input("replace")
new_version = _input("new_version")
in_place = _input("in_place")
no_change = _input("none")


@dataclass(frozen=True)
class ObjectType:
    token: str
    description: str
    props: tuple[Prop, ...]
    api_shaped: bool = False
    """Keys as the Greengrass API names them: the provider receives the schema's camelCase
    names and passes the object to the API as it is (only Python programs use snake_case
    keys, which the SDK renames)."""

    @property
    def name(self) -> str:
        return self.token.rsplit(":", 1)[-1]


@dataclass(frozen=True)
class ResourceType:
    token: str
    description: str
    inputs: tuple[Input, ...]
    outputs: tuple[Prop, ...]
    """Outputs besides the inputs, which every resource also reports as outputs."""
    by_name: dict[str, Prop] = field(init=False, repr=False, compare=False)
    by_snake: dict[str, Prop] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        props = self.inputs + self.outputs
        if untyped := [p.snake for p in self.inputs if not isinstance(p, Input)]:
            raise TypeError(f"{self.token}: inputs {untyped} declare no change kind")
        object.__setattr__(self, "by_name", {p.name: p for p in props})
        object.__setattr__(self, "by_snake", {p.snake: p for p in props})

    def input_names(self) -> tuple[str, ...]:
        return tuple(p.snake for p in self.inputs)

    def changing(self, *changes: Change) -> tuple[str, ...]:
        """The inputs a change of which does one of ``changes``."""
        return tuple(p.snake for p in self.inputs if p.change in changes)

    def defaults(self) -> dict[str, Any]:
        """Each optional input's default (what the program's omission means)."""
        return {p.snake: p.default for p in self.inputs if p.default is not None}


def _obj(name: str, description: str, *props: Prop, api_shaped: bool = False) -> ObjectType:
    return ObjectType(f"{PACKAGE}:index:{name}", description, props, api_shaped)


def _enum(name: str, description: str, *values: tuple[str, str, str]) -> EnumOf:
    """``values``: (value, SDK name, description) each."""
    return EnumOf(f"{PACKAGE}:index:{name}", description, tuple(EnumValue(*v) for v in values))


COMPILATION_TARGET = _enum(
    "CompilationTarget",
    "A Neo compilation target DDA runs on: the keys of `compiledModels` (and of the "
    "per-target outputs).",
    *((t, "".join(part.capitalize() for part in t.split("-")),
       f"Architecture `{p.architecture}`, dependency `{p.local_server_component}`.")
      for t, p in TARGETS.items()),
)  # fmt: skip


COMPONENT_VERSION = _obj(
    "ComponentVersion",
    "A Greengrass component name and version.",
    Prop("component_name", STRING, "The target's component name: `<componentName>-<target>`, "
         "or `componentName` itself with `targetSuffix: false`.", required=True),
    Prop("component_version", STRING, "Its version (`N.0.0`).", required=True),
)  # fmt: skip
PUBLISHED_COMPONENT = _obj(
    "PublishedComponent",
    "A component version as published for one compilation target.",
    *COMPONENT_VERSION.props,
    Prop("arn", STRING, "ARN of the component version.", required=True),
    Prop("platform", STRING, "Device architecture the recipe selects (`aarch64` or `amd64`).",
         required=True),
    Prop("local_server_component", STRING, "DDA LocalServer component the recipe depends on "
         "(`aws.edgeml.dda.LocalServer.arm64` or `.amd64`).", required=True),
    Prop("artifact_uri", STRING, "S3 URI of the model package the recipe downloads.",
         required=True),
    Prop("package_id", STRING, "Content id of the package (the artifact's file name).",
         required=True),
    Prop("digest", STRING, "Digest of the artifact as stored in the recipe.", required=True),
    Prop("adopted", BOOLEAN, "True when an identical version made by another stack or "
         "resource was taken over instead of created.", required=True),
)  # fmt: skip
CONFIGURATION_UPDATE = _obj(
    "ConfigurationUpdate",
    "What a deployment does to a component's configuration on the devices.",
    Prop("merge", STRING, "JSON text of an object merged into the component's configuration."),
    Prop("reset", ListOf(STRING), "JSON pointers of configuration values reset to their "
         "defaults (before `merge` is applied)."),
)  # fmt: skip
DEPLOYMENT_COMPONENT = _obj(
    "DeploymentComponent",
    "One component of a deployment.",
    Prop("component_version", STRING, "Version of the component to run (semantic version).",
         required=True),
    Prop("configuration_update", Ref(CONFIGURATION_UPDATE), "Configuration changes to apply."),
)  # fmt: skip
ROLLOUT_FAILURE_ACTION = _enum(
    "RolloutFailureAction",
    "What a revision that does not meet its rollout policy does.",
    ("fail", "Fail", "The update fails with one line."),
    ("revert", "Revert", "Deploy the last revision that met its policy again, wait for it, "
     "then fail saying so."),
)  # fmt: skip
ROLLOUT_POLICY = _obj(
    "RolloutPolicy",
    "When a new revision counts as rolled out, and what to do when it does not. The devices "
    "that count are the target's core devices when the revision is created; devices that join "
    "later never block it.",
    Prop("success_percent", NUMBER, "At least this percentage of them (rounded up) must report "
         "`SUCCEEDED` for the revision.", documented="100"),
    Prop("timeout_seconds", NUMBER, "How long `up` waits for that, in seconds.",
         documented="600"),
    Prop("on_failure", ROLLOUT_FAILURE_ACTION, "What a revision that does not meet the policy "
         "does (see `RolloutFailureAction`).", documented="`fail`"),
    Prop("ignore_unhealthy", BOOLEAN, "Leave out devices that are `UNHEALTHY` when the "
         "revision is created.", documented="`true`"),
    Prop("bake_seconds", NUMBER, "Once the policy is met, keep watching the devices this long: "
         "a counted device that reports a failure or turns `UNHEALTHY` meanwhile counts as "
         "failed, and the revision fails if the policy is no longer met.", documented="0"),
)  # fmt: skip
DEPLOYMENT_STAGE = _obj(
    "DeploymentStage",
    "A stage of a staged rollout: a target that gets each new revision before the resource's "
    "own target, gated by its rollout policy. A failed gate reverts the stage to the previous "
    "revision and leaves the later stages and the resource's target untouched.",
    Prop("target_arn", STRING, "ARN of the stage's IoT thing or thing group (not the "
         "resource's `targetArn`).", required=True),
    Prop("rollout", Ref(ROLLOUT_POLICY), "The gate: when the stage's revision counts as rolled "
         "out. A failed gate always reverts the stage: `onFailure` may only be `revert`.",
         documented="every counted device must succeed within 600 seconds"),
    Prop("subdeployment", BOOLEAN, "Deploy the stage as a subdeployment of the resource's "
         "current deployment (`parentTargetArn`; the stage's thing group must be a child of "
         "`targetArn`'s, and its devices run Greengrass nucleus 2.9.0 or later). The first "
         "revision, which has no parent deployment yet, skips such a stage.",
         documented="`false`"),
)  # fmt: skip
ROLLOUT_RESULT = _obj(
    "RolloutResult",
    "What the counted devices reported for the last revision this resource deployed.",
    Prop("deployment_id", STRING, "The revision.", required=True),
    Prop("devices", INTEGER, "Devices counted.", required=True),
    Prop("succeeded", INTEGER, "Devices that reported `SUCCEEDED`.", required=True),
    Prop("failed", INTEGER, "Devices that reported a failure.", required=True),
    Prop("pending", INTEGER, "Devices that had not reported yet.", required=True),
    Prop("outcome", STRING, "`met` (the update failed otherwise).", required=True),
    Prop("drifted", MapOf(STRING), "As last refreshed: each device that took the revision but "
         "now runs other versions of its components (moved outside the stack), e.g. `core-3: "
         "model-x 1.0.0`."),
)  # fmt: skip
ARCHIVE_LIMITS = _obj(
    "ArchiveLimits",
    "Caps on every archive a model component reads (the trained model at preview, the "
    "compiled models at `up`); an archive over a cap is refused in one line naming it.",
    Prop("max_total_bytes", INTEGER, "Uncompressed bytes, tar extension headers included.",
         documented="8589934592 (8 GiB)"),
    Prop("max_members", INTEGER, "Members of one archive.", documented="10000"),
    Prop("max_compression_ratio", INTEGER, "Decompressed bytes per compressed byte read, past "
         "the first 64 MiB.", documented="100"),
)  # fmt: skip

_API = "the Greengrass API's `CreateDeployment`"
FAILURE_HANDLING_POLICY = _enum(
    "DeploymentFailureHandlingPolicy",
    "What devices do when the deployment fails.",
    ("ROLLBACK", "Rollback", "Roll the device back to its previous configuration."),
    ("DO_NOTHING", "DoNothing", "Keep the failed configuration."),
)
COMPONENT_UPDATE_ACTION = _enum(
    "DeploymentComponentUpdatePolicyAction",
    "Whether components are asked before they are updated.",
    ("NOTIFY_COMPONENTS", "NotifyComponents", "Notify components, which may defer the update."),
    ("SKIP_NOTIFY_COMPONENTS", "SkipNotifyComponents", "Update without notifying."),
)
COMPONENT_UPDATE_POLICY = _obj(
    "DeploymentComponentUpdatePolicy",
    "How components on the devices are told about an update.",
    Prop("timeout_in_seconds", INTEGER, "Seconds each component has to get ready.",
         documented="60"),
    Prop("action", COMPONENT_UPDATE_ACTION, "Notify components or not.",
         documented="`NOTIFY_COMPONENTS`"),
    api_shaped=True,
)  # fmt: skip
CONFIGURATION_VALIDATION_POLICY = _obj(
    "DeploymentConfigurationValidationPolicy",
    "How long components have to validate a configuration update.",
    Prop("timeout_in_seconds", INTEGER, "Seconds to validate.", documented="30"),
    api_shaped=True,
)
DEPLOYMENT_POLICIES = _obj(
    "DeploymentPolicies",
    f"Deployment policies, as in {_API} (`deploymentPolicies`).",
    Prop("failure_handling_policy", FAILURE_HANDLING_POLICY, "What devices do when the "
         "deployment fails.", documented="`ROLLBACK`"),
    Prop("component_update_policy", Ref(COMPONENT_UPDATE_POLICY), "How components are told "
         "about an update."),
    Prop("configuration_validation_policy", Ref(CONFIGURATION_VALIDATION_POLICY), "How long "
         "components have to validate a configuration update."),
    api_shaped=True,
)  # fmt: skip
RATE_INCREASE_CRITERIA = _obj(
    "IotJobRateIncreaseCriteria",
    "When the rollout rate increases (one of the two).",
    Prop("number_of_notified_things", INTEGER, "After this many devices were notified."),
    Prop("number_of_succeeded_things", INTEGER, "After this many devices succeeded."),
    api_shaped=True,
)
EXPONENTIAL_RATE = _obj(
    "IotJobExponentialRolloutRate",
    "An exponentially increasing rollout rate.",
    Prop("base_rate_per_minute", INTEGER, "Devices notified per minute at first (1-1000).",
         required=True),
    Prop("increment_factor", NUMBER, "Factor the rate grows by (1-5).", required=True),
    Prop("rate_increase_criteria", Ref(RATE_INCREASE_CRITERIA), "When the rate grows.",
         required=True),
    api_shaped=True,
)  # fmt: skip
ROLLOUT_CONFIG = _obj(
    "IotJobExecutionsRolloutConfig",
    "How fast the deployment's IoT job notifies devices.",
    Prop("exponential_rate", Ref(EXPONENTIAL_RATE), "An increasing rate."),
    Prop("maximum_per_minute", INTEGER, "At most this many devices per minute (1-1000)."),
    api_shaped=True,
)
JOB_FAILURE_TYPE = _enum(
    "IotJobExecutionFailureType",
    "Which failures an abort criterion counts.",
    ("FAILED", "Failed", "Executions that failed."),
    ("REJECTED", "Rejected", "Executions the device rejected."),
    ("TIMED_OUT", "TimedOut", "Executions that timed out."),
    ("ALL", "All", "All of these."),
)
JOB_ABORT_ACTION = _enum(
    "IotJobAbortAction", "What an abort criterion does.", ("CANCEL", "Cancel", "Cancel the job.")
)
ABORT_CRITERIA = _obj(
    "IotJobAbortCriteria",
    "When the deployment's IoT job is cancelled.",
    Prop("failure_type", JOB_FAILURE_TYPE, "Failures counted.", required=True),
    Prop("action", JOB_ABORT_ACTION, "What to do.", required=True),
    Prop("threshold_percentage", NUMBER, "Percentage of failed executions (up to 100).",
         required=True),
    Prop("min_number_of_executed_things", INTEGER, "Executions needed before the criterion "
         "applies.", required=True),
    api_shaped=True,
)  # fmt: skip
ABORT_CONFIG = _obj(
    "IotJobAbortConfig",
    "When the deployment's IoT job stops notifying devices.",
    Prop("criteria_list", ListOf(Ref(ABORT_CRITERIA)), "The criteria (at least one).",
         required=True),
    api_shaped=True,
)  # fmt: skip
TIMEOUT_CONFIG = _obj(
    "IotJobTimeoutConfig",
    "How long each device has for the deployment.",
    Prop("in_progress_timeout_in_minutes", INTEGER, "Minutes a device may stay `IN_PROGRESS`."),
    api_shaped=True,
)
IOT_JOB_CONFIGURATION = _obj(
    "IotJobConfiguration",
    f"The IoT job that delivers the deployment, as in {_API} (`iotJobConfiguration`).",
    Prop("job_executions_rollout_config", Ref(ROLLOUT_CONFIG), "How fast devices are "
         "notified."),
    Prop("abort_config", Ref(ABORT_CONFIG), "When the job is cancelled."),
    Prop("timeout_config", Ref(TIMEOUT_CONFIG), "How long each device has."),
    api_shaped=True,
)  # fmt: skip
OBJECT_TYPES = (
    COMPONENT_VERSION,
    PUBLISHED_COMPONENT,
    CONFIGURATION_UPDATE,
    DEPLOYMENT_COMPONENT,
    ROLLOUT_POLICY,
    DEPLOYMENT_STAGE,
    ROLLOUT_RESULT,
    ARCHIVE_LIMITS,
    COMPONENT_UPDATE_POLICY,
    CONFIGURATION_VALIDATION_POLICY,
    DEPLOYMENT_POLICIES,
    RATE_INCREASE_CRITERIA,
    EXPONENTIAL_RATE,
    ROLLOUT_CONFIG,
    ABORT_CRITERIA,
    ABORT_CONFIG,
    TIMEOUT_CONFIG,
    IOT_JOB_CONFIGURATION,
)
ENUM_TYPES = (
    COMPILATION_TARGET,
    ROLLOUT_FAILURE_ACTION,
    FAILURE_HANDLING_POLICY,
    COMPONENT_UPDATE_ACTION,
    JOB_FAILURE_TYPE,
    JOB_ABORT_ACTION,
)


def _role_arn(cli: Cli | None = None) -> Input:
    return replaces(
        "role_arn",
        STRING,
        "IAM role to assume for every AWS call of this resource (a use-case account). Changing "
        "it replaces the resource.",
        default="",
        documented="none: the provider's own credentials",
        cli=cli,
    )


_TARGET_NAMES = ", ".join(f"`{t}`" for t in TARGETS)

MODEL = ResourceType(
    MODEL_COMPONENT,
    "A DDA (Defect Detection Application) model component: the DDA manifest and a "
    "reproducible model package in S3, and one Greengrass v2 component version per "
    "compilation target, waited on until `DEPLOYABLE`. Check validates everything (names, "
    "version, targets, the trained model's DDA manifest) at preview and resolves each "
    "target's version, so `versions` is known in a preview. A changed version replaces the "
    "resource (new versions first); tags and anything that leaves every version as it is "
    "update in place. Destroy deletes a version only when no other stack holds it and no "
    "latest deployment uses it.",
    inputs=(
        new_version("component_name", STRING, "Greengrass component name: starts with `model-`, at "
             "most 128 characters of `[A-Za-z0-9._-]`. Each target's component is "
             "`<componentName>-<target>` (`_` becomes `-`).", required=True,
             cli=Cli('--component-name', 'e.g. model-defects')),
        in_place("component_version", STRING, "Version of every target's component, `N.0.0` with "
             "N >= 1; a content change needs a bump. Omitted or empty: each target gets its "
             "own version, the next free major version when its content changes.", default="",
             documented="each target its own version",
             cli=Cli('--component-version', 'e.g. 2.0.0; omitted: each target takes its next '
                     'version (or an identical one)')),
        in_place("trained_model_uri", STRING, "The SageMaker training output archive "
             "(`model.tar.gz`): an `s3://bucket/key` URI (`?versionId=<id>` pins one object "
             "version), a local path, or a SageMaker name resolved at check: "
             "`sagemaker://training-job/<name>`, `sagemaker://model-package/<group>/<version>` "
             "or `sagemaker://model-package/<group>:latest-approved` (an ARN instead of the "
             "name for another account). The DDA manifest is built from it.", required=True,
             cli=Cli('--trained', 'trained model .tar.gz (e.g. s3://ml-models/train/model.tar.gz)')),
        in_place("compiled_models", MapOf(STRING), f"Compilation target ({_TARGET_NAMES}: "
             "`CompilationTarget`) to "
             "its Neo-compiled model archive: an `s3://` URI, a local path, "
             "`sagemaker://compilation-job/<name>` (a `COMPLETED` Neo job for that target) or a "
             "`sagemaker://model-package/...` name.", required=True,
             cli=Cli('--compiled', 'compiled model per target, repeatable (e.g. '
                     'jetson-xavier=s3://ml-models/neo/jx.tar.gz)')),
        new_version("artifact_bucket", STRING, "S3 bucket the model packages are uploaded to; the "
             "devices' token-exchange role must be able to read them.", required=True,
             cli=Cli('--bucket', 'artifact bucket, e.g. edge-artifacts')),
        new_version("artifact_prefix", STRING, "Key prefix for the packages in `artifactBucket`: "
             "empty or ending in `/`.", default="", documented="none (the bucket's root)",
             cli=Cli('--prefix', "key prefix ending in '/', e.g. dda/")),
        new_version("friendly_name", STRING, "Display name of the model; each target's is "
             "`<friendlyName> (<target>)`.", default="", documented="`componentName`",
             cli=Cli('--friendly-name', 'e.g. "Defect classifier"')),
        in_place("target_suffix", BOOLEAN, "False: notebook naming, exactly one target, and the "
             "component named `componentName` as given.", default=True,
             cli=Cli('--no-target-suffix', 'one target, named as given')),
        in_place("tags", MapOf(STRING), "Tags of every component version (keys starting with "
             "`aws:` or `pulumi-dda:` are reserved). Changing them updates in place.",
             default={},
             cli=Cli('--tag', 'tag of every version, repeatable (e.g. team=vision)')),
        _role_arn(Cli('--role-arn', 'role to assume, e.g. arn:aws:iam::123456789012:role/dda')),
        replaces("region", STRING, "AWS region. Changing it replaces the resource.", default="",
             documented="the provider's `dda:region` config, else the standard AWS environment",
             cli=Cli('--region', 'e.g. eu-west-1 (default: AWS_DEFAULT_REGION)')),
        in_place("relax_device_checks", BOOLEAN, "Accept a DDA manifest that misses what the "
             "device needs (stage threshold, image size, input shape); for experiments only.",
             default=False,
             cli=Cli('--relax-device-checks', "skip the device's manifest checks")),
        in_place("wait_timeout_seconds", NUMBER, "How long to wait for each version to become "
             "`DEPLOYABLE`, in seconds.", default=0, documented="900",
             cli=Cli('--wait-timeout', 'seconds to wait for DEPLOYABLE (e.g. 900)')),
        in_place("archive_limits", Ref(ARCHIVE_LIMITS), "Caps on every archive read (see "
             "`ArchiveLimits`).", default={}, documented="each cap's own default"),
    ),
    outputs=(
        Prop("versions", MapOf(Ref(COMPONENT_VERSION)), "Target to its component name and "
             "version. Resolved at check, so known in a preview: wire deployments from it.",
             required=True),
        Prop("components", MapOf(Ref(PUBLISHED_COMPONENT)), "Target to the published component "
             "version (known after the resource is created or updated).", required=True),
        Prop("plan", MapOf(STRING), "Target to what this update does to it, e.g. `new "
             "compiled model (etag:04f3ebe72528) → 2.0.0`, or `unchanged` when its version "
             "stays; resolved at check, so a preview shows it.",
             required=True),
        Prop("resolved_sources", MapOf(STRING), "`trained` (the trained model) or a target to "
             "what its `sagemaker://` source resolved to at check, e.g. `model package "
             "defects/3 → s3://ml-models/train/model.tar.gz` (known in a preview); a new "
             "resolution, such as a newly approved package version, is a change. Sources "
             "given as `s3://` URIs or paths are not listed.", required=True),
        Prop("model_name", STRING, "The model's type, `model_graph.stages[0].type` of the "
             "manifest.", required=True),

        Prop("local_server_artifacts", MapOf(ListOf(STRING)), "Target to the sorted `s3://` "
             "artifact URIs of the newest published `^1.0.0` version of the DDA LocalServer its "
             "recipe depends on; resolved at check (known in a preview) for each target whose "
             "version changes. Grant the device role `s3:GetObject` on exactly these.",
             required=True),
    ),
)  # fmt: skip

DEPLOYMENT = ResourceType(
    GREENGRASS_DEPLOYMENT,
    "The Greengrass v2 deployment of one IoT thing or thing group. Its id is the target ARN; "
    "a change is a new revision for the same target (a tags-only change just re-tags), and a "
    "changed `targetArn`, `region` or `roleArn` replaces it. Destroy cancels the current "
    "revision if it is still rolling out and deletes it: devices that applied it keep "
    "running its components. Use one resource per target. Check fails when the target does "
    "not exist, or when its current deployment belongs to another owner (tag "
    "`pulumi-dda:owner`) unless `takeOver` is set.",
    inputs=(
        replaces("target_arn", STRING, "ARN of the IoT thing or thing group to deploy to.",
             required=True),
        new_version("components", MapOf(Ref(DEPLOYMENT_COMPONENT)), "Component name to what to "
             "run. Wire model components from `ModelComponent.versions`.", required=True),
        new_version("deployment_name", STRING, "Name of the deployment.", default="",
             documented="none (the service shows the deployment id)"),
        new_version("deployment_policies", Ref(DEPLOYMENT_POLICIES), "Deployment policies "
             "(see `DeploymentPolicies`).", default={}, documented="the service's"),
        new_version("iot_job_configuration", Ref(IOT_JOB_CONFIGURATION), "IoT job "
             "configuration (see `IotJobConfiguration`).", default={},
             documented="the service's"),
        in_place("tags", MapOf(STRING), "Tags of the deployment (keys starting with `aws:` or "
             "`pulumi-dda:` are reserved).", default={}),
        replaces("region", STRING, "AWS region; must be the target's.", default="",
             documented="the target ARN's region"),
        _role_arn(),
        in_place("rollout", Ref(ROLLOUT_POLICY), "Wait for the devices after each new revision "
             "and judge it (see `RolloutPolicy`); a preview never waits.",
             documented="none: `up` ends when the service accepts the deployment"),
        new_version("stages", ListOf(Ref(DEPLOYMENT_STAGE)), "Targets that get each new revision "
             "first, in order, each gated by its own rollout policy: `up` starts a stage (and "
             "finally `targetArn`) only after the previous gate passed; a preview names each "
             "stage, its target and what it moves to.", default=[], documented="none"),
        in_place("keep_revisions", INTEGER, "How many of the target's newest revisions keep "
             "their component versions for a rollback (`pulumi-dda rollback`): no stack deletes "
             "a version one of them uses. Recorded on the revision (tag "
             "`pulumi-dda:keep-revisions`). At least 1.", default=3),
        no_change("take_over", BOOLEAN, "Allow superseding the target's current deployment when "
             "another owner made it (another stack or resource, or not pulumi-dda: no "
             "`pulumi-dda:owner` tag). Without it, check fails naming that deployment, and a "
             "stack whose deployment another owner superseded fails its preview instead of "
             "deploying again. Changing only this input changes nothing.", default=False),
    ),
    outputs=(
        Prop("deployment_id", STRING, "Id of the current revision.", required=True),
        Prop("arn", STRING, "ARN of the current revision.", required=True),
        Prop("iot_job_id", STRING, "Id of the IoT job of the current revision.", required=True),
        Prop("iot_job_arn", STRING, "ARN of that IoT job.", required=True),
        Prop("deployment_status", STRING, "Status of the current revision as last read.",
             required=True),
        Prop("revision_count", INTEGER, "Revisions this resource has deployed to the target.",
             required=True),
        Prop("stage_deployments", MapOf(STRING), "Stage target ARN to the id of the revision "
             "this resource last deployed there."),
        Prop("rollout_result", Ref(ROLLOUT_RESULT), "With a `rollout` policy: what the devices "
             "reported for the last revision (empty otherwise)."),
        Prop("takes_over", STRING, "Filled in at check, so a preview shows it: `takes over "
             "deployment <id> \"<name>\" of <owner>` when the next revision supersedes another "
             "owner's deployment (`takeOver: true`); empty otherwise.", required=True),
    ),
)  # fmt: skip

RESOURCES = {r.token: r for r in (MODEL, DEPLOYMENT)}
CONFIG = (
    Prop("region", STRING, "AWS region of resources that name none (like `aws:region`). Unset: "
         "`AWS_REGION` / `AWS_DEFAULT_REGION` or the AWS config file."),
    Prop("profile", STRING, "Named profile of the AWS config and credentials files (like "
         "`aws:profile`)."),
)  # fmt: skip
