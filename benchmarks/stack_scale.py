"""Scale check with the real Pulumi engine: one stack of N DdaModelComponents, T targets each.

Usage: uv run python benchmarks/stack_scale.py [--count N] [--targets T] [--no-floor]
       [--by-operation]                                  (defaults: N 20, T 2)

Runs the pinned Pulumi CLI (``tools/pulumi/build.sh``) with the Automation API against an
in-process ``LocalEndpoint`` (state delay 0.05 s), on the e2e test program
(``tests/e2e/program``), a file backend in a temporary directory and small generated sample
models (``pulumi_dda.samples``): one trained model and T compiled ones (x86_64-cpu,
jetson-xavier, arm64-cpu, x86_64-cuda, in that order) shared by every component. Measured, each
from a cleared request log:

* the initial ``up`` (N creates),
* an unchanged ``preview`` (``expect_no_changes``),
* a no-op ``up`` (``expect_no_changes``),

with their wall time, AWS calls (all, S3 HeadObject, Greengrass v2) and artifact bytes moved
(S3 GetObject bytes out, PutObject/UploadPart bytes in). The unchanged preview and the no-op
up must move no artifact bytes. ``--by-operation`` adds a table of calls per service/operation
and phase. The stack is then destroyed (timed) and the endpoint checked for component versions
and artifact objects left behind. Artifact bytes moved by a no-op, a failed destroy or anything
left behind is printed as a PROBLEM line and the exit status is 1.

**The engine's floor** (unless ``--no-floor``): the same engine, language host and dynamic
provider server run a stack of N trivial dynamic resources (a provider whose ``create``
returns its inputs and whose ``diff`` compares them), measured the same way (initial ``up``,
unchanged ``preview``, no-op ``up``), first, so both stacks see the same machine state. The
figure printed last is our unchanged preview ÷ the floor's unchanged preview: what N model
components cost beyond what any N dynamic resources cost in this engine.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from pulumi_dda.local import LocalEndpoint
from pulumi_dda.local.control import RequestRecord
from pulumi_dda.local.local_server import seed_local_servers

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from e2e_harness import (
    ARTIFACTS,
    MODELS,
    REGION,
    cli_env,
    engine_root,
    make_project,
    make_stack,
    sample_model_config,
)

STATE_DELAY = 0.05
NO_OP_PHASES = ("unchanged preview", "no-op up")
TARGETS = ("x86_64-cpu", "jetson-xavier", "arm64-cpu", "x86_64-cuda")
FLOOR_PROGRAM = '''"""N trivial dynamic resources: the engine's own cost of as many resources."""

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider


class Trivial(ResourceProvider):
    def create(self, props):
        return CreateResult(props["name"], props)

    def diff(self, _id, olds, news):
        changed = {k: v for k, v in news.items() if olds.get(k) != v}
        return DiffResult(changes=bool(changed))


class TrivialResource(Resource):
    def __init__(self, name):
        super().__init__(Trivial(), name, {"name": name})


for index in range(pulumi.Config().get_int("count") or 1):
    TrivialResource(f"r-{index}")
