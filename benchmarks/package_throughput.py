"""Benchmark packaging against its floor, one target against four, one S3 stream against ranges.

Usage: uv run python benchmarks/package_throughput.py [--repeat N] [--cap MIB_PER_S] [SIZE_MIB ...]
(defaults: 3 repeats, a 64 MiB/s cap per connection, sizes 100 and 1024)

For each size, four synthetic compiled models (mostly incompressible weights, like real ones,
gzip level 1, each with its own content) are written with their members in sorted order, as
Neo archives usually are, plus the first one with its big member last. Every measurement runs
in a fresh child process, so its peak RSS (``ru_maxrss``, children included) is its own; each
is repeated and reported as min and median wall time. The jobs:

* ``read+sha256``: read the .tar.gz and hash it;
* ``floor``: stream the tar (``tarfile`` ``r|*``, zlib) and SHA-256 every member's bytes, the
  least any packaging must do, in the build's 64 KiB blocks, and in 1 MiB reads as the
  performance issue measured it (slower on this machine);
* ``build 1 target``: ``build_all`` with one target (manifest, package, recipe), from a sorted
  archive and from the one with its big member last;
* ``build 4 targets``: four targets, one after another (``workers=1``) and with the default
  workers (one per core);
* ``write ...``: write as many bytes as one or four packages into the work directory's file
  system (no fsync, as the build): what the disk costs, which the untar floor does not pay;
* ``build 4 targets, output on tmpfs`` (where ``/dev/shm`` exists): the same build with the
  packages written to memory, so the disk's share shows; ``fresh memory ...``: touch as many
  bytes of newly mapped memory as four packages hold (their page cache is new memory too);
* ``S3 ...``: one target whose compiled model is read from the local endpoint
  (``pulumi-dda local`` in a subprocess), as one stream or as ranged parallel GETs
  (``transfer_config()``), without a bandwidth cap and with ``--cap`` MiB/s per connection.

The ratio column divides by the job named in brackets. The targets of point 1 and 2 of the
performance work are printed under the table with their measured values: one target within
1.3x the floor; four targets within 1.25 x 4 / min(4, cores) x one target, and never more than
one after another.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import mmap
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi_dda._decompress import BLOCK
from pulumi_dda.recipe import platform_for
from pulumi_dda.samples import RandomStream

MIB = 1024 * 1024
MODEL = "classification"
TMPFS = Path("/dev/shm")
TARGETS = ["x86_64-cpu", "jetson-xavier", "arm64-cpu", "x86_64-cuda"]


def write_model(
    path: Path, size: int, seed: int, big_last: bool = False, target: str = "x86_64-cpu"
) -> Path:
    """A Neo-like compiled model for ``target`` of about ``size`` bytes; members sorted unless
    ``big_last``."""
    rng = random.Random(seed)
    device = platform_for(target).neo.devices[0]
    small = {
        "compiled.meta": json.dumps({"Requirements": {"TargetDevice": device}, "seed": seed}),
        "compiled_model.json": '{"nodes": [], "arg_nodes": []}' * 100,
        "libdlr.so": rng.randbytes(4096),
    }
    names = sorted([*small, "compiled.params"])
    if big_last:
        names = [n for n in names if n != "compiled.params"] + ["compiled.params"]
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for name in names:
            info = tarfile.TarInfo(name)
            info.mtime = 1_700_000_000
            info.mode = 0o755 if name.endswith(".so") else 0o644
            if name == "compiled.params":
                info.size = size
                tar.addfile(info, RandomStream(size, rng))
            else:
                data = small[name]
                payload = data.encode() if isinstance(data, str) else data
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    return path


# --- the jobs, each run in a child process ------------------------------------------------


def _read_and_hash(args: dict[str, Any]) -> None:
    digest = hashlib.sha256()
    with open(args["src"], "rb") as handle:
        for chunk in iter(lambda: handle.read(MIB), b""):
            digest.update(chunk)


def _floor(args: dict[str, Any]) -> None:
    """In ``block``-byte reads: the build's 64 KiB, or the 1 MiB of the issue's measurement."""
    block = int(args["block"])
    digest = hashlib.sha256()
    with (
        open(args["src"], "rb") as handle,
        tarfile.open(fileobj=handle, mode="r|*", bufsize=block) as tar,
    ):
        for member in tar:
            data = tar.extractfile(member)
            if data is not None:
                for chunk in iter(lambda d=data: d.read(block), b""):  # type: ignore[misc]
                    digest.update(chunk)


def _write(args: dict[str, Any]) -> None:
    """Write as many bytes as the packages hold into a file of the work directory (no fsync, as
    the build): what the file system costs, which the untar floor does not pay."""
    block, left = os.urandom(MIB), int(args["bytes"])
    with tempfile.TemporaryDirectory(dir=args["work"]) as out, open(Path(out) / "w", "wb") as f:
        while left > 0:
            left -= f.write(block[: min(MIB, left)])


def _touch(args: dict[str, Any]) -> None:
    """Fault in ``bytes`` of new anonymous memory, a page at a time: what this machine takes to
    hand a process that much new memory, as the page cache of new packages is."""
    size, page = int(args["bytes"]), mmap.PAGESIZE
    with mmap.mmap(-1, size) as memory:
        for offset in range(0, size, page):
            memory[offset] = 1


def bench_request(trained: str, srcs: list[str]) -> Any:
    """The ``BuildRequest`` of the benchmarks: the compiled models ``srcs``, one per target."""
    from pulumi_dda.build import BuildRequest

    return BuildRequest(
        trained_model=trained,
        compiled_models=dict(zip(TARGETS, srcs, strict=False)),
        component_name="model-bench",
        component_version="1.0.0",
        artifact_bucket="bench-artifacts",
    )


def _build(args: dict[str, Any]) -> None:
    from pulumi_dda.build import build_all

    request = bench_request(args["trained"], args["srcs"])
    with tempfile.TemporaryDirectory(dir=args.get("out_dir", args["work"])) as out:
        build_all(request, Path(out), workers=args.get("workers"))


def _build_from_s3(args: dict[str, Any]) -> None:
    from boto3.s3.transfer import TransferConfig

    from pulumi_dda.package import build_package
    from pulumi_dda.sources import open_source, transfer_config

    config = transfer_config() if args["ranged"] else TransferConfig(use_threads=False)
    manifest = {"model_graph": {"stages": [{"type": MODEL}]}}
    with (
        tempfile.TemporaryDirectory(dir=args["work"]) as out,
        open_source(args["uri"], config=config) as stream,
    ):
        build_package(stream, manifest, MODEL, Path(out), source=args["uri"])


JOBS: dict[str, Callable[[dict[str, Any]], None]] = {
    "read": _read_and_hash,
    "floor": _floor,
    "build": _build,
    "write": _write,
    "touch": _touch,
    "s3": _build_from_s3,
}


def _child(job: str, raw_args: str) -> None:
    import pulumi_dda.build
    import pulumi_dda.sources  # noqa: F401 - imported before the clock starts

    before, busy = _cpu_seconds(), _machine_busy_seconds()
    start = time.perf_counter()
    JOBS[job](json.loads(raw_args))
    elapsed = time.perf_counter() - start
    cpu = _cpu_seconds() - before
    others = max(0.0, _machine_busy_seconds() - busy - cpu) / elapsed
    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    print(f"{elapsed:.4f} {cpu:.4f} {peak / 1024:.1f} {others:.3f}")


def _cpu_seconds() -> float:
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine have used (Linux ``/proc/stat``)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:  # pragma: no cover - not Linux
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


# --- the parent: archives, endpoint, table -------------------------------------------------


@dataclass
class Job:
    """One row: a job, how often it ran, and what each run measured."""

    key: str
    label: str
    kind: str
    args: dict[str, Any]
    base: str = ""
    cap: float | None = None
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    peaks: list[float] = field(default_factory=list)
    others: list[float] = field(default_factory=list)

    def run(self, work: Path, env: dict[str, str]) -> None:
        os.sync()  # no job pays for the writeback of the one before it (outside the clock)
        out = subprocess.run(
            [sys.executable, __file__, "--child", self.kind, json.dumps(self.args)],
            check=True,
            capture_output=True,
            text=True,
            env=env,
            cwd=work,
        ).stdout.split()
        wall, cpu, peak, others = (float(x) for x in out)
        self.walls.append(wall)
        self.cpus.append(cpu)
        self.peaks.append(peak)
        self.others.append(others)

    def ratio(self, base: Job) -> float:
        """The median of the per-round ratios: both ran in the same round, under its load."""
        return statistics.median(w / b for w, b in zip(self.walls, base.walls, strict=True))

    def best_ratio(self, base: Job) -> float:
        """The ratio of the fastest runs: the nearest to a machine with nothing else running."""
        return min(self.walls) / min(base.walls)


def _print_rows(size_mib: int, jobs: dict[str, Job]) -> None:
    for job in jobs.values():
        base = jobs.get(job.base)
        ratio = f"{job.ratio(base):.2f} ({base.label})" if base else ""
        median = statistics.median(job.walls)
        print(
            f"| {size_mib} MiB | {job.label} | {min(job.walls):.2f} s | {median:.2f} s "
            f"| {statistics.median(job.cpus):.2f} s | {size_mib / median:.0f} MiB/s "
            f"| {max(job.peaks):.0f} MiB | {statistics.median(job.others):.1f} | {ratio} |",
            flush=True,
        )


class Endpoint:
    """``pulumi-dda local`` in a subprocess, with an S3 bucket and the admin config route."""

    def __init__(self, options: list[str] | None = None) -> None:
        from pulumi_dda.local import READY_PREFIX

        self.process = subprocess.Popen(
            [sys.executable, "-m", "pulumi_dda.local", "--port", "0", *(options or [])],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip().removeprefix(READY_PREFIX)
        self.env = {
            **os.environ,
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }
        import boto3

        self.s3 = boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.s3.create_bucket(Bucket="bench-models")

    def cap(self, bytes_per_second: float) -> None:
        request = urllib.request.Request(
            f"{self.url}/_dda_local/config",
            data=json.dumps({"connection_bandwidth": bytes_per_second}).encode(),
            method="POST",
        )
        urllib.request.urlopen(request).close()

    def upload(self, path: Path) -> str:
        key = f"neo/{path.name}"
        self.s3.upload_file(str(path), "bench-models", key)
        return f"s3://bench-models/{key}"

    def delete(self, uri: str) -> None:
        self.s3.delete_object(Bucket="bench-models", Key=uri.split("/", 3)[3])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _jobs(work: Path, size: int, cap: float, endpoint: Endpoint) -> dict[str, Job]:
    from pulumi_dda import samples

    trained = str(samples.write_trained_model(work / "trained.tar.gz"))
    srcs = [
        str(write_model(work / f"t{i}.tar.gz", size, seed=i, target=target))
        for i, target in enumerate(TARGETS)
    ]
    big_last = str(write_model(work / "big-last.tar.gz", size, seed=0, big_last=True))
    uri = endpoint.upload(Path(srcs[0]))
    one = {"trained": trained, "srcs": srcs[:1]}
    four = {"trained": trained, "srcs": srcs}
    jobs = [
        Job("read", "read+sha256 (.tar.gz)", "read", {"src": srcs[0]}),
        Job("floor", "floor: untar+sha256 of members", "floor", {"src": srcs[0], "block": BLOCK}),
        Job("floor-1m", "floor in 1 MiB reads (the issue's)", "floor",
            {"src": srcs[0], "block": MIB}, "floor"),
        Job("one", "build 1 target, members sorted", "build", one, "floor"),
        Job("one-big-last", "build 1 target, big member last", "build",
            {"trained": trained, "srcs": [big_last]}, "floor"),
        Job("four-serial", "build 4 targets, workers=1", "build", {**four, "workers": 1}, "one"),
        Job("four", "build 4 targets, default workers", "build", four, "one"),
        Job("four-tmpfs", "build 4 targets, output on tmpfs", "build",
            {**four, "out_dir": str(TMPFS)}, "one"),
        Job("write-one", "write 1 package's bytes", "write", {"bytes": size}, "one"),
        Job("write-four", "write 4 packages' bytes", "write", {"bytes": 4 * size}, "four"),
        Job("touch-four", "fresh memory for 4 packages' bytes", "touch", {"bytes": 4 * size},
            "four"),
    ]  # fmt: skip
    if not TMPFS.is_dir():
        jobs = [job for job in jobs if job.key != "four-tmpfs"]
    for capped in (False, True):
        note = f", cap {cap / MIB:g} MiB/s per connection" if capped else ", no cap"
        single, ranged = f"s3-one-{capped}", f"s3-ranged-{capped}"
        limit = cap if capped else 0.0
        jobs += [
            Job(single, "S3 one stream" + note, "s3", {"uri": uri, "ranged": False}, "one", limit),
            Job(ranged, "S3 ranged GETs" + note, "s3", {"uri": uri, "ranged": True}, single, limit),
        ]
    for job in jobs:
        job.args["work"] = str(work)
    return {job.key: job for job in jobs}


def _measure_size(
    size_mib: int, work: Path, repeat: int, cap: float, endpoint: Endpoint
) -> dict[str, Job]:
    """Every job once per round, rounds one after another, so drifts in load hit all alike."""
    jobs = _jobs(work, size_mib * MIB, cap, endpoint)
    for _ in range(repeat):
        for job in jobs.values():
            if job.cap is not None:
                endpoint.cap(job.cap)
            job.run(work, endpoint.env)
    endpoint.cap(0)
    _print_rows(size_mib, jobs)
    for path in work.glob("*.tar.gz"):
        path.unlink()
    return jobs


def _print_targets(sizes: dict[int, dict[str, Job]]) -> None:
    from pulumi_dda._parallel import MAX_WORKERS, cores

    n = cores()
    bound = 1.25 * 4 / min(4, n)
    print(f"\nTargets ({n} cores): median of per-round ratios / ratio of the fastest runs")
    for size_mib, jobs in sizes.items():

        def both(key: str, base: str, jobs: dict[str, Job] = jobs) -> str:
            return f"{jobs[key].ratio(jobs[base]):.2f} / {jobs[key].best_ratio(jobs[base]):.2f}"

        print(
            f"- {size_mib} MiB: 1 target / floor = {both('one', 'floor')} (target <= 1.3; "
            f"big member last {both('one-big-last', 'floor')}; against the floor in 1 MiB "
            f"reads {both('one', 'floor-1m')}); 4 targets / 1 target = "
            f"{both('four', 'one')} with {min(MAX_WORKERS, n)} workers (target <= {bound:.2f}), "
            f"4 targets / one after another = {both('four', 'four-serial')} (target <= 1); "
            f"writing the bytes alone / the build: 1 target {both('write-one', 'one')}, "
            f"4 targets {both('write-four', 'four')}; "
            + (
                f"4 targets with output on tmpfs / 1 target = {both('four-tmpfs', 'one')}; "
                if "four-tmpfs" in jobs
                else ""
            )
            + f"fresh memory for 4 packages / the build {both('touch-four', 'four')}; "
            f"peak RSS of 1 target {max(jobs['one'].peaks):.0f} MiB; S3 ranged / one stream = "
            f"{both('s3-ranged-False', 's3-one-False')} without a cap, "
            f"{both('s3-ranged-True', 's3-one-True')} with it"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 1024], metavar="SIZE_MIB")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cap", type=float, default=64.0, metavar="MIB_PER_S")
    args = parser.parse_args()
    from pulumi_dda import _decompress

    print(
        f"{platform.python_implementation()} {platform.python_version()}, inflate: "
        f"{_decompress.INFLATE.__name__}, load average {os.getloadavg()[0]:.2f} at start"
    )
    print(
        "\n| model size | job | min | median | CPU (median) | throughput | peak RSS "
        "| other CPU load (cores) | ratio (median) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    endpoint = Endpoint()
    sizes: dict[int, dict[str, Job]] = {}
    try:
        with tempfile.TemporaryDirectory() as work:
            for size_mib in args.sizes:
                sizes[size_mib] = _measure_size(
                    size_mib, Path(work), args.repeat, args.cap * MIB, endpoint
                )
    finally:
        endpoint.stop()
    _print_targets(sizes)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        main()
