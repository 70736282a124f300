"""Kill the Pulumi CLI in the middle of a create, a replacement or a destroy, then recover.

The whole process group (CLI, language host, provider plugin) is killed with SIGKILL as soon
as the local endpoint has seen the call the scenario waits for. Recovery is what the CLI asks
for: ``pulumi cancel`` (a stale lock) and ``pulumi refresh --clear-pending-creates`` (creates
it never saw finish), then ``pulumi up``. The stack must end with one version per target and,
after ``destroy``, nothing of the resource in Greengrass or S3.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from e2e_harness import ARTIFACTS, model_components, retrain_x86, set_config, unpinned
from pulumi import automation as auto

from pulumi_dda.local import LocalEndpoint

WAIT_SECONDS = 120
X86 = "model-defects-x86-64-cpu"
JETSON = "model-defects-jetson-xavier"


@dataclass(frozen=True)
class Crash:
    """One crash: what runs before, which command dies after which call, what recovery gives.

    With ``converges_to`` an ``up`` after recovery must publish exactly those versions; without
    it the next command is ``destroy``. Every scenario ends with a destroy that leaves nothing.
    """

    command: str = "up"
    op: str = "CreateComponentVersion"
    times: int = 1
    deployed: bool = False
    """``up`` ran before the killed command (so it is an update, a replacement or a destroy)."""
    pinned: bool = False
    """The program pins ``componentVersion``; otherwise the provider chooses versions."""
    retrain: str = ""
    """When x86's compiled model changes, relative to the kill: "before" or "after"."""
    until_x86: tuple[str, ...] = ()
    """Kill only once x86's component has these versions."""
    orphans: bool = False
    """Kill only the CLI, orphaning its language host and provider mid-create."""
    converges_to: dict[str, list[str]] | None = None
    artifacts: int | None = None
    """How many artifacts the converged stack has in S3, where the scenario counts them."""
    settled: bool = True
    """A preview after the converging ``up`` shows no changes."""


