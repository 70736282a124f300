"""Phase 1: the DDA manifest, built from a SageMaker trained-model ``.tar.gz``.

The archive is read as a forward-only stream (the compiled models' reader, ``_tarread.py``,
with the same caps): only ``config.yaml`` and ``export_artifacts/manifest.json`` are read into
memory (each capped), the ``.pt`` file is only named, and nothing is ever extracted. The same
function therefore works on a local file and on an S3 ``GetObject`` body without a temporary
copy. (``tarfile``'s own stream mode is not used: skipping a member copies its decompression
buffer for every 10 KiB, 14 CPU-seconds for 256 MiB of zeros against 0.07 s here.)

The manifest is checked for what the device's model loader needs (``model_graph_type``, a
non-empty ``stages`` list with a ``type`` on every stage, ``stages[0].threshold``, positive image
dimensions, a four-element ``input_shape``) so a bad model fails at ``pulumi preview`` instead of
on a device. ``relax_device_checks=True`` skips those checks for users who know their device
differs; the checks that the package itself depends on (a stage type to name the model
directory, an ``input_shape``, exactly one ``.pt``) always apply.

Multi-stage graphs are rejected: the device loads one compiled model per stage from a directory
named after that stage's type, but a Neo compilation job produces one model per target, and a
package with a single stage's model would fail on the device.
"""

from __future__ import annotations

import json
import re
import tarfile
from dataclasses import dataclass
from typing import Any, TypeGuard

from ._decompress import CorruptStream
from ._tarread import ArchiveLimits, TarReader
from ._types import JSONDict, Readable
from .errors import ArchiveError, InputError

CONFIG_MEMBER = "config.yaml"
EXPORT_MANIFEST_MEMBER = "export_artifacts/manifest.json"
EXPORT_DIR = "export_artifacts/"
TRAINED_MODEL_MEMBERS = (CONFIG_MEMBER, EXPORT_MANIFEST_MEMBER)
"""Members only a training job's output has: a compiled model holding one is a trained model."""
MAX_METADATA_BYTES = 16 * 1024 * 1024
"""Cap on ``config.yaml`` and ``manifest.json``: both are small text files in real models."""

_SAFE_DIR_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class TrainedModel:
    """What phase 1 reads from a trained-model archive."""

    config: JSONDict
    export_manifest: JSONDict
    pt_files: tuple[str, ...]


@dataclass(frozen=True)
class DdaManifest:
    """The DDA manifest and the model name that names the compiled model's directory."""

    manifest: JSONDict
    model_name: str


def _member_name(name: str) -> str:
    return name[2:] if name.startswith("./") else name


def _read_small(reader: TarReader, member: tarfile.TarInfo, source: str) -> bytes:
    if member.size > MAX_METADATA_BYTES:
        raise ArchiveError(
            f"{source}: member {member.name} is {member.size} bytes, over the "
            f"{MAX_METADATA_BYTES}-byte cap for metadata files"
        )
    if member.sparse is not None:
        raise ArchiveError(f"{source}: member {member.name} is a sparse file")
    data = reader.stream.read(member.size)
    if len(data) < member.size:
        raise CorruptStream("archive ends inside a member")
    return data


def read_trained_model(
    stream: Readable, source: str, *, limits: ArchiveLimits | None = None
) -> TrainedModel:
    """Stream a trained-model ``.tar.gz`` and return the members phase 1 needs.

    ``source`` names the archive in error messages. The caps (:class:`ArchiveLimits`) are
    checked on each header before ``tarfile`` reads what follows it, so a compressed bomb, a
    huge extension header or a long name is refused at once (``_tarread.py``).
    """
    config_raw: bytes | None = None
    manifest_raw: bytes | None = None
    pt_files: list[str] = []
    try:
        reader = TarReader(stream, source, limits or ArchiveLimits())
        for member in reader:
            name = _member_name(member.name)
            if name == CONFIG_MEMBER and member.isfile():
                config_raw = _read_small(reader, member, source)
            elif name == EXPORT_MANIFEST_MEMBER and member.isfile():
                manifest_raw = _read_small(reader, member, source)
            elif (
                member.isfile()
                and name.startswith(EXPORT_DIR)
                and name.endswith(".pt")
                and "/" not in name[len(EXPORT_DIR) :]
            ):
                pt_files.append(name[len(EXPORT_DIR) :])
    except (tarfile.TarError, CorruptStream, EOFError, OSError) as exc:
        raise ArchiveError(f"{source}: not a readable .tar.gz archive ({exc})") from exc
    if config_raw is None:
        raise InputError(f"{source}: member {CONFIG_MEMBER} not found in the trained model")
    if manifest_raw is None:
        raise InputError(
            f"{source}: member {EXPORT_MANIFEST_MEMBER} not found in the trained model"
        )
    return TrainedModel(
        config=_parse_config(config_raw, source),
        export_manifest=_parse_export_manifest(manifest_raw, source),
        pt_files=tuple(sorted(pt_files)),
    )


def _parse_config(raw: bytes, source: str) -> JSONDict:
    import yaml  # here, not at the top: it adds a tenth of a second to every CLI start

    try:
        config = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: {CONFIG_MEMBER} is not valid YAML ({exc})") from exc
    if not isinstance(config, dict):
        raise InputError(f"{source}: {CONFIG_MEMBER} must be a YAML mapping")
    return config


