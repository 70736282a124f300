"""A GreengrassDeployment with a rollout policy waits for its devices and judges the revision:
simulated core devices of the local endpoint succeed, fail a version, join late or stay
silent; a failed revision fails the update, or is reverted to the last one that met its
policy. Through the plugin process, as the engine runs it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from plugin_harness import PluginProviderProcess
from provider_process import ProviderError

from pulumi_dda.local import LocalEndpoint

pytest_plugins = ("deployment_fixtures",)

MODEL = "com.example.Inspector"
GROUP = "line-1"
FAST = {"success_percent": 100, "timeout_seconds": 10, "on_failure": "revert"}


def _news(group: str, version: str, rollout: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "target_arn": group,
        "components": {MODEL: {"component_version": version}},
        "tags": {},
        "owner": "pulumi-dda/test/line-1",
        **({"rollout": rollout} if rollout is not None else {}),
    }


@pytest.fixture
def line(ep: LocalEndpoint, publish_components: Callable[[dict[str, list[str]]], None]) -> str:
    publish_components({MODEL: ["1.0.0", "2.0.0"]})
    arn: str = ep.client("iot").create_thing_group(thingGroupName=GROUP)["thingGroupArn"]
    return arn


def _installed(gg: Any, device: str) -> str:
    listed = gg.list_installed_components(coreDeviceThingName=device)["installedComponents"]
    return ",".join(f"{c['componentName']}@{c['componentVersion']}" for c in listed)


def _up(
    provider: PluginProviderProcess, news: dict[str, Any], olds: tuple[str, dict[str, Any]] | None
) -> tuple[str, dict[str, Any]]:
    inputs, failures = provider.check(olds[1] if olds else {}, news)
    assert failures == []
    if olds is None:
        return provider.create(inputs)
    return olds[0], provider.update(olds[0], olds[1], inputs)


def test_a_rollout_where_every_device_succeeds_records_its_result(
    deployment_provider: PluginProviderProcess, ep: LocalEndpoint, gg: Any, line: str
) -> None:
    for name in ("core-a", "core-b", "core-c"):
        ep.add_core_device(name, thing_groups=[GROUP], delay=0.2)
    _, outs = _up(deployment_provider, _news(line, "1.0.0", FAST), None)
    result = outs["rollout_result"]
    assert (result["devices"], result["succeeded"], result["failed"]) == (3, 3, 0)
    assert result["outcome"] == "met"
    assert {_installed(gg, d) for d in ("core-a", "core-b", "core-c")} == {f"{MODEL}@1.0.0"}


def test_a_failing_revision_is_reverted_and_the_update_fails_with_one_line(
    deployment_provider: PluginProviderProcess, ep: LocalEndpoint, gg: Any, line: str
) -> None:
    ep.add_core_device("core-a", thing_groups=[GROUP], delay=0.1)
    ep.add_core_device(
        "core-b", thing_groups=[GROUP], delay=0.1, outcome="fail", fail_on=[f"{MODEL}@2.0.0"]
    )
    first = _up(deployment_provider, _news(line, "1.0.0", FAST), None)
    with pytest.raises(ProviderError) as info:
        _up(deployment_provider, _news(line, "2.0.0", FAST), first)
    message = str(info.value)
    assert "1 of 2 devices failed" in message
    assert "reverted to revision" in message
    assert f"{MODEL} 1.0.0" in message
    assert "Traceback" not in message
    assert {_installed(gg, d) for d in ("core-a", "core-b")} == {f"{MODEL}@1.0.0"}
    # A refresh keeps the resource: the revert runs exactly the components of its state.
    reverted = gg.list_deployments(targetArn=line)["deployments"][0]["deploymentId"]
    id_, read, _ = deployment_provider.read(first[0], first[1])
    assert (id_, read["deployment_id"]) == (first[0], reverted)
    assert read["components"] == first[1]["components"]
    # After a fix (a version the devices take), the next up converges.
    fixed = {**FAST, "success_percent": 50}
    _, outs = _up(deployment_provider, _news(line, "2.0.0", fixed), first)
    assert outs["rollout_result"]["succeeded"] == 1


def test_without_revert_the_update_fails_and_a_first_revision_has_nothing_to_revert_to(
    deployment_provider: PluginProviderProcess, ep: LocalEndpoint, line: str
) -> None:
    ep.add_core_device("core-a", thing_groups=[GROUP], outcome="fail")
    with pytest.raises(ProviderError) as info:
        _up(deployment_provider, _news(line, "1.0.0", FAST), None)
    assert "1 of 1 devices failed" in str(info.value)
    assert "nothing to revert to" in str(info.value)


def test_late_joiners_do_not_block_and_silence_times_out(
    deployment_provider: PluginProviderProcess, ep: LocalEndpoint, line: str
) -> None:
    ep.add_core_device("core-a", thing_groups=[GROUP], delay=0.1)
    ep.add_core_device("core-late", thing_groups=[GROUP], join_after=30)
    _, outs = _up(deployment_provider, _news(line, "1.0.0", FAST), None)
    assert (outs["rollout_result"]["devices"], outs["rollout_result"]["succeeded"]) == (1, 1)

    ep.add_core_device("core-silent", thing_groups=[GROUP], outcome="time_out")
    policy = {"timeout_seconds": 1, "on_failure": "fail"}
    with pytest.raises(ProviderError) as info:
        _up(deployment_provider, _news(line, "2.0.0", policy), None)
    assert "timed out" in str(info.value)


@pytest.mark.parametrize(
    ("rollout", "says"),
    [
        ({"success_percent": 150}, "rollout.success_percent must be a number in (0, 100]"),
        ({"timeout_seconds": 0}, "rollout.timeout_seconds must be a positive number"),
        ({"on_failure": "retry"}, "rollout.on_failure must be one of ['fail', 'revert']"),
    ],
)
def test_a_bad_policy_is_refused_at_check_naming_the_field(
    deployment_provider: PluginProviderProcess, line: str, rollout: dict[str, Any], says: str
) -> None:
    _, failures = deployment_provider.check({}, _news(line, "1.0.0", rollout))
    assert [prop for prop, reason in failures if says in reason] == ["rollout"], failures


def test_a_preview_of_a_new_revision_deploys_nothing_and_waits_for_no_device(
    deployment_provider: PluginProviderProcess, ep: LocalEndpoint, gg: Any, line: str
) -> None:
    ep.add_core_device("core-a", thing_groups=[GROUP], delay=0.1)
    first = _up(deployment_provider, _news(line, "1.0.0", FAST), None)
    ep.add_core_device("core-a", thing_groups=[GROUP], outcome="time_out")
    inputs, failures = deployment_provider.check(first[1], _news(line, "2.0.0", FAST))
    assert failures == []
    ep.clear_request_log()
    planned = deployment_provider.update(first[0], first[1], inputs, preview=True)
    operations = {r.operation for r in ep.request_log()}
    assert not operations & {"CreateDeployment", "ListEffectiveDeployments", "GetCoreDevice"}
    assert planned["deployment_id"] != first[1]["deployment_id"]  # unknown until it is made
    assert _installed(gg, "core-a") == f"{MODEL}@1.0.0"


def test_a_refresh_sees_devices_that_moved_outside_the_stack(
    deployment_provider: PluginProviderProcess, ep: LocalEndpoint, gg: Any, line: str
) -> None:
    for name in ("core-a", "core-b"):
        ep.add_core_device(name, thing_groups=[GROUP], delay=0.1)
    id_, outs = _up(deployment_provider, _news(line, "1.0.0", FAST), None)
    _, read, _ = deployment_provider.read(id_, outs)
    assert read["rollout_result"]["drifted"] == {}
    # By hand, outside the stack: core-b alone gets 2.0.0.
    thing = ep.client("iot").describe_thing(thingName="core-b")["thingArn"]
    gg.create_deployment(targetArn=thing, components={MODEL: {"componentVersion": "2.0.0"}})
    deadline = time.monotonic() + 10
    while _installed(gg, "core-b") != f"{MODEL}@2.0.0" and time.monotonic() < deadline:
        time.sleep(0.1)
    _, read, _ = deployment_provider.read(id_, outs)
    assert read["rollout_result"]["drifted"] == {"core-b": f"{MODEL} 2.0.0"}
    assert (read["rollout_result"]["devices"], read["rollout_result"]["succeeded"]) == (2, 2)
    assert "core-b took revision" in deployment_provider.stderr()
    assert "now runs com.example.Inspector 2.0.0: deployed outside this stack" in (
        deployment_provider.stderr()
    )
