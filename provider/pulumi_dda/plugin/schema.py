"""The ``dda`` package's schema, and the one place its camelCase names meet the providers'.

Each resource property is declared once, by its provider's snake_case input name, with its type,
description and default. From these declarations come the published Pulumi schema (what YAML
type-checks against and what the TypeScript SDK is generated from) and the translation at the
plugin's edge: camelCase properties in, snake_case to :mod:`..model_component` and
:mod:`..deployment`, and back. Keys the schema does not declare (the providers' internal state,
``owner``) pass through unchanged, as do the keys of maps (targets, component names, tags) and
values typed ``Any`` (the DDA manifest, API-shaped deployment policies).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Literal, TypeAlias

from pulumi_dda._types import JSONDict

PACKAGE = "dda"
MODEL_COMPONENT = f"{PACKAGE}:index:ModelComponent"
GREENGRASS_DEPLOYMENT = f"{PACKAGE}:index:GreengrassDeployment"


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


Kind: TypeAlias = Scalar | AnyValue | MapOf | ListOf | Ref
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
    """Applied by the plugin's Check when the program leaves the input out (as the Python
    resource classes do), so state and outputs hold the same values from any language."""

    @property
    def name(self) -> str:
        return camel(self.snake)


@dataclass(frozen=True)
class ObjectType:
    token: str
    description: str
    props: tuple[Prop, ...]


@dataclass(frozen=True)
class ResourceType:
    token: str
    description: str
    inputs: tuple[Prop, ...]
    outputs: tuple[Prop, ...]
    """Outputs besides the inputs, which every resource also reports as outputs."""
    by_name: dict[str, Prop] = field(init=False, repr=False, compare=False)
    by_snake: dict[str, Prop] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        props = self.inputs + self.outputs
        object.__setattr__(self, "by_name", {p.name: p for p in props})
        object.__setattr__(self, "by_snake", {p.snake: p for p in props})


def _obj(name: str, description: str, *props: Prop) -> ObjectType:
    return ObjectType(f"{PACKAGE}:index:{name}", description, props)


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
OBJECT_TYPES = (COMPONENT_VERSION, PUBLISHED_COMPONENT, CONFIGURATION_UPDATE, DEPLOYMENT_COMPONENT)

_AWS_INPUTS = (
    Prop("role_arn", STRING, "IAM role to assume for every AWS call of this resource (a "
         "use-case account). Empty: the provider's own credentials. Changing it replaces the "
         "resource.", default=""),
)  # fmt: skip

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
        Prop("component_name", STRING, "Greengrass component name: starts with `model-`, at "
             "most 128 characters of `[A-Za-z0-9._-]`. Each target's component is "
             "`<componentName>-<target>` (`_` becomes `-`).", required=True),
        Prop("component_version", STRING, "Version of every target's component, `N.0.0` with "
             "N >= 1; a content change needs a bump. Omitted or empty: each target gets its "
             "own version, the next free major version when its content changes.", default=""),
        Prop("trained_model_uri", STRING, "The SageMaker training output archive "
             "(`model.tar.gz`): an `s3://bucket/key` URI (`?versionId=<id>` pins one object "
             "version) or a local path. The DDA manifest is built from it.", required=True),
        Prop("compiled_models", MapOf(STRING), "Compilation target (`jetson-xavier`, "
             "`arm64-cpu`, `x86_64-cpu`, `x86_64-cuda`) to its Neo-compiled model archive "
             "(`s3://` URI or local path).", required=True),
        Prop("artifact_bucket", STRING, "S3 bucket the model packages are uploaded to; the "
             "devices' token-exchange role must be able to read them.", required=True),
        Prop("artifact_prefix", STRING, "Key prefix for the packages in `artifactBucket`: "
             "empty or ending in `/`.", default=""),
        Prop("friendly_name", STRING, "Display name of the model; each target's is "
             "`<friendlyName> (<target>)`. Empty: `componentName`.", default=""),
        Prop("target_suffix", BOOLEAN, "False: notebook naming, exactly one target, and the "
             "component named `componentName` as given.", default=True),
        Prop("tags", MapOf(STRING), "Tags of every component version (keys starting with "
             "`aws:` or `pulumi-dda:` are reserved). Changing them updates in place.",
             default={}),
        *_AWS_INPUTS,
        Prop("region", STRING, "AWS region. Empty: the provider's `dda:region` config, else "
             "the standard AWS environment. Changing it replaces the resource.", default=""),
        Prop("relax_device_checks", BOOLEAN, "Accept a DDA manifest that misses what the "
             "device needs (stage threshold, image size, input shape); for experiments only.",
             default=False),
        Prop("wait_timeout_seconds", NUMBER, "How long to wait for each version to become "
             "`DEPLOYABLE`. 0 or omitted: 900 seconds.", default=0),
        Prop("archive_limits", MapOf(INTEGER), "Caps on every archive read: `max_total_bytes` "
             "(uncompressed, extension headers included, default 8 GiB), `max_members` (default "
             "10000) and `max_compression_ratio` (decompressed per compressed byte past 64 MiB, "
             "default 100).", default={}),
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
        Prop("target_arn", STRING, "ARN of the IoT thing or thing group to deploy to.",
             required=True),
        Prop("components", MapOf(Ref(DEPLOYMENT_COMPONENT)), "Component name to what to run. "
             "Wire model components from `ModelComponent.versions`.", required=True),
        Prop("deployment_name", STRING, "Name of the deployment.", default=""),
        Prop("deployment_policies", MapOf(AnyValue()), "Deployment policies in the "
             "Greengrass API's shape (`failureHandlingPolicy`, "
             "`componentUpdatePolicy`, `configurationValidationPolicy`).", default={}),
        Prop("iot_job_configuration", MapOf(AnyValue()), "IoT job configuration in the "
             "Greengrass API's shape (`jobExecutionsRolloutConfig`, `abortConfig`, "
             "`timeoutConfig`).", default={}),
        Prop("tags", MapOf(STRING), "Tags of the deployment (keys starting with `aws:` or "
             "`pulumi-dda:` are reserved).", default={}),
        Prop("region", STRING, "AWS region; must be the target's. Empty: the target ARN's "
             "region.", default=""),
        *_AWS_INPUTS,
        Prop("take_over", BOOLEAN, "Allow superseding the target's current deployment when "
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


# -- translation at the plugin's edge ---------------------------------------------------------

Direction = Literal["in", "out"]


def _convert(kind: Kind, value: Any, direction: Direction) -> Any:
    if isinstance(kind, MapOf) and isinstance(value, Mapping):
        return {k: _convert(kind.values, v, direction) for k, v in value.items()}
    if isinstance(kind, ListOf) and isinstance(value, list):
        return [_convert(kind.items, v, direction) for v in value]
    if isinstance(kind, Ref) and isinstance(value, Mapping):
        props = kind.object_type.props
        names = {p.name: p for p in props} if direction == "in" else {p.snake: p for p in props}
        return {
            (_rename(names[k], direction) if k in names else k): (
                _convert(names[k].kind, v, direction) if k in names else v
            )
            for k, v in value.items()
        }
    return value


def _rename(prop: Prop, direction: Direction) -> str:
    return prop.snake if direction == "in" else prop.name


def to_provider(resource: ResourceType, props: Mapping[str, Any]) -> JSONDict:
    """Schema (camelCase) properties → the provider's snake_case ones."""
    result: JSONDict = {}
    for key, value in props.items():
        prop = resource.by_name.get(key)
        result[prop.snake if prop else key] = _convert(prop.kind, value, "in") if prop else value
    return result


