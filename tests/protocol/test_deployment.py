"""GreengrassDeployment's lifecycle through the real dynamic-provider gRPC server and local AWS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from plugin_harness import PluginProviderProcess
from provider_process import REGION, ProviderError
from pulumi.output import Unknown
from pulumi.runtime.proto import provider_pb2
from pulumi.runtime.rpc import UNKNOWN

from pulumi_dda.local import LocalEndpoint

pytest_plugins = ("deployment_fixtures",)

Provider = PluginProviderProcess
ACCOUNT = "123456789012"
DEPLOY_OWNER = "pulumi-dda/test/line-1"
OTHER_OWNER = "pulumi-dda/other/line-1"
INSPECTOR = "com.example.Inspector"
CAMERA = "com.example.Camera"
NONE = provider_pb2.DiffResponse.DIFF_NONE
SOME = provider_pb2.DiffResponse.DIFF_SOME


@pytest.fixture
def deployment_news(
    thing_groups: list[str], publish_components: Callable[[dict[str, list[str]]], None]
) -> dict[str, Any]:
    """Inputs of a deployment of two components to the first thing group."""
    publish_components({INSPECTOR: ["1.0.0", "1.1.0"], CAMERA: ["2.0.0"]})
    return {
        "target_arn": thing_groups[0],
        "components": {
            INSPECTOR: {
                "component_version": "1.0.0",
                "configuration_update": {"merge": '{"intervalSeconds": 2}', "reset": ["/debug"]},
            },
            CAMERA: {"component_version": "2.0.0"},
        },
        "deployment_name": "line-1",
        "deployment_policies": {"failureHandlingPolicy": "DO_NOTHING"},
        "iot_job_configuration": {},
        "tags": {"team": "vision"},
        "region": "",
        "role_arn": "",
        "take_over": False,
        "owner": DEPLOY_OWNER,
        "deployment_id": None,
        "arn": None,
        "iot_job_id": None,
        "iot_job_arn": None,
        "deployment_status": None,
        "revision_count": None,
        "takes_over": None,
    }


def _up(provider: Provider, news: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    inputs, failures = provider.check({}, news)
    assert failures == []
    id_, outs = provider.create(inputs)
    return id_, inputs, outs


def _edit(
    provider: Provider, outs: dict[str, Any], news: dict[str, Any], **changes: Any
) -> tuple[dict[str, Any], Any]:
    """Check the changed inputs against the state and diff them, as the engine does."""
    changed, failures = provider.check(outs, {**news, **changes})
    assert failures == []
    return changed, provider.diff(outs["target_arn"], outs, changed)


def _operations(ep: LocalEndpoint) -> list[str]:
    return [r.operation for r in ep.request_log() if r.service != "sts"]


def test_create_deploys_to_the_target_and_an_unchanged_diff_is_empty(
    deployment_provider: Provider, ep: LocalEndpoint, gg: Any, deployment_news: dict[str, Any]
) -> None:
    id_, inputs, outs = _up(deployment_provider, deployment_news)
    target = deployment_news["target_arn"]
    assert id_ == target == f"arn:aws:iot:{REGION}:{ACCOUNT}:thinggroup/line-1"
    deployment_id = outs["deployment_id"]
    assert outs["arn"] == f"arn:aws:greengrass:{REGION}:{ACCOUNT}:deployments:{deployment_id}"
    assert outs["deployment_status"] == "ACTIVE"
    assert outs["revision_count"] == 1
    assert outs["components"] == deployment_news["components"]
    found = gg.get_deployment(deploymentId=deployment_id)
    assert found["iotJobId"] == outs["iot_job_id"]
    assert found["iotJobArn"] == outs["iot_job_arn"]
    assert found["isLatestForTarget"] is True
    assert found["deploymentName"] == "line-1"
    assert found["deploymentPolicies"]["failureHandlingPolicy"] == "DO_NOTHING"
    assert found["components"] == {
        INSPECTOR: {
            "componentVersion": "1.0.0",
            "configurationUpdate": {"merge": '{"intervalSeconds": 2}', "reset": ["/debug"]},
        },
        CAMERA: {"componentVersion": "2.0.0"},
    }
    assert gg.list_tags_for_resource(resourceArn=outs["arn"])["tags"] == {
        "team": "vision",
        "pulumi-dda:owner": DEPLOY_OWNER,
        "pulumi-dda:keep-revisions": "3",
    }
    stderr = deployment_provider.stderr()
    assert f"pulumi-dda: deploying {CAMERA}, {INSPECTOR} to {target}" in stderr
    assert f"pulumi-dda: created deployment {deployment_id}" in stderr

    ep.clear_request_log()
    changed, failures = deployment_provider.check(outs, inputs)
    assert failures == []
    assert changed["takes_over"] == ""
    # check only reads: the target, and whose deployment it runs
    assert set(_operations(ep)) == {"DescribeThingGroup", "ListDeployments", "GetDeployment"}
    ep.clear_request_log()
    diff = deployment_provider.diff(outs["target_arn"], outs, changed)
    assert diff.changes == NONE
    assert list(diff.replaces) == []
    assert ep.request_log() == []  # diff calls no AWS API


def test_a_new_component_version_is_a_new_revision(
    deployment_provider: Provider, ep: LocalEndpoint, gg: Any, deployment_news: dict[str, Any]
) -> None:
    id_, _, outs = _up(deployment_provider, deployment_news)
    components = {**deployment_news["components"], INSPECTOR: {"component_version": "1.1.0"}}
    changed, diff = _edit(deployment_provider, outs, deployment_news, components=components)
    assert diff.changes == SOME
    assert list(diff.replaces) == []
    ep.clear_request_log()
    updated = deployment_provider.update(id_, outs, changed)
    # whose deployment the target runs, looked at again; the service supersedes, nothing cancelled
    assert _operations(ep) == ["ListDeployments", "GetDeployment", "CreateDeployment"]
    assert updated["deployment_id"] != outs["deployment_id"]
    assert updated["arn"].endswith(updated["deployment_id"])
    assert updated["iot_job_id"] != outs["iot_job_id"]
    assert updated["revision_count"] == 2
    assert updated["components"] == components
    assert updated["tags"] == {"team": "vision"}
    old = gg.get_deployment(deploymentId=outs["deployment_id"])
    new = gg.get_deployment(deploymentId=updated["deployment_id"])
    assert (old["isLatestForTarget"], old["deploymentStatus"]) == (False, "INACTIVE")
    assert (new["isLatestForTarget"], new["deploymentStatus"]) == (True, "ACTIVE")
    assert new["components"][INSPECTOR] == {"componentVersion": "1.1.0"}
    assert new["revisionId"] == "2"
    _, again = _edit(deployment_provider, updated, changed)
    assert again.changes == NONE


def test_tags_only_change_retags_without_a_new_revision(
    deployment_provider: Provider, ep: LocalEndpoint, gg: Any, deployment_news: dict[str, Any]
) -> None:
    id_, _, outs = _up(deployment_provider, deployment_news)
    changed, diff = _edit(deployment_provider, outs, deployment_news, tags={"env": "dev"})
    assert diff.changes == SOME
    assert list(diff.replaces) == []
    ep.clear_request_log()
    updated = deployment_provider.update(id_, outs, changed)
    assert sorted(_operations(ep)) == ["TagResource", "UntagResource"]
    assert updated["deployment_id"] == outs["deployment_id"]
    assert updated["revision_count"] == 1
    assert updated["tags"] == {"env": "dev"}
    assert gg.list_tags_for_resource(resourceArn=outs["arn"])["tags"] == {
        "env": "dev",
        "pulumi-dda:owner": DEPLOY_OWNER,
        "pulumi-dda:keep-revisions": "3",
    }


def test_target_change_replaces_new_deployment_first(
    deployment_provider: Provider,
    gg: Any,
    deployment_news: dict[str, Any],
    thing_groups: list[str],
) -> None:
    old_id, _, old = _up(deployment_provider, deployment_news)
    changed, diff = _edit(deployment_provider, old, deployment_news, target_arn=thing_groups[1])
    assert diff.changes == SOME
    assert list(diff.replaces) == ["target_arn"]
    assert diff.deleteBeforeReplace is False
    new_id, new = deployment_provider.create(changed)
    assert new_id == thing_groups[1]
    deployment_provider.delete(old_id, old)
    assert gg.list_deployments(targetArn=thing_groups[0])["deployments"] == []
    latest = gg.list_deployments(targetArn=thing_groups[1])["deployments"]
    assert [(d["deploymentId"], d["deploymentStatus"]) for d in latest] == [
        (new["deployment_id"], "ACTIVE")
    ]


def test_role_change_on_the_same_target_keeps_the_replacement(
    deployment_provider: Provider, ep: LocalEndpoint, gg: Any, deployment_news: dict[str, Any]
) -> None:
    old_id, _, old = _up(deployment_provider, deployment_news)
    role = f"arn:aws:iam::{ACCOUNT}:role/greengrass-deployer"
    ep.clear_request_log()
    changed, diff = _edit(deployment_provider, old, deployment_news, role_arn=role)
    assert list(diff.replaces) == ["role_arn"]
    new_id, new = deployment_provider.create(changed)
    # the role is assumed once (at check), and the create uses the same clients
    assert [r.operation for r in ep.request_log()].count("AssumeRole") == 1
    assert f"the new deployment supersedes its current one ({old['deployment_id']})" in (
        deployment_provider.stderr()
    )
    ep.clear_request_log()
    deployment_provider.delete(old_id, old)
    assert "CancelDeployment" not in _operations(ep)  # the old revision was superseded
    found = gg.get_deployment(deploymentId=new["deployment_id"])
    assert (found["isLatestForTarget"], found["deploymentStatus"]) == (True, "ACTIVE")
    assert new_id == old_id


def test_delete_cancels_then_deletes_and_is_idempotent(
    deployment_provider: Provider, ep: LocalEndpoint, gg: Any, deployment_news: dict[str, Any]
) -> None:
    id_, _, outs = _up(deployment_provider, deployment_news)
    ep.clear_request_log()
    deployment_provider.delete(id_, outs)
    assert _operations(ep) == ["GetDeployment", "CancelDeployment", "DeleteDeployment"]
    with pytest.raises(gg.exceptions.ResourceNotFoundException):
        gg.get_deployment(deploymentId=outs["deployment_id"])
    deployment_provider.delete(id_, outs)
    assert f"deployment {outs['deployment_id']} of {id_} is already gone" in (
        deployment_provider.stderr()
    )


def _supersede_as_itself(gg: Any, outs: dict[str, Any]) -> None:
    """A revision of the same owner the state does not know (a create that crashed)."""
    gg.create_deployment(
        targetArn=outs["target_arn"],
        components={CAMERA: {"componentVersion": "2.0.0"}},
        tags={"pulumi-dda:owner": DEPLOY_OWNER},
    )


def _supersede_then_delete(gg: Any, outs: dict[str, Any]) -> None:
    """Superseded by another owner whose deployment is gone again (its stack destroyed)."""
    created = gg.create_deployment(
        targetArn=outs["target_arn"],
        components={CAMERA: {"componentVersion": "2.0.0"}},
        tags={"pulumi-dda:owner": OTHER_OWNER},
    )
    _cancel_and_delete(gg, {"deployment_id": created["deploymentId"]})


def _cancel(gg: Any, outs: dict[str, Any]) -> None:
    gg.cancel_deployment(deploymentId=outs["deployment_id"])


def _cancel_and_delete(gg: Any, outs: dict[str, Any]) -> None:
    _cancel(gg, outs)
    gg.delete_deployment(deploymentId=outs["deployment_id"])


@pytest.mark.parametrize(
    ("out_of_band", "reason"),
    [
        (_supersede_as_itself, "was superseded outside this stack"),
        (_supersede_then_delete, "was superseded outside this stack"),
        (_cancel, "was cancelled outside this stack"),
        (_cancel_and_delete, "no longer exists"),
    ],
)
def test_read_drops_a_revision_changed_outside_the_stack(
    deployment_provider: Provider,
    gg: Any,
    deployment_news: dict[str, Any],
    out_of_band: Any,
    reason: str,
) -> None:
    id_, _, outs = _up(deployment_provider, deployment_news)
    out_of_band(gg, outs)
    read_id, read_outs, _ = deployment_provider.read(id_, outs)
    assert (read_id, read_outs) == ("", {})
    assert f"deployment {outs['deployment_id']} of {id_} {reason}" in deployment_provider.stderr()
    # The next up creates a fresh revision, which is the target's latest again.
    _, _, again = _up(deployment_provider, deployment_news)
    assert gg.get_deployment(deploymentId=again["deployment_id"])["isLatestForTarget"] is True


def test_read_refreshes_status_and_tag_drift(
    deployment_provider: Provider, gg: Any, deployment_news: dict[str, Any]
) -> None:
    id_, inputs, outs = _up(deployment_provider, deployment_news)
    read_id, same, same_inputs = deployment_provider.read(id_, outs)
    assert (read_id, same) == (id_, outs)
    assert same_inputs == {k: inputs[k] for k in same_inputs}
    gg.tag_resource(resourceArn=outs["arn"], tags={"team": "someone-else", "cost": "42"})
    _, drifted, drifted_inputs = deployment_provider.read(id_, outs)
    assert drifted["tags"] == drifted_inputs["tags"] == {"team": "someone-else", "cost": "42"}
    assert drifted_inputs["components"] == deployment_news["components"]
    _, diff = _edit(deployment_provider, drifted, deployment_news)
    assert diff.changes == SOME  # the next up re-tags
    assert list(diff.replaces) == []


def _merging(merge: str) -> dict[str, Any]:
    return {CAMERA: {"component_version": "2.0.0", "configuration_update": {"merge": merge}}}


BAD_INPUTS = [
    ({"target_arn": ""}, "target_arn", "target_arn is required"),
    ({"target_arn": "arn:aws:iot:us-east-1:123456789012:policy/x"}, "target_arn", "thing group"),
    ({"target_arn": "line-1"}, "target_arn", "not an IoT thing"),
    ({"components": {}}, "components", "non-empty"),
    ({"components": {INSPECTOR: {"component_version": "1.0"}}}, "components", "semantic"),
    (
        {"components": {INSPECTOR: {"component_version": "1.0.0", "colour": "red"}}},
        "components",
        "unknown keys",
    ),
    ({"components": _merging("{x")}, "components", f"{CAMERA}.configuration_update.merge is not"),
    ({"components": _merging("[]")}, "components", "must be the JSON text of an object"),
    ({"deployment_policies": "ROLLBACK"}, "deployment_policies", "mapping"),
    ({"tags": {"pulumi-dda:owner": "me"}}, "tags", "reserved prefix"),
    ({"region": "eu-west-1"}, "region", "is not target_arn's us-east-1"),
    ({"role_arn": "deployer"}, "role_arn", "not an IAM role ARN"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "prop", "text"), BAD_INPUTS)
def test_check_failures_name_the_input(
    deployment_provider: Provider,
    ep: LocalEndpoint,
    deployment_news: dict[str, Any],
    change: dict[str, Any],
    prop: str,
    text: str,
) -> None:
    _inputs, failures = deployment_provider.check({}, {**deployment_news, **change})
    assert len(failures) == 1
    assert failures[0][0] == prop
    assert text in failures[0][1]


def test_unknown_inputs_in_preview_pass_check_and_show_as_changes(
    deployment_provider: Provider, deployment_news: dict[str, Any]
) -> None:
    components = {
        INSPECTOR: {"component_version": UNKNOWN, "configuration_update": {"merge": UNKNOWN}},
        CAMERA: UNKNOWN,
    }
    news = {**deployment_news, "target_arn": UNKNOWN, "components": components}
    inputs, failures = deployment_provider.check({}, news)
    assert failures == []
    assert isinstance(inputs["target_arn"], Unknown)
    bad = {**news, "components": {**components, "x": {"component_version": "one"}}}
    _, failures = deployment_provider.check({}, bad)
    assert [prop for prop, _ in failures] == ["components"]  # known parts are still checked

    id_, _, outs = _up(deployment_provider, deployment_news)
    diff = deployment_provider.diff(id_, outs, inputs)
    assert diff.changes == SOME
    assert list(diff.replaces) == ["target_arn"]


def test_throttling_on_create_deployment_is_retried(
    deployment_provider: Provider, ep: LocalEndpoint, gg: Any, deployment_news: dict[str, Any]
) -> None:
    ep.inject_fault("CreateDeployment", "ThrottlingException", count=3)
    _id, _, outs = _up(deployment_provider, deployment_news)
    created = [r for r in ep.request_log() if r.operation == "CreateDeployment"]
    assert [r.injected_fault for r in created] == [True, True, True, False]
    assert [d["deploymentId"] for d in gg.list_deployments()["deployments"]] == [
        outs["deployment_id"]
    ]


def test_a_missing_component_version_fails_create_naming_the_target(
    deployment_provider: Provider, gg: Any, deployment_news: dict[str, Any]
) -> None:
    absent = {**deployment_news["components"], CAMERA: {"component_version": "9.0.0"}}
    inputs, _ = deployment_provider.check({}, {**deployment_news, "components": absent})
    with pytest.raises(ProviderError) as info:
        deployment_provider.create(inputs)
    message = str(info.value)
    assert f"creating a Greengrass deployment for {deployment_news['target_arn']}" in message
    assert "ResourceNotFoundException" in message
    assert gg.list_deployments()["deployments"] == []


# Whose deployment a target runs (issue 18, point 1) -----------------------------------------


def _foreign(gg: Any, target: str, owner: str) -> str:
    """Another owner's deployment of ``target`` (``owner`` empty: made by hand)."""
    tags = {"pulumi-dda:owner": owner} if owner else {}
    created = gg.create_deployment(
        targetArn=target,
        deploymentName="by-hand" if not owner else "other-stack",
        components={CAMERA: {"componentVersion": "2.0.0"}},
        **({"tags": tags} if tags else {}),
    )
    return str(created["deploymentId"])


