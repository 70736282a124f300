"""One local endpoint per test session (per xdist worker), reset before every test.

Clients talk to it over real HTTP with dummy credentials. Retries are off by default so
that an injected fault reaches the test; the retry test builds its own client.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from dda_local_helpers import BUCKET, NO_RETRIES, REGION, STATE_DELAY, recipe, wait_state

from pulumi_dda.local import AdminClient, LocalEndpoint


@pytest.fixture(scope="session")
def endpoint() -> Iterator[LocalEndpoint]:
    with LocalEndpoint(host="127.0.0.1", port=0, region=REGION, state_delay=STATE_DELAY) as ep:
        yield ep


@pytest.fixture(autouse=True)
def ep(endpoint: LocalEndpoint) -> LocalEndpoint:
    """Every test starts from a fresh endpoint: no AWS state, faults, log or settings."""
    endpoint.reset()
    return endpoint


@pytest.fixture(params=["in-process", "admin-http"])
def control(request: pytest.FixtureRequest, ep: LocalEndpoint) -> Any:
    """The same control methods, called directly or through the admin HTTP API."""
    return ep if request.param == "in-process" else AdminClient(ep.url)


@pytest.fixture(scope="session")
def gg(endpoint: LocalEndpoint) -> Any:
    return endpoint.client("greengrassv2", config=NO_RETRIES)


@pytest.fixture(scope="session")
def s3(endpoint: LocalEndpoint) -> Any:
    return endpoint.client("s3", config=NO_RETRIES)


@pytest.fixture(scope="session")
def iot(endpoint: LocalEndpoint) -> Any:
    return endpoint.client("iot", config=NO_RETRIES)


@pytest.fixture
def artifact(ep: LocalEndpoint, s3: Any) -> Callable[..., str]:
    """Upload bytes to the artifact bucket (created on first use); return the S3 URI."""

    def put(key: str = "artifacts/model.zip", body: bytes = b"model bytes") -> str:
        if BUCKET not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
            s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        return f"s3://{BUCKET}/{key}"

    return put


@pytest.fixture
def component(ep: LocalEndpoint, gg: Any) -> Callable[..., dict[str, Any]]:
    """Create a component version from a recipe dict; return the create response."""

    def create(body: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        blob = json.dumps(body or recipe()).encode()
        result: dict[str, Any] = gg.create_component_version(inlineRecipe=blob, **kwargs)
        return result

    return create


@pytest.fixture
def deployable(
    gg: Any, component: Callable[..., dict[str, Any]], artifact: Callable[..., str]
) -> Callable[..., str]:
    """Create a component version with one artifact and wait until it is DEPLOYABLE."""

    def create(name: str = "com.example.Model", version: str = "1.0.0") -> str:
        uri = artifact(f"{name}/{version}/model.zip")
        arn: str = component(recipe(name, version, [uri]))["arn"]
        wait_state(gg, arn, "DEPLOYABLE")
        return arn

    return create


@pytest.fixture
def thing_group(iot: Any) -> Callable[[str], str]:
    def create(name: str = "dda-group") -> str:
        arn: str = iot.create_thing_group(thingGroupName=name)["thingGroupArn"]
        return arn

    return create
