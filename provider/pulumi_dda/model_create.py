"""Publishing a model component's targets: package, upload, create or take over each version,
wait for it, and on failure release what the call took (:class:`_Create`, used by
:meth:`.model_component.DdaModelComponentProvider.create`)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import arn as arns
from . import artifacts, greengrass, ownership
from ._host import (
    engine_gone,
    progress,
    progress_here,
)
from ._types import JSONDict, Progress
from .aws import AwsClients
from .build import BuiltComponent, build_target, with_version
from .errors import (
    AwsError,
    ConflictError,
    DdaError,
    InputError,
    NotFoundError,
    SourceChangedError,
)
from .inputs import ModelInputs
from .manifest import DdaManifest
from .ownership import DeploymentIndex, Holder
from .package import PACKAGE_SUFFIX
from .recipe import (
    ComponentNaming,
    platform_for,
    recipe_json,
    validate_component_version,
    version_for_major,
)
from .sources import parse_s3_uri, recorded_source

MAX_VERSION_ATTEMPTS = 20


class _TargetFailure(DdaError):
    def __init__(self, target: str, phase: str, cause: Exception) -> None:
        super().__init__(f"target {target}: {phase}: {cause}")


@dataclass
class _Target:
    """One target's progress through create; ``state()`` is what delete later needs."""

    naming: ComponentNaming
    fingerprint: str
    version: str
    phase: str = "resolving the component version"
    arn: str = ""
    held: bool = False
    created: bool = False
    adopted: bool = False
    uri: str = ""
    digest: str = ""
    uploaded: str = ""
    built: BuiltComponent | None = field(default=None, repr=False)

    def version_entry(self) -> JSONDict:
        return {"component_name": self.naming.component_name, "component_version": self.version}

    def output(self) -> JSONDict:
        platform = platform_for(self.naming.target)
        return {
            **self.version_entry(),
            "arn": self.arn,
            "platform": platform.architecture,
            "local_server_component": platform.local_server_component,
            "artifact_uri": self.uri,
            "package_id": self.uri.rsplit("/", 1)[-1].removesuffix(PACKAGE_SUFFIX),
            "digest": self.digest,
            "adopted": self.adopted,
        }

    def state(self) -> JSONDict:
        return {"arn": self.arn, "created": self.created, "uri": self.uri}


