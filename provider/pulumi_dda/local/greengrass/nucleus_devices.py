"""What a nucleus-backed core device receives: the backend side of :mod:`.nucleus`.

A mixin of :class:`~.models.GreengrassV2Backend` that :class:`~.fleet.Fleet` calls as its
``DeviceRuntime``. When such a device starts a deployment, the endpoint gathers what a real
device would fetch through the data plane and S3 (guide, how deployments work: the device
resolves the deployment's components and their dependencies with the cloud, then downloads each
recipe and artifact): every component the device should run afterwards, each dependency at the
newest stored version that satisfies its ``VersionRequirement`` (the same resolution as
``ListInstalledComponents``), their recipes as ``GetComponent`` returns them (with the
``Digest`` the service computed at create) and their artifacts' current bytes in S3.
"""

from __future__ import annotations

from typing import Any

from . import recipes
from .devices import CoreDevice, Execution
from .nucleus import InstallRequest, InstallResult, NucleusPool
from .peers import Peers
from .resources import ComponentVersion, Deployment


class NucleusOperations:
    """Hands deployments to the nucleus of each nucleus-backed device (one per device)."""

    account_id: str
    region_name: str
    peers: Peers
    components: dict[str, dict[str, ComponentVersion]]
    nuclei: NucleusPool

    def start_install(self, device: CoreDevice, ex: Execution, deployment: Deployment) -> None:
        request = self.install_request(device, ex, deployment)
        self.nuclei.runtime(self.account_id, self.region_name, device.thing_name).submit(request)

    def install_result(self, device: CoreDevice, deployment_id: str) -> InstallResult | None:
        runtime = self.nuclei.runtime(self.account_id, self.region_name, device.thing_name)
        return runtime.results.get(deployment_id)

    def install_request(
        self, device: CoreDevice, ex: Execution, deployment: Deployment
    ) -> InstallRequest:
        """The local deployment that leaves the device running what its targets' deployments
        hold: the other slots' last applied components, this deployment's in its slot (the
        rule of :mod:`.fleet`); what the slot held and nothing holds any more is removed."""
        desired: dict[str, str] = {}
        for slot, applied in device.applied.items():
            if slot != ex.slot:
                desired.update(_versions(applied.components))
        desired.update(_versions(deployment.components))
        held = {name for applied in device.applied.values() for name in applied.components}
        found_recipes: dict[str, bytes] = {}
        artifacts: dict[str, bytes] = {}
        pending = sorted(desired.items())
        seen: set[tuple[str, str]] = set()
        while pending:
            name, version = pending.pop()
            stored = self.components.get(name, {}).get(version)
            if (name, version) in seen or stored is None:
                continue  # a missing one: the nucleus says what it lacks
            seen.add((name, version))
            found_recipes[f"{name}-{version}.json"] = recipes.render(stored.recipe, "JSON")
            for uri in stored.artifact_uris:
                data = self.peers.read_artifact(self.account_id, self.region_name, uri)
                if data is not None:
                    artifacts[f"{name}/{version}/{uri.rsplit('/', 1)[-1]}"] = data
            for dep, spec in sorted((stored.recipe.get("ComponentDependencies") or {}).items()):
                requirement = str((spec or {}).get("VersionRequirement", ""))
                chosen = recipes.newest_satisfying(list(self.components.get(dep, {})), requirement)
                if chosen is not None:
                    pending.append((dep, chosen))
        policy = str(deployment.deployment_policies.get("failureHandlingPolicy", "ROLLBACK"))
        return InstallRequest(
            deployment_id=deployment.deployment_id,
            merge=desired,
            remove=sorted(held - set(desired)),
            recipes=found_recipes,
            artifacts=artifacts,
            failure_policy=policy,
        )


def _versions(components: dict[str, Any]) -> dict[str, str]:
    return {name: str(spec["componentVersion"]) for name, spec in components.items()}
