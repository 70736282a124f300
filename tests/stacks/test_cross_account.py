"""``roleArn``: the stack acts in the role's account (stacks/dda_account.py), under the mocks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from stack_harness import DYNAMIC, StackRun, run_stack

ROLE = "arn:aws:iam::444455556666:role/dda-deployer"
PROVIDER_TYPE = "pulumi:providers:aws"


def _with_role(stack: str, role: str = ROLE, **overrides: Any) -> StackRun:
    extra = {f"pulumi-dda:{k}": v for k, v in overrides.items()}
    return run_stack(stack, overrides={"pulumi-dda:roleArn": role, **extra})


def _role_inputs(run: StackRun) -> dict[str, str]:
    """``role_arn`` of the model and of each deployment, by resource name."""
    return {r.name: r.inputs["role_arn"] for r in run.resources if r.typ in DYNAMIC}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_model_deployments_and_aws_resources_act_in_the_role_account(stack: str) -> None:
    run = _with_role(stack)
    roles = _role_inputs(run)
    assert set(roles) == {"model"} | {f"deployment-{t}" for t in run.config["pulumi-dda:devices"]}
    assert set(roles.values()) == {ROLE}

    provider = run.one(PROVIDER_TYPE)
    # Provider config arrives as the engine passes it: nested values as JSON text.
    assert provider.inputs["region"] == run.config["aws:region"]
    assert json.loads(provider.inputs["assumeRoles"]) == [
        {"roleArn": ROLE, "sessionName": f"pulumi-dda-pulumi-dda-{stack}"}
    ]
    assert "profile" not in provider.inputs
    reference = (
        f"urn:pulumi:{stack}::pulumi-dda::pulumi:pulumi:Stack$pulumi:providers:aws::stack-account"
    )
    aws_resources = [r for r in run.resources if r.typ.startswith("aws:")]
    assert len(aws_resources) > 20
    assert {r.provider for r in aws_resources} == {f"{reference}::{provider.id}"}
    # The lookups (the account id in policies, the IoT endpoints) ask the same account.
    assert {c.token for c in run.calls} == {
        "aws:index/getCallerIdentity:getCallerIdentity",
        "aws:iot/getEndpoint:getEndpoint",
    }
    assert {c.provider for c in run.calls} == {f"{reference}::{provider.id}"}


def test_without_role_everything_uses_the_default_provider() -> None:
    run = run_stack("dev")
    assert set(_role_inputs(run).values()) == {""}
    assert run.of_type(PROVIDER_TYPE) == []
    assert {r.provider for r in run.resources if r.typ.startswith("aws:")} == {None}
    assert {c.provider for c in run.calls} == {None}


def test_role_changes_nothing_else() -> None:
    """Same resources and inputs as without the role, apart from role_arn."""
    plain, with_role = run_stack("prod"), _with_role("prod")

    def shape(run: StackRun) -> dict[tuple[str, str], dict[str, Any]]:
        return {
            (r.typ, r.name): {k: v for k, v in r.inputs.items() if k != "role_arn"}
            for r in run.resources
            if r.typ != PROVIDER_TYPE
        }

    assert shape(with_role) == shape(plain)
    assert with_role.outputs == plain.outputs


def test_unmanaged_stack_passes_the_role_without_a_provider() -> None:
    role = "arn:aws:iam::123456789012:role/dda-deployer"
    run = _with_role("local", role)
    assert set(_role_inputs(run).values()) == {role}
    assert [r.typ for r in run.resources if r.typ not in DYNAMIC] == []


@pytest.mark.parametrize(
    ("stack", "role", "message"),
    [
        ("dev", "arn:aws:iam::444455556666:user/someone", "is not an IAM role ARN"),
        ("dev", "dda-deployer", "is not an IAM role ARN"),
        # The local stack's thing groups are named by accountId 123456789012.
        ("local", ROLE, "role in account 444455556666 but pulumi-dda:accountId is 123456789012"),
    ],
)
def test_role_mistakes_stop_the_program(stack: str, role: str, message: str) -> None:
    with pytest.raises(Exception, match=message):
        _with_role(stack, role)


def test_aws_profile_reaches_the_role_provider() -> None:
    """An explicit provider reads no ``aws:*`` config; the program hands it the profile."""
    run = run_stack("dev", overrides={"pulumi-dda:roleArn": ROLE, "aws:profile": "tooling"})
    assert run.one(PROVIDER_TYPE).inputs["profile"] == "tooling"
