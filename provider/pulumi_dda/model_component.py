"""``DdaModelComponent``: a DDA model component as a Pulumi dynamic resource.

Lifecycle (see the README for the user's view):

- **check** runs every validation that needs no package (names, version, targets, bucket,
  prefix), records each source archive's identity (S3 ETag/version id from ``HeadObject``, or a
  local file's SHA-256) in the input ``source_identities``, and builds the DDA manifest (phase 1)
  into the input ``manifest``, reading the trained model only when its identity changed. So a
  model re-written to the same key, or a changed manifest, shows in ``pulumi preview`` as an
  input change, and an unchanged preview moves no object bytes. A content change without a
  version bump fails here, naming ``component_version``.
- **diff**: a change of ``tags`` (or of ``wait_timeout_seconds``) is an in-place update; any
  other input change replaces the resource, new version first, then the old one is deleted.
- **create**: phases 2 and 3 per target in parallel, upload unless the content-addressed key
  already holds the bytes, create the version (or adopt/reclaim an identical existing one),
  wait for ``DEPLOYABLE``, and check the service's digest. A failure removes what this call
  created and raises one error naming the target and phase.
- **update** re-tags the versions this resource created; **delete** releases its versions and
  then deletes the artifact objects no component version uses any more; **read** drops the
  resource from state when a version vanished and reports tag drift.

Ownership is a reference count kept in tags, so it survives lost state: the creator tags a
version ``pulumi-dda:owner=<project/stack/name>``, and every stack resource that uses it
(creator or adopter) adds ``pulumi-dda:user:<hash>``. An identical existing version is
*reclaimed* when its owner tag is this resource's (created before a crash, or before an
out-of-band deletion of a sibling version) and *adopted* otherwise (promotion between stacks
in one account). Delete removes this resource's user tag and deletes the version only when no
other user remains; a version without the owner tag (not made by pulumi-dda) is never deleted.
So destroying dev leaves the version prod adopted, and the last stack to go removes it.

The provider class is pickled by reference (it lives in this installed module) and holds only
the plain strings read from the stack config; AWS clients are built inside each hook.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)
from pulumi.runtime.rpc import UNKNOWN

from . import artifacts, greengrass
from ._dynamic import AwsResourceProvider, is_known, progress
from ._types import JSONDict, Progress
from .aws import AwsClients, aws_errors
from .build import (
    BuildRequest,
    BuiltComponent,
    build_target,
    read_manifest,
    validate_request,
    with_version,
)
from .errors import DdaError, InputError
from .manifest import DdaManifest
from .recipe import ComponentNaming, recipe_json, validate_component_version, version_for_major
from .sources import parse_s3_uri, source_identity

REPLACING_INPUTS = (
    "component_name",
    "component_version",
    "trained_model_uri",
    "compiled_models",
    "artifact_bucket",
    "artifact_prefix",
    "friendly_name",
    "target_suffix",
    "relax_device_checks",
    "role_arn",
    "region",
    "source_identities",
    "manifest",
    "model_name",
    "owner",
)
UPDATABLE_INPUTS = ("tags", "wait_timeout_seconds")
INPUT_KEYS = REPLACING_INPUTS + UPDATABLE_INPUTS
CONTENT_INPUTS = tuple(k for k in REPLACING_INPUTS if k not in {"component_version", "owner"})
CHECK_FILLED = ("source_identities", "manifest", "model_name")
TRAINED_KEY = "trained_model_uri"


def _request(props: JSONDict) -> BuildRequest:
    return BuildRequest(
        trained_model=props[TRAINED_KEY],
        compiled_models=dict(props["compiled_models"]),
        component_name=props["component_name"],
        component_version=props.get("component_version") or "1.0.0",  # provisional if omitted
        artifact_bucket=props["artifact_bucket"],
        artifact_prefix=props.get("artifact_prefix") or "",
        friendly_name=props.get("friendly_name") or None,
        target_suffix=bool(props.get("target_suffix", True)),
        relax_device_checks=bool(props.get("relax_device_checks", False)),
    )


@dataclass
class _TargetResult:
    naming: ComponentNaming
    built: BuiltComponent | None = None
    arn: str = ""
    created: bool = False
    adopted: bool = False

    def output(self) -> JSONDict:
        assert self.built is not None
        return {**self.built.summary(), "arn": self.arn, "adopted": self.adopted}

    def state(self) -> JSONDict:
        uri = self.built.artifact_uri if self.built else ""
        return {"arn": self.arn, "created": self.created, "uri": uri}


class _TargetFailure(DdaError):
    def __init__(self, target: str, phase: str, cause: Exception) -> None:
        super().__init__(f"target {target}: {phase}: {cause}")


class DdaModelComponentProvider(AwsResourceProvider):
    """The dynamic provider behind :class:`DdaModelComponent`. Never rename or move it."""

    # check ---------------------------------------------------------------------------------

    def check(self, olds: JSONDict, news: JSONDict) -> CheckResult:
        inputs = dict(news)
        inputs.setdefault("artifact_prefix", "")
        inputs.setdefault("target_suffix", True)
        inputs.setdefault("tags", {})
        try:
            self._check(olds, inputs)
        except InputError as exc:
            return CheckResult(inputs, [CheckFailure(_field_of(str(exc)), str(exc))])
        except DdaError as exc:
            return CheckResult(inputs, [CheckFailure("", str(exc))])
        return CheckResult(inputs, [])

    def _check(self, olds: JSONDict, inputs: JSONDict) -> None:
        for key in ("component_name", TRAINED_KEY, "compiled_models", "artifact_bucket"):
            if not inputs.get(key):
                raise InputError(f"{key} is required")
        if not isinstance(inputs["compiled_models"], dict):
            raise InputError("compiled_models must be a mapping of target to archive URI")
        version = inputs.get("component_version") or ""
        if not all(is_known(inputs.get(k)) for k in REPLACING_INPUTS if k not in CHECK_FILLED):
            # A preview with values computed by other resources: everything is checked at up.
            inputs.update(dict.fromkeys(CHECK_FILLED, UNKNOWN))
            return
        validate_request(_request(inputs), check_version=bool(version))
        clients = self.clients(inputs)
        sources = {TRAINED_KEY: inputs[TRAINED_KEY]} | {
            f"compiled_models.{t}": uri for t, uri in inputs["compiled_models"].items()
        }
        identities = {key: _identity(uri, clients, key) for key, uri in sources.items()}
        inputs["source_identities"] = identities
        old_ids = olds.get("source_identities") or {}
        if (
            old_ids.get(TRAINED_KEY) == identities[TRAINED_KEY]
            and olds.get("manifest")
            and (olds.get("relax_device_checks") == inputs.get("relax_device_checks"))
        ):
            inputs["manifest"], inputs["model_name"] = olds["manifest"], olds["model_name"]
        else:
            manifest = read_manifest(
                inputs[TRAINED_KEY],
                clients,
                relax_device_checks=bool(inputs.get("relax_device_checks")),
                progress=progress,
            )
            inputs["manifest"], inputs["model_name"] = manifest.manifest, manifest.model_name
        if version and olds and olds.get("component_version") == version:
            changed = [k for k in CONTENT_INPUTS if olds.get(k) != inputs.get(k)]
            same_names = all(
                olds.get(k) == inputs.get(k) for k in ("component_name", "target_suffix")
            )
            if changed and same_names:
                major = validate_component_version(version)
                raise InputError(
                    f"component_version {version} is already published with other content "
                    f"({', '.join(changed)} changed) and versions are immutable: bump "
                    f"component_version to {version_for_major(major + 1)} or omit it to take "
                    "the next free major version"
                )

    # diff ----------------------------------------------------------------------------------

    def diff(self, _id: str, olds: JSONDict, news: JSONDict) -> DiffResult:
        old_inputs = _inputs_of(olds)
        replaces = [k for k in REPLACING_INPUTS if old_inputs.get(k) != news.get(k)]
        updates = [k for k in UPDATABLE_INPUTS if old_inputs.get(k) != news.get(k)]
        return DiffResult(
            changes=bool(replaces or updates),
            replaces=replaces,
            delete_before_replace=False,
        )

    # create --------------------------------------------------------------------------------

    def create(self, props: JSONDict) -> CreateResult:
        clients = self.clients(props)
        inputs = {k: props.get(k) for k in INPUT_KEYS}
        request = _request(props)
        names = validate_request(request, check_version=False)
        # Pulumi state keeps objects as protobuf Structs, which sort keys; the package needs the
        # manifest in the contract's key order, so phase 1 runs again from the archive.
        manifest = read_manifest(
            request.trained_model,
            clients,
            relax_device_checks=request.relax_device_checks,
            progress=progress,
        )
        if manifest.manifest != props["manifest"]:
            raise InputError(
                f"trained_model_uri {request.trained_model} changed after it was checked; "
                "run the update again"
            )
        account = _account_id(clients)
        region = clients.region
        clients.s3  # noqa: B018 - create both clients before the threads share them
        clients.greengrass  # noqa: B018
        owner = str(props["owner"])
        results = {t: _TargetResult(n) for t, n in names.items()}
        with tempfile.TemporaryDirectory(prefix="pulumi-dda-") as work:
            try:
                _each(results, lambda r: _package(clients, request, manifest, r, Path(work)))
                version = props.get("component_version") or self._resolve_version(
                    clients, results, owner, region, account
                )
                _each(results, lambda r: self._publish(clients, r, version, props, region, account))
            except BaseException:
                self._undo(clients, props, results)
                raise
        outs = self._outputs(inputs, version, manifest, results, account, region)
        return CreateResult(f"{request.component_name}@{version}", outs)

    def _resolve_version(
        self,
        clients: AwsClients,
        results: dict[str, _TargetResult],
        owner: str,
        region: str,
        account: str,
    ) -> str:
        """For an omitted version: this resource's own identical newest version, else the next.

        Reusing the newest version when this resource created it with the same content is
        what lets an ``up`` after a crash (or after an out-of-band deletion of a sibling
        version) reclaim it instead of leaving it behind.
        """
        gg = clients.greengrass
        arns = {
            t: greengrass.component_arn(region, account, r.naming.component_name)
            for t, r in results.items()
        }
        taken = {t: greengrass.list_versions(gg, arn) for t, arn in arns.items()}
        majors = [greengrass.major_of(v) for versions in taken.values() for v in versions]
        newest = max(majors, default=0)
        if newest and all(
            self._is_own_identical(gg, f"{arns[t]}:versions:{newest}.0.0", r, owner, newest)
            for t, r in results.items()
            if f"{newest}.0.0" in taken[t]
        ):
            progress(f"component_version omitted: reclaiming this resource's {newest}.0.0")
            return version_for_major(newest)
        progress(f"component_version omitted: using the next free major version {newest + 1}.0.0")
        return version_for_major(newest + 1)

    def _is_own_identical(
        self, gg: Any, arn: str, result: _TargetResult, owner: str, major: int
    ) -> bool:
        assert result.built is not None
        if greengrass.get_tags(gg, arn).get(greengrass.OWNER_TAG) != owner:
            return False
        wanted = with_version(result.built, version_for_major(major)).recipe
        return greengrass.get_recipe(gg, arn) == wanted

    def _publish(
        self,
        clients: AwsClients,
        result: _TargetResult,
        version: str,
        props: JSONDict,
        region: str,
        account: str,
    ) -> None:
        """Upload, create (or adopt) and verify one target's component version."""
        assert result.built is not None
        target = result.naming.target
        owner = str(props["owner"])

        def say(message: str) -> None:
            progress(f"[{target}] {message}")

        built = result.built = with_version(result.built, version)
        phase = "uploading"
        try:
            bucket, key = parse_s3_uri(built.artifact_uri)
            artifacts.ensure_artifact(
                clients.s3, bucket, key, built.package.path, built.package.sha256, owner, say
            )
            phase = "creating the component version"
            arn = greengrass.version_arn(region, account, result.naming.component_name, version)
            self._create_or_adopt(clients, built, arn, owner, props, result, say)
            phase = "checking the stored digest"
            stored = greengrass.get_recipe(clients.greengrass, arn)
            digests = {
                a.get("Digest") for m in stored.get("Manifests", []) for a in m.get("Artifacts", [])
            }
            if digests != {built.package.digest}:
                raise DdaError(
                    f"the service stored digest {sorted(map(str, digests))} but the package's "
                    f"is {built.package.digest}"
                )
        except DdaError as exc:
            raise _TargetFailure(target, phase, exc) from exc

    def _create_or_adopt(
        self,
        clients: AwsClients,
        built: BuiltComponent,
        arn: str,
        owner: str,
        props: JSONDict,
        result: _TargetResult,
        say: Progress,
    ) -> None:
        gg = clients.greengrass
        if greengrass.find_component_version(gg, arn) is not None:
            stored = greengrass.get_recipe(gg, arn)
            if stored != built.recipe:
                raise InputError(
                    f"{arn} already exists with other content (a different recipe or artifact "
                    "digest); versions are immutable: bump component_version"
                )
            result.arn = arn  # from here on a failed create releases it again
            tags = greengrass.get_tags(gg, arn)
            result.created = tags.get(greengrass.OWNER_TAG) == owner
            result.adopted = not result.created
            with aws_errors(f"tagging Greengrass component ({arn})"):
                gg.tag_resource(resourceArn=arn, tags={greengrass.user_tag(owner): owner})
            say(f"{'reclaimed' if result.created else 'adopted'} existing identical {arn}")
            return
        tags = {
            **(props.get("tags") or {}),
            greengrass.OWNER_TAG: owner,
            greengrass.user_tag(owner): owner,
        }
        result.arn = arn
        greengrass.create_component_version(gg, recipe_json(built.recipe), tags)
        result.created = True
        say(f"created {arn}; waiting for DEPLOYABLE")
        timeout = float(props.get("wait_timeout_seconds") or greengrass.DEPLOYABLE_TIMEOUT)
        greengrass.wait_component_deployable(gg, arn, timeout, say)
        say(f"{arn} is DEPLOYABLE")

    def _undo(
        self, clients: AwsClients, props: JSONDict, results: dict[str, _TargetResult]
    ) -> None:
        """Best-effort removal of what a failed create made; the original error is raised."""
        try:
            self._remove(clients, str(props["owner"]), [r.state() for r in results.values()])
        except DdaError as exc:
            progress(f"cleanup after the failed create was incomplete: {exc}")

    def _outputs(
        self,
        inputs: JSONDict,
        version: str,
        manifest: DdaManifest,
        results: dict[str, _TargetResult],
        account: str,
        region: str,
    ) -> JSONDict:
        return {
            **inputs,
            "requested_component_version": inputs["component_version"],
            "component_version": version,
            "components": {t: r.output() for t, r in results.items()},
            "manifest": manifest.manifest,
            "model_name": manifest.model_name,
            "account_id": account,
            "aws_region": region,
            "resources": {t: r.state() for t, r in results.items()},
        }

    # update / read / delete ----------------------------------------------------------------

    def update(self, _id: str, olds: JSONDict, news: JSONDict) -> UpdateResult:
        clients = self.clients(olds)
        old_tags = dict(olds.get("tags") or {})
        new_tags = dict(news.get("tags") or {})
        for state in olds.get("resources", {}).values():
            if state.get("created"):
                greengrass.set_tags(clients.greengrass, state["arn"], old_tags, new_tags)
        outs = {k: v for k, v in olds.items() if not k.startswith("__")}
        outs.update({k: news.get(k) for k in INPUT_KEYS if k != "component_version"})
        return UpdateResult(outs)

    def read(self, id_: str, props: JSONDict) -> ReadResult:
        clients = self.clients(props)
        outs = {k: v for k, v in props.items() if not k.startswith("__")}
        for state in props.get("resources", {}).values():
            if greengrass.find_component_version(clients.greengrass, state["arn"]) is None:
                progress(f"{state['arn']} no longer exists; it will be created again")
                return ReadResult("", {})
            if state.get("created"):
                found = greengrass.user_tags(greengrass.get_tags(clients.greengrass, state["arn"]))
                if found != props.get("tags"):
                    outs["tags"] = found  # drift on any version shows; the next up re-tags all
        return ReadResult(id_, outs, _inputs_of(outs))

    def delete(self, _id: str, props: JSONDict) -> None:
        states = list(props.get("resources", {}).values())
        self._remove(self.clients(props), str(props["owner"]), states)

    def _remove(self, clients: AwsClients, owner: str, states: list[JSONDict]) -> None:
        """Release this resource's versions, then delete artifacts no version uses any more."""
        for state in states:
            if state.get("arn"):
                outcome = greengrass.release_version(clients.greengrass, state["arn"], owner)
                progress(f"{state['arn']}: {outcome}")
        candidates = [
            uri
            for uri in sorted({s["uri"] for s in states if s.get("uri")})
            # absent, or not uploaded by pulumi-dda: never deleted
            if artifacts.head_artifact(clients.s3, *parse_s3_uri(uri)).sha256
        ]
        in_use = greengrass.referenced_artifacts(clients.greengrass) if candidates else set()
        for uri in candidates:
            if uri in in_use:
                progress(f"{uri} is still used by a component version; left in place")
                continue
            artifacts.delete_artifact(clients.s3, *parse_s3_uri(uri))
            progress(f"deleted {uri}")


