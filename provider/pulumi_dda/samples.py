"""Synthetic SageMaker artifacts: a trained model and Neo-style compiled models.

Used by ``pulumi-dda demo``, the tests and the benchmarks, so that everything runs without an
AWS account or a real model. Content is derived from a seed, so the same arguments always give
the same bytes (tar metadata is fixed too).
"""

from __future__ import annotations

import io
import json
import random
import tarfile
from pathlib import Path
from typing import Any

from ._types import JSONDict
from .recipe import platform_for

SAMPLE_MODEL_GRAPH: JSONDict = {
    "model_graph_type": "single_stage_model_graph",
    "stages": [{"type": "classification", "threshold": 0.5, "input_shape": [1, 3, 224, 224]}],
    "pixel_level_classes": {"names": []},
}


def _add(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = 1_700_000_000
    tar.addfile(info, io.BytesIO(data))


def write_trained_model(
    path: Path,
    *,
    export_manifest: JSONDict | None = None,
    config: dict[str, Any] | None = None,
    pt_files: tuple[str, ...] = ("model.pt",),
) -> Path:
    """Write a trained-model ``.tar.gz`` as a SageMaker training job would."""
    export = (
        export_manifest
        if export_manifest is not None
        else {
            "model_graph": SAMPLE_MODEL_GRAPH,
            "input_shape": [1, 3, 224, 224],
        }
    )
    cfg = config if config is not None else {"dataset": {"image_width": 224, "image_height": 224}}
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        import yaml

        _add(tar, "config.yaml", yaml.safe_dump(cfg).encode())
        _add(tar, "export_artifacts/manifest.json", json.dumps(export).encode())
        for name in pt_files:
            _add(tar, f"export_artifacts/{name}", b"pytorch-weights")
        _add(tar, "mochi.json", b"{}")
    return path


def write_compiled_model(
    path: Path,
    *,
    size: int = 64 * 1024,
    seed: int = 0,
    shuffle: int | None = None,
    target: str = "x86_64-cpu",
) -> Path:
    """Write a Neo-style compiled model ``.tar.gz`` for ``target`` holding about ``size`` bytes.

    Most bytes are a random ``.params`` file (incompressible, like real weights); the rest are
    small text and an executable ``.so``. ``compiled.meta`` names the target's first Neo device
    (``recipe.TARGETS``; ``ml_c5`` for the default x86_64-cpu). ``shuffle`` (a seed) reorders
    the members; the content stays the same.
    """
    device = platform_for(target).neo.devices[0]
    meta = json.dumps({"Requirements": {"TargetDevice": device}, "seed": seed}).encode()
    members: list[tuple[str, int, int]] = [
        ("compiled.meta", len(meta), 0o644),
        ("compiled_model.json", 2048, 0o644),
        ("libdlr.so", 4096, 0o755),
        ("compiled.params", max(size - 6144 - len(meta), 0), 0o644),
    ]
    if shuffle is not None:
        random.Random(shuffle).shuffle(members)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for name, length, mode in members:
            if name == "compiled.meta":
                data = meta
            elif name == "compiled_model.json":
                data = (b'{"nodes": [], "arg_nodes": []}' * 100)[:length]
            else:
                data = random.Random(f"{seed}:{name}").randbytes(length)
            _add(tar, name, data, mode)
    return path


def write_large_compiled_model(path: Path, size: int, seed: int = 0) -> Path:
    """Like :func:`write_compiled_model` but streams the big member, for multi-GiB benchmarks."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        _add(tar, "compiled.meta", b'{"Requirements": {}}')
        _add(tar, "compiled_model.json", b'{"nodes": []}' * 200)
        _add(tar, "libdlr.so", rng.randbytes(4096), 0o755)
        info = tarfile.TarInfo("compiled.params")
        info.size = size
        info.mtime = 1_700_000_000
        tar.addfile(info, RandomStream(size, rng))
    return path


class RandomStream(io.RawIOBase):
    """``size`` bytes from ``rng``, read as a stream (a big archive member, never in memory)."""

    def __init__(self, size: int, rng: random.Random) -> None:
        self._left = size
        self._rng = rng

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        n = self._left if size < 0 else min(size, self._left)
        self._left -= n
        return self._rng.randbytes(n)
