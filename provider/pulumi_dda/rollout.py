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

from .aws import AwsClients, aws_errors
from .errors import InputError, NotFoundError

FAILURES = frozenset({"FAILED", "REJECTED", "TIMED_OUT", "CANCELED"})
ON_FAILURE = ("fail", "revert")
POLICY_KEYS = ("success_percent", "timeout_seconds", "on_failure", "ignore_unhealthy")
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class RolloutPolicy:
    success_percent: float = 100.0
    timeout_seconds: float = 600.0
    on_failure: str = "fail"
    ignore_unhealthy: bool = True

    @classmethod
    def parse(cls, value: Any) -> RolloutPolicy | None:
        """The policy an input names (``None`` when it names none); raises naming the field."""
        if not value:
            return None
        if not isinstance(value, Mapping):
            raise InputError("rollout must be an object", field="rollout")
        if extra := sorted(set(value) - set(POLICY_KEYS)):
            raise InputError(
                f"rollout: unknown keys {extra} (allowed: {list(POLICY_KEYS)})", field="rollout"
            )
        policy = cls(**{k: v for k, v in value.items() if v is not None})
        percent, timeout = policy.success_percent, policy.timeout_seconds
        if (
            isinstance(percent, bool)
            or not isinstance(percent, int | float)
            or not 0 < percent <= 100
        ):
            raise InputError(
                f"rollout.success_percent must be a number in (0, 100], got {percent!r}",
                field="rollout",
            )
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise InputError(
                f"rollout.timeout_seconds must be a positive number of seconds, got {timeout!r}",
                field="rollout",
            )
        if policy.on_failure not in ON_FAILURE:
            raise InputError(
                f"rollout.on_failure must be one of {list(ON_FAILURE)}, got {policy.on_failure!r}",
                field="rollout",
            )
        if not isinstance(policy.ignore_unhealthy, bool):
            raise InputError("rollout.ignore_unhealthy must be true or false", field="rollout")
        return policy


@dataclass
class Tally:
    """What the counted devices report for one revision."""

    deployment_id: str
    devices: list[str]
    needed: int
    succeeded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    """Device → its status and reason."""

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

    def why(self) -> str:
        """``3 of 20 devices failed (<the first failure's reason>)``."""
        first = next(iter(self.failed.values()), "")
        return f"{len(self.failed)} of {len(self.devices)} devices failed" + (
            f" ({first})" if first else ""
        )

    def output(self, outcome: str) -> dict[str, Any]:
        return {
            "deployment_id": self.deployment_id,
            "devices": len(self.devices),
            "succeeded": len(self.succeeded),
            "failed": len(self.failed),
            "pending": self.pending,
            "outcome": outcome,
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


def tally(clients: AwsClients, deployment_id: str, devices: list[str], needed: int) -> Tally:
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
            result.succeeded.append(device)
        elif status in FAILURES:
            reason = str(found[0].get("reason") or "")
            result.failed[device] = f"{status}: {reason}" if reason else status
    return result


def wait(
    clients: AwsClients,
    deployment_id: str,
    devices: list[str],
    policy: RolloutPolicy,
    say: Callable[[str], None],
    clock: Callable[[], float] = time.monotonic,
) -> Tally:
    """Poll until the revision met its policy, cannot meet it any more, or time ran out."""
    needed = math.ceil(len(devices) * policy.success_percent / 100)
    deadline = clock() + policy.timeout_seconds
    while True:
        now = tally(clients, deployment_id, devices, needed)
        say(f"rollout of {deployment_id}: {now.line()}")
        if now.met or now.hopeless or clock() >= deadline:
            return now
        time.sleep(POLL_SECONDS)
