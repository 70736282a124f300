"""Component-version identity under the real engine: pin/unpin, one-target changes moving only
that target's deployment, deployments made outside the stack, adoption across stacks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from e2e_harness import ARTIFACTS, MODELS, Events, model_components, set_config, thing_groups
from pulumi import automation as auto

from pulumi_dda import samples
from pulumi_dda.local import LocalEndpoint


def _versions(gg: Any, name: str) -> list[str]:
    arn = f"arn:aws:greengrass:us-east-1:123456789012:components:{name}"
    return sorted(
        v["componentVersion"] for v in gg.list_component_versions(arn=arn)["componentVersions"]
    )


def _latest(gg: Any) -> dict[str, dict[str, Any]]:
    listed = gg.list_deployments(historyFilter="LATEST_ONLY")["deployments"]
    return {d["targetArn"]: gg.get_deployment(deploymentId=d["deploymentId"]) for d in listed}


def test_pin_and_unpin_the_resolved_version_only_update_state(
    new_stack: Callable[..., auto.Stack], model_config: dict[str, Any], gg: Any
) -> None:
    omitted = {k: v for k, v in model_config.items() if k != "componentVersion"}
    stack = new_stack("dev", {"model": omitted, "artifactBucket": ARTIFACTS})
    up = stack.up()
    resolved = {c["component_version"] for c in up.outputs["components"].value["model"].values()}
    assert resolved == {"1.0.0"}
    published = _published(gg)
    for model in ({**omitted, "componentVersion": "1.0.0"}, omitted):
        set_config(stack, "model", model)
        assert stack.up().summary.resource_changes == {"update": 1, "same": 1}
        stack.preview(expect_no_changes=True)
        assert _published(gg) == published
    # After the unpin the state is the program: an unrelated change shows only itself.
    set_config(stack, "tags", {"team": "vision"})
    text = stack.preview(diff=True).stdout
    inputs = text.partition("--outputs:--")[0].partition("Resources:")[0]
    changed = [
        " ".join(line.split()) for line in inputs.splitlines() if line.lstrip()[:2] in ("~ ", "- ")
    ]
    assert [line for line in changed if "dda:index" not in line] == ["~ tags: {"], text
    stack.destroy()


def _published(gg: Any) -> list[str]:
    return sorted(
        f"{c['componentName']}@{v['componentVersion']}"
        for c in gg.list_components(scope="PRIVATE")["components"]
        for v in gg.list_component_versions(arn=c["arn"])["componentVersions"]
    )


def test_one_target_change_moves_only_that_targets_deployment(
    new_stack: Callable[..., auto.Stack],
    model_config: dict[str, Any],
    ep: LocalEndpoint,
    gg: Any,
    s3: Any,
    tmp_path: Path,
) -> None:
    groups = thing_groups(ep, model_config["compiledModels"])
    omitted = {k: v for k, v in model_config.items() if k != "componentVersion"}
    config = {"model": omitted, "artifactBucket": ARTIFACTS, "deployTo": groups}
    stack = new_stack("dev", config)
    stack.up()
    before = _latest(gg)

    # A tags-only change of the model: every deployment stays as it is, in preview and up.
    set_config(stack, "tags", {"team": "vision"})
    events = Events()
    stack.preview(on_event=events)
    assert events.ops == {
        "model": ["update"],
        "deployment-jetson-xavier": ["same"],
        "deployment-x86_64-cpu": ["same"],
    }
    assert stack.up().summary.resource_changes == {"update": 1, "same": 3}
    assert {t: d["deploymentId"] for t, d in _latest(gg).items()} == {
        t: d["deploymentId"] for t, d in before.items()
    }

    new_jetson = samples.write_compiled_model(
        tmp_path / "jx-run2.tar.gz", seed=88, target="jetson-xavier"
    )
    s3.upload_file(str(new_jetson), MODELS, "neo/jx/model.tar.gz")
    events = Events()
    stack.preview(on_event=events)
    assert events.ops["model"] == ["create-replacement", "replace", "delete-replaced"]
    assert events.ops["deployment-jetson-xavier"] == ["update"]
    assert events.ops["deployment-x86_64-cpu"] == ["same"]
    # The version the deployment moves to is known in the preview.
    assert events.inputs["deployment-jetson-xavier"]["components"] == {
        "model-defects-jetson-xavier": {"component_version": "2.0.0"}
    }

    events = Events()
    stack.up(on_event=events)
    assert _versions(gg, "model-defects-x86-64-cpu") == ["1.0.0"]
    assert _versions(gg, "model-defects-jetson-xavier") == ["1.0.0", "2.0.0"]
    # The replacement knew its predecessor was alive (the engine's re-check of a replacement
    # has no old state): its create swept nothing as left behind (1.0.0 was then the latest
    # revision's). 1.0.0 was released at delete-replaced and stays, kept for a rollback by the
    # deployment's previous revision (keep_revisions, default 3); that delete's own sweep
    # looks at it again and keeps it for the same reason.
    swept = [m for m in events.messages if "left behind" in m]
    assert [m for m in swept if "(kept for rollback: revision 2 of the 3 it keeps)" not in m] == []
    released = [m for m in events.messages if "jetson-xavier:versions:1.0.0: kept:" in m]
    assert released
    assert all("(kept for rollback: revision 2 of the 3 it keeps)" in m for m in released)
    after = _latest(gg)
    x86, jetson = groups["x86_64-cpu"], groups["jetson-xavier"]
    assert after[x86]["deploymentId"] == before[x86]["deploymentId"]
    assert after[x86]["revisionId"] == "1"
    assert after[jetson]["revisionId"] == "2"
    assert after[jetson]["components"] == {
        "model-defects-jetson-xavier": {"componentVersion": "2.0.0"}
    }
    stack.preview(expect_no_changes=True)
    stack.destroy()
    assert model_components(gg) == []


def test_a_deployment_outside_the_stack_keeps_its_version_on_destroy(
    new_stack: Callable[..., auto.Stack], model_config: dict[str, Any], ep: LocalEndpoint, gg: Any
) -> None:
    stack = new_stack("dev", {"model": model_config, "artifactBucket": ARTIFACTS})
    stack.up()
    group = ep.client("iot").create_thing_group(thingGroupName="line-7")["thingGroupArn"]
    outside = gg.create_deployment(
        targetArn=group,
        components={"model-defects-x86-64-cpu": {"componentVersion": "1.0.0"}},
    )["deploymentId"]
    events = Events()
    stack.destroy(on_event=events)
    assert _versions(gg, "model-defects-x86-64-cpu") == ["1.0.0"]
    names = [c["componentName"] for c in model_components(gg)]
    assert names == ["model-defects-x86-64-cpu"]
    assert any(f"kept: deployment {outside} of {group} uses it" in m for m in events.messages)


def test_prod_adopts_dev_against_the_services_rewritten_recipe(
    new_stack: Callable[..., auto.Stack], model_config: dict[str, Any], gg: Any
) -> None:
    config = {"model": model_config, "artifactBucket": ARTIFACTS}
    dev = new_stack("dev", config)
    prod = new_stack("prod", config)
    dev_components = dev.up().outputs["components"].value["model"]
    arn = dev_components["x86_64-cpu"]["arn"]
    stored = json.loads(gg.get_component(arn=arn, recipeOutputFormat="JSON")["recipe"])
    artifact = stored["Manifests"][0]["Artifacts"][0]
    assert list(stored) == sorted(stored)  # rewritten by the service, not what was sent
    assert artifact["Uri"] == dev_components["x86_64-cpu"]["artifact_uri"]
    prod_components = prod.up().outputs["components"].value["model"]
    assert {c["adopted"] for c in prod_components.values()} == {True}
    assert prod_components["x86_64-cpu"]["digest"] == artifact["Digest"]
    prod.preview(expect_no_changes=True)
    dev.destroy()
    prod.destroy()
    assert model_components(gg) == []


def test_stacks_of_the_dynamic_resources_move_to_the_plugin_without_replacing_anything(
    new_stack: Callable[..., auto.Stack],
    model_config: dict[str, Any],
    ep: LocalEndpoint,
    gg: Any,
    s3: Any,
) -> None:
    """A stack made by the dynamic resources of earlier releases: the next ``up`` with the
    plugin-served classes updates both resources in place (aliases), publishes nothing and
    keeps every version; the stack is then clean and destroys cleanly."""
    groups = thing_groups(ep, {"x86_64-cpu": ""})
    config = {"model": model_config, "artifactBucket": ARTIFACTS, "deployTo": groups}
    stack = new_stack("dev", {**config, "legacyDynamic": "true"})
    stack.up()
    legacy = {r["urn"].rsplit("::", 1)[-1]: r["type"] for r in _resources(stack)}
    assert legacy["model"] == "pulumi-python:dynamic/dda:ModelComponent"
    before = _versions(gg, "model-defects-x86-64-cpu")
    packages = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=ARTIFACTS).get("Contents", []))
    set_config(stack, "legacyDynamic", "false")
    events = Events()
    stack.preview(on_event=events)
    assert events.ops["model"] == ["update"]
    changes = stack.up().summary.resource_changes or {}
    assert not {"create", "replace", "create-replacement", "delete-replaced"} & set(changes)
    types = {r["urn"].rsplit("::", 1)[-1]: r["type"] for r in _resources(stack)}
    assert types["model"] == "dda:index:ModelComponent"
    assert types["deployment-x86_64-cpu"] == "dda:index:GreengrassDeployment"
    assert _versions(gg, "model-defects-x86-64-cpu") == before
    after = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=ARTIFACTS).get("Contents", []))
    assert after == packages
    stack.preview(expect_no_changes=True)
    stack.destroy()
    assert model_components(gg) == []


def _resources(stack: auto.Stack) -> list[dict[str, Any]]:
    return list(stack.export_stack().deployment["resources"])
