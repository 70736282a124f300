"""The wire format itself, seen without botocore's help: errors, routing, responses."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from dda_local_helpers import ACCOUNT, REGION

from pulumi_dda.local import LocalEndpoint

AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/eu-west-1/greengrass/aws4_request, "
    "SignedHeaders=host, Signature=0"
)


def raw(
    ep: LocalEndpoint, method: str, path: str, body: bytes | None = None
) -> tuple[int, Any, bytes]:
    request = urllib.request.Request(
        ep.url + path, data=body, method=method, headers={"Authorization": AUTH}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def test_error_is_json_message_with_error_type_header(ep: LocalEndpoint) -> None:
    status, headers, body = raw(ep, "GET", "/greengrass/v2/deployments/nope")
    assert status == 404
    assert headers["X-Amzn-ErrorType"] == "ResourceNotFoundException"
    payload = json.loads(body)
    assert payload["message"] == "Deployment nope not found"
    assert payload["resourceType"] == "DEPLOYMENT"


def test_region_comes_from_credential_scope(ep: LocalEndpoint) -> None:
    raw(ep, "GET", "/greengrass/v2/components")
    record = ep.request_log()[-1]
    assert (record.region, record.operation, record.account_id) == (
        "eu-west-1",
        "ListComponents",
        ACCOUNT,
    )


def test_malformed_body_and_unserved_operation(ep: LocalEndpoint) -> None:
    status, headers, _ = raw(ep, "POST", "/greengrass/v2/deployments", b"{oops")
    assert (status, headers["X-Amzn-ErrorType"]) == (400, "ValidationException")
    path = "/greengrass/v2/coreDevices/core-1/associatedClientDevices"
    status, headers, body = raw(ep, "GET", path)
    assert headers["X-Amzn-ErrorType"] == "UnknownOperationException"
    assert b"ListClientDevicesAssociatedWithCoreDevice" in body


def test_greengrass_v1_tags_still_go_to_moto(ep: LocalEndpoint) -> None:
    arn = f"arn:aws:greengrass:{REGION}:{ACCOUNT}:/greengrass/groups/abc"
    raw(ep, "GET", "/tags/" + urllib.request.quote(arn, safe=""))
    assert ep.request_log()[-1].service != "greengrassv2"


def test_enum_and_pattern_checked_server_side(
    gg: Any, component: Callable[..., dict[str, Any]]
) -> None:
    arn = component()["arn"]
    with pytest.raises(ClientError) as info:
        gg.get_component(arn=arn, recipeOutputFormat="XML")
    assert "'recipeOutputFormat'" in info.value.response["Error"]["Message"]
    assert "enum value set: [JSON, YAML]" in info.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as info:
        gg.describe_component(arn="arn:aws:greengrass:us-east-1:1:components:a")
    assert info.value.response["fields"] == [
        {
            "name": "arn",
            "message": "Member must satisfy regular expression pattern: "
            "arn:[^:]*:greengrass:[^:]*:(aws|[0-9]+):components:[^:]+:versions:[^:]+",
        }
    ]
    with pytest.raises(ClientError) as info:
        gg.create_component_version(inlineRecipe=b"{}", clientToken="not valid!")
    assert "'clientToken'" in info.value.response["Error"]["Message"]


def test_responses_use_only_modelled_members(
    ep: LocalEndpoint, gg: Any, component: Callable[..., dict[str, Any]]
) -> None:
    """Every top-level member of a raw reply is in the operation's output shape."""
    model = botocore.session.get_session().get_service_model("greengrassv2")
    arn = component()["arn"]
    quoted = urllib.request.quote(arn, safe="")
    for operation, path in [
        ("DescribeComponent", f"/greengrass/v2/components/{quoted}/metadata"),
        ("GetComponent", f"/greengrass/v2/components/{quoted}"),
        ("ListComponents", "/greengrass/v2/components"),
        ("ListTagsForResource", f"/tags/{quoted}"),
    ]:
        headers = {"Authorization": AUTH.replace("eu-west-1", REGION)}
        request = urllib.request.Request(ep.url + path, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            payload = json.loads(response.read())
        members = set(model.operation_model(operation).output_shape.members)
        assert set(payload) <= members, operation
        if operation == "DescribeComponent":
            assert isinstance(payload["creationTimestamp"], float)  # epoch seconds
