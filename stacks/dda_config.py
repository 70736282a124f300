"""Stack config: read once, checked, and handed on as frozen dataclasses.

The keys are documented in the docstring of ``dda_stack``; a mistake in them stops the program
before any resource is declared, naming the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi

from dda_devices import CLAIM_CLIENT_PREFIX, FleetConfig
from pulumi_dda.recipe import TARGETS

MODEL_KEYS = {
    "componentName",
    "componentVersion",
    "friendlyName",
    "trainedModelUri",
    "compiledModels",
}
FLEET_KEYS = {"thingNamePrefix", "claimCertificateRequest"}
FLEET_OPTIONAL_KEYS = {"preProvisioningHookArn"}
# The oldest nucleus the stack's devices can run:
# - 2.5.0: the core device policy lets the nucleus call greengrass:ListThingGroupsForCoreDevice,
#   which only nucleus 2.5.0 and later use to learn its thing groups (minimal IoT policy page);
#   an older nucleus needs other permissions than the ones declared.
# - 2.6.0: DDA's LocalServer restarts and stops model components through the Greengrass CLI
#   IPC service (its recipe's accessControl for aws.greengrass.Cli), which exists only on
#   nucleus 2.6.0 and later ("Manage local deployments and components").
MIN_NUCLEUS = (2, 6, 0)
# The Greengrass CLI IPC service needs CLI 2.6.0 or later (same page).
MIN_GREENGRASS_CLI = (2, 6, 0)
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
_LAMBDA_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[\w$-]+)?$"
)
DEVICE_KEYS = (
    "certificateRequests",
    "fleetProvisioning",
    "nucleusVersion",
    "greengrassCli",
)
_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
# Policy names are [\w+=,.@-]{1,128} and each device's is "dda-core-<thing>".
_THING_NAME = re.compile(r"^[A-Za-z0-9_-]{1,119}$")
_CSR = re.compile(
    r"^-----BEGIN CERTIFICATE REQUEST-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE REQUEST-----\n?$"
)
# Replaced by the artifacts the LocalServer recipes name (DdaModelComponent.local_server_artifacts).
DEPRECATED_KEYS = {
    "localServerArtifacts": "the device role now reads exactly the artifacts the published "
    "LocalServer recipes name (DdaModelComponent.local_server_artifacts); remove the key",
}
# The provider's own check of role_arn (pulumi_dda.inputs), so a mistake stops before preview.
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")


@dataclass(frozen=True)
class ModelConfig:
    """The config ``model`` block: what ``DdaModelComponent`` builds."""

    component_name: str
    trained_model_uri: str
    compiled_models: dict[str, str]
    component_version: str | None
    friendly_name: str | None


@dataclass(frozen=True)
class RolloutConfig:
    """The config ``rollout`` block: how each new model reaches the devices."""

    policy: dict[str, Any] | None
    """Every deployment's outcome policy (``GreengrassDeployment.rollout``), snake_case keys."""
    canary: dict[str, list[str]]
    """Target -> things of its group that get each new model first (a subdeployment)."""
    gate: dict[str, Any] | None
    """The canary stage's gate (a rollout policy); None: every canary device must succeed."""
    keep_revisions: int | None


ROLLOUT_KEYS = frozenset({"policy", "canary", "gate", "keepRevisions"})


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
    certificate_requests: dict[str, str]
    fleet: FleetConfig | None
    nucleus_version: str | None
    log_manager_version: str | None
    greengrass_cli_version: str | None
    """``aws.greengrass.Cli``, which DDA's LocalServer uses to restart models (managed only)."""
    role_arn: str | None
    """The role every AWS call of the stack assumes (its account is the stack's account)."""
    aws_profile: str | None
    take_over: bool = False
    """The deployments may supersede a thing group's deployment another owner made."""
    rollout: RolloutConfig = RolloutConfig(None, {}, None, None)


def read_config() -> StackConfig:
    """Read and check the stack config; a mistake stops the program before any resource."""
    config = pulumi.Config()
    for key, why in DEPRECATED_KEYS.items():
        if config.get(key) is not None:
            pulumi.log.warn(f"pulumi-dda:{key} is ignored: {why}")
    manage = config.get_bool("manageInfrastructure", True)
    account_id = config.get("accountId")
    if not manage and not (account_id and _ACCOUNT_ID.match(account_id)):
        # Without managed groups there is no resource to take the thing-group ARNs from.
        raise pulumi.RunError(
            "pulumi-dda:accountId (12 digits) is required when manageInfrastructure is false"
        )
    role_arn = _read_role_arn(config.get("roleArn"), None if manage else account_id)
    fleet = _read_fleet(config.get_object("fleetProvisioning"))
    devices = _read_devices(config.require_object("devices"), allow_empty=fleet is not None)
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
    if manage:
        certificate_requests = _read_certificate_requests(config, devices, fleet)
        nucleus_version = _read_nucleus_version(config.require("nucleusVersion"))
        cli_version = _read_greengrass_cli(config.get_object("greengrassCli"))
    else:
        given = [key for key in DEVICE_KEYS if config.get(key) is not None]
        if given:
            raise pulumi.RunError(
                f"pulumi-dda:{', '.join(given)} only apply when manageInfrastructure is true"
            )
        certificate_requests, nucleus_version, cli_version = {}, None, None
    return StackConfig(
        region=pulumi.Config("aws").require("region"),
        manage_infrastructure=manage,
        account_id=account_id,
        artifact_bucket=config.require("artifactBucket"),
        artifact_prefix=config.get("artifactPrefix", ""),
        devices=devices,
        model=model,
        tags={str(k): v for k, v in tags.items()},
        certificate_requests=certificate_requests,
        fleet=fleet,
        nucleus_version=nucleus_version,
        log_manager_version=_read_log_manager(config.get_object("logManager")),
        greengrass_cli_version=cli_version,
        role_arn=role_arn,
        aws_profile=pulumi.Config("aws").get("profile"),
        take_over=bool(config.get_bool("takeOver", False)),
        rollout=_read_rollout(config.get_object("rollout"), devices),
    )


