"""What the service does at the edges: a create rate quota, deleted versions still described."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError
from dda_local_helpers import REGION, recipe, wait_state

from pulumi_dda import greengrass
from pulumi_dda.aws import AwsClients, AwsSettings
from pulumi_dda.local import LocalEndpoint


def test_creates_over_the_rate_are_throttled_with_retry_after(
    ep: LocalEndpoint, gg: Any, component: Callable[..., dict[str, Any]]
) -> None:
    ep.configure(create_rate=0.5)
    component(recipe(version="1.0.0"))
    with pytest.raises(ClientError) as info:
        component(recipe(version="2.0.0"))
    response = info.value.response
    assert response["Error"]["Code"] == "ThrottlingException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "2"
    listed = gg.list_components()["components"]  # reads are not throttled
    assert [c["latestVersion"]["componentVersion"] for c in listed] == ["1.0.0"]


def test_the_providers_retries_create_several_targets_at_once_under_one_per_second(
    ep: LocalEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The provider's clients (``aws.retry_config()``: standard mode, 10 attempts) publish four
    targets in parallel, as a four-target model does, against a 1 request/s quota."""
    ep.configure(create_rate=1.0)
    monkeypatch.setenv("AWS_ENDPOINT_URL", ep.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    targets = ["jetson-xavier", "arm64-cpu", "x86-64-cpu", "x86-64-cuda"]

    def create(target: str) -> str:
        gg = AwsClients(AwsSettings(region=REGION)).greengrass
        body = json.dumps(recipe(f"model-defects-{target}", "1.0.0"))
        return greengrass.create_component_version(gg, body, {"team": "vision"})

    with ThreadPoolExecutor(len(targets)) as pool:
        arns = list(pool.map(create, targets))
    assert len(set(arns)) == len(targets)
    creates = [r for r in ep.request_log() if r.operation == "CreateComponentVersion"]
    throttled = [r for r in creates if r.status == 429]
    assert len(creates) - len(throttled) == len(targets)
    assert throttled, "the quota must have been hit for this test to mean anything"
    accepted = sorted(r.time for r in creates if r.status == 201)
    assert all(b - a >= 0.9 for a, b in itertools.pairwise(accepted))


def test_a_deleted_version_can_stay_described_as_deleted(
    ep: LocalEndpoint,
    gg: Any,
    deployable: Callable[..., str],
    thing_group: Callable[[str], str],
) -> None:
    arn = deployable("com.example.Model", "1.0.0")
    gg.delete_component(arn=arn)
    with pytest.raises(ClientError) as info:
        gg.describe_component(arn=arn)
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    ep.configure(describe_deleted_versions=True)
    status = gg.describe_component(arn=arn)["status"]
    assert (status["vendorGuidance"], status["componentState"]) == ("DELETED", "DEPLOYABLE")
    with pytest.raises(ClientError) as info:
        gg.create_deployment(
            targetArn=thing_group("g"),
            components={"com.example.Model": {"componentVersion": "1.0.0"}},
        )
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert gg.list_components()["components"] == []
    again = deployable("com.example.Model", "1.0.0")
    assert "vendorGuidance" not in wait_state(gg, again, "DEPLOYABLE")["status"]
