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


PROD_PASSPHRASE = "PROD_PULUMI_CONFIG_PASSPHRASE"
# The environments that hold prod's passphrase: each restricted to main (docs/operations.md).
PROD_ENVIRONMENTS = {"prod", "prod-preview"}


def _may_run_on_pull_request(job: dict[str, Any]) -> bool:
    """A job runs a pull request's code unless its condition limits it to pushes."""
    condition = job.get("if", "")
    return "github.event_name == 'push'" not in condition or _runs_on(job, "pull_request")


def _secrets(node: Any) -> set[str]:
    """Every secret a part of the workflow reads, ``secrets.NAME`` or ``secrets['NAME']``."""
    text = yaml.safe_dump(node)
    return set(re.findall(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)", text)) | set(
        re.findall(r"secrets\[\s*'([^']+)'\s*\]", text)
    )


def _stack_of(job: dict[str, Any]) -> str:
    return str(_pulumi_step(job)["stack-name"])


def test_pull_requests_preview_dev_with_a_comment(workflow: dict[str, Any]) -> None:
    previews = [j for j in workflow["jobs"].values() if _runs_on(j, "pull_request")]
    assert len(previews) == 1
    (job,) = previews
    assert job["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "pull-requests": "write",
    }
    assert "environment" not in job  # OIDC subject `pull_request`: only the preview role trusts it
    pulumi = _pulumi_step(job)
    assert pulumi["command"] == "preview"
    assert pulumi["stack-name"] == "dev"
    assert pulumi["comment-on-pr"] is True


def test_every_deployed_stack_is_previewed_before_its_update(workflow: dict[str, Any]) -> None:
    jobs = workflow["jobs"]
    previewed = {_stack_of(j) for j in jobs.values() if _pulumi_step(j)["command"] == "preview"}
    assert previewed == _deployed_stacks()
    # Prod's preview (on main, its passphrase in a main-only environment) gates prod's update.
    assert "preview-prod" in jobs["up-prod"]["needs"]
    assert _stack_of(jobs["preview-prod"]) == "prod"
    assert _pulumi_step(jobs["preview-prod"])["comment-on-summary"] is True


def test_merge_to_main_updates_dev_then_prod(workflow: dict[str, Any]) -> None:
    jobs = workflow["jobs"]
    ups = {name: job for name, job in jobs.items() if _pulumi_step(job)["command"] == "up"}
    assert set(ups) == {"up-dev", "up-prod"}
    for name, job in ups.items():
        stack = name.removeprefix("up-")
        assert _runs_on(job, "push")
        assert not _runs_on(job, "pull_request")
        assert job["environment"] == stack
        assert _stack_of(job) == stack
        assert job["concurrency"] == {"group": f"pulumi-up-{stack}", "cancel-in-progress": False}
    assert "needs" not in ups["up-dev"]
    assert "up-dev" in ups["up-prod"]["needs"]


def test_first_run_creates_dev_and_only_an_operator_creates_prod(
    workflow: dict[str, Any],
) -> None:
    """pulumi/actions without ``upsert`` only selects a stack: the first run on a new backend
    would fail with "no stack named 'dev' found". Dev is created by the workflow; prod, whose
    creation sets its passphrase, is created once by an operator as docs/operations.md says."""
    for name, job in workflow["jobs"].items():
        pulumi = _pulumi_step(job)
        if pulumi["stack-name"] == "dev":
            assert pulumi.get("upsert") is True, f"{name}: dev is not created on first use"
            # A stack file without its encryptionsalt reuses the salt in dev's state.
            assert job["env"]["PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER"] == "true", name
        else:
            assert pulumi["stack-name"] == "prod", name
            assert not pulumi.get("upsert"), f"{name}: CI must not create prod"
    operations = (REPO / "docs" / "operations.md").read_text()
    assert re.search(r"pulumi stack init prod --secrets-provider passphrase", operations)


