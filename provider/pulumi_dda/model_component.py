"""``DdaModelComponent``: a DDA model component as a Pulumi dynamic resource.

Lifecycle (the user's view is in the README; who holds which version is in :mod:`.ownership`):

- **check** parses the inputs once (:class:`.inputs.ModelInputs`) and runs every validation
  that needs no package. It records each source archive's identity (S3 ETag and version id from
  ``HeadObject``, a local file's SHA-256) in ``source_identities``, builds the DDA manifest
  (phase 1, reading the trained model only when its identity changed, and then exactly the
  object that identity names) into ``manifest``, and
  resolves each target's version into ``versions``: a target whose content fingerprint is
  unchanged keeps its version without any AWS call; a changed target takes the next free
  major version (``component_version`` omitted) or the given one, which must not already
  exist with other content. So the preview shows the version a deployment moves to, and
  ``plan`` says per target why (:func:`_plan`). Bookkeeping is kept in state under
  ``__``-prefixed names (``STATE_ONLY``), which no preview displays.
- **diff** replaces when ``versions`` (or the region, role or owner) changes; pinning the
  resolved version, or omitting it again, changes nothing. Any other input change (tags, an
  archive moved to another key with the same bytes) is an in-place update.
- **create** handles every target in parallel: an identical existing version (same
  fingerprint) is taken over without packaging anything, once ``DEPLOYABLE``; otherwise the
  package is built from exactly the object whose identity check recorded (and fingerprinted;
  a source changed since fails naming the input), uploaded, the version created and waited
  for, and the service's digest checked. A failure releases what the call took and raises
  one error naming the target and phase.
- **update** re-tags the versions this resource's owner created; **read** drops the resource
  from state when a version vanished or is ``FAILED`` (the next ``up`` repairs it) and reports
  tag drift; **delete** releases the versions (never deleting one another stack holds or a
  latest deployment uses), sweeps what crashed creates of this resource left, then tags the
  artifact objects no component version references any more as released; they are deleted
  after a grace period by a later create or delete (:mod:`.artifacts`).

The provider class is pickled by reference (it lives in this installed module) and holds only
the plain strings read from the stack config; AWS clients are built inside each hook.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)
from pulumi.runtime.rpc import UNKNOWN

from . import artifacts, greengrass, ownership
from ._host import (
    AwsResourceProvider,
    engine_gone,
    hook,
    is_known,
    progress,
    progress_here,
)
from ._parallel import fan_out
from ._types import JSONDict, Progress
from .aws import AwsClients
from .build import BuiltComponent, build_target, read_manifest, with_version
from .errors import (
    AwsError,
    ConflictError,
    DdaError,
    InputError,
    NotFoundError,
    SourceChangedError,
)
from .inputs import ModelInputs, check_region
from .manifest import DdaManifest
from .ownership import DeploymentIndex, Holder
from .package import PACKAGE_SUFFIX
from .properties import MODEL
from .recipe import (
    ComponentNaming,
    platform_for,
    recipe_json,
    validate_component_version,
    version_for_major,
)
from .sources import ResolvedSource, content_identity, parse_s3_uri, recorded_source, resolve_source

USER_INPUTS = (*MODEL.input_names(), "owner")
CHECK_FILLED = (
    "source_identities",
    "manifest",
    "model_name",
    "fingerprints",
    "versions",
    "plan",
    "predecessor",
    "local_server_artifacts",
)
INPUT_KEYS = USER_INPUTS + CHECK_FILLED
REPLACING_INPUTS = ("versions", "owner", *MODEL.changing("replace"))
NOT_COMPARED = ("predecessor", "plan")
"""``predecessor`` (the instance a replacement replaces, see :mod:`.ownership`) is bookkeeping;
``plan`` only describes the change ``versions`` makes. ``component_version`` is compared but
never replaces: pinning the resolved version, or omitting it again, is an update that only
writes state (``versions`` decides what is published), so the state always holds the
program's inputs and a later change shows no stale pin."""
STATE_ONLY = (
    "owner",
    "source_identities",
    "manifest",
    "fingerprints",
    "predecessor",
    "checked_versions",
    "resources",
)
"""Kept in state as ``__<key>``, so a preview's diff never shows them (see ``_host.hook``)."""
DEFAULTS: JSONDict = MODEL.defaults()
TRAINED_KEY = "trained_model_uri"
CONTENT_INPUTS = ("manifest", *MODEL.changing("new_version"))
"""What every target's content depends on besides its own archive: a change moves every device."""
MAX_VERSION_ATTEMPTS = 20
UNCHANGED = "unchanged"
"""The ``plan`` line of a target whose version this update keeps."""


