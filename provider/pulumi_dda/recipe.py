"""Phase 3: Greengrass component names, versions and the DDA model-component recipe.

The recipe is exactly the DDA contract's (see the README): a generic component published as
"Amazon Lookout for Vision" that depends on the DDA LocalServer for its architecture and runs
``model_convertor.py`` on the unzipped package. Unlike the reference tools, the artifact carries
the real ``Digest`` (which Greengrass recomputes and stores; the provider checks they agree),
unknown targets are rejected, and only ``N.0.0`` versions with ``N >= 1`` are accepted because
the device keys models by the major version and refuses major ``0``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ._types import JSONDict
from .errors import InputError

NEO_TARGET_DEVICES: frozenset[str] = frozenset(
    {
        "lambda", "ml_m4", "ml_m5", "ml_m6g", "ml_c4", "ml_c5", "ml_c6g", "ml_p2", "ml_p3",
        "ml_g4dn", "ml_inf1", "ml_inf2", "ml_trn1", "ml_eia2", "jetson_tx1", "jetson_tx2",
        "jetson_nano", "jetson_xavier", "rasp3b", "rasp4b", "imx8qm", "deeplens", "rk3399",
        "rk3288", "aisage", "sbe_c", "qcs605", "qcs603", "sitara_am57x", "amba_cv2", "amba_cv22",
        "amba_cv25", "x86_win32", "x86_win64", "coreml", "jacinto_tda4vm", "imx8mplus",
    }
)  # fmt: skip
"""Every ``TargetDevice`` SageMaker Neo knows: the ``TargetDevice`` enum of
``CreateCompilationJob`` in the botocore service model (``botocore/data/sagemaker/2017-07-24/
service-2.json``, botocore 1.44.8). A device outside this set is newer than this table and is
never refused."""

NEO_PLATFORM_OS = frozenset({"ANDROID", "LINUX"})
NEO_PLATFORM_ARCH = frozenset({"X86_64", "X86", "ARM64", "ARM_EABI", "ARM_EABIHF"})
NEO_PLATFORM_ACCELERATOR = frozenset({"INTEL_GRAPHICS", "MALI", "NVIDIA", "NNA"})
"""The ``TargetPlatformOs``, ``TargetPlatformArch`` and ``TargetPlatformAccelerator`` enums of
the same botocore model (a compilation for a platform rather than a device)."""


@dataclass(frozen=True)
class NeoTarget:
    """What SageMaker Neo output a compilation target accepts.

    A Neo compilation job writes ``compiled.meta`` (JSON) next to the model; its
    ``Requirements`` names the ``TargetDevice`` (for example ``ml_c5`` or ``jetson_xavier``)
    or, for a platform compilation, the ``TargetPlatform`` (``Os``, ``Arch``, optional
    ``Accelerator``), as given to ``CreateCompilationJob`` (see the SageMaker Developer Guide,
    "Supported Devices, Chip Architectures, and Systems", for what each device is). DLR itself
    loads the ``*.meta`` file of the model directory and reads ``Requirements`` from it
    (neo-ai/neo-ai-dlr ``src/dlr_common.cc``, ``GetMetadataFile``). ``devices[0]`` is the device
    the synthetic samples declare.
    """

    devices: tuple[str, ...]
    arch: str
    accelerator: str | None


@dataclass(frozen=True)
class Platform:
    """Where a compilation target runs: recipe architecture, LocalServer dependency and the
    Neo devices and platform whose output it accepts."""

    architecture: str
    local_server_component: str
    neo: NeoTarget


TARGETS: dict[str, Platform] = {
    "jetson-xavier": Platform(
        "aarch64",
        "aws.edgeml.dda.LocalServer.arm64",
        NeoTarget(("jetson_xavier",), "ARM64", "NVIDIA"),
    ),
    "arm64-cpu": Platform(
        "aarch64",
        "aws.edgeml.dda.LocalServer.arm64",
        NeoTarget(("rasp4b", "imx8qm", "ml_c6g", "ml_m6g"), "ARM64", None),
    ),
    "x86_64-cpu": Platform(
        "amd64",
        "aws.edgeml.dda.LocalServer.amd64",
        NeoTarget(("ml_c5", "ml_c4", "ml_m5", "ml_m4", "lambda"), "X86_64", None),
    ),
    "x86_64-cuda": Platform(
        "amd64",
        "aws.edgeml.dda.LocalServer.amd64",
        NeoTarget(("ml_g4dn", "ml_p3", "ml_p2"), "X86_64", "NVIDIA"),
    ),
}

_NAME_CHARS = re.compile(r"^[A-Za-z0-9._-]+$")
_VERSION = re.compile(r"^([1-9][0-9]*)\.0\.0$")
MAX_NAME_LENGTH = 128


def platform_for(target: str) -> Platform:
    """The platform of a compilation target; an unknown target lists the known ones."""
    try:
        return TARGETS[target]
    except KeyError:
        known = ", ".join(sorted(TARGETS))
        raise InputError(
            f"unknown compilation target {target!r}; known targets: {known}",
            field="compiled_models",
        ) from None


def neo_mismatch(target: str, requirements: object) -> str | None:
    """What a ``compiled.meta`` ``Requirements`` declares, when it is known not to be ``target``.

    ``None`` when it matches, or names nothing this table knows (a device or platform value
    newer than the botocore enums above, or no ``Requirements`` at all): only a known mismatch
    is refused, so a new Neo device never breaks a build.
    """
    if not isinstance(requirements, dict):
        return None
    neo = platform_for(target).neo
    device = requirements.get("TargetDevice")
    if isinstance(device, str) and device:
        known = device.lower() in NEO_TARGET_DEVICES
        return f"TargetDevice {device!r}" if known and device.lower() not in neo.devices else None
    declared = requirements.get("TargetPlatform")
    if not isinstance(declared, dict):
        return None
    fields = {k: v.upper() for k, v in declared.items() if isinstance(v, str) and v}
    os_, arch, accel = fields.get("Os"), fields.get("Arch"), fields.get("Accelerator")
    shown = "TargetPlatform " + "/".join(v for v in (os_, arch, accel) if v)
    if os_ in NEO_PLATFORM_OS and os_ != "LINUX":
        return shown
    if arch in NEO_PLATFORM_ARCH and arch != neo.arch:
        return shown
    if accel is None or accel in NEO_PLATFORM_ACCELERATOR:
        return shown if accel != neo.accelerator else None
    return None


def validate_component_name(name: str, field: str = "component_name") -> str:
    """Check a Greengrass model-component name and return it."""
    if not name.startswith("model-"):
        raise InputError(
            f"{field} {name!r} must start with 'model-': the DDA LocalServer only restarts "
            "and stops components named model*",
            field="component_name",
        )
    if len(name) > MAX_NAME_LENGTH:
        raise InputError(
            f"{field} {name!r} is {len(name)} characters; the limit is 128", field="component_name"
        )
    if not _NAME_CHARS.match(name):
        raise InputError(
            f"{field} {name!r} may contain only letters, digits, '.', '_' and '-'",
            field="component_name",
        )
    return name


def validate_component_version(version: str, field: str = "component_version") -> int:
    """Check an ``N.0.0`` version (``N >= 1``) and return its major part."""
    match = _VERSION.match(version)
    if match is None:
        raise InputError(
            f"{field} {version!r} must be N.0.0 with N >= 1 (for example 1.0.0): the device "
            "keys models by the major version and does not run major 0",
            field=field,
        )
    return int(match.group(1))


def version_for_major(major: int) -> str:
    return f"{major}.0.0"


@dataclass(frozen=True)
class ComponentNaming:
    """The Greengrass name and friendly name of one target's component."""

    target: str
    component_name: str
    friendly_name: str


