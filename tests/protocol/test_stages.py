"""Staged rollouts and revisions kept for a rollback, through the plugin process: a canary
stage gets each new revision first and gates the rest; a failed gate reverts the canary and
never reaches the line; a subdeployment stage; a bake time that catches a model breaking after
its install; the K newest revisions of a target keep their component versions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from plugin_harness import PluginProviderProcess
from provider_process import ProviderError

from pulumi_dda import greengrass
from pulumi_dda.local import LocalEndpoint

pytest_plugins = ("deployment_fixtures",)

MODEL = "com.example.Inspector"
OWNER = "pulumi-dda/test/line"
GATE = {"success_percent": 100, "timeout_seconds": 10}


def _news(line: str, version: str, **more: Any) -> dict[str, Any]:
    return {
        "target_arn": line,
        "components": {MODEL: {"component_version": version}},
        "tags": {},
        "owner": OWNER,
        **more,
    }


def _installed(gg: Any, device: str) -> str:
    listed = gg.list_installed_components(coreDeviceThingName=device)["installedComponents"]
    return ",".join(f"{c['componentName']}@{c['componentVersion']}" for c in listed)


def _revisions(gg: Any, target: str) -> list[str]:
    listed = gg.list_deployments(targetArn=target, historyFilter="ALL")["deployments"]
    return [d["deploymentId"] for d in listed]


Up = Callable[..., tuple[str, dict[str, Any]]]


@pytest.fixture
def up(deployment_provider: PluginProviderProcess) -> Up:
    def run(
        news: dict[str, Any], olds: tuple[str, dict[str, Any]] | None = None
    ) -> tuple[str, dict[str, Any]]:
        inputs, failures = deployment_provider.check(olds[1] if olds else {}, news)
        assert failures == []
        if olds is None:
            return deployment_provider.create(inputs)
        return olds[0], deployment_provider.update(olds[0], olds[1], inputs)

    return run


@pytest.fixture
def groups(
    ep: LocalEndpoint, publish_components: Callable[[dict[str, list[str]]], None]
) -> tuple[str, str]:
    """A canary thing group and a line thing group (disjoint), one device in the canary and two
    on the line; versions 1.0.0 to 3.0.0 of the model."""
    publish_components({MODEL: ["1.0.0", "2.0.0", "3.0.0"]})
    iot = ep.client("iot")
    canary = iot.create_thing_group(thingGroupName="canary")["thingGroupArn"]
    line = iot.create_thing_group(thingGroupName="line")["thingGroupArn"]
    ep.add_core_device("canary-1", thing_groups=["canary"], delay=0.1)
    for name in ("line-1", "line-2"):
        ep.add_core_device(name, thing_groups=["line"], delay=0.1)
    return canary, line


def test_the_canary_gets_each_revision_first_and_the_line_only_after_its_gate(
    up: Up, deployment_provider: PluginProviderProcess, gg: Any, groups: tuple[str, str]
) -> None:
    canary, line = groups
    stages = [{"target_arn": canary, "rollout": GATE}]
    first = up(_news(line, "1.0.0", stages=stages, rollout=GATE))
    assert set(first[1]["stage_deployments"]) == {canary}
    news = _news(line, "2.0.0", stages=stages, rollout=GATE)
    _, failures = deployment_provider.check(first[1], news)
    assert failures == []
    said = deployment_provider.stderr()
    assert f"stage 1/2 (thing group canary): gets {MODEL} 2.0.0 (was 1.0.0)" in said
    assert "gate: 100% of its devices within 10 s" in said
    assert "stage 2/2 (thing group line): gets it after the gates; 100% of its devices" in said

    _, outs = up(news, first)
    canary_rev = outs["stage_deployments"][canary]
    assert canary_rev != first[1]["stage_deployments"][canary]
    found = {d: gg.get_deployment(deploymentId=d) for d in (canary_rev, outs["deployment_id"])}
    # The line's revision was created only after the canary's device had succeeded.
    canary_done = gg.list_effective_deployments(coreDeviceThingName="canary-1")
    finished = next(
        e for e in canary_done["effectiveDeployments"] if e["deploymentId"] == canary_rev
    )["modifiedTimestamp"]
    assert found[outs["deployment_id"]]["creationTimestamp"] >= finished
    assert {_installed(gg, d) for d in ("canary-1", "line-1", "line-2")} == {f"{MODEL}@2.0.0"}
    assert "stage 1/2 (thing group canary): gate passed: 1/1 devices succeeded" in (
        deployment_provider.stderr()
    )


def test_a_failed_gate_reverts_the_canary_and_never_reaches_the_line(
    up: Up, ep: LocalEndpoint, gg: Any, groups: tuple[str, str]
) -> None:
    canary, line = groups
    ep.add_core_device("canary-1", outcome="fail", fail_on=[f"{MODEL}@2.0.0"], delay=0.1)
    stages = [{"target_arn": canary, "rollout": GATE}]
    first = up(_news(line, "1.0.0", stages=stages))
    line_revisions = _revisions(gg, line)
    with pytest.raises(ProviderError) as info:
        up(_news(line, "2.0.0", stages=stages), first)
    message = str(info.value)
    assert "stage 1/2 (thing group canary)" in message
    assert "1 of 1 devices failed" in message
    assert "reverted to revision" in message
    assert f"{MODEL} 1.0.0" in message
    assert "later stages untouched" in message
    assert "Traceback" not in message
    assert _revisions(gg, line) == line_revisions  # no revision ever reached the line
    assert {_installed(gg, d) for d in ("canary-1", "line-1", "line-2")} == {f"{MODEL}@1.0.0"}


def test_a_subdeployment_stage_reaches_the_child_group_first(
    up: Up,
    ep: LocalEndpoint,
    gg: Any,
    publish_components: Callable[[dict[str, list[str]]], None],
) -> None:
    publish_components({MODEL: ["1.0.0", "2.0.0"]})
    iot = ep.client("iot")
    line = iot.create_thing_group(thingGroupName="plant")["thingGroupArn"]
    canary = iot.create_thing_group(thingGroupName="plant-canary", parentGroupName="plant")[
        "thingGroupArn"
    ]
    ep.add_core_device("c-1", thing_groups=["plant", "plant-canary"], delay=0.1)
    ep.add_core_device("p-1", thing_groups=["plant"], delay=0.1)
    stages = [{"target_arn": canary, "rollout": GATE, "subdeployment": True}]
    first = up(_news(line, "1.0.0", stages=stages, rollout=GATE))
    assert first[1]["stage_deployments"] == {}  # skipped: no parent deployment yet
    _, outs = up(_news(line, "2.0.0", stages=stages, rollout=GATE), first)
    sub = gg.get_deployment(deploymentId=outs["stage_deployments"][canary])
    assert sub["parentTargetArn"] == line
    assert {_installed(gg, d) for d in ("c-1", "p-1")} == {f"{MODEL}@2.0.0"}


def test_a_bake_time_catches_a_model_that_breaks_after_its_install(
    up: Up, ep: LocalEndpoint, gg: Any, groups: tuple[str, str]
) -> None:
    canary, line = groups
    ep.add_core_device("canary-1", break_on=[f"{MODEL}@2.0.0"], delay=0.1)
    stages = [{"target_arn": canary, "rollout": {**GATE, "bake_seconds": 1}}]
    first = up(_news(line, "1.0.0", stages=stages))
    with pytest.raises(ProviderError) as info:
        up(_news(line, "2.0.0", stages=stages), first)
    assert "UNHEALTHY after it succeeded" in str(info.value)
    assert "while baking" in str(info.value)
    assert {_installed(gg, d) for d in ("line-1", "line-2")} == {f"{MODEL}@1.0.0"}


@pytest.mark.parametrize(
    ("stage", "says"),
    [
        ({"target_arn": "nope"}, "stages[0].target_arn 'nope' is not an IoT thing"),
        ({"target_arn": "LINE"}, "is already a target of this rollout"),
        ({"target_arn": "CANARY", "speed": 2}, "stages[0]: unknown keys ['speed']"),
        (
            {"target_arn": "CANARY", "rollout": {"bake_seconds": -1}},
            "stages[0].rollout.bake_seconds must be a number of seconds >= 0",
        ),
        (
            {"target_arn": "CANARY", "rollout": {"on_failure": "fail"}},
            "stages[0].rollout.on_failure 'fail': a stage whose gate fails is always reverted",
        ),
        (
            {"target_arn": "CANARY", "subdeployment": True},
            "stages[0].target_arn: a subdeployment's thing group must be a child of line",
        ),
        (
            {"target_arn": "MISSING"},
            "stages[0].target_arn: target_arn: the IoT thing group missing does not exist",
        ),
    ],
)
def test_a_bad_stage_fails_check_with_one_line_naming_it(
    deployment_provider: PluginProviderProcess,
    groups: tuple[str, str],
    stage: dict[str, Any],
    says: str,
) -> None:
    canary, line = groups
    names = {"CANARY": canary, "LINE": line, "MISSING": canary.replace("canary", "missing")}
    stage = {**stage, "target_arn": names.get(stage["target_arn"], stage["target_arn"])}
    _, failures = deployment_provider.check({}, _news(line, "1.0.0", stages=[stage]))
    assert len(failures) == 1
    prop, reason = failures[0]
    assert prop == "stages"
    assert says in reason


def test_the_newest_revisions_keep_their_versions_for_a_rollback(
    up: Up, gg: Any, groups: tuple[str, str]
) -> None:
    _, line = groups
    state = up(_news(line, "1.0.0", keep_revisions=2))
    for version in ("2.0.0", "3.0.0"):
        state = up(_news(line, version, keep_revisions=2), state)
    kept = greengrass.deployed_component_versions(gg)
    assert (MODEL, "3.0.0") in kept
    assert (MODEL, "2.0.0") in kept
    assert "kept for rollback: revision 2 of the 2 it keeps" in kept[(MODEL, "2.0.0")][0]
    assert (MODEL, "1.0.0") not in kept
    # Keeping more is an in-place re-tag, and brings 1.0.0 back into the window.
    up(_news(line, "3.0.0", keep_revisions=3), state)
    assert (MODEL, "1.0.0") in greengrass.deployed_component_versions(gg)
