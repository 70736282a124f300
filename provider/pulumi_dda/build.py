"""The three phases put together for one request, without Pulumi and without Greengrass calls.

Phase 1 runs once; phases 2 and 3 run per target, one thread per core (the packaging work
releases the GIL, see ``_parallel.py``). Every source is read as a looked-up
:data:`.sources.ResolvedSource`, so a phase reads exactly the object whose identity was looked
up (see ``sources.py``). Used by the ``pulumi-dda build`` CLI and by the
``DdaModelComponent`` provider, which adds the AWS side (upload, create, wait).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ._parallel import MAX_WORKERS, cores, fan_out
from ._types import JSONDict, Progress, no_progress
from .aws import AwsClients
from .errors import DdaError, InputError
from .manifest import DdaManifest, build_manifest, read_trained_model
from .package import ArchiveLimits, Package, build_package
from .recipe import (
    ComponentNaming,
    build_recipe,
    name_components,
    platform_for,
    validate_component_version,
)
from .sagemaker import is_sagemaker
from .sources import ResolvedSource, is_s3, open_resolved, resolve_source

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class BuildRequest:
    """Everything the three phases need. ``compiled_models`` maps target → archive source."""

    trained_model: str
    compiled_models: dict[str, str]
    component_name: str
    component_version: str
    artifact_bucket: str
    artifact_prefix: str = ""
    friendly_name: str | None = None
    target_suffix: bool = True
    relax_device_checks: bool = False
    limits: ArchiveLimits = field(default_factory=ArchiveLimits)


@dataclass(frozen=True)
class BuiltComponent:
    """One target's package and recipe."""

    naming: ComponentNaming
    component_version: str
    package: Package
    artifact_uri: str
    recipe: JSONDict

    def summary(self) -> dict[str, Any]:
        platform = platform_for(self.naming.target)
        return {
            "component_name": self.naming.component_name,
            "component_version": self.component_version,
            "platform": platform.architecture,
            "local_server_component": platform.local_server_component,
            "package_id": self.package.package_id,
            "artifact_uri": self.artifact_uri,
            "digest": self.package.digest,
        }


def validate_bucket(bucket: str, prefix: str) -> None:
    if not _BUCKET.match(bucket):
        raise InputError(
            f"artifact_bucket {bucket!r} is not a valid S3 bucket name", field="artifact_bucket"
        )
    segments = prefix.split("/")[:-1]
    if prefix and (
        not prefix.endswith("/")
        or prefix.startswith("/")
        or any(s in {"", ".", ".."} for s in segments)
    ):
        raise InputError(
            f"artifact_prefix {prefix!r} must be empty or a key prefix ending in '/' "
            "(for example 'dda/'), without a leading '/', empty segments, '.' or '..'",
            field="artifact_prefix",
        )


def validate_request(
    request: BuildRequest, *, check_version: bool = True
) -> dict[str, ComponentNaming]:
    """Every check that needs no archive and no AWS call; returns the per-target names."""
    naming = name_components(
        request.component_name,
        list(request.compiled_models),
        friendly_name=request.friendly_name,
        target_suffix=request.target_suffix,
    )
    if check_version:
        validate_component_version(request.component_version)
    validate_bucket(request.artifact_bucket, request.artifact_prefix)
    return naming


def read_manifest(
    source: str | ResolvedSource,
    clients: AwsClients | None = None,
    *,
    relax_device_checks: bool = False,
    progress: Progress = no_progress,
    limits: ArchiveLimits | None = None,
) -> DdaManifest:
    """Phase 1 from a local path or ``s3://`` URI (looked up first), or a source looked up."""
    limits = limits or ArchiveLimits()
    clients = clients or AwsClients()  # one session to look the source up and read it
    resolved = resolve_source(source, clients) if isinstance(source, str) else source
    with open_resolved(resolved, clients, progress) as stream:
        trained = read_trained_model(stream, resolved.uri, limits=limits)
    return build_manifest(trained, resolved.uri, relax_device_checks=relax_device_checks)


def build_target(
    request: BuildRequest,
    naming: ComponentNaming,
    manifest: DdaManifest,
    source: ResolvedSource,
    out_dir: Path,
    clients: AwsClients | None = None,
    progress: Progress = no_progress,
) -> BuiltComponent:
    """Phases 2 and 3 for one target: the ZIP in ``out_dir`` and its recipe.

    ``source`` is the target's compiled model as looked up; exactly that object is packaged
    (:class:`~pulumi_dda.errors.SourceChangedError` otherwise, and no ZIP is left)."""
    if source.uri != request.compiled_models[naming.target]:
        raise DdaError(f"target {naming.target}: {source.uri} is not its compiled model")
    label = f"[{naming.target}] "
    package = None
    try:
        with open_resolved(source, clients, lambda m: progress(label + m)) as stream:
            package = build_package(
                stream,
                manifest.manifest,
                manifest.model_name,
                out_dir,
                source=source.uri,
                limits=request.limits,
                progress=lambda m: progress(label + m),
                target=naming.target,
            )
    except BaseException:
        if package is not None:  # written, then the source proved other than looked up
            package.path.unlink(missing_ok=True)
        raise
    uri = f"s3://{request.artifact_bucket}/{package.s3_key(request.artifact_prefix)}"
    return with_version(BuiltComponent(naming, "", package, uri, {}), request.component_version)


def with_version(built: BuiltComponent, version: str) -> BuiltComponent:
    """The same package with the recipe of another component version."""
    recipe = build_recipe(
        built.naming, version, built.artifact_uri, built.package.digest, built.package.file_name
    )
    return replace(built, component_version=version, recipe=recipe)


def build_all(
    request: BuildRequest,
    out_dir: Path,
    clients: AwsClients | None = None,
    progress: Progress = no_progress,
    *,
    workers: int | None = None,
) -> tuple[DdaManifest, dict[str, BuiltComponent]]:
    """All three phases; each target's ZIP lands in ``out_dir/<target>/``.

    ``workers`` targets are built at a time (default: one per core, at most 4). If any target
    fails, the packages the others wrote are removed too: a failed build leaves no output.
    """
    names = validate_request(request)
    manifest = read_manifest(
        request.trained_model,
        clients,
        relax_device_checks=request.relax_device_checks,
        progress=progress,
        limits=request.limits,
    )
    if clients is not None and any(
        is_s3(src) or is_sagemaker(src) for src in request.compiled_models.values()
    ):
        clients.s3  # noqa: B018 - create the client once, before threads share it
    before = set(out_dir.rglob("*")) if out_dir.exists() else set()
    try:
        built = fan_out(
            names,
            lambda target, naming: _look_up_and_build(
                request, naming, manifest, out_dir / target, clients, progress
            ),
            max_workers=workers or min(MAX_WORKERS, cores()),
        )
    except BaseException:
        written = set(out_dir.rglob("*")) - before if out_dir.exists() else set()
        for path in sorted(written, reverse=True):  # files before their directories
            path.unlink() if path.is_file() else path.rmdir()
        raise
    return manifest, built


def _look_up_and_build(
    request: BuildRequest,
    naming: ComponentNaming,
    manifest: DdaManifest,
    out_dir: Path,
    clients: AwsClients | None,
    progress: Progress,
) -> BuiltComponent:
    """:func:`build_target` of the target's compiled model as it is now."""
    clients = clients or AwsClients()  # one session to look the source up and read it
    source = resolve_source(request.compiled_models[naming.target], clients, target=naming.target)
    return build_target(request, naming, manifest, source, out_dir, clients, progress)
