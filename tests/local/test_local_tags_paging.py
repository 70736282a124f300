"""Tags on component versions and deployments; nextToken paging of every list operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from dda_local_helpers import ACCOUNT, REGION, recipe

COMPONENT = f"arn:aws:greengrass:{REGION}:{ACCOUNT}:components:com.example.Model"


def test_tag_untag_list_component_version(
    gg: Any, component: Callable[..., dict[str, Any]]
) -> None:
    arn = component(tags={"a": "1"})["arn"]
    gg.tag_resource(resourceArn=arn, tags={"b": "2", "c": "3"})
    assert gg.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "1", "b": "2", "c": "3"}
    gg.untag_resource(resourceArn=arn, tagKeys=["a", "c"])
    assert gg.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}
    assert gg.describe_component(arn=arn)["tags"] == {"b": "2"}


def test_tag_deployment(gg: Any, thing_group: Callable[[str], str]) -> None:
    deployment_id = gg.create_deployment(targetArn=thing_group("g"), components={})["deploymentId"]
    arn = f"arn:aws:greengrass:{REGION}:{ACCOUNT}:deployments:{deployment_id}"
    gg.tag_resource(resourceArn=arn, tags={"k": "v"})
    assert gg.list_tags_for_resource(resourceArn=arn)["tags"] == {"k": "v"}
    assert gg.get_deployment(deploymentId=deployment_id)["tags"] == {"k": "v"}


def test_tags_of_unknown_resource_and_reserved_keys(
    gg: Any, component: Callable[..., dict[str, Any]]
) -> None:
    with pytest.raises(ClientError) as info:
        gg.list_tags_for_resource(resourceArn=f"{COMPONENT}:versions:9.9.9")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    arn = component()["arn"]
    with pytest.raises(ClientError) as info:
        gg.tag_resource(resourceArn=arn, tags={"aws:owner": "me"})
    assert info.value.response["Error"]["Code"] == "ValidationException"


def pages(call: Callable[..., dict[str, Any]], key: str, **kwargs: Any) -> list[list[Any]]:
    collected: list[list[Any]] = []
    token: str | None = None
    while True:
        page = call(**kwargs, **({"nextToken": token} if token else {}))
        collected.append(page[key])
        token = page.get("nextToken")
        if not token:
            return collected


def test_paging_list_components_and_versions(
    gg: Any, component: Callable[..., dict[str, Any]]
) -> None:
    for i in range(5):
        component(recipe(f"com.example.C{i}", "1.0.0"))
        component(recipe("com.example.Model", f"1.{i}.0"))
    got = pages(gg.list_components, "components", maxResults=2)
    assert [len(p) for p in got] == [2, 2, 2]
    assert len({c["componentName"] for p in got for c in p}) == 6
    got = pages(gg.list_component_versions, "componentVersions", arn=COMPONENT, maxResults=3)
    assert [v["componentVersion"] for p in got for v in p] == [f"1.{i}.0" for i in range(4, -1, -1)]


def test_paging_list_deployments(gg: Any, thing_group: Callable[[str], str]) -> None:
    for i in range(5):
        gg.create_deployment(targetArn=thing_group(f"g{i}"), components={})
    got = pages(gg.list_deployments, "deployments", maxResults=2)
    assert [len(p) for p in got] == [2, 2, 1]


def test_boto3_paginator_works(gg: Any, component: Callable[..., dict[str, Any]]) -> None:
    for i in range(3):
        component(recipe(f"com.example.C{i}", "1.0.0"))
    paginator = gg.get_paginator("list_components")
    names = [
        c["componentName"]
        for page in paginator.paginate(PaginationConfig={"PageSize": 1})
        for c in page["components"]
    ]
    assert names == ["com.example.C0", "com.example.C1", "com.example.C2"]


def test_bad_token_and_page_size_are_validation_errors(
    gg: Any, component: Callable[..., dict[str, Any]]
) -> None:
    component()
    with pytest.raises(ClientError) as info:
        gg.list_components(nextToken="not-a-token")
    assert info.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as info:
        gg.list_components(maxResults=101)
    assert "'maxResults'" in info.value.response["Error"]["Message"]
    token = gg.list_component_versions(arn=COMPONENT, maxResults=1).get("nextToken")
    assert token is None  # a single version fits on one page
