"""Benchmark ``pulumi-dda publish`` against each of its stages alone, in the same run.

Usage: uv run python benchmarks/publish_pipeline.py [--cap MIB_PER_S] [--targets N ...]
       [--repeat N] [SIZE_MIB ...]   (defaults: 64 MiB/s, targets 1 4, sizes 128 512 2048)

One ``pulumi-dda local`` endpoint runs in a subprocess, capped at ``--cap`` MiB/s per connection
in both directions (replies and request bodies), as S3 limits each connection. For each size
and number of targets, synthetic compiled models (``package_throughput.write_model``: mostly
incompressible weights, gzip level 1, members sorted) are put into the endpoint (uncapped,
outside the clock), then each job runs in a fresh child process (its peak RSS is its own):

* ``download``: read every target's compiled model from S3 as the build reads it (ranged,
  concurrent GETs, ``sources.open_source``), one thread per target, and nothing else;
* ``build``: ``build_all`` of the same models from local files (manifest, packages, recipes);
* ``upload``: upload the packages ``build`` wrote (``upload_file``: s3transfer, multipart,
  concurrent parts), one thread per target, to a new bucket;
* ``copy``: copy those objects server-side to other keys (``CopyObject``), one thread per
  target: what a publish that streamed its upload would add after the last part (the
  content-addressed key is known only once the package is, so it would upload to a temporary
  key and copy; see the README's "Publish against its stages");
* ``publish``: ``pulumi-dda publish`` in-process (``publish.run``: check, then package,
  upload, create each version and wait for ``DEPLOYABLE``) from the S3 sources to a new bucket.

Printed per row: each job's wall time and peak RSS, then publish ÷ the slowest stage and
publish ÷ the sum of the stages (download, build, upload; the copy is shown, not a stage), and
the CPU time of each job and of the endpoint meanwhile (one Python process serving every
request: when the cores are busy, publish cannot take less than the CPU time of the download,
the build, the upload and the copy together, divided by the cores), and the build's *hash
tail*: from the moment its big member is read to the package's digest (the local header of a
member is patched with its CRC once its data is written, so the SHA-256 is taken over the
finished file).
Before the table: the CLI's start-up (``python -X importtime``
of ``pulumi_dda.cli``, and the wall time of ``pulumi-dda build --help``), and whether boto3 was
imported. Temporary files go to a directory under ``--work`` (default: the system's) and are
removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from package_throughput import TARGETS, Endpoint, bench_request, write_model

MIB = 1024 * 1024
SOURCES = "bench-models"


def _download(args: dict[str, Any]) -> None:
    from pulumi_dda.sources import open_source

    def read_all(uri: str) -> None:
        with open_source(uri) as stream:
            while stream.read(64 * 1024):
                pass

    with ThreadPoolExecutor(len(args["uris"])) as pool:
        list(pool.map(read_all, args["uris"]))


def _build(args: dict[str, Any]) -> dict[str, float]:
    from pulumi_dda.build import build_all

    seen: dict[str, float] = {}

    def progress(line: str) -> None:
        if "read compiled.params" in line or "packaged " in line:
            seen.setdefault(line.split("] ", 1)[1].split(" ", 1)[0], time.perf_counter())

    build_all(bench_request(args["trained"], args["srcs"]), Path(args["out"]), progress=progress)
    return {"hash_tail": seen["packaged"] - seen["read"]}


def _upload(args: dict[str, Any]) -> None:
    import boto3

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=args["bucket"])

    def put(path: str) -> None:
        s3.upload_file(path, args["bucket"], f"model_artifacts/{Path(path).name}")

    with ThreadPoolExecutor(len(args["paths"])) as pool:
        list(pool.map(put, args["paths"]))


def _copy(args: dict[str, Any]) -> None:
    import boto3

    s3 = boto3.client("s3")

    def copy(key: str) -> None:
        s3.copy_object(
            Bucket=args["bucket"],
            Key=key + ".copy",
            CopySource={"Bucket": args["bucket"], "Key": key},
        )

    with ThreadPoolExecutor(len(args["keys"])) as pool:
        list(pool.map(copy, args["keys"]))


def _publish(args: dict[str, Any]) -> None:
    import boto3

    from pulumi_dda import cli, publish

    boto3.client("s3").create_bucket(Bucket=args["bucket"])
    argv = ["publish", "--trained", args["trained"], "--component-name", args["name"]]
    argv += ["--bucket", args["bucket"], "--region", "us-east-1", "--component-version", "1.0.0"]
    for target, uri in zip(TARGETS, args["uris"], strict=False):
        argv += ["--compiled", f"{target}={uri}"]
    publish.run(cli._parser().parse_args(argv))


JOBS: dict[str, Any] = {
    "download": _download,
    "build": _build,
    "upload": _upload,
    "copy": _copy,
    "publish": _publish,
}


def _child(job: str, raw: str) -> None:
    import pulumi_dda.build
    import pulumi_dda.model_component
    import pulumi_dda.sources  # noqa: F401 - imported before the clock starts

    start, cpu = time.perf_counter(), time.process_time()
    extra = JOBS[job](json.loads(raw)) or {}
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "cpu": cpu, "peak_mib": peak, **extra}))


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run(
    job: str, args: dict[str, Any], env: dict[str, str], endpoint_pid: int
) -> dict[str, float]:
    subprocess.run(["sync"], check=False)
    before = _cpu_of(endpoint_pid)
    out = subprocess.run(
        [sys.executable, __file__, "--child", job, json.dumps(args)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise SystemExit(f"{job} failed:\n{out.stderr[-3000:]}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    result["endpoint_cpu"] = _cpu_of(endpoint_pid) - before
    return result


def startup(env: dict[str, str]) -> None:
    """The CLI's import time and ``build --help`` wall time; whether boto3 is imported."""
    probe = "import sys, pulumi_dda.cli as c; c._parser(); print('boto3' in sys.modules)"
    runs = []
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", probe],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
        total = sum(
            int(m) for m in re.findall(r"^import time:\s+\d+ \|\s+(\d+) \|\s\S", out.stderr, re.M)
        )
        runs.append((total / 1e6, out.stdout.strip()))
    helps = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pulumi_dda.cli", "build", "--help"],
            capture_output=True, env=env, check=True,
        )  # fmt: skip
        helps.append(time.perf_counter() - start)
    bare = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
        bare.append(time.perf_counter() - start)
    print(
        f"start-up: imports of pulumi_dda.cli + build's argument parsing "
        f"{statistics.median(r[0] for r in runs):.3f} s (python -X importtime, cumulative of "
        f"top-level imports, median of 5), boto3 imported: {runs[0][1]}; "
        f"`pulumi-dda build --help` {statistics.median(helps):.3f} s wall "
        f"(a bare interpreter: {statistics.median(bare):.3f} s)"
    )


