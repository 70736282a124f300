"""Simulated Greengrass core devices: what each one is, how it is scripted to behave, and what
it reports (the shapes of the botocore ``greengrassv2`` model: ``CoreDevice``,
``GetCoreDeviceResponse``, ``EffectiveDeployment``, ``InstalledComponent``).

Plain records, like ``resources``; :mod:`.fleet` moves them through time.

Evidence for what a device reports:

* statuses of a device's deployment job (``EffectiveDeploymentExecutionStatus``): QUEUED,
  IN_PROGRESS, then SUCCEEDED for a thing-group deployment and COMPLETED for a thing
  deployment, FAILED, TIMED_OUT, CANCELED, REJECTED (botocore model, ``EffectiveDeployment``);
* a failed install reports ``statusDetails.errorStack`` from the most generic code to the most
  specific and ``errorTypes`` (docs.aws.amazon.com/greengrass/v2/developerguide/
  troubleshooting-deployment.html). The default stack ``DEPLOYMENT_FAILURE``,
  ``COMPONENT_UPDATE_ERROR``, ``COMPONENT_BROKEN`` with type ``USER_COMPONENT_ERROR`` uses codes
  of the nucleus's own ``DeploymentErrorCode`` enum (github.com/aws-greengrass/
  aws-greengrass-nucleus, ``deployment/errorcode/DeploymentErrorCode.java``); which exact stack a
  real install failure produces is not documented [evidence low], so it is scriptable;
* ``reason`` text: the model says only "the reason code for the update" [evidence low]; the
  nucleus's detailed statuses (``FAILED_ROLLBACK_COMPLETE``, ``FAILED_ROLLBACK_NOT_REQUESTED``,
  from its ``DeploymentResult``) lead it here;
* a component that failed to install is ``BROKEN`` with ``lifecycleStatusCodes``
  ``INSTALL_ERROR`` (troubleshooting-component.html), and a device with a BROKEN component is
  ``UNHEALTHY`` (``CoreDeviceStatus`` in the model: "a component is in a failed state").
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from .resources import JsonDict

QUEUED, IN_PROGRESS, SUCCEEDED, COMPLETED = "QUEUED", "IN_PROGRESS", "SUCCEEDED", "COMPLETED"
EXEC_FAILED, TIMED_OUT, EXEC_CANCELED, REJECTED = "FAILED", "TIMED_OUT", "CANCELED", "REJECTED"
TERMINAL = frozenset({SUCCEEDED, COMPLETED, EXEC_FAILED, TIMED_OUT, EXEC_CANCELED, REJECTED})
OUTCOMES = ("succeed", "fail", "time_out")
SIMULATED, NUCLEUS = "simulated", "nucleus"
KINDS = (SIMULATED, NUCLEUS)
NUCLEUS_BEHAVIOUR_KEYS = frozenset({"online", "reconnect_after"})
"""What can be scripted on a nucleus-backed device: its results are the nucleus's own."""
BROKEN_STATES = frozenset({"BROKEN", "ERRORED"})
INTERNAL_SERVICES = frozenset(
    {"DeploymentService", "FleetStatusService", "UpdateSystemPolicyService", "TelemetryAgent"}
)
"""Services the nucleus lists in ``component list`` that are part of it, not components."""

DEFAULT_ERROR_STACK = ["DEPLOYMENT_FAILURE", "COMPONENT_UPDATE_ERROR", "COMPONENT_BROKEN"]
DEFAULT_ERROR_TYPES = ["USER_COMPONENT_ERROR"]


@dataclass
class Behaviour:
    """How a simulated device acts on every deployment it receives.

    ``outcome``: ``succeed``, ``fail`` (an install failure, reported with ``error_stack``,
    ``error_types`` and ``reason``) or ``time_out`` (never reports a result: the job execution
    stays IN_PROGRESS until the deployment's ``timeoutConfig`` expires it). ``fail_on`` narrows
    ``fail`` to deployments holding one of these components (``name`` or ``name@version``), so
    a device can fail a bad model and still take the previous one back. ``break_on``: components
    (same forms) that install and report success, then break once they run (``BROKEN``, so the
    device turns ``UNHEALTHY``): a model that crashes on the line after its deployment
    succeeded, which only a bake time catches. ``delay``: seconds from
    receiving a deployment to its result. ``online`` False: the device does not take deployments
    (they stay QUEUED); with ``reconnect_after`` it comes back that many seconds after this
    behaviour was set.
    """

    outcome: str = "succeed"
    delay: float = 0.0
    fail_on: list[str] = field(default_factory=list)
    break_on: list[str] = field(default_factory=list)
    error_stack: list[str] = field(default_factory=lambda: list(DEFAULT_ERROR_STACK))
    error_types: list[str] = field(default_factory=lambda: list(DEFAULT_ERROR_TYPES))
    reason: str = ""
    online: bool = True
    reconnect_after: float | None = None

    def fails(self, components: dict[str, Any]) -> list[str]:
        """The components this device fails to install in a deployment of ``components``."""
        if self.outcome != "fail":
            return []
        if not self.fail_on:
            return sorted(components) or ["deployment"]
        return _named(components, self.fail_on)

    def breaks(self, components: dict[str, Any]) -> list[str]:
        """The components that break after a successful install (``break_on``)."""
        return _named(components, self.break_on)