def _kill_when(
    stack: auto.Stack,
    env: dict[str, str],
    engine: Path,
    ep: Any,
    crash: Crash,
    until: Callable[[], bool],
) -> int:
    """Run ``pulumi <crash.command>`` and kill its process group (or with ``crash.orphans`` the
    CLI alone, orphaning its language host and provider) once the endpoint saw ``crash.op``
    ``crash.times`` times and ``until()`` holds. Returns the id of the session every process it
    started is in (the engine starts plugins in process groups of their own)."""
    ep.clear_request_log()
    pulumi = str(engine / "bin" / "pulumi")
    process = subprocess.Popen(
        [pulumi, crash.command, "--skip-preview", "--yes", "--stack", stack.name],
        cwd=stack.workspace.work_dir,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    op, deadline = crash.op, time.monotonic() + WAIT_SECONDS
    try:
        while sum(r.operation == op for r in ep.request_log()) < crash.times or not until():
            assert process.poll() is None, f"pulumi {crash.command} ended before {op}"
            assert time.monotonic() < deadline, f"no {op} within {WAIT_SECONDS} s"
            time.sleep(0.02)
    finally:
        if crash.orphans:
            process.kill()
        else:
            os.killpg(process.pid, signal.SIGKILL)  # the CLI and its language host
        process.wait()
    return process.pid


def _live_processes(session: int) -> list[str]:
    """The command lines of the processes of ``session`` that still run (zombies do not)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[3]) == session and fields[0] != "Z":
                found.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
    return found


def _wait_exited(session: int, seconds: float) -> list[str]:
    deadline = time.monotonic() + seconds
    while (alive := _live_processes(session)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def _recover(stack: auto.Stack, *, pending_creates: bool) -> None:
    """What the CLI asks for after a killed update: release a stale lock if there is one, and
    drop the creates it never saw finish."""
    with contextlib.suppress(auto.CommandError):  # no lock was left behind
        stack.cancel()
    if pending_creates:
        stack.refresh(clear_pending_creates=True)


def _versions(gg: Any) -> dict[str, list[str]]:
    return {
        c["componentName"]: sorted(
            v["componentVersion"]
            for v in gg.list_component_versions(arn=c["arn"])["componentVersions"]
        )
        for c in model_components(gg)
    }


def _keys(s3: Any) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=ARTIFACTS).get("Contents", [])]


BOTH_1 = {JETSON: ["1.0.0"], X86: ["1.0.0"]}
X86_2 = {JETSON: ["1.0.0"], X86: ["2.0.0"]}
CRASHES = {
    "killed-create-then-up-converges": Crash(converges_to=BOTH_1),
    # Both targets' 1.0.0 exist when the CLI dies (the targets are packaged in parallel, so
    # killing at the first create would leave it to chance whether x86's 1.0.0 was made).
    "killed-create-then-a-model-change-leaves-nothing-behind": Crash(
        times=2, retrain="after", converges_to=X86_2, artifacts=2, settled=False
    ),
    "killed-replacement-then-up-converges": Crash(
        deployed=True, retrain="before", converges_to=X86_2
    ),
    # Only the CLI dies; its provider and language host are orphaned mid-create while a
    # retried up reclaims the versions they created. The orphans exit, undoing nothing.
    "orphaned-provider-exits-and-deletes-nothing-a-retry-reclaimed": Crash(
        times=2, orphans=True, converges_to=BOTH_1
    ),
    # The crashed replacement's instance holds x86 2.0.0 and jetson 1.0.0 (taken over) but is
    # in no state: a destroy counts it dead and leaves nothing.
    "killed-replacement-then-destroy-leaves-nothing": Crash(
        deployed=True, retrain="before", until_x86=("1.0.0", "2.0.0")
    ),
    # A second destroy finishes a killed one, and the stack is usable again.
    "killed-destroy-then-destroy-again-leaves-nothing": Crash(
        command="destroy", op="DeleteComponent", deployed=True, pinned=True
    ),
}


@pytest.mark.parametrize("crash", CRASHES.values(), ids=list(CRASHES))
def test_a_killed_command_then_recovery_converges_and_destroy_leaves_nothing(
    crash: Crash,
    new_stack: Callable[..., auto.Stack],
    model_config: dict[str, Any],
    env: dict[str, str],
    engine: Path,
    ep: LocalEndpoint,
    gg: Any,
    s3: Any,
    tmp_path: Path,
) -> None:
    model = model_config if crash.pinned else unpinned(model_config)
    stack = new_stack("dev", {"model": model, "artifactBucket": ARTIFACTS})
    if crash.deployed:
        stack.up()
    if crash.retrain == "before":
        retrain_x86(s3, tmp_path)
    if crash.orphans:  # slow waits for DEPLOYABLE keep the orphaned provider inside its create
        ep.inject_fault("DescribeComponent", "", 40, delay=0.3, service="greengrassv2")

    def until() -> bool:
        return not crash.until_x86 or _versions(gg).get(X86) == list(crash.until_x86)

    session = _kill_when(stack, env, engine, ep, crash, until)
    _recover(stack, pending_creates=crash.command == "up")
    if crash.retrain == "after":
        retrain_x86(s3, tmp_path)

    if crash.converges_to is not None:
        stack.up()
        if crash.orphans:
            ep.clear_faults()
            assert _wait_exited(session, 30) == []
            time.sleep(1)  # an orphan's undo would have run by now
            stack.refresh()
        assert _versions(gg) == crash.converges_to
        if crash.artifacts is not None:
            assert len(_keys(s3)) == crash.artifacts
        if crash.settled:
            stack.preview(expect_no_changes=True)
    stack.destroy()
    assert _versions(gg) == {}
    assert _keys(s3) == []
    if crash.command == "destroy":  # the stack is usable again
        set_config(stack, "model", model_config)
        stack.up()
        stack.destroy()
        assert _versions(gg) == {}