def name_components(
    component_name: str,
    targets: list[str],
    *,
    friendly_name: str | None = None,
    target_suffix: bool = True,
) -> dict[str, ComponentNaming]:
    """Per-target names: ``<name>-<target>`` and ``"<friendly> (<target>)"``.

    With ``target_suffix=False`` exactly one target is allowed and it gets the name and
    friendly name as given (the DDA notebook's behaviour).
    """
    validate_component_name(component_name)
    if not targets:
        raise InputError(
            "compiled_models: at least one compilation target is required", field="compiled_models"
        )
    for target in targets:
        try:
            platform_for(target)
        except InputError as exc:
            raise InputError(f"compiled_models: {exc}", field="compiled_models") from None
    friendly = friendly_name or component_name
    if not target_suffix:
        if len(targets) != 1:
            raise InputError(
                "target_suffix=False gives every target the same component name, so exactly "
                f"one compiled model is allowed; got {len(targets)} ({', '.join(sorted(targets))})",
                field="target_suffix",
            )
        return {targets[0]: ComponentNaming(targets[0], component_name, friendly)}
    result = {}
    for target in sorted(targets):
        name = f"{component_name}-{target.replace('_', '-')}"
        validate_component_name(name, f"component name for target {target}")
        result[target] = ComponentNaming(target, name, f"{friendly} ({target})")
    return result