def _version(raw: Any) -> tuple[int, int, int] | None:
    match = _VERSION.match(raw) if isinstance(raw, str) else None
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def _dotted(version: tuple[int, int, int]) -> str:
    return ".".join(str(part) for part in version)


def _read_nucleus_version(raw: Any) -> str:
    version = _version(raw)
    if version is None or version < MIN_NUCLEUS:
        raise pulumi.RunError(
            f"pulumi-dda:nucleusVersion {raw!r} must be a version {_dotted(MIN_NUCLEUS)} or later "
            "(2.5.0 for the declared IoT policy, 2.6.0 for the Greengrass CLI IPC service "
            "DDA's LocalServer uses)"
        )
    return str(raw)


def _read_greengrass_cli(raw: Any) -> str:
    version = _version(raw.get("componentVersion")) if isinstance(raw, dict) else None
    if not isinstance(raw, dict) or set(raw) != {"componentVersion"} or version is None:
        raise pulumi.RunError(
            "pulumi-dda:greengrassCli must be {componentVersion: <version>}: DDA's LocalServer "
            "restarts models through aws.greengrass.Cli, so every deployment includes it"
        )
    if version < MIN_GREENGRASS_CLI:
        raise pulumi.RunError(
            f"pulumi-dda:greengrassCli.componentVersion must be {_dotted(MIN_GREENGRASS_CLI)} "
            "or later (its IPC service)"
        )
    return str(raw["componentVersion"])


def _read_role_arn(raw: str | None, account_id: str | None) -> str | None:
    if not raw:
        return None
    match = _ROLE_ARN.match(raw)
    if not match:
        raise pulumi.RunError(
            f"pulumi-dda:roleArn {raw!r} is not an IAM role ARN "
            "(arn:aws:iam::<account>:role/<name>)"
        )
    if account_id is not None and match[1] != account_id:
        # The deployments target thing groups named by accountId; the role acts in its own account.
        raise pulumi.RunError(
            f"pulumi-dda:roleArn is a role in account {match[1]} but pulumi-dda:accountId is "
            f"{account_id}: the thing groups and the component versions must be in one account"
        )
    return raw


def _snake_keys(value: Any) -> Any:
    """``{successPercent: 90}`` as the Python resource takes it: ``{success_percent: 90}``.
    The values are checked by the resource at preview, naming the field."""
    if not isinstance(value, dict):
        return value
    return {re.sub(r"(?<!^)([A-Z])", r"_\1", k).lower(): v for k, v in value.items()}


def _read_rollout(raw: Any, devices: dict[str, list[str]]) -> RolloutConfig:
    if raw is None:
        return RolloutConfig(None, {}, None, None)
    if not isinstance(raw, dict) or (unknown := sorted(set(raw) - ROLLOUT_KEYS)):
        raise pulumi.RunError(
            f"pulumi-dda:rollout must be a mapping with keys {sorted(ROLLOUT_KEYS)}"
            + (f", not {unknown}" if isinstance(raw, dict) else "")
        )
    canary = raw.get("canary") or {}
    if not isinstance(canary, dict):
        raise pulumi.RunError("pulumi-dda:rollout.canary must map targets to thing names")
    for target, things in canary.items():
        strays = [t for t in things or [] if t not in devices.get(target, [])]
        if not isinstance(things, list) or not things or strays:
            raise pulumi.RunError(
                f"pulumi-dda:rollout.canary.{target} must list some of "
                f"pulumi-dda:devices.{target} (not {strays or things})"
            )
    keep = raw.get("keepRevisions")
    return RolloutConfig(
        policy=_snake_keys(raw.get("policy")),
        canary={str(t): list(things) for t, things in canary.items()},
        gate=_snake_keys(raw.get("gate")),
        keep_revisions=keep if keep is None else int(keep),
    )


