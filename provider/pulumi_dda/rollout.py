"""A deployment that knows its outcome: what its devices report for a revision, judged by the
rollout policy of a :class:`GreengrassDeployment`.

The service accepts a deployment long before devices act on it, and a thing group's deployment
never finishes on its own (its IoT job stays in progress while devices fail; aws/aws-cli#6185).
What each device did is only in the data-plane views: ``ListEffectiveDeployments`` per core
device (``coreDeviceExecutionStatus``, ``reason``) — the API reference of AWS IoT Greengrass
v2. So with a ``rollout`` policy, creating a revision also waits for its devices:

- **Who counts.** The target's core devices when the revision is created: the IoT thing, or
  the things of the thing group (``ListThingsInThingGroup``) that are Greengrass core devices
  (``GetCoreDevice``). A device that joins later never blocks the revision. With
  ``ignoreUnhealthy`` (the default), a device whose ``GetCoreDevice`` status is ``UNHEALTHY``
  then is left out as well.
- **Met** when at least ``successPercent`` % of them (rounded up) report ``SUCCEEDED`` for this
  revision; **failed** as soon as too many report ``FAILED``, ``REJECTED``, ``TIMED_OUT`` or
  ``CANCELED`` for that to happen, or when ``timeoutSeconds`` pass first (a device that stays
  offline stays pending).
- **On failure** ``onFailure: fail`` fails the update with one line; ``revert`` first deploys
  the last revision that met its policy again, waits for it, then fails with one line saying
  so. The stack keeps the state of that last good revision, so the next ``up`` after a fix
  deploys again.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import arn as arns
from .aws import AwsClients, aws_errors
from .errors import InputError, NotFoundError

FAILURES = frozenset({"FAILED", "REJECTED", "TIMED_OUT", "CANCELED"})
ON_FAILURE = ("fail", "revert")
POLICY_KEYS = (
    "success_percent",
    "timeout_seconds",
    "on_failure",
    "ignore_unhealthy",
    "bake_seconds",
)
STAGE_KEYS = ("target_arn", "rollout", "subdeployment")
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class RolloutPolicy:
    success_percent: float = 100.0
    timeout_seconds: float = 600.0
    on_failure: str = "fail"
    ignore_unhealthy: bool = True
    bake_seconds: float = 0.0

    @classmethod
    def parse(cls, value: Any, where: str = "rollout") -> RolloutPolicy | None:
        """The policy an input names (``None`` when it names none); raises naming the field
        (``where``: ``rollout`` or ``stages[i].rollout``)."""
        if not value:
            return None
        field = where.split("[", 1)[0].split(".", 1)[0]
        if not isinstance(value, Mapping):
            raise InputError(f"{where} must be an object", field=field)
        if extra := sorted(set(value) - set(POLICY_KEYS)):
            raise InputError(
                f"{where}: unknown keys {extra} (allowed: {list(POLICY_KEYS)})", field=field
            )
        policy = cls(**{k: v for k, v in value.items() if v is not None})
        try:
            policy.validate(where)
        except InputError as exc:
            raise InputError(str(exc), field=field) from None
        return policy

    def validate(self, where: str) -> None:
        percent, timeout = self.success_percent, self.timeout_seconds
        if (
            isinstance(percent, bool)
            or not isinstance(percent, int | float)
            or not 0 < percent <= 100
        ):
            raise InputError(
                f"{where}.success_percent must be a number in (0, 100], got {percent!r}",
            )
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise InputError(
                f"{where}.timeout_seconds must be a positive number of seconds, got {timeout!r}",
            )
        if self.on_failure not in ON_FAILURE:
            raise InputError(
                f"{where}.on_failure must be one of {list(ON_FAILURE)}, got {self.on_failure!r}",
            )
        if not isinstance(self.ignore_unhealthy, bool):
            raise InputError(f"{where}.ignore_unhealthy must be true or false")
        bake = self.bake_seconds
        if isinstance(bake, bool) or not isinstance(bake, int | float) or bake < 0:
            raise InputError(f"{where}.bake_seconds must be a number of seconds >= 0, got {bake!r}")

    def needed(self, devices: int) -> int:
        """How many of ``devices`` counted devices must succeed (``success_percent``, rounded
        up)."""
        return math.ceil(devices * self.success_percent / 100)

    def gate(self) -> str:
        """``100% of its devices within 600 s, bake 60 s``, for a preview line."""
        bake = f", bake {self.bake_seconds:g} s" if self.bake_seconds else ""
        return f"{self.success_percent:g}% of its devices within {self.timeout_seconds:g} s{bake}"


@dataclass(frozen=True)
class Stage:
    """A stage of a staged rollout (``GreengrassDeployment.stages``)."""

    target_arn: str
    policy: RolloutPolicy
    subdeployment: bool = False


def parse_stages(value: Any, main_target: Any = None) -> list[Stage]:
    """The stages an input names; raises naming ``stages[i]``. Unknown values are the
    caller's to skip."""
    if not value:
        return []
    if not isinstance(value, list):
        raise InputError("stages must be a list of stages", field="stages")
    stages: list[Stage] = []
    for i, item in enumerate(value):
        where = f"stages[{i}]"
        if not isinstance(item, Mapping):
            raise InputError(f"{where} must be an object", field="stages")
        if extra := sorted(set(item) - set(STAGE_KEYS)):
            raise InputError(
                f"{where}: unknown keys {extra} (allowed: {sorted(STAGE_KEYS)})", field="stages"
            )
        target = item.get("target_arn")
        if arns.iot_target(target) is None:
            raise InputError(
                f"{where}.target_arn {target!r} is not an IoT thing or thing group ARN",
                field="stages",
            )
        if target == main_target or target in [s.target_arn for s in stages]:
            raise InputError(
                f"{where}.target_arn {target} is already a target of this rollout", field="stages"
            )
        sub = item.get("subdeployment") or False
        if not isinstance(sub, bool):
            raise InputError(f"{where}.subdeployment must be true or false", field="stages")
        if sub and not (_is_group(target) and (main_target is None or _is_group(main_target))):
            raise InputError(
                f"{where}.subdeployment: a subdeployment's target and the resource's targetArn "
                "must both be thing groups",
                field="stages",
            )
        gate = item.get("rollout") or {}
        if isinstance(gate, Mapping) and gate.get("on_failure") not in (None, "revert"):
            raise InputError(
                f"{where}.rollout.on_failure {gate['on_failure']!r}: a stage whose gate fails is "
                "always reverted (its later stages and the target untouched); leave it out or "
                "set revert",
                field="stages",
            )
        policy = RolloutPolicy.parse(item.get("rollout"), f"{where}.rollout") or RolloutPolicy()
        stages.append(Stage(str(target), policy, sub))
    return stages