def _parse_export_manifest(raw: bytes, source: str) -> JSONDict:
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{source}: {EXPORT_MANIFEST_MEMBER} is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise InputError(f"{source}: {EXPORT_MANIFEST_MEMBER} must be a JSON object")
    return data


def _is_positive_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _image_dimensions(config: JSONDict, where: str) -> tuple[int, int]:
    dataset = config.get("dataset")
    if not isinstance(dataset, dict):
        raise InputError(f"{where}: field dataset is missing or not a mapping")
    dims: list[int] = []
    for key in ("image_width", "image_height"):
        value = dataset.get(key)
        if not _is_positive_int(value):
            raise InputError(
                f"{where}: field dataset.{key} must be a positive integer, got {value!r}"
            )
        dims.append(value)
    return dims[0], dims[1]


def _check_stages(graph: JSONDict, where: str, strict: bool) -> list[JSONDict]:
    stages = graph.get("stages")
    if not isinstance(stages, list) or not stages:
        raise InputError(f"{where}: field model_graph.stages must be a non-empty list")
    for index, stage in enumerate(stages):
        if not isinstance(stage, dict):
            raise InputError(f"{where}: field model_graph.stages[{index}] must be an object")
        if (strict or index == 0) and not (isinstance(stage.get("type"), str) and stage["type"]):
            raise InputError(f"{where}: field model_graph.stages[{index}].type is missing")
    if strict and "threshold" not in stages[0]:
        raise InputError(
            f"{where}: field model_graph.stages[0].threshold is missing; the device reads it"
        )
    if strict and len(stages) > 1:
        raise InputError(
            f"{where}: model_graph has {len(stages)} stages; the device loads one compiled model "
            "per stage but a Neo compilation yields one model per target, so pulumi-dda packages "
            "single-stage graphs only"
        )
    return stages


def _input_shape(export: JSONDict, first_stage: JSONDict, where: str, strict: bool) -> list[int]:
    shape = export.get("input_shape")
    origin = "input_shape"
    if shape is None:
        shape = first_stage.get("input_shape")
        origin = "model_graph.stages[0].input_shape"
    if shape is None:
        raise InputError(
            f"{where}: no input_shape at the top level nor in model_graph.stages[0]; "
            "the device needs the model's input dimensions"
        )
    valid = isinstance(shape, list) and shape and all(_is_positive_int(v) for v in shape)
    if not valid or (strict and len(shape) != 4):
        raise InputError(
            f"{where}: field {origin} must be a list of 4 positive integers [B, C, H, W], "
            f"got {shape!r}"
        )
    return list(shape)


def build_manifest(
    trained: TrainedModel, source: str, *, relax_device_checks: bool = False
) -> DdaManifest:
    """Build the DDA manifest (keys ``model_graph``, ``compilable_models``, ``dataset``)."""
    strict = not relax_device_checks
    where = f"{source} {EXPORT_MANIFEST_MEMBER}"
    graph = trained.export_manifest.get("model_graph")
    if not isinstance(graph, dict):
        raise InputError(f"{where}: field model_graph is missing or not an object")
    if strict and not graph.get("model_graph_type"):
        raise InputError(f"{where}: field model_graph.model_graph_type is missing")
    stages = _check_stages(graph, where, strict)
    model_name = stages[0]["type"]
    if not _SAFE_DIR_NAME.match(model_name) or model_name in {".", ".."}:
        raise InputError(
            f"{where}: model_graph.stages[0].type {model_name!r} cannot name a directory "
            "(letters, digits, '.', '_' and '-' only)"
        )
    shape = _input_shape(trained.export_manifest, stages[0], where, strict)
    width, height = _image_dimensions(trained.config, f"{source} {CONFIG_MEMBER}")
    if len(trained.pt_files) != 1:
        found = ", ".join(trained.pt_files) or "none"
        raise InputError(f"{source}: expected exactly one .pt file in {EXPORT_DIR}, found {found}")
    manifest: JSONDict = {
        "model_graph": graph,
        "compilable_models": [
            {
                "filename": trained.pt_files[0],
                "data_input_config": {"input": shape},
                "framework": "PYTORCH",
            }
        ],
        "dataset": {"image_width": width, "image_height": height},
    }
    return DdaManifest(manifest=manifest, model_name=model_name)


CONTRACT_ORDER = ("model_graph", "compilable_models", "dataset")


def canonical(value: Any) -> Any:
    """A JSON value as Pulumi state gives it back, made exact again: state turns every number
    into a float (``224`` → ``224.0``), so integral floats become ints; nested keys sorted."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def manifest_bytes(manifest: JSONDict) -> bytes:
    """The manifest as stored in the package: indented JSON with the contract's top-level key
    order, nested keys sorted, integral numbers as ints, trailing newline.

    Canonical, so the manifest built from the trained model and the same manifest read back
    from Pulumi state (sorted keys, numbers as floats) give the same package bytes: ``up``
    packages from the manifest ``check`` recorded, without reading the trained model again.
    """
    exact = canonical(manifest)
    ordered = {k: exact[k] for k in CONTRACT_ORDER if k in exact}
    ordered.update({k: v for k, v in exact.items() if k not in ordered})
    return (json.dumps(ordered, indent=2, ensure_ascii=False) + "\n").encode()