@pytest.mark.parametrize(
    ("owner", "made_by"),
    [(OTHER_OWNER, f'"other-stack" of {OTHER_OWNER}'), ("", '"by-hand" (not made by pulumi-dda)')],
)
def test_check_refuses_a_target_another_owner_deploys_to(
    deployment_provider: Provider,
    ep: LocalEndpoint,
    gg: Any,
    deployment_news: dict[str, Any],
    owner: str,
    made_by: str,
) -> None:
    target = deployment_news["target_arn"]
    theirs = _foreign(gg, target, owner)
    inputs, failures = deployment_provider.check({}, deployment_news)
    assert len(failures) == 1
    prop, reason = failures[0]
    assert prop == "target_arn"
    assert reason.startswith(f"{target} already runs deployment {theirs} {made_by}; ")
    assert "set take_over=True to take the target over" in reason
    # create looks again just before deploying (another stack may deploy after check)
    ep.clear_request_log()
    with pytest.raises(ProviderError, match=f"already runs deployment {theirs}"):
        deployment_provider.create(inputs)
    assert "CreateDeployment" not in _operations(ep)
    latest = gg.list_deployments(targetArn=target)["deployments"]
    assert [(d["deploymentId"], d["deploymentStatus"]) for d in latest] == [(theirs, "ACTIVE")]