def _is_group(target: Any) -> bool:
    found = arns.iot_target(target)
    return found is not None and found.kind == "thinggroup"


@dataclass
class Tally:
    """What the counted devices report for one revision."""

    deployment_id: str
    devices: list[str]
    needed: int
    succeeded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    """Device → its status and reason."""
    broke_while_baking: bool = False
    """The policy was met, then lost while baking (see :func:`wait`)."""

    @property
    def pending(self) -> int:
        return len(self.devices) - len(self.succeeded) - len(self.failed)

    @property
    def met(self) -> bool:
        return len(self.succeeded) >= self.needed

    @property
    def hopeless(self) -> bool:
        return len(self.devices) - len(self.failed) < self.needed

    def line(self) -> str:
        return (
            f"{len(self.succeeded)}/{len(self.devices)} devices succeeded, {len(self.failed)} "
            f"failed, {self.pending} pending (needs {self.needed})"
        )

    def verdict(self) -> str:
        """Why a revision that is not :attr:`met` failed, for the error line."""
        if self.broke_while_baking:
            return f"{self.why()} while baking"
        return self.why() if self.hopeless else f"timed out: {self.line()}"

    def why(self) -> str:
        """``3 of 20 devices failed (<the first failure's reason>)``."""
        first = next(iter(self.failed.values()), "")
        return f"{len(self.failed)} of {len(self.devices)} devices failed" + (
            f" ({first})" if first else ""
        )

    def output(self, outcome: str, drifted: Mapping[str, str] | None = None) -> dict[str, Any]:
        return {
            "deployment_id": self.deployment_id,
            "devices": len(self.devices),
            "succeeded": len(self.succeeded),
            "failed": len(self.failed),
            "pending": self.pending,
            "outcome": outcome,
            "drifted": dict(drifted or {}),
        }


