"""Benchmark phase 2: package a synthetic compiled model and print time, throughput, peak RSS.

Usage: uv run python benchmarks/package_throughput.py [SIZE_MIB ...]   (default: 100 1024)

Each measurement runs in a fresh child process so its peak RSS (ru_maxrss) is its own. Two
baselines run in the same way on the same file: reading and SHA-256-hashing the .tar.gz bytes,
and streaming the tar (decompressing it) while hashing every member's bytes. The package build
does the second plus the spool, the ZIP write and the ZIP's SHA-256.
"""

from __future__ import annotations

import hashlib
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from pulumi_dda import samples
from pulumi_dda.package import build_package

MIB = 1024 * 1024


def _read_and_hash(src: Path) -> None:
    digest = hashlib.sha256()
    with src.open("rb") as handle:
        for chunk in iter(lambda: handle.read(MIB), b""):
            digest.update(chunk)


def _untar_and_hash(src: Path) -> None:
    digest = hashlib.sha256()
    with src.open("rb") as handle, tarfile.open(fileobj=handle, mode="r|*", bufsize=MIB) as tar:
        for member in tar:
            data = tar.extractfile(member)
            if data is not None:
                for chunk in iter(lambda d=data: d.read(MIB), b""):  # type: ignore[misc]
                    digest.update(chunk)


def _package(src: Path) -> None:
    manifest = {"model_graph": {"stages": [{"type": "classification"}]}}
    with tempfile.TemporaryDirectory(dir=src.parent) as out, src.open("rb") as handle:
        build_package(handle, manifest, "classification", Path(out))


JOBS = {"read+sha256": _read_and_hash, "untar+sha256": _untar_and_hash, "package": _package}


def _child(job: str, src: str) -> None:
    start = time.perf_counter()
    JOBS[job](Path(src))
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{elapsed:.3f} {peak:.1f}")


def _measure(job: str, src: Path, size: int) -> str:
    out = subprocess.run(
        [sys.executable, __file__, "--child", job, str(src)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    elapsed, peak = float(out[0]), float(out[1])
    return (
        f"| {size // MIB} MiB | {job} | {elapsed:.2f} s | {size / MIB / elapsed:.0f} MiB/s "
        f"| {peak:.0f} MiB |"
    )


def main(sizes_mib: list[int]) -> None:
    print("| model size | job | wall time | throughput (model bytes) | peak RSS |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        for size_mib in sizes_mib:
            size = size_mib * MIB
            src = samples.write_large_compiled_model(Path(work) / f"{size_mib}.tar.gz", size)
            for job in JOBS:
                print(_measure(job, src, size), flush=True)
            src.unlink()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        main([int(a) for a in sys.argv[1:]] or [100, 1024])
