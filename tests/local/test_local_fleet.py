"""Simulated core devices acting on deployments, seen through the data-plane operations."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from dda_local_helpers import ACCOUNT, REGION, recipe, wait_state
from fleet_helpers import MODEL, deploy, effective, installed, settled, statuses, wait_for
from test_local_cli import read_line

from pulumi_dda.local import READY_PREFIX, AdminClient, LocalEndpoint

THING = f"arn:aws:iot:{REGION}:{ACCOUNT}:thing/"


@pytest.fixture
def versions(deployable: Callable[..., str]) -> None:
    for version in ("1.0.0", "2.0.0", "3.0.0"):
        deployable(MODEL, version)


def test_a_group_deployment_reaches_every_device_and_stays_active(
    gg: Any, control: Any, versions: None, thing_group: Callable[[str], str]
) -> None:
    group = thing_group("line1")
    for name in ("core-a", "core-b"):
        control.add_core_device(name, thing_groups=["line1"], delay=0.2)
    assert gg.list_core_devices(thingGroupArn=group)["coreDevices"] == []
    deployment = deploy(gg, group, "1.0.0")
    assert statuses(gg, "core-a", deployment) == ["IN_PROGRESS"]
    assert installed(gg, "core-a") == {}, "nothing changes before the install succeeded"
    wait_for(lambda: settled(gg, ["core-a", "core-b"], deployment, "SUCCEEDED"))
    for name in ("core-a", "core-b"):
        assert installed(gg, name) == {MODEL: ("1.0.0", "RUNNING")}
        device = gg.get_core_device(coreDeviceThingName=name)
        assert (device["status"], device["runtime"]) == ("HEALTHY", "aws_nucleus_classic")
        created = gg.get_deployment(deploymentId=deployment)["creationTimestamp"]
        assert device["lastStatusUpdateTimestamp"] >= created
        record = effective(gg, name, deployment)
        assert (record["targetArn"], "statusDetails" in record) == (group, False)
    listed = gg.list_core_devices(thingGroupArn=group)["coreDevices"]
    assert [d["coreDeviceThingName"] for d in listed] == ["core-a", "core-b"]
    assert gg.get_deployment(deploymentId=deployment)["deploymentStatus"] == "ACTIVE"
    with pytest.raises(ClientError) as info:
        gg.get_core_device(coreDeviceThingName="core-x")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_failed_install_rolls_back_and_says_why(
    ep: LocalEndpoint, gg: Any, versions: None, thing_group: Callable[[str], str]
) -> None:
    group = thing_group("line1")
    ep.add_core_device("core-a", thing_groups=["line1"])
    ep.add_core_device("core-b", thing_groups=["line1"], outcome="fail", fail_on=[f"{MODEL}@2.0.0"])
    first = deploy(gg, group, "1.0.0")
    wait_for(lambda: settled(gg, ["core-a", "core-b"], first, "SUCCEEDED"))
    second = deploy(gg, group, "2.0.0")
    wait_for(lambda: statuses(gg, "core-b", second) == ["FAILED"])
    record = effective(gg, "core-b", second)
    assert record["statusDetails"] == {
        "errorStack": ["DEPLOYMENT_FAILURE", "COMPONENT_UPDATE_ERROR", "COMPONENT_BROKEN"],
        "errorTypes": ["USER_COMPONENT_ERROR"],
    }
    assert record["reason"].startswith("FAILED_ROLLBACK_COMPLETE")
    assert MODEL in record["reason"]
    assert installed(gg, "core-b") == {MODEL: ("1.0.0", "RUNNING")}
    assert gg.get_core_device(coreDeviceThingName="core-b")["status"] == "HEALTHY"
    wait_for(lambda: installed(gg, "core-a") == {MODEL: ("2.0.0", "RUNNING")})
    assert statuses(gg, "core-b", first) == ["SUCCEEDED"], "history keeps the older revision"
    history = gg.list_deployments(targetArn=group, historyFilter="ALL")["deployments"]
    assert [(d["revisionId"], d["deploymentStatus"]) for d in history] == [
        ("2", "ACTIVE"),
        ("1", "INACTIVE"),
    ]
    latest = gg.list_deployments(targetArn=group, historyFilter="LATEST_ONLY")["deployments"]
    assert [d["deploymentId"] for d in latest] == [second]


def test_do_nothing_leaves_the_new_version_broken(
    ep: LocalEndpoint, gg: Any, versions: None, thing_group: Callable[[str], str]
) -> None:
    group = thing_group("line1")
    ep.add_core_device("core-a", thing_groups=["line1"])
    ep.add_core_device("core-b", thing_groups=["line1"], outcome="fail", fail_on=[MODEL])
    policies = {"failureHandlingPolicy": "DO_NOTHING"}
    deployment = deploy(gg, group, "1.0.0", deploymentPolicies=policies)
    wait_for(lambda: statuses(gg, "core-b", deployment) == ["FAILED"])
    assert "FAILED_ROLLBACK_NOT_REQUESTED" in effective(gg, "core-b", deployment)["reason"]
    assert installed(gg, "core-b") == {MODEL: ("1.0.0", "BROKEN")}
    broken = gg.list_installed_components(coreDeviceThingName="core-b")["installedComponents"]
    assert broken[0]["lifecycleStatusCodes"] == ["INSTALL_ERROR"]
    unhealthy = gg.list_core_devices(status="UNHEALTHY")["coreDevices"]
    assert [d["coreDeviceThingName"] for d in unhealthy] == ["core-b"]
    listed = gg.list_core_devices(thingGroupArn=group)["coreDevices"]
    assert [d["coreDeviceThingName"] for d in listed] == ["core-a"], "only successful deployers"


def test_a_thing_deployment_ends_and_can_be_deleted_without_cancelling(
    ep: LocalEndpoint, gg: Any, versions: None
) -> None:
    ep.add_core_device("core-a")
    ep.add_core_device("core-b", outcome="fail")
    good = deploy(gg, THING + "core-a", "1.0.0")
    bad = deploy(gg, THING + "core-b", "1.0.0")
    wait_for(lambda: gg.get_deployment(deploymentId=good)["deploymentStatus"] == "COMPLETED")
    wait_for(lambda: gg.get_deployment(deploymentId=bad)["deploymentStatus"] == "FAILED")
    assert statuses(gg, "core-a", good) == ["COMPLETED"]
    assert installed(gg, "core-b") == {}
    for deployment_id in (good, bad):
        with pytest.raises(ClientError) as info:
            gg.cancel_deployment(deploymentId=deployment_id)
        assert info.value.response["Error"]["Code"] == "ConflictException"
        gg.delete_deployment(deploymentId=deployment_id)
    assert gg.list_deployments(historyFilter="ALL")["deployments"] == []
    assert installed(gg, "core-a") == {MODEL: ("1.0.0", "RUNNING")}, "deleting changes no device"


def test_an_offline_device_stays_queued_until_it_comes_back(
    ep: LocalEndpoint, gg: Any, versions: None, thing_group: Callable[[str], str]
) -> None:
    group = thing_group("line1")
    ep.add_core_device("core-a", thing_groups=["line1"])
    first = deploy(gg, group, "1.0.0")
    wait_for(lambda: settled(gg, ["core-a"], first, "SUCCEEDED"))
    seen = gg.get_core_device(coreDeviceThingName="core-a")["lastStatusUpdateTimestamp"]
    ep.add_core_device("core-a", online=False)
    second = deploy(gg, group, "2.0.0")
    ep.add_core_device("core-a", online=False, reconnect_after=0.5)
    assert statuses(gg, "core-a", second) == ["QUEUED"]
    assert installed(gg, "core-a") == {MODEL: ("1.0.0", "RUNNING")}
    assert gg.get_core_device(coreDeviceThingName="core-a")["lastStatusUpdateTimestamp"] == seen
    wait_for(lambda: statuses(gg, "core-a", second) == ["SUCCEEDED"])
    assert installed(gg, "core-a") == {MODEL: ("2.0.0", "RUNNING")}


def test_devices_joining_during_a_rollout_get_it(
    ep: LocalEndpoint, gg: Any, iot: Any, versions: None, thing_group: Callable[[str], str]
) -> None:
    group = thing_group("line1")
    ep.add_core_device("core-a", thing_groups=["line1"])
    ep.add_core_device("core-late", thing_groups=["line1"], join_after=1.5)
    ep.add_core_device("core-new")
    deployment = deploy(gg, group, "1.0.0")
    assert statuses(gg, "core-late", deployment) == []
    iot.add_thing_to_thing_group(thingGroupName="line1", thingName="core-new")
    wait_for(lambda: settled(gg, ["core-a", "core-late", "core-new"], deployment, "SUCCEEDED"))
    joined = effective(gg, "core-late", deployment)["creationTimestamp"].timestamp()
    created = gg.get_deployment(deploymentId=deployment)["creationTimestamp"].timestamp()
    assert joined > created + 0.5


def test_rollout_rate_spaces_the_devices(
    ep: LocalEndpoint, gg: Any, versions: None, thing_group: Callable[[str], str]
) -> None:
    ep.configure(minute_seconds=0.6)
    group = thing_group("line1")
    names = ["core-1", "core-2", "core-3"]
    for name in names:
        ep.add_core_device(name, thing_groups=["line1"])
    config = {"jobExecutionsRolloutConfig": {"maximumPerMinute": 2}}
    deployment = deploy(gg, group, "1.0.0", iotJobConfiguration=config)
    assert [statuses(gg, n, deployment) for n in names] == [["SUCCEEDED"], ["QUEUED"], ["QUEUED"]]
    wait_for(lambda: settled(gg, names, deployment, "SUCCEEDED"))
    done = [effective(gg, n, deployment)["modifiedTimestamp"].timestamp() for n in names]
    assert done[1] - done[0] == pytest.approx(0.3, abs=0.01)
    assert done[2] - done[1] == pytest.approx(0.3, abs=0.01)


def test_abort_config_cancels_the_rest_of_the_rollout(
    ep: LocalEndpoint, gg: Any, versions: None, thing_group: Callable[[str], str]
) -> None:
    ep.configure(minute_seconds=0.4)
    group = thing_group("line1")
    names = ["core-1", "core-2", "core-3", "core-4"]
    for name in names:
        ep.add_core_device(name, thing_groups=["line1"], outcome="fail")
    config = {
        "jobExecutionsRolloutConfig": {"maximumPerMinute": 4},
        "abortConfig": {
            "criteriaList": [
                {
                    "failureType": "FAILED",
                    "action": "CANCEL",
                    "thresholdPercentage": 50,
                    "minNumberOfExecutedThings": 2,
                }
            ]
        },
    }
    deployment = deploy(gg, group, "1.0.0", iotJobConfiguration=config)
    wait_for(lambda: gg.get_deployment(deploymentId=deployment)["deploymentStatus"] == "CANCELED")
    assert [statuses(gg, n, deployment) for n in names] == [
        ["FAILED"],
        ["FAILED"],
        ["CANCELED"],
        ["CANCELED"],
    ]


def test_in_progress_timeout_times_a_stuck_device_out(
    ep: LocalEndpoint, gg: Any, versions: None
) -> None:
    ep.configure(minute_seconds=0.3)
    ep.add_core_device("core-stuck", outcome="time_out")
    config = {"timeoutConfig": {"inProgressTimeoutInMinutes": 1}}
    deployment = deploy(gg, THING + "core-stuck", "1.0.0", iotJobConfiguration=config)
    assert statuses(gg, "core-stuck", deployment) == ["IN_PROGRESS"]
    wait_for(lambda: statuses(gg, "core-stuck", deployment) == ["TIMED_OUT"])
    assert effective(gg, "core-stuck", deployment)["statusDetails"] == {
        "errorStack": [],
        "errorTypes": [],
    }
    assert gg.get_deployment(deploymentId=deployment)["deploymentStatus"] == "FAILED"
    assert installed(gg, "core-stuck") == {}


def test_a_new_revision_cancels_what_the_old_one_had_not_delivered(
    ep: LocalEndpoint, gg: Any, versions: None, thing_group: Callable[[str], str]
) -> None:
    group = thing_group("line1")
    ep.add_core_device("core-never", thing_groups=["line1"], online=False)
    ep.add_core_device("core-off", thing_groups=["line1"])
    ep.add_core_device("core-off", online=False)
    first = deploy(gg, group, "1.0.0")
    second = deploy(gg, group, "2.0.0")
    assert statuses(gg, "core-off", first) == ["CANCELED"]
    assert statuses(gg, "core-off", second) == ["QUEUED"]
    assert gg.get_deployment(deploymentId=first)["deploymentStatus"] == "INACTIVE"
    gg.cancel_deployment(deploymentId=second)
    assert statuses(gg, "core-off", second) == ["CANCELED"]
    listed = [d["coreDeviceThingName"] for d in gg.list_core_devices()["coreDevices"]]
    assert listed == ["core-off"], "a device that never connected is no core device yet"


def test_subdeployments_follow_the_documented_rules(
    ep: LocalEndpoint, gg: Any, iot: Any, versions: None, thing_group: Callable[[str], str]
) -> None:
    parent, child, other = thing_group("line1"), thing_group("canary"), thing_group("line2")
    ep.add_core_device("core-a", thing_groups=["line1"])
    ep.add_core_device("core-b", thing_groups=["line1", "canary"])
    ep.add_core_device("core-c", thing_groups=["canary"])
    with pytest.raises(ClientError, match="no deployment to create a subdeployment of"):
        deploy(gg, child, "2.0.0", parentTargetArn=parent)
    base = deploy(gg, parent, "1.0.0")
    sub = deploy(gg, child, "2.0.0", parentTargetArn=parent)
    wait_for(lambda: statuses(gg, "core-b", sub) == ["SUCCEEDED"])
    assert installed(gg, "core-b") == {MODEL: ("2.0.0", "RUNNING")}
    assert installed(gg, "core-a") == {MODEL: ("1.0.0", "RUNNING")}
    assert statuses(gg, "core-c", sub) == [], "only devices of the parent deployment"
    listed = gg.list_deployments(parentTargetArn=parent)["deployments"]
    assert [(d["deploymentId"], d["parentTargetArn"]) for d in listed] == [(sub, parent)]
    deploy(gg, other, "1.0.0")
    with pytest.raises(ClientError, match="already used for subdeployments"):
        deploy(gg, child, "2.0.0", parentTargetArn=other)
    with pytest.raises(ClientError) as info:
        deploy(gg, THING + "core-b", "2.0.0", parentTargetArn=parent)
    assert info.value.response["Error"]["Code"] == "ValidationException"
    revised = deploy(gg, parent, "3.0.0")
    assert gg.get_deployment(deploymentId=sub)["isLatestForTarget"] is False
    assert gg.list_deployments(parentTargetArn=parent)["deployments"] == []
    wait_for(lambda: settled(gg, ["core-a", "core-b"], revised, "SUCCEEDED"))
    assert installed(gg, "core-b") == {MODEL: ("3.0.0", "RUNNING")}
    assert statuses(gg, "core-a", base) == ["SUCCEEDED"]


def test_all_topology_adds_dependencies_at_the_newest_satisfying_version(
    ep: LocalEndpoint,
    gg: Any,
    deployable: Callable[..., str],
    component: Callable[..., dict[str, Any]],
    artifact: Callable[..., str],
    thing_group: Callable[[str], str],
) -> None:
    for version in ("1.0.0", "1.4.0", "2.0.0"):
        deployable("com.example.LocalServer", version)
    needs = {"com.example.LocalServer": {"VersionRequirement": "^1.0.0"}}
    uri = artifact(f"{MODEL}/1.0.0/model.zip")
    arn = component(recipe(MODEL, "1.0.0", [uri], ComponentDependencies=needs))["arn"]
    wait_state(gg, arn, "DEPLOYABLE")
    group = thing_group("line1")
    ep.add_core_device("core-a", thing_groups=["line1"])
    deployment = deploy(gg, group, "1.0.0")
    wait_for(lambda: settled(gg, ["core-a"], deployment, "SUCCEEDED"))
    assert installed(gg, "core-a") == {MODEL: ("1.0.0", "RUNNING")}
    everything = gg.list_installed_components(coreDeviceThingName="core-a", topologyFilter="ALL")
    roots = {c["componentName"]: c["isRoot"] for c in everything["installedComponents"]}
    assert roots == {MODEL: True, "com.example.LocalServer": False}
    assert installed(gg, "core-a", "ALL")["com.example.LocalServer"] == ("1.4.0", "RUNNING")


def test_cli_core_devices_are_scripted_and_survive_reset() -> None:
    spec = "name=core-1,thing_groups=line1+canary,outcome=fail,fail_on=m@1.0.0,delay=0.5"
    command = [sys.executable, "-m", "pulumi_dda.local", "--port", "0", "--core-device", spec]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        url = read_line(process, timeout=60)[len(READY_PREFIX) :]
        admin = AdminClient(url)
        admin.wait_ready()
        admin.reset()
        (device,) = admin.core_devices()
        assert device["thing_name"] == "core-1"
        assert device["pending_groups"] == ["line1", "canary"], "groups do not exist yet"
        behaviour = device["behaviour"]
        assert (behaviour["outcome"], behaviour["fail_on"], behaviour["delay"]) == (
            "fail",
            ["m@1.0.0"],
            0.5,
        )
    finally:
        process.terminate()
        assert process.wait(timeout=20) == 0
    bad = subprocess.run(
        [*command[:-1], "name=core-2,outcome=explode"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2
    assert "outcome must be one of succeed, fail, time_out" in bad.stderr