def measure(
    work: Path, endpoint: Endpoint, size_mib: int, targets: int, repeat: int, cap: float
) -> dict[str, dict[str, float]]:
    from pulumi_dda import samples

    size = size_mib * MIB
    endpoint.cap(0)
    trained = samples.write_trained_model(work / "trained.tar.gz")
    endpoint.s3.upload_file(str(trained), SOURCES, "train/model.tar.gz")
    srcs, uris = [], []
    for n in range(targets):
        path = write_model(work / f"m{n}.tar.gz", size, seed=n + 1, target=TARGETS[n])
        srcs.append(str(path))
        uris.append(endpoint.upload(path))
    endpoint.cap(cap)
    env = endpoint.env
    pid = endpoint.process.pid
    results: dict[str, list[dict[str, float]]] = {j: [] for j in JOBS}
    out = work / "packages"
    for _ in range(repeat):
        results["download"].append(_run("download", {"uris": uris}, env, pid))
        shutil.rmtree(out, ignore_errors=True)
        results["build"].append(
            _run("build", {"trained": str(trained), "srcs": srcs, "out": str(out)}, env, pid)
        )
        packages = [str(p) for p in out.rglob("*.zip")]
        bucket = f"up-{uuid.uuid4().hex[:12]}"
        results["upload"].append(_run("upload", {"paths": packages, "bucket": bucket}, env, pid))
        keys = [f"model_artifacts/{Path(p).name}" for p in packages]
        results["copy"].append(_run("copy", {"keys": keys, "bucket": bucket}, env, pid))
        endpoint.cap(0)
        _empty_bucket(endpoint, bucket)
        endpoint.cap(cap)
        bucket, name = f"pub-{uuid.uuid4().hex[:12]}", f"model-b{uuid.uuid4().hex[:8]}"
        trained_uri = f"s3://{SOURCES}/train/model.tar.gz"
        results["publish"].append(
            _run(
                "publish",
                {"trained": trained_uri, "uris": uris, "bucket": bucket, "name": name},
                env,
                pid,
            )
        )
        endpoint.cap(0)
        leftovers = _empty_bucket(endpoint, bucket)
        endpoint.cap(cap)
        if leftovers != targets:
            raise SystemExit(f"publish left {leftovers} objects for {targets} targets")
    shutil.rmtree(out, ignore_errors=True)
    for path in srcs:
        Path(path).unlink()
        endpoint.delete(f"s3://{SOURCES}/neo/{Path(path).name}")
    return {
        job: {
            "seconds": statistics.median(r["seconds"] for r in runs),
            "peak_mib": max(r["peak_mib"] for r in runs),
            "hash_tail": statistics.median(r.get("hash_tail", 0.0) for r in runs),
            "endpoint_cpu": statistics.median(r["endpoint_cpu"] for r in runs),
            "cpu": statistics.median(r["cpu"] for r in runs),
        }
        for job, runs in results.items()
    }