def _named(components: dict[str, Any], names: list[str]) -> list[str]:
    """The components ``names`` lists by ``name`` or ``name@version``."""
    return sorted(
        name
        for name, spec in components.items()
        if name in names or f"{name}@{spec.get('componentVersion')}" in names
    )


BEHAVIOUR_KEYS = frozenset(f.name for f in fields(Behaviour))
DEVICE_KEYS = frozenset(
    {"thing_name", "thing_groups", "join_after", "platform", "architecture", "core_version", "kind"}
)


def parse_behaviour(data: dict[str, Any], base: Behaviour | None = None) -> Behaviour:
    """A behaviour from JSON-like ``data`` (unknown keys and bad values: ValueError)."""
    unknown = set(data) - BEHAVIOUR_KEYS
    if unknown:
        raise ValueError(f"unknown device behaviour keys {sorted(unknown)}")
    merged = {**(vars(base) if base else {}), **data}
    behaviour = Behaviour(**merged)
    if behaviour.outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {behaviour.outcome!r}")
    if float(behaviour.delay) < 0:
        raise ValueError("delay must be >= 0")
    behaviour.delay = float(behaviour.delay)
    for name in ("fail_on", "break_on", "error_stack", "error_types"):
        value = getattr(behaviour, name)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{name} must be a list of strings")
    return behaviour


def parse_device_spec(text: str) -> dict[str, Any]:
    """``name=core-1,thing_groups=line1+canary,outcome=fail,delay=2`` (the CLI's form) as the
    JSON object the admin API takes: lists joined by ``+``, numbers and true/false typed."""
    spec: dict[str, Any] = {}
    for item in filter(None, text.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"core device spec item {item!r} is not key=value")
        key = "thing_name" if key == "name" else key
        if key in ("thing_groups", "fail_on", "break_on", "error_stack", "error_types"):
            spec[key] = [v for v in value.split("+") if v]
        elif key in ("delay", "join_after", "reconnect_after"):
            spec[key] = float(value)
        elif key == "online":
            spec[key] = value.lower() in ("1", "true", "yes")
        else:
            spec[key] = value
    return spec


@dataclass
class Execution:
    """One device's job execution of one deployment (an effective deployment)."""

    deployment_id: str
    target_arn: str
    slot: str
    deployment_name: str
    iot_job_id: str
    iot_job_arn: str
    created: float
    status: str = QUEUED
    modified: float = 0.0
    notified_at: float | None = None
    started_at: float | None = None
    finish_at: float | None = None
    reason: str = ""
    error_stack: list[str] = field(default_factory=list)
    error_types: list[str] = field(default_factory=list)

    def set(self, status: str, at: float, reason: str = "") -> None:
        self.status, self.modified, self.reason = status, at, reason

    def to_effective(self) -> JsonDict:
        failed = self.status in (EXEC_FAILED, TIMED_OUT, REJECTED)
        return {
            "deploymentId": self.deployment_id,
            "deploymentName": self.deployment_name,
            "iotJobId": self.iot_job_id,
            "iotJobArn": self.iot_job_arn,
            "targetArn": self.target_arn,
            "coreDeviceExecutionStatus": self.status,
            "reason": self.reason or None,
            "creationTimestamp": self.created,
            "modifiedTimestamp": self.modified or self.created,
            "statusDetails": (
                {"errorStack": self.error_stack, "errorTypes": self.error_types} if failed else None
            ),
        }


@dataclass
class Applied:
    """The configuration one deployment slot (a target, or a subdeployment's parent) left."""

    deployment_id: str
    components: dict[str, Any]
    at: float


