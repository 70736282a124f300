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
from pathlib import Path
from typing import Any

from e2e_harness import ARTIFACTS, MODELS, model_components, set_config
from pulumi import automation as auto

from pulumi_dda import samples
from pulumi_dda.local import LocalEndpoint

WAIT_SECONDS = 120


def _kill_when(
    stack: auto.Stack,
    env: dict[str, str],
    engine: Path,
    command: list[str],
    ep: Any,
    op: str,
    *,
    times: int = 1,
    until: Callable[[], bool] = lambda: True,
    cli_only: bool = False,
) -> int:
    """Run ``pulumi <command>`` and kill its process group (or with ``cli_only`` the CLI alone,
    orphaning its language host and provider) once the endpoint saw ``op`` ``times`` times
    and ``until()`` holds. Returns the id of the session every process it started is in (the
    engine starts plugins in process groups of their own)."""
    ep.clear_request_log()
    process = subprocess.Popen(
        [str(engine / "bin" / "pulumi"), *command, "--yes", "--stack", stack.name],
        cwd=stack.workspace.work_dir,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + WAIT_SECONDS
    try:
        while sum(r.operation == op for r in ep.request_log()) < times or not until():
            assert process.poll() is None, f"pulumi {command[0]} ended before {op}"
            assert time.monotonic() < deadline, f"no {op} within {WAIT_SECONDS} s"
            time.sleep(0.02)
    finally:
        if cli_only:
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


def _recover(stack: auto.Stack, *, pending_creates: bool = True) -> None:
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


def _omitted(model_config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in model_config.items() if k != "componentVersion"}


def test_killed_create_then_up_converges(
    new_stack: Callable[..., auto.Stack],
    model_config: dict[str, Any],
    env: dict[str, str],
    engine: Path,
    ep: LocalEndpoint,
    gg: Any,
    s3: Any,
) -> None:
    stack = new_stack("dev", {"model": _omitted(model_config), "artifactBucket": ARTIFACTS})
    _kill_when(stack, env, engine, ["up", "--skip-preview"], ep, "CreateComponentVersion")
    _recover(stack)
    stack.up()
    assert _versions(gg) == {
        "model-defects-jetson-xavier": ["1.0.0"],
        "model-defects-x86-64-cpu": ["1.0.0"],
    }
    stack.preview(expect_no_changes=True)
    stack.destroy()
    assert _versions(gg) == {}
    assert _keys(s3) == []


def test_killed_create_then_a_model_change_leaves_nothing_behind(
    new_stack: Callable[..., auto.Stack],
    model_config: dict[str, Any],
    env: dict[str, str],
    engine: Path,
    ep: LocalEndpoint,
    gg: Any,
    s3: Any,
    tmp_path: Path,
) -> None:
    stack = new_stack("dev", {"model": _omitted(model_config), "artifactBucket": ARTIFACTS})
    # Both targets' 1.0.0 exist when the CLI dies (the targets are packaged in parallel, so
    # killing at the first create would leave it to chance whether x86's 1.0.0 was made).
    _kill_when(stack, env, engine, ["up", "--skip-preview"], ep, "CreateComponentVersion", times=2)
    _recover(stack)
    changed = samples.write_compiled_model(tmp_path / "x86-v2.tar.gz", seed=31)
    s3.upload_file(str(changed), MODELS, "neo/x86/model.tar.gz")
    stack.up()
    assert _versions(gg) == {
        "model-defects-jetson-xavier": ["1.0.0"],
        "model-defects-x86-64-cpu": ["2.0.0"],
    }
    assert len(_keys(s3)) == 2
    stack.destroy()
    assert _versions(gg) == {}
    assert _keys(s3) == []


def test_killed_replacement_then_up_converges(
    new_stack: Callable[..., auto.Stack],
    model_config: dict[str, Any],
    env: dict[str, str],
    engine: Path,
    ep: LocalEndpoint,
    gg: Any,
    s3: Any,
    tmp_path: Path,
) -> None:
    stack = new_stack("dev", {"model": _omitted(model_config), "artifactBucket": ARTIFACTS})
    stack.up()
    changed = samples.write_compiled_model(tmp_path / "x86-v2.tar.gz", seed=32)
    s3.upload_file(str(changed), MODELS, "neo/x86/model.tar.gz")
    _kill_when(stack, env, engine, ["up", "--skip-preview"], ep, "CreateComponentVersion")
    _recover(stack)
    stack.up()
    assert _versions(gg) == {
        "model-defects-jetson-xavier": ["1.0.0"],
        "model-defects-x86-64-cpu": ["2.0.0"],
    }
    stack.preview(expect_no_changes=True)
    stack.destroy()
    assert _versions(gg) == {}
    assert _keys(s3) == []


def test_orphaned_provider_exits_and_deletes_nothing_a_retry_reclaimed(
    new_stack: Callable[..., auto.Stack],
    model_config: dict[str, Any],
    env: dict[str, str],
    engine: Path,
    ep: LocalEndpoint,
    gg: Any,
    s3: Any,
) -> None:
    """Only the CLI dies; its provider and language host are orphaned mid-create while a
    retried ``up`` reclaims the versions they created. The orphans exit, undoing nothing."""
    stack = new_stack("dev", {"model": _omitted(model_config), "artifactBucket": ARTIFACTS})
    # Slow waits for DEPLOYABLE keep the orphaned provider inside its create meanwhile.
    ep.inject_fault("DescribeComponent", "", 40, delay=0.3, service="greengrassv2")
    session = _kill_when(
        stack,
        env,
        engine,
        ["up", "--skip-preview"],
        ep,
        "CreateComponentVersion",
        times=2,
        cli_only=True,
    )
    _recover(stack)
    stack.up()
    ep.clear_faults()
    assert _wait_exited(session, 30) == []
    time.sleep(1)  # an orphan's undo would have run by now
    stack.refresh()
    stack.preview(expect_no_changes=True)
    assert _versions(gg) == {
        "model-defects-jetson-xavier": ["1.0.0"],
        "model-defects-x86-64-cpu": ["1.0.0"],
    }
    stack.destroy()
    assert _versions(gg) == {}
    assert _keys(s3) == []


def test_killed_replacement_then_destroy_leaves_nothing(
    new_stack: Callable[..., auto.Stack],
    model_config: dict[str, Any],
    env: dict[str, str],
    engine: Path,
    ep: LocalEndpoint,
    gg: Any,
    s3: Any,
    tmp_path: Path,
) -> None:
    """The crashed replacement's instance holds x86 2.0.0 and jetson 1.0.0 (taken over) but is
    in no state: a destroy counts it dead and leaves nothing."""
    stack = new_stack("dev", {"model": _omitted(model_config), "artifactBucket": ARTIFACTS})
    stack.up()
    changed = samples.write_compiled_model(tmp_path / "x86-v2.tar.gz", seed=33)
    s3.upload_file(str(changed), MODELS, "neo/x86/model.tar.gz")

    def replacement_created() -> bool:
        return _versions(gg).get("model-defects-x86-64-cpu") == ["1.0.0", "2.0.0"]

    command = ["up", "--skip-preview"]
    _kill_when(stack, env, engine, command, ep, "CreateComponentVersion", until=replacement_created)
    _recover(stack)
    stack.destroy()
    assert _versions(gg) == {}
    assert _keys(s3) == []


def test_killed_destroy_then_destroy_again_leaves_nothing(
    new_stack: Callable[..., auto.Stack],
    model_config: dict[str, Any],
    env: dict[str, str],
    engine: Path,
    ep: LocalEndpoint,
    gg: Any,
    s3: Any,
) -> None:
    stack = new_stack("dev", {"model": model_config, "artifactBucket": ARTIFACTS})
    stack.up()
    _kill_when(stack, env, engine, ["destroy", "--skip-preview"], ep, "DeleteComponent")
    _recover(stack, pending_creates=False)
    stack.destroy()
    assert _versions(gg) == {}
    assert _keys(s3) == []
    set_config(stack, "model", model_config)  # the stack is usable again
    stack.up()
    stack.destroy()
    assert _versions(gg) == {}
