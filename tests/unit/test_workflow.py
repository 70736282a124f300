"""The GitHub Actions workflow (.github/workflows/pulumi.yml): its structure and its actions.

Every ``uses:`` is pinned to a commit whose documented inputs are vendored in
``data/github_actions.json`` (from that commit's ``action.yml``), so an input misspelt or
dropped by the action's version fails here, without the network.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOW_PATH = REPO / ".github" / "workflows" / "pulumi.yml"
ACTIONS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "github_actions.json").read_text()
)["actions"]
PULUMI_ACTION = "pulumi/actions"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    document = yaml.safe_load(WORKFLOW_PATH.read_text())
    # YAML 1.1 reads the key `on` as the boolean true.
    document["on"] = document.pop(True)
    return dict(document)


def _steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, step) for name, job in workflow["jobs"].items() for step in job["steps"]]


def _pulumi_step(job: dict[str, Any]) -> dict[str, Any]:
    (step,) = [s for s in job["steps"] if s.get("uses", "").startswith(f"{PULUMI_ACTION}@")]
    return dict(step["with"])


def _runs_on(job: dict[str, Any], event: str) -> bool:
    return f"github.event_name == '{event}'" in job.get("if", "")


def test_triggers_are_pull_requests_and_pushes_to_main(workflow: dict[str, Any]) -> None:
    assert workflow["on"] == {
        "pull_request": {"branches": ["main"]},
        "push": {"branches": ["main"]},
    }
    assert workflow["permissions"] == {}


def test_every_action_is_pinned_to_a_vendored_commit(workflow: dict[str, Any]) -> None:
    text = WORKFLOW_PATH.read_text()
    used = set()
    for job, step in _steps(workflow):
        if "uses" not in step:
            continue
        name, _, ref = step["uses"].partition("@")
        assert name in ACTIONS, f"{job}: {name} has no vendored inputs in data/github_actions.json"
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{job}: {name} is not pinned to a commit"
        assert ref == ACTIONS[name]["commit"], f"{job}: {name}@{ref} is not the vendored commit"
        # The tag beside the pin says which release the commit is.
        assert f"uses: {name}@{ref} # {ACTIONS[name]['tag']}\n" in text
        used.add(name)
    assert used == set(ACTIONS), "vendored inputs of an action the workflow no longer uses"


def test_every_input_is_documented_and_every_required_one_given(workflow: dict[str, Any]) -> None:
    for job, step in _steps(workflow):
        if "uses" not in step:
            continue
        action = ACTIONS[step["uses"].partition("@")[0]]
        given = set(step.get("with") or {})
        unknown = given - set(action["inputs"])
        assert not unknown, f"{job}: {step['uses']} has no inputs {sorted(unknown)}"
        required = set(action["required"]) | set(
            action.get("required_by_source", {}).get("inputs", [])
        )
        assert required <= given, f"{job}: {step['uses']} needs {sorted(required - given)}"


def _deployed_stacks() -> set[str]:
    """Every stack file but ``local`` (which lives on the local endpoint, not in an account)."""
    names = {
        p.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for p in (REPO / "stacks").glob("Pulumi.*.yaml")
    }
    return names - {"local"}


def test_pull_requests_preview_every_stack_with_a_comment(workflow: dict[str, Any]) -> None:
    previews = [j for j in workflow["jobs"].values() if _runs_on(j, "pull_request")]
    assert len(previews) == 1
    (job,) = previews
    stacks = [entry["stack"] for entry in job["strategy"]["matrix"]["include"]]
    assert sorted(stacks) == sorted(_deployed_stacks())
    assert job["strategy"]["fail-fast"] is False  # one stack's failure hides no other preview
    assert job["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "pull-requests": "write",
    }
    assert "environment" not in job  # no approval, and no deployment record, for a preview
    pulumi = _pulumi_step(job)
    assert pulumi["command"] == "preview"
    assert pulumi["stack-name"] == "${{ matrix.stack }}"
    assert pulumi["comment-on-pr"] is True


def test_merge_to_main_updates_dev_then_prod(workflow: dict[str, Any]) -> None:
    jobs = workflow["jobs"]
    ups = {name: job for name, job in jobs.items() if _pulumi_step(job)["command"] == "up"}
    assert set(ups) == {"up-dev", "up-prod"}
    for name, job in ups.items():
        stack = name.removeprefix("up-")
        assert _runs_on(job, "push")
        assert not _runs_on(job, "pull_request")
        assert job["environment"] == stack
        assert _pulumi_step(job)["stack-name"] == stack
        assert job["concurrency"] == {"group": f"pulumi-up-{stack}", "cancel-in-progress": False}
    assert "needs" not in ups["up-dev"]
    assert ups["up-prod"]["needs"] in ("up-dev", ["up-dev"])


def test_each_job_reaches_aws_through_oidc_with_its_own_role(workflow: dict[str, Any]) -> None:
    for name, job in workflow["jobs"].items():
        assert job["permissions"]["id-token"] == "write", name
        (aws,) = [s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/")]
        expected = (
            "${{ vars[matrix.preview_role] }}" if name == "preview" else "${{ vars.AWS_ROLE_ARN }}"
        )
        assert aws["with"]["role-to-assume"] == expected
        checkout = next(
            s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@")
        )
        assert checkout["with"]["persist-credentials"] is False


def test_tool_versions_match_the_repository(workflow: dict[str, Any]) -> None:
    go_mod = (REPO / "tools" / "pulumi" / "go.mod").read_text()
    pulumi = re.search(r"github\.com/pulumi/pulumi/pkg/v3 v(\S+)", go_mod)
    uv = re.search(r"^UV_VERSION := (\S+)$", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert pulumi is not None
    assert uv is not None
    assert workflow["env"]["PULUMI_VERSION"] == pulumi[1]
    assert workflow["env"]["UV_VERSION"] == uv[1]
