"""The simulated fleet: core devices acting on deployments through time, without HTTP.

Time is the backend's clock. Nothing runs in the background: every Greengrass request first
calls :meth:`Fleet.advance`, which plays every event due since the last call in time order
(group joins, rollout notifications, installs starting, results, timeouts), so reads are
exact and tests wait only as long as the scripted delays. Minutes of a deployment's IoT job
configuration last ``minute_seconds`` (a setting, default 60).

Modelled behaviour and its evidence (API = the botocore ``greengrassv2`` model; guide =
docs.aws.amazon.com/greengrass/v2/developerguide/):

* A deployment is continuous: a device that joins its thing group later gets it too (API,
  CreateDeployment: "When you add a new core device to a group ... IoT Greengrass deploys that
  group's deployment to the new device"); a thing-group deployment therefore never ends on its
  own (guide, check-deployment-status: the job stays IN_PROGRESS while the deployment is
  active; aws/aws-cli#6185). A deployment to one thing ends COMPLETED when its device succeeds
  and FAILED when it fails or times out [evidence medium: the ``DeploymentStatus`` enum has
  both; the ``EffectiveDeployment`` docs reserve COMPLETED for things].
* A new revision for a target cancels the previous revision's job (guide,
  check-deployment-status: "the status of the previous revision's AWS IoT job changes to
  CANCELLED"): its executions still QUEUED become CANCELED; one already IN_PROGRESS finishes.
  The superseded deployment's own status: INACTIVE when it was ACTIVE [unconfirmed]; a thing
  deployment that already ended keeps COMPLETED/FAILED [evidence low].
* CancelDeployment "cancels the deployment for devices that haven't yet received it. If a
  device already received the deployment, this operation doesn't change anything for that
  device" (API): QUEUED executions become CANCELED, nothing else changes.
* A device runs one deployment at a time and the union of what its targets' latest
  successful deployments hold (guide, create-deployments: a device runs the components of
  every group it is in). Its installed components change only when a deployment succeeds.
  On failure ``deploymentPolicies.failureHandlingPolicy`` decides (API ``DeploymentPolicies``,
  default ROLLBACK): ROLLBACK puts back what ran before; DO_NOTHING leaves the new versions
  with the failing component BROKEN and the device UNHEALTHY.
* ``iotJobConfiguration`` (API ``DeploymentIoTJobConfiguration``): ``jobExecutionsRolloutConfig``
  ``maximumPerMinute`` spaces notifications ``minute / rate`` apart; ``exponentialRate``
  starts at ``baseRatePerMinute`` and multiplies by ``incrementFactor`` after every
  ``numberOfNotifiedThings`` notified (or ``numberOfSucceededThings`` succeeded) devices, capped
  by ``maximumPerMinute`` [IoT's exact batching is not documented; evidence medium].
  ``abortConfig.criteriaList``: once at least ``minNumberOfExecutedThings`` executions ended
  and at least ``thresholdPercentage`` % of them ended with ``failureType`` (FAILED, REJECTED,
  TIMED_OUT or ALL), the job is cancelled: the rest stay uninstalled (CANCELED) and the
  deployment becomes CANCELED; devices already updated are not reverted (API
  ``IoTJobAbortCriteria``; "at least" follows IoT's "minimum number/percentage" wording).
  ``timeoutConfig.inProgressTimeoutInMinutes``: an execution IN_PROGRESS that long becomes
  TIMED_OUT (API ``IoTJobTimeoutConfig``); what the device then runs is unchanged.
* Subdeployments (guide, create-subdeployments; nucleus >= 2.9.0): ``parentTargetArn`` names
  the parent deployment's target; the subdeployment reaches only devices that are in its
  thing group *and* the parent's, and takes the place of the parent's configuration on them;
  a new parent revision "replaces all deployment revisions and subdeployments".
* ``ListCoreDevices(thingGroupArn)`` lists devices that "have successfully deployed a
  deployment that targets the thing group", and keeps them after they leave it (API).

A device of kind ``nucleus`` (:mod:`.nucleus`) runs the same job machinery (notification,
rollout rate, timeouts, one deployment at a time), but what happens when it starts a deployment
is real: the revision's recipes and artifacts go to its Greengrass nucleus as a local deployment
(``DeviceRuntime.start_install``), and the execution ends when the nucleus has answered, at the
time it answered, with its status, ``Detailed Status`` and failure cause as ``reason``, its
error stack and types as ``statusDetails``; its installed components are what the nucleus lists.
Whether the device keeps, rolls back to or breaks what ran before is the nucleus's doing (the
deployment's ``failureHandlingPolicy`` is handed to it).

Not modelled: leaving a thing group (components stay until a later deployment), nested thing
groups, configuration updates, component dependencies' own versions beyond the newest
satisfying one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .devices import (
    BROKEN_STATES,
    COMPLETED,
    EXEC_CANCELED,
    EXEC_FAILED,
    IN_PROGRESS,
    NUCLEUS,
    QUEUED,
    REJECTED,
    SUCCEEDED,
    TIMED_OUT,
    Applied,
    CoreDevice,
    Execution,
)
from .resources import ACTIVE, CANCELED, FAILED, INACTIVE, TARGET_ARN, Deployment

if TYPE_CHECKING:
    from pulumi_dda.local.settings import EndpointSettings

    from .nucleus import InstallResult
    from .peers import Peers

DONE = frozenset({SUCCEEDED, COMPLETED, EXEC_FAILED, TIMED_OUT, REJECTED})
FAILURE_TYPES = {
    "FAILED": {EXEC_FAILED},
    "REJECTED": {REJECTED},
    "TIMED_OUT": {TIMED_OUT},
    "ALL": {EXEC_FAILED, REJECTED, TIMED_OUT},
}


@dataclass
class Job:
    """The IoT job of one deployment: who it reached, who waits for a notification."""

    deployment: Deployment
    queue: list[str] = field(default_factory=list)
    next_notify: float = 0.0
    notified: int = 0
    done: bool = False

    @property
    def slot(self) -> str:
        return self.deployment.parent_target_arn or self.deployment.target_arn

    @property
    def to_thing(self) -> bool:
        match = TARGET_ARN.match(self.deployment.target_arn)
        return bool(match and match["kind"] == "thing")


class DeviceRuntime(Protocol):
    """Where a nucleus-backed device's deployments really run (the backend, :mod:`.nucleus`)."""

    def start_install(self, device: CoreDevice, ex: Execution, deployment: Deployment) -> None:
        """Hand the deployment to the device's nucleus; returns at once."""

    def install_result(self, device: CoreDevice, deployment_id: str) -> InstallResult | None:
        """The nucleus's answer, once there is one."""