def _empty_bucket(endpoint: Endpoint, bucket: str) -> int:
    """Delete every object of ``bucket`` (packages, never temporary keys); how many there were."""
    s3 = endpoint.s3
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    for key in keys:
        s3.delete_object(Bucket=bucket, Key=key)
    uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    if uploads or any("staging/" in k for k in keys):
        raise SystemExit(f"temporary uploads left in {bucket}: {uploads or keys}")
    return len(keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[128, 512, 2048])
    parser.add_argument("--cap", type=float, default=64.0, help="MiB/s per connection")
    parser.add_argument("--targets", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--child", nargs=2, metavar=("JOB", "ARGS"))
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    endpoint = Endpoint(["--seed-local-server", "--state-delay", "0"])
    work = Path(tempfile.mkdtemp(prefix="dda-publish-bench-", dir=args.work))
    try:
        startup(endpoint.env)
        print(
            f"cap {args.cap:g} MiB/s per connection, both ways; {os.cpu_count()} cores; "
            f"CPython {sys.version.split()[0]}"
        )
        print(
            "| model size | targets | download | build | upload | copy | publish | slowest stage "
            "| publish / slowest | publish / sum | build's hash tail "
            "| peak RSS: publish (download, build, upload) "
            "| CPU (ours + endpoint): download, build, upload, copy, publish |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for size in args.sizes:
            for targets in args.targets:
                r = measure(work, endpoint, size, targets, args.repeat, args.cap * MIB)
                stages = {j: r[j]["seconds"] for j in ("download", "build", "upload")}
                slowest = max(stages, key=lambda j: stages[j])
                publish = r["publish"]["seconds"]
                print(
                    f"| {size} MiB | {targets} | "
                    + " | ".join(f"{r[j]['seconds']:.2f} s" for j in JOBS)
                    + f" | {slowest} | {publish / stages[slowest]:.2f} | "
                    f"{publish / sum(stages.values()):.2f} | {r['build']['hash_tail']:.2f} s | "
                    f"{r['publish']['peak_mib']:.0f} MiB ("
                    + ", ".join(f"{r[j]['peak_mib']:.0f}" for j in stages)
                    + ") | "
                    + ", ".join(f"{r[j]['cpu']:.1f} + {r[j]['endpoint_cpu']:.1f} s" for j in JOBS)
                    + " |",
                    flush=True,
                )
    finally:
        endpoint.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