class _Create:
    """One create call: shared inputs, clients, and the manifest check recorded."""

    def __init__(
        self, model: ModelInputs, props: JSONDict, clients: AwsClients, holder: Holder, work: Path
    ) -> None:
        self.model = model
        # The manifest check recorded: the package is written from it (canonical JSON, see
        # manifest_bytes), so the trained model is read once per up, at check.
        self.manifest = DdaManifest(manifest=props["manifest"], model_name=props["model_name"])
        self.identities: dict[str, str] = props["source_identities"]
        self.clients = clients
        self.gg = clients.greengrass
        self.holder = holder
        self.work = work
        self.account = clients.account_id
        self.region = clients.region

    def say(self, target: _Target) -> Progress:
        return progress_here(f"[{target.naming.target}] ")

    def publish(self, target: _Target) -> None:
        """Take over the identical version, or create one; raise naming the target and phase."""
        try:
            for _attempt in range(MAX_VERSION_ATTEMPTS):
                target.arn = arns.component_version(
                    self.region, self.account, target.naming.component_name, target.version
                )
                found = ownership.look_up(self.gg, target.arn)
                if found is None:
                    if self._create(target):
                        return
                elif found.identical(target.fingerprint):
                    if self._take_over(target, found):
                        return
                else:
                    self._next_version(target, f"already exists with other content ({found.maker})")
            raise DdaError(f"no usable version found after {MAX_VERSION_ATTEMPTS} attempts")
        except DdaError as exc:
            raise _TargetFailure(target.naming.target, target.phase, exc) from exc

    def _next_version(self, target: _Target, why: str) -> None:
        """Omitted version: move on to the next major. Given version: one line saying to bump."""
        major = validate_component_version(target.version)
        if self.model.component_version:
            raise InputError(
                f"component_version {target.version}: {target.arn} {why}; versions are "
                f"immutable: bump component_version to {version_for_major(major + 1)} or omit it",
                field="component_version",
            )
        progress(f"[{target.naming.target}] {target.arn} {why}; taking {major + 1}.0.0", keep=True)
        target.version = version_for_major(major + 1)

    def _take_over(self, target: _Target, found: ownership.Existing) -> bool:
        """Hold an identical existing version; ``False`` if it vanished meanwhile."""
        say = self.say(target)
        target.phase = "taking over the identical existing version"
        target.created = found.tags.get(ownership.OWNER_TAG) == self.holder.owner_label
        target.adopted = not target.created
        try:
            greengrass.add_tags(self.gg, target.arn, self.holder.tag)
            target.held = True
            dead = self.holder.dead_keys(found.tags, sweep_dead=True)
            greengrass.remove_tags(self.gg, target.arn, dead)
            greengrass.wait_component_deployable(
                self.gg, target.arn, self._timeout(), say
            )  # pending: wait; FAILED: refuse, naming the ARN and state
            target.uri, target.digest = greengrass.stored_artifact(
                greengrass.get_recipe(self.gg, target.arn)
            )
            settled = ownership.settle(self.gg, target.arn, time.sleep)
        except NotFoundError:
            settled = False
        if not settled:
            say(f"{target.arn} was deleted by another stack meanwhile; publishing it again")
            target.held = False
            return False
        if not artifacts.head_artifact(self.clients.s3, *parse_s3_uri(target.uri)).exists:
            built = self._package(target)  # deleted out of band, or by a concurrent release
            if built.package.digest != target.digest:
                raise DdaError(
                    f"its artifact {target.uri} is gone and this package has other bytes "
                    f"(digest {built.package.digest}, the version's is {target.digest}); bump "
                    "component_version or omit it"
                )
            self._upload(target, built)
        how = "reclaimed" if target.created else "adopted"
        progress(f"[{target.naming.target}] {how} identical {target.arn}", keep=True)
        return True

    def _create(self, target: _Target) -> bool:
        """Package, upload and create the version; ``False`` if the version number is taken."""
        say = self.say(target)
        built = self._package(target)
        self._upload(target, built)
        target.phase = "creating the component version"
        recipe = with_version(built, target.version).recipe
        tags = {**self.model.tags, **self.holder.creation_tags(target.fingerprint)}
        try:
            greengrass.create_component_version(self.gg, recipe_json(recipe), tags)
        except ConflictError:
            if greengrass.find_component_version(self.gg, target.arn) is None:
                self._next_version(target, "was deleted and the service refuses to create it again")
            return False  # or created by someone else meanwhile: look again
        except AwsError:
            # The service refuses an artifact it cannot read: another stack's release deleted
            # the object after our upload found it in place. Upload it again and retry.
            if artifacts.head_artifact(self.clients.s3, *parse_s3_uri(built.artifact_uri)).exists:
                raise
            say(f"{built.artifact_uri} was deleted meanwhile; uploading it again")
            return False
        target.held = target.created = True
        say(f"created {target.arn}; waiting for DEPLOYABLE")
        try:
            greengrass.wait_component_deployable(self.gg, target.arn, self._timeout(), say)
        except AwsError:
            if not self._artifact_lost(target, built):
                raise
            return False  # published again on the next attempt
        progress(f"[{target.naming.target}] created {target.arn}, DEPLOYABLE", keep=True)
        target.phase = "checking the stored digest"
        stored = greengrass.stored_artifact(greengrass.get_recipe(self.gg, target.arn))
        if stored != (built.artifact_uri, built.package.digest):
            raise DdaError(
                f"the service stored artifact {stored} but the package is "
                f"{(built.artifact_uri, built.package.digest)}"
            )
        target.uri, target.digest = stored
        self._upload(target, built)  # deleted meanwhile by another stack's release: back again
        return True

    def _artifact_lost(self, target: _Target, built: BuiltComponent) -> bool:
        """A version this call created failed because another stack's release deleted the
        artifact it had just checked (the release saw no version using it): remove the failed
        version so the next attempt publishes both again. ``False`` if the artifact is there."""
        if artifacts.head_artifact(self.clients.s3, *parse_s3_uri(built.artifact_uri)).exists:
            return False
        self.say(target)(f"{built.artifact_uri} was deleted meanwhile; publishing again")
        greengrass.delete_component_version(self.gg, target.arn)
        target.held = target.created = False
        return True

    def _package(self, target: _Target) -> BuiltComponent:
        """The package of exactly the compiled model whose identity check fingerprinted."""
        if target.built is None:
            target.phase = "packaging"
            key = f"compiled_models.{target.naming.target}"
            uri = self.model.compiled_models[target.naming.target]
            try:
                target.built = build_target(
                    self.model.request(target.version),
                    target.naming,
                    self.manifest,
                    recorded_source(uri, self.identities[key]),
                    self.work / target.naming.target,
                    self.clients,
                    progress_here(),
                )
            except SourceChangedError as exc:
                raise InputError(
                    f"{key} {exc.uri} changed since the preview ({exc.change}): run up again",
                    field=key,
                ) from exc
        return target.built

    def _upload(self, target: _Target, built: BuiltComponent) -> None:
        target.phase = "uploading"
        bucket, key = parse_s3_uri(built.artifact_uri)
        if artifacts.ensure_artifact(
            self.clients.s3,
            bucket,
            key,
            built.package.path,
            built.package.sha256,
            self.model.owner,
            self.say(target),
        ):
            target.uploaded = built.artifact_uri

    def _timeout(self) -> float:
        return self.model.wait_timeout_seconds or greengrass.DEPLOYABLE_TIMEOUT

    def settle(self, targets: list[_Target]) -> None:
        """Every target succeeded: drop the pending tags, so this instance counts as live (see
        :mod:`.ownership`). Not best effort: a failure fails the create."""
        for target in targets:
            greengrass.remove_tags(self.gg, target.arn, [self.holder.pending_key])

    def sweep(self, targets: list[_Target]) -> None:
        """After a successful create: what dead instances of this resource left (best effort)."""
        try:
            components = {arns.component_of(t.arn) for t in targets}
            deployments = DeploymentIndex(self.gg)
            uris = ownership.sweep(
                self.gg, self.holder, deployments, components, sweep_dead=True, say=_keep
            )
            _release_artifacts(self.clients, uris, places={t.uri for t in targets if t.uri})
        except DdaError as exc:
            progress(f"cleanup of what an earlier create left was incomplete: {exc}", keep=True)

    def undo(self, targets: list[_Target]) -> None:
        """Best-effort release of what a failed create took; the original error is raised.

        Nothing is undone once the engine is gone (the CLI was killed): a retried ``up`` may
        already hold these versions as the same instance, and what it does not take, its sweep
        releases (see ``_host.watch_engine``)."""
        if engine_gone():
            progress("the engine is gone: leaving clean-up to the next run", keep=True)
            return
        try:
            deployments = DeploymentIndex(self.gg)
            for target in targets:
                if target.held:
                    outcome = ownership.release(self.gg, target.arn, self.holder, deployments)
                    progress(f"{target.arn}: {outcome}", keep=True)
            _release_artifacts(self.clients, {t.uploaded for t in targets} - {""})
        except DdaError as exc:
            progress(f"cleanup after the failed create was incomplete: {exc}", keep=True)


def _release_artifacts(clients: AwsClients, released: set[str], places: Iterable[str] = ()) -> None:
    """Tag what was released; delete what was released long enough ago (see :mod:`.artifacts`)."""
    artifacts.release_artifacts(
        clients.s3,
        clients.greengrass,
        released,
        places=places,
        progress=lambda message: progress(message, keep=True),
    )


def _keep(message: str) -> None:
    progress(message, keep=True)