def population(clients: AwsClients, kind: str, name: str, policy: RolloutPolicy) -> list[str]:
    """The core devices a revision to this target counts (see the module docstring)."""
    if kind == "thing":
        things = [name]
    else:
        with aws_errors(f"listing the things of thing group {name}"):
            pages = clients.iot.get_paginator("list_things_in_thing_group").paginate(
                thingGroupName=name
            )
            things = sorted(t for page in pages for t in page.get("things", []))
    devices = []
    for thing in things:
        try:
            with aws_errors(f"reading core device {thing}"):
                found = clients.greengrass.get_core_device(coreDeviceThingName=thing)
        except NotFoundError:
            continue  # not a Greengrass core device
        if policy.ignore_unhealthy and found.get("status") == "UNHEALTHY":
            continue
        devices.append(thing)
    return devices


def tally(
    clients: AwsClients,
    deployment_id: str,
    devices: list[str],
    needed: int,
    *,
    health: bool = False,
) -> Tally:
    """What ``devices`` report for the revision; with ``health`` a device that succeeded but
    is ``UNHEALTHY`` now (a component broke after the install) counts as failed."""
    result = Tally(deployment_id, devices, needed)
    for device in devices:
        with aws_errors(f"reading the deployments of core device {device}"):
            pages = clients.greengrass.get_paginator("list_effective_deployments").paginate(
                coreDeviceThingName=device
            )
            found = [
                e
                for page in pages
                for e in page.get("effectiveDeployments", [])
                if e.get("deploymentId") == deployment_id
            ]
        status = str(found[0].get("coreDeviceExecutionStatus", "")) if found else ""
        if status in ("SUCCEEDED", "COMPLETED"):
            if health and _unhealthy(clients, device):
                result.failed[device] = "UNHEALTHY after it succeeded"
            else:
                result.succeeded.append(device)
        elif status in FAILURES:
            reason = str(found[0].get("reason") or "")
            result.failed[device] = f"{status}: {reason}" if reason else status
    return result


def _unhealthy(clients: AwsClients, device: str) -> bool:
    with aws_errors(f"reading core device {device}"):
        found = clients.greengrass.get_core_device(coreDeviceThingName=device)
    return found.get("status") == "UNHEALTHY"


def wait(
    clients: AwsClients,
    deployment_id: str,
    devices: list[str],
    policy: RolloutPolicy,
    say: Callable[[str], None],
    clock: Callable[[], float] = time.monotonic,
) -> Tally:
    """Poll until the revision met its policy (and stayed so for ``bake_seconds``), cannot meet
    it any more, or time ran out."""
    needed = policy.needed(len(devices))
    deadline = clock() + policy.timeout_seconds
    baked_at: float | None = None
    while True:
        now = tally(clients, deployment_id, devices, needed, health=baked_at is not None)
        baking = f", baking until {policy.bake_seconds:g} s have passed" if baked_at else ""
        say(f"rollout of {deployment_id}: {now.line()}{baking}")
        if now.hopeless:
            now.broke_while_baking = baked_at is not None
            return now
        if now.met and baked_at is None and policy.bake_seconds:
            baked_at = clock() + policy.bake_seconds
        elif baked_at is not None and not now.met:
            now.broke_while_baking = True
            return now
        else:
            done = baked_at is None or clock() >= baked_at
            if (now.met and done) or (not now.met and clock() >= deadline):
                return now
        time.sleep(POLL_SECONDS)


def observe(
    clients: AwsClients,
    target: str,
    deployment_id: str,
    components: Mapping[str, Any],
    policy: RolloutPolicy,
    outcome: str,
) -> dict[str, Any]:
    """What the target's core devices report now for the revision (a refresh): the tally over
    today's devices, and in ``drifted`` each device that succeeded but now runs another version
    of one of its components (``ListInstalledComponents``): moved by a deployment made outside
    the stack, or by hand."""
    found = arns.iot_target(target)
    assert found is not None, "check validated target_arn"
    devices = population(clients, found.kind, found.name, policy)
    now = tally(clients, deployment_id, devices, policy.needed(len(devices)))
    wanted = {name: str(spec.get("component_version")) for name, spec in components.items()}
    drifted: dict[str, str] = {}
    for device in now.succeeded:
        with aws_errors(f"reading the installed components of core device {device}"):
            pages = clients.greengrass.get_paginator("list_installed_components").paginate(
                coreDeviceThingName=device
            )
            runs = {
                str(c["componentName"]): str(c.get("componentVersion", ""))
                for page in pages
                for c in page.get("installedComponents", [])
            }
        moved = [
            f"{name} {runs.get(name) or '(none)'}"
            for name, version in sorted(wanted.items())
            if runs.get(name) != version
        ]
        if moved:
            drifted[device] = ", ".join(moved)
    return now.output(outcome, drifted)