def test_take_over_supersedes_it_and_check_says_so(
    deployment_provider: Provider, gg: Any, deployment_news: dict[str, Any]
) -> None:
    target = deployment_news["target_arn"]
    theirs = _foreign(gg, target, OTHER_OWNER)
    news = {**deployment_news, "take_over": True}
    inputs, failures = deployment_provider.check({}, news)
    assert failures == []
    assert inputs["takes_over"] == f'takes over deployment {theirs} "other-stack" of {OTHER_OWNER}'
    id_, outs = deployment_provider.create(inputs)
    assert outs["takes_over"] == ""
    assert f'took over deployment {theirs} "other-stack"' in deployment_provider.stderr()
    old = gg.get_deployment(deploymentId=theirs)
    assert (old["isLatestForTarget"], old["deploymentStatus"]) == (False, "INACTIVE")
    assert gg.get_deployment(deploymentId=outs["deployment_id"])["isLatestForTarget"] is True
    # Ours now: nothing more to take over, and an unchanged program is no change.
    again, failures = deployment_provider.check(inputs, news)
    assert (failures, again["takes_over"]) == ([], "")
    assert deployment_provider.diff(id_, outs, again).changes == NONE
    # Changing only the permission is no change either.
    quiet, _ = deployment_provider.check(inputs, deployment_news)
    assert deployment_provider.diff(id_, outs, quiet).changes == NONE