def from_provider(resource: ResourceType, props: Mapping[str, Any]) -> JSONDict:
    """The provider's snake_case properties → the schema's camelCase ones."""
    result: JSONDict = {}
    for key, value in props.items():
        prop = resource.by_snake.get(key)
        result[prop.name if prop else key] = _convert(prop.kind, value, "out") if prop else value
    return result


def unknown_keys(resource: ResourceType, props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(property, message)`` for each typed object (schema properties, camelCase) that has keys
    its type does not declare: the providers would take a snake_case key for their own."""
    found: list[tuple[str, str]] = []
    for key, value in props.items():
        if prop := resource.by_name.get(key):
            _unknown_keys(prop.kind, value, key, key, found)
    return found


def _unknown_keys(
    kind: Kind, value: Any, path: str, top: str, found: list[tuple[str, str]]
) -> None:
    if isinstance(kind, MapOf) and isinstance(value, Mapping):
        for key, item in value.items():
            _unknown_keys(kind.values, item, f"{path}.{key}", top, found)
    elif isinstance(kind, ListOf) and isinstance(value, list):
        for index, item in enumerate(value):
            _unknown_keys(kind.items, item, f"{path}[{index}]", top, found)
    elif isinstance(kind, Ref) and isinstance(value, Mapping):
        fields = {p.name: p for p in kind.object_type.props}
        if extra := sorted(set(value) - set(fields)):
            found.append((top, f"{path}: unknown keys {extra} (allowed: {sorted(fields)})"))
        for key, item in value.items():
            if key in fields:
                _unknown_keys(fields[key].kind, item, f"{path}.{key}", top, found)


def with_defaults(resource: ResourceType, props: Mapping[str, Any]) -> JSONDict:
    """The provider's inputs with the schema's defaults for what the program left out."""
    result = dict(props)
    for prop in resource.inputs:
        if result.get(prop.snake) is None and prop.default is not None:
            default = prop.default
            result[prop.snake] = dict(default) if isinstance(default, dict) else default
    return result


def _all_props() -> list[Prop]:
    props = [p for r in RESOURCES.values() for p in r.inputs + r.outputs]
    return props + [p for t in OBJECT_TYPES for p in t.props]


_SNAKE_TO_NAME = {p.snake: p.name for p in _all_props() if p.snake != p.name}
_NAME_TO_SNAKE = {name: snake for snake, name in _SNAKE_TO_NAME.items()}


def _identifiers(names: Mapping[str, str]) -> re.Pattern[str]:
    alternatives = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9_])({alternatives})(?![A-Za-z0-9_])")


_SNAKE_WORDS = _identifiers(_SNAKE_TO_NAME)
_NAME_WORDS = _identifiers(_NAME_TO_SNAKE)
_CONFIG_KEYS = {f"aws:{p.name}": f"{PACKAGE}:{p.name}" for p in CONFIG}
"""The hooks read ``aws:region`` / ``aws:profile``; the plugin's own config is ``dda:*``."""


def schema_names(text: str) -> str:
    """A provider message or field path (``compiled_models.x86_64-cpu``) with the schema's
    property names (``compiledModels.x86_64-cpu``) and config keys (``dda:region``)."""
    for key, name in _CONFIG_KEYS.items():
        text = text.replace(key, name)
    return _SNAKE_WORDS.sub(lambda m: _SNAKE_TO_NAME[m.group(1)], text)


def provider_names(text: str) -> str:
    """The inverse of :func:`schema_names`."""
    for key, name in _CONFIG_KEYS.items():
        text = text.replace(name, key)
    return _NAME_WORDS.sub(lambda m: _NAME_TO_SNAKE[m.group(1)], text)


# -- the published schema ----------------------------------------------------------------------


def _type_spec(kind: Kind) -> JSONDict:
    if isinstance(kind, Scalar):
        return {"type": kind.name}
    if isinstance(kind, AnyValue):
        return {"$ref": "pulumi.json#/Any"}
    if isinstance(kind, MapOf):
        return {"type": "object", "additionalProperties": _type_spec(kind.values)}
    if isinstance(kind, ListOf):
        return {"type": "array", "items": _type_spec(kind.items)}
    return {"$ref": f"#/types/{kind.object_type.token}"}


def _props_spec(props: tuple[Prop, ...], *, defaults: bool = False) -> JSONDict:
    spec: JSONDict = {}
    for prop in props:
        entry = {**_type_spec(prop.kind), "description": prop.description}
        if defaults and prop.default is not None and not isinstance(prop.default, dict):
            entry["default"] = prop.default
        spec[prop.name] = entry
    return spec


def _required(props: tuple[Prop, ...]) -> list[str]:
    return [p.name for p in props if p.required]


def _resource_spec(resource: ResourceType) -> JSONDict:
    everything = resource.inputs + resource.outputs
    return {
        "description": resource.description,
        "properties": _props_spec(everything),
        # The plugin fills in every input's default, so all of them are always outputs too.
        "required": sorted([p.name for p in resource.inputs] + _required(resource.outputs)),
        "inputProperties": _props_spec(resource.inputs, defaults=True),
        "requiredInputs": _required(resource.inputs),
    }


def package_version() -> str:
    return metadata.version("pulumi-dda")


def package_schema() -> JSONDict:
    """The Pulumi package schema the plugin publishes (``GetSchema``)."""
    return {
        "name": PACKAGE,
        "displayName": "pulumi-dda",
        "version": package_version(),
        "description": "DDA (Defect Detection Application) model components and their "
        "deployments on AWS IoT Greengrass v2.",
        "keywords": ["pulumi", "aws", "greengrass", "dda", "category/cloud"],
        "license": "Apache-2.0",
        "config": {"variables": _props_spec(CONFIG)},
        "provider": {
            "description": "The pulumi-dda provider: AWS region and profile for its resources.",
            "inputProperties": _props_spec(CONFIG),
        },
        "types": {
            t.token: {
                "type": "object",
                "description": t.description,
                "properties": _props_spec(t.props),
                "required": _required(t.props),
            }
            for t in OBJECT_TYPES
        },
        "resources": {r.token: _resource_spec(r) for r in RESOURCES.values()},
        "language": {
            "nodejs": {
                "packageName": "@pulumi-dda/dda",
                "respectSchemaVersion": True,
                "packageDescription": "pulumi-dda: DDA model components on AWS IoT Greengrass v2",
            }
        },
    }