@dataclass(order=True)
class _Event:
    at: float
    rank: int
    run: Callable[[], None] = field(compare=False)


class Fleet:
    """The core devices of one account and region, and the jobs that reach them."""

    def __init__(
        self,
        account_id: str,
        region: str,
        settings: EndpointSettings,
        peers: Peers,
        runtime: DeviceRuntime | None = None,
    ) -> None:
        self.runtime = runtime
        self.account_id = account_id
        self.region = region
        self.settings = settings
        self.peers = peers
        self.devices: dict[str, CoreDevice] = {}
        self.jobs: dict[str, Job] = {}
        self.idle_since: dict[str, float] = {}

    # Devices and deployments arriving -------------------------------------------------------

    def add_device(self, device: CoreDevice) -> None:
        self.peers.ensure_thing(self.account_id, self.region, device.thing_name)
        self.devices[device.thing_name] = device
        self.idle_since.setdefault(device.thing_name, device.registered)

    def deployment_created(self, deployment: Deployment, superseded: list[Deployment]) -> None:
        now = deployment.created
        for old in superseded:
            self.stop(old.deployment_id, now)
        self.jobs[deployment.deployment_id] = Job(deployment, next_notify=now)
        self._sync(now)

    def stop(self, deployment_id: str, at: float) -> None:
        """The job is cancelled (superseded, CancelDeployment or aborted): QUEUED -> CANCELED."""
        job = self.jobs.get(deployment_id)
        if job is None or job.done:
            return
        job.done = True
        job.queue.clear()
        for device in self.devices.values():
            for ex in device.executions:
                if ex.deployment_id == deployment_id and ex.status == QUEUED:
                    ex.set(EXEC_CANCELED, at)

    # Time ------------------------------------------------------------------------------------

    def advance(self, now: float) -> None:
        """Play every event due at or before ``now``, earliest first."""
        for _ in range(100_000):
            self._connect(now)
            events = [e for e in self._events(now) if e.at <= now]
            if not events:
                return
            event = min(events)
            event.run()
            self._sync(event.at)
        raise RuntimeError("fleet simulation did not settle")

    def _connect(self, now: float) -> None:
        for device in self.devices.values():
            if not device.connected and device.online(now):
                device.connected = True
                device.last_status = device.reconnects_at() or device.registered

    def _events(self, now: float) -> list[_Event]:
        events: list[_Event] = []
        for device in self.devices.values():
            events += self._device_events(device, now)
        for job in self.jobs.values():
            if job.queue and not job.done:
                events.append(_Event(job.next_notify, 2, functools.partial(self._notify, job)))
        return events

    def _device_events(self, device: CoreDevice, now: float) -> list[_Event]:
        events: list[_Event] = []
        if device.pending_groups and device.join_at <= now:
            events.append(_Event(device.join_at, 0, lambda: self._join(device, now)))
        for ex in device.executions:
            if ex.status != IN_PROGRESS:
                continue
            if ex.finish_at is not None:
                finish = functools.partial(self._finish, device, ex, ex.finish_at)
                events.append(_Event(ex.finish_at, 1, finish))
            elif device.kind == NUCLEUS and self.runtime is not None:
                result = self.runtime.install_result(device, ex.deployment_id)
                if result is not None:
                    at = max(result.at, ex.started_at or 0.0)
                    answer = functools.partial(self._nucleus_answered, device, ex, result, at)
                    events.append(_Event(at, 1, answer))
            limit = self._timeout(ex.deployment_id)
            if limit is not None and ex.started_at is not None:
                at = ex.started_at + limit
                events.append(_Event(at, 1, functools.partial(self._time_out, device, ex, at)))
        start = self._next_start(device)
        if start is not None:
            at, ex = start
            events.append(_Event(at, 3, lambda: self._start(device, ex, at)))
        return events

    def _join(self, device: CoreDevice, now: float) -> None:
        device.pending_groups = [
            g
            for g in device.pending_groups
            if not self.peers.join_group(self.account_id, self.region, device.thing_name, g)
        ]
        if device.pending_groups:  # a group that does not exist yet: try again next time
            device.join_at = now + 1e-6

    def _sync(self, at: float) -> None:
        """Every device the target of an active job holds gets a QUEUED execution of it."""
        for job in self.jobs.values():
            if job.done:
                continue
            for name in sorted(self._members(job) - self._reached(job)):
                device = self.devices[name]
                d = job.deployment
                device.executions.append(
                    Execution(
                        deployment_id=d.deployment_id,
                        target_arn=d.target_arn,
                        slot=job.slot,
                        deployment_name=d.deployment_name or d.target_arn.rsplit("/", 1)[-1],
                        iot_job_id=d.iot_job_id,
                        iot_job_arn=d.iot_job_arn,
                        created=at,
                        modified=at,
                    )
                )
                if not job.queue:
                    job.next_notify = max(job.next_notify, at)
                job.queue.append(name)

    def _members(self, job: Job) -> set[str]:
        d = job.deployment
        if job.to_thing:
            name = d.target_arn.rsplit("/", 1)[-1]
            return {name} & set(self.devices)
        members = self.peers.group_members(self.account_id, self.region, d.target_arn)
        if d.parent_target_arn:
            members &= self.peers.group_members(self.account_id, self.region, d.parent_target_arn)
        return members & set(self.devices)

    def _reached(self, job: Job) -> set[str]:
        return {
            device.thing_name
            for device in self.devices.values()
            if any(e.deployment_id == job.deployment.deployment_id for e in device.executions)
        }

    def _notify(self, job: Job) -> None:
        at = job.next_notify
        name = job.queue.pop(0)
        job.notified += 1
        for ex in self.devices[name].executions:
            if ex.deployment_id == job.deployment.deployment_id and ex.notified_at is None:
                ex.notified_at = at
        job.next_notify = at + self._interval(job)

    def _interval(self, job: Job) -> float:
        """Seconds between two notifications of a job (0: all at once)."""
        config = job.deployment.iot_job_configuration.get("jobExecutionsRolloutConfig") or {}
        maximum = config.get("maximumPerMinute")
        exponential = config.get("exponentialRate")
        if exponential:
            criteria = exponential.get("rateIncreaseCriteria") or {}
            if criteria.get("numberOfNotifiedThings"):
                steps = job.notified // int(criteria["numberOfNotifiedThings"])
            elif criteria.get("numberOfSucceededThings"):
                steps = self._count(job, {SUCCEEDED, COMPLETED}) // int(
                    criteria["numberOfSucceededThings"]
                )
            else:
                steps = 0
            rate = float(exponential["baseRatePerMinute"]) * float(
                exponential["incrementFactor"]
            ) ** min(steps, 50)
            rate = min(rate, float(maximum)) if maximum else rate
        elif maximum:
            rate = float(maximum)
        else:
            return 0.0
        return float(self.settings.minute_seconds) / rate

    def _timeout(self, deployment_id: str) -> float | None:
        job = self.jobs.get(deployment_id)
        config = job.deployment.iot_job_configuration if job else {}
        minutes = (config.get("timeoutConfig") or {}).get("inProgressTimeoutInMinutes")
        return float(minutes) * self.settings.minute_seconds if minutes else None

    def _next_start(self, device: CoreDevice) -> tuple[float, Execution] | None:
        """When the device starts its next notified deployment, if it will."""
        if device.busy():
            return None
        waiting = [e for e in device.executions if e.status == QUEUED and e.notified_at is not None]
        if not waiting:
            return None
        ex = min(waiting, key=lambda e: e.notified_at or 0.0)
        at = max(ex.notified_at or 0.0, self.idle_since[device.thing_name])
        if not device.online(at):
            back = device.reconnects_at()
            if back is None:
                return None
            at = max(at, back)
        return at, ex

    def _start(self, device: CoreDevice, ex: Execution, at: float) -> None:
        ex.set(IN_PROGRESS, at)
        ex.started_at = at
        device.last_status = at
        behaviour = device.behaviour
        if device.kind == NUCLEUS and self.runtime is not None:
            ex.finish_at = None  # ends when the nucleus answers (_nucleus_answered)
            self.runtime.start_install(device, ex, self.jobs[ex.deployment_id].deployment)
            return
        ex.finish_at = None if behaviour.outcome == "time_out" else at + behaviour.delay

    def _finish(self, device: CoreDevice, ex: Execution, at: float) -> None:
        job = self.jobs[ex.deployment_id]
        components: dict[str, Any] = job.deployment.components
        failing = device.behaviour.fails(components)
        if failing:
            self._failed(device, ex, job, failing, at)
        else:
            ex.set(COMPLETED if job.to_thing else SUCCEEDED, at)
            device.applied[ex.slot] = Applied(ex.deployment_id, dict(components), at)
            for name in components:
                device.broken.pop(name, None)
            device.broken.update({name: at for name in device.behaviour.breaks(components)})
            if not job.to_thing:
                device.deployed_groups.add(job.deployment.target_arn)
        self._ended(device, ex, job, at)

    def _failed(
        self, device: CoreDevice, ex: Execution, job: Job, failing: list[str], at: float
    ) -> None:
        policy = job.deployment.deployment_policies.get("failureHandlingPolicy", "ROLLBACK")
        behaviour = device.behaviour
        detail = (
            "FAILED_ROLLBACK_COMPLETE" if policy == "ROLLBACK" else "FAILED_ROLLBACK_NOT_REQUESTED"
        )
        names = ", ".join(failing)
        ex.set(
            EXEC_FAILED, at, behaviour.reason or f"{detail}: component {names} failed to install"
        )
        ex.error_stack, ex.error_types = list(behaviour.error_stack), list(behaviour.error_types)
        if policy == "DO_NOTHING":
            device.applied[ex.slot] = Applied(ex.deployment_id, dict(job.deployment.components), at)
            device.broken.update(
                {name: at for name in failing if name in job.deployment.components}
            )

    def _nucleus_answered(
        self, device: CoreDevice, ex: Execution, result: InstallResult, at: float
    ) -> None:
        """The nucleus's result becomes the execution's; the device reports what it lists.

        DO_NOTHING leaves the new configuration in place when the nucleus got as far as
        applying it (its listing shows every requested version), as the nucleus does."""
        job = self.jobs[ex.deployment_id]
        components: dict[str, Any] = job.deployment.components
        device.nucleus_components, device.nucleus_at = dict(result.components), at
        nucleus = result.components.get("aws.greengrass.Nucleus")
        device.core_version = nucleus[0] if nucleus else device.core_version
        device.broken = {n: at for n, (_, s) in result.components.items() if s in BROKEN_STATES}
        applied = Applied(ex.deployment_id, dict(components), at)
        if result.status == SUCCEEDED:
            ex.set(COMPLETED if job.to_thing else SUCCEEDED, at)
            device.applied[ex.slot] = applied
            if not job.to_thing:
                device.deployed_groups.add(job.deployment.target_arn)
        else:
            ex.set(EXEC_FAILED, at, result.reason or "FAILED")
            ex.error_stack, ex.error_types = list(result.error_stack), list(result.error_types)
            listed = {n: v for n, (v, _) in result.components.items()}
            wanted = {n: str(spec.get("componentVersion")) for n, spec in components.items()}
            taken = all(listed.get(n) == v for n, v in wanted.items())
            policy = job.deployment.deployment_policies.get("failureHandlingPolicy", "ROLLBACK")
            if policy == "DO_NOTHING" and taken:
                device.applied[ex.slot] = applied
        self._ended(device, ex, job, at)

    def _time_out(self, device: CoreDevice, ex: Execution, at: float) -> None:
        ex.set(TIMED_OUT, at)
        ex.finish_at = None
        self._ended(device, ex, self.jobs[ex.deployment_id], at)

    def _ended(self, device: CoreDevice, ex: Execution, job: Job, at: float) -> None:
        device.last_status = at
        self.idle_since[device.thing_name] = at
        d = job.deployment
        if job.to_thing and d.status == ACTIVE:
            d.status = COMPLETED if ex.status == COMPLETED else FAILED
        self._check_abort(job, at)

    def _count(self, job: Job, statuses: set[str] | frozenset[str]) -> int:
        return sum(
            1
            for device in self.devices.values()
            for e in device.executions
            if e.deployment_id == job.deployment.deployment_id and e.status in statuses
        )

    def _check_abort(self, job: Job, at: float) -> None:
        config = job.deployment.iot_job_configuration.get("abortConfig") or {}
        executed = self._count(job, DONE)
        for criteria in config.get("criteriaList") or []:
            failed = self._count(job, FAILURE_TYPES.get(criteria["failureType"], set()))
            enough = executed >= int(criteria["minNumberOfExecutedThings"])
            if executed and enough and 100.0 * failed / executed >= criteria["thresholdPercentage"]:
                self.stop(job.deployment.deployment_id, at)
                if job.deployment.status == ACTIVE:
                    job.deployment.status = CANCELED
                return

    def replaced_subdeployments(
        self, parent_target: str, deployments: list[Deployment], at: float
    ) -> None:
        """A new parent revision replaces every subdeployment under it."""
        for d in deployments:
            if d.parent_target_arn == parent_target and d.is_latest:
                d.is_latest = False
                if d.status == ACTIVE:
                    d.status = INACTIVE
                self.stop(d.deployment_id, at)