def _package(
    clients: AwsClients,
    request: BuildRequest,
    manifest: DdaManifest,
    result: _TargetResult,
    work: Path,
) -> None:
    """Phases 2 and 3 for one target (with a provisional version until it is resolved)."""
    target = result.naming.target
    try:
        result.built = build_target(
            request,
            result.naming,
            manifest,
            work / target,
            clients,
            progress,
        )
    except DdaError as exc:
        raise _TargetFailure(target, "packaging", exc) from exc


def _each(results: dict[str, _TargetResult], work: Callable[[_TargetResult], None]) -> None:
    """Run ``work`` for every target in parallel; raise the first failure after all finished."""
    with ThreadPoolExecutor(max_workers=min(4, len(results))) as pool:
        futures = [pool.submit(work, result) for result in results.values()]
    first = next((f.exception() for f in futures if f.exception() is not None), None)
    if first is not None:
        raise first


def _inputs_of(outs: JSONDict) -> JSONDict:
    """The inputs a state's outputs were created from (the version as the user gave it)."""
    inputs = {k: outs.get(k) for k in INPUT_KEYS}
    inputs["component_version"] = outs.get("requested_component_version", "")
    return inputs


def _field_of(message: str) -> str:
    """The input a check failure message starts with, for the engine's per-property report."""
    match = re.match(r"[a-z_]+(\.[A-Za-z0-9_-]+)?", message)
    head = match.group(0) if match else ""
    known = head in INPUT_KEYS or head.startswith("compiled_models.")
    return head if known else ""