def test_the_superseded_stack_is_told_at_read_and_check_and_can_take_it_back(
    deployment_provider: Provider, ep: LocalEndpoint, gg: Any, deployment_news: dict[str, Any]
) -> None:
    id_, inputs, outs = _up(deployment_provider, deployment_news)
    mine, target = outs["deployment_id"], outs["target_arn"]
    other_news = {**deployment_news, "owner": OTHER_OWNER, "take_over": True}
    _, _, theirs = _up(deployment_provider, other_news)
    told = (
        f"deployment {mine} for {target} was superseded by deployment "
        f'{theirs["deployment_id"]} "line-1" of {OTHER_OWNER}: take it back with '
        "take_over=True or remove this resource"
    )

    # refresh: kept in state (not dropped, so not deployed again), status refreshed, told.
    ep.clear_request_log()
    read_id, read_outs, _ = deployment_provider.read(id_, outs)
    assert (read_id, read_outs["deployment_id"]) == (id_, mine)
    assert read_outs["deployment_status"] == "INACTIVE"
    assert told in deployment_provider.stderr()
    # preview: check fails with the same line, and nothing is deployed.
    _, failures = deployment_provider.check(inputs, deployment_news)
    assert failures == [("target_arn", told)]
    assert "CreateDeployment" not in _operations(ep)

    # take_over=True takes it back: a new revision in place.
    changed, diff = _edit(deployment_provider, read_outs, deployment_news, take_over=True)
    assert changed["takes_over"] == (
        f'takes over deployment {theirs["deployment_id"]} "line-1" of {OTHER_OWNER}'
    )
    assert (diff.changes, list(diff.replaces)) == (SOME, [])
    updated = deployment_provider.update(id_, read_outs, changed)
    assert updated["revision_count"] == 2
    latest = gg.list_deployments(targetArn=target)["deployments"]
    assert [d["deploymentId"] for d in latest] == [updated["deployment_id"]]

    # The other stack, superseded now, removes its resource: its own record goes, ours stays.
    deployment_provider.delete(id_, {**theirs, "owner": OTHER_OWNER})
    with pytest.raises(gg.exceptions.ResourceNotFoundException):
        gg.get_deployment(deploymentId=theirs["deployment_id"])
    found = gg.get_deployment(deploymentId=updated["deployment_id"])
    assert (found["isLatestForTarget"], found["deploymentStatus"]) == (True, "ACTIVE")


@pytest.mark.parametrize("kind", ["thinggroup", "thing"])
def test_a_target_that_does_not_exist_fails_check_naming_it(
    deployment_provider: Provider,
    ep: LocalEndpoint,
    deployment_news: dict[str, Any],
    kind: str,
) -> None:
    missing = f"arn:aws:iot:{REGION}:{ACCOUNT}:{kind}/nowhere"
    _, failures = deployment_provider.check({}, {**deployment_news, "target_arn": missing})
    what = "thing group" if kind == "thinggroup" else "thing"
    assert failures == [
        ("target_arn", f"target_arn: the IoT {what} nowhere does not exist ({missing})")
    ]
    if kind == "thing":  # once it exists, check passes
        thing = ep.client("iot").create_thing(thingName="nowhere")["thingArn"]
        assert thing == missing
        _, failures = deployment_provider.check({}, {**deployment_news, "target_arn": missing})
        assert failures == []
