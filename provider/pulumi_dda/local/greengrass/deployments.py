"""Deployments and the core devices' data-plane views, as operations of the backend.

A mixin of :class:`~.models.GreengrassV2Backend`: the control plane (CreateDeployment,
GetDeployment, ListDeployments, CancelDeployment, DeleteDeployment) and what the devices report
(ListCoreDevices, GetCoreDevice, ListEffectiveDeployments, ListInstalledComponents), whose
behaviour :mod:`.fleet` simulates. Rules and their evidence are in the docstrings below and in
:mod:`.fleet`.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from pulumi_dda.local.settings import EndpointSettings

from . import recipes
from .devices import (
    DEVICE_KEYS,
    KINDS,
    NUCLEUS,
    NUCLEUS_BEHAVIOUR_KEYS,
    SIMULATED,
    CoreDevice,
    parse_behaviour,
)
from .exceptions import ConflictException, ResourceNotFoundException, ValidationException
from .fleet import Fleet
from .locking import fingerprint, locked
from .nucleus import NucleusPool
from .pagination import paginate
from .peers import Peers
from .resources import (
    ACTIVE,
    DEPLOYABLE,
    INACTIVE,
    TARGET_ARN,
    ComponentVersion,
    Deployment,
    JsonDict,
    component_arn,
    with_policy_defaults,
)
from .tags import check_tags

PUBLIC_COMPONENT_PREFIX = "aws.greengrass."


class DeploymentOperations:
    """Deployments of one account and region and the simulated devices they reach."""

    account_id: str
    region_name: str
    settings: EndpointSettings
    peers: Peers
    clock: Callable[[], float]
    lock: threading.RLock
    components: dict[str, dict[str, ComponentVersion]]
    deployments: dict[str, Deployment]
    revisions: dict[str, int]
    fleet: Fleet
    sub_parents: dict[str, str]
    nuclei: NucleusPool

    def advance(self) -> None:
        self.fleet.advance(self.clock())

    def _owns(self, region: str, account_id: str) -> bool:
        return region == self.region_name and account_id == self.account_id

    def _state(self, component: ComponentVersion) -> str:
        raise NotImplementedError

    def _idempotent(
        self,
        operation: str,
        client_token: str | None,
        fingerprint: str,
        run: Callable[[], JsonDict],
    ) -> JsonDict:
        raise NotImplementedError

    @locked
    def create_deployment(
        self,
        target_arn: str,
        components: dict[str, JsonDict] | None = None,
        deployment_name: str | None = None,
        iot_job_configuration: JsonDict | None = None,
        deployment_policies: JsonDict | None = None,
        parent_target_arn: str | None = None,
        tags: dict[str, str] | None = None,
        client_token: str | None = None,
    ) -> JsonDict:
        members = {
            "targetArn": target_arn,
            "components": components or {},
            "deploymentName": deployment_name,
            "iotJobConfiguration": iot_job_configuration or {},
            "deploymentPolicies": deployment_policies,
            "parentTargetArn": parent_target_arn,
            "tags": tags,
        }
        return self._idempotent(
            "CreateDeployment",
            client_token,
            fingerprint(**members),
            lambda: self._create_deployment(members),
        )

    def _create_deployment(self, members: JsonDict) -> JsonDict:
        target_arn: str = members["targetArn"]
        parent: str | None = members["parentTargetArn"]
        self._check_target(target_arn)
        if parent is not None:
            self._check_subdeployment(target_arn, parent)
        self._check_deployable(members["components"])
        check_tags(members["tags"])
        now = self.clock()
        superseded = [
            d for d in self.deployments.values() if d.target_arn == target_arn and d.is_latest
        ]
        for previous in superseded:
            previous.is_latest = False
            if previous.status == ACTIVE:
                previous.status = INACTIVE
        if parent is None:
            self.fleet.replaced_subdeployments(target_arn, list(self.deployments.values()), now)
        else:
            self.sub_parents[target_arn] = parent
        revision = self.revisions.get(target_arn, 0) + 1
        self.revisions[target_arn] = revision
        deployment = Deployment(
            account_id=self.account_id,
            region=self.region_name,
            deployment_id=str(uuid.uuid4()),
            target_arn=target_arn,
            revision_id=str(revision),
            created=now,
            iot_job_id=str(uuid.uuid4()),
            components=members["components"],
            deployment_policies=with_policy_defaults(members["deploymentPolicies"]),
            iot_job_configuration=members["iotJobConfiguration"],
            deployment_name=members["deploymentName"],
            parent_target_arn=parent,
            tags=dict(members["tags"] or {}),
        )
        self.deployments[deployment.deployment_id] = deployment
        self.fleet.deployment_created(deployment, superseded)
        return deployment.to_created()

    def _check_target(self, target_arn: str) -> None:
        match = TARGET_ARN.match(target_arn)
        if match is None or not self._owns(match["region"], match["account"]):
            raise ValidationException(
                f"Invalid Input: target {target_arn} is not in account {self.account_id} "
                f"and region {self.region_name}",
                reason="OTHER",
            )
        if self.settings.check_deployment_targets and not self.peers.target_exists(
            self.account_id, self.region_name, target_arn
        ):
            kind = "THING" if match["kind"] == "thing" else "THING_GROUP"
            raise ResourceNotFoundException(
                f"Target {target_arn} not found", resource_id=target_arn, resource_type=kind
            )

    def _check_subdeployment(self, target_arn: str, parent: str) -> None:
        """The documented rules (guide, create-subdeployments): the target is a thing group; it
        subdivides the parent's current deployment; a group used under one parent cannot be
        used under another ("the API will return an error"; which error is not documented:
        ValidationException here)."""
        if "thinggroup/" not in target_arn or "thinggroup/" not in parent:
            raise ValidationException(
                "Invalid Input: a subdeployment's target and parent must be thing groups",
                reason="OTHER",
            )
        has_parent = any(
            d.target_arn == parent and d.is_latest and d.parent_target_arn is None
            for d in self.deployments.values()
        )
        if not has_parent:
            raise ValidationException(
                f"Invalid Input: {parent} has no deployment to create a subdeployment of",
                reason="OTHER",
            )
        used = self.sub_parents.get(target_arn)
        if used is not None and used != parent:
            raise ValidationException(
                f"Invalid Input: thing group {target_arn} is already used for subdeployments "
                f"of {used}",
                reason="OTHER",
            )

    def _check_deployable(self, components: dict[str, JsonDict]) -> None:
        """Private versions must exist and be DEPLOYABLE (stricter reading, unconfirmed)."""
        for name, spec in components.items():
            if name.startswith(PUBLIC_COMPONENT_PREFIX):
                continue
            version = spec["componentVersion"]
            found = self.components.get(name, {}).get(version)
            arn = f"{component_arn(self.region_name, self.account_id, name)}:versions:{version}"
            if found is None:
                raise ResourceNotFoundException(
                    f"Component version {arn} not found",
                    resource_id=arn,
                    resource_type="COMPONENT_VERSION",
                )
            state = self._state(found)
            if state != DEPLOYABLE:
                raise ValidationException(
                    f"Invalid Input: component version {arn} is {state}, not DEPLOYABLE",
                    reason="OTHER",
                )

    def _deployment(self, deployment_id: str) -> Deployment:
        found = self.deployments.get(deployment_id)
        if found is None:
            raise ResourceNotFoundException(
                f"Deployment {deployment_id} not found",
                resource_id=deployment_id,
                resource_type="DEPLOYMENT",
            )
        return found

    @locked
    def get_deployment(self, deployment_id: str) -> JsonDict:
        return self._deployment(deployment_id).to_detail()

    @locked
    def list_deployments(
        self,
        target_arn: str | None = None,
        history_filter: str | None = None,
        parent_target_arn: str | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> JsonDict:
        latest_only = (history_filter or "LATEST_ONLY") == "LATEST_ONLY"
        selected = [
            d
            for d in reversed(self.deployments.values())
            if (target_arn is None or d.target_arn == target_arn)
            and (parent_target_arn is None or d.parent_target_arn == parent_target_arn)
            and (d.is_latest or not latest_only)
        ]
        listing = f"ListDeployments:{target_arn}:{history_filter}:{parent_target_arn}"
        page, token = paginate([d.to_summary() for d in selected], max_results, next_token, listing)
        return {"deployments": page, "nextToken": token}

    @locked
    def cancel_deployment(self, deployment_id: str) -> JsonDict:
        """Only an ACTIVE deployment can be cancelled here (stricter reading: whether the
        service refuses cancelling a COMPLETED or INACTIVE one is unknown)."""
        deployment = self._deployment(deployment_id)
        if deployment.status != ACTIVE:
            raise ConflictException(
                f"Deployment {deployment_id} is {deployment.status} and cannot be canceled",
                resource_id=deployment_id,
                resource_type="DEPLOYMENT",
            )
        deployment.status = "CANCELED"
        self.fleet.stop(deployment_id, self.clock())
        return {"message": "SUCCESS"}

    @locked
    def delete_deployment(self, deployment_id: str) -> None:
        """ "To delete an active deployment, you must first cancel it" (API, DeleteDeployment):
        ACTIVE is refused; CANCELED, INACTIVE (superseded), COMPLETED and FAILED are deleted.
        Devices keep what they run ("Deleting a deployment doesn't affect core devices")."""
        deployment = self._deployment(deployment_id)
        if deployment.status == ACTIVE:
            raise ConflictException(
                f"Deployment {deployment_id} is active; cancel it before deleting it",
                resource_id=deployment_id,
                resource_type="DEPLOYMENT",
            )
        self.fleet.stop(deployment_id, self.clock())
        del self.deployments[deployment_id]

    # Core devices (data plane) ----------------------------------------------------------------

    def _device(self, name: str) -> CoreDevice:
        found = self.fleet.devices.get(name)
        if found is None or not found.connected:
            raise ResourceNotFoundException(
                f"Core device {name} not found", resource_id=name, resource_type="CORE_DEVICE"
            )
        return found

    @locked
    def list_core_devices(
        self,
        thing_group_arn: str | None = None,
        status: str | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
        runtime: str | None = None,
    ) -> JsonDict:
        devices = [
            d
            for _, d in sorted(self.fleet.devices.items())
            if d.connected
            and (thing_group_arn is None or thing_group_arn in d.deployed_groups)
            and (status is None or d.status == status)
            and runtime in (None, "aws_nucleus_classic")
        ]
        listing = f"ListCoreDevices:{thing_group_arn}:{status}:{runtime}"
        items = [d.to_core_device() for d in devices]
        page, token = paginate(items, max_results, next_token, listing)
        return {"coreDevices": page, "nextToken": token}

    @locked
    def get_core_device(self, core_device_thing_name: str) -> JsonDict:
        return self._device(core_device_thing_name).to_detail()

    @locked
    def list_effective_deployments(
        self,
        core_device_thing_name: str,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> JsonDict:
        """Every deployment job the device was part of, newest first (guide,
        check-deployment-status: "the status of all deployment jobs for a core device")."""
        device = self._device(core_device_thing_name)
        items = [e.to_effective() for e in reversed(device.executions)]
        listing = f"ListEffectiveDeployments:{core_device_thing_name}"
        page, token = paginate(items, max_results, next_token, listing)
        return {"effectiveDeployments": page, "nextToken": token}

    @locked
    def list_installed_components(
        self,
        core_device_thing_name: str,
        max_results: int | None = None,
        next_token: str | None = None,
        topology_filter: str | None = None,
    ) -> JsonDict:
        """Root components by default; ``ALL`` adds their dependencies (API: "By default, this
        list doesn't include components that are deployed as dependencies"), resolved to the
        newest stored version that satisfies the recipe's ``VersionRequirement``."""
        device = self._device(core_device_thing_name)
        items = [
            device.to_installed(name, version, source, at)
            for name, (version, source, at) in sorted(device.installed().items())
        ]
        if device.kind == NUCLEUS:  # what its nucleus listed (nucleus.py)
            items = device.nucleus_installed(everything=topology_filter == "ALL")
        elif topology_filter == "ALL":
            items += self._dependencies(device, items)
        listing = f"ListInstalledComponents:{core_device_thing_name}:{topology_filter}"
        page, token = paginate(items, max_results, next_token, listing)
        return {"installedComponents": page, "nextToken": token}

    def _dependencies(self, device: CoreDevice, roots: list[JsonDict]) -> list[JsonDict]:
        found: dict[str, JsonDict] = {}
        pending = [(r["componentName"], r["componentVersion"], r) for r in roots]
        root_names = {r["componentName"] for r in roots}
        while pending:
            name, version, parent = pending.pop()
            stored = self.components.get(name, {}).get(version)
            needs = (stored.recipe.get("ComponentDependencies") or {}) if stored else {}
            for dep, spec in sorted(needs.items()):
                chosen = recipes.newest_satisfying(
                    list(self.components.get(dep, {})), str(spec.get("VersionRequirement", ""))
                )
                if chosen is None or dep in root_names or dep in found:
                    continue
                item = {**parent, "componentName": dep, "componentVersion": chosen}
                found[dep] = {**item, "isRoot": False, "lifecycleState": "RUNNING"}
                pending.append((dep, chosen, item))
        return [found[name] for name in sorted(found)]

    # Admin: scripted devices ----------------------------------------------------------------

    @locked
    def register_core_device(self, spec: dict[str, Any]) -> JsonDict:
        """Add (or re-script) a simulated core device; see ``devices.Behaviour``."""
        name = str(spec.get("thing_name") or "")
        if not name:
            raise ValueError("a core device needs thing_name")
        behaviour_spec = {k: v for k, v in spec.items() if k not in DEVICE_KEYS}
        now = self.clock()
        existing = self.fleet.devices.get(name)
        kind = _check_kind(spec, existing, behaviour_spec)
        if existing is not None:
            existing.behaviour = parse_behaviour(behaviour_spec, existing.behaviour)
            existing.behaviour_set = now
            if spec.get("thing_groups"):
                existing.pending_groups += list(spec["thing_groups"])
                existing.join_at = now + float(spec.get("join_after") or 0.0)
            return existing.to_admin()
        device = CoreDevice(
            thing_name=name,
            registered=now,
            behaviour=parse_behaviour(behaviour_spec),
            behaviour_set=now,
            pending_groups=[str(g) for g in spec.get("thing_groups") or []],
            join_at=now + float(spec.get("join_after") or 0.0),
            platform=str(spec.get("platform") or "linux"),
            architecture=str(spec.get("architecture") or "amd64"),
            core_version=str(spec.get("core_version") or "2.12.0"),
            kind=kind,
        )
        self.fleet.add_device(device)
        self.fleet.advance(now)
        return device.to_admin()

    @locked
    def core_devices(self) -> list[JsonDict]:
        return [self._admin(d) for _, d in sorted(self.fleet.devices.items())]

    def _admin(self, device: CoreDevice) -> JsonDict:
        """A nucleus device also shows where its nucleus runs (``None`` before its first
        deployment): ``nucleus_root`` (``--root``), ``dda_root`` (the DDA stand-in's), ``pid``."""
        shown = device.to_admin()
        if device.kind == NUCLEUS:
            runtime = self.nuclei.runtime(self.account_id, self.region_name, device.thing_name)
            root = runtime.root
            shown["nucleus_root"] = str(root) if root else None
            shown["dda_root"] = str(root.parent / "aws_dda") if root else None
            shown["nucleus_pid"] = runtime.pid
        return shown


def _check_kind(spec: dict[str, Any], existing: CoreDevice | None, behaviour: JsonDict) -> str:
    """``kind``: ``simulated`` (scripted, the default) or ``nucleus`` (the real Greengrass
    nucleus installs what reaches it, :mod:`.nucleus`); fixed once the device exists. A nucleus
    device's results are the nucleus's, so only ``online``/``reconnect_after`` can be scripted,
    and it runs on this machine: linux, amd64, nucleus 2.18.x (the build's README)."""
    kind = str(spec.get("kind") or (existing.kind if existing else SIMULATED))
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if existing is not None and kind != existing.kind:
        raise ValueError(f"core device {existing.thing_name} is {existing.kind}; kind is fixed")
    if kind == NUCLEUS:
        scripted = sorted(set(behaviour) - NUCLEUS_BEHAVIOUR_KEYS)
        if scripted:
            raise ValueError(
                f"a nucleus device reports what its nucleus does; {scripted} cannot be scripted "
                f"(only {sorted(NUCLEUS_BEHAVIOUR_KEYS)})"
            )
        for key, value in (("platform", "linux"), ("architecture", "amd64")):
            if spec.get(key) not in (None, value):
                raise ValueError(f"a nucleus device runs on this machine: {key} is {value}")
        spec.setdefault("core_version", "2.18.0")  # what the build's nucleus lists itself as
    return kind
