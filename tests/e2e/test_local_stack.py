"""The repository's own program (``stacks/``), ``local`` stack, under the real engine.

Model component and per-platform deployments together: each thing group gets its platform's
component, and a model version bump moves every deployment to the new version (x86 through its
canary first); the old versions stay for a rollback (``keepRevisions``) until the destroy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from e2e_harness import Events, copy_repo_project, demo, make_stack, set_config
from pulumi import automation as auto

from pulumi_dda.local import LocalEndpoint

LOCAL_SERVERS = {
    "x86_64-cpu": "aws.edgeml.dda.LocalServer.amd64",
    "jetson-xavier": "aws.edgeml.dda.LocalServer.arm64",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the repository's project whose runtime uses this test's virtualenv."""
    return copy_repo_project(tmp_path / "project")


def test_local_stack_deploys_each_platform_and_moves_deployments_first(
    project: Path, env: dict[str, str], engine: Path, ep: LocalEndpoint, tmp_path: Path
) -> None:
    config = demo.stack_config()
    demo.bootstrap(ep.url, config, tmp_path / "samples")
    stack = make_stack(project, "local", env, engine, {})
    up = stack.up(on_event=Events())
    components = up.outputs["components"].value
    gg = ep.client("greengrassv2")
    for target, group in up.outputs["thingGroupArns"].value.items():
        deployment = gg.get_deployment(deploymentId=up.outputs["deployments"].value[target])
        assert deployment["targetArn"] == group
        assert deployment["components"] == {
            components[target]["component_name"]: {"componentVersion": "1.0.0"}
        }
        recipe = json.loads(
            gg.get_component(arn=components[target]["arn"], recipeOutputFormat="JSON")["recipe"]
        )
        assert list(recipe["ComponentDependencies"]) == [LOCAL_SERVERS[target]]
    stack.preview(expect_no_changes=True)

    _bump_model(stack, config, ep, tmp_path)
    ep.clear_request_log()
    stack.up()
    order = [
        (r.operation, r.path)
        for r in ep.request_log()
        if r.operation in {"CreateDeployment", "DeleteComponent"}
    ]
    created = [path for op, path in order if op == "CreateDeployment"]
    deleted = [path for op, path in order if op == "DeleteComponent"]
    assert len(created) == 3  # the x86 canary's subdeployment, then each platform's group
    assert deleted == []  # 1.0.0 is kept for a rollback by the deployments' history
    for entry in components.values():  # the first up's 1.0.0 versions
        kept = gg.describe_component(arn=entry["arn"])
        assert kept["status"]["componentState"] == "DEPLOYABLE"
    latest = {
        d["targetArn"]: d for d in gg.list_deployments(historyFilter="LATEST_ONLY")["deployments"]
    }
    for target, group in up.outputs["thingGroupArns"].value.items():
        deployment = gg.get_deployment(deploymentId=latest[group]["deploymentId"])
        assert deployment["components"] == {
            components[target]["component_name"]: {"componentVersion": "2.0.0"}
        }
        assert deployment["revisionId"] == "2"
    stack.destroy()
    # Only the LocalServer stand-ins the bootstrap published (a prerequisite, not the stack's).
    left = {c["componentName"] for c in gg.list_components(scope="PRIVATE")["components"]}
    assert left == set(LOCAL_SERVERS.values())
    remaining = gg.list_deployments()["deployments"]
    assert [d for d in remaining if d["deploymentStatus"] == "ACTIVE"] == []


def _bump_model(
    stack: auto.Stack, config: dict[str, Any], ep: LocalEndpoint, tmp_path: Path
) -> None:
    """A new training run: new compiled archives under new keys, and version 2.0.0."""
    model = config["model"]
    compiled = {t: uri.replace("/neo/", "/neo-run2/") for t, uri in model["compiledModels"].items()}
    new_model = {**model, "componentVersion": "2.0.0", "compiledModels": compiled}
    demo.upload_models(ep.client("s3"), new_model, tmp_path / "run2", seed=2)
    set_config(stack, "pulumi-dda:model", new_model)
