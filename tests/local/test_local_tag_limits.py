"""The service's tag limits on every operation that sets tags, through real boto3 clients."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from dda_local_helpers import ACCOUNT, NO_RETRIES, REGION, recipe

from pulumi_dda.local import LocalEndpoint

OPERATIONS = ["CreateComponentVersion", "CreateDeployment", "TagResource"]
TagWith = Callable[..., str]


def many(count: int) -> dict[str, str]:
    return {f"key-{i}": f"value-{i}" for i in range(count)}


def refused(info: pytest.ExceptionInfo[ClientError]) -> str:
    """The message of a ValidationException answered with HTTP 400 (fails on anything else)."""
    response = info.value.response
    assert response["Error"]["Code"] == "ValidationException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return str(response["Error"]["Message"])


@pytest.fixture
def tag_with(
    gg: Any, component: Callable[..., dict[str, Any]], thing_group: Callable[[str], str]
) -> TagWith:
    """Tag a fresh resource through ``operation`` (with ``client``); return its ARN."""
    numbers = itertools.count()

    def apply(operation: str, tags: dict[str, str], client: Any = gg) -> str:
        n = next(numbers)
        if operation == "CreateComponentVersion":
            blob = json.dumps(recipe(version=f"1.0.{n}")).encode()
            arn: str = client.create_component_version(inlineRecipe=blob, tags=tags)["arn"]
            return arn
        if operation == "CreateDeployment":
            created = client.create_deployment(
                targetArn=thing_group(f"group-{n}"), components={}, tags=tags
            )
            return f"arn:aws:greengrass:{REGION}:{ACCOUNT}:deployments:{created['deploymentId']}"
        arn = component(recipe(version=f"1.0.{n}"))["arn"]
        client.tag_resource(resourceArn=arn, tags=tags)
        return arn

    return apply


@pytest.mark.parametrize("operation", OPERATIONS)
def test_fifty_tags_are_accepted_fifty_one_refused(
    gg: Any, tag_with: TagWith, operation: str
) -> None:
    arn = tag_with(operation, many(50))
    assert gg.list_tags_for_resource(resourceArn=arn)["tags"] == many(50)
    with pytest.raises(ClientError) as info:
        tag_with(operation, many(51))
    assert "at most 50 tags" in refused(info)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_key_of_128_characters_is_accepted_129_refused(
    gg: Any, tag_with: TagWith, operation: str
) -> None:
    arn = tag_with(operation, {"k" * 128: "v"})
    assert gg.list_tags_for_resource(resourceArn=arn)["tags"] == {"k" * 128: "v"}
    with pytest.raises(ClientError) as info:
        tag_with(operation, {"k" * 129: "v"})
    assert "length less than or equal to 128" in refused(info)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_value_of_256_characters_is_accepted_257_refused(
    gg: Any, tag_with: TagWith, operation: str
) -> None:
    arn = tag_with(operation, {"k": "v" * 256})
    assert gg.list_tags_for_resource(resourceArn=arn)["tags"] == {"k": "v" * 256}
    with pytest.raises(ClientError) as info:
        tag_with(operation, {"k": "v" * 257})
    assert "length less than or equal to 256" in refused(info)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_empty_key_is_refused_empty_value_accepted(
    endpoint: LocalEndpoint, gg: Any, tag_with: TagWith, operation: str
) -> None:
    # botocore refuses an empty key itself; this client lets it reach the endpoint.
    unchecked = endpoint.client(
        "greengrassv2", config=NO_RETRIES.merge(Config(parameter_validation=False))
    )
    arn = tag_with(operation, {"k": ""}, unchecked)
    assert gg.list_tags_for_resource(resourceArn=arn)["tags"] == {"k": ""}
    with pytest.raises(ClientError) as info:
        tag_with(operation, {"": "v"}, unchecked)
    assert "length greater than or equal to 1" in refused(info)


def test_tag_resource_counts_the_tags_already_there(
    gg: Any, component: Callable[..., dict[str, Any]]
) -> None:
    arn = component(tags=many(30))["arn"]
    more = {f"more-{i}": "x" for i in range(20)}
    gg.tag_resource(resourceArn=arn, tags=more)
    with pytest.raises(ClientError) as info:
        gg.tag_resource(resourceArn=arn, tags={"one-too-many": "x"})
    assert "would give it 51" in refused(info)
    assert gg.list_tags_for_resource(resourceArn=arn)["tags"] == many(30) | more

    gg.tag_resource(resourceArn=arn, tags={"key-0": "replaced", "more-0": "replaced"})
    tags = gg.list_tags_for_resource(resourceArn=arn)["tags"]
    assert (len(tags), tags["key-0"], tags["more-0"]) == (50, "replaced", "replaced")
    gg.untag_resource(resourceArn=arn, tagKeys=["key-1"])
    gg.tag_resource(resourceArn=arn, tags={"fits-now": "x"})
    assert len(gg.list_tags_for_resource(resourceArn=arn)["tags"]) == 50
