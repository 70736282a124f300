"""Fleet rollouts under the real engine: the repository's program, ``local`` stack, simulated
core devices of the local endpoint (what ``make demo`` runs).

A model reaches every device and ``up`` waits for them; a bad model is stopped on the canary,
reverted there and never reaches the rest of the line; ``pulumi-dda rollback`` writes the model
the devices still run into the stack file, and its ``up`` takes the kept versions back; after a
fix the next ``up`` converges.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from e2e_harness import (
    ARTIFACTS,
    MODELS,
    REGION,
    Events,
    copy_repo_project,
    demo,
    make_stack,
    retrain_x86,
    set_config,
    thing_groups,
    unpinned,
)
from pulumi import automation as auto

from pulumi_dda import samples
from pulumi_dda.local import LocalEndpoint
from pulumi_dda.plugin.schema import NAME_TO_SNAKE
from pulumi_dda.sources import parse_s3_uri

X86 = "model-defect-classifier-x86-64-cpu"
JETSON = "model-defect-classifier-jetson-xavier"


def _effective(gg: Any, device: str) -> list[str]:
    """The deployment ids a device ever received."""
    listed = gg.list_effective_deployments(coreDeviceThingName=device)["effectiveDeployments"]
    return [e["deploymentId"] for e in listed]


def _rollback(project: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(Path(sys.prefix) / "bin" / "pulumi-dda"),
            "rollback",
            "--stack",
            "local",
            "--stacks-dir",
            str(project / "stacks"),
        ],
        cwd=project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_bad_model_stops_at_the_canary_and_a_rollback_is_a_stack_file_change(
    env: dict[str, str], engine: Path, ep: LocalEndpoint, tmp_path: Path
) -> None:
    project = copy_repo_project(tmp_path / "project")
    config = demo.stack_config()
    demo.bootstrap(ep.url, config, tmp_path / "samples")
    stack = make_stack(project, "local", env, engine, {})
    gg = ep.client("greengrassv2")

    up = stack.up(on_event=Events())
    assert demo.fleet(ep, config) == {
        "dda-local-x86-01": f"{X86} 1.0.0",
        "dda-local-x86-02": f"{X86} 1.0.0",
        "dda-local-jetson-01": f"{JETSON} 1.0.0",
    }
    stack.preview(expect_no_changes=True)

    # A bad model: its preview names both stages and changes nothing, on AWS or on a device.
    canary = demo.bad_model(ep, config, tmp_path)
    line_device = "dda-local-x86-02"
    _preview_names_the_stages(stack, gg)
    received = _effective(gg, line_device)

    with pytest.raises(auto.CommandError) as info:
        stack.up()
    message = str(info.value)
    assert "stage 1/2 (thing group dda-x86-64-cpu-canary)" in message
    assert "1 of 1 devices failed" in message
    assert "reverted to revision" in message
    assert "later stages untouched" in message
    assert _effective(gg, line_device) == received  # the line never saw the bad model
    assert demo.fleet(ep, config)[canary] == f"{X86} 1.0.0"
    assert demo.fleet(ep, config)[line_device] == f"{X86} 1.0.0"

    model = _rollback_pins_the_model_of_then(project, env, ep)
    stack.up()
    components = stack.outputs()["components"].value
    assert components["x86_64-cpu"]["component_version"] == "1.0.0"  # the kept version
    assert demo.fleet(ep, config)[canary] == f"{X86} 1.0.0"
    stack.preview(expect_no_changes=True)

    # A fix: a good retrained model under a new key; the canary takes it and so does the line.
    bucket = parse_s3_uri(model["compiledModels"]["x86_64-cpu"])[0]
    fixed_key = "neo/x86-run3/model.tar.gz"
    good = samples.write_compiled_model(tmp_path / "good.tar.gz", seed=5)
    ep.client("s3").upload_file(str(good), bucket, fixed_key)
    compiled = {**model["compiledModels"], "x86_64-cpu": f"s3://{bucket}/{fixed_key}"}
    set_config(stack, "pulumi-dda:model", {**model, "compiledModels": compiled})
    stack.up()
    assert {demo.fleet(ep, config)[d] for d in (canary, line_device)} == {f"{X86} 3.0.0"}
    stack.preview(expect_no_changes=True)
    assert up.summary.result == "succeeded"

    # After a successful update, a rollback returns the devices to the model before it.
    done = _rollback(project, env)
    assert done.returncode == 0, done.stderr
    stack.up()
    assert {demo.fleet(ep, config)[d] for d in (canary, line_device)} == {f"{X86} 1.0.0"}
    stack.preview(expect_no_changes=True)

    stack.destroy()
    left = {c["componentName"] for c in gg.list_components(scope="PRIVATE")["components"]}
    assert not any(name.startswith("model-") for name in left)


def _preview_names_the_stages(stack: auto.Stack, gg: Any) -> None:
    deployments_before = gg.list_deployments(historyFilter="ALL")["deployments"]
    events = Events()
    stack.preview(on_event=events)
    said = "\n".join(text for _, _, text in events.resource_messages)
    assert f"stage 1/2 (thing group dda-x86-64-cpu-canary): gets {X86} 2.0.0 (was 1.0.0)" in said
    assert "gate: 100% of its devices within 60 s, bake 2 s" in said
    assert "stage 2/2 (thing group dda-x86-64-cpu): gets it after the gates" in said
    assert gg.list_deployments(historyFilter="ALL")["deployments"] == deployments_before


def _rollback_pins_the_model_of_then(
    project: Path, env: dict[str, str], ep: LocalEndpoint
) -> dict[str, Any]:
    """``pulumi-dda rollback``: a reviewable change of the stack file, only its model block,
    each source pinned to the object version of the last successful update; returns it."""
    file = project / "stacks" / "Pulumi.local.yaml"
    before = yaml.safe_load(file.read_text())
    done = _rollback(project, env)
    assert done.returncode == 0, done.stderr
    assert "last update failed: back to the model it still runs" in done.stdout
    after = yaml.safe_load(file.read_text())
    x86_uri = before["config"]["pulumi-dda:model"]["compiledModels"]["x86_64-cpu"]
    bucket, key = parse_s3_uri(x86_uri)
    listed = ep.client("s3").list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    first = min(listed, key=lambda v: v["LastModified"])
    model: dict[str, Any] = after["config"].pop("pulumi-dda:model")
    assert model["compiledModels"]["x86_64-cpu"] == f"{x86_uri}?versionId={first['VersionId']}"
    before["config"].pop("pulumi-dda:model")
    assert after == before
    return model


TARGET = "x86_64-cpu"


def test_offline_and_late_devices_do_not_block_and_silence_times_out(
    new_stack: Callable[..., auto.Stack],
    model_config: dict[str, Any],
    ep: LocalEndpoint,
    s3: Any,
    tmp_path: Path,
) -> None:
    group = thing_groups(ep, [TARGET])[TARGET]
    name = group.rsplit("/", 1)[1]
    for device in ("on-1", "on-2", "offline"):
        ep.add_core_device(device, thing_groups=[name], delay=1.0)
    ep.client("greengrassv2").list_core_devices()  # each has connected once
    ep.add_core_device("offline", online=False)
    model = {**model_config, "compiledModels": {TARGET: model_config["compiledModels"][TARGET]}}
    policy = {"success_percent": 60, "timeout_seconds": 30, "on_failure": "fail"}
    config = {
        "model": unpinned(model),
        "artifactBucket": ARTIFACTS,
        "deployTo": {TARGET: group},
        "rollout": policy,
    }
    stack = new_stack("fleet", config)
    up = stack.up(on_event=_join_once_rolling_out(ep, "late", name))
    deployment = up.outputs["deployments"].value[TARGET]
    result = _rollout_result(stack)
    assert result["deployment_id"] == deployment
    # The offline device is counted and pending; the late one was not there when it started.
    assert (result["devices"], result["succeeded"], result["pending"]) == (3, 2, 1)
    assert deployment in _effective(ep.client("greengrassv2"), "late")  # it joined meanwhile
    stack.preview(expect_no_changes=True)

    # Below the threshold with revert: the previous revision again, the devices back on it.
    component = f"{model['componentName']}-x86-64-cpu"
    ep.add_core_device("on-2", fail_on=[f"{component}@2.0.0"], outcome="fail")
    retrain_x86(s3, tmp_path)
    strict = {**policy, "success_percent": 100, "on_failure": "revert"}
    set_config(stack, "rollout", strict)
    with pytest.raises(auto.CommandError) as info:
        stack.up()
    assert "1 of 4 devices failed" in str(info.value)
    assert "reverted to revision" in str(info.value)
    gg = ep.client("greengrassv2")
    for device in ("on-1", "on-2"):
        assert _installed(gg, device) == f"{component}@1.0.0"
    stack.refresh()  # follows the revert, which runs the components of the state
    latest = ep.client("greengrassv2").list_deployments(targetArn=group)["deployments"][0]
    assert latest["deploymentId"] != deployment
    assert _rollout_result(stack)["deployment_id"] == latest["deploymentId"]
    # A fix (this policy tolerates the one device): the next up converges.
    set_config(stack, "rollout", {**strict, "success_percent": 50})
    stack.up()
    assert _installed(gg, "on-1") == f"{component}@2.0.0"
    stack.preview(expect_no_changes=True)

    # Silence: a new model that no device answers for within the time limit fails the update.
    for device in ("on-1", "on-2", "late"):
        ep.add_core_device(device, outcome="time_out")
    retrain_x86(s3, tmp_path, seed=43)
    set_config(stack, "rollout", {**policy, "timeout_seconds": 2})
    with pytest.raises(auto.CommandError) as info:
        stack.up()
    assert "timed out: 0/4 devices succeeded" in str(info.value)
    assert "Traceback" not in str(info.value)


def _join_once_rolling_out(
    ep: LocalEndpoint, device: str, group: str
) -> Callable[[auto.EngineEvent], None]:
    """An event handler that adds a core device to ``group`` when ``up`` first reports the
    devices of a rollout: a device that joins mid-rollout."""
    joined: list[str] = []

    def on_event(event: auto.EngineEvent) -> None:
        diag = event.diagnostic_event
        if not joined and diag is not None and "rollout of" in diag.message:
            ep.add_core_device(device, thing_groups=[group], delay=0.2)
            joined.append(device)

    return on_event


def _installed(gg: Any, device: str) -> str:
    listed = gg.list_installed_components(coreDeviceThingName=device)["installedComponents"]
    return ",".join(f"{c['componentName']}@{c['componentVersion']}" for c in listed)


def _rollout_result(stack: auto.Stack) -> dict[str, Any]:
    resources = stack.export_stack().deployment["resources"]
    found = next(r for r in resources if r["urn"].endswith(f"::deployment-{TARGET}"))
    result: dict[str, Any] = found["outputs"]["rolloutResult"]
    return {NAME_TO_SNAKE.get(k, k): v for k, v in result.items()}


def test_versions_kept_for_rollback_survive_another_stacks_destroy_and_go_with_their_own(
    new_stack: Callable[..., auto.Stack],
    model_config: dict[str, Any],
    ep: LocalEndpoint,
    s3: Any,
    gg: Any,
    tmp_path: Path,
) -> None:
    group = thing_groups(ep, [TARGET])[TARGET]
    model = unpinned(
        {**model_config, "compiledModels": {TARGET: model_config["compiledModels"][TARGET]}}
    )
    config = {"model": model, "artifactBucket": ARTIFACTS, "deployTo": {TARGET: group}}
    line = new_stack("line", {**config, "keepRevisions": 2})
    line.up()
    retrain_x86(s3, tmp_path)
    line.up()  # 2.0.0 on the line; 1.0.0 kept for a rollback (revision 2 of 2)
    # Another stack with the same component builds the first model again and is destroyed.
    first_bytes = "neo/x86-first/model.tar.gz"
    s3.upload_file(str(tmp_path / "in" / "x.tar.gz"), MODELS, first_bytes)
    lab_model = {**model, "compiledModels": {TARGET: f"s3://{MODELS}/{first_bytes}"}}
    lab = new_stack("lab", {"model": lab_model, "artifactBucket": ARTIFACTS})
    assert lab.up().outputs["components"].value["model"][TARGET]["component_version"] == "1.0.0"
    lab.destroy()
    component = f"{model['componentName']}-x86-64-cpu"
    assert _versions(gg, component) == ["1.0.0", "2.0.0"]
    # A replacement of the line's model (another role) keeps them too.
    set_config(line, "roleArn", "arn:aws:iam::123456789012:role/dda-deployer")
    events = Events()
    line.up(on_event=events)
    assert "replace" in events.ops["model"]
    assert _versions(gg, component) == ["1.0.0", "2.0.0"]

    # A third revision pushes 1.0.0 out of the window: the next up of the line deletes it.
    retrain_x86(s3, tmp_path, seed=3)
    line.up()
    assert _versions(gg, component) == ["2.0.0", "3.0.0"]
    line.destroy()
    assert _versions(gg, component) == []


def _versions(gg: Any, component: str) -> list[str]:
    arn = f"arn:aws:greengrass:{REGION}:123456789012:components:{component}"
    try:
        listed = gg.list_component_versions(arn=arn)["componentVersions"]
    except gg.exceptions.ResourceNotFoundException:
        return []
    return sorted(v["componentVersion"] for v in listed)