def build_recipe(
    naming: ComponentNaming,
    component_version: str,
    artifact_uri: str,
    digest: str,
    zip_file_name: str,
) -> JSONDict:
    """The component recipe of one target, in the contract's key order."""
    validate_component_version(component_version)
    platform = platform_for(naming.target)
    name = naming.component_name
    unzipped = zip_file_name.removesuffix(".zip")
    run_as_root = {"requiresPrivilege": True, "runWith": {"posixUser": "root"}}
    return {
        "RecipeFormatVersion": "2020-01-25",
        "ComponentName": name,
        "ComponentVersion": component_version,
        "ComponentType": "aws.greengrass.generic",
        "ComponentPublisher": "Amazon Lookout for Vision",
        "ComponentConfiguration": {
            "DefaultConfiguration": {
                "Autostart": False,
                "PYTHONPATH": "/usr/bin/python3.9",
                "ModelName": naming.friendly_name,
            }
        },
        "ComponentDependencies": {
            platform.local_server_component: {
                "VersionRequirement": "^1.0.0",
                "DependencyType": "HARD",
            }
        },
        "Manifests": [
            {
                "Platform": {"os": "linux", "architecture": platform.architecture},
                "Lifecycle": {
                    "Startup": {
                        "Script": (
                            "python3 /aws_dda/model_convertor.py --unarchived_model_path "
                            f"{{artifacts:decompressedPath}}/{unzipped}/ "
                            f"--model_version {component_version} --model_name {name}"
                        ),
                        "Timeout": 900,
                        **run_as_root,
                    },
                    "Shutdown": {
                        "Script": f"python3 /aws_dda/convert_model_cleanup.py --model_name {name}",
                        "Timeout": 900,
                        **run_as_root,
                    },
                },
                "Artifacts": [
                    {
                        "Uri": artifact_uri,
                        "Digest": digest,
                        "Algorithm": "SHA-256",
                        "Unarchive": "ZIP",
                        "Permission": {"Read": "ALL", "Execute": "ALL"},
                    }
                ],
            }
        ],
        "Lifecycle": {},
    }


MAX_RECIPE_BYTES = 16_000
"""Recipe size Greengrass accepts (the Development Kit enforces it; the service limit is not
documented, so the provider checks it before anything is uploaded)."""


def check_recipe_size(recipe: JSONDict) -> None:
    size = len(recipe_json(recipe).encode())
    if size > MAX_RECIPE_BYTES:
        raise InputError(
            f"the recipe of {recipe['ComponentName']} would be {size} bytes, over the "
            f"{MAX_RECIPE_BYTES} Greengrass accepts: shorten friendly_name",
            field="friendly_name",
        )


def recipe_json(recipe: JSONDict) -> str:
    """Serialise a recipe: compact JSON, key order as built (stable across runs)."""
    return json.dumps(recipe, separators=(",", ":"), ensure_ascii=False)