class _TargetFailure(DdaError):
    def __init__(self, target: str, phase: str, cause: Exception) -> None:
        super().__init__(f"target {target}: {phase}: {cause}")


class DdaModelComponentProvider(AwsResourceProvider):
    """The dynamic provider behind :class:`DdaModelComponent`. Never rename or move it."""

    STATE_ONLY = STATE_ONLY

    # check ---------------------------------------------------------------------------------

    @hook
    def check(self, olds: JSONDict, news: JSONDict) -> CheckResult:
        first_look = bool(olds)  # not the engine's re-check of a replacement
        olds = _replaced_olds(olds, news)
        inputs = dict(news)
        for key, default in DEFAULTS.items():
            if inputs.get(key) is None:
                inputs[key] = default
        try:
            self._check(olds, inputs)
            if first_look and is_known(inputs.get("versions")):
                for line in preview_lines(olds, inputs):
                    progress(line, keep=True)
        except InputError as exc:
            return CheckResult(inputs, [CheckFailure(exc.field, str(exc))])
        except DdaError as exc:
            return CheckResult(inputs, [CheckFailure("", str(exc))])
        return CheckResult(inputs, [])

    def _check(self, olds: JSONDict, inputs: JSONDict) -> None:
        if not all(is_known(inputs.get(k)) for k in USER_INPUTS):
            # A preview with values computed by other resources: everything is checked at up.
            inputs.update(dict.fromkeys(CHECK_FILLED, UNKNOWN))
            return
        model = ModelInputs.parse(inputs)
        names = model.naming()
        clients = self.clients(inputs)
        check_region(clients.region)
        if not olds or any(
            olds.get(k) != inputs.get(k) for k in ("artifact_bucket", "region", "role_arn")
        ):
            artifacts.check_bucket(clients.s3, model.artifact_bucket, clients.region)
        sources = {
            key: _resolve(uri, clients, key)
            for key, uri in [(TRAINED_KEY, model.trained_model_uri)]
            + [(f"compiled_models.{t}", uri) for t, uri in model.compiled_models.items()]
        }
        identities = {key: source.identity for key, source in sources.items()}
        inputs["source_identities"] = identities
        old_ids = _contents(olds.get("source_identities"))
        if (
            old_ids.get(TRAINED_KEY) == content_identity(identities[TRAINED_KEY])
            and olds.get("manifest")
            and olds.get("relax_device_checks") == inputs.get("relax_device_checks")
        ):
            inputs["manifest"], inputs["model_name"] = olds["manifest"], olds["model_name"]
        else:
            manifest = _read_manifest(model, sources[TRAINED_KEY], clients)
            inputs["manifest"], inputs["model_name"] = manifest.manifest, manifest.model_name
        inputs["fingerprints"] = {
            target: _fingerprint(model, naming, inputs["manifest"], _contents(identities))
            for target, naming in names.items()
        }
        _keep_legacy_fingerprints(olds, inputs, model, names)
        inputs["versions"] = _resolve_versions(olds, inputs, model, names, clients)
        inputs["local_server_artifacts"] = _local_server_artifacts(olds, inputs, clients)
        inputs["plan"] = _plan(olds, inputs)
        # The instance this one replaces (see ownership); unchanged when nothing replaces it.
        old_instance = ownership.instance_of(olds)
        replaced = old_instance != ownership.instance_of(inputs)
        inputs["predecessor"] = old_instance if replaced else (olds.get("predecessor") or "")

    # diff ----------------------------------------------------------------------------------

    @hook
    def diff(self, _id: str, olds: JSONDict, news: JSONDict) -> DiffResult:
        old_inputs, news = _compared(_inputs_of(olds)), _compared(news)
        changed = [
            k for k in INPUT_KEYS if k not in NOT_COMPARED and old_inputs.get(k) != news.get(k)
        ]
        replaces = [k for k in changed if k in REPLACING_INPUTS]
        owner = str(news.get("owner") or "")
        with _CHECKED_LOCK:
            if owner in _CHECKED and replaces:
                _CHECKED[owner].replacing = True  # the engine's re-check comes next
            else:
                _CHECKED.pop(owner, None)
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    # create --------------------------------------------------------------------------------

    @hook
    def create(self, props: JSONDict) -> CreateResult:
        with _CHECKED_LOCK:
            _CHECKED.pop(str(props.get("owner") or ""), None)
        model = ModelInputs.parse(props)
        clients = self.clients(props)
        holder = Holder(model.owner, ownership.instance_of(props), props.get("predecessor") or "")
        clients.s3  # noqa: B018 - create both clients before the threads share them
        clients.greengrass  # noqa: B018
        targets = {
            t: _Target(naming, props["fingerprints"][t], props["versions"][t]["component_version"])
            for t, naming in model.naming().items()
        }
        with tempfile.TemporaryDirectory(prefix="pulumi-dda-") as work:
            run = _Create(model, props, clients, holder, Path(work))
            try:
                fan_out(targets, lambda _t, target: run.publish(target))
                run.settle(list(targets.values()))
            except BaseException:
                run.undo(list(targets.values()))
                raise
            run.sweep(list(targets.values()))
        versions = {t: r.version for t, r in targets.items()}
        shown = set(versions.values())
        id_ = f"{model.component_name}@" + (
            shown.pop() if len(shown) == 1 else ",".join(f"{t}={v}" for t, v in versions.items())
        )
        outs = {
            **{k: props.get(k) for k in INPUT_KEYS},
            "checked_versions": props["versions"],
            "versions": {t: r.version_entry() for t, r in targets.items()},
            "plan": props["plan"],
            "components": {t: r.output() for t, r in targets.items()},
            "resources": {t: r.state() for t, r in targets.items()},
        }
        return CreateResult(id_, outs)

    # update / read / delete ----------------------------------------------------------------

    @hook
    def update(self, _id: str, olds: JSONDict, news: JSONDict) -> UpdateResult:
        model = ModelInputs.parse(news)
        old_tags = dict(olds.get("tags") or {})
        if old_tags != model.tags:
            gg = self.clients(olds).greengrass
            for state in (olds.get("resources") or {}).values():
                if state.get("created"):
                    greengrass.set_tags(gg, state["arn"], old_tags, model.tags)
        return UpdateResult(_updated(olds, news))

    @hook
    def planned_update(self, _id: str, olds: JSONDict, news: JSONDict) -> UpdateResult:
        """What :meth:`update` will return, for a preview (the ``dda`` plugin's provider
        previews): every version stays, so every output is known."""
        return UpdateResult(_updated(olds, news))

    @hook
    def read(self, id_: str, props: JSONDict) -> ReadResult:
        gg = self.clients(props).greengrass
        outs = {k: v for k, v in props.items() if not k.startswith("__")}
        for state in (props.get("resources") or {}).values():
            found = greengrass.find_component_version(gg, state["arn"])
            status = (found or {}).get("status", {}).get("componentState")
            if found is None or status == ownership.FAILED:
                why = "no longer exists" if found is None else "is FAILED"
                progress(f"{state['arn']} {why}; the next up publishes it again", keep=True)
                return ReadResult("", {})
            if state.get("created"):
                found_tags = greengrass.user_tags(greengrass.get_tags(gg, state["arn"]))
                if found_tags != props.get("tags"):
                    outs["tags"] = found_tags  # drift on any version shows; the next up re-tags
        return ReadResult(id_, outs, _inputs_of(outs))

    @hook
    def delete(self, _id: str, props: JSONDict) -> None:
        clients = self.clients(props)
        gg = clients.greengrass
        holder = Holder(str(props.get("owner") or ""), ownership.instance_of(_inputs_of(props)))
        deployments = DeploymentIndex(gg)
        states = [s for s in (props.get("resources") or {}).values() if s.get("arn")]
        uris = {str(s["uri"]) for s in states if s.get("uri")}
        for state in states:
            outcome = ownership.release(gg, state["arn"], holder, deployments)
            progress(f"{state['arn']}: {outcome}", keep=True)
        components = {s["arn"].rpartition(":versions:")[0] for s in states}
        uris |= _sweep(gg, holder, deployments, components, sweep_dead=False)
        _release_artifacts(clients, uris)


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
                target.arn = greengrass.version_arn(
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
            components = {t.arn.rpartition(":versions:")[0] for t in targets}
            deployments = DeploymentIndex(self.gg)
            uris = _sweep(self.gg, self.holder, deployments, components, sweep_dead=True)
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


def _sweep(
    gg: Any,
    holder: Holder,
    deployments: DeploymentIndex,
    components: set[str],
    *,
    sweep_dead: bool,
) -> set[str]:
    """Release the orphans of ``components`` (see :func:`.ownership.orphans`); their URIs."""
    uris = set()
    for component in sorted(components):
        for arn in ownership.orphans(gg, component, holder, sweep_dead=sweep_dead):
            uris.add(greengrass.stored_artifact(greengrass.get_recipe(gg, arn))[0])
            outcome = ownership.release(gg, arn, holder, deployments, sweep_dead=sweep_dead)
            progress(f"{arn} (left behind by this resource earlier): {outcome}", keep=True)
    return uris


def _resolve_versions(
    olds: JSONDict,
    inputs: JSONDict,
    model: ModelInputs,
    names: dict[str, ComponentNaming],
    clients: AwsClients,
) -> dict[str, JSONDict]:
    """Each target's version: unchanged targets keep theirs, without any AWS call."""
    old_versions = _kept(olds, inputs, "versions")
    old_fingerprints = olds.get("fingerprints") or {}
    versions: dict[str, JSONDict] = {}
    changed_at_same_version = []
    for target, naming in names.items():
        old = old_versions.get(target) or {}
        same_name = old.get("component_name") == naming.component_name
        unchanged = same_name and old_fingerprints.get(target) == inputs["fingerprints"][target]
        given = model.component_version
        if unchanged and (not given or given == old.get("component_version")):
            version = str(old["component_version"])
        elif given:
            version = given
            if same_name and old.get("component_version") == given:
                changed_at_same_version.append(target)
            else:
                _check_given_version(clients, naming, given, inputs["fingerprints"][target])
        else:
            component = greengrass.component_arn(
                clients.region, clients.account_id, naming.component_name
            )
            version = ownership.next_version(
                clients.greengrass, component, inputs["fingerprints"][target]
            )
        versions[target] = {"component_name": naming.component_name, "component_version": version}
    if changed_at_same_version:
        raise _immutable(model.component_version, _content_changes(olds, inputs, names))
    return versions


@dataclass
class _Checked:
    inputs: str
    olds: JSONDict
    replacing: bool = False


_CHECKED: dict[str, _Checked] = {}
"""Owner → this process's last check of it that had an old state (see :func:`_replaced_olds`);
the plugin serves hooks on several threads, so every access holds :data:`_CHECKED_LOCK`."""
_CHECKED_LOCK = threading.Lock()


def _replaced_olds(olds: JSONDict, news: JSONDict) -> JSONDict:
    """The old state this check is about: ``olds``, or for the engine's re-check of a resource
    it replaces, the old state of the check before.

    When a diff says replace, the engine calls Check again with *no* old state ("recompute the
    default values", ``pkg/resource/deploy/step_generator.go``), and that re-check's result is
    what the replacement is created from and what the preview shows. Everything check derives
    from the old state (the manifest kept without reading the trained model again, the
    predecessor instance, the plan's reasons) would be lost. So a check with an old state is
    remembered per owner, armed by a diff that replaces (dropped by one that does not, and by
    create), and the next check of that owner with the same inputs and no old state, which is
    the re-check in the same provider process, takes it."""
    owner = str(news.get("owner") or "")
    key = json.dumps(news, sort_keys=True, default=str)
    with _CHECKED_LOCK:
        if olds:
            _CHECKED[owner] = _Checked(key, olds)
            return olds
        last = _CHECKED.pop(owner, None)
    return last.olds if last and last.replacing and last.inputs == key else olds


def _plan(olds: JSONDict, inputs: JSONDict) -> dict[str, str]:
    """One line per target of what this update does to it: what changed and the version it
    moves to (``new compiled model (etag:04f3ebe72528) → 2.0.0``, ``new component → 1.0.0``),
    or ``unchanged`` when its version stays.

    The engine shows every input of an updated resource, changed or not, so a line always says
    what *this* update does: a tags-only update shows each line turning ``unchanged`` (once),
    never the change that made the version."""
    old_versions = olds.get("versions") or {}
    old_ids = _contents(olds.get("source_identities"))
    ids = _contents(inputs["source_identities"])
    manifest = _manifest_changes(olds.get("manifest"), inputs["manifest"]) if olds else []
    others = [f"{k} changed" for k in CONTENT_INPUTS[1:] if olds and olds.get(k) != inputs.get(k)]
    plan = {}
    for target, entry in inputs["versions"].items():
        version = str(entry["component_version"])
        old = old_versions.get(target)
        if old == entry:
            plan[target] = UNCHANGED
            continue
        key = f"compiled_models.{target}"
        if not old:
            why = ["new target" if olds else "new component"]
        elif old_ids.get(key) != ids[key]:
            why = [f"new compiled model ({_short(ids[key])})"]
        else:
            why = []
        why += manifest + others
        plan[target] = f"{', '.join(why) or 'component_version changed'} → {version}"
    return plan


def preview_lines(olds: JSONDict, inputs: JSONDict) -> list[str]:
    """What a reviewer must see without ``--diff``: per target the version it moves to and the
    version it releases, and one line when every device moves (check logs them, so every
    preview shows them under the resource)."""
    old_versions = olds.get("versions") or {}
    released = "released after the update (deleted unless another stack or a deployment uses it)"
    lines = []
    for target, line in inputs["plan"].items():
        if line == UNCHANGED:
            continue
        old = (old_versions.get(target) or {}).get("component_version")
        new = inputs["versions"][target]["component_version"]
        why = line.rpartition(" → ")[0]
        lines.append(
            f"{target}: {old or 'new'} → {new}, {why}" + (f"; {old} {released}" if old else "")
        )
    for target, entry in old_versions.items():
        if target not in inputs["versions"]:
            lines.append(f"{target}: removed; {entry['component_version']} {released}")
    everything = _manifest_changes(olds.get("manifest"), inputs["manifest"])[:1] + [
        f"{k} changed" for k in CONTENT_INPUTS[1:] if olds.get(k) != inputs.get(k)
    ]
    if everything and len(inputs["versions"]) > 1:
        lines.append(
            f"every target gets a new version ({', '.join(everything)}): this moves every "
            "device that its deployments reach"
        )
    return lines


def _updated(olds: JSONDict, news: JSONDict) -> JSONDict:
    """An update's outputs: the old ones with the new inputs (an update keeps every version)."""
    outs = {k: v for k, v in olds.items() if not k.startswith("__")}
    outs.update({k: news.get(k) for k in INPUT_KEYS if k != "versions"})
    return outs


def _short(identity: str) -> str:
    """``etag:04f3ebe725280faa…;version:3Lg…`` → ``etag:04f3ebe72528``."""
    kind, _, value = identity.partition(";")[0].partition(":")
    return f"{kind}:{value[:12]}"


def _manifest_changes(old: Any, new: Any, limit: int = 3) -> list[str]:
    """``manifest dataset.image_width 256 (was 224)`` for each changed leaf (at most ``limit``)."""
    olds, news = _leaves(old or {}), _leaves(new)
    changed = [
        f"manifest {path} {news.get(path, '(none)')} (was {olds.get(path, 'none')})"
        for path in sorted(olds.keys() | news.keys())
        if olds.get(path) != news.get(path)
    ]
    if len(changed) > limit:
        changed[limit:] = [f"{len(changed) - limit} more manifest changes"]
    return changed


def _leaves(value: Any, path: str = "") -> dict[str, str]:
    if isinstance(value, dict):
        items = [(f"{path}.{k}" if path else str(k), v) for k, v in value.items()]
    elif isinstance(value, list):
        items = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
    else:  # state holds numbers as floats: 224.0 is the manifest's 224
        integral = isinstance(value, float) and value.is_integer()
        return {path: json.dumps(int(value) if integral else value)}
    return {p: leaf for k, v in items for p, leaf in _leaves(v, k).items()} or {
        path: json.dumps(value)
    }


def _kept(olds: JSONDict, inputs: JSONDict, key: str) -> JSONDict:
    """``olds[key]`` when it still applies: the same region and role (another account or region
    has other versions and LocalServers), else nothing."""
    same_place = all(olds.get(k, "") == inputs.get(k, "") for k in ("region", "role_arn"))
    return dict(olds.get(key) or {}) if same_place else {}


def _local_server_artifacts(
    olds: JSONDict, inputs: JSONDict, clients: AwsClients
) -> dict[str, list[str]]:
    """Target → the ``s3://`` artifact URIs of the LocalServer its recipe depends on.

    Looked up (:func:`_check_local_servers`) only for targets that get a new version (or whose
    entry the old state lacks); the others keep theirs, so an unchanged preview costs nothing.
    """
    old_versions = _kept(olds, inputs, "versions")
    kept = _kept(olds, inputs, "local_server_artifacts")
    found: dict[str, list[str]] = {}
    new = []
    for target, entry in inputs["versions"].items():
        if entry == old_versions.get(target) and isinstance(kept.get(target), list):
            found[target] = [str(uri) for uri in kept[target]]
        else:
            new.append(target)
    found.update(_check_local_servers(clients, new))
    return {t: found[t] for t in inputs["versions"]}


def _check_local_servers(clients: AwsClients, targets: list[str]) -> dict[str, list[str]]:
    """Every recipe HARD-depends on DDA's LocalServer ``^1.0.0``: it must be published here.

    Returns target → the sorted ``s3://`` artifact URIs of the newest published ``^1.0.0``
    LocalServer version (what a deployment resolves), so the device role can grant exactly
    them. An artifact elsewhere (``docker:``, ``greengrass:``, …) is refused: the device role
    only ever grants ``s3:GetObject``. Only for the ``targets`` given (those getting a new
    version), so an unchanged preview costs nothing.
    """
    found: dict[str, list[str]] = {}
    for server in sorted({platform_for(t).local_server_component for t in targets}):
        users = sorted(t for t in targets if platform_for(t).local_server_component == server)
        arn = greengrass.component_arn(clients.region, clients.account_id, server)
        published = [
            v for v in greengrass.list_versions(clients.greengrass, arn)
            if greengrass.major_of_any(v) == 1
        ]  # fmt: skip
        if not published:
            raise InputError(
                f"compiled_models: {', '.join(users)} needs DDA's {server} (a version "
                f"^1.0.0) in account {clients.account_id} region {clients.region}, and it is "
                "not published there: publish it from the DDA repository first (on the local "
                "endpoint: pulumi-dda local --seed-local-server)",
                field="compiled_models",
            )
        newest = max(published, key=greengrass.semver_key)
        recipe = greengrass.get_recipe(clients.greengrass, f"{arn}:versions:{newest}")
        uris = sorted(greengrass.artifact_uris(recipe))
        other = [u for u in uris if not u.startswith("s3://")]
        if other:
            raise InputError(
                f"compiled_models: {', '.join(users)} needs DDA's {server} {newest}, whose "
                f"recipe names the artifact {other[0]}, which is not an s3:// URI: the device "
                "role can only be granted s3:GetObject on the LocalServer's artifacts; publish "
                "it with its artifacts in S3",
                field="compiled_models",
            )
        found.update(dict.fromkeys(users, uris))
    return {t: list(uris) for t, uris in found.items()}


def _check_given_version(
    clients: AwsClients, naming: ComponentNaming, version: str, wanted_fingerprint: str
) -> None:
    """At preview: a given version that exists must be identical and usable."""
    arn = greengrass.version_arn(clients.region, clients.account_id, naming.component_name, version)
    found = ownership.look_up(clients.greengrass, arn)
    if found is None:
        return
    if not found.identical(wanted_fingerprint):
        raise _immutable(version, [f"{arn} exists, {found.maker}"])
    if found.state == ownership.FAILED:
        major = validate_component_version(version)
        raise InputError(
            f"component_version {version}: {arn} has this content but is FAILED (the service "
            "could not use its artifact, e.g. after a crash), and a version cannot be published "
            f"again: bump component_version to {version_for_major(major + 1)} or omit it",
            field="component_version",
        )


def _immutable(version: str, why: list[str]) -> InputError:
    major = validate_component_version(version)
    return InputError(
        f"component_version {version} is already published with other content "
        f"({'; '.join(why)}) and versions are immutable: bump component_version to "
        f"{version_for_major(major + 1)} or omit it to let each target take its next version",
        field="component_version",
    )


def _content_changes(
    olds: JSONDict, inputs: JSONDict, names: dict[str, ComponentNaming]
) -> list[str]:
    """The inputs whose change alters the package or recipe, for the bump message."""
    changed = [f"{k} changed" for k in CONTENT_INPUTS if olds.get(k) != inputs.get(k)]
    old_ids, ids = _contents(olds.get("source_identities")), _contents(inputs["source_identities"])
    for target in names:
        key = f"compiled_models.{target}"
        if old_ids.get(key) != ids[key]:
            changed.append(f"{key} changed")
    return changed or ["fingerprints changed"]


def _contents(identities: Any) -> dict[str, str]:
    """Source identities as the content they name (:func:`.sources.content_identity`)."""
    return {k: content_identity(str(v)) for k, v in (identities or {}).items()}


def _compared(props: JSONDict) -> JSONDict:
    """``props`` as diff compares them: sources by content, so re-uploading identical bytes to
    a versioned bucket (a new version id) changes nothing."""
    if isinstance(props.get("source_identities"), dict):
        props = {**props, "source_identities": _contents(props["source_identities"])}
    return props


def _keep_legacy_fingerprints(
    olds: JSONDict, inputs: JSONDict, model: ModelInputs, names: dict[str, ComponentNaming]
) -> None:
    """A state written before fingerprints named content (they held the S3 version id too)
    keeps such a fingerprint while its sources are the same objects, so upgrading republishes
    nothing; the next change of content gives the target a content fingerprint."""
    old_fingerprints = olds.get("fingerprints") or {}
    for target, naming in names.items():
        old = old_fingerprints.get(target)
        if old and old != inputs["fingerprints"][target]:
            legacy = _fingerprint(model, naming, inputs["manifest"], inputs["source_identities"])
            if legacy == old:
                inputs["fingerprints"][target] = old


def _fingerprint(
    model: ModelInputs, naming: ComponentNaming, manifest: JSONDict, identities: JSONDict
) -> str:
    return ownership.fingerprint(
        component_name=naming.component_name,
        friendly_name=naming.friendly_name,
        target=naming.target,
        manifest=manifest,
        compiled_identity=identities[f"compiled_models.{naming.target}"],
        artifact_bucket=model.artifact_bucket,
        artifact_prefix=model.artifact_prefix,
    )


def _release_artifacts(clients: AwsClients, released: set[str], places: Iterable[str] = ()) -> None:
    """Tag what was released; delete what was released long enough ago (see :mod:`.artifacts`)."""
    artifacts.release_artifacts(
        clients.s3,
        clients.greengrass,
        released,
        places=places,
        progress=lambda message: progress(message, keep=True),
    )


def _inputs_of(outs: JSONDict) -> JSONDict:
    """The checked inputs a state's outputs were created from."""
    inputs = {k: outs.get(k) for k in INPUT_KEYS}
    if outs.get("checked_versions") is not None:
        inputs["versions"] = outs["checked_versions"]
    return inputs


def _read_manifest(model: ModelInputs, source: ResolvedSource, clients: AwsClients) -> DdaManifest:
    """The manifest of exactly the trained model whose identity check recorded."""
    try:
        return read_manifest(
            source,
            clients,
            relax_device_checks=model.relax_device_checks,
            progress=progress,
            limits=model.limits,
        )
    except SourceChangedError as exc:
        raise InputError(
            f"{TRAINED_KEY} {exc.uri} changed while the check read it ({exc.change}): "
            "run the preview or up again",
            field=TRAINED_KEY,
        ) from exc
    except InputError as exc:
        if exc.field:
            raise
        raise InputError(str(exc), field=TRAINED_KEY) from exc


def _resolve(uri: str, clients: AwsClients, key: str) -> ResolvedSource:
    try:
        return resolve_source(uri, clients)
    except DdaError as exc:
        raise InputError(f"{key} {uri}: {exc}", field=key) from exc