def _read_devices(raw: Any, allow_empty: bool = False) -> dict[str, list[str]]:
    if not isinstance(raw, dict) or not raw:
        raise pulumi.RunError("pulumi-dda:devices must map compilation targets to thing names")
    devices: dict[str, list[str]] = {}
    seen: set[str] = set()
    for target, things in raw.items():
        if target not in TARGETS:
            known = ", ".join(sorted(TARGETS))
            raise pulumi.RunError(f"pulumi-dda:devices: unknown target {target!r} ({known})")
        if not isinstance(things, list) or not (things or allow_empty):
            raise pulumi.RunError(f"pulumi-dda:devices.{target} must be a non-empty list")
        bad = [t for t in things if not (isinstance(t, str) and _THING_NAME.match(t))]
        if bad:
            raise pulumi.RunError(
                f"pulumi-dda:devices.{target}: thing names must be 1 to 119 of [A-Za-z0-9_-]: {bad}"
            )
        # A thing in two platform groups would receive two models for different hardware.
        twice = seen.intersection(things)
        if twice or len(set(things)) != len(things):
            raise pulumi.RunError(
                f"pulumi-dda:devices.{target}: thing names listed twice: {sorted(twice) or things}"
            )
        seen.update(things)
        devices[target] = [str(t) for t in things]
    return devices


def _read_certificate_requests(
    config: pulumi.Config, devices: dict[str, list[str]], fleet: FleetConfig | None
) -> dict[str, str]:
    raw = config.get_object("certificateRequests", {})
    if not isinstance(raw, dict):
        raise pulumi.RunError("pulumi-dda:certificateRequests must map thing names to PEM CSRs")
    things = {t for names in devices.values() for t in names}
    unknown = sorted(set(raw) - things)
    if unknown:
        raise pulumi.RunError(
            f"pulumi-dda:certificateRequests: {unknown} are not things in pulumi-dda:devices"
        )
    missing = sorted(things - set(raw))
    if missing:
        raise pulumi.RunError(
            f"pulumi-dda:certificateRequests has no CSR for {missing}: make the key and CSR on "
            "the device (see docs/operations.md) and add the CSR here"
        )
    for thing, csr in raw.items():
        if not isinstance(csr, str) or not _CSR.match(csr.strip() + "\n"):
            raise pulumi.RunError(
                f"pulumi-dda:certificateRequests.{thing} is not a PEM certificate request"
            )
        if fleet is not None and thing.startswith(fleet.thing_name_prefix):
            # The shared fleet policy covers every name with the prefix, this thing's topics too.
            raise pulumi.RunError(
                f"pulumi-dda:devices: {thing} starts with fleetProvisioning.thingNamePrefix"
            )
        if fleet is not None and thing.startswith(CLAIM_CLIENT_PREFIX):
            # A claim certificate may connect with such client ids: it could take this one's.
            raise pulumi.RunError(
                f"pulumi-dda:devices: {thing} starts with {CLAIM_CLIENT_PREFIX!r}, the client ids "
                "reserved for claim certificates"
            )
    return {str(k): str(v).strip() + "\n" for k, v in raw.items()}


def _read_fleet(raw: Any) -> FleetConfig | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not FLEET_KEYS <= set(raw) <= FLEET_KEYS | FLEET_OPTIONAL_KEYS:
        raise pulumi.RunError(
            f"pulumi-dda:fleetProvisioning must have the keys {sorted(FLEET_KEYS)} "
            f"(and optionally {sorted(FLEET_OPTIONAL_KEYS)})"
        )
    prefix, csr = raw["thingNamePrefix"], raw["claimCertificateRequest"]
    if not isinstance(prefix, str) or not re.match(r"^[A-Za-z0-9_-]{1,64}$", prefix):
        raise pulumi.RunError("pulumi-dda:fleetProvisioning.thingNamePrefix: 1 to 64 [A-Za-z0-9_-]")
    if not isinstance(csr, str) or not _CSR.match(csr.strip() + "\n"):
        raise pulumi.RunError(
            "pulumi-dda:fleetProvisioning.claimCertificateRequest is not a PEM certificate request"
        )
    if prefix.startswith(CLAIM_CLIENT_PREFIX) or CLAIM_CLIENT_PREFIX.startswith(prefix):
        # Fleet devices connect as their thing name; claim certificates as dda-claim-*.
        raise pulumi.RunError(
            f"pulumi-dda:fleetProvisioning.thingNamePrefix {prefix!r} overlaps "
            f"{CLAIM_CLIENT_PREFIX!r}, the client ids reserved for claim certificates"
        )
    hook = raw.get("preProvisioningHookArn")
    if hook is not None and not (isinstance(hook, str) and _LAMBDA_ARN.match(hook)):
        raise pulumi.RunError(
            "pulumi-dda:fleetProvisioning.preProvisioningHookArn is not a Lambda function ARN"
        )
    return FleetConfig(
        thing_name_prefix=prefix,
        claim_certificate_request=csr.strip() + "\n",
        pre_provisioning_hook_arn=hook,
    )


def _read_log_manager(raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != {"componentVersion"}:
        raise pulumi.RunError("pulumi-dda:logManager must be {componentVersion: <version>}")
    version = raw["componentVersion"]
    if not isinstance(version, str) or not re.match(r"^\d+\.\d+\.\d+$", version):
        raise pulumi.RunError("pulumi-dda:logManager.componentVersion must be a version like 2.3.5")
    return version


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
