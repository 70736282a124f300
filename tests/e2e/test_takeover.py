"""Two stacks, one thing group, under the real engine (issue 18, point 1).

A deployment replaces its target's whole component set, so a stack must not silently supersede
another stack's deployment: its preview fails naming that deployment and its owner; with
``take_over=True`` the preview shows what it takes over and ``up`` does it; the stack that lost
the group is told by its refresh and its preview, and does not deploy again on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from e2e_harness import ARTIFACTS, Events, set_config, thing_groups
from pulumi import automation as auto

from pulumi_dda.local import LocalEndpoint

TARGET = "x86_64-cpu"
RESOURCE = f"deployment-{TARGET}"


def _owner(stack: str) -> str:
    return f"dda-e2e/{stack}/{RESOURCE}"


def _history(gg: Any, group: str) -> list[tuple[str, bool, str]]:
    listed = gg.list_deployments(targetArn=group, historyFilter="ALL")["deployments"]
    return sorted(
        (d["deploymentId"], d["isLatestForTarget"], d["deploymentStatus"]) for d in listed
    )


def test_a_take_over_is_refused_then_explicit_and_the_loser_is_told(
    new_stack: Callable[..., auto.Stack],
    model_config: dict[str, Any],
    ep: LocalEndpoint,
    gg: Any,
) -> None:
    group = thing_groups(ep, [TARGET])[TARGET]
    model = {**model_config, "compiledModels": {TARGET: model_config["compiledModels"][TARGET]}}
    config = {"model": model, "artifactBucket": ARTIFACTS, "deployTo": {TARGET: group}}
    line_a = new_stack("line-a", config)
    line_b = new_stack("line-b", config)

    first = line_a.up().outputs["deployments"].value[TARGET]

    # B's preview refuses: one line naming A's deployment and how to proceed.
    with pytest.raises(auto.CommandError) as info:
        line_b.preview()
    shown = str(info.value)
    assert f"{group} already runs deployment {first} of {_owner('line-a')}; " in shown
    assert "set takeOver=True to take the target over" in shown
    assert "Traceback" not in shown
    with pytest.raises(auto.CommandError):
        line_b.up()
    assert _history(gg, group) == [(first, True, "ACTIVE")]

    # Explicitly: the preview shows what it takes over, up does it.
    set_config(line_b, "takeOver", True)
    events = Events()
    line_b.preview(on_event=events)
    assert events.ops[RESOURCE] == ["create"]
    assert events.inputs[RESOURCE]["takes_over"] == (
        f"takes over deployment {first} of {_owner('line-a')}"
    )
    second = line_b.up().outputs["deployments"].value[TARGET]
    assert sorted(_history(gg, group)) == sorted(
        [(first, False, "INACTIVE"), (second, True, "ACTIVE")]
    )

    # A's refresh tells it, keeps the resource, and deploys nothing.
    told = (
        f"deployment {first} for {group} was superseded by deployment {second} of "
        f"{_owner('line-b')}: take it back with takeOver=True or remove this resource"
    )
    events = Events()
    line_a.refresh(on_event=events)
    assert any(told in text for name, _, text in events.resource_messages if name == RESOURCE)
    urns = [r["urn"] for r in line_a.export_stack().deployment["resources"]]
    assert any(u.endswith(f"::{RESOURCE}") for u in urns)
    # A's preview (and up) fail with the same line instead of re-deploying.
    with pytest.raises(auto.CommandError) as info:
        line_a.preview()
    assert told in str(info.value)
    with pytest.raises(auto.CommandError):
        line_a.up()
    assert sorted(_history(gg, group)) == sorted(
        [(first, False, "INACTIVE"), (second, True, "ACTIVE")]
    )