def test_a_failed_preview_comments_on_the_pull_request(workflow: dict[str, Any]) -> None:
    """pulumi/actions comments only after its command succeeded (its main.ts at the pinned
    commit): a refused preview needs a step of its own, run on failure, to reach the PR."""
    for name, job in workflow["jobs"].items():
        if not _runs_on(job, "pull_request"):
            continue
        assert job["permissions"]["pull-requests"] == "write", name
        steps = job["steps"]
        index = next(
            i for i, s in enumerate(steps) if s.get("uses", "").startswith(f"{PULUMI_ACTION}@")
        )
        assert steps[index]["with"]["github-token"] == "${{ github.token }}", name
        after = steps[index + 1 :]
        failed = [s for s in after if "failure()" in str(s.get("if", ""))]
        assert failed, f"{name}: nothing comments on the pull request when the preview fails"
        (step,) = failed
        assert step["run"].startswith('gh pr comment "$PR_NUMBER"')
        assert step["env"]["GH_TOKEN"] == "${{ github.token }}"
        assert step["env"]["PR_NUMBER"] == "${{ github.event.pull_request.number }}"
        assert "actions/runs/${{ github.run_id }}" in step["env"]["RUN_URL"]


def test_no_job_a_pull_request_triggers_can_read_prods_passphrase(
    workflow: dict[str, Any],
) -> None:
    """Each stack has its own passphrase secret; prod's is read only by jobs that run on pushes
    to main, in a main-only environment. A job that runs a pull request's code reads none of
    prod's secrets and previews no prod stack."""
    assert not _secrets(workflow.get("env", {})), "workflow-level env is every job's env"
    for name, job in workflow["jobs"].items():
        stack = _stack_of(job)
        assert job["env"]["PULUMI_CONFIG_PASSPHRASE"] == (
            f"${{{{ secrets.{stack.upper()}_PULUMI_CONFIG_PASSPHRASE }}}}"
        ), name
        read = _secrets(job)
        assert "PULUMI_CONFIG_PASSPHRASE" not in read, f"{name}: one passphrase for every stack"
        if _may_run_on_pull_request(job):
            assert stack != "prod", f"{name}: pull request code runs prod's preview"
            assert not any(s.startswith("PROD_") for s in read), f"{name} reads {sorted(read)}"
        if PROD_PASSPHRASE in read:
            assert _runs_on(job, "push"), name
            assert not _may_run_on_pull_request(job), name
            assert job["environment"] in PROD_ENVIRONMENTS, name


def test_each_job_reaches_aws_through_oidc_with_its_own_role(workflow: dict[str, Any]) -> None:
    for name, job in workflow["jobs"].items():
        assert job["permissions"]["id-token"] == "write", name
        (aws,) = [s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/")]
        # A pull request's job has no environment: its role is the repository's preview role.
        expected = (
            "${{ vars.DEV_PREVIEW_ROLE_ARN }}"
            if name == "preview-dev"
            else "${{ vars.AWS_ROLE_ARN }}"
        )
        assert aws["with"]["role-to-assume"] == expected
        assert ("environment" in job) == (name != "preview-dev"), name
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


RELEASE_PATH = REPO / ".github" / "workflows" / "release.yml"


def test_the_release_workflow_publishes_the_plugin_of_the_tagged_version() -> None:
    """A tag ``v*`` builds the wheel and the plugin artifacts with tools/package_plugin.py and
    publishes them; its actions are pinned to vendored commits, their inputs documented; the
    schema's pluginDownloadURL names this repository's releases."""
    from pulumi_dda.plugin import schema

    release = yaml.safe_load(RELEASE_PATH.read_text())
    release["on"] = release.pop(True)
    assert release["on"] == {"push": {"tags": ["v*"]}}
    assert release["permissions"] == {}
    text = RELEASE_PATH.read_text()
    for job, step in _steps(release):
        if "uses" not in step:
            continue
        name, _, ref = step["uses"].partition("@")
        assert ref == ACTIONS[name]["commit"], f"{job}: {name}@{ref} is not the vendored commit"
        assert f"uses: {name}@{ref} # {ACTIONS[name]['tag']}\n" in text
        assert set(step.get("with") or {}) <= set(ACTIONS[name]["inputs"])
    runs = "\n".join(step.get("run", "") for _, step in _steps(release))
    assert "tools/package_plugin.py --out dist" in runs
    assert 'test "$GITHUB_REF_NAME" = "v$version"' in runs
    assert "dist/pulumi-resource-dda-v*.tar.gz" in runs
    assert 'ref="refs/tags/sdk/$GITHUB_REF_NAME"' in runs  # the Go SDK module's version tag
    published = schema.package_schema()
    assert published["pluginDownloadURL"] == f"github://api.github.com/{schema.REPOSITORY}"
