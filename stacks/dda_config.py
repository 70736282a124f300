"""Stack config: read once, checked, and handed on as frozen dataclasses.

The keys are documented in the docstring of ``dda_stack``; a mistake in them stops the program
before any resource is declared, naming the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi

from dda_devices import FleetConfig
from dda_policies import S3Location
from pulumi_dda.recipe import TARGETS

MODEL_KEYS = {
    "componentName",
    "componentVersion",
    "friendlyName",
    "trainedModelUri",
    "compiledModels",
}
FLEET_KEYS = {"thingNamePrefix", "claimCertificateRequest"}
DEVICE_KEYS = ("certificateRequests", "fleetProvisioning", "localServerArtifacts", "nucleusVersion")
_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
# Policy names are [\w+=,.@-]{1,128} and each device's is "dda-core-<thing>".
_THING_NAME = re.compile(r"^[A-Za-z0-9_-]{1,119}$")
_CSR = re.compile(
    r"^-----BEGIN CERTIFICATE REQUEST-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE REQUEST-----\n?$"
)
_S3_LOCATION = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/((?:[^*?]+/)?)$")
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
    local_server_artifacts: list[S3Location]
    nucleus_version: str | None
    log_manager_version: str | None
    role_arn: str | None
    """The role every AWS call of the stack assumes (its account is the stack's account)."""
    aws_profile: str | None
    take_over: bool = False
    """The deployments may supersede a thing group's deployment another owner made."""


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
        local_server = _read_local_server(config.require_object("localServerArtifacts"))
        nucleus_version = config.require("nucleusVersion")
    else:
        given = [key for key in DEVICE_KEYS if config.get(key) is not None]
        if given:
            raise pulumi.RunError(
                f"pulumi-dda:{', '.join(given)} only apply when manageInfrastructure is true"
            )
        certificate_requests, local_server, nucleus_version = {}, [], None
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
        local_server_artifacts=local_server,
        nucleus_version=nucleus_version,
        log_manager_version=_read_log_manager(config.get_object("logManager")),
        role_arn=role_arn,
        aws_profile=pulumi.Config("aws").get("profile"),
        take_over=bool(config.get_bool("takeOver", False)),
    )


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
    return {str(k): str(v).strip() + "\n" for k, v in raw.items()}


def _read_fleet(raw: Any) -> FleetConfig | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != FLEET_KEYS:
        raise pulumi.RunError(
            f"pulumi-dda:fleetProvisioning must have exactly the keys {sorted(FLEET_KEYS)}"
        )
    prefix, csr = raw["thingNamePrefix"], raw["claimCertificateRequest"]
    if not isinstance(prefix, str) or not re.match(r"^[A-Za-z0-9_-]{1,64}$", prefix):
        raise pulumi.RunError("pulumi-dda:fleetProvisioning.thingNamePrefix: 1 to 64 [A-Za-z0-9_-]")
    if not isinstance(csr, str) or not _CSR.match(csr.strip() + "\n"):
        raise pulumi.RunError(
            "pulumi-dda:fleetProvisioning.claimCertificateRequest is not a PEM certificate request"
        )
    return FleetConfig(thing_name_prefix=prefix, claim_certificate_request=csr.strip() + "\n")


def _read_local_server(raw: Any) -> list[S3Location]:
    if not isinstance(raw, list) or not raw:
        raise pulumi.RunError(
            "pulumi-dda:localServerArtifacts must list the s3:// locations of the LocalServer's "
            "artifacts (the device role must read them)"
        )
    locations = []
    for uri in raw:
        match = _S3_LOCATION.match(uri) if isinstance(uri, str) else None
        if not match:
            raise pulumi.RunError(
                f"pulumi-dda:localServerArtifacts: {uri!r} is not s3://bucket/ or "
                "s3://bucket/prefix/ (a prefix ends in '/', so it cannot match a sibling)"
            )
        locations.append(S3Location(bucket=match[1], prefix=match[2]))
    return locations


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