@dataclass
class CoreDevice:
    """A simulated core device: an IoT thing that runs the Greengrass nucleus."""

    thing_name: str
    registered: float
    behaviour: Behaviour
    behaviour_set: float
    pending_groups: list[str] = field(default_factory=list)
    join_at: float = 0.0
    platform: str = "linux"
    architecture: str = "amd64"
    core_version: str = "2.12.0"
    kind: str = SIMULATED
    nucleus_components: dict[str, tuple[str, str]] = field(default_factory=dict)
    """A nucleus-backed device: name -> (version, state) as the nucleus last listed them."""
    nucleus_at: float = 0.0
    connected: bool = False
    last_status: float = 0.0
    applied: dict[str, Applied] = field(default_factory=dict)
    broken: dict[str, float] = field(default_factory=dict)
    deployed_groups: set[str] = field(default_factory=set)
    executions: list[Execution] = field(default_factory=list)

    def online(self, now: float) -> bool:
        b = self.behaviour
        back = b.reconnect_after is not None and now >= self.behaviour_set + b.reconnect_after
        return b.online or back

    def reconnects_at(self) -> float | None:
        b = self.behaviour
        if b.online or b.reconnect_after is None:
            return None
        return self.behaviour_set + b.reconnect_after

    def busy(self) -> bool:
        return any(e.status == IN_PROGRESS for e in self.executions)

    def installed(self) -> dict[str, tuple[str, str, float]]:
        """Component name -> (version, deployment id, when) of every root component."""
        result: dict[str, tuple[str, str, float]] = {}
        for applied in sorted(self.applied.values(), key=lambda a: a.at):
            for name, spec in applied.components.items():
                result[name] = (str(spec["componentVersion"]), applied.deployment_id, applied.at)
        return result

    @property
    def status(self) -> str:
        return "UNHEALTHY" if self.broken else "HEALTHY"

    def to_core_device(self) -> JsonDict:
        return {
            "coreDeviceThingName": self.thing_name,
            "status": self.status,
            "lastStatusUpdateTimestamp": self.last_status,
            "platform": self.platform,
            "architecture": self.architecture,
            "runtime": "aws_nucleus_classic",
        }

    def to_detail(self) -> JsonDict:
        return {**self.to_core_device(), "coreVersion": self.core_version, "tags": {}}

    def to_installed(self, name: str, version: str, source: str, at: float) -> JsonDict:
        broken = name in self.broken
        return {
            "componentName": name,
            "componentVersion": version,
            "lifecycleState": "BROKEN" if broken else "RUNNING",
            "lifecycleStateDetails": "install script failed" if broken else None,
            "isRoot": True,
            "lastStatusChangeTimestamp": self.broken.get(name, at),
            "lastReportedTimestamp": self.last_status,
            "lastInstallationSource": source,
            "lifecycleStatusCodes": ["INSTALL_ERROR"] if broken else [],
        }

    def nucleus_installed(self, everything: bool) -> list[JsonDict]:
        """What a nucleus-backed device reports: the versions and lifecycle states the nucleus
        listed after its last deployment. Roots are the components its deployments name;
        ``everything`` adds the rest (dependencies such as the LocalServer, the nucleus)."""
        roots = {name for a in self.applied.values() for name in a.components}
        items: list[JsonDict] = []
        for name, (version, state) in sorted(self.nucleus_components.items()):
            root = name in roots
            if name in INTERNAL_SERVICES or version in ("", "null", "0.0.0"):
                continue
            if not (root or everything):
                continue
            broken = state in BROKEN_STATES
            items.append(
                {
                    "componentName": name,
                    "componentVersion": version,
                    "lifecycleState": state,
                    "lifecycleStateDetails": f"the nucleus reports {state}" if broken else None,
                    "isRoot": root,
                    "lastStatusChangeTimestamp": self.nucleus_at,
                    "lastReportedTimestamp": self.last_status,
                    "lastInstallationSource": self._source(name),
                    "lifecycleStatusCodes": [],
                }
            )
        return items

    def _source(self, name: str) -> str:
        holding = [a for a in self.applied.values() if name in a.components]
        latest = max(holding or self.applied.values(), key=lambda a: a.at, default=None)
        return latest.deployment_id if latest else "LOCAL"

    def to_admin(self) -> JsonDict:
        """What the admin API shows of a device (not an AWS shape)."""
        return {
            "thing_name": self.thing_name,
            "behaviour": vars(self.behaviour),
            "pending_groups": list(self.pending_groups),
            "connected": self.connected,
            "kind": self.kind,
            "installed": (
                {i["componentName"]: i["componentVersion"] for i in self.nucleus_installed(False)}
                if self.kind == NUCLEUS
                else {name: v for name, (v, _, _) in self.installed().items()}
            ),
            "executions": [e.to_effective() for e in self.executions],
        }
