"""``GreengrassDeployment``'s inputs checked at preview, one rule per input (:data:`CHECKS`), each
failure naming its input; and the typed shapes of its components for Python programs."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Required, TypedDict

from . import arn as arns
from ._host import (
    is_known,
    is_unknown,
)
from .errors import InputError
from .greengrass import MAX_KEEP
from .inputs import check_role_arn, check_tags
from .rollout import RolloutPolicy, parse_stages

if TYPE_CHECKING:
    pass

SEMVER = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
SPEC_KEYS = frozenset({"component_version", "configuration_update"})
UPDATE_KEYS = frozenset({"merge", "reset"})


def _check_target_arn(value: Any) -> None:
    if not value:
        raise InputError("target_arn is required")
    if arns.iot_target(value) is None:
        raise InputError(
            f"target_arn {value!r} is not an IoT thing or thing group ARN "
            "(arn:aws:iot:<region>:<account>:thing/<name> or ...:thinggroup/<name>)"
        )


def _check_keys(where: str, value: Any, allowed: frozenset[str]) -> None:
    if not isinstance(value, Mapping):
        raise InputError(f"{where} must be a mapping with keys {sorted(allowed)}")
    if extra := sorted(set(value) - allowed):
        raise InputError(f"{where}: unknown keys {extra} (allowed: {sorted(allowed)})")


def _check_components(value: Any) -> None:
    if not isinstance(value, Mapping) or not value:
        raise InputError("components must be a non-empty mapping of component name to spec")
    for name, spec in value.items():
        where = f"components.{name}"
        if not 1 <= len(name) <= 128:
            raise InputError(f"components: name {name!r} must be 1-128 characters")
        if is_unknown(spec):
            continue
        _check_keys(where, spec, SPEC_KEYS)
        version = spec.get("component_version")
        if not is_unknown(version) and not (
            isinstance(version, str) and len(version) <= 64 and SEMVER.match(version)
        ):
            raise InputError(f"{where}.component_version {version!r} is not a semantic version")
        update = spec.get("configuration_update")
        if update is not None and is_known(update):
            _check_configuration_update(f"{where}.configuration_update", update)


def _check_configuration_update(where: str, update: Any) -> None:
    _check_keys(where, update, UPDATE_KEYS)
    if (merge := update.get("merge")) is not None:
        try:
            parsed = json.loads(merge) if isinstance(merge, str) else None
        except ValueError as exc:
            raise InputError(f"{where}.merge is not valid JSON: {exc}") from exc
        if not isinstance(parsed, dict):
            raise InputError(f"{where}.merge must be the JSON text of an object")
    reset = update.get("reset")
    if reset is not None and not (
        isinstance(reset, list) and all(isinstance(p, str) for p in reset)
    ):
        raise InputError(f"{where}.reset must be a list of JSON pointers")


def _check_role_arn(value: Any) -> None:
    if value:
        check_role_arn(value)


def _check_type(key: str, kind: type, what: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if not isinstance(value, kind):
            raise InputError(f"{key} must be {what}")

    return check


def _check_keep(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise InputError(f"keep_revisions must be a whole number, got {value!r}")
    if not 1 <= value <= MAX_KEEP:
        raise InputError(f"keep_revisions must be between 1 and {MAX_KEEP}, got {value!r}")


CHECKS: dict[str, Callable[[Any], object]] = {
    "target_arn": _check_target_arn,
    "components": _check_components,
    "deployment_name": _check_type("deployment_name", str, "a string"),
    "deployment_policies": _check_type("deployment_policies", Mapping, "a mapping (API shape)"),
    "iot_job_configuration": _check_type("iot_job_configuration", Mapping, "a mapping"),
    "tags": check_tags,
    "region": _check_type("region", str, "a string"),
    "role_arn": _check_role_arn,
    "take_over": _check_type("take_over", bool, "true or false"),
    "rollout": RolloutPolicy.parse,
    "stages": parse_stages,
    "keep_revisions": _check_keep,
}


class ConfigurationUpdate(TypedDict, total=False):
    """What a deployment does to a component's configuration (``merge`` is JSON text)."""

    merge: str
    reset: list[str]


class DeploymentComponent(TypedDict, total=False):
    """One component of a deployment."""

    component_version: Required[str]
    configuration_update: ConfigurationUpdate