'''


@dataclass
class Phase:
    """One measured engine operation and the requests the endpoint saw during it."""

    name: str
    seconds: float
    changes: dict[str, int]
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    get_bytes: int = 0
    put_bytes: int = 0

    @classmethod
    def from_log(
        cls, name: str, seconds: float, changes: dict[str, int], log: list[RequestRecord]
    ) -> Phase:
        return cls(
            name=name,
            seconds=seconds,
            changes=changes,
            calls=Counter((r.service, r.operation) for r in log),
            get_bytes=sum(r.bytes_out for r in log if r.operation == "GetObject"),
            put_bytes=sum(r.bytes_in for r in log if r.operation in {"PutObject", "UploadPart"}),
        )

    def count(self, keep: Callable[[str, str], bool]) -> int:
        return sum(n for (service, op), n in self.calls.items() if keep(service, op))

    def row(self) -> str:
        total = sum(self.calls.values())
        head = self.count(lambda s, op: s == "s3" and op == "HeadObject")
        greengrass = self.count(lambda s, op: s.startswith("greengrass"))
        changes = ", ".join(f"{k} {v}" for k, v in sorted(self.changes.items()))
        return (
            f"| {self.name} | {changes} | {self.seconds:.1f} s | {total} | {head} "
            f"| {greengrass} | {_size(self.get_bytes)} | {_size(self.put_bytes)} |"
        )


def _size(n: int) -> str:
    if n == 0:
        return "0"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KiB"
    return f"{n / 1024 / 1024:.1f} MiB"


def _measure(ep: LocalEndpoint, name: str, run: Callable[[], dict[str, int]]) -> Phase:
    ep.clear_request_log()
    start = time.perf_counter()
    changes = run()
    seconds = time.perf_counter() - start
    return Phase.from_log(name, seconds, changes, ep.request_log())


def _op_counts(counts: Mapping[Any, int] | None) -> dict[str, int]:
    """Operation counts keyed by name; the engine's keys are ``OpType`` or plain strings."""
    return {str(getattr(k, "value", k)): v for k, v in (counts or {}).items()}


def _preview_changes(result: auto.PreviewResult) -> dict[str, int]:
    return _op_counts(result.change_summary)


def _up_changes(result: auto.UpResult) -> dict[str, int]:
    return _op_counts(result.summary.resource_changes)


def _pulumi_version(engine: Path) -> str:
    return subprocess.run(
        [str(engine / "bin" / "pulumi"), "version"],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"},
    ).stdout.strip()


def _cores() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 0


def _leftovers(ep: LocalEndpoint) -> tuple[int, int]:
    """Component versions and artifact objects still in the endpoint after the destroy."""
    gg, s3 = ep.client("greengrassv2"), ep.client("s3")
    versions = sum(
        len(gg.list_component_versions(arn=c["arn"])["componentVersions"])
        for c in gg.list_components(scope="PRIVATE")["components"]
        if c["componentName"].startswith("model-")
    )
    objects = len(s3.list_objects_v2(Bucket=ARTIFACTS).get("Contents", []))
    return versions, objects


def _error_lines(err: auto.CommandError) -> list[str]:
    """The provider's error lines out of a failed operation's output (else its first line)."""
    text = str(err)
    found = re.findall(r"^\s*(pulumi_dda\.errors\.\w+: .*)$", text, re.MULTILINE)
    found = found or re.findall(r"^\s*(error: .*)$", text, re.MULTILINE)
    return sorted(set(found)) or [text.strip().splitlines()[0]]


def _destroy(ep: LocalEndpoint, stack: auto.Stack) -> list[str]:
    """Destroy, print its line, return the problems (a failure, anything left behind)."""
    start = time.perf_counter()
    try:
        stack.destroy()
    except auto.CommandError as err:
        seconds = time.perf_counter() - start
        errors = _error_lines(err)
        print(f"destroy: FAILED after {seconds:.1f} s")
        return [f"destroy failed: {line}" for line in errors]
    seconds = time.perf_counter() - start
    versions, objects = _leftovers(ep)
    print(
        f"destroy: {seconds:.1f} s; left behind: {versions} component versions, "
        f"{objects} artifact objects"
    )
    if versions or objects:
        return [f"destroy left {versions} component versions and {objects} artifact objects"]
    return []


def _no_op_problems(phases: list[Phase]) -> list[str]:
    problems = []
    for phase in phases:
        if phase.name in NO_OP_PHASES and (phase.get_bytes or phase.put_bytes):
            calls = {
                f"{s}:{op}": n
                for (s, op), n in phase.calls.items()
                if op in {"GetObject", "PutObject", "UploadPart"}
            }
            problems.append(
                f"{phase.name} moved artifact bytes (GetObject {phase.get_bytes} B out, "
                f"Put {phase.put_bytes} B in; calls {calls}); a no-op must move none"
            )
    return problems


def _print_table(phases: list[Phase], by_operation: bool) -> None:
    print(
        "| phase | engine result | wall time | AWS calls | S3 HeadObject | Greengrass calls "
        "| GetObject bytes out | Put bytes in |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for phase in phases:
        print(phase.row())
    if by_operation:
        keys = sorted(set().union(*(p.calls.keys() for p in phases)))
        print()
        print("| service | operation | " + " | ".join(p.name for p in phases) + " |")
        print("|---|---|" + "---|" * len(phases))
        for service, op in keys:
            counts = " | ".join(str(p.calls.get((service, op), 0)) for p in phases)
            print(f"| {service} | {op} | {counts} |")
    print(flush=True)


def _with_targets(s3: Any, work: Path, model: dict[str, Any], targets: int) -> dict[str, Any]:
    """The program's model config with the first ``targets`` of :data:`TARGETS`."""
    from pulumi_dda import samples

    compiled = dict(model["compiledModels"])
    for seed, target in enumerate(TARGETS, start=10):
        if target not in compiled:
            path = samples.write_compiled_model(
                work / "in" / f"{target}.tar.gz", seed=seed, target=target
            )
            s3.upload_file(str(path), MODELS, f"neo/{target}/model.tar.gz")
            compiled[target] = f"s3://{MODELS}/neo/{target}/model.tar.gz"
    return {**model, "compiledModels": {t: compiled[t] for t in TARGETS[:targets]}}


def floor(count: int, engine: Path, work: Path, env: dict[str, str]) -> list[Phase]:
    """The three phases for ``count`` trivial dynamic resources in the same engine."""
    project = work / "floor"
    project.mkdir()
    (project / "__main__.py").write_text(FLOOR_PROGRAM)
    (project / "Pulumi.yaml").write_text(
        f"name: dda-floor\nruntime:\n  name: python\n  options:\n    virtualenv: {sys.prefix}\n"
    )
    stack = make_stack(project, "floor", env, engine, {"count": count})
    times: list[Phase] = []
    try:
        for name, call in (
            ("initial up", lambda: _up_changes(stack.up())),
            ("unchanged preview", lambda: _preview_changes(stack.preview(expect_no_changes=True))),
            ("no-op up", lambda: _up_changes(stack.up(expect_no_changes=True))),
        ):
            start = time.perf_counter()
            changes = call()
            times.append(Phase(f"floor: {name}", time.perf_counter() - start, changes))
        stack.destroy()
    finally:
        stack.workspace.remove_stack(stack.name, force=True)
    return times


def run(
    count: int, engine: Path, by_operation: bool, targets: int = 2, with_floor: bool = True
) -> list[str]:
    """Set up, measure and print the three phases, destroy; returns the problems seen."""
    with (
        tempfile.TemporaryDirectory(prefix="dda-stack-scale-") as tmp,
        LocalEndpoint(region=REGION, state_delay=STATE_DELAY) as ep,
    ):
        work = Path(tmp)
        ep.reset()
        ep.configure(state_delay=STATE_DELAY)
        seed_local_servers(ep.client("greengrassv2"))
        model = sample_model_config(ep.client("s3"), work, name="model-scale")
        model = _with_targets(ep.client("s3"), work, model, targets)
        config = {"model": model, "artifactBucket": ARTIFACTS, "count": count}
        env = cli_env(ep.url, work / "state", engine)
        floor_phases = floor(count, engine, work, env) if with_floor else []
        stack = make_stack(make_project(work), "scale", env, engine, config)
        try:
            phases = [
                _measure(ep, "initial up", lambda: _up_changes(stack.up())),
                _measure(
                    ep,
                    "unchanged preview",
                    lambda: _preview_changes(stack.preview(expect_no_changes=True)),
                ),
                _measure(ep, "no-op up", lambda: _up_changes(stack.up(expect_no_changes=True))),
            ]
            _print_table(phases + floor_phases, by_operation)
            if floor_phases:
                ours, theirs = phases[1].seconds, floor_phases[1].seconds
                print(
                    f"unchanged preview: {count} components x {targets} targets {ours:.1f} s, "
                    f"{count} trivial dynamic resources {theirs:.1f} s: "
                    f"our preview / the engine's preview of as many resources = "
                    f"{ours / theirs:.2f} (target <= 1.5)\n",
                    flush=True,
                )
            return _no_op_problems(phases) + _destroy(ep, stack)
        finally:
            stack.workspace.remove_stack(stack.name, force=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20, help="DdaModelComponents (default 20)")
    parser.add_argument(
        "--targets", type=int, default=2, help=f"targets per component, 1-{len(TARGETS)}"
    )
    parser.add_argument(
        "--no-floor", action="store_true", help="skip the trivial dynamic resources' stack"
    )
    parser.add_argument(
        "--by-operation", action="store_true", help="also print calls per service/operation"
    )
    args = parser.parse_args()
    if args.count < 1:
        parser.error("--count must be at least 1")
    if not 1 <= args.targets <= len(TARGETS):
        parser.error(f"--targets must be 1 to {len(TARGETS)}")

    engine = engine_root()
    print(
        f"N = {args.count} DdaModelComponents x {args.targets} targets; local endpoint, "
        f"state delay {STATE_DELAY} s; {_cores()} cores, Python {platform.python_version()}, "
        f"Pulumi CLI {_pulumi_version(engine)}"
    )
    print()
    problems = run(args.count, engine, args.by_operation, args.targets, not args.no_floor)
    for problem in problems:
        print(f"\n**PROBLEM: {problem}**")
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
