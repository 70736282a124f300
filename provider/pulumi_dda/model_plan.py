"""What a model component's check resolves before anything is published: sources and the DDA
manifest, content fingerprints, each target's version, the LocalServer artifacts, and the plan
and preview lines that say what an update does (used by :mod:`.model_component`)."""

from __future__ import annotations

import json
from typing import Any

from . import arn as arns
from . import greengrass, ownership
from ._host import (
    progress,
)
from ._parallel import fan_out
from ._types import JSONDict
from .aws import AwsClients
from .build import read_manifest
from .errors import (
    DdaError,
    InputError,
    SourceChangedError,
)
from .inputs import ModelInputs
from .manifest import DdaManifest
from .properties import MODEL
from .recipe import (
    ComponentNaming,
    platform_for,
    validate_component_version,
    version_for_major,
)
from .sagemaker import shown_name
from .sources import Identity, ResolvedSource, content_identity, resolve_source

TRAINED_KEY = "trained_model_uri"


CONTENT_INPUTS = ("manifest", *MODEL.changing("new_version"))
"""What every target's content depends on besides its own archive: a change moves every device."""


UNCHANGED = "unchanged"
"""The ``plan`` line of a target whose version this update keeps."""


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
            component = arns.component(clients.region, clients.account_id, naming.component_name)
            version = ownership.next_version(
                clients.greengrass, component, inputs["fingerprints"][target]
            )
        versions[target] = {"component_name": naming.component_name, "component_version": version}
    if changed_at_same_version:
        raise _immutable(model.component_version, _content_changes(olds, inputs, names))
    return versions


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
            why = [f"new compiled model ({_source_short(inputs['source_identities'][key])})"]
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
    old_resolved = olds.get("resolved_sources") or {}
    for entry, now in (inputs.get("resolved_sources") or {}).items():
        if now != old_resolved.get(entry):
            key = TRAINED_KEY if entry == TRAINED_ENTRY else f"compiled_models.{entry}"
            was = str(old_resolved.get(entry) or "").partition(" → ")[0]
            lines.append(f"{key} resolved to {now}" + (f" (was {was})" if was else ""))
    everything = _manifest_changes(olds.get("manifest"), inputs["manifest"])[:1] + [
        f"{k} changed" for k in CONTENT_INPUTS[1:] if olds.get(k) != inputs.get(k)
    ]
    if everything and len(inputs["versions"]) > 1:
        lines.append(
            f"every target gets a new version ({', '.join(everything)}): this moves every "
            "device that its deployments reach"
        )
    return lines


def _short(identity: str) -> str:
    """``etag:04f3ebe725280faa…;version:3Lg…`` → ``etag:04f3ebe72528``."""
    return Identity.parse(identity).short()


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
        arn = arns.component(clients.region, clients.account_id, server)
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
        recipe = greengrass.get_recipe(clients.greengrass, arns.version_of(arn, newest))
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
    arn = arns.component_version(clients.region, clients.account_id, naming.component_name, version)
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
    if props.get("resolved_sources") is None:  # a state from before SageMaker names
        props = {**props, "resolved_sources": {}}
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
    """A source looked up; a compiled model's SageMaker compilation job must match its target
    (``compiled_models.<target>``)."""
    target = key.split(".", 1)[1] if key.startswith("compiled_models.") else None
    try:
        return resolve_source(uri, clients, target=target)
    except DdaError as exc:
        message = str(exc)
        shown = message if message.startswith(uri) else f"{uri}: {message}"
        raise InputError(f"{key} {shown}", field=key) from exc


def _resolve_all(uris: dict[str, str], clients: AwsClients) -> dict[str, ResolvedSource]:
    """Every source (input key → URI) looked up at once, a HeadObject each: a preview of many
    components waits for these. A failure is the first in ``uris``' order, naming its input,
    as when they were looked up one after another."""

    def look_up(key: str, uri: str) -> ResolvedSource | InputError:
        try:
            return _resolve(uri, clients, key)
        except InputError as exc:
            return exc

    found = fan_out(uris, look_up)
    for value in found.values():
        if isinstance(value, InputError):
            raise value
    return {k: v for k, v in found.items() if not isinstance(v, InputError)}


TRAINED_ENTRY = "trained"
"""The ``resolved_sources`` entry of the trained model (the others are named by target)."""


def resolved_sources(identities: JSONDict) -> dict[str, str]:
    """``trained`` or a target → what its ``sagemaker://`` name resolved to (``model package
    defects/3 → s3://ml-models/train/model.tar.gz``), for the ``resolved_sources`` output; other
    sources are not listed (their URI says where they are)."""
    found = {
        TRAINED_ENTRY if k == TRAINED_KEY else k.removeprefix("compiled_models."): (
            Identity.parse(str(v)).resolved()
        )
        for k, v in identities.items()
    }
    return {k: v for k, v in found.items() if v}


def _source_short(identity: str) -> str:
    """``etag:04f3ebe72528``, or ``model package defects/4, etag:04f3ebe72528``."""
    parsed = Identity.parse(identity)
    return f"{shown_name(parsed.via)}, {parsed.short()}" if parsed.via else parsed.short()