def _identity(uri: str, clients: AwsClients, key: str) -> str:
    try:
        return source_identity(uri, clients)
    except DdaError as exc:
        raise InputError(f"{key} {uri}: {exc}") from exc


def _account_id(clients: AwsClients) -> str:
    with aws_errors("looking up the AWS account (sts:GetCallerIdentity)"):
        return str(clients.session.client("sts").get_caller_identity()["Account"])


class DdaModelComponent(Resource):
    """A DDA model component: one Greengrass component version per compilation target."""

    components: pulumi.Output[dict[str, Any]]
    manifest: pulumi.Output[dict[str, Any]]
    model_name: pulumi.Output[str]
    component_version: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        component_name: pulumi.Input[str],
        trained_model_uri: pulumi.Input[str],
        compiled_models: pulumi.Input[dict[str, pulumi.Input[str]]],
        artifact_bucket: pulumi.Input[str],
        component_version: pulumi.Input[str] | None = None,
        artifact_prefix: pulumi.Input[str] = "",
        friendly_name: pulumi.Input[str] | None = None,
        target_suffix: bool = True,
        tags: pulumi.Input[dict[str, pulumi.Input[str]]] | None = None,
        role_arn: pulumi.Input[str] | None = None,
        region: pulumi.Input[str] | None = None,
        relax_device_checks: bool = False,
        wait_timeout_seconds: float | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "component_name": component_name,
            "component_version": component_version or "",
            "trained_model_uri": trained_model_uri,
            "compiled_models": compiled_models,
            "artifact_bucket": artifact_bucket,
            "artifact_prefix": artifact_prefix,
            "friendly_name": friendly_name or "",
            "target_suffix": target_suffix,
            "tags": tags or {},
            "role_arn": role_arn or "",
            "region": region or "",
            "relax_device_checks": relax_device_checks,
            "wait_timeout_seconds": wait_timeout_seconds or 0,
            "owner": f"{pulumi.get_project()}/{pulumi.get_stack()}/{resource_name}",
            "source_identities": None,
            "manifest": None,
            "components": None,
            "model_name": None,
        }
        super().__init__(DdaModelComponentProvider(), resource_name, props, opts)
